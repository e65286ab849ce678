"""The network unrolled over time: one cell box per timestep (rows: layers and directions).

    outputs y_t          ŷ0      ŷ1      ŷ2            (many-to-one: only the last)
                        ┌──┐ h  ┌──┐ h  ┌──┐
    layer 0 →           │▒▒│ ─▶ │▒▒│ ─▶ │▒▒│ ─▶        each box: the hidden units as a heat strip
                        └──┘    └──┘    └──┘
    inputs x_t           x0      x1      x2

The stepped row (the selected layer and direction) shows its hidden state h_t as a strip of H units
inside each box, empty until the forward pass has computed it; the reverse direction's arrows point
left. During BPTT the visited boxes show ||dL/dh_t|| above them. Dashed lines mark the truncated-BPTT
cuts. With more than ``WINDOW`` timesteps the diagram shows a window around the cursor, and an overview
strip below it shows the whole sequence (click it to jump). Clicking a box emits ``cell_clicked``.
The geometry (where boxes, arrows, labels and cuts go) is computed in unrolled_layout.py; this module
creates the items and updates them.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsRectItem

from rnnviz.session.views.common import labels_are_numbers, plural
from rnnviz.session.views.step_through import DiagramView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.hidden import hidden_levels
from rnnviz.ui.panels.overview import SequenceOverview
from rnnviz.ui.panels.unrolled_layout import (
    BOX_HEIGHT,
    GRAD_OFFSET,
    INPUT_TAIL,
    OUTPUT_GAP,
    ROW_LABEL_X,
    WINDOW,
    DiagramLayout,
    input_text,
    short,
    strip_image,
    window_start,
)
from rnnviz.ui.theme import Theme

class UnrolledPanel(Panel):
    name = "unrolled"
    title = "Unrolled network"
    cell_clicked = Signal(int, int, int)  # timestep, layer, direction

    def build(self) -> None:
        page = self.graphics
        self.viewbox = page.addViewBox(row=1, col=0, lockAspect=False, enableMouse=False)
        self.viewbox.setMenuEnabled(False)
        self._build_overview(page)
        self.arrows = pg.PlotDataItem(connect="pairs")
        self.arrow_heads = pg.ScatterPlotItem(size=11, pxMode=True)
        self.cuts = pg.PlotDataItem(connect="pairs")
        self.cursor_band = pg.LinearRegionItem(values=(-0.5, 0.5), movable=False)
        self.cursor_band.setZValue(-20)
        for item in (self.cursor_band, self.arrows, self.arrow_heads, self.cuts):
            self.viewbox.addItem(item)
        self.viewbox.scene().sigMouseClicked.connect(self._clicked)
        self._texts_shown: dict[int, tuple[str, str]] = {}
        self._structure: tuple | None = None
        self._layout = DiagramLayout(0, ())
        self._start = 0
        self._slots = 0
        self.boxes: list[list[QGraphicsRectItem]] = []  # [row][slot]
        self.strips: list[pg.ImageItem] = []
        self.texts: dict[str, list[pg.TextItem]] = {}
        self.row_labels: list[pg.TextItem] = []
        self.legend_text = pg.TextItem(anchor=(0.5, 0.5))
        self.viewbox.addItem(self.legend_text)
        self.side_labels: list[pg.TextItem] = []  # "ŷ_t" and "x_t" left of the outputs and inputs
        self._staggered = False
        self._compact = False  # staggered inputs without their "t = k" line: the panel is too short for both
        self._outputs_staggered = False
        self._fitted: tuple | None = None
        self.viewbox.sigResized.connect(self._viewbox_resized)

    def _build_overview(self, page: pg.GraphicsLayoutWidget) -> None:
        """The whole-sequence strip under the diagram, with the shown window marked (click to jump)."""
        self.overview = SequenceOverview(self.add_plot(page, 2, 0, {}, index_axes=("bottom",)))
        page.ci.layout.setRowStretchFactor(1, 5)
        page.ci.layout.setRowStretchFactor(2, 1)
        self.overview.plot.scene().sigMouseClicked.connect(self._overview_clicked)

    # ------------------------------------------------------------------ structure (built per shape)

    def window_width(self) -> int:
        """How many timesteps fit: about 46 px per box at this panel's width, at most WINDOW."""
        return int(min(max(self.width() // 46, 8), WINDOW))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.state is not None and min(self.state.seq_len, self.window_width()) != self._slots:
            self.show_view(self.state)

    def _ensure_structure(self, state: DiagramView) -> None:
        """(Re)build the items when the number of slots, rows, units or the cell changes."""
        slots = min(state.seq_len, self.window_width())
        key = (slots, state.layers, state.directions, state.hidden.shape[1], state.cell)
        if key == self._structure:
            return
        self._structure = key
        self._texts_shown.clear()  # new items (ids of deleted ones may be reused)
        self._remove_structure()
        self._slots = slots
        self._layout = layout = DiagramLayout(slots, DiagramLayout.rows_of(state.layers, state.directions))
        named = state.layers > 1 or state.directions > 1
        self.boxes = [add_boxes(self.viewbox, layout, r) for r in range(len(layout.rows))]
        self.strips = [add_strip(self.viewbox) for _ in layout.rows]
        self.row_labels = [add_row_label(self.viewbox, layout.row_label_pos(r), row_label(*row) if named else "")
                           for r, row in enumerate(layout.rows)]
        # inputs hang from the input arrows' tails, outputs sit on the output arrows' heads: anchored in
        # pixels, so no text reaches another at any panel size (the view range leaves room for them)
        placements = {"input": (INPUT_TAIL, (0.5, 0.0)), "output": (layout.top + OUTPUT_GAP, (0.5, 1.0)),
                      "grad": (0.0, (1.0, 1.0))}
        self.texts = {kind: add_texts(self.viewbox, slots, y, anchor) for kind, (y, anchor) in placements.items()}
        self.side_labels = [add_side_label(self.viewbox, (ROW_LABEL_X, y), anchor, text) for y, anchor, text in
                            ((layout.top + OUTPUT_GAP, (1, 1), "ŷ<sub>t</sub>"), (INPUT_TAIL, (1, 0), "x<sub>t</sub>"))]
        self._fitted = None
        self.legend_text.setAnchor((1, 0.5))
        self.legend_text.setPos(ROW_LABEL_X, BOX_HEIGHT / 2)
        self.apply_theme(self.theme)
        self._fit_range()

    def _remove_structure(self) -> None:
        for row in self.boxes:
            for box in row:
                self.viewbox.removeItem(box)
        for item in self.strips + self.row_labels + self.side_labels + [t for texts in self.texts.values() for t in texts]:
            self.viewbox.removeItem(item)

    def _line_height(self) -> float:
        """Pixels of one line of a label."""
        return QFontMetricsF(self.legend_text.textItem.font()).lineSpacing()

    def _label_lines(self) -> int:
        """Lines the input labels take below the diagram: two (the input, then t = ...), four when
        neighbours are too wide to sit side by side and alternate between two heights."""
        return (1 if self._compact else 2) * (2 if self._staggered else 1)

    def _label_heights(self) -> tuple[float, float]:
        """Pixels the input labels need below the diagram and the outputs above it, measured on the
        laid-out labels (rich text adds margins to a line), twice over when they alternate heights."""
        line = self._line_height()
        inputs = max((item.textItem.boundingRect().height() for item in self.texts.get("input", [])),
                     default=self._label_lines() * line)
        outputs = max((item.textItem.boundingRect().height() for item in self.texts.get("output", [])),
                      default=line)
        below = inputs * (2 if self._staggered else 1) + 6
        above = max(outputs, line) * (2 if self._outputs_staggered else 1) + 6
        return below, above

    def _left_labels_width(self) -> float:
        """Pixels the labels left of the boxes need (row names, the legend, "ŷ_t", "x_t"), plus a gap."""
        items = [*self.row_labels, *self.side_labels] + ([self.legend_text] if self.legend_text.isVisible() else [])
        return max((item.textItem.boundingRect().width() for item in items), default=0.0) + 8

    def _fit_range(self) -> None:
        """Fit the boxes between pixel margins for the labels (DiagramLayout.y_range), and leave room
        on the left for the row labels (DiagramLayout.x_range_for): none is ever clipped."""
        if self.state is None or not self._slots:
            return
        below, above = self._label_heights()
        x_range = self._layout.x_range_for(self.viewbox.width(), self._left_labels_width()) \
            if self.viewbox.width() > 0 else self._layout.x_range
        fitted = (self._slots, x_range, *self._layout.y_range(self.viewbox.height(), below, above))
        if fitted != self._fitted:
            self._fitted = fitted
            self.viewbox.setRange(xRange=x_range, yRange=fitted[2:], padding=0)

    def _label_mode(self) -> tuple[bool, bool]:
        """(staggered, compact): inputs alternate between two heights when too wide for a slot, and
        lose their "t = k" line (kept in the tooltip) when the labels would take over 40 % of the
        panel's height."""
        staggered = self._needs_stagger()
        line = self._line_height()
        lines = (4 if staggered else 2) + 1  # the inputs' (twice when staggered) and the outputs' lines
        compact = lines * line + 12 > 0.4 * max(self.viewbox.height(), 1.0)
        return staggered, compact

    def _viewbox_resized(self) -> None:
        mode = self._label_mode()
        if mode != (self._staggered, self._compact):
            self._staggered, self._compact = mode
            if self.state is not None:
                self._draw_texts(self.state, range(self._start, self._start + self._slots))
        self._fit_range()

    def _slot_pixels(self) -> float:
        """Pixels between two neighbouring boxes."""
        low, high = self._fitted[1] if self._fitted else self._layout.x_range
        return self.viewbox.width() / max(high - low, 1e-9)

    def _needs_stagger(self, texts: list[str] | None = None) -> bool:
        """True when the widest label (default: the inputs shown) is wider than a box's slot (labels would touch)."""
        state = self.state
        if state is None or not self._slots or self.viewbox.width() <= 0:
            return False
        metrics = QFontMetricsF(self.legend_text.textItem.font())
        if texts is None:
            texts = [input_text(state.inputs[t], state.labels[t]) for t in range(self._start, self._start + self._slots)]
        widest = max((metrics.horizontalAdvance(text) for text in texts), default=0.0)
        return widest + 0.5 * metrics.height() > self._slot_pixels()

    # ------------------------------------------------------------------ drawing

    def restyle(self, theme: Theme) -> None:
        self._colormap = colormaps.diverging(theme.diverging_map)
        for strip in getattr(self, "strips", []):
            strip.setColorMap(self._colormap)
        self.arrows.setPen(pg.mkPen(theme.foreground, width=1))
        self.arrow_heads.setBrush(pg.mkBrush(theme.foreground))
        self.arrow_heads.setPen(pg.mkPen(None))
        self.cuts.setPen(pg.mkPen(theme.pen(1), width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        accent = QColor(theme.pen(0))
        accent.setAlpha(40)
        self.cursor_band.setBrush(pg.mkBrush(accent))
        for line in self.cursor_band.lines:
            line.setPen(pg.mkPen(None))
        self.overview.restyle(theme, accent)
        for text in self.row_labels:
            text.setColor(theme.foreground)
        for label in self.side_labels:
            label.setHtml(f"<span style='color:{theme.foreground}'>{label.html_text}</span>")
        if self.state is not None:
            self.show_view(self.state)

    @property
    def state(self) -> DiagramView | None:
        """The diagram drawn last."""
        return self.view

    def draw(self, state: DiagramView) -> None:
        self._ensure_structure(state)
        steps = state.seq_len
        self._start = window_start(steps, state.cursor, self._slots)
        shown = range(self._start, self._start + self._slots)
        self._draw_boxes(state, shown)
        self._draw_strips(state, shown)
        self._draw_arrows(state, shown)
        self._draw_texts(state, shown)
        self._draw_cuts(state, shown)
        if self.overview.show(state.hidden, state.hidden_range, self._start, self._slots):
            self.set_ranges(self.overview.plot, (-0.5, steps - 0.5), (0.0, 1.0))
            self.overview.plot.getAxis("bottom").set_labels(None if labels_are_numbers(state.labels) else state.labels)
        self.cursor_band.setRegion((state.cursor - self._start - 0.5, state.cursor - self._start + 0.5))
        self.set_page_title(self.graphics, diagram_title(state, shown, self._slots, self.theme.label_size))
        self.legend_text.setVisible(state.layers * state.directions == 1)  # rows carry labels otherwise
        legend = legend_html(state.hidden.shape[1], self.theme.foreground)
        if self._texts_shown.get(id(self.legend_text)) != (legend, self.theme.foreground):
            self._texts_shown[id(self.legend_text)] = (legend, self.theme.foreground)
            self.legend_text.setHtml(legend)

    def _row_index(self, state: DiagramView) -> int:
        return self._layout.rows.index((state.layer, state.direction))

    def _draw_boxes(self, state: DiagramView, shown: range) -> None:
        theme = self.theme
        stepped = self._row_index(state)
        for r, row in enumerate(self.boxes):
            for k, t in enumerate(shown):
                box = row[k]
                width, color = 1, theme.muted
                if r == stepped and state.current == t:
                    width, color = 4, theme.pen(1) if state.phase == "backward" else theme.pen(0)
                elif r == stepped and state.phase == "backward" and np.isfinite(state.grad_norm[t]):
                    width, color = 2, theme.pen(3)
                elif r == stepped:
                    width, color = 2, theme.foreground
                box.setPen(pg.mkPen(color, width=width))
                fill = QColor(theme.padding_brush[0], theme.padding_brush[1], theme.padding_brush[2],
                              theme.padding_brush[3]) if state.mask[t] == 0 else QColor(theme.background)
                box.setBrush(pg.mkBrush(fill))

    def _draw_strips(self, state: DiagramView, shown: range) -> None:
        stepped = self._row_index(state)
        levels = hidden_levels(state.hidden_range, state.hidden[np.isfinite(state.hidden).all(axis=1)]) \
            if np.isfinite(state.hidden).any() else (-1.0, 1.0)
        for r, strip in enumerate(self.strips):
            if r != stepped:
                strip.setVisible(False)
                continue
            strip.setVisible(True)
            image = strip_image(state.hidden, shown, self._slots)  # (columns, H)
            if not np.isfinite(image).any():  # nothing computed yet (an all-NaN image crashes the renderer)
                strip.setVisible(False)
                continue
            strip.setImage(image, levels=levels, autoLevels=False)
            strip.setRect(QRectF(*self._layout.strip_rect(r)))

    def _draw_arrows(self, state: DiagramView, shown: range) -> None:
        points, head_points, symbols = self._layout.arrows(state.has_cell_state, state.has_output[shown.start:shown.stop])
        self.arrows.setData(points[:, 0], points[:, 1])
        self.arrow_heads.setData(x=head_points[:, 0], y=head_points[:, 1], symbol=symbols)

    def _set_text(self, item: pg.TextItem, text: str, color: str) -> None:
        """Change a label only when its text or colour changes (setText re-lays out the text)."""
        if self._texts_shown.get(id(item)) != (text, color):
            self._texts_shown[id(item)] = (text, color)
            item.setText(text, color=color)

    def _set_html(self, item: pg.TextItem, html: str) -> None:
        """Change a rich label only when its text changes (setHtml re-lays out the text)."""
        if self._texts_shown.get(id(item)) != (html, ""):
            self._texts_shown[id(item)] = (html, "")
            item.setTextWidth(-1)  # lay out at its natural width, then fix that width: lines centre in it
            item.setHtml(html)
            item.setTextWidth(item.textItem.boundingRect().width())

    def _draw_texts(self, state: DiagramView, shown: range) -> None:
        theme = self.theme
        stepped = self._row_index(state)
        grad_y = self._layout.base(stepped) + BOX_HEIGHT + 0.04
        self._staggered, self._compact = self._label_mode()
        self._draw_outputs(state, shown)
        for k, t in enumerate(shown):
            current = t == state.current
            step = f"t={t}" if len(shown) <= 16 or t % 2 == 0 or current else ""
            step_colour = theme.foreground if current else theme.muted
            label = html.escape(input_text(state.inputs[t], state.labels[t]))
            item = self.texts["input"][k]
            lower = self._staggered and k % 2 == 1  # alternate heights so that neighbours do not overlap
            anchor = (0.5, -1.0 if lower else 0.0)  # -1: one label height further down
            if tuple(item.anchor) != anchor:
                item.setAnchor(anchor)
            step_line = "" if self._compact else f"<br><span style='color:{step_colour}'>{step or '&nbsp;'}</span>"
            self._set_html(item, f"<div style='text-align:center; color:{theme.foreground}'>{label}{step_line}</div>")
            item.setToolTip(f"x_{t} = {state.labels[t]} (t = {t})" + (" (padding: no input, the state is carried over)"
                                                             if state.mask[t] == 0 else ""))
            norm = state.grad_norm[t]
            grad = self.texts["grad"][k]
            grad.setPos(k - GRAD_OFFSET, grad_y)  # left of the arrow that leaves the box: its head never covers it
            visible = state.phase != "forward" and np.isfinite(norm)
            self._set_text(grad, short(float(norm)) if visible else "", theme.pen(3) if not current else theme.pen(1))
        self._fit_range()

    def _draw_outputs(self, state: DiagramView, shown: range) -> None:
        """ŷ_t above the output arrows, only where the network has an output: the class's name for
        classifiers, the value otherwise. Neighbours too wide to sit side by side alternate between
        two heights; a label wider than two slots is cut short with "…" (hover shows it whole)."""
        texts = [output_text(state.outputs[t], state.output_names, state.loss_kind) if state.has_output[t] else ""
                 for t in shown]
        self._outputs_staggered = self._needs_stagger([text for text in texts if text]) and \
            int(np.count_nonzero(state.has_output[shown.start:shown.stop])) > 1
        metrics = QFontMetricsF(self.legend_text.textItem.font())
        slot = self._slot_pixels()
        labelled = [k for k, text in enumerate(texts) if text]
        for k, (t, text) in enumerate(zip(shown, texts)):
            item = self.texts["output"][k]
            higher = self._outputs_staggered and k % 2 == 1
            anchor = (0.5, 2.0 if higher else 1.0)  # 2: one label height further up
            if tuple(item.anchor) != anchor:
                item.setAnchor(anchor)
            # as wide as the slots to the nearest labelled neighbour at the same height (a lone many-to-one
            # output has room), never past the diagram's right edge
            apart = 2 if self._outputs_staggered else min([abs(k - j) for j in labelled if j != k] + [4])
            room = min(apart * slot, 2 * (self._slots - 1 - k + 0.55) * slot) - 0.5 * metrics.height()
            shown_text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(room, metrics.height())) \
                if text else text
            self._set_text(item, shown_text, self.theme.foreground)
            item.setToolTip(output_tooltip(state, t) if text else "")

    def _draw_cuts(self, state: DiagramView, shown: range) -> None:
        points = self._layout.cut_points(shown, state.tbptt)
        if points:
            array = np.array(points)
            self.cuts.setData(array[:, 0], array[:, 1])
        else:
            self.cuts.setData([], [])

    # ------------------------------------------------------------------ clicking

    def slot_center(self, timestep: int, layer: int = 0, direction: int = 0) -> QPointF:
        """The scene position of the middle of ``timestep``'s box (for tests and tooltips)."""
        r = self._layout.rows.index((layer, direction)) if self.state else 0
        return self.viewbox.mapViewToScene(QPointF(timestep - self._start, self._layout.base(r) + BOX_HEIGHT / 2))

    def _clicked(self, event) -> None:
        if self.state is None or event.isAccepted():
            return
        if not self.viewbox.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.viewbox.mapSceneToView(event.scenePos())
        k = int(round(point.x()))
        if not 0 <= k < self._slots:
            return
        layer, direction = self._layout.rows[self._layout.row_at(point.y())]
        self.cell_clicked.emit(self._start + k, layer, direction)

    def _overview_clicked(self, event) -> None:
        if self.state is None:
            return
        t = self.overview.timestep_at(event.scenePos(), self.state.seq_len)
        if t is not None:
            self.cell_clicked.emit(t, self.state.layer, self.state.direction)

    def csv_rows(self) -> Rows:
        state = self.state
        if state is None:
            return [["timestep"]]
        units = state.hidden.shape[1]
        rows: Rows = [["timestep", "label", "mask", "grad_norm_dL_dh", *[f"h[{u}]" for u in range(units)]]]
        for t in range(state.seq_len):
            rows.append([t, state.labels[t], float(state.mask[t]), float(state.grad_norm[t]),
                         *state.hidden[t].tolist()])
        return rows


def row_label(layer: int, direction: int) -> str:
    return f"layer {layer} {'←' if direction else '→'}"


def io_line(state: DiagramView) -> str:
    """Where the outputs and losses are, in words: the diagram's I/O pattern."""
    if state.io == "many_to_one":
        where = np.flatnonzero(state.has_output)
        at = f"t = {int(where[-1])}" if where.size else "the end"
        return f"one output ŷ and its loss, at {at} only (many-to-one)"
    padded = "" if state.has_output.all() else ", none at padding"
    return f"ŷ<sub>t</sub> and a loss term at every step{padded} (many-to-many)"


def output_tooltip(state: DiagramView, t: int) -> str:
    """The whole ŷ_t: the most probable classes with their probabilities, or the values."""
    out = state.outputs[t]
    if not np.isfinite(out).all():
        return f"ŷ_{t}: not computed yet (step forward to reach it)"
    names = state.output_names if len(state.output_names) == out.size else tuple(str(i) for i in range(out.size))
    if state.loss_kind == "cross_entropy":
        order = np.argsort(-out, kind="stable")[:3]
        return f"ŷ_{t}: " + ", ".join(f"{names[i]} {out[i]:.2f}" for i in order)
    return f"ŷ_{t}: " + ", ".join(f"{name} = {value:.3g}" for name, value in zip(names, out))


def diagram_title(state: DiagramView, shown: range, slots: int, label_size: str) -> str:
    """The page title: the cell, the phase, the window shown, and which row the boxes' strips show."""
    phase = {"forward": "forward pass", "backward": "backpropagation through time", "done": "full pass"}
    steps = state.seq_len
    window = f"  (timesteps {shown[0]}–{shown[-1]} of {steps})" if steps > slots else ""
    parts = [io_line(state)]
    if state.layers * state.directions > 1:
        parts.insert(0, f"boxes: h_t of layer {state.layer} {'←' if state.direction else '→'} "
                        f"({plural(state.hidden.shape[1], 'unit')})")
    # a second, smaller line: the title must fit a narrow export
    second = f"<br><span style='font-size:{label_size}; font-weight:normal'>{' · '.join(parts)}</span>"
    return f"Unrolled {state.title} — {phase.get(state.phase, state.phase)}{window}{second}"


def legend_html(units: int, foreground: str) -> str:
    """The key beside a single row: h_t and its number of units."""
    return (f"<div style='color:{foreground}; text-align:center'>h<sub>t</sub><br>{units} unit"
            + ("s" if units != 1 else "") + "</div>")


def output_text(out: np.ndarray, names: tuple[str, ...] = (), loss_kind: str = "mse") -> str:
    """ŷ_t as a short label: the most probable class's name for a classifier ("positive", a character),
    the value of a single output, else the first values; "" until computed."""
    if not np.isfinite(out).all():
        return ""
    if loss_kind == "cross_entropy" and out.size > 1:
        best = int(np.argmax(out))
        return names[best] if len(names) == out.size else str(best)
    if out.size == 1:
        return short(float(out[0]))
    return " ".join(short(float(v)) for v in out[:2]) + (" …" if out.size > 2 else "")


def add_boxes(viewbox: pg.ViewBox, layout: DiagramLayout, r: int) -> list[QGraphicsRectItem]:
    """Row ``r``'s cell boxes, one per slot, behind everything else."""
    boxes = []
    for k in range(layout.slots):
        box = QGraphicsRectItem(QRectF(*layout.box_rect(r, k)))
        box.setZValue(-5)
        viewbox.addItem(box)
        boxes.append(box)
    return boxes


def add_strip(viewbox: pg.ViewBox) -> pg.ImageItem:
    """A row's heat strip of h_t, above the boxes."""
    strip = pg.ImageItem(axisOrder="col-major")
    strip.setZValue(5)
    viewbox.addItem(strip)
    return strip


def add_side_label(viewbox: pg.ViewBox, position: tuple[float, float], anchor: tuple[float, float],
                   html_text: str) -> pg.TextItem:
    """A label left of the inputs or outputs ("x_t", "ŷ_t")."""
    label = pg.TextItem(anchor=anchor)
    label.html_text = html_text  # restyle colours it
    label.setHtml(html_text)
    label.setPos(*position)
    viewbox.addItem(label)
    return label


def add_row_label(viewbox: pg.ViewBox, position: tuple[float, float], text: str) -> pg.TextItem:
    """A row's name left of its first box."""
    label = pg.TextItem(text, anchor=(1, 0.5))
    label.setPos(*position)
    viewbox.addItem(label)
    return label


def add_texts(viewbox: pg.ViewBox, slots: int, y: float, anchor: tuple[float, float]) -> list[pg.TextItem]:
    """One empty label per slot at height ``y``, above the arrows that pass by."""
    items = []
    for k in range(slots):
        text = pg.TextItem("", anchor=anchor)
        text.setPos(k, y)
        text.setZValue(10)
        viewbox.addItem(text)
        items.append(text)
    return items
