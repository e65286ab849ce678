"""The "Training" page: the live panel grid, with the shared timestep cursor on its time-axis plots.

A new snapshot is drawn one panel per event-loop turn (a panel's update and repaint take a few ms; all
six at once would hold the event loop for tens of ms on a busy machine), newest snapshot first: a panel
still waiting when a newer snapshot arrives draws the newer one.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui.cursor import CursorLines
from rnnviz.ui.panels import PANELS, Panel

PANEL_GRID = (("loss", "hidden", "gates"), ("gradients", "weights", "predictions"))
HISTORY_PANELS = ("loss",)  # panels drawn from the training history alone


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

    def draw(self, snapshot: Snapshot, history_only: bool = False, now: bool = False) -> None:
        """Draw ``snapshot`` (``history_only``: its view-batch arrays are the ones already drawn), one
        panel per event-loop turn; ``now``: every panel before returning (exports, screenshots)."""
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
        self.panels[name].set_snapshot(snapshot)
        if name not in HISTORY_PANELS:
            self._follow_time_plots()
        if self._waiting:
            self._turn.start()

    def _follow_time_plots(self) -> None:
        self.cursor_lines.follow([plot for panel in self.panels.values() for plot in panel.time_plots()])
