"""The shared timestep cursor: a dashed vertical line in each plot that follows it."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt


class CursorLines:
    """A vertical line at the cursor's timestep in each of some plots (added from outside the panels)."""

    def __init__(self, color: str = "#d55e00") -> None:
        self.lines: list[pg.InfiniteLine] = []
        self.plots: list[pg.PlotItem] = []  # where the lines are
        self.color = color
        self.timestep: int | None = None

    def attach(self, plot: pg.PlotItem) -> pg.InfiniteLine:
        line = pg.InfiniteLine(angle=90, movable=False,
                               pen=pg.mkPen(self.color, width=1, style=Qt.PenStyle.DashLine))
        line.setZValue(50)
        line.setVisible(self.timestep is not None)
        if self.timestep is not None:
            line.setPos(self.timestep)
        plot.addItem(line, ignoreBounds=True)
        self.lines.append(line)
        self.plots.append(plot)
        return line

    def move(self, timestep: int | None) -> None:
        self.timestep = timestep
        for line in self.lines:
            line.setVisible(timestep is not None)
            if timestep is not None:
                line.setPos(float(timestep))

    def follow(self, plots: list[pg.PlotItem]) -> None:
        """Attach a line to each of ``plots`` that has none yet (panels build some plots when first needed)."""
        for plot in plots:
            if not any(plot is known for known in self.plots):
                self.attach(plot)

    def positions(self) -> list[float]:
        return [line.value() for line in self.lines if line.isVisible()]
