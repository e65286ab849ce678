"""Connectivity (the Distill "memorization" view): for one output timestep t, the shown sample's inputs
coloured by how strongly that output depends on each of them, ||d y_t / d x_t'|| as a share of the
largest over t' <= t (log scale); under it the whole output × input matrix. One column per network: the
live one, then the cell kinds trained for comparison.

Hovering a token of the strip, or a row of the matrix, chooses the output t (``output_chosen``); the
page also follows the shared timestep cursor. Drawn from a ConnectivityView (rnnviz.session.connectivity);
nothing is computed here but colours.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal

from rnnviz.session.connectivity import LOG_FLOOR, ConnectivityView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.theme import Theme

LEVELS = (-4.0, 0.0)  # log10 of the share of the row's largest: 1e-4 .. 1
STRIP_HEIGHT = 34  # px of the coloured input strip


class _Column:
    """The items of one network's column: the strip of inputs and the matrix, with their markers."""

    def __init__(self, panel: "ConnectivityPanel", page: pg.GraphicsLayoutWidget, col: int) -> None:
        self.strip = panel.add_plot(page, 2, col, {}, index_axes=("bottom",))
        self.strip.getAxis("left").setStyle(showValues=False, tickLength=0)
        self.strip.getAxis("left").setWidth(44)
        self.strip.setMaximumHeight(STRIP_HEIGHT + 70)
        self.strip.setMinimumHeight(STRIP_HEIGHT + 50)
        self.strip_image = pg.ImageItem(axisOrder="col-major")
        self.strip.addItem(self.strip_image)
        self.strip_marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.strip_marker.setZValue(5)
        self.strip.addItem(self.strip_marker)
        self.matrix = panel.add_plot(page, 3, col, {"bottom": "input timestep t'", "left": "output timestep t"},
                                     index_axes=("bottom", "left"))
        self.matrix.getAxis("left").setWidth(44)
        self.matrix.invertY(True)
        self.matrix_image = pg.ImageItem(axisOrder="col-major")
        self.matrix.addItem(self.matrix_image)
        self.row_marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.row_marker.setZValue(5)
        self.matrix.addItem(self.row_marker)
        for plot in (self.strip, self.matrix):
            plot.getViewBox().setMouseEnabled(False, False)

    @property
    def images(self) -> list[pg.ImageItem]:
        return [self.strip_image, self.matrix_image]


