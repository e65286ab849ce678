"""Compare cell kinds (``comparison_cells()``: RNN, LSTM and GRU) trained side by side on the same task,
seed and data.

The comparison (rnnviz.session.compare: one session per cell, fed the same batches) trains in a process
of its own (``rnnviz.session.work.run_comparison``), so it shares no GIL with the window; Play/Pause are
messages to it, and its newest curves come back (latest wins) and are drawn a few times a second.
Closing the window stops the process.

    loss per training step, one colour per cell kind        gradient norm per timestep (log)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from rnnviz.engine.cells import cell_spec, comparison_cells
from rnnviz.session.config import SessionConfig
from rnnviz.session.work import ComparePlay, run_comparison
from rnnviz.ui import theme as theming
from rnnviz.ui.jobs import JobRunner

REDRAW_MS = 150
PLAY_TEXT = "▶ Train side by side"


class CompareWindow(QWidget):
    """A top-level window: Play/Pause, and overlaid loss and gradient-norm curves per cell kind."""

    closed = Signal()

    def __init__(self, base_config: SessionConfig, parent: QWidget | None = None,
                 jobs: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_window")
        self.cells = comparison_cells()
        titles = [cell_spec(cell).title for cell in self.cells]
        self.setWindowTitle(f"Compare {', '.join(titles[:-1])} and {titles[-1]} — same task, seed and data"
                            if len(titles) > 1 else f"Train {titles[0]}")
        self.resize(1200, 560)
        self.base_config = base_config
        self.theme = theming.current_theme()
        self.curves_shown: Any = None
        self._latest: Any = None
        self.error: str | None = None
        self.running = False
        self._build()
        self.jobs = jobs or JobRunner(self)
        self.job = self.jobs.start("comparison", run_comparison, base_config, self.cells, process=True)
        self.job.progress.connect(self._curves_arrived)
        self.job.failed.connect(self._failed)
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()

    def _build(self) -> None:
        theme = self.theme
        self.play_button = QPushButton(PLAY_TEXT)
        self.play_button.setObjectName("compare_play")
        self.play_button.clicked.connect(self.toggle)
        self.status = QLabel("Paused")
        self.status.setObjectName("compare_status")
        top = QHBoxLayout()
        top.addWidget(self.play_button)
        top.addWidget(self.status, 1)
        self._build_plots(theme)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        note = QLabel("Solid: training loss; dashed: held-out loss. Right: how strongly the loss reaches back "
                      "to each timestep of the same held-out sequence.")
        note.setWordWrap(True)
        layout.addWidget(note)

    def _build_plots(self, theme: theming.Theme) -> None:
        """Loss per training step and gradient norm per timestep, one colour per cell kind."""
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.background)
        self.loss_plot = self.graphics.addPlot(row=0, col=0, title="loss")
        self.loss_plot.setLabel("bottom", "training step")
        self.loss_plot.setLabel("left", "loss")
        self.grad_plot = self.graphics.addPlot(row=0, col=1, title="gradient norm per timestep ||dL/dh_t|| (log)")
        self.grad_plot.setLogMode(y=True)
        self.grad_plot.setLabel("bottom", "timestep")
        self.grad_plot.setLabel("left", "||dL/dh_t||")
        self.legends = [self.loss_plot.addLegend(offset=(-8, 8)),  # top right, above the falling losses
                        self.grad_plot.addLegend(offset=(-8, -8))]  # bottom right, below the norms
        for plot in (self.loss_plot, self.grad_plot):
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.lines: dict[str, dict[str, pg.PlotDataItem]] = {}
        for index, cell in enumerate(self.cells):
            colour = theme.pen(index)
            title = cell_spec(cell).title
            self.lines[cell] = {
                "loss": self.loss_plot.plot(name=title, pen=pg.mkPen(colour, width=1)),
                "heldout": self.loss_plot.plot(pen=pg.mkPen(colour, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)),
                "grad": self.grad_plot.plot(name=title, pen=pg.mkPen(colour, width=1), symbol="o", symbolSize=4,
                                            symbolBrush=colour, symbolPen=pg.mkPen(colour)),
            }
        for plot in (self.loss_plot, self.grad_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)

    def toggle(self) -> None:
        self.running = not self.running
        self.job.send(ComparePlay(self.running))
        self.play_button.setText("‖ Pause" if self.running else PLAY_TEXT)
        self.status.setText("Training…" if self.running else "Paused")

    def _curves_arrived(self, curves: Any) -> None:
        self._latest = curves

    def _failed(self, message: str) -> None:
        self.error = message
        self.status.setText(f"Stopped: {message}")

    @property
    def step_count(self) -> int:
        """Training steps of the newest curves drawn."""
        curves = self.curves_shown or {}
        return max((int(c.steps[-1]) for c in curves.values() if len(c.steps)), default=0)

    def _redraw(self) -> None:
        curves, self._latest = self._latest, None
        if curves is None:
            return
        self.curves_shown = curves
        for cell, lines in self.lines.items():
            curve = curves[cell]
            steps = np.asarray(curve.steps, dtype=float)
            loss = np.asarray(curve.loss, dtype=float)
            keep = np.isfinite(loss)
            lines["loss"].setData(steps[keep], loss[keep])
            held_steps = np.asarray(curve.heldout_steps, dtype=float)
            held = np.asarray(curve.heldout_loss, dtype=float)
            keep = np.isfinite(held)
            lines["heldout"].setData(held_steps[keep], held[keep])
            norms = np.asarray(curve.grad_norm_per_step, dtype=float)
            shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
            if np.isfinite(shown).any():
                lines["grad"].setData(np.arange(len(norms), dtype=float), shown, connect="finite")
        if self.running and self.error is None:
            self.status.setText(f"Training… step {self.step_count:,}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Stop the comparison's process (cancelled now; terminated if it has not stopped in a second)."""
        self.timer.stop()
        self.job.cancel()
        self.closed.emit()
        super().closeEvent(event)
