"""The selected cell's equations, as in the PyTorch docs, with the real numbers at the selected timestep.

Each gate's line is written twice: the equation, then its four terms evaluated (W x_t, b, W h_(t-1),
b), the pre-activation and the activation. With at most ``FULL_VECTORS`` hidden units whole vectors are
shown; above that, one unit's row (chosen with the unit box). Next to the text a small heatmap shows
every vector the step reads and writes (units across), so the numbers have a picture.

The terms are the split of the stepper's pre-activation into its parts (one matrix-vector product
per term); the pre-activations and activations themselves are the stepper's.
"""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QGraphicsTextItem, QLabel, QScrollArea, QSpinBox

from rnnviz.engine.cells import DEFAULT_CELL, CellSpec, cell_spec
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.stepper import CellStep
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.theme import Theme

FULL_VECTORS = 8  # show whole vectors up to this many hidden units
Weights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # W_ih (GH, I), W_hh (GH, H), b_ih, b_hh


def activation_name(mode: str, gate: str) -> str:
    return cell_spec(mode).gate(gate).activation


def sub(text: str) -> str:
    return f"<sub>{text}</sub>"


def equation_html(text: str) -> str:
    """A spec's plain-text equation as rich text: ``x_t`` and ``h_(t-1)`` become subscripts, minus
    signs real minus signs."""
    text = re.sub(r"_\(([^)]*)\)", lambda m: sub(m.group(1).replace("-", "−")), text)
    text = re.sub(r"_([A-Za-z0-9]+)", lambda m: sub(m.group(1)), text)
    return text.replace(" - ", " − ")


H_PREV = "h" + sub("t−1")
C_PREV = "c" + sub("t−1")
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


def gate_terms(mode: str, weights: Weights, gate: str, x: np.ndarray, h_prev: np.ndarray) -> dict[str, np.ndarray]:
    """The four terms of one gate's pre-activation: W_i· x_t, b_i·, W_h· h_(t-1), b_h· (each (H,))."""
    W_ih, W_hh, b_ih, b_hh = (np.asarray(a, dtype=float) for a in weights)
    hidden = W_hh.shape[1]
    k = cell_spec(mode).block_names.index(gate)
    rows = slice(k * hidden, (k + 1) * hidden)
    return {"Wx": W_ih[rows] @ x, "bx": b_ih[rows], "Wh": W_hh[rows] @ h_prev, "bh": b_hh[rows]}


def gate_line(mode: str, gate: str) -> str:
    """The gate's equation as in the PyTorch docs (a vanilla RNN: the whole cell), as rich text."""
    return equation_html(cell_spec(mode).gate(gate).equation)


