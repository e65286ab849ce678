"""The selected cell's equations, as in the PyTorch docs, with the real numbers at the selected timestep.

Each gate's line is written twice: the equation, then its four terms evaluated (W x_t, b, W h_(t-1),
b), the pre-activation and the activation. With at most ``FULL_VECTORS`` hidden units whole vectors are
shown; above that, one unit's row (chosen with the unit box). Next to the text a small heatmap shows
every vector the step reads and writes (units across), so the numbers have a picture.

Everything printed comes from an EquationsView (rnnviz.session.views.step_through): the terms are
the session's split of the stepper's pre-activation of the selected layer and direction, the
pre-activations and activations the stepper's own; this panel only lays them out.
"""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QGraphicsTextItem, QLabel, QScrollArea, QSpinBox

from rnnviz.engine.cells import DEFAULT_CELL, cell_spec
from rnnviz.session.views.step_through import TERMS, EquationsView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.theme import Theme

FULL_VECTORS = 8  # show whole vectors up to this many hidden units


def sub(text: str) -> str:
    return f"<sub>{text}</sub>"


def equation_html(text: str) -> str:
    """A spec's plain-text equation as rich text: ``x_t`` and ``h_(t-1)`` become subscripts, minus
    signs real minus signs."""
    text = re.sub(r"_\(([^)]*)\)", lambda m: sub(m.group(1).replace("-", "−")), text)
    text = re.sub(r"_([A-Za-z0-9]+)", lambda m: sub(m.group(1)), text)
    return text.replace(" - ", " − ")


def read_by(text: str, reverse: bool) -> str:
    """An equation as the reverse direction reads it: its step reads the state of t+1, not t-1."""
    return text.replace("(t-1)", "(t+1)") if reverse else text


def previous(reverse: bool) -> str:
    """The timestep whose state a step reads: t−1, or t+1 in the reverse direction."""
    return "t+1" if reverse else "t−1"


X_T, H_T, C_T = "x" + sub("t"), "h" + sub("t"), "c" + sub("t")


def number(value: float) -> str:
    """A signed number in 4 significant digits with a real minus sign."""
    text = f"{value:.3g}" if value != 0 else "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}·10<sup>{int(exponent)}</sup>"
    return text.replace("-", "−")


def signed_sum(values: list[float]) -> str:
    """a + b − c with the signs folded in: "0.1 − 0.2 + 0.3"."""
    text = number(values[0])
    for value in values[1:]:
        text += (" − " if value < 0 else " + ") + number(abs(value))
    return text


def vector(values: np.ndarray, unit: int | None, limit: int = 10) -> str:
    """[v0 v1 …] for whole vectors, or the one entry ``unit`` when ``unit`` is given."""
    if unit is not None:
        return number(float(values[unit]))
    shown = " ".join(number(float(v)) for v in values[:limit])
    return "[" + shown + (" …" if len(values) > limit else "") + "]"


def gate_line(mode: str, gate: str, reverse: bool = False) -> str:
    """The gate's equation as in the PyTorch docs (a vanilla RNN: the whole cell), as rich text."""
    return equation_html(read_by(cell_spec(mode).gate(gate).equation, reverse))


VECTORS_HEIGHT = 150  # px of the heatmap under the text (before its rows are known)
VECTOR_ROW_HEIGHT = 17  # px per vector of the heatmap: one tick label each, none touching
VECTORS_FRAME = 64  # px of the heatmap's title and unit axis


class HtmlText(pg.GraphicsWidget):
    """Rich text (sub/superscripts, tables) that wraps to a width, as an item of a plot page."""

    def __init__(self) -> None:
        super().__init__()
        self.item = QGraphicsTextItem(self)
        self.item.setPos(8, 0)
        self.html = ""
        self._shown: tuple[str, float] | None = None

    def fit(self, width: float) -> float:
        """Lay the text out ``width`` px wide; returns its height."""
        if self._shown != (self.html, width):
            self._shown = (self.html, width)
            self.item.setTextWidth(max(width - 24, 120))
            self.item.setHtml(self.html)
        height = self.item.boundingRect().height()
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self.setPreferredHeight(height)
        return height


