"""Hidden-state trajectories: held-out states on their first two principal components, coloured by class
or target, and the shown sample's path through them, with the cursor's timestep ringed.

Drawn from a TrajectoryView (rnnviz.session.views.trajectory); the panel only chooses colours, ranges
and where the token labels go. The states are drawn as one scatter per colour (at most
MAX_CLASSES_SHOWN classes, or VALUE_BINS bins of a colour map for a regression target): a brush per
point would cost a QBrush each.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from rnnviz.session.views.trajectory import MAX_CLASSES_SHOWN, OTHER_CLASS, TrajectoryView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.theme import Theme

VALUE_BINS = 16  # a regression target's colour map in this many steps
MAX_TOKEN_LABELS = 16  # label at most this many points of the path (evenly thinned beyond)
POINT_ALPHA = 110  # the held-out states are a faint cloud under the path


class TrajectoryPanel(Panel):
    name = "trajectories"
    title = "Hidden-state trajectories"

    def build(self) -> None:
        self.plot = self.add_plot(self.graphics, 1, 0, {"bottom": "PC1", "left": "PC2"})
        self.key = self.add_key(self.graphics, 1, 2, justify="left", vertical=True)  # beside: it can be long
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.clouds = [pg.ScatterPlotItem(size=4, pen=None) for _ in range(max(MAX_CLASSES_SHOWN, VALUE_BINS))]
        for cloud in self.clouds:
            self.plot.addItem(cloud)
        self.path = pg.PlotDataItem(symbol="o", symbolSize=6)
        self.path.setZValue(10)
        self.plot.addItem(self.path)
        self.arrow = pg.ArrowItem(headLen=14, tipAngle=30, baseAngle=20, pen=None)
        self.arrow.setZValue(11)
        self.plot.addItem(self.arrow)
        self.cursor = pg.ScatterPlotItem(size=16, symbol="o", brush=None)
        self.cursor.setZValue(12)
        self.plot.addItem(self.cursor)
        self.token_labels: list[pg.TextItem] = []
        self.value_bar = pg.ColorBarItem(values=(0, 1), width=12, interactive=False, colorMapMenu=False)
        self.value_bar.axis.setWidth(62)
        self.graphics.addItem(self.value_bar, row=1, col=1)
        self._styled.append((self.value_bar, {"right": "target"}))
        self.cursor_step: int | None = None
        self._bar_shown: bool | None = None

    def restyle(self, theme: Theme) -> None:
        self.path.setPen(pg.mkPen(theme.foreground, width=1))
        self.path.setSymbolPen(pg.mkPen(theme.foreground, width=1))
        self.path.setSymbolBrush(pg.mkBrush(theme.background))
        self.arrow.setStyle(brush=pg.mkBrush(theme.foreground))  # setStyle re-applies its own brush
        self.cursor.setPen(pg.mkPen(theme.pen(1), width=2))
        self.value_bar.setColorMap(colormaps.sequential(theme.sequential_map))
        for label in self.token_labels:
            label.setColor(theme.foreground)
        if self.view is not None:
            self.draw(self.view)

    # ------------------------------------------------------------------ drawing

    def class_colour(self, index: int, names: tuple[str, ...]) -> str:
        return self.theme.muted if names[index] == OTHER_CLASS else self.theme.pen(index)

    @staticmethod
    def _finite(view: TrajectoryView) -> np.ndarray:
        """(N,) the points that can be drawn (a diverged network's may overflow)."""
        return np.all(np.isfinite(view.points), axis=1) if view.points.size else np.zeros(0, bool)

    def draw(self, view: TrajectoryView) -> None:
        self.set_page_title(self.graphics, view.title)
        self.set_axis_label(self.plot, "bottom", view.axis_label(0))
        self.set_axis_label(self.plot, "left", view.axis_label(1))
        if view.colour_kind == "class":
            self._draw_classes(view)
        else:
            self._draw_values(view)
        self.path.setData(view.path[:, 0], view.path[:, 1], connect="finite")
        self._draw_arrow(view.path)
        self._draw_token_labels(view)
        self._draw_cursor()
        self._update_range(view)

    def _show_value_bar(self, shown: bool) -> None:
        """The colour bar of a regression target; hidden, it gives its column's width back to the plot."""
        if self._bar_shown == shown:
            return
        self._bar_shown = shown
        self.value_bar.setVisible(shown)
        self.value_bar.setMaximumWidth(120 if shown else 0)
        self.value_bar.setMinimumWidth(90 if shown else 0)

    def _draw_classes(self, view: TrajectoryView) -> None:
        self._show_value_bar(False)
        entries = []
        for index, cloud in enumerate(self.clouds):
            chosen = (view.colours == index) & self._finite(view) if index < len(view.class_names) else np.zeros(0, bool)
            if not chosen.any():
                cloud.setData([], [])
                continue
            colour = self.class_colour(index, view.class_names)
            cloud.setData(view.points[chosen, 0], view.points[chosen, 1], brush=self._faint(colour))
            entries.append((colour, "●", view.class_names[index]))
        self.set_key(self.key, [(self.theme.foreground, "", f"colour: {view.colour_title}")] + entries
                     + [(self.theme.foreground, "━", f"sample {view.sample}")])

    def _draw_values(self, view: TrajectoryView) -> None:
        self._show_value_bar(True)
        values = view.colours[np.isfinite(view.colours)]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if high <= low:
            high = low + 1.0
        self.set_bar_levels(self.value_bar, (low, high))
        self.set_axis_label_of_bar(view.colour_title)
        colormap = colormaps.sequential(self.theme.sequential_map)
        bins = np.clip(np.nan_to_num((view.colours - low) / (high - low) * VALUE_BINS).astype(int), 0, VALUE_BINS - 1)
        for index, cloud in enumerate(self.clouds):
            chosen = (bins == index) & self._finite(view)
            if index >= VALUE_BINS or not chosen.any():
                cloud.setData([], [])
                continue
            colour = colormap.map((index + 0.5) / VALUE_BINS, mode="qcolor")
            cloud.setData(view.points[chosen, 0], view.points[chosen, 1], brush=self._faint(colour))
        self.set_key(self.key, [(self.theme.foreground, "", f"colour: {view.colour_title}"),
                                (self.theme.foreground, "━", f"sample {view.sample}")])

    def set_axis_label_of_bar(self, text: str) -> None:
        for styled, labels in self._styled:
            if styled is self.value_bar and labels.get("right") != text:
                labels["right"] = text
                self._style_axes(self.value_bar, labels)

    @staticmethod
    def _faint(colour) -> pg.QtGui.QBrush:
        faint = QColor(colour)
        faint.setAlpha(POINT_ALPHA)
        return pg.mkBrush(faint)

    def _draw_arrow(self, path: np.ndarray) -> None:
        """The arrow head at the path's last point, pointing along its last step."""
        if len(path) < 2 or not np.all(np.isfinite(path[-2:])):
            self.arrow.setVisible(False)
            return
        self.arrow.setVisible(True)
        # the angle on screen: the view's x and y scales differ, so measure the last step in pixels
        box = self.plot.getViewBox()
        start = box.mapViewToScene(pg.Point(*path[-2]))
        end = box.mapViewToScene(pg.Point(*path[-1]))
        angle = math.degrees(math.atan2(end.y() - start.y(), end.x() - start.x()))
        self.arrow.setStyle(angle=180 + angle)  # ArrowItem's angle 0 points left
        self.arrow.setPos(*path[-1])

    def _draw_token_labels(self, view: TrajectoryView) -> None:
        steps = len(view.path)
        stride = max(1, math.ceil(steps / MAX_TOKEN_LABELS))
        shown = list(range(0, steps, stride))
        if steps and shown[-1] != steps - 1:
            shown.append(steps - 1)
        while len(self.token_labels) < len(shown):
            label = pg.TextItem(anchor=(0, 1), color=self.theme.foreground)
            label.setZValue(13)
            self.plot.addItem(label)
            self.token_labels.append(label)
        for label, t in zip(self.token_labels, shown):
            label.setText(f"{t}:{view.path_labels[t]}" if view.tokens else str(t))
            label.setPos(*view.path[t])
            label.setVisible(True)
        for label in self.token_labels[len(shown):]:
            label.setVisible(False)

    def set_cursor(self, timestep: int | None) -> None:
        """Ring the shown sample's state at ``timestep`` (the shared cursor); None hides it."""
        self.cursor_step = timestep
        self._draw_cursor()

    def _draw_cursor(self) -> None:
        view: TrajectoryView | None = self.view
        t = self.cursor_step
        if view is None or t is None or not 0 <= t < len(view.path):
            self.cursor.setData([], [])
            return
        self.cursor.setData([view.path[t, 0]], [view.path[t, 1]])

    def _update_range(self, view: TrajectoryView) -> None:
        shown = np.concatenate([view.points, view.path]) if view.points.size else view.path
        shown = shown[np.all(np.isfinite(shown), axis=1)] if shown.size else shown
        if not shown.size:
            self.set_ranges(self.plot, (-1.0, 1.0), (-1.0, 1.0))
            return
        x = _padded(shown[:, 0].min(), shown[:, 0].max())
        y = _padded(shown[:, 1].min(), shown[:, 1].max())
        self.set_ranges(self.plot, x, y)
        self._draw_arrow(view.path)  # the arrow's screen angle depends on the range

    # ------------------------------------------------------------------ export

    def csv_rows(self) -> Rows:
        view: TrajectoryView | None = self.view
        header = ["set", "timestep", "token", "pc1", "pc2", view.colour_title if view else "colour"]
        rows: Rows = [header]
        if view is None:
            return rows
        for t, (label, point) in enumerate(zip(view.path_labels, view.path)):
            rows.append(["shown sample", t, label, float(point[0]), float(point[1]), ""])
        for t, point, colour in zip(view.point_timesteps, view.points, view.colours):
            shown = view.class_names[int(colour)] if view.colour_kind == "class" else float(colour)
            rows.append(["held-out", int(t), "", float(point[0]), float(point[1]), shown])
        return rows


def _padded(low: float, high: float) -> tuple[float, float]:
    """A range around [low, high] with 5% room each side (and some room when they are equal)."""
    span = high - low
    if span <= 0:
        span = max(abs(high), 1.0)
    return (float(low - 0.05 * span), float(high + 0.05 * span))


__all__ = ["TrajectoryPanel"]