VECTORS_HEIGHT = 150  # px of the heatmap under the text


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
        self.mode = DEFAULT_CELL  # until a cell is shown
        self.cell: CellStep | None = None
        self.weights: Weights | None = None
        self.message = ""
        self._rows_shown: list[tuple[str, np.ndarray]] = []
        self._shape: tuple | None = None

    def restyle(self, theme: Theme) -> None:
        self.image.setColorMap(colormaps.diverging(theme.diverging_map))
        self._redraw()

    # ------------------------------------------------------------------ inputs

    def draw(self, snapshot: Snapshot) -> None:
        """From a bare snapshot: the last timestep of layer 0 (the step-through page uses ``show_cell``)."""
        self.show_cell(snapshot.cell, cell_from_snapshot(snapshot, len(snapshot.hidden) - 1),
                       tuple(snapshot.weights[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")))

    def show_cell(self, mode: str, cell: CellStep | None, weights: Weights | None, message: str = "") -> None:
        """Show ``cell`` (None: show ``message`` instead, e.g. "step forward to reach t = 5")."""
        self.mode, self.cell, self.weights, self.message = mode, cell, weights, message
        if cell is not None:
            units = len(cell.h)
            self.unit_box.setMaximum(max(units - 1, 0))
        self._redraw()

    @property
    def unit(self) -> int:
        """The unit whose terms the equations spell out."""
        if self.cell is None:
            return 0
        return min(self.unit_box.value(), len(self.cell.h) - 1)

    # ------------------------------------------------------------------ drawing

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        """Wrap the text to the visible width and make the page tall enough for all of it."""
        width = max(self.scroll.viewport().width(), 200)
        height = self.text.fit(width)
        self.stack.setMinimumHeight(int(height + VECTORS_HEIGHT + 80))

    def _redraw(self) -> None:
        theme = self.theme
        if self.cell is None or self.weights is None:
            self.text.html = f"<span style='font-size:15pt; color:{theme.muted}'>{self.message}</span>"
            self.set_page_title(self.graphics, "Equations")
            self.image.setVisible(False)
            self._rows_shown = []
            self._fit_text()
            return
        cell, unit = self.cell, self.unit
        self.text.html = f"<div style='font-size:12pt; color:{theme.foreground}'>{self._html(cell, unit)}</div>"
        self.image.setVisible(True)
        self._draw_vectors(cell)
        self.set_page_title(self.graphics, f"{cell_spec(self.mode).title} cell at t = {cell.t}"
                            + ("  (padding: state carried over)" if cell.masked else ""))
        self._fit_text()

    def _html(self, cell: CellStep, unit: int) -> str:
        """Each equation, then its terms for ``unit``; with few units a table of every unit below."""
        accent = self.theme.pen(0)
        lines = []

        def row(symbol: str, numbers: str) -> None:
            lines.append(f"<p style='margin:6px 0 0 0'><b>{symbol}</b><br>"
                         f"<span style='color:{accent}'>&nbsp;&nbsp;&nbsp;{numbers}</span></p>")

        j = f"[{unit}]"
        lines.append(f"<p>{X_T} = {vector(cell.x, None, limit=6)}&nbsp;&nbsp; numbers for unit {unit}:"
                     f" {H_PREV}{j} = {number(cell.h_prev[unit])}"
                     + ("" if cell.c_prev is None else f", {C_PREV}{j} = {number(cell.c_prev[unit])}")
                     + "</p>")
        spec = cell_spec(self.mode)
        values = {name: number(float(v[unit])) for name, v in unit_values(cell).items()}
        for gate in spec.gates:
            terms = gate_terms(self.mode, self.weights, gate.name, cell.x, cell.h_prev)
            act = gate.activation
            parts = [float(terms[k][unit]) for k in ("Wx", "bx", "Wh", "bh")]
            if gate.hidden_scaled_by:  # e.g. GRU n: W_in x + b_in + r ⊙ (W_hn h + b_hn)
                inner = f"{signed_sum(parts[:2])} + {values[gate.hidden_scaled_by]} · ({signed_sum(parts[2:])})"
            else:
                inner = signed_sum(parts)
            row(equation_html(gate.equation) + f"&nbsp;&nbsp;<span style='color:{self.theme.muted}'>"
                f"({gate.word})</span>",
                f"= {act}({inner}) = {act}({number(cell.preact[gate.name][unit])}) = <b>{values[gate.output]}</b>")
        for update in spec.updates:
            row(equation_html(update.equation),
                f"= {update.numbers.format(**values)} = <b>{values[update.result]}</b>")
        if len(cell.h) <= FULL_VECTORS:
            lines.append(self._unit_table(cell, unit))
        return "".join(lines)

    def _unit_table(self, cell: CellStep, unit: int) -> str:
        """Every unit's pre-activations, activations and states: the whole vectors at t."""
        columns: list[tuple[str, np.ndarray]] = [(H_PREV, cell.h_prev)]
        if cell.c_prev is not None:
            columns.append((C_PREV, cell.c_prev))
        for gate in cell_spec(self.mode).gates:  # the gates; a vanilla RNN's pre-activation
            values = cell.preact if gate.kind == "hidden" else cell.gates
            columns.append((gate.name + sub("t"), values[gate.name]))
        if cell.c is not None:
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

    def _draw_vectors(self, cell: CellStep) -> None:
        rows: list[tuple[str, np.ndarray]] = [("h_t-1", cell.h_prev)]
        if cell.c_prev is not None:
            rows.append(("c_t-1", cell.c_prev))
        rows += [(name, value) for name, value in cell.gates.items()]
        if cell.c is not None:
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
            self.vectors.getAxis("left").setTicks([[(float(i), name) for i, (name, _) in enumerate(rows)], []])
            stride = max(1, units // 8)
            self.vectors.getAxis("bottom").setTicks([[(float(u), str(u)) for u in range(0, units, stride)], []])
        self.set_ranges(self.vectors, (-0.5, units - 0.5), (-0.5, len(rows) - 0.5))

    def csv_rows(self) -> Rows:
        if not self._rows_shown:  # nothing computed yet: the equations themselves
            return [["equation"], *[[line] for line in cell_spec(self.mode).equations]]
        units = len(self._rows_shown[0][1])
        rows: Rows = [["vector", *[f"unit {u}" for u in range(units)]]]
        for name, values in self._rows_shown:
            rows.append([name, *np.asarray(values, dtype=float).tolist()])
        return rows


def unit_values(cell: CellStep) -> dict[str, np.ndarray]:
    """Every (H,) vector of one step by the names StateUpdate templates use: the gates, h_prev, h,
    and with a cell state c_prev and c."""
    values = {**cell.gates, "h_prev": cell.h_prev, "h": cell.h}
    if cell.c is not None:
        values.update(c_prev=cell.c_prev, c=cell.c)
    return values


def cell_from_snapshot(snapshot: Snapshot, t: int) -> CellStep:
    """A CellStep for timestep ``t`` out of a snapshot (layer 0: x_t is the network's input)."""
    hidden = np.asarray(snapshot.hidden, dtype=float)  # (T, H)
    units = hidden.shape[1]
    W_ih = np.asarray(snapshot.weights["W_ih"])
    x = np.asarray(snapshot.inputs[t], dtype=float)
    if x.shape[0] != W_ih.shape[1]:  # a layer above the first reads the layer below: not in a snapshot
        x = np.zeros(W_ih.shape[1])
    h_prev = hidden[t - 1] if t > 0 else np.zeros(units)
    spec: CellSpec = cell_spec(snapshot.cell)
    gates = {g: np.asarray(snapshot.gates[g], dtype=float)[t] for g in spec.block_names if g in snapshot.gates}
    weights = tuple(snapshot.weights[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh"))
    preact = {}
    for gate in spec.gates:
        terms = gate_terms(snapshot.cell, weights, gate.name, x, h_prev)
        if gate.hidden_scaled_by in gates:  # e.g. GRU n: W_in x + b_in + r ⊙ (W_hn h + b_hn)
            scale = gates[gate.hidden_scaled_by]
            preact[gate.name] = terms["Wx"] + terms["bx"] + scale * (terms["Wh"] + terms["bh"])
        else:
            preact[gate.name] = sum(terms.values())
    cell_state = snapshot.gates.get("cell_state")
    c = None if cell_state is None else np.asarray(cell_state, dtype=float)[t]
    c_prev = None if cell_state is None else (np.asarray(cell_state, dtype=float)[t - 1] if t > 0 else np.zeros(units))
    return CellStep(t=t, x=x, h_prev=h_prev, c_prev=c_prev, preact=preact, gates=gates, c=c, h=hidden[t],
                    masked=bool(snapshot.mask[t] == 0))
