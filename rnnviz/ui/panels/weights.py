"""Weights W_ih, W_hh, biases and the output head, or their gradients dL/dW, as signed heatmaps.

Two rows: the recurrent layer (W_ih, W_hh and the two bias vectors, side by side on a shared row
axis) and the output head (W_out, b_out). Each row has one colour bar with levels symmetric about
zero on a diverging map, so the neutral colour is exactly zero and equal colours in a row mean equal
values; the levels snap to round numbers so they change only now and then while training. Rows of
the recurrent matrices are stacked by gate (PyTorch's order, ``CellSpec.block_names``, e.g. LSTM
i, f, g, o); the left axis names the gate blocks and thin lines separate them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QCheckBox

from rnnviz.engine.cells import cell_spec
from rnnviz.session.views.training import WeightsView, weights_view
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, fitted_title_size, nice_ceiling
from rnnviz.ui.theme import Theme

RECURRENT_ORDER = ("W_ih", "W_hh", "b_ih", "b_hh")
HEAD_KEYS = ("W_out", "b_out")  # everything else is the recurrent layer's (a cell's own kinds: nu, B_re, ...)
BIAS_KEYS = ("b_ih", "b_hh")
BIASES = "biases"
X_LABELS = {"W_ih": "input", "W_hh": "h_(t-1)", BIASES: "bias"}
HEAD_TEXT_HEIGHT, HEAD_ROW_HEIGHT = 64, 16  # px: the output head's title and axes, and each of its rows
GATE_LABEL_LINES = 0.85  # a gate block's label needs this many text lines of height ("i f g o" have no
# descenders but g: 0.85 of a line keeps their glyphs apart, and names all four in a 720-px-high window)
AXIS_LABEL_SMALLEST_PT = 7.0
MIN_NARROW_WIDTH = 44  # px: a narrow matrix (inputs, biases) still fits its tick labels and title


@dataclass
class MatrixView:
    key: str
    plot: pg.PlotItem
    image: pg.ImageItem
    bar: pg.ColorBarItem  # shared by every matrix of the row
    separators: list[pg.InfiniteLine]
    recurrent: bool  # rows are gate blocks of H units
    shape: tuple = ()  # what the axis ticks were last set for
    gate_ticks: list[tuple[float, str]] | None = None  # every gate block's label (thinned to fit on screen)


def gate_ticks(names: tuple[str, ...], rows: int, hidden_size: int) -> list[list[tuple[float, str]]] | None:
    """Left-axis ticks naming the gate blocks ``names`` of a (G*H)-row matrix; None for plain row numbers."""
    if not names or rows != len(names) * hidden_size:
        return None
    return [[((k + 0.5) * hidden_size - 0.5, name) for k, name in enumerate(names)], []]


def row_levels(matrices: list[np.ndarray]) -> tuple[float, float]:
    """Levels (-m, m) shared by a row of matrices: m is a round number >= the largest magnitude."""
    largest = max(colormaps.symmetric_levels(m)[1] for m in matrices)
    top = nice_ceiling(largest) if largest > 1e-12 else 1e-12
    return -top, top


class WeightsPanel(Panel):
    name = "weights"
    title = "Weights"
    view_of = staticmethod(weights_view)

    def build(self) -> None:
        self.show_gradients = QCheckBox("show gradients dL/dW")
        self.show_gradients.toggled.connect(self._toggled)
        self.controls.addStretch(1)
        self.controls.addWidget(self.show_gradients)
        self.gradients_action = self.menu.addAction("Show gradients dL/dW")
        self.gradients_action.setCheckable(True)
        self.gradients_action.toggled.connect(self.show_gradients.setChecked)
        self.menu.insertSeparator(self.gradients_action)
        self.views: dict[str, MatrixView] = {}
        self.bars: list[pg.ColorBarItem] = []
        self._rows: list[list[str]] = []
        self._layout_keys: tuple[str, ...] | None = None
        self._stretch: tuple | None = None
        self.page = self.graphics

    def restyle(self, theme: Theme) -> None:
        for bar in self.bars:
            bar.setColorMap(colormaps.diverging(theme.diverging_map))
        for view in self.views.values():
            for line in view.separators:
                line.setPen(pg.mkPen(theme.foreground, width=1))
            shown = getattr(view.plot, "_rnnviz_label", None)
            if shown is not None:  # the theme re-styled the label at its full size: fit it again
                view.plot._rnnviz_label = None
                self._fit_axis_label(view.plot, shown[0])

    def _toggled(self, on: bool) -> None:
        self.gradients_action.setChecked(on)
        if self.view is not None:
            self.draw(self.view)

    def shown(self, view: WeightsView) -> dict[str, np.ndarray]:
        """The arrays on screen, recurrent ones first: weights or their gradients (dL/dW)."""
        return view.gradients if self.show_gradients.isChecked() else view.weights

    @staticmethod
    def heatmaps(arrays: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, tuple[str, ...] | None]]:
        """Heatmap title -> (matrix (rows, cols), column labels). The two bias vectors share one."""
        shown: dict[str, tuple[np.ndarray, tuple[str, ...] | None]] = {}
        for key, values in arrays.items():
            if key in BIAS_KEYS and all(k in arrays for k in BIAS_KEYS):
                if key == BIAS_KEYS[0]:
                    both = np.stack([arrays[k] for k in BIAS_KEYS], axis=1)  # (G*H, 2)
                    shown[BIASES] = (both, ("ih", "hh"))
                continue
            shown[key] = (values.reshape(-1, 1) if values.ndim == 1 else values, None)
        return shown

    def draw(self, view: WeightsView) -> None:
        heatmaps = self.heatmaps(self.shown(view))
        layout_keys = tuple((key, matrix.shape[0]) for key, (matrix, _) in heatmaps.items())
        if layout_keys != self._layout_keys:
            self._build_layout(layout_keys, view.cell)
        gradients = self.show_gradients.isChecked()
        self.set_page_title(self.page, "Weight gradients  dL/dW" if gradients else "Weights")
        for key, (matrix, column_labels) in heatmaps.items():
            self._draw_matrix(self.views[key], matrix, column_labels or view.column_names.get(key),
                              view.row_names.get(key), view)
        for row_keys, bar in zip(self._rows, self.bars):
            self.set_bar_levels(bar, row_levels([heatmaps[k][0] for k in row_keys]))
        self._set_stretch(heatmaps)

    def _draw_matrix(self, matrix_view: MatrixView, matrix: np.ndarray, column_labels: tuple[str, ...] | None,
                     row_labels: tuple[str, ...] | None, view: WeightsView) -> None:
        rows, cols = matrix.shape
        matrix_view.image.setImage(matrix.T, autoLevels=False)  # ImageItem wants (x = column, y = row)
        shape = (view.gate_names, rows, cols, view.hidden_size, column_labels, row_labels)
        if matrix_view.shape == shape:
            return
        matrix_view.shape = shape
        matrix_view.image.setRect(-0.5, -0.5, cols, rows)
        ticks = gate_ticks(view.gate_names, rows, view.hidden_size) if matrix_view.recurrent else None
        left = matrix_view.plot.getAxis("left")
        matrix_view.gate_ticks = None if ticks is None else ticks[0]
        left.setTicks(ticks)
        self._fit_gate_labels(matrix_view)
        if not matrix_view.recurrent:
            left.set_labels(row_labels)  # this task's output names (none: row numbers), never the last task's
        matrix_view.plot.getAxis("bottom").set_labels(column_labels)
        blocks = len(ticks[0]) if ticks else 1
        while len(matrix_view.separators) < blocks - 1:  # lines between the gate blocks, made when first needed
            matrix_view.separators.append(self._separator(matrix_view.plot))
        for k, line in enumerate(matrix_view.separators, start=1):
            line.setVisible(k < blocks)
            line.setPos(k * view.hidden_size - 0.5)
        self.set_ranges(matrix_view.plot, (-0.5, cols - 0.5), (-0.5, rows - 0.5))

    def _fit_gate_labels(self, matrix_view: MatrixView) -> None:
        """Name every gate block when the labels fit beside them, else every second (third, ...) one:
        fixed ticks are never thinned by pyqtgraph, and four labels in a short plot overlap."""
        ticks = matrix_view.gate_ticks
        if not ticks:
            return
        axis = matrix_view.plot.getAxis("left")
        height = matrix_view.plot.getViewBox().height()
        line = QFontMetricsF(axis.style["tickFont"] or QFont()).height()
        stride = 1
        while stride < len(ticks) and height > 0 and height * stride / len(ticks) < GATE_LABEL_LINES * line:
            stride += 1
        shown = [tick for k, tick in enumerate(ticks) if k % stride == 0]
        if axis._tickLevels is None or list(axis._tickLevels[0]) != shown:
            axis.setTicks([shown, []])

    def _fit_axis_label(self, plot: pg.PlotItem, text: str) -> None:
        """A narrow matrix's column label in a smaller font, so that neighbours' labels never run together."""
        largest = float(self.theme.label_size.rstrip("pt"))
        size = fitted_title_size(text, plot.width() + 2, largest, AXIS_LABEL_SMALLEST_PT, bold=False)
        wanted = (text, size, self.theme.foreground)
        if getattr(plot, "_rnnviz_label", None) != wanted:
            plot._rnnviz_label = wanted
            plot.setLabel("bottom", text, **{"color": self.theme.foreground, "font-size": f"{size:g}pt"})

    def _set_stretch(self, heatmaps) -> None:
        """Share each row's width by columns (narrow inputs and biases keep a minimum width) and the
        height between the recurrent row and the head by rows; only when the shapes change."""
        shapes = tuple(heatmaps[k][0].shape for row in self._rows for k in row)
        if shapes == self._stretch:
            return
        self._stretch = shapes
        for sub, row_keys in zip(self._subs, self._rows):
            hidden = max(heatmaps[k][0].shape[1] for k in row_keys)
            for col, key in enumerate(row_keys):
                cols = heatmaps[key][0].shape[1]
                sub.layout.setColumnStretchFactor(col, max(1, round(6 * min(cols, hidden) / hidden)))
                sub.layout.setColumnMinimumWidth(col, MIN_NARROW_WIDTH)
        if len(self._rows) == 2:
            head_rows = heatmaps[self._rows[1][0]][0].shape[0]
            self.page.ci.layout.setRowStretchFactor(1, 3)
            self.page.ci.layout.setRowStretchFactor(2, 2 if head_rows > 4 else 1)
            # a head of a few outputs needs little height: the gate blocks above get it (all four named)
            self._subs[1].setMaximumHeight(HEAD_TEXT_HEIGHT + HEAD_ROW_HEIGHT * head_rows if head_rows <= 4 else 1e6)

    def _build_layout(self, layout_keys: tuple[tuple[str, int], ...], cell: str) -> None:
        """Only when the set of matrices changes (another model), never per frame."""
        if self._layout_keys is not None:
            old = self.page
            self.page = self.add_page()
            self.stack.setCurrentWidget(self.page)
            self.remove_page(old)
        self.views, self.bars, self._rows, self._subs = {}, [], [], []
        self._stretch = None
        keys = [key for key, _ in layout_keys]
        rows = dict(layout_keys)  # matrices with other row counts (the selective layer's W_B) get their own axis
        head = [k for k in keys if k in HEAD_KEYS]
        recurrent = [k for k in keys if k not in head]
        for row_index, row_keys in enumerate((recurrent, head), start=1):
            if not row_keys:
                continue
            sub = self.add_sublayout(self.page, row_index)
            sub.layout.setHorizontalSpacing(3)
            images, first = [], None
            for index, key in enumerate(row_keys):
                same_rows = first is not None and rows[key] == rows[row_keys[0]]
                view = self._add_matrix(sub, index, key, first if same_rows else None, cell)
                first = first or view.plot
                images.append(view.image)
                self.views[key] = view
            bar = self.add_colorbar(sub, 0, len(row_keys), images, colormaps.diverging(self.theme.diverging_map),
                                    (-1.0, 1.0), "")  # untitled: the panel's title says weights or dL/dW
            for key in row_keys:
                self.views[key].bar = bar
            self.bars.append(bar)
            self._rows.append(row_keys)
            self._subs.append(sub)
        self._layout_keys = layout_keys
        self.restyle(self.theme)

    def _add_matrix(self, sub: pg.GraphicsLayout, col: int, key: str, first: pg.PlotItem | None,
                    cell: str) -> MatrixView:
        recurrent = key in RECURRENT_ORDER or key == BIASES
        x_label = (X_LABELS.get(key) or cell_spec(cell).column_words.get(key)
                   or ("hidden unit" if key == "W_out" else "bias" if key == "b_out" else "value"))
        plot = self.add_plot(sub, 0, col, {"title": key, "bottom": x_label}, index_axes=("left", "bottom"))
        if first is not None:  # the row shares one row axis, named on its first matrix
            plot.setYLink(first)
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").setWidth(4)
        image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(image)
        plot.invertY(True)
        view = MatrixView(key, plot, image, None, [], recurrent)  # type: ignore[arg-type]
        if recurrent:
            plot.getViewBox().sigResized.connect(lambda *_args, v=view: self._fit_gate_labels(v))
        plot.getViewBox().sigResized.connect(lambda *_args, p=plot, t=x_label: self._fit_axis_label(p, t))
        return view

    def _separator(self, plot: pg.PlotItem) -> pg.InfiniteLine:
        line = pg.InfiniteLine(angle=0, movable=False)
        line.setZValue(10)
        line.setPen(pg.mkPen(self.theme.foreground, width=1))
        plot.addItem(line, ignoreBounds=True)
        return line

    def csv_rows(self) -> Rows:
        value_name = "gradient" if self.show_gradients.isChecked() else "weight"
        rows: Rows = [["matrix", "row", "column", value_name]]
        if self.view is None:
            return rows
        for key, values in self.shown(self.view).items():
            matrix = values.reshape(-1, 1) if values.ndim == 1 else values
            for r in range(matrix.shape[0]):
                for c in range(matrix.shape[1]):
                    rows.append([key, r, c, float(matrix[r, c])])
        return rows