class ConnectivityPanel(Panel):
    name = "connectivity"
    title = "Connectivity: how far back each output listens"
    output_chosen = Signal(int)  # the output timestep under the mouse

    def build(self) -> None:
        self.layouts: dict[int, tuple[pg.GraphicsLayoutWidget, list[_Column], pg.ColorBarItem]] = {}
        self.keys: dict[int, pg.LabelItem] = {}  # per page: which output the strips show
        self.output: int | None = None  # the output timestep whose inputs the strips colour
        self._columns_for(1, self.graphics)

    def _columns_for(self, count: int, page: pg.GraphicsLayoutWidget | None = None):
        """The page with ``count`` columns (built the first time that many networks are shown)."""
        if count not in self.layouts:
            page = page or self.add_page()
            key = self.add_key(page, 1, 0, colspan=count + 1)
            columns = [_Column(self, page, col) for col in range(count)]
            images = [image for column in columns for image in column.images]
            bar = self.add_colorbar(page, 3, count, images, colormaps.sequential(self.theme.sequential_map),
                                    LEVELS, "share of the row's largest (log10)")
            page.scene().sigMouseMoved.connect(lambda pos, c=columns: self._hovered(pos, c))
            self.layouts[count] = (page, columns, bar)
            self.keys[count] = key
            self.restyle(self.theme)
        return self.layouts[count]

    def restyle(self, theme: Theme) -> None:
        pen = pg.mkPen(theme.pen(1), width=2)
        for page, columns, bar in getattr(self, "layouts", {}).values():
            bar.setColorMap(colormaps.sequential(theme.sequential_map))
            for column in columns:
                column.strip_marker.setPen(pen)
                column.row_marker.setPen(pen)

    # ------------------------------------------------------------------ drawing

    def draw(self, view: ConnectivityView) -> None:
        page, columns, _bar = self._columns_for(len(view.maps))
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
        self.set_page_title(page, f"{self.title} (sample {view.sample})")
        steps = view.time.steps
        real = int(view.time.padding_start)
        if self.output is None or self.output >= real:
            self.output = real - 1  # the last real output until one is chosen
        self.output = self._computed_row(view, self.output)
        for column, connectivity in zip(columns, view.maps):
            self.set_plot_title(column.strip, connectivity.short_title)
            self.set_time_axis(column.strip, view.time)
            shown = connectivity.relative_log.copy()  # (T, T'); padding and rows not computed: NaN, drawn empty
            shown[np.triu_indices(steps, k=1)] = np.nan  # t' > t: not an input of that output, drawn empty
            column.matrix_image.setImage(shown.T, autoLevels=False, levels=LEVELS)  # [t', t]
            column.matrix_image.setRect(QRectF(-0.5, -0.5, steps, steps))  # cells centred on whole timesteps
            self.set_ranges(column.matrix, (-0.5, steps - 0.5), (-0.5, steps - 0.5))
            self.set_ranges(column.strip, (-0.5, steps - 0.5), (0.0, 1.0))
        self._draw_output()

    def set_output(self, timestep: int | None) -> None:
        """Colour the strips by the output at ``timestep`` (None: keep the current one)."""
        view: ConnectivityView | None = self.view
        if timestep is None or view is None or not 0 <= timestep < view.time.padding_start:
            return
        timestep = self._computed_row(view, int(timestep))
        if timestep != self.output:
            self.output = int(timestep)
            self._draw_output()

    @staticmethod
    def _computed_row(view: ConnectivityView, timestep: int) -> int:
        """``timestep``, or the nearest output timestep that was computed (long sequences: some rows)."""
        computed = np.flatnonzero(~np.all(np.isnan(view.maps[0].norms), axis=1))
        if computed.size == 0 or timestep in computed:
            return timestep
        return int(computed[np.argmin(np.abs(computed - timestep))])

    def _draw_output(self) -> None:
        view: ConnectivityView | None = self.view
        if view is None or self.output is None:
            return
        _page, columns, _bar = self._columns_for(len(view.maps))
        t, steps = self.output, view.time.steps
        for column, connectivity in zip(columns, view.maps):
            row = np.nan_to_num(connectivity.relative_log[t], nan=LOG_FLOOR).copy()  # (T',)
            row[t + 1:] = np.nan  # not inputs of this output: drawn empty
            column.strip_image.setImage(row[:, None], autoLevels=False, levels=LEVELS)
            column.strip_image.setRect(QRectF(-0.5, 0, steps, 1))
            column.strip_marker.setRect(t - 0.5, 0, 1, 1)
            column.row_marker.setRect(-0.5, t - 0.5, steps, 1)
        token = f" ('{view.time.labels[t]}')" if view.time.named else ""
        self.set_key(self.keys[len(view.maps)], [
            (self.theme.foreground, "", f"strips: the inputs of the output at t = {t}{token}; hover to choose")])

    def _hovered(self, position: QPointF, columns: list[_Column]) -> None:
        view: ConnectivityView | None = self.view
        if view is None:
            return
        for column in columns:
            for plot, axis in ((column.strip, 0), (column.matrix, 1)):
                if plot.sceneBoundingRect().contains(position):
                    point = plot.getViewBox().mapSceneToView(position)
                    timestep = int(np.floor((point.x() if axis == 0 else point.y()) + 0.5))  # cells centred
                    if 0 <= timestep < view.time.padding_start and timestep != self.output:
                        self.set_output(timestep)
                        self.output_chosen.emit(self.output)
                    return

    # ------------------------------------------------------------------ export

    def csv_rows(self) -> Rows:
        rows: Rows = [["network", "output_t", "input_t", "input_token", "norm", "share_of_row_max"]]
        view: ConnectivityView | None = self.view
        if view is None:
            return rows
        for connectivity in view.maps:
            name = connectivity.cell + (" (this network)" if connectivity.live else "")
            steps = connectivity.norms.shape[0]
            for t in range(steps):
                for source in range(t + 1):
                    norm = float(connectivity.norms[t, source])
                    if np.isnan(norm):
                        continue
                    share = float(10.0 ** connectivity.relative_log[t, source])
                    rows.append([name, t, source, view.time.labels[source], norm, share])
        return rows
