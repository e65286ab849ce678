"""The input of a token task as what the network really reads: one-hot rows (one per vocabulary entry)
over the timesteps, the vocabulary on the axis, padding left blank."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.training import HiddenView
from rnnviz.ui.theme import Theme


def one_hot_title(view: HiddenView) -> str:
    """The axis title, short: it stands beside the heatmap's (the rows are named on the axis)."""
    return "x_t"


class OneHotInputs:
    """A one-hot image in ``plot``: x (timestep) by row (token), 1 drawn in the foreground colour."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="col-major")  # image[t, row]
        self.image.setZValue(-10)
        self.image.setVisible(False)
        plot.addItem(self.image)
        self._shape: tuple[int, int] | None = None

    def restyle(self, theme: Theme) -> None:
        self.image.setColorMap(pg.ColorMap([0.0, 1.0], [theme.background, theme.foreground]))

    def show(self, view: HiddenView) -> bool:
        """Draw ``view.one_hot`` when it has one (True); else hide the image (False)."""
        if view.one_hot is None or not view.one_hot.size:
            if self.image.isVisible():
                self.image.setVisible(False)
                self.plot.invertY(False)
            return False
        one_hot = np.asarray(view.one_hot, dtype=float)  # (T, R)
        self.image.setImage(one_hot, levels=(0.0, 1.0), autoLevels=False)
        if self._shape != one_hot.shape:
            self._shape = one_hot.shape
            self.image.setRect(-0.5, -0.5, one_hot.shape[0], one_hot.shape[1])
        if not self.image.isVisible():
            self.image.setVisible(True)
            self.plot.invertY(True)  # the vocabulary reads top to bottom
        return True
