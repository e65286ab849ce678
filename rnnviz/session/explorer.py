"""What a person is exploring right now, in one Qt-free model with change events.

    model = ExplorerModel(SessionConfig())
    model.events.selection.connect(lambda new, old: ...)   # psygnal: one signal per field
    model.select(layer=1)                                  # clamped to the network: layer 0 if 1 layer

The window's widgets bind to this model instead of keeping copies: controls show ``config``, the view
bar shows ``selection``, every time-axis plot follows ``timestep`` (the shared cursor), the rewind bar
follows ``rewound_to`` and the step-through page ``stepping``. A widget edit becomes a command; when a
command is refused the widgets are put back from the model (``resync``).

Events come from psygnal's ``@evented`` dataclass: it emits ``(new, old)`` only when a field's value
really changes, callbacks run synchronously in the thread that set the field (the GUI thread here), and
bound methods are held weakly, so a closed widget never keeps the model's listeners alive. A small
observer of our own would have to re-implement exactly that, so the well-kept library is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from psygnal import evented

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import VIEW_BATCH, Selection


@dataclass(frozen=True)
class StepPosition:
    """Where the step-through cursor is: forward and backward steps taken, on which weights."""

    forward_done: int = 0
    backward_done: int = 0
    built_at_step: int | None = None  # the training step whose weights are stepped (None: not built)

    @property
    def phase(self) -> str:
        return "backward" if self.backward_done else "forward"


@evented
@dataclass
class ExplorerModel:
    config: SessionConfig = field(default_factory=SessionConfig)  # what the person chose
    selection: Selection = field(default_factory=Selection)  # sample, layer, direction the views follow
    timestep: int | None = None  # the shared cursor (a timestep of the view sequence)
    rewound_to: int | None = None  # a recorded training step the training panels show, None: live
    stepping: StepPosition = field(default_factory=StepPosition)
    step: int = 0  # training steps taken by the live session
    running: bool = False  # training until paused
    busy: str | None = None  # what takes a while right now ("Building the network…"), None: nothing
    diverged: bool = False

    def set_config(self, config: SessionConfig) -> None:
        """A new configuration; the selection is clamped to its layers and directions."""
        self.config = config
        self.selection = clamp_selection(self.selection, config)

    def select(self, sample: int | None = None, layer: int | None = None, direction: int | None = None) -> Selection:
        """Change part of the selection (clamped to the network); returns the new selection."""
        current = self.selection
        changes = {k: v for k, v in (("sample", sample), ("layer", layer), ("direction", direction)) if v is not None}
        self.selection = clamp_selection(replace(current, **changes), self.config)
        return self.selection

    def resync(self) -> None:
        """Tell every bound widget to show the model again (after a refused edit left it showing
        a value the model does not hold)."""
        self.events.config.emit(self.config, self.config)
        self.events.selection.emit(self.selection, self.selection)

    @property
    def directions(self) -> int:
        return 2 if self.config.bidirectional else 1


def clamp_selection(selection: Selection, config: SessionConfig) -> Selection:
    """``selection`` moved inside the view batch, the layers and the directions ``config`` has."""
    return Selection(
        sample=min(max(int(selection.sample), 0), VIEW_BATCH - 1),
        layer=min(max(int(selection.layer), 0), config.num_layers - 1),
        direction=min(max(int(selection.direction), 0), (2 if config.bidirectional else 1) - 1),
    )
