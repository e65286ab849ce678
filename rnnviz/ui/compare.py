"""Compare cell kinds (``comparison_cells()``: RNN, LSTM and GRU) trained side by side on the same task,
seed and data.

A worker thread steps a ``Comparison`` (rnnviz.session.compare: one session per cell, fed the same batches)
and keeps its newest curves in an attribute; a GUI-thread timer draws them a few times a second.
The worker never emits Qt signals, and closing the window stops it and waits for it.

    loss per training step, one colour per cell kind        gradient norm per timestep (log)
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from rnnviz.engine.cells import cell_spec, comparison_cells
from rnnviz.session.config import SessionConfig
from rnnviz.ui import theme as theming

REDRAW_MS = 150
PLAY_TEXT = "▶ Train side by side"


class CompareWorker(threading.Thread):
    """Trains the comparison until stopped; ``latest`` holds the newest curves (a fresh copy)."""

    def __init__(self, comparison: Any, curve_interval: float = 0.1) -> None:
        super().__init__(name="rnnviz-compare", daemon=True)
        self.comparison = comparison
        self.curve_interval = curve_interval
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.latest: Any = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        try:
            self._publish()
            last = time.perf_counter()
            while not self.stopping.is_set():
                if not self.running.wait(0.05):
                    continue
                self.comparison.step()
                if time.perf_counter() - last >= self.curve_interval:
                    self._publish()
                    last = time.perf_counter()
            self._publish()
        except Exception as exc:  # shown in the window; the app carries on
            self.error = f"{type(exc).__name__}: {exc}"

    def _publish(self) -> None:
        curves = self.comparison.curves()
        with self._lock:
            self.latest = curves

    def take(self) -> Any:
        with self._lock:
            curves, self.latest = self.latest, None
        return curves

    def stop(self, timeout: float = 3.0) -> bool:
        self.stopping.set()
        self.running.set()
        self.join(timeout)
        return not self.is_alive()


class CompareWindow(QWidget):
    """A top-level window: Play/Pause, and overlaid loss and gradient-norm curves per cell kind."""

    closed = Signal()

    def __init__(self, base_config: SessionConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from rnnviz.session.compare import Comparison

        self.setObjectName("compare_window")
        self.cells = comparison_cells()
        titles = [cell_spec(cell).title for cell in self.cells]
        self.setWindowTitle(f"Compare {', '.join(titles[:-1])} and {titles[-1]} — same task, seed and data"
                            if len(titles) > 1 else f"Train {titles[0]}")
        self.resize(1200, 560)
        self.comparison = Comparison(base_config, cells=self.cells)
        self.worker = CompareWorker(self.comparison)
        self.theme = theming.current_theme()
        self.curves_shown: Any = None
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.worker.start()
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
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        note = QLabel("Solid: training loss; dashed: held-out loss. Right: how strongly the loss reaches back "
                      "to each timestep of the same held-out sequence.")
        note.setWordWrap(True)
        layout.addWidget(note)

    @property
    def running(self) -> bool:
        return self.worker.running.is_set()

    def toggle(self) -> None:
        if self.running:
            self.worker.running.clear()
        else:
            self.worker.running.set()
        self.play_button.setText("‖ Pause" if self.running else PLAY_TEXT)
        self.status.setText("Training…" if self.running else "Paused")

    def _redraw(self) -> None:
        if self.worker.error:
            self.status.setText(f"Stopped: {self.worker.error}")
        curves = self.worker.take()
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
        step = max((int(curves[c].steps[-1]) for c in self.lines if len(curves[c].steps)), default=0)
        if self.running:
            self.status.setText(f"Training… step {step:,}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.timer.stop()
        self.worker.stop()
        self.closed.emit()
        super().closeEvent(event)
