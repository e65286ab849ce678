"""Hidden-state heatmap (units x timesteps) with the input sequence drawn under it on the same time axis."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.training import HiddenView, hidden_view
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import LEFT_AXIS_WIDTH, IndexAxis, Panel, Rows
from rnnviz.ui.panels.onehot import OneHotInputs, one_hot_title
from rnnviz.ui.theme import Theme

KEY_WIDTH = 96  # px: the input names beside the input plot, under the colour bar


def hidden_levels(hidden_range: tuple[float, float] | None, hidden: np.ndarray) -> tuple[float, float]:
    """Colour levels: the cell's range of h_t ([-1, 1] for tanh, LSTM and GRU cells); for an
    unbounded cell (ReLU, ``hidden_range`` None) the data's, symmetric about zero."""
    return colormaps.symmetric_levels(hidden) if hidden_range is None else hidden_range


class PaddingShade:
    """A grey band over the padded timesteps of one plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.region = pg.LinearRegionItem(values=(0, 1), movable=False)
        self.region.setZValue(20)
        for line in self.region.lines:
            line.setPen(pg.mkPen(None))
        plot.addItem(self.region, ignoreBounds=True)
        self._shown: tuple[int, int] | None = None

    def show(self, start: int, end: int) -> None:
        """Shade timesteps start..end-1 (nothing when start >= end); touches the item only on a change."""
        if self._shown == (start, end):
            return
        self._shown = (start, end)
        self.region.setVisible(start < end)
        if start < end:
            self.region.setRegion((start - 0.5, end - 0.5))

    def restyle(self, theme: Theme) -> None:
        self.region.setBrush(pg.mkBrush(theme.padding_brush))


class HiddenPanel(Panel):
    name = "hidden"
    title = "Hidden state h_t"
    view_of = staticmethod(hidden_view)

    def build(self) -> None:
        page = self.graphics
        self.heat_plot, self.image, self.bar = self.add_heatmap(
            page, 1, 0, {"left": "hidden unit"}, colormaps.diverging(self.theme.diverging_map),
            (-1.0, 1.0), "h_t", align_left=True, index_axes=("left",))
        self.heat_plot.hideAxis("bottom")  # the input plot under it carries the time axis
        self.heat_plot.invertY(True)
        self.input_plot = self.add_plot(page, 2, 0, {"left": "input", "bottom": "timestep"},
                                       align_left=True, index_axes=("bottom",))
        self.input_plot.setAxisItems({"left": IndexAxis("left", continuous=True)})
        self.input_plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self._style_axes(self.input_plot, {"left": "input", "bottom": "timestep"})
        self.input_plot.setXLink(self.heat_plot)
        self.input_plot.showGrid(y=True, alpha=0.2)
        page.ci.layout.setRowStretchFactor(1, 3)
        page.ci.layout.setRowStretchFactor(2, 1)
        # the names of the input lines sit beside the plot, under the colour bar: they never cover data
        self.input_key = self.add_key(page, 2, 1, justify="left", vertical=True)
        self.input_key.setMaximumWidth(KEY_WIDTH)
        page.ci.layout.setColumnStretchFactor(0, 1)  # the plots take the width, not the bar and key
        page.ci.layout.setColumnStretchFactor(1, 0)
        self.input_lines: list[pg.PlotDataItem] = []
        self.one_hot = OneHotInputs(self.input_plot)  # token tasks: x_t as one-hot rows, the vocabulary on the axis
        self.shades = [PaddingShade(self.heat_plot), PaddingShade(self.input_plot)]
        self._line_names: tuple[str, ...] = ()
        self._shape: tuple[int, int] | None = None

    def time_plots(self) -> list[pg.PlotItem]:
        return [self.heat_plot, self.input_plot]

    def restyle(self, theme: Theme) -> None:
        self.bar.setColorMap(colormaps.diverging(theme.diverging_map))
        for index, line in enumerate(self.input_lines):
            line.setPen(self.pen(index))
            line.setSymbolBrush(theme.pen(index))
            line.setSymbolPen(self.pen(index))
        for shade in self.shades:
            shade.restyle(theme)
        self.one_hot.restyle(theme)

    def draw(self, view: HiddenView) -> None:
        hidden = view.hidden  # (T, H)
        steps, units = hidden.shape
        self.image.setImage(hidden, autoLevels=False)
        if self._shape != (steps, units):
            self._shape = (steps, units)
            self.image.setRect(-0.5, -0.5, steps, units)
        self.set_bar_levels(self.bar, hidden_levels(view.hidden_range, hidden))
        self._draw_inputs(view)
        for shade in self.shades:
            shade.show(view.time.padding_start, steps)
        self.set_ranges(self.heat_plot, (-0.5, steps - 0.5), (-0.5, units - 0.5))

    def _draw_inputs(self, view: HiddenView) -> None:
        if self.one_hot.show(view):
            for line in self.input_lines:
                line.setData([], [])
            self.set_time_axis(self.input_plot, view.time)
            self.input_plot.getAxis("left").set_labels(view.one_hot_names)
            self.set_axis_label(self.input_plot, "left", one_hot_title(view))
            rows = len(view.one_hot_names)
            self.set_ranges(self.input_plot, (-0.5, view.one_hot.shape[0] - 0.5), (-0.5, rows - 0.5))
            return
        names, values = view.line_names, view.line_values  # (T, lines)
        if names != self._line_names:
            self._rebuild_lines(names, view.value_label)
        x = np.arange(values.shape[0], dtype=float)
        finite = bool(np.isfinite(values).all())
        for index, line in enumerate(self.input_lines):
            self.show_markers(line, values.shape[0])
            line.setData(x, values[:, index], skipFiniteCheck=finite, connect="all" if finite else "finite")
        self.set_time_axis(self.input_plot, view.time)
        self.input_plot.getAxis("left").set_labels(view.value_names)
        if view.value_names is not None:
            low, high = 0.0, float(max(len(view.value_names) - 1, 1))
        else:
            low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
            high = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        span = max(high - low, 1e-9)
        self.set_ranges(self.input_plot, (-0.5, values.shape[0] - 0.5), (low - 0.1 * span, high + 0.1 * span))

    def _rebuild_lines(self, names: tuple[str, ...], y_label: str) -> None:
        """Only when the input features change (another task), never per frame."""
        for line in self.input_lines:
            self.input_plot.removeItem(line)
        self.input_lines = []
        for index, feature in enumerate(names):
            line = self.input_plot.plot(pen=self.pen(index), symbol="o", symbolSize=4,
                                        symbolBrush=self.theme.pen(index), symbolPen=self.pen(index))
            self.input_lines.append(line)
        self._line_names = names
        self.set_key(self.input_key, [(i, "━", name) for i, name in enumerate(names)] if len(names) > 1 else [])
        self.set_axis_label(self.input_plot, "left", y_label)

    def csv_rows(self) -> Rows:
        view: HiddenView | None = self.view
        if view is None:
            return [["timestep"]]
        hidden, time = view.hidden, view.time
        header = ["timestep", "label", *[f"input:{n}" for n in view.line_names], "mask",
                  *[f"h[{u}]" for u in range(hidden.shape[1])]]
        rows: Rows = [header]
        for t in range(hidden.shape[0]):
            rows.append([t, time.labels[t], *view.line_values[t].tolist(), float(time.mask[t]),
                         *hidden[t].tolist()])
        return rows
