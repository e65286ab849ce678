"""The whole sequence as one heat strip under a diagram that shows only a window of it, the window
marked; the unrolled panel shows it when the sequence is longer than the window (click it to jump)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor

from rnnviz.ui import colormaps
from rnnviz.ui.panels.hidden import hidden_levels
from rnnviz.ui.theme import Theme

OVERVIEW_HEIGHT = 70  # px of the whole-sequence strip under a diagram that shows a window of it


class SequenceOverview:
    """Owns ``plot`` (a styled, empty plot of the panel): the strip of h_t over all timesteps and the
    region of the shown window."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.hideAxis("left")
        plot.setMaximumHeight(OVERVIEW_HEIGHT)
        plot.getAxis("bottom").setStyle(tickLength=3)
        self.image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(self.image)
        self.window = pg.LinearRegionItem(values=(0, 1), movable=False)
        plot.addItem(self.window, ignoreBounds=True)

    def restyle(self, theme: Theme, accent: QColor) -> None:
        self.window.setBrush(pg.mkBrush(accent))
        self.image.setColorMap(colormaps.diverging(theme.diverging_map))

    def show(self, hidden: np.ndarray, hidden_range: tuple[float, float] | None, start: int, slots: int) -> bool:
        """Draw h_t (hidden: (T, H)) with timesteps ``start``..``start + slots - 1`` marked; hidden (and
        taking no height) when all T fit in the window. True when shown."""
        steps = hidden.shape[0]
        visible = steps > slots
        if visible != self.plot.isVisible():
            self.plot.setVisible(visible)
            # a hidden plot keeps its row's height in the layout: give it none
            self.plot.setMaximumHeight(OVERVIEW_HEIGHT if visible else 0)
            self.plot.setMinimumHeight(OVERVIEW_HEIGHT if visible else 0)
        if not visible:
            return False
        levels = hidden_levels(hidden_range, np.nan_to_num(hidden))
        self.image.setVisible(bool(np.isfinite(hidden).any()))
        if self.image.isVisible():  # an all-NaN image crashes the renderer
            self.image.setImage(hidden, levels=levels, autoLevels=False)
        self.image.setRect(QRectF(-0.5, 0, steps, 1))
        self.window.setRegion((start - 0.5, start + slots - 0.5))
        return True

    def timestep_at(self, scene_pos: QPointF, steps: int) -> int | None:
        """The timestep under a click at ``scene_pos``, or None (hidden, outside, or past the end)."""
        if not self.plot.isVisible() or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        t = int(round(self.plot.vb.mapSceneToView(scene_pos).x()))
        return t if 0 <= t < steps else None
