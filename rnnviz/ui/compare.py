"""Compare cell kinds trained side by side on the same task, seed and data: any set of the registered
cells, chosen in a checkable list (at first ``comparison_cells()``: RNN, LSTM and GRU).

The comparison (rnnviz.session.compare: one session per cell, fed the same batches) trains in a process
of its own (``rnnviz.session.work.run_comparison``), so it shares no GIL with the window; Play/Pause are
messages to it, and its newest curves come back (latest wins) and are drawn a few times a second.
Choosing other cells starts a new comparison from step 0 with them (so that every cell has seen the same
batches); a cell the settings do not fit (an initialisation it cannot take) is greyed out with the
reason. One colour per cell (eight distinct ones), named in one key under the plots, outside the data;
curves that coincide stay visible (each cell's line is thinner than the one before and drawn above it,
its gradient markers have their own shape). Numbers read the same on both axes ("1e-4", never "0.0001"
beside "10⁻⁵"), in the theme's colours. "Export…" writes PNG, SVG or CSV like the panels do.
Closing the window stops the process.

    [cells ☑]   loss per training step                  gradient norm per timestep (log)
                ━ RNN (tanh)  ━ LSTM  ━ GRU  (the key)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.engine.cells import cell_spec, cell_specs, comparison_cells
from rnnviz.session.compare import cell_problem
from rnnviz.session.config import SessionConfig
from rnnviz.session.work import ComparePlay, run_comparison
from rnnviz.ui import export
from rnnviz.ui import theme as theming
from rnnviz.ui.jobs import Job, JobRunner
from rnnviz.ui.panels.exporting import AskPath, Rows, ask_save_path, export_with_dialog
from rnnviz.ui.panels.gradients import decade_ticks, log_range

REDRAW_MS = 150
PLAY_TEXT = "▶ Train side by side"
LIST_WIDTH = 190  # px, the list of cells beside the plots
NOTE = ("Solid: training loss; dashed with squares: held-out loss (every few steps). Right: how strongly the "
        "loss reaches back to each timestep of the same held-out sequence.")
NO_HELDOUT = " No held-out loss is recorded yet."
LINE_WIDTHS = (4, 3, 2, 1)  # px, by cell (repeating): a later cell's line is thinner and drawn above
SYMBOLS = ("o", "s", "t", "d", "+", "x", "star", "p")  # gradient markers, by cell


def compact_number(value: float) -> str:
    """One format for every number of the window: "0.25", "12", "1e-4", "2.5e-5", "3e+6" → "3e6"."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


