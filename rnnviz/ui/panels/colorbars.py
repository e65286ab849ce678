"""Colour bars of a panel (mixed into Panel): heatmaps with their bar, fixed levels, ticks at the ends."""
from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg

from rnnviz.ui.panels.plots import Layout


class ColourBars:
    """Heatmaps and colour bars; uses the panel's ``add_plot`` and ``_style_axes`` (PlotBuilder)."""

    _styled: list

    def add_heatmap(
        self,
        page: Layout,
        row: int,
        col: int,
        axis_labels: dict[str, str],
        colormap: pg.ColorMap,
        levels: tuple[float, float],
        bar_label: str,
        align_left: bool = False,
        index_axes: Sequence[str] = (),
    ) -> tuple[pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
        """A plot holding an image, with its colour bar in the next layout column."""
        plot = self.add_plot(page, row, col, axis_labels, align_left=align_left, index_axes=index_axes)
        image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(image)
        bar = self.add_colorbar(page, row, col + 1, [image], colormap, levels, bar_label)
        return plot, image, bar

    def add_colorbar(
        self,
        page: Layout,
        row: int,
        col: int,
        images: list[pg.ImageItem],
        colormap: pg.ColorMap,
        levels: tuple[float, float],
        label: str,
        horizontal: bool = False,
    ) -> pg.ColorBarItem:
        """A fixed (non-interactive) colour bar for ``images``; its value axis carries ``label``."""
        bar = pg.ColorBarItem(values=levels, width=12, colorMap=colormap, interactive=False,
                              colorMapMenu=False, orientation="horizontal" if horizontal else "vertical")
        bar.setImageItem(images)
        bar.axis.enableAutoSIPrefix(False)
        self.set_bar_levels(bar, levels)
        if horizontal:
            bar.setMaximumHeight(60)
            side = "bottom"
        else:
            bar.axis.setWidth(62 if label else 42)
            side = "right"
        page.addItem(bar, row=row, col=col)
        labels = {side: label} if label else {}
        self._styled.append((bar, labels))
        self._style_axes(bar, labels)
        return bar

    @staticmethod
    def set_bar_levels(bar: pg.ColorBarItem, levels: tuple[float, float], middle: bool = True) -> None:
        """Set a colour bar's levels and label only its ends (and middle): no crowded ticks on a short bar.

        Does nothing when the levels are unchanged, so a live panel does not re-lay out its text.
        """
        levels = (float(levels[0]), float(levels[1]))
        if getattr(bar, "_rnnviz_ticked", None) == (levels, middle):
            return
        bar._rnnviz_ticked = (levels, middle)
        if tuple(bar.levels()) != levels:
            bar.setLevels(levels)
        low, high = levels
        centre = 0.0 if low < 0 < high else (low + high) / 2
        values = (low, centre, high) if middle else (low, high)
        bar.axis.setTicks([[(v, f"{v:.2g}") for v in values], []])
