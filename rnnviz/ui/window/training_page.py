"""The "Training" page: the live panel grid, with the shared timestep cursor on its time-axis plots.

A new snapshot is drawn one panel per event-loop turn (a panel's update and repaint take a few ms; all
six at once would hold the event loop for tens of ms on a busy machine), newest snapshot first: a panel
still waiting when a newer snapshot arrives draws the newer one.

Titles of the panels that show one layer and direction say which, when the network has more than one.
After a divergence (or with values too large to colour) those panels say so in words instead of
drawing an empty-looking heatmap; the loss panel keeps drawing the history.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui.cursor import CursorLines
from rnnviz.ui.panels import PANELS, Panel

PANEL_GRID = (("loss", "hidden", "gates"), ("gradients", "weights", "predictions"))
HISTORY_PANELS = ("loss",)  # panels drawn from the training history alone
LAYER_PANELS = ("hidden", "gates", "gradients", "weights")  # panels of the selected layer and direction
DRAWABLE_LIMIT = 1e30  # larger magnitudes cannot be coloured (float32 levels overflow near 3.4e38)
DIRECTION_WORDS = ("→ forward", "← backward")


def layer_suffix(layer: int, direction: int, num_layers: int, bidirectional: bool) -> str:
    """" · layer 1 · ← backward" for a network with a choice of layers or directions, else ""."""
    parts = []
    if num_layers > 1:
        parts.append(f"layer {layer}")
    if bidirectional:
        parts.append(DIRECTION_WORDS[direction])
    return "".join(f" · {part}" for part in parts)


def overflow_note(snapshot: Snapshot) -> str | None:
    """What to say instead of drawing a snapshot whose hidden states, gates or weights are not finite
    or too large to colour; None when they can be drawn."""
    arrays = [snapshot.hidden, *snapshot.gates.values(), *snapshot.weights.values()]
    for array in arrays:
        values = np.asarray(array)
        if values.size and not (np.isfinite(values).all() and np.abs(values).max() < DRAWABLE_LIMIT):
            return (f"At step {snapshot.step:,} the network's values are infinite, NaN or larger than "
                    f"{DRAWABLE_LIMIT:.0e}: there is nothing sensible to colour. Lower the learning rate or "
                    "turn on gradient clipping (Training dock), then reset the weights (Ctrl+R).")
    return None


class TrainingPage(QSplitter):
    """Two rows of panels; ``draw`` draws a snapshot on them."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.setObjectName("panel_rows")
        self.splitters: list[QSplitter] = [self]
        self.panels: dict[str, Panel] = {}
        for row_names in PANEL_GRID:
            row = QSplitter(Qt.Orientation.Horizontal)
            row.setObjectName("panel_row_" + "_".join(row_names))
            for name in row_names:
                panel = PANELS[name]()
                panel.setObjectName(f"panel_{name}")
                panel.setMinimumSize(220, 200)
                self.panels[name] = panel
                row.addWidget(panel)
            self.addWidget(row)
            self.splitters.append(row)
        self.cursor_lines = CursorLines()
        self._follow_time_plots()
        self._waiting: dict[str, Snapshot] = {}  # panel name -> the snapshot it is still to draw
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._draw_one)
        self.network = (1, False)  # (layers, bidirectional) of the network shown
        # (what the worker said, the last finite step: None until the worker's next frame, which has it)
        self.diverged: tuple[str, int | None] | None = None
        self.rewound = False  # showing a recorded step (drawn as it was, diverged or not)
        self._overflow: tuple[Snapshot | None, str | None] = (None, None)  # the last snapshot checked, its note

    def set_network(self, num_layers: int, bidirectional: bool) -> None:
        """The shape of the network (panel titles name the layer and direction when there is a choice)."""
        self.network = (num_layers, bidirectional)

    def set_diverged(self, message: str | None) -> None:
        """Training diverged (the panels say ``message`` until training goes on); None: it did not."""
        self.diverged = None if message is None else (message, None)

    def note_for(self, name: str, snapshot: Snapshot) -> str | None:
        """What panel ``name`` says instead of drawing ``snapshot`` (None: it draws it)."""
        if name in HISTORY_PANELS:
            return None
        if self.diverged is not None and not self.rewound:
            message, step = self.diverged
            if step is None:  # the worker's frame after the divergence: the last finite step
                step = snapshot.step
                self.diverged = (message, step)
            if snapshot.step <= step:
                return f"<b>Training diverged</b><br><br>{message}<br><br>The loss panel keeps the history."
            self.diverged = None  # training went on from finite weights
        if self._overflow[0] is not snapshot:  # checked once per snapshot, not once per panel
            self._overflow = (snapshot, overflow_note(snapshot))
        return self._overflow[1]

    def draw(self, snapshot: Snapshot, history_only: bool = False, now: bool = False) -> None:
        """Draw ``snapshot`` (``history_only``: its view-batch arrays are the ones already drawn), one
        panel per event-loop turn; ``now``: every panel before returning (exports, screenshots)."""
        if self.diverged is not None and self.diverged[1] is None:
            history_only = False  # the first frame after a divergence: every panel says so
        for name in self.panels:
            if not history_only or name in HISTORY_PANELS:
                self._waiting[name] = snapshot
        if now or not self.isVisible():
            self.flush()
        elif not self._turn.isActive():
            self._turn.start()

    def flush(self) -> None:
        """Draw every waiting panel now."""
        while self._waiting:
            self._draw_one()

    def _draw_one(self) -> None:
        if not self._waiting:
            return
        name = next(iter(self._waiting))
        snapshot = self._waiting.pop(name)
        panel = self.panels[name]
        note = self.note_for(name, snapshot)
        panel.show_notice(note)
        if note is None:
            panel.set_snapshot(snapshot)
        if name in LAYER_PANELS:
            panel.set_title_suffix(layer_suffix(snapshot.layer, snapshot.direction, *self.network))
        if name not in HISTORY_PANELS:
            self._follow_time_plots()
        if self._waiting:
            self._turn.start()

    def _follow_time_plots(self) -> None:
        self.cursor_lines.follow([plot for panel in self.panels.values() for plot in panel.time_plots()])
