"""The training worker: a Qt-free loop that owns the live Session, run in its own ``spawn`` process.

    UI --commands (queue)--> TrainingLoop: apply commands between steps, train, inspect the view batch
    UI <--newest Frame (latest wins, never queued)--   and events (session ready, saved, refused...)

Every command is applied *between* training steps, so saving, importing or opening never races a
step. The UI never waits: it sends a command and later receives what came of it. What the UI needs of
the session itself (for the step-through, the gradient check, exports) travels as a ``SessionState``:
the session pickled at one moment between steps, without its rewind record. Frames carry the newest
snapshot for the current selection; a frame the UI has not taken yet is replaced by a newer one.
The commands and replies are in rnnviz.session.worker_messages.
"""
from __future__ import annotations

import math
import time

import numpy as np

from rnnviz.session import worker_messages as m
from rnnviz.session.background import WorkContext, describe
from rnnviz.session.config import SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.rewind import attach_rewind, rewind_snapshot
from rnnviz.session.session import Selection, Session, StepOutcome
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.whatif import WeightEntry
from rnnviz.session.views.gradient_flow import GradientFlowView, gradient_flow_view

FRAME_INTERVAL_S = 1 / 30  # <= 30 inspections of the view batch per second
REFRESH_INTERVAL_S = 0.1  # loss curve and counters between inspections: 10 Hz reads as live
SNAPSHOT_BUDGET = 0.05  # at most this share of the worker's time goes to inspecting the view batch
VANISHING_BUDGET = 0.05  # and this share to the why-gradients-vanish view (only while it is watched)
VANISHING_MIN_INTERVAL_S = 0.5
IDLE_WAIT_S = 0.05  # paused: how long one wait for a command lasts (then cancellation is checked)
USER_ERRORS = (ValueError, OSError, MemoryError)  # every error a file or a setting can cause


# ---------------------------------------------------------------------- the loop


def run_training(work: WorkContext, start: SessionConfig | m.SessionState, selection: Selection = Selection(),
                 preset: str | None = None) -> None:
    """The worker process's work function: build the session (or take up ``start``'s state), then
    train and answer commands until cancelled."""
    loop = TrainingLoop(work, selection)
    if isinstance(start, m.SessionState):
        loop.guarded(loop.replace, start.session())
    else:
        loop.apply(m.NewSession(start, preset))
    if loop.session is None:  # the settings it was started with were refused: start from the defaults
        loop.apply(m.NewSession(SessionConfig()))
    loop.run()


