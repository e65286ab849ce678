"""Colour bars of a panel (mixed into Panel): heatmaps with their bar, fixed levels, ticks at the ends.

A bar's tick labels stay inside the bar's own length (pyqtgraph centres them on the tick, so the end
labels reach half a line past the ends, into a neighbouring bar or out of the panel), a label that
would overlap another is left out (the middle one first: the ends say the range), and the axis is as
wide as its widest label, so "-0.25" is never cut to "-0.".
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF

from rnnviz.ui.panels.plots import Layout

TICK_SPACE = 12  # px between a vertical bar's edge and its label text (tick length and pyqtgraph's offset)


def bar_tick_text(value: float) -> str:
    """A colour-bar end label: two significant digits, "0" for zero, never "-0"."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    return f"{value:.2g}"


def _labels_inside(axis: pg.AxisItem, generate, painter):
    """pyqtgraph's draw specs of ``axis`` with every tick label moved inside the axis' length and the
    labels that would then overlap another left out (ends first, so the range always shows)."""
    axis_spec, tick_specs, text_specs = generate(painter)
    if not text_specs:
        return axis_spec, tick_specs, text_specs
    start, end = axis_spec[1], axis_spec[2]
    vertical = axis.orientation in ("left", "right")
    low, high = (min(start.y(), end.y()), max(start.y(), end.y())) if vertical else (
        min(start.x(), end.x()), max(start.x(), end.x()))
    moved = []
    for rect, flags, text in text_specs:
        rect = QRectF(rect)
        first, size = (rect.top(), rect.height()) if vertical else (rect.left(), rect.width())
        shifted = min(max(first, low), high - size)
        if vertical:
            rect.moveTop(shifted)
        else:
            rect.moveLeft(shifted)
        moved.append((rect, flags, text))
    order = sorted(range(len(moved)), key=lambda k: k not in (0, len(moved) - 1))  # the ends first
    kept: list[int] = []
    for k in order:
        if all(not moved[k][0].intersects(moved[j][0]) for j in kept):
            kept.append(k)
    return axis_spec, tick_specs, [moved[k] for k in sorted(kept)]


def keep_labels_inside(bar: pg.ColorBarItem) -> None:
    """Make ``bar``'s axis draw its labels within the bar's length, never overlapping (see module doc)."""
    axis = bar.axis
    if getattr(axis, "_rnnviz_inside", False):
        return
    axis._rnnviz_inside = True
    axis.generateDrawSpecs = partial(_labels_inside, axis, axis.generateDrawSpecs)


def fit_bar_width(bar: pg.ColorBarItem, labels: Sequence[str], titled: bool) -> None:
    """A vertical bar's axis as wide as its widest tick label plus its title line (when it has one)."""
    axis = bar.axis
    if axis.orientation not in ("left", "right"):
        return
    font = axis.style["tickFont"] or QFont()
    widest = max((QFontMetricsF(font).horizontalAdvance(text) for text in labels), default=0.0)
    title = 0.0
    if titled:
        title_font = QFont()
        size = axis.labelStyle.get("font-size", "11pt")
        title_font.setPointSizeF(float(str(size).rstrip("pt") or 11))
        title = QFontMetricsF(title_font).height() + 2
    width = math.ceil(TICK_SPACE + widest + title + 4)
    if axis.width() != width:
        axis.setWidth(width)


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
        keep_labels_inside(bar)
        if horizontal:
            bar.setMaximumHeight(60)
            side = "bottom"
        else:
            side = "right"
        page.addItem(bar, row=row, col=col)
        labels = {side: label} if label else {}
        self._styled.append((bar, labels))
        self._style_axes(bar, labels)
        self.set_bar_levels(bar, levels)
        return bar

    @staticmethod
    def set_bar_levels(bar: pg.ColorBarItem, levels: tuple[float, float], middle: bool = True) -> None:
        """Set a colour bar's levels and label only its ends (and middle): no crowded ticks on a short bar
        (a label that does not fit is left out when drawn, see ``keep_labels_inside``).

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
        ticks = [(v, bar_tick_text(v)) for v in values]
        bar.axis.setTicks([ticks, []])
        keep_labels_inside(bar)
        fit_bar_width(bar, [text for _, text in ticks], titled=bool(bar.axis.labelText))