class EquationsPanel(Panel):
    name = "equations"
    title = "Equations with live numbers"

    def build(self) -> None:
        page = self.graphics
        self.text = HtmlText()  # inside the page, so that PNG/SVG exports carry the equations
        page.addItem(self.text, row=1, col=0)
        self.vectors = self.add_plot(page, 2, 0, {"bottom": "unit", "title": "the vectors at t, by unit"})
        self.vectors.setFixedHeight(VECTORS_HEIGHT)
        self.vectors.invertY(True)
        # the page grows with the text and scrolls (the stack moves into a scroll area)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.layout().removeWidget(self.stack)
        self.scroll.setWidget(self.stack)
        self.layout().addWidget(self.scroll, 1)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.vectors.addItem(self.image)
        self.unit_label = QLabel("unit")
        self.unit_box = QSpinBox()
        self.unit_box.setObjectName("equation_unit")
        self.unit_box.setToolTip("Which hidden unit's numbers the equations spell out")
        self.unit_box.valueChanged.connect(lambda _v: self._redraw())
        self.controls.addStretch(1)
        self.controls.addWidget(self.unit_label)
        self.controls.addWidget(self.unit_box)
        self._rows_shown: list[tuple[str, np.ndarray]] = []
        self._shape: tuple | None = None

    def restyle(self, theme: Theme) -> None:
        self.image.setColorMap(colormaps.diverging(theme.diverging_map))
        self._redraw()

    # ------------------------------------------------------------------ inputs

    def draw(self, view: EquationsView) -> None:
        """Show ``view`` (not computed yet: its message instead of numbers)."""
        if view.t is not None:
            self.unit_box.setMaximum(max(view.units - 1, 0))
        self._redraw()

    @property
    def cell(self) -> EquationsView | None:
        """The step shown, when it has numbers."""
        view = self.view
        return view if view is not None and view.t is not None else None

    @property
    def mode(self) -> str:
        return DEFAULT_CELL if self.view is None else self.view.mode

    @property
    def unit(self) -> int:
        """The unit whose terms the equations spell out."""
        if self.cell is None:
            return 0
        return min(self.unit_box.value(), self.cell.units - 1)

    # ------------------------------------------------------------------ drawing

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        """Wrap the text to the visible width and make the page tall enough for all of it."""
        width = max(self.scroll.viewport().width(), 200)
        height = self.text.fit(width)
        self.stack.setMinimumHeight(int(height + self.vectors.maximumHeight() + 80))

    def _redraw(self) -> None:
        theme = self.theme
        if self.cell is None:
            message = "" if self.view is None else self.view.message
            self.text.html = f"<span style='font-size:15pt; color:{theme.muted}'>{message}</span>"
            self.set_page_title(self.graphics, "Equations")
            self.image.setVisible(False)
            self._rows_shown = []
            self._fit_text()
            return
        cell, unit = self.cell, self.unit
        self.text.html = f"<div style='font-size:12pt; color:{theme.foreground}'>{self._html(cell, unit)}</div>"
        self.image.setVisible(True)
        self._draw_vectors(cell)
        padding = (f"<br><span style='font-size:{theme.label_size}; font-weight:normal'>padding: the state is "
                   "carried over</span>") if cell.masked else ""
        self.set_page_title(self.graphics, f"{cell_spec(self.mode).title} cell at t = {cell.t}{padding}")
        self._fit_text()

    def _html(self, cell: EquationsView, unit: int) -> str:
        """Each equation, then its terms for ``unit``; with few units a table of every unit below."""
        accent = self.theme.pen(0)
        lines = []

        def row(symbol: str, numbers: str) -> None:
            lines.append(f"<p style='margin:6px 0 0 0'><b>{symbol}</b><br>"
                         f"<span style='color:{accent}'>&nbsp;&nbsp;&nbsp;{numbers}</span></p>")

        j = f"[{unit}]"
        h_read, c_read = "h" + sub(previous(cell.reverse)), "c" + sub(previous(cell.reverse))
        per_unit = per_unit_state(cell)
        lines.append(f"<p>{X_T} = {vector(cell.x, None, limit=6)}&nbsp;&nbsp; numbers for unit {unit}:"
                     f" {h_read}{j} = {number(cell.h_prev[unit])}"
                     + ("" if not per_unit else f", {c_read}{j} = {number(cell.c_prev[unit])}")
                     + "</p>")
        spec = cell_spec(self.mode)
        values = {name: number(float(v[unit])) for name, v in unit_values(cell).items()}
        for gate in spec.gates:
            terms = cell.terms.get(gate.name)  # None: not a sum of stacked terms (LRU, selective)
            act = gate.activation
            pre = number(cell.preact[gate.name][unit])
            if terms is None:
                numbers = f"= {act}({pre})" if act else ""
            else:
                parts = [float(terms[k][unit]) for k in TERMS if k in terms]
                if gate.hidden_scaled_by:  # e.g. GRU n: W_in x + b_in + r ⊙ (W_hn h + b_hn)
                    inner = f"{signed_sum(parts[:2])} + {values[gate.hidden_scaled_by]} · ({signed_sum(parts[2:])})"
                else:
                    inner = signed_sum(parts)
                numbers = f"= {act}({inner}) = {act}({pre})" if act else f"= {inner}"
            row(gate_line(self.mode, gate.name, cell.reverse) + f"&nbsp;&nbsp;<span style='color:{self.theme.muted}'>"
                f"({gate.word})</span>", f"{numbers} = <b>{values[gate.output]}</b>")
        for update in spec.updates:
            if not update.numbers:  # one unit's state is a vector (the selective layer's N numbers)
                row(equation_html(read_by(update.equation, cell.reverse)), "(a vector per unit: see the heatmap below)")
                continue
            row(equation_html(read_by(update.equation, cell.reverse)),
                f"= {update.numbers.format(**values)} = <b>{values[update.result]}</b>")
        if cell.masked:  # the sequence has ended: the step's result is dropped, the state carried over
            carried = f"{H_T} = {h_read} = <b>{number(cell.h[unit])}</b>"
            if per_unit:
                carried += f",&nbsp;&nbsp;{C_T} = {c_read} = <b>{number(cell.c[unit])}</b>"
            row("padding: the state is carried over, the result above is not used", carried)
        if cell.units <= FULL_VECTORS:
            lines.append(self._unit_table(cell, unit))
        return "".join(lines)

    def _unit_table(self, cell: EquationsView, unit: int) -> str:
        """Every unit's pre-activations, activations and states: the whole vectors at t."""
        h_read, c_read = "h" + sub(previous(cell.reverse)), "c" + sub(previous(cell.reverse))
        columns: list[tuple[str, np.ndarray]] = [(h_read, cell.h_prev)]
        per_unit = per_unit_state(cell)
        if per_unit:
            columns.append((c_read, cell.c_prev))
        for gate in cell_spec(self.mode).gates:  # the gates; a vanilla RNN's pre-activation
            values = cell.preact if gate.kind == "hidden" else cell.gates
            columns.append((gate.name + sub("t"), values[gate.name]))
        if per_unit:
            columns.append((C_T, cell.c))
        columns.append((H_T, cell.h))
        head = "".join(f"<th>&nbsp;{name}&nbsp;</th>" for name, _ in columns)
        body = []
        for u in range(len(cell.h)):
            style = f" style='background:{self.theme.panel_background}; font-weight:bold'" if u == unit else ""
            cells = "".join(f"<td align='right'>&nbsp;{number(float(v[u]))}&nbsp;</td>" for _, v in columns)
            body.append(f"<tr{style}><td align='right'>{u}&nbsp;</td>{cells}</tr>")
        return (f"<table cellspacing='0' style='margin-top:10px'><tr><th>unit</th>{head}</tr>"
                + "".join(body) + "</table>")

    def _draw_vectors(self, cell: EquationsView) -> None:
        read = "t+1" if cell.reverse else "t-1"
        rows: list[tuple[str, np.ndarray]] = [(f"h_{read}", cell.h_prev)]
        per_unit = per_unit_state(cell)  # a wider state (LRU, selective) does not fit the unit columns
        if per_unit:
            rows.append((f"c_{read}", cell.c_prev))
        shown = cell_spec(self.mode).gate_names  # not the display values the equations' numbers use
        rows += [(name, value) for name, value in cell.gates.items() if name in shown]
        if per_unit:
            rows.append(("c_t", cell.c))
        rows.append(("h_t", cell.h))
        self._rows_shown = rows
        matrix = np.stack([np.asarray(v, dtype=float) for _, v in rows])  # (rows, H)
        self.image.setImage(matrix.T, autoLevels=False)  # col-major: (H, rows)
        units = matrix.shape[1]
        self.image.setRect(-0.5, -0.5, units, len(rows))
        levels = colormaps.symmetric_levels(matrix)
        self.image.setLevels((min(levels[0], -1.0), max(levels[1], 1.0)))
        shape = (units, tuple(name for name, _ in rows))
        if shape != self._shape:
            self._shape = shape
            self.vectors.setFixedHeight(VECTORS_FRAME + VECTOR_ROW_HEIGHT * len(rows))
            self.vectors.getAxis("left").setTicks([[(float(i), name) for i, (name, _) in enumerate(rows)], []])
            stride = max(1, units // 8)
            self.vectors.getAxis("bottom").setTicks([[(float(u), str(u)) for u in range(0, units, stride)], []])
        self.set_ranges(self.vectors, (-0.5, units - 0.5), (-0.5, len(rows) - 0.5))

    def csv_rows(self) -> Rows:
        """The vectors of the heatmap, then each gate's four terms and pre-activation, per unit."""
        cell = self.cell
        if cell is None or not self._rows_shown:  # nothing computed yet: the equations themselves
            return [["equation"], *[[line] for line in cell_spec(self.mode).equations]]
        rows: Rows = [["vector", "timestep", *[f"unit {u}" for u in range(cell.units)]]]
        shown = list(self._rows_shown)
        for gate in cell.gate_names:
            names = term_names(self.mode, gate, "t+1" if cell.reverse else "t-1")
            terms = cell.terms.get(gate, {})
            shown += [(name, terms[term]) for name, term in zip(names, TERMS) if term in terms]
            shown.append((f"preact_{gate}", cell.preact[gate]))
        for name, values in shown:
            rows.append([name, cell.t, *np.asarray(values, dtype=float).tolist()])
        return rows


def term_names(mode: str, gate: str, read: str = "t-1") -> tuple[str, str, str, str]:
    """CSV names of a gate's four terms, as the equation writes them: W_if x_t, b_if, W_hf h_t-1, b_hf
    (``read``: the timestep of the state the step reads, t+1 in the reverse direction); a vanilla
    RNN's single block is W_ih, W_hh."""
    hidden = cell_spec(mode).gate(gate).kind == "hidden"
    i, h = ("ih", "hh") if hidden else ("i" + gate, "h" + gate)
    return f"W_{i} x_t", f"b_{i}", f"W_{h} h_{read}", f"b_{h}"


def unit_values(cell: EquationsView) -> dict[str, np.ndarray]:
    """Every (H,) vector of one step by the names StateUpdate templates use: the gates, h_prev, and h
    and c as the equations compute them (at padding the step's state is carried over instead)."""
    values = {**cell.gates, "h_prev": cell.h_prev, "h": cell.h_computed}
    if cell.c is not None:
        values.update(c_prev=cell.c_prev, c=cell.c_computed)
    return values


def per_unit_state(cell: EquationsView) -> bool:
    """The cell state has one value per unit (the LSTM), so it fits the per-unit columns and rows."""
    return cell.c is not None and len(cell.c) == cell.units