class CompactAxis(pg.AxisItem):
    """A linear axis whose tick labels use ``compact_number`` (the log axis uses decade ticks: "1e-4")."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        return [compact_number(v * scale) for v in values]


def window_title(cells: tuple[str, ...]) -> str:
    titles = [cell_spec(cell).title for cell in cells]
    if len(titles) == 1:
        return f"Train {titles[0]}"
    return f"Compare {', '.join(titles[:-1])} and {titles[-1]} — same task, seed and data"


def gradient_label(cells: tuple[str, ...]) -> tuple[str, str]:
    """(axis label, note): ||dL/dh_t||, or ||dL/dc_t|| for the cells whose memory is their cell state
    (CellSpec.memory_state); the note names those cells when the choice mixes both."""
    in_c = [cell_spec(cell).title for cell in cells if cell_spec(cell).memory_state == "c"]
    if not in_c:
        return "||dL/dh_t||", ""
    if len(in_c) == len(cells):
        return "||dL/dc_t||", ""
    return "||dL/dh_t|| or ||dL/dc_t||", f" ||dL/dc_t|| for {', '.join(in_c)}: their memory is their state c."


class CompareWindow(QWidget):
    """A top-level window: the cells to compare, Play/Pause, and overlaid loss and gradient-norm curves."""

    closed = Signal()

    def __init__(self, base_config: SessionConfig, parent: QWidget | None = None,
                 jobs: JobRunner | None = None, cells: tuple[str, ...] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_window")
        self.resize(1280, 600)
        self.base_config = base_config
        self.theme = theming.current_theme()
        self.problems = {spec.name: cell_problem(base_config, spec.name) for spec in cell_specs()}
        wanted = comparison_cells() if cells is None else tuple(cells)
        self.cells = tuple(cell for cell in wanted if self.problems.get(cell) is None)
        self.curves_shown: Any = None
        self._latest: Any = None
        self.error: str | None = None
        self.running = False
        self.lines: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.jobs = jobs or JobRunner(self)
        self.job: Job | None = None
        self.ask_save_path: AskPath = ask_save_path  # replaceable (tests)
        self._build()
        self.start(self.cells)
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self.play_button = QPushButton(PLAY_TEXT)
        self.play_button.setObjectName("compare_play")
        self.play_button.clicked.connect(self.toggle)
        self.status = QLabel("Paused")
        self.status.setObjectName("compare_status")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("compare_export")
        self.export_button.setToolTip("Save the plots as PNG or SVG, or their data as CSV")
        export_menu = QMenu(self.export_button)
        for kind in ("PNG", "SVG", "CSV"):
            export_menu.addAction(f"Export {kind}…", lambda k=kind: self.export_with_dialog(k))
        self.export_button.setMenu(export_menu)
        top = QHBoxLayout()
        top.addWidget(self.play_button)
        top.addWidget(self.status, 1)
        top.addWidget(self.export_button)
        self.note = QLabel(NOTE)
        self.note.setObjectName("compare_note")
        self.note.setWordWrap(True)
        self._build_list()
        self._build_plots(self.theme)
        middle = QHBoxLayout()
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Cells</b> (a new choice starts again)"))
        side.addWidget(self.cell_list, 1)
        middle.addLayout(side)
        middle.addWidget(self.graphics, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(self.note)

    def _build_list(self) -> None:
        """Every registered cell, checked when compared; greyed out with the reason when it cannot be."""
        self.cell_list = QListWidget()
        self.cell_list.setObjectName("compare_cells")
        self.cell_list.setFixedWidth(LIST_WIDTH)
        for spec in cell_specs():
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            problem = self.problems[spec.name]
            flags = Qt.ItemFlag.ItemIsUserCheckable
            if problem is None:
                flags |= Qt.ItemFlag.ItemIsEnabled
                item.setToolTip(spec.notes or spec.noun)
            else:
                item.setToolTip(f"Not with these settings: {problem}")
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Checked if spec.name in self.cells else Qt.CheckState.Unchecked)
            self.cell_list.addItem(item)
        self.cell_list.itemChanged.connect(lambda _item: self._choice_changed())

    def _build_plots(self, theme: theming.Theme) -> None:
        """Loss per training step and gradient norm per timestep, one colour per cell kind; the key below."""
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.background)
        self.loss_plot = self.graphics.addPlot(row=0, col=0, axisItems={
            "left": CompactAxis("left"), "bottom": CompactAxis("bottom")})
        self.grad_plot = self.graphics.addPlot(row=0, col=1, axisItems={"bottom": CompactAxis("bottom")})
        self.grad_plot.setLogMode(y=True)
        self.key = self.graphics.addLabel("", row=1, col=0, colspan=2)
        self._grad_range: tuple[float, float] | None = None
        for plot, title, labels in ((self.loss_plot, "loss", {"bottom": "training step", "left": "loss"}),
                                    (self.grad_plot, "gradient norm per timestep (log)", {"bottom": "timestep"})):
            plot.setTitle(title, color=theme.foreground, size="12pt")
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.enableAutoSIPrefix(False)
                axis.setPen(theme.foreground)
                axis.setTextPen(theme.foreground)
            for side, text in labels.items():
                plot.setLabel(side, text, color=theme.foreground)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
        self.graphics.ci.layout.setColumnStretchFactor(0, 1)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)

    def _build_lines(self) -> None:
        """One set of curves per compared cell, in the list's order (after a new choice)."""
        for lines in self.lines.values():
            for kind, line in lines.items():
                (self.grad_plot if kind == "grad" else self.loss_plot).removeItem(line)
        self.lines = {}
        theme = self.theme
        for index, cell in enumerate(self.cells):
            colour, width = theme.pen(index), LINE_WIDTHS[index % len(LINE_WIDTHS)]
            symbol = SYMBOLS[index % len(SYMBOLS)]
            lines = {
                "loss": self.loss_plot.plot(pen=pg.mkPen(colour, width=width)),
                "heldout": self.loss_plot.plot(pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                                               symbol="s", symbolSize=6, symbolBrush=colour, symbolPen=None),
                "grad": self.grad_plot.plot(pen=pg.mkPen(colour, width=width), symbol=symbol, symbolSize=7,
                                            symbolBrush=colour, symbolPen=pg.mkPen(colour)),
            }
            for kind, line in lines.items():  # later cells above; held-out above every training curve
                line.setZValue(index + (100 if kind == "heldout" else 0))
            self.lines[cell] = lines
        entries = [f"<span style='color:{theme.pen(i)}'>━</span>&nbsp;{cell_spec(c).title}"
                   for i, c in enumerate(self.cells)]
        self.key.setText("&nbsp;&nbsp;&nbsp;".join(entries) or "no cell chosen", color=theme.foreground,
                         size="11pt")
        label, note = gradient_label(self.cells)
        self.grad_plot.setLabel("left", label, color=theme.foreground)
        self.note.setText(NOTE + note)
        self.setWindowTitle(window_title(self.cells) if self.cells else "Compare cells")

    def legend_entries(self) -> list[tuple[str, str]]:
        """(cell title, colour) of the key, in order."""
        return [(cell_spec(cell).title, self.lines[cell]["loss"].opts["pen"].color().name()) for cell in self.cells]

    # ------------------------------------------------------------------ the comparison

    def chosen_cells(self) -> tuple[str, ...]:
        """The checked cells, in the list's (the registry's) order."""
        items = (self.cell_list.item(row) for row in range(self.cell_list.count()))
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in items
                     if item.checkState() == Qt.CheckState.Checked)

    def set_cells(self, cells: tuple[str, ...]) -> None:
        """Check exactly ``cells`` in the list (as a person would), which starts the comparison again."""
        self.cell_list.blockSignals(True)
        for row in range(self.cell_list.count()):
            item = self.cell_list.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in cells
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.cell_list.blockSignals(False)
        self._choice_changed()

    def _choice_changed(self) -> None:
        cells = self.chosen_cells()
        if cells != self.cells:
            self.start(cells)

    def start(self, cells: tuple[str, ...]) -> None:
        """A new comparison of ``cells`` from step 0 (the one running is stopped); playing if it was."""
        if self.job is not None:
            self.job.cancel()
        self.cells, self.curves_shown, self._latest, self.error = tuple(cells), None, None, None
        self._build_lines()
        self.job = None
        if not self.cells:
            self.status.setText("Choose at least one cell")
            return
        job = self.jobs.start("comparison", run_comparison, self.base_config, self.cells, process=True)
        job.progress.connect(self._curves_arrived)
        job.failed.connect(self._failed)
        self.job = job
        if self.running:
            job.send(ComparePlay(True))
        self.status.setText("Training…" if self.running else "Paused")

    def toggle(self) -> None:
        self.running = not self.running
        if self.job is not None:
            self.job.send(ComparePlay(self.running))
        self.play_button.setText("‖ Pause" if self.running else PLAY_TEXT)
        self.status.setText("Training…" if self.running else "Paused")

    def _curves_arrived(self, curves: Any) -> None:
        if set(curves) == set(self.cells):  # not a comparison that was replaced
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
        self._grad_ticks(curves)
        recorded = any(len(curve.heldout_steps) for curve in curves.values())
        label, note = gradient_label(self.cells)
        self.note.setText(NOTE + note + ("" if recorded else NO_HELDOUT))
        if self.running and self.error is None:
            self.status.setText(f"Training… step {self.step_count:,}")

    def _grad_ticks(self, curves: Any) -> None:
        """Decade ticks ("1e-4") over the gradient norms' range, set when the range changes."""
        norms = np.concatenate([np.asarray(c.grad_norm_per_step, dtype=float) for c in curves.values()] or [[]])
        low, high = log_range(norms)
        if (low, high) != self._grad_range:
            self._grad_range = (low, high)
            self.grad_plot.getAxis("left").setTicks(decade_ticks(low, high))
            self.grad_plot.setYRange(low, high, padding=0.02)

    # ------------------------------------------------------------------ exporting

    def csv_rows(self) -> Rows:
        """cell, series (train loss, held-out loss, gradient norm), x (step or timestep), value."""
        rows: Rows = [["cell", "series", "x", "value"]]
        for cell, curve in (self.curves_shown or {}).items():
            series = (("train_loss", curve.steps, curve.loss),
                      ("heldout_loss", curve.heldout_steps, curve.heldout_loss),
                      ("grad_norm", np.arange(len(curve.grad_norm_per_step)), curve.grad_norm_per_step))
            for name, xs, values in series:
                rows.extend([cell, name, int(x), float(v)] for x, v in zip(xs, values))
        return rows

    def export_png(self, path) -> Any:
        return export.export_png(self.graphics, path)

    def export_svg(self, path) -> Any:
        return export.export_svg(self.graphics, path)

    def to_csv(self, path) -> Any:
        return export.write_csv(self.csv_rows(), path)

    def export_with_dialog(self, kind: str) -> Any:
        """Ask for a file name and export as ``kind`` ("PNG", "SVG" or "CSV"); None if cancelled."""
        return export_with_dialog(self, self.ask_save_path, "the comparison", "compare", kind,
                                  {"PNG": self.export_png, "SVG": self.export_svg, "CSV": self.to_csv})

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Stop the comparison's process (cancelled now; terminated if it has not stopped in a second)."""
        self.timer.stop()
        if self.job is not None:
            self.job.cancel()
        self.closed.emit()
        super().closeEvent(event)
