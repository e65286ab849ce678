"""The "Window vs memory" page: models with a fixed window of the last k inputs (an n-gram and a
time-delay network) against a recurrent network on the lag-recall task.

Left: held-out accuracy against the lag, one curve per model, the chance level 1/V and the lags the
window cannot see (lag >= k) shaded from a line at lag = k. Right: what each model stores as k grows,
on a log axis: the n-gram's (V+1)^k C counts, the time-delay network's weights (linear in k) and the
RNN's weights (no window: flat). The sweep (rnnviz.session.window_memory.measure_lag_sweep) trains
every model at every lag in a process of its own, with a progress bar and Cancel; each model's result
is drawn as it comes in. Both plots export PNG, SVG and CSV from their right-click menus.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)

from rnnviz.engine.cells import cell_names, cell_spec
from rnnviz.session.budget import MemoryBudgetError, check_ngram_memory
from rnnviz.session.window_memory import (MAX_SWEEP_LAG, MODELS, AccuracyCurve, LagSweep, StateSizes,
                                          SweepConfig, empty_sweep, measure_lag_sweep, state_sizes)
from rnnviz.ui.jobs import Job
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.theme import Theme

SWEEP = "window sweep"  # the page's job tag
SYMBOLS = {"ngram": "o", "window_mlp": "s", "rnn": "t"}
SYMBOL_SIZES = {"ngram": 11, "window_mlp": 7, "rnn": 9}  # the two window models coincide: the n-gram's ring shows around
SIZE_WINDOWS = range(1, 13)  # k on the size plot
MAX_WINDOW = 10  # k on the spin box: (V+1)^10 (V) counts of V = 4 symbols take 156 MiB; 12 would take 3.6 GiB
DEFAULTS = SweepConfig()


def _chance_text(chance: float) -> str:
    return f"chance 1/V = {chance:.2f}"


class LagAccuracyPanel(Panel):
    name = "window_accuracy_vs_lag"
    title = "Held-out accuracy against lag"

    def build(self) -> None:
        self.plot = self.add_plot(self.graphics, 1, 0, {"left": "held-out accuracy",
                                                        "bottom": "lag: how many steps back the answer is"},
                                  index_axes=("bottom",))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.outside = pg.LinearRegionItem(orientation="vertical", movable=False)
        self.outside.setZValue(-20)
        self.plot.addItem(self.outside, ignoreBounds=True)
        self.window_line = pg.InfiniteLine(angle=90, movable=False)
        self.window_text = pg.TextItem(anchor=(0, 0))
        self.chance_line = pg.InfiniteLine(angle=0, movable=False)
        self.chance_text = pg.TextItem(anchor=(0, 1))
        for item in (self.window_line, self.window_text, self.chance_line, self.chance_text):
            self.plot.addItem(item, ignoreBounds=True)
        self.curves = {model: self.plot.plot(symbol=SYMBOLS[model], symbolSize=SYMBOL_SIZES[model])
                       for model in MODELS}
        self.key = self.add_key(self.graphics, 2, 0)

    def restyle(self, theme: Theme) -> None:
        for index, (model, curve) in enumerate(self.curves.items()):
            curve.setPen(pg.mkPen(theme.pen(index), width=2))
            curve.setSymbolPen(pg.mkPen(theme.pen(index), width=2))
            curve.setSymbolBrush(None if model == "ngram" else pg.mkBrush(theme.pen(index)))
        shade = pg.mkColor(theme.muted)
        shade.setAlpha(40)
        self.outside.setBrush(pg.mkBrush(shade))
        for line in self.outside.lines:
            line.setPen(pg.mkPen(None))
        self.window_line.setPen(pg.mkPen(theme.foreground, width=1, style=Qt.PenStyle.DashLine))
        self.chance_line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        self.window_text.setColor(theme.foreground)
        self.chance_text.setColor(theme.foreground)
        if self.view is not None:
            self.draw(self.view)
        else:
            self._set_key("RNN")

    def _set_key(self, cell: str) -> None:
        titles = {"ngram": "n-gram", "window_mlp": "time-delay net", "rnn": cell}
        self.set_key(self.key, [(k, "━" + {"o": "○", "s": "■", "t": "▼"}[SYMBOLS[m]], titles[m])
                                for k, m in enumerate(MODELS)] + [(self.theme.muted, "┅", "chance")])

    def draw(self, view: LagSweep) -> None:
        config = view.config
        window = config.window
        low, high = config.lags[0] - 0.5, max(config.lags[-1], window) + 0.5
        for model, curve in self.curves.items():
            points = [(lag, value) for lag, value in zip(view.lags, view.accuracy[model]) if value is not None]
            curve.setData([p[0] for p in points], [p[1] for p in points])
        self.outside.setRegion((window, high + 1))
        self.window_line.setValue(window)
        self.window_text.setText(f"lag = k = {window}: outside the window →")
        self.window_text.setPos(window, 0.97)
        self.chance_line.setValue(view.chance)
        self.chance_text.setText(_chance_text(view.chance))
        self.chance_text.setPos(low, view.chance)
        self.set_ranges(self.plot, (low, high), (0.0, 1.05))
        self.set_page_title(self.graphics, f"Accuracy against lag: window k = {window} vs memory")
        self._set_key(f"{cell_spec(config.cell).title} {config.hidden_size}")

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [["lag"]]


class StateSizePanel(Panel):
    name = "window_state_size"
    title = "What each model stores against the window k"

    def build(self) -> None:
        self.plot = self.add_plot(self.graphics, 1, 0, {"left": "numbers stored (log scale)",
                                                        "bottom": "window k (inputs seen)"})
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curves = {name: self.plot.plot(symbol="o", symbolSize=6) for name in ("ngram", "window_mlp", "rnn")}
        self.window_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.window_line, ignoreBounds=True)
        self.numbers = pg.TextItem(anchor=(0, 0))  # the counts at the chosen k
        self.plot.addItem(self.numbers, ignoreBounds=True)
        self.key = self.add_key(self.graphics, 2, 0)

    def restyle(self, theme: Theme) -> None:
        self.numbers.setColor(theme.foreground)
        for index, curve in enumerate(self.curves.values()):
            curve.setPen(pg.mkPen(theme.pen(index), width=2))
            curve.setSymbolPen(pg.mkPen(theme.pen(index)))
            curve.setSymbolBrush(pg.mkBrush(theme.pen(index)))
        self.window_line.setPen(pg.mkPen(theme.foreground, width=1, style=Qt.PenStyle.DashLine))
        if self.view is not None:
            self.draw(self.view)

    def draw(self, view: StateSizes) -> None:
        windows = list(view.windows)
        self.curves["ngram"].setData(windows, [float(n) for n in view.ngram_counts])
        self.curves["window_mlp"].setData(windows, [float(n) for n in view.time_delay_weights])
        self.curves["rnn"].setData(windows, [float(view.rnn_weights)] * len(windows))
        self.window_line.setValue(view.window)
        top = math.log10(max(max(view.ngram_counts), view.rnn_weights))
        bottom = math.log10(min(min(view.ngram_counts), min(view.time_delay_weights), view.rnn_weights))
        self.set_ranges(self.plot, (windows[0] - 0.5, windows[-1] + 0.5), (math.floor(bottom), math.ceil(top) + 0.3))
        self.set_page_title(self.graphics, "What each model stores")
        at = windows.index(view.window) if view.window in windows else None
        if at is not None:
            self.numbers.setText(f"at k = {view.window}:\n{view.ngram_counts[at]:,} n-gram counts\n"
                                 f"{view.time_delay_weights[at]:,} time-delay weights\n"
                                 f"{view.rnn_weights:,} {cell_spec(view.cell).title} weights, any k\n"
                                 f"({view.rnn_state} numbers of state)")
        self.numbers.setVisible(at is not None)
        self.numbers.setPos(windows[0] - 0.4, math.ceil(top) + 0.3)
        self.set_key(self.key, [(0, "━●", "n-gram"), (1, "━●", "time-delay net"),
                                (2, "━●", cell_spec(view.cell).title)])

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [["window"]]


class WindowAccuracyPanel(Panel):
    """One window model's held-out accuracy during training (what `rnnviz train --arch ngram|window-mlp` draws)."""

    name = "window_accuracy"
    title = "Held-out accuracy while training"

    def build(self) -> None:
        self.plot = self.add_plot(self.graphics, 1, 0, {"left": "held-out accuracy", "bottom": "training step"})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot.plot(symbol="o", symbolSize=5)
        self.chance_line = pg.InfiniteLine(angle=0, movable=False)
        self.chance_text = pg.TextItem(anchor=(1, 1))
        for item in (self.chance_line, self.chance_text):
            self.plot.addItem(item, ignoreBounds=True)

    def restyle(self, theme: Theme) -> None:
        self.curve.setPen(pg.mkPen(theme.pen(0), width=2))
        self.curve.setSymbolPen(pg.mkPen(theme.pen(0)))
        self.curve.setSymbolBrush(pg.mkBrush(theme.pen(0)))
        self.chance_line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        self.chance_text.setColor(theme.foreground)

    def draw(self, view: AccuracyCurve) -> None:
        self.curve.setData(list(view.steps), list(view.accuracy))
        self.show_markers(self.curve, len(view.steps))
        right = max(view.steps[-1], 1)
        self.chance_line.setValue(view.chance)
        self.chance_text.setText(f"chance = {view.chance:.2f}")
        self.chance_text.setPos(right, view.chance)
        self.set_ranges(self.plot, (0.0, right * 1.03), (0.0, 1.05))
        self.set_page_title(self.graphics, f"Held-out accuracy while training: {view.title}")

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [["step"]]