class TrainingLoop:
    def __init__(self, work: WorkContext, selection: Selection = Selection()) -> None:
        self.work = work
        self.session: Session | None = None
        self.session_id = 0
        self.selection = selection
        self.playing = False
        self.pending_steps = 0
        self.speed = 0.0
        self.rewound_to: int | None = None
        self.watch_vanishing = False
        self.want_frame = False
        self.want_state = False
        self.received = 0  # commands applied so far
        self.idle_reported = -1
        self._full: Snapshot | None = None  # the newest inspection (refresh frames share its arrays)
        self._last_frame = self._last_full = self._last_vanishing = 0.0
        self._full_cost = self._vanishing_cost = 0.0

    @property
    def active(self) -> bool:
        return self.session is not None and (self.playing or self.pending_steps > 0)

    def run(self) -> None:
        while not self.work.cancelled:
            commands = self.work.receive(timeout=0.0 if self.active else IDLE_WAIT_S)
            self.apply_all(commands)
            if self.active:
                started = time.perf_counter()
                self.guarded(self.train_one)
                self.throttle(started)
            else:
                self.guarded(self.settle)

    def apply_all(self, commands: list[object]) -> None:
        self.received += len(commands)
        for command in coalesce(commands):
            self.guarded(self.apply, command)

    def guarded(self, action, *args) -> None:
        """Run one command or step; a bug pauses training and is reported, the worker carries on."""
        try:
            action(*args)
        except Exception as exc:
            self.stop_running()
            self.work.emit(m.Failed(describe(exc, "the training process")))

    # ------------------------------------------------------------------ commands

    def apply(self, command: object) -> None:
        handler = getattr(self, "_on_" + type(command).__name__, None)
        if handler is None:
            raise TypeError(f"the training worker does not know the command {command!r}")
        handler(command)

    def _on_Play(self, _command: m.Play) -> None:
        if self.session is None or self.playing:
            return
        if self.session.diverged:
            self.refuse("Training diverged", diverged_hint(self.session))
            return
        self.playing = True
        self.work.emit(m.Running(True))

    def _on_Pause(self, _command: m.Pause) -> None:
        self.stop_running()

    def _on_Step(self, command: m.Step) -> None:
        if self.session is not None and not self.playing:
            if self.session.diverged:
                self.refuse("Training diverged", diverged_hint(self.session))
                return
            self.pending_steps += max(0, int(command.count))

    def _on_Settings(self, command: m.Settings) -> None:
        try:
            self.session.update_training(command.config)
        except USER_ERRORS as exc:
            self.refuse("That setting cannot be used", str(exc))  # it carries the config the controls go back to
            return
        self.session.diverged = False  # new settings: the next step may well be finite
        self.want_state = True

    def _on_NewSession(self, command: m.NewSession) -> None:
        self.work.emit(m.Busy("Building the network…"))
        try:
            session = build_session(command.config, command.preset)
        except USER_ERRORS as exc:
            self.refuse("That setting cannot be used", str(exc))
        else:
            self.replace(session)
        finally:
            self.work.emit(m.Busy(None))

    def _on_OpenSession(self, command: m.OpenSession) -> None:
        self.work.emit(m.Busy(f"Opening {command.path}…"))
        try:
            session = load_session(command.path)
        except USER_ERRORS as exc:
            self.refuse("Could not open the session", str(exc))
        else:
            self.replace(session, opened_from=command.path)
        finally:
            self.work.emit(m.Busy(None))

    def _on_SaveSession(self, command: m.SaveSession) -> None:
        self.work.emit(m.Busy(f"Saving {command.path}…"))
        try:
            folder = save_session(self.session, command.path)
        except USER_ERRORS as exc:
            self.refuse("Could not save the session", str(exc))
        else:
            self.work.emit(m.Saved(str(folder)))
        finally:
            self.work.emit(m.Busy(None))

    def _on_ImportWeights(self, command: m.ImportWeights) -> None:
        from rnnviz.session.pytorch import load_pytorch_weights

        try:
            load_pytorch_weights(self.session, command.path)
        except USER_ERRORS as exc:
            self.refuse("Could not import the weights", str(exc))
            return
        self.session.diverged = False
        self.work.emit(m.Imported(command.path))
        self.want_state = self.want_frame = True

    def _on_EditInput(self, command: m.EditInput) -> None:
        """A what-if input (rnnviz.session.whatif): the panels inspect it from the next frame on."""
        values = None if command.values is None else np.asarray(command.values, dtype=np.float64)
        try:
            self.session.edit_input(command.sample, command.timestep, values)
        except USER_ERRORS as exc:
            self.refuse("That input cannot be used", str(exc))
            return
        self.after_edit()

    def _on_EditWeight(self, command: m.EditWeight) -> None:
        """A what-if weight: written into the live model between two steps; training continues from it."""
        try:
            self.session.edit_weight(WeightEntry(command.name, tuple(command.index)), command.value)
        except USER_ERRORS as exc:
            self.refuse("That weight cannot be set", str(exc))
            return
        self.after_edit()

    def after_edit(self) -> None:
        self.want_state = self.want_frame = True
        if self.rewound_to is not None:
            self._on_Rewind(m.Rewind(self.rewound_to))

    def _on_Select(self, command: m.Select) -> None:
        self.selection = command.selection
        self.want_frame = True
        if self.rewound_to is not None:
            self._on_Rewind(m.Rewind(self.rewound_to))

    def _on_SetSpeed(self, command: m.SetSpeed) -> None:
        self.speed = max(0.0, float(command.steps_per_second))

    def _on_Rewind(self, command: m.Rewind) -> None:
        self.rewound_to = command.step
        if command.step is None or self.session is None:
            self.work.emit(m.Rewound(None))
            return
        step = self.session.rewind.nearest(command.step)
        self.work.emit(m.Rewound(rewind_snapshot(self.session, step, self.selection)))

    def _on_WantState(self, command: m.WantState) -> None:
        if self.session is not None:
            self.work.emit(m.StateUpdate(self.state(), command.tag))

    def _on_Watch(self, command: m.Watch) -> None:
        self.watch_vanishing = bool(command.vanishing)
        self._last_vanishing = 0.0
        self.want_frame = self.want_frame or self.watch_vanishing

    def refuse(self, title: str, message: str) -> None:
        config = None if self.session is None else self.session.config
        self.work.emit(m.Refused(title, message, config))

    def state(self) -> m.SessionState:
        return m.SessionState.of(self.session, self.session_id, self.received)

    # ------------------------------------------------------------------ the session

    def replace(self, session: Session, opened_from: str | None = None) -> None:
        attach_rewind(session)
        self.stop_running()
        self.session = session
        self.session_id += 1
        self.selection = session.clamp(self.selection)
        self.rewound_to = None
        self._full = None
        self.work.discard_progress()  # a held frame shows the old session
        self.work.emit(m.SessionReady(self.state(), opened_from))
        self.want_frame, self.want_state = True, False

    def stop_running(self) -> None:
        was_playing, self.playing, self.pending_steps = self.playing, False, 0
        if was_playing:
            self.work.emit(m.Running(False))
            self.want_state = self.want_frame = True

    # ------------------------------------------------------------------ training

    def train_one(self) -> None:
        outcome = self.session.train_step()
        if not outcome.finite:
            self.diverge(outcome)
            return
        if self.pending_steps:
            self.pending_steps -= 1
            if not self.pending_steps and not self.playing:
                self.want_state = self.want_frame = True
                self.settle()
                self.work.emit(m.StepsDone(self.session.step))
                return
        self.publish_while_training()

    def diverge(self, outcome: StepOutcome) -> None:
        self.stop_running()
        self.want_state = self.want_frame = True
        self.work.emit(m.Diverged(diverged_message(self.session, outcome)))

    def throttle(self, started: float) -> None:
        """At a set speed, wait out the rest of the step's time slot (answering commands meanwhile)."""
        if self.speed <= 0:
            return
        remaining = 1.0 / self.speed - (time.perf_counter() - started)
        while remaining > 0 and self.active and not self.work.cancelled:
            self.apply_all(self.work.receive(timeout=min(remaining, IDLE_WAIT_S)))
            remaining = 1.0 / self.speed - (time.perf_counter() - started)

    def publish_while_training(self) -> None:
        """An inspection of the view batch at <= 30 Hz within ``SNAPSHOT_BUDGET`` of the time, and only
        when the UI has taken the previous frame; in between, the loss curve and counters at 10 Hz."""
        now = time.perf_counter()
        if not self.work.progress_wanted() or now - self._last_frame < FRAME_INTERVAL_S:
            return
        if self._full is None or self.want_frame or now - self._last_full >= self._full_cost / SNAPSHOT_BUDGET:
            self.publish_full()
        elif now - self._last_frame >= REFRESH_INTERVAL_S:
            self.send_refresh()

    def publish_full(self) -> None:
        started = time.perf_counter()
        self._full = self.session.snapshot(self.selection)
        self._last_full = started
        self._full_cost = time.perf_counter() - started
        self.want_frame = False
        self.send_frame(self._full, self.vanishing_due())

    def vanishing_due(self) -> GradientFlowView | None:
        if not self.watch_vanishing:
            return None
        now = time.perf_counter()
        interval = max(VANISHING_MIN_INTERVAL_S, self._vanishing_cost / VANISHING_BUDGET)
        if self.active and now - self._last_vanishing < interval:
            return None
        view = gradient_flow_view(self.session, self.selection)
        self._last_vanishing = now
        self._vanishing_cost = time.perf_counter() - now
        return view

    def send_frame(self, snapshot: Snapshot, vanishing: GradientFlowView | None = None) -> None:
        self._last_frame = time.perf_counter()
        rewind = self.session.rewind
        steps = tuple(rewind.steps()) if rewind is not None else ()
        self.work.progress(m.Frame(self.session_id, snapshot, self.active, steps, vanishing))

    def send_refresh(self) -> None:
        """The loss curve and counters: a small message (the full arrays went with the last Frame)."""
        self._last_frame = time.perf_counter()
        rewind = self.session.rewind
        steps = tuple(rewind.steps()) if rewind is not None else ()
        self.work.progress(m.Refresh.of(self.session.refresh_snapshot(self._full), self.session_id, self.active, steps))

    def settle(self) -> None:
        """Idle: send the state and a fresh frame once after anything changed."""
        if self.session is None:
            return
        if self.want_state:
            self.want_state = False
            self.work.emit(m.StateUpdate(self.state()))
        if self.want_frame:
            self.publish_full()
        if self.idle_reported != self.received and not self.work.holding:
            self.idle_reported = self.received
            self.work.emit(m.Idle(self.received))


