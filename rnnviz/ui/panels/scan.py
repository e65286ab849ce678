"""The parallel scan beside the sequential loop.

Left: the scan tree of ``rnnviz.engine.scan.parallel_scan`` on a short sequence: one row per level,
the steps as columns; a line from step s on one row to step t on the next means t takes in what s
holds, (a_t, b_t) ∘ (a_s, b_s); each position that changed is labelled with the steps it then covers
(up-sweep and down-sweep in two colours, unchanged positions carried down in grey). Right: the time of
the loop and of the scan against the sequence length, on log axes, as the background measurement fills
it in. Under both: the scan against the loop on this network in float64, and why a tanh RNN, an LSTM or
a GRU cannot be scanned. The title says whether the cell can.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsTextItem, QSizePolicy

from rnnviz.session.views.scan import ScanTreeView, ScanView
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.gradients import decade_ticks
from rnnviz.ui.theme import Theme

PHASE_PENS = {"up": 0, "down": 1}  # theme pen index per phase
NODE_SIZE = 9
MIN_TEXT_WIDTH = 120.0


class TextBlock(pg.GraphicsWidget):
    """Rich text that wraps to the width the layout gives it (a LabelItem keeps one line per line)."""

    def __init__(self) -> None:
        super().__init__()
        self.text_item = QGraphicsTextItem(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.html = ""
        self._width = 0.0

    def set_html(self, html: str, colour: str, size: str) -> None:
        font = QFont()
        font.setPointSizeF(float(size.rstrip("pt")))
        self.text_item.setFont(font)
        self.text_item.setDefaultTextColor(QColor(colour))
        if html != self.html:
            self.html = html
            self.text_item.setHtml(html)
        self._fit(force=True)

    @property
    def plain_text(self) -> str:
        return self.text_item.toPlainText()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self, force: bool = False) -> None:
        """Wrap at the current width and ask the layout for the height the wrapped text needs."""
        width = max(float(self.size().width()), MIN_TEXT_WIDTH)
        if not force and abs(width - self._width) < 0.5:
            return
        self._width = width
        self.text_item.setTextWidth(width)
        height = float(self.text_item.document().size().height())
        if abs(self.minimumHeight() - height) > 0.5:
            self.setMinimumHeight(height)
            self.setPreferredHeight(height)
            self.updateGeometry()


class ScanPanel(Panel):
    name = "scan"
    title = "Parallel scan"

    def build(self) -> None:
        page = self.graphics
        self.tree_plot = self.add_plot(page, 1, 0, {"bottom": "step t", "title": "the scan tree"},
                                       index_axes=("left", "bottom"))
        self.tree_plot.invertY(True)
        self.tree_plot.getViewBox().setMouseEnabled(False, False)
        self.carry_lines = self.tree_plot.plot(connect="pairs")
        self.edges = {phase: self.tree_plot.plot(connect="pairs") for phase in PHASE_PENS}
        self.nodes = pg.ScatterPlotItem(size=NODE_SIZE)
        self.tree_plot.addItem(self.nodes)
        self.span_labels: list[pg.TextItem] = []
        self.time_plot = self.add_plot(page, 1, 1, {"left": "seconds", "bottom": "sequence length T",
                                                   "title": "time against sequence length"})
        self.time_plot.setLogMode(x=True, y=True)
        self.time_plot.showGrid(x=True, y=True, alpha=0.25)
        self.loop_curve = self.time_plot.plot(symbol="o", symbolSize=6)
        self.scan_curve = self.time_plot.plot(symbol="s", symbolSize=6)
        self.time_note = pg.TextItem(anchor=(0.5, 0.5))
        self.time_plot.addItem(self.time_note, ignoreBounds=True)
        self.tree_key = self.add_key(page, 2, 0)
        self.time_key = self.add_key(page, 2, 1)
        self.text = TextBlock()
        page.ci.addItem(self.text, row=3, col=0, colspan=2)
        page.ci.layout.setColumnStretchFactor(0, 1)
        page.ci.layout.setColumnStretchFactor(1, 1)
        page.ci.layout.setRowStretchFactor(1, 1)
        self._tree: ScanTreeView | None = None
        self._time_range: tuple | None = None

    def restyle(self, theme: Theme) -> None:
        self.carry_lines.setPen(pg.mkPen(theme.muted, width=1, style=pg.QtCore.Qt.PenStyle.DotLine))
        for phase, edge in self.edges.items():
            edge.setPen(self.pen(PHASE_PENS[phase]))
        for curve, index in ((self.loop_curve, 0), (self.scan_curve, 1)):
            curve.setPen(self.pen(index))
            curve.setSymbolPen(self.pen(index))
            curve.setSymbolBrush(theme.pen(index))
        self.time_note.setColor(theme.foreground)
        self.set_key(self.tree_key, [(PHASE_PENS["up"], "●", "up-sweep"), (PHASE_PENS["down"], "●", "down-sweep"),
                                     (theme.muted, "●", "carried")])
        self.set_key(self.time_key, [(0, "━", "loop"), (1, "━", "scan")])
        if self.view is not None:
            self._tree = None  # node colours and labels follow the theme
            self.show_view(self.view)

    @property
    def data(self) -> ScanView | None:
        return self.view

    def draw(self, view: ScanView) -> None:
        if view.tree != self._tree:
            self._draw_tree(view.tree)
        self._draw_timing(view)
        self.text.set_html(explanation_html(view, self.theme), self.theme.foreground, f"{self.theme.tick_size}pt")
        self.set_page_title(self.graphics, title_text(view))

    # ------------------------------------------------------------------ the tree

    def _draw_tree(self, tree: ScanTreeView) -> None:
        self._tree = tree
        theme = self.theme
        carry_x, carry_y, edge_xy = [], [], {phase: ([], []) for phase in PHASE_PENS}
        spots = [{"pos": (t, 0), "brush": pg.mkBrush(theme.muted), "pen": pg.mkPen(theme.muted)}
                 for t in range(tree.steps)]
        for label in self.span_labels:
            self.tree_plot.removeItem(label)
        self.span_labels = []
        for level, (phase, pairs) in enumerate(zip(tree.phases, tree.pairs), start=1):
            targets = {target for _, target in pairs}
            xs, ys = edge_xy[phase]
            for source, target in pairs:
                xs += [source, target]
                ys += [level - 1, level]
            colour = theme.pen(PHASE_PENS[phase])
            for t in range(tree.steps):
                carry_x += [t, t]
                carry_y += [level - 1, level]
                changed = t in targets
                spots.append({"pos": (t, level), "brush": pg.mkBrush(colour if changed else theme.muted),
                              "pen": pg.mkPen(colour if changed else theme.muted)})
                if changed:
                    self._label_span(t, level, tree.spans[level][t], colour)
        self.carry_lines.setData(np.array(carry_x, dtype=float), np.array(carry_y, dtype=float))
        for phase, (xs, ys) in edge_xy.items():
            self.edges[phase].setData(np.array(xs, dtype=float), np.array(ys, dtype=float))
        self.nodes.setData(spots)
        left = self.tree_plot.getAxis("left")
        left.set_labels(("steps",) + tuple(f"{phase} {d}" for phase, d in zip(tree.phases, level_offsets(tree))))
        self.set_axis_label(self.tree_plot, "left", "level (offset d)")
        self.tree_plot.getAxis("bottom").set_labels(tuple(str(t) for t in range(tree.steps)))  # no tick past the last
        self.set_ranges(self.tree_plot, (-0.6, tree.steps + 0.1), (-0.5, tree.levels + 0.6))

    def _label_span(self, t: int, level: int, span: tuple[int, int], colour: str) -> None:
        first, last = span
        label = pg.TextItem(f"{first}–{last}" if first != last else str(first), color=colour, anchor=(-0.08, 0.9))
        font = QFont()
        font.setPointSize(max(self.theme.tick_size - 1, 7))
        label.setFont(font)
        label.setPos(t, level)
        self.tree_plot.addItem(label, ignoreBounds=True)
        self.span_labels.append(label)

    # ------------------------------------------------------------------ the times

    def _draw_timing(self, view: ScanView) -> None:
        timing = view.timing
        if timing is None or not timing.lengths:
            self.loop_curve.setData([], [])
            self.scan_curve.setData([], [])
            idle = "not measured yet:\npress “Measure loop\nand scan times”"
            note = "measuring…" if timing is not None else idle
            planned = (16, 4096) if timing is None else (min(timing.planned), max(timing.planned))
            self._time_ranges(planned, (1e-5, 1e-1))
            self.time_note.setText(note)
            self.time_note.setPos(np.log10(np.sqrt(planned[0] * planned[1])), -3.0)
            return
        self.time_note.setText("")
        self.set_axis_label(self.time_plot, "left", f"seconds (best of {timing.repeats})")
        lengths = np.array(timing.lengths, dtype=float)
        loop, scan = np.array(timing.loop_seconds), np.array(timing.scan_seconds)
        self.loop_curve.setData(lengths, loop)
        self.scan_curve.setData(lengths, scan)
        both = np.concatenate([loop, scan])
        self._time_ranges((min(timing.planned), max(timing.planned)), (both.min(), both.max()))

    def _time_ranges(self, lengths: tuple[float, float], seconds: tuple[float, float]) -> None:
        """Log axes fixed to the planned lengths and to whole decades around the times (stable while
        they come in)."""
        x = (np.log2(lengths[0]) - 0.4, np.log2(lengths[1]) + 0.6)  # room for the last label
        y = (np.floor(np.log10(max(seconds[0], 1e-9))), np.ceil(np.log10(max(seconds[1], 1e-9))))
        if y[1] - y[0] < 1:
            y = (y[0], y[0] + 1)
        key = (x, y)
        if key != self._time_range:
            self._time_range = key
            self.time_plot.setRange(xRange=(x[0] * np.log10(2), x[1] * np.log10(2)), yRange=y, padding=0)
            self.time_plot.getAxis("bottom").setTicks(length_ticks(lengths))
            self.time_plot.getAxis("left").setTicks(decade_ticks(*y))

    def csv_rows(self) -> Rows:
        header = ["kind", "level", "phase", "source", "target", "T", "loop_seconds", "scan_seconds",
                  "max_abs_difference"]
        rows: Rows = [header]
        view = self.data
        if view is None:
            return rows
        blank = [""] * len(header)
        for level, (phase, pairs) in enumerate(zip(view.tree.phases, view.tree.pairs), start=1):
            for source, target in pairs:
                rows.append(["combine", level, phase, source, target, *blank[5:]])
        if view.timing is not None:
            for steps, loop, scan in zip(view.timing.lengths, view.timing.loop_seconds, view.timing.scan_seconds):
                rows.append(["time", *blank[1:5], steps, loop, scan, ""])
        if view.difference is not None:
            rows.append(["difference_states", *blank[1:8], view.difference.states])
            rows.append(["difference_gradients", *blank[1:8], view.difference.gradients])
        return rows


def length_ticks(lengths: tuple[float, float]) -> list[list[tuple[float, str]]]:
    """Ticks at the powers of two between the lengths (positions are log10 T on the log axis): every
    second one labelled, so that "1024 2048 4096" never run into each other."""
    powers = range(int(np.log2(lengths[0])), int(np.log2(lengths[1])) + 1)
    major = [(k * np.log10(2), str(2 ** k)) for k in powers[::2]]
    minor = [(k * np.log10(2), "") for k in powers[1::2]]
    return [major, minor]


def level_offsets(tree: ScanTreeView) -> tuple[int, ...]:
    """Per level the offset d = target − source of its combinations."""
    return tuple(pairs[0][1] - pairs[0][0] for pairs in tree.pairs)


def title_text(view: ScanView) -> str:
    if not view.scannable:
        return f"Parallel scan: {view.title} cannot be scanned"
    return f"Parallel scan: {view.title}, T = {view.tree.steps} in {view.tree.levels} levels"


def explanation_html(view: ScanView, theme: Theme) -> str:
    """The paragraphs under the plots: this cell, the difference on its network, why the others cannot."""
    good, bad = theme.pen(2), theme.pen(1)
    if view.scannable and view.difference is not None:
        difference = view.difference
        verdict = (f"<span style='color:{good}'>✓ equal to {view.agreement:.0e}</span>" if view.agrees else
                   f"<span style='color:{bad}'>✗ more than {view.agreement:.0e}</span>")
        cell = (f"<b>{view.title}</b>: {view.recurrence} is linear in the state. On this network's view batch in "
                f"float64, max |scan − loop| = {difference.states:.1e} over every state "
                f"(largest {difference.largest_state:.2g}) and {difference.gradients:.1e} over every gradient "
                f"(largest {difference.largest_gradient:.2g}): {verdict}.")
    else:
        cell = (f"<b>{view.title}</b>: h_(t−1) enters a nonlinearity, {view.nonlinear}. Cells that can be "
                f"scanned: {', '.join(view.scannable_cells)}; the times show what a linear recurrence gains.")
    timing = ""
    if view.timing is not None:
        timing = f"<br>Timed: {view.timing.what}."
    return f"{cell}{timing}<br>{view.why_it_scans}<br>{view.why_not}"