def render_accuracy_curve(curve: AccuracyCurve, stem: Path, size: tuple[int, int] = (900, 600)) -> list[Path]:
    """Write ``stem``.png/.svg/.csv of ``curve`` off screen (the CLI's plot); the panel is disposed after."""
    from rnnviz.ui.render import _dispose, _lay_out, ensure_application

    app = ensure_application()
    panel = WindowAccuracyPanel()
    try:
        panel.show_view(curve)
        _lay_out(panel, size)
        app.processEvents()
        stem.parent.mkdir(parents=True, exist_ok=True)
        return [panel.export_png(stem.with_suffix(".png")), panel.export_svg(stem.with_suffix(".svg")),
                panel.to_csv(stem.with_suffix(".csv"))]
    finally:
        _dispose(app, [panel])


# ----------------------------------------------------------------------------- the page


def _spin(name: str, low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class WindowMemoryPage(QWidget):
    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("window_memory_page")
        self.jobs = window.jobs
        self.messages = window.messages
        config = window.controller.config
        self.sweep: LagSweep | None = None
        self.job: Job | None = None
        self.lag_panel = LagAccuracyPanel()
        self.size_panel = StateSizePanel()
        for panel in (self.lag_panel, self.size_panel):
            panel.setMinimumSize(300, 260)
        self._build_controls(config.cell if config.cell in cell_names() else DEFAULTS.cell)
        for box in (self.lag_from, self.lag_to, self.steps_box):
            box.valueChanged.connect(self._preview)
        self.update_sizes()

    def _build_controls(self, cell: str) -> None:
        self.window_box = _spin("window_k", 1, MAX_WINDOW, DEFAULTS.window,
                                "k: how many of the last inputs the n-gram and the time-delay network see")
        self.lag_from = _spin("lag_from", 0, MAX_SWEEP_LAG, DEFAULTS.lags[0], "the smallest lag measured")
        self.lag_to = _spin("lag_to", 0, MAX_SWEEP_LAG, DEFAULTS.lags[-1], "the largest lag measured")
        self.cell_box = QComboBox()
        self.cell_box.setObjectName("window_cell")
        self.cell_box.addItems(list(cell_names()))
        self.cell_box.setCurrentText(cell)
        self.cell_box.setToolTip("the recurrent network compared with the window models")
        self.hidden_box = _spin("window_hidden", 2, 256, DEFAULTS.hidden_size,
                                "hidden units of the RNN and of the time-delay network")
        self.steps_box = _spin("window_steps", 10, 5000, DEFAULTS.steps,
                               "training batches per model and lag (the n-gram counts as many sequences)")
        self.steps_box.setSingleStep(50)
        for box in (self.window_box, self.cell_box, self.hidden_box):
            signal = box.currentTextChanged if isinstance(box, QComboBox) else box.valueChanged
            signal.connect(self.update_sizes)
        self.lag_from.valueChanged.connect(lambda v: self.lag_to.setValue(max(v, self.lag_to.value())))
        self.lag_to.valueChanged.connect(lambda v: self.lag_from.setValue(min(v, self.lag_from.value())))
        self.run_button = QPushButton("Run the sweep")
        self.run_button.setObjectName("window_run")
        self.run_button.setToolTip("Train every model at every lag in the background and measure held-out accuracy")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("window_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("window_progress")
        self.progress.setFormat("%v of %m models")
        self.progress.setMaximumWidth(200)
        self.status = QLabel("The window models see only the last k inputs; the RNN carries what it needs in its "
                             "hidden state. Run the sweep to train all three at every lag.")
        self.status.setObjectName("window_status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        settings = QHBoxLayout()
        settings.setContentsMargins(6, 4, 6, 0)
        for text, widget in (("Window k", self.window_box), ("Lags", self.lag_from), ("to", self.lag_to),
                             ("RNN cell", self.cell_box), ("Hidden", self.hidden_box), ("Steps", self.steps_box)):
            label = QLabel(text)
            label.setBuddy(widget)
            settings.addWidget(label)
            settings.addWidget(widget)
            settings.addSpacing(6)
        settings.addWidget(self.run_button)
        settings.addWidget(self.cancel_button)
        settings.addWidget(self.progress)
        settings.addStretch(1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.lag_panel)
        self.splitter.addWidget(self.size_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(settings)
        status_row = QHBoxLayout()
        status_row.setContentsMargins(8, 0, 8, 0)
        status_row.addWidget(self.status)
        layout.addLayout(status_row)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ settings

    def config(self) -> SweepConfig:
        lags = tuple(range(self.lag_from.value(), self.lag_to.value() + 1))
        return SweepConfig(window=self.window_box.value(), lags=lags, cell=self.cell_box.currentText(),
                           hidden_size=self.hidden_box.value(), steps=self.steps_box.value(),
                           seq_len=max(DEFAULTS.seq_len, lags[-1] + 16), seed=DEFAULTS.seed)

    def update_sizes(self) -> None:
        """The size plot follows the settings at once (counting is cheap)."""
        self.size_panel.show_view(state_sizes(DEFAULTS.vocab, SIZE_WINDOWS, self.cell_box.currentText(),
                                              self.hidden_box.value(), self.window_box.value()))
        if self.sweep is None:
            self._preview()
        elif self.sweep.config.window != self.window_box.value() and not self.running:
            self.status.setText(f"The accuracies are for window k = {self.sweep.config.window}; run the sweep again "
                                f"for k = {self.window_box.value()}.")

    def _preview(self) -> None:
        """Before the first sweep: the axes, window edge and chance line of the settings, no curves yet."""
        if self.sweep is None:
            preview = empty_sweep(self.config())
            self.lag_panel.show_view(preview)
            self.progress.setRange(0, preview.planned)
            self.progress.setValue(0)

    # ------------------------------------------------------------------ the sweep

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.finished

    def run(self) -> None:
        if self.running:
            return
        config = self.config()
        try:
            check_ngram_memory(config.window, config.vocab, config.vocab)
        except MemoryBudgetError as exc:
            self.messages.warn("The n-gram does not fit", exc.message({"window": "the window k"}))
            return
        self.sweep = empty_sweep(config)
        self.lag_panel.show_view(self.sweep)
        job = self.jobs.start(SWEEP, measure_lag_sweep, config, process=True)
        job.progress.connect(self._show_sweep)
        job.done.connect(self._done)
        job.failed.connect(lambda text: self._idle(f"The sweep failed: {text}"))
        job.cancelled.connect(lambda: self._idle("Cancelled; the results so far are kept."))
        self.job = job
        self.progress.setRange(0, self.sweep.planned)
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Training the n-gram, the time-delay net and the {config.cell.upper()} at lags "
                            f"{config.lags[0]}–{config.lags[-1]}, {config.steps} steps each…")

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def _show_sweep(self, sweep: LagSweep) -> None:
        if self.job is None or self.job.cancel_requested:
            return
        self.sweep = sweep
        self.progress.setValue(sweep.measured)
        self.lag_panel.show_view(sweep)

    def _done(self, sweep: LagSweep) -> None:
        self._show_sweep(sweep)
        beyond = [k for k, lag in enumerate(sweep.lags) if lag >= sweep.config.window]
        summary = ""
        if beyond:
            mean = {m: sum(sweep.accuracy[m][k] for k in beyond) / len(beyond) for m in MODELS}
            summary = (f" Beyond the window (lag ≥ {sweep.config.window}) the mean accuracy is n-gram "
                       f"{mean['ngram']:.2f}, time-delay net {mean['window_mlp']:.2f}, "
                       f"{cell_spec(sweep.config.cell).title} {mean['rnn']:.2f} "
                       f"(chance {sweep.chance:.2f}).")
        self._idle(f"Measured {sweep.measured} models.{summary}")

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        self.cancel()
