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
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsRectItem

from rnnviz.session.views.common import plural
from rnnviz.session.views.step_through import DiagramView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.hidden import hidden_levels
from rnnviz.ui.theme import Theme

WINDOW = 24  # most timesteps drawn at once; more scroll with the cursor
ROW_HEIGHT = 2.4  # vertical distance between rows (layers / directions), in box heights
BOX_HALF_WIDTH = 0.34
BOX_HEIGHT = 1.5
STRIP_COLUMNS = 10  # image columns per timestep: the middle ones hold h_t, the rest stay empty (NaN)
STRIP_FILLED = slice(2, 8)
INPUT_TAIL = -0.75  # where the input arrows start; the input labels hang below it
OUTPUT_GAP = 0.55  # the output arrows' length above the top row; the outputs ŷ sit on top
OVERVIEW_HEIGHT = 70  # px of the whole-sequence strip under a diagram that shows a window of it
GRAD_OFFSET = 0.05  # ||dL/dh_t|| is written just left of the arrow above its box


def window_start(seq_len: int, cursor: int, width: int = WINDOW) -> int:
    """First timestep shown so that the cursor sits in the middle of a ``width``-step window."""
    if seq_len <= width:
        return 0
    return int(min(max(cursor - width // 2, 0), seq_len - width))


def short(value: float) -> str:
    """A number in at most 5 characters for a box label: 0.53, -1.2, 3e-05."""
    if not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.2g}" if abs(value) < 10 else f"{value:.0f}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def input_text(values: np.ndarray, label: str, names: tuple[str, ...] | None = None) -> str:
    """x_t as a short label: the token for one-hot inputs, else up to two values."""
    if not label.isdigit():  # a token
        return label
    shown = [short(float(v)) for v in values[:2]]
    return " | ".join(shown) + (" …" if len(values) > 2 else "")


class UnrolledPanel(Panel):
    name = "unrolled"
    title = "Unrolled network"
    cell_clicked = Signal(int, int, int)  # timestep, layer, direction

    def build(self) -> None:
        page = self.graphics
        self.viewbox = page.addViewBox(row=1, col=0, lockAspect=False, enableMouse=False)
        self.viewbox.setMenuEnabled(False)
        self.overview = self.add_plot(page, 2, 0, {})
        self.overview.hideAxis("left")
        self.overview.setMaximumHeight(OVERVIEW_HEIGHT)
        self.overview.getAxis("bottom").setStyle(tickLength=3)
        self.overview_image = pg.ImageItem(axisOrder="col-major")
        self.overview.addItem(self.overview_image)
        self.overview_window = pg.LinearRegionItem(values=(0, 1), movable=False)
        self.overview.addItem(self.overview_window, ignoreBounds=True)
        page.ci.layout.setRowStretchFactor(1, 5)
        page.ci.layout.setRowStretchFactor(2, 1)
        self.arrows = pg.PlotDataItem(connect="pairs")
        self.arrow_heads = pg.ScatterPlotItem(size=11, pxMode=True)
        self.cuts = pg.PlotDataItem(connect="pairs")
        self.cursor_band = pg.LinearRegionItem(values=(-0.5, 0.5), movable=False)
        self.cursor_band.setZValue(-20)
        for item in (self.cursor_band, self.arrows, self.arrow_heads, self.cuts):
            self.viewbox.addItem(item)
        self.viewbox.scene().sigMouseClicked.connect(self._clicked)
        self.overview.scene().sigMouseClicked.connect(self._overview_clicked)
        self._texts_shown: dict[int, tuple[str, str]] = {}
        self._structure: tuple | None = None
        self._start = 0
        self._slots = 0
        self.boxes: list[list[QGraphicsRectItem]] = []  # [row][slot]
        self.strips: list[pg.ImageItem] = []
        self.texts: dict[str, list[pg.TextItem]] = {}
        self.row_labels: list[pg.TextItem] = []
        self.legend_text = pg.TextItem(anchor=(0.5, 0.5))
        self.viewbox.addItem(self.legend_text)
        self._staggered = False
        self._fitted: tuple | None = None
        self.viewbox.sigResized.connect(self._viewbox_resized)

    # ------------------------------------------------------------------ structure (built per shape)

    def _rows(self, state: DiagramView) -> list[tuple[int, int]]:
        return [(layer, direction) for layer in range(state.layers) for direction in range(state.directions)]

    def window_width(self) -> int:
        """How many timesteps fit: about 46 px per box at this panel's width, at most WINDOW."""
        return int(min(max(self.width() // 46, 8), WINDOW))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.state is not None and min(self.state.seq_len, self.window_width()) != self._slots:
            self.show_view(self.state)

    def _ensure_structure(self, state: DiagramView) -> None:
        slots = min(state.seq_len, self.window_width())
        key = (slots, state.layers, state.directions, state.hidden.shape[1], state.cell)
        if key == self._structure:
            return
        self._structure = key
        self._texts_shown.clear()  # new items (ids of deleted ones may be reused)
        for row in self.boxes:
            for box in row:
                self.viewbox.removeItem(box)
        for item in self.strips + self.row_labels + [t for texts in self.texts.values() for t in texts]:
            self.viewbox.removeItem(item)
        self._slots = slots
        rows = self._rows(state)
        self.boxes, self.strips, self.row_labels = [], [], []
        for r, (layer, direction) in enumerate(rows):
            base = r * ROW_HEIGHT
            row = []
            for k in range(slots):
                box = QGraphicsRectItem(QRectF(k - BOX_HALF_WIDTH, base, 2 * BOX_HALF_WIDTH, BOX_HEIGHT))
                box.setZValue(-5)
                self.viewbox.addItem(box)
                row.append(box)
            self.boxes.append(row)
            strip = pg.ImageItem(axisOrder="col-major")
            strip.setZValue(5)
            self.viewbox.addItem(strip)
            self.strips.append(strip)
            arrow = "←" if direction else "→"
            label = pg.TextItem(f"layer {layer} {arrow}" if state.layers > 1 or state.directions > 1 else "",
                                anchor=(1, 0.5))
            label.setPos(-0.55, base + BOX_HEIGHT / 2)
            self.viewbox.addItem(label)
            self.row_labels.append(label)
        top = self._top(state)
        self.texts = {}
        # inputs hang from the input arrows' tails, outputs sit on the output arrows' heads: anchored in
        # pixels, so no text reaches another at any panel size (the view range leaves room for them)
        placements = {"input": (INPUT_TAIL, (0.5, 0.0)), "output": (top + OUTPUT_GAP, (0.5, 1.0)),
                      "grad": (None, (1.0, 1.0))}
        for kind, (y, anchor) in placements.items():
            items = []
            for k in range(slots):
                text = pg.TextItem("", anchor=anchor)
                text.setPos(k, y if y is not None else 0.0)
                text.setZValue(10)  # above the arrows that pass by
                self.viewbox.addItem(text)
                items.append(text)
            self.texts[kind] = items
        self._fitted = None
        self.legend_text.setPos(-1.0, BOX_HEIGHT / 2)
        self.apply_theme(self.theme)
        self._fit_range()

    def _top(self, state: DiagramView) -> float:
        """The top edge of the highest row of boxes."""
        return (len(self._rows(state)) - 1) * ROW_HEIGHT + BOX_HEIGHT

    def _line_height(self) -> float:
        """Pixels of one line of a label."""
        return QFontMetricsF(self.legend_text.textItem.font()).lineSpacing()

    def _label_lines(self) -> int:
        """Lines the input labels take below the diagram: two (the input, then t = ...), four when
        neighbours are too wide to sit side by side and alternate between two heights."""
        return 4 if self._staggered else 2

    def _fit_range(self) -> None:
        """Fit the boxes between pixel margins for the labels: ``span`` data units of boxes and arrows
        plus ``margin`` pixels of text make the view range span / (1 - margin / height)."""
        state, height = self.state, self.viewbox.height()
        if state is None or not self._slots:
            return
        top = self._top(state)
        line = self._line_height()
        below, above = self._label_lines() * line + 6, line + 6
        span = top + OUTPUT_GAP - INPUT_TAIL
        share = min((below + above) / height, 0.6) if height > 0 else 0.45  # the boxes keep 40 % at least
        per_pixel = span / (1 - share) / max(height, 1.0)
        if height <= 0:  # not laid out yet: leave the same share in data units
            per_pixel = span / (1 - share) / ((below + above) / share)
        fitted = (self._slots, INPUT_TAIL - below * per_pixel, top + OUTPUT_GAP + above * per_pixel)
        if fitted != self._fitted:
            self._fitted = fitted
            self.viewbox.setRange(xRange=(-1.6, self._slots - 0.4), yRange=fitted[1:], padding=0)

    def _viewbox_resized(self) -> None:
        staggered = self._needs_stagger()
        if staggered != self._staggered:
            self._staggered = staggered
            if self.state is not None:
                self._draw_texts(self.state, range(self._start, self._start + self._slots))
        self._fit_range()

    def _needs_stagger(self) -> bool:
        """True when the widest input label is wider than a box's slot (labels would touch)."""
        state = self.state
        if state is None or not self._slots or self.viewbox.width() <= 0:
            return False
        metrics = QFontMetricsF(self.legend_text.textItem.font())
        shown = range(self._start, self._start + self._slots)
        widest = max(metrics.horizontalAdvance(input_text(state.inputs[t], state.labels[t])) for t in shown)
        slot = self.viewbox.width() / (self._slots + 1.2)
        return widest + 0.5 * metrics.height() > slot

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
        self.overview_window.setBrush(pg.mkBrush(accent))
        self.overview_image.setColorMap(colormaps.diverging(theme.diverging_map))
        for text in self.row_labels:
            text.setColor(theme.foreground)
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
        self._draw_arrows(state)
        self._draw_texts(state, shown)
        self._draw_cuts(state, shown)
        self._draw_overview(state)
        self.cursor_band.setRegion((state.cursor - self._start - 0.5, state.cursor - self._start + 0.5))
        title = state.title
        phase = {"forward": "forward pass", "backward": "backpropagation through time", "done": "full pass"}
        window = f"  (timesteps {shown[0]}–{shown[-1]} of {steps})" if steps > self._slots else ""
        rows = ""
        if state.layers * state.directions > 1:  # a second, smaller line: the title must fit a narrow export
            rows = (f"<br><span style='font-size:{self.theme.label_size}; font-weight:normal'>boxes: h_t of "
                    f"layer {state.layer} {'←' if state.direction else '→'} "
                    f"({plural(state.hidden.shape[1], 'unit')})</span>")
        self.set_page_title(self.graphics, f"Unrolled {title} — {phase.get(state.phase, state.phase)}{window}{rows}")
        fg = self.theme.foreground
        units = state.hidden.shape[1]
        self.legend_text.setVisible(state.layers * state.directions == 1)  # rows carry labels otherwise
        legend = (f"<div style='color:{fg}; text-align:center'>h<sub>t</sub><br>{units} unit"
                  + ("s" if units != 1 else "") + "</div>")
        if self._texts_shown.get(id(self.legend_text)) != (legend, fg):
            self._texts_shown[id(self.legend_text)] = (legend, fg)
            self.legend_text.setHtml(legend)

    def _row_index(self, state: DiagramView) -> int:
        return self._rows(state).index((state.layer, state.direction))

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
        units = state.hidden.shape[1]
        levels = hidden_levels(state.hidden_range, state.hidden[np.isfinite(state.hidden).all(axis=1)]) \
            if np.isfinite(state.hidden).any() else (-1.0, 1.0)
        for r, strip in enumerate(self.strips):
            if r != stepped:
                strip.setVisible(False)
                continue
            strip.setVisible(True)
            image = np.full((self._slots * STRIP_COLUMNS, units), np.nan)  # (columns, H)
            for k, t in enumerate(shown):
                image[k * STRIP_COLUMNS + STRIP_FILLED.start: k * STRIP_COLUMNS + STRIP_FILLED.stop] = state.hidden[t]
            if not np.isfinite(image).any():  # nothing computed yet (an all-NaN image crashes the renderer)
                strip.setVisible(False)
                continue
            strip.setImage(image, levels=levels, autoLevels=False)
            base = r * ROW_HEIGHT
            strip.setRect(QRectF(-0.5, base + 0.12, self._slots, BOX_HEIGHT - 0.24))

    def _draw_arrows(self, state: DiagramView) -> None:
        rows = self._rows(state)
        segments, heads, symbols = [], [], []
        for r, (_layer, direction) in enumerate(rows):
            base = r * ROW_HEIGHT
            ys = [base + BOX_HEIGHT * 0.62] + ([base + BOX_HEIGHT * 0.3] if state.has_cell_state else [])  # c_t
            for k in range(self._slots - 1):
                for y in ys:
                    left, right = k + BOX_HALF_WIDTH, k + 1 - BOX_HALF_WIDTH
                    segments += [(left, y), (right, y)]
                    heads.append((left + 0.04, y) if direction else (right - 0.04, y))
                    symbols.append("t3" if direction else "t2")
            below = INPUT_TAIL if r == 0 else base - ROW_HEIGHT + BOX_HEIGHT
            for k in range(self._slots):
                segments += [(k, below), (k, base)]
                heads.append((k, base - 0.06))
                symbols.append("t1")
        top = (len(rows) - 1) * ROW_HEIGHT + BOX_HEIGHT
        for k in range(self._slots):
            segments += [(k, top), (k, top + OUTPUT_GAP)]
            heads.append((k, top + OUTPUT_GAP - 0.05))
            symbols.append("t1")
        points = np.array(segments, dtype=float)
        self.arrows.setData(points[:, 0], points[:, 1])
        head_points = np.array(heads, dtype=float)
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
        grad_y = stepped * ROW_HEIGHT + BOX_HEIGHT + 0.04
        computed = np.isfinite(state.hidden).all(axis=1)
        self._staggered = self._needs_stagger()
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
            self._set_html(item, f"<div style='text-align:center; color:{theme.foreground}'>{label}<br>"
                                 f"<span style='color:{step_colour}'>{step or '&nbsp;'}</span></div>")
            out = state.outputs[t]
            shown_out = computed[t] and np.isfinite(out).all()
            self._set_text(self.texts["output"][k], ("ŷ " + short(float(out[0])) if out.size == 1 else
                                                     "ŷ " + str(int(np.argmax(out)))) if shown_out else "",
                           theme.foreground)
            norm = state.grad_norm[t]
            grad = self.texts["grad"][k]
            grad.setPos(k - GRAD_OFFSET, grad_y)  # left of the arrow that leaves the box: its head never covers it
            visible = state.phase != "forward" and np.isfinite(norm)
            self._set_text(grad, short(float(norm)) if visible else "", theme.pen(3) if not current else theme.pen(1))
        self._fit_range()

    def _draw_cuts(self, state: DiagramView, shown: range) -> None:
        k_cut = state.tbptt
        points = []
        if k_cut:
            rows = len(self._rows(state))
            height = (rows - 1) * ROW_HEIGHT + BOX_HEIGHT
            for k, t in enumerate(shown[:-1]):
                if (t + 1) % k_cut == 0:
                    points += [(k + 0.5, -0.25), (k + 0.5, height + 0.25)]
        if points:
            array = np.array(points)
            self.cuts.setData(array[:, 0], array[:, 1])
        else:
            self.cuts.setData([], [])

    def _draw_overview(self, state: DiagramView) -> None:
        steps = state.seq_len
        visible = steps > self._slots
        if visible != self.overview.isVisible():
            self.overview.setVisible(visible)
            # a hidden plot keeps its row's height in the layout: give it none
            self.overview.setMaximumHeight(OVERVIEW_HEIGHT if visible else 0)
            self.overview.setMinimumHeight(OVERVIEW_HEIGHT if visible else 0)
        if not visible:
            return
        levels = hidden_levels(state.hidden_range, np.nan_to_num(state.hidden))
        self.overview_image.setVisible(bool(np.isfinite(state.hidden).any()))
        if self.overview_image.isVisible():  # an all-NaN image crashes the renderer
            self.overview_image.setImage(state.hidden, levels=levels, autoLevels=False)
        self.overview_image.setRect(QRectF(-0.5, 0, steps, 1))
        self.overview_window.setRegion((self._start - 0.5, self._start + self._slots - 0.5))
        self.set_ranges(self.overview, (-0.5, steps - 0.5), (0.0, 1.0))

    # ------------------------------------------------------------------ clicking

    def slot_center(self, timestep: int, layer: int = 0, direction: int = 0) -> QPointF:
        """The scene position of the middle of ``timestep``'s box (for tests and tooltips)."""
        state = self.state
        r = self._rows(state).index((layer, direction)) if state else 0
        return self.viewbox.mapViewToScene(QPointF(timestep - self._start, r * ROW_HEIGHT + BOX_HEIGHT / 2))

    def _clicked(self, event) -> None:
        if self.state is None or event.isAccepted():
            return
        if not self.viewbox.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.viewbox.mapSceneToView(event.scenePos())
        k = int(round(point.x()))
        if not 0 <= k < self._slots:
            return
        rows = self._rows(self.state)
        r = int(np.clip(np.floor((point.y() + (ROW_HEIGHT - BOX_HEIGHT) / 2) / ROW_HEIGHT), 0, len(rows) - 1))
        layer, direction = rows[r]
        self.cell_clicked.emit(self._start + k, layer, direction)

    def _overview_clicked(self, event) -> None:
        if self.state is None or not self.overview.isVisible():
            return
        if not self.overview.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        t = int(round(self.overview.vb.mapSceneToView(event.scenePos()).x()))
        if 0 <= t < self.state.seq_len:
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