def coalesce(commands: list[object]) -> list[object]:
    """Only the newest Rewind and Select of a burst matter (a slider dragged, a spin box held)."""
    kinds = (m.Rewind, m.Select)
    last = {kind: max((k for k, c in enumerate(commands) if isinstance(c, kind)), default=-1) for kind in kinds}
    return [c for k, c in enumerate(commands) if not isinstance(c, kinds) or last[type(c)] == k]


def build_session(config: SessionConfig, preset: str | None = None) -> Session:
    """A new Session for ``config`` (the preset's own preparation when ``preset`` is named)."""
    if preset is None:
        return Session(config)
    from rnnviz.session.presets import get_preset

    return get_preset(preset).build()


def _last_finite_norm(session: Session) -> tuple[int, float] | None:
    train = session.history.train  # (N, 4): step, loss, grad_norm, clipped (finite steps only)
    finite = train[[math.isfinite(v) for v in train[:, 2]]] if len(train) else train
    return (int(finite[-1, 0]), float(finite[-1, 2])) if len(finite) else None


def diverged_message(session: Session, outcome: StepOutcome) -> str:
    if math.isfinite(outcome.grad_norm):
        norm = f"the gradient norm was {outcome.grad_norm:.3g}"
    else:
        last = _last_finite_norm(session)
        norm = (f"the last finite gradient norm was {last[1]:.3g}, at step {last[0]:,}" if last
                else "the gradient was not finite from the first step")
    what = "infinite" if outcome.loss == float("inf") else "non-finite"
    return (f"Training diverged at step {outcome.step + 1:,}: the loss or a gradient became {what} "
            f"({norm}). Training paused and the last finite weights were kept. Try gradient clipping "
            "or a smaller learning rate.")


def diverged_hint(session: Session) -> str:
    return (f"Training diverged at step {session.step + 1:,} and is paused with the last finite weights. "
            "Turn on gradient clipping or lower the learning rate (the next step then tries again), "
            "or reset the weights.")
