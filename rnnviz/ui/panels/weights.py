"""Weights W_ih, W_hh, biases and the output head, or their gradients dL/dW, as signed heatmaps.

Each matrix gets its own colour bar with levels symmetric about zero on a diverging map, so the
neutral colour is exactly zero. Rows of the recurrent matrices are stacked by gate (PyTorch order:
LSTM i, f, g, o; GRU r, z, n); the left axis names the gate blocks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, index_ticks
from rnnviz.ui.theme import Theme

GATE_NAMES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
RECURRENT_ORDER = ("W_ih", "W_hh", "b_ih", "b_hh")
BIAS_KEYS = ("b_ih", "b_hh")
BIASES = "biases"
X_LABELS = {"W_ih": "input", "W_hh": "unit of h_(t-1)", "b_ih": "bias", "b_hh": "bias", BIASES: "bias"}
MAX_SEPARATORS = 3  # lines between gate blocks (LSTM has 4 blocks)


@dataclass
class MatrixView:
    key: str
    plot: pg.PlotItem
    image: pg.ImageItem
    bar: pg.ColorBarItem
    separators: list[pg.InfiniteLine]
    recurrent: bool  # rows are gate blocks of H units
    shape: tuple = ()  # what the axis ticks were last set for


def gate_ticks(cell: str, rows: int, hidden_size: int) -> list[list[tuple[float, str]]] | None:
    """Left-axis ticks naming the gate blocks of a (G*H)-row matrix; None for plain row numbers."""
    names = GATE_NAMES.get(cell)
    if names is None or rows != len(names) * hidden_size:
        return None
    return [[((k + 0.5) * hidden_size - 0.5, name) for k, name in enumerate(names)], []]


class WeightsPanel(Panel):
    name = "weights"
    title = "Weights"

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
        self._layout_keys: tuple[str, ...] | None = None
        self.page = self.graphics

    def restyle(self, theme: Theme) -> None:
        for view in self.views.values():
            view.bar.setColorMap(colormaps.diverging(theme.diverging_map))
            for line in view.separators:
                line.setPen(pg.mkPen(theme.foreground, width=1))

    def _toggled(self, on: bool) -> None:
        self.gradients_action.setChecked(on)
        if self.snapshot is not None:
            self.draw(self.snapshot)

    def shown(self, snapshot: Snapshot) -> dict[str, np.ndarray]:
        """The arrays on screen, recurrent ones first: weights or their gradients (dL/dW)."""
        source = snapshot.weight_grads if self.show_gradients.isChecked() else snapshot.weights
        keys = [k for k in RECURRENT_ORDER if k in source] + sorted(k for k in source if k not in RECURRENT_ORDER)
        return {k: np.asarray(source[k]) for k in keys}

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

    def draw(self, snapshot: Snapshot) -> None:
        heatmaps = self.heatmaps(self.shown(snapshot))
        if tuple(heatmaps) != self._layout_keys:
            self._build_layout(tuple(heatmaps))
        gradients = self.show_gradients.isChecked()
        self.set_page_title(self.page, "Weight gradients  dL/dW" if gradients else "Weights")
        hidden_size = np.asarray(snapshot.hidden).shape[1]
        for key, (matrix, column_labels) in heatmaps.items():
            self._draw_matrix(self.views[key], matrix, column_labels, snapshot.cell, hidden_size)

    def _draw_matrix(self, view: MatrixView, matrix: np.ndarray, column_labels: tuple[str, ...] | None,
                     cell: str, hidden_size: int) -> None:
        rows, cols = matrix.shape
        view.image.setImage(matrix.T, autoLevels=False)  # ImageItem wants (x = column, y = row)
        view.image.setRect(-0.5, -0.5, cols, rows)
        levels = colormaps.symmetric_levels(matrix)
        if tuple(view.bar.levels()) != levels:
            view.bar.setLevels(levels)
        ticks = gate_ticks(cell, rows, hidden_size) if view.recurrent else None
        shape = (cell, rows, cols, hidden_size)
        if view.shape != shape:
            view.shape = shape
            view.plot.getAxis("left").setTicks(ticks or index_ticks(rows, most=6))
            bottom = [[(float(c), label) for c, label in enumerate(column_labels)], []] if column_labels \
                else index_ticks(cols, most=5)
            view.plot.getAxis("bottom").setTicks(bottom)
        blocks = len(ticks[0]) if ticks else 1
        for k, line in enumerate(view.separators, start=1):
            line.setVisible(k < blocks)
            line.setPos(k * hidden_size - 0.5)
        self.set_ranges(view.plot, (-0.5, cols - 0.5), (-0.5, rows - 0.5))

    def _build_layout(self, keys: tuple[str, ...]) -> None:
        """Only when the set of matrices changes (another model), never per frame."""
        if self._layout_keys is not None:
            old = self.page
            self.page = self.add_page()
            self.stack.setCurrentWidget(self.page)
            self.remove_page(old)
        self.views = {}
        recurrent = [k for k in keys if k in RECURRENT_ORDER or k == BIASES]
        head = [k for k in keys if k not in recurrent]
        for row_index, row_keys in enumerate((recurrent, head), start=1):
            if not row_keys:
                continue
            sub = self.add_sublayout(self.page, row_index)
            for index, key in enumerate(row_keys):
                self.views[key] = self._add_matrix(sub, index, key, first=index == 0)
                weight = 3 if key == "W_hh" else (2 if key.startswith("W") else 1)
                sub.layout.setColumnStretchFactor(index, weight)
        self.page.ci.layout.setRowStretchFactor(1, 5)
        self.page.ci.layout.setRowStretchFactor(2, 2)
        self._layout_keys = keys
        self.restyle(self.theme)

    def _add_matrix(self, sub: pg.GraphicsLayout, col: int, key: str, first: bool) -> MatrixView:
        recurrent = key in RECURRENT_ORDER or key == BIASES
        x_label = X_LABELS.get(key, "hidden unit" if key.upper().startswith("W") else "bias")
        labels = {"title": key, "bottom": x_label}
        if first:
            labels["left"] = "gate · unit" if recurrent else "output"
        plot = self.add_plot(sub, 0, col, labels)
        image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(image)
        # horizontal colour bars under each matrix: the panel is short of width, not of height
        bar = self.add_colorbar(sub, 1, col, [image], colormaps.diverging(self.theme.diverging_map),
                                (-1.0, 1.0), "", horizontal=True)
        plot.invertY(True)
        separators = []
        for _ in range(MAX_SEPARATORS if recurrent else 0):
            line = pg.InfiniteLine(angle=0, movable=False)
            line.setZValue(10)
            plot.addItem(line, ignoreBounds=True)
            separators.append(line)
        return MatrixView(key, plot, image, bar, separators, recurrent)

    def csv_rows(self) -> Rows:
        value_name = "gradient" if self.show_gradients.isChecked() else "weight"
        rows: Rows = [["matrix", "row", "column", value_name]]
        if self.snapshot is None:
            return rows
        for key, values in self.shown(self.snapshot).items():
            matrix = values.reshape(-1, 1) if values.ndim == 1 else values
            for r in range(matrix.shape[0]):
                for c in range(matrix.shape[1]):
                    rows.append([key, r, c, float(matrix[r, c])])
        return rows
