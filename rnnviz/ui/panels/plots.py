"""Plots of a panel (mixed into Panel): labelled axes with no pyqtgraph menus, a shared time axis,
axis and title labels kept through theme changes, view ranges set only when they change."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from rnnviz.session.views.common import TimeAxis
from rnnviz.ui.panels.axes import IndexAxis, let_shrink
from rnnviz.ui.theme import Theme

Layout = pg.GraphicsLayoutWidget | pg.GraphicsLayout  # where plots go: a page or a sub-layout of one

LEFT_AXIS_WIDTH = 64  # px, fixed so that stacked plots line up on a shared time axis
MARKER_LIMIT = 60  # draw point markers on curves only up to this many points (they merge, and cost time)


class PlotBuilder:
    """Building and labelling plots; the panel owns ``theme``, ``_styled`` and ``_ranges``."""

    theme: Theme
    _styled: list[tuple[pg.PlotItem | pg.ColorBarItem, dict[str, str]]]  # plots and their axis labels
    _ranges: dict[int, tuple]

    def add_sublayout(self, page: pg.GraphicsLayoutWidget, row: int) -> pg.GraphicsLayout:
        """A tight nested layout in ``row`` of ``page`` (a row of small multiples with colour bars)."""
        sub = page.ci.addLayout(row=row, col=0)
        sub.setContentsMargins(0, 0, 0, 0)
        sub.layout.setSpacing(4)
        return sub

    def add_plot(
        self, page: Layout, row: int, col: int, axis_labels: dict[str, str], align_left: bool = False,
        index_axes: Sequence[str] = (), **kwargs: Any,
    ) -> pg.PlotItem:
        """A plot with labelled axes, no pyqtgraph menu or buttons, and no auto-ranging.

        ``axis_labels`` maps "left"/"bottom"/... to the axis label and "title" to the plot's title;
        ``align_left`` fixes the left axis width so plots stacked on a shared time axis line up;
        the sides in ``index_axes`` get an ``IndexAxis`` (whole-number ticks that never collide).
        """
        if index_axes:
            kwargs["axisItems"] = {side: IndexAxis(side) for side in index_axes}
        kwargs.setdefault("enableMenu", False)  # never built: pyqtgraph's menus cost ~20 ms a plot at start-up
        plot = page.addPlot(row=row, col=col, **kwargs)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.disableAutoRange()
        plot.layout.setContentsMargins(2, 2, 2, 2)
        if align_left:
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        self._styled.append((plot, dict(axis_labels)))
        self._style_axes(plot, axis_labels)
        return plot


    def add_time_axis(self, page: Layout, row: int, col: int, under: pg.PlotItem,
                      label: str = "timestep") -> IndexAxis:
        """The one time axis of a stack of plots, in its own row under them, x-linked to ``under``.

        It is the bottom axis of an otherwise empty, flat plot whose left axis is as wide as
        ``under``'s, so its ticks line up with the data and every plot of the stack keeps the same height.
        """
        holder = self.add_plot(page, row, col, {"bottom": label}, index_axes=("bottom",))
        holder.setXLink(under)
        holder.getViewBox().setMouseEnabled(False, False)
        left = holder.getAxis("left")
        left.setStyle(showValues=False, tickLength=0)
        left.setWidth(under.getAxis("left").width())
        axis = holder.getAxis("bottom")
        tick_height = QFontMetricsF(axis.style["tickFont"] or QFont()).height()
        label_font = QFont()
        label_font.setPointSizeF(float(self.theme.label_size.rstrip("pt")))
        height = tick_height + QFontMetricsF(label_font).height() + 16
        axis.setHeight(height)
        holder.setMaximumHeight(height + 4)
        holder.setMinimumHeight(height + 4)
        return axis

    def set_time_axis(self, plot: pg.PlotItem, time: TimeAxis, axis: IndexAxis | None = None) -> None:
        """Name ``plot``'s bottom axis (or ``axis``) by the view's timestep labels when they are tokens
        or padding, else by number, and title it "input token" or "timestep"."""
        (axis or plot.getAxis("bottom")).set_labels(time.labels if time.named else None, upright=True)
        self.set_axis_label(plot, "bottom", time.title)

    def set_axis_label(self, plot: pg.PlotItem, side: str, text: str) -> None:
        """Change one axis label (kept through theme changes); does nothing when it is unchanged."""
        for styled_plot, labels in self._styled:
            if styled_plot is plot:
                if labels.get(side) == text:
                    return
                labels[side] = text
                break
        plot.setLabel(side, text, **{"color": self.theme.foreground, "font-size": self.theme.label_size})

    def set_plot_title(self, plot: pg.PlotItem, text: str) -> None:
        """Change a plot's title (kept through theme changes); does nothing when it is unchanged."""
        for styled_plot, labels in self._styled:
            if styled_plot is plot:
                if labels.get("title") == text:
                    return
                labels["title"] = text
                break
        plot.setTitle(text, color=self.theme.foreground, size=self.theme.label_size)
        let_shrink(plot.titleLabel)

    @staticmethod
    def show_markers(curve: pg.PlotDataItem, points: int, symbol: str = "o") -> None:
        """Point markers only on short curves (<= MARKER_LIMIT points); set only when it changes."""
        wanted = symbol if points <= MARKER_LIMIT else None
        if curve.opts["symbol"] != wanted:
            curve.setSymbol(wanted)

    def set_ranges(self, plot: pg.PlotItem, x: tuple[float, float], y: tuple[float, float]) -> None:
        """Set the view range only when it differs from the last one set (no autoRange per frame)."""
        key = id(plot)
        if self._ranges.get(key) != (x, y):
            self._ranges[key] = (x, y)
            plot.setRange(xRange=x, yRange=y, padding=0)

    def pen(self, index: int) -> Any:
        return pg.mkPen(self.theme.pen(index), width=self.theme.line_width)

    def _style_axes(self, plot: pg.PlotItem | pg.AxisItem, axis_labels: dict[str, str]) -> None:
        theme = self.theme
        tick_font = QFont()
        tick_font.setPointSize(theme.tick_size)
        if isinstance(plot, pg.AxisItem):  # a lone axis (a time axis shared by stacked plots)
            self._style_axis(plot, tick_font)
            for text in axis_labels.values():
                plot.setLabel(text, **{"color": theme.foreground, "font-size": theme.label_size})
            return
        for side in ("left", "bottom", "right", "top"):
            self._style_axis(plot.getAxis(side), tick_font)
        for side, text in axis_labels.items():
            if side == "title":
                plot.setTitle(text, color=theme.foreground, size=theme.label_size)
                let_shrink(plot.titleLabel)
                continue
            plot.setLabel(side, text, **{"color": theme.foreground, "font-size": theme.label_size})

    def _style_axis(self, axis: pg.AxisItem, tick_font: QFont) -> None:
        axis.setPen(self.theme.foreground)
        axis.setTextPen(self.theme.foreground)
        if axis.style["tickFont"] is None or axis.style["tickFont"].pointSize() != tick_font.pointSize():
            axis.setTickFont(tick_font)
