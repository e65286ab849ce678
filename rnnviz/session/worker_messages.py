"""The messages between the window and the training worker (rnnviz.session.worker): commands the UI
sends, and what the worker sends back. Immutable dataclasses, pickled across the process boundary."""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field, replace

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.snapshot import History, Snapshot
from rnnviz.session.views.gradient_flow import GradientFlowView

# ---------------------------------------------------------------------- commands (UI -> worker)


@dataclass(frozen=True)
class Play:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    count: int = 1  # added to the steps still to take: a click while busy is never dropped


@dataclass(frozen=True)
class Settings:
    config: SessionConfig  # training settings only (lr, clipping, ...): the weights are kept


@dataclass(frozen=True)
class NewSession:
    config: SessionConfig
    preset: str | None = None  # a name in rnnviz.session.presets.PRESETS (its gate biases, training)


@dataclass(frozen=True)
class OpenSession:
    path: str


@dataclass(frozen=True)
class SaveSession:
    path: str


@dataclass(frozen=True)
class ImportWeights:
    path: str


@dataclass(frozen=True)
class Select:
    selection: Selection


@dataclass(frozen=True)
class SetSpeed:
    steps_per_second: float  # 0 = full speed


@dataclass(frozen=True)
class Rewind:
    step: int | None  # a recorded training step, or None: back to live


@dataclass(frozen=True)
class WantState:
    tag: str = ""  # echoed in the StateUpdate that answers it


@dataclass(frozen=True)
class Watch:
    vanishing: bool  # also compute the why-gradients-vanish view (the step-through page is shown)


@dataclass(frozen=True)
class EditInput:
    """A what-if input: x_t of view-batch ``sample`` becomes ``values`` (None: the original input)."""

    sample: int
    timestep: int
    values: tuple[float, ...] | None


@dataclass(frozen=True)
class EditWeight:
    """A what-if weight: one entry of a parameter (``name`` as the model names it) becomes ``value``."""

    name: str
    index: tuple[int, ...]
    value: float


# ---------------------------------------------------------------------- what the worker sends back


@dataclass(frozen=True)
class SessionState:
    """The session at one moment between steps: pickled bytes of it (no rewind record)."""

    session_id: int
    step: int
    config: SessionConfig
    num_params: int
    received: int  # commands the worker had applied when the state was taken
    payload: bytes = field(repr=False)

    def session(self) -> Session:
        """A private Session with this state (unpickled: no network is initialised)."""
        return pickle.loads(self.payload)

    @classmethod
    def of(cls, session: Session, session_id: int, received: int) -> "SessionState":
        rewind, session.rewind = session.rewind, None
        try:
            payload = pickle.dumps(session, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            session.rewind = rewind
        return cls(session_id, session.step, session.config, session.model.num_params(), received, payload)


@dataclass(frozen=True)
class Frame:
    """The newest picture of the live session (a progress value: latest wins)."""

    session_id: int
    snapshot: Snapshot
    running: bool
    rewind_steps: tuple[int, ...]
    vanishing: GradientFlowView | None = None  # why gradients vanish; None: not computed for this frame


@dataclass(frozen=True)
class Refresh:
    """Between two inspections: the training history and counters only (small, unlike a Frame), to
    be laid over the newest Frame's snapshot (a progress value too: latest wins)."""

    session_id: int
    step: int
    history: History
    loss: float
    steps_per_second: float
    clip_count: int
    running: bool
    rewind_steps: tuple[int, ...]

    @classmethod
    def of(cls, snapshot: Snapshot, session_id: int, running: bool, rewind_steps: tuple[int, ...]) -> "Refresh":
        return cls(session_id, snapshot.step, snapshot.history, snapshot.loss, snapshot.steps_per_second,
                   snapshot.clip_count, running, rewind_steps)

    def applied_to(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` brought up to date (its view-batch arrays shared: views can tell by them)."""
        return replace(snapshot, step=self.step, history=self.history, loss=self.loss,
                       steps_per_second=self.steps_per_second, clip_count=self.clip_count)


@dataclass(frozen=True)
class SessionReady:
    """A new session replaced the old one (new settings, a preset, an opened folder)."""

    state: SessionState
    opened_from: str | None = None


@dataclass(frozen=True)
class StateUpdate:
    """The same session with new weights or settings (paused, a run of steps ended, or asked for)."""

    state: SessionState
    tag: str = ""


@dataclass(frozen=True)
class Running:
    running: bool


@dataclass(frozen=True)
class StepsDone:
    step: int


@dataclass(frozen=True)
class Diverged:
    message: str


@dataclass(frozen=True)
class Refused:
    """A command a person gave could not be carried out (bad file, bad setting): say why."""

    title: str
    message: str
    config: SessionConfig | None  # the settings the live session really has (controls go back to them)


@dataclass(frozen=True)
class Idle:
    """Every command up to number ``received`` is done and its results were sent."""

    received: int


@dataclass(frozen=True)
class Failed:
    """A bug: the message for the dialog; training is paused, the app carries on."""

    message: str


@dataclass(frozen=True)
class Busy:
    text: str | None  # what the worker is doing that takes a while; None when it is done


@dataclass(frozen=True)
class Saved:
    folder: str


@dataclass(frozen=True)
class Imported:
    path: str


@dataclass(frozen=True)
class Rewound:
    snapshot: Snapshot | None  # the panels' picture at the recorded step; None: back to live
