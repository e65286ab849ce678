"""Predictions against targets for the selected sample.

- many_to_many regression: target and prediction lines over time, one pair per output;
- many_to_many classification: the predicted class probabilities as a heatmap (class x time) with
  the target class marked, and below it the probability given to the target class;
- many_to_one: bars of target and prediction per output (class probabilities for classifiers).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.training import PredictionsView, predictions_view
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.hidden import PaddingShade
from rnnviz.ui.theme import Theme

BAR_WIDTH = 0.38
TARGET_MARK = "#ff2a2a"  # open squares on the target class: stands out on both colour maps and themes


class PredictionsPanel(Panel):
    name = "predictions"
    title = "Predictions vs targets"
    view_of = staticmethod(predictions_view)

    def build(self) -> None:
        self.pages = {"series": self.graphics, "classes": self.add_page(), "bars": self.add_page()}
        self._build_series()
        self._build_classes()
        self._build_bars()
        self._y_kind: dict[int, tuple] = {}
        self.mode = "series"

    # --- building ----------------------------------------------------------------------------

    def _build_series(self) -> None:
        page = self.pages["series"]
        self.series_key = self.add_key(page, 1, 0)
        self.series_plot = self.add_plot(page, 2, 0, {"left": "value", "bottom": "timestep"},
                                         index_axes=("bottom",))
        self.series_plot.showGrid(x=True, y=True, alpha=0.25)
        self.series_lines: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._series_names: tuple[str, ...] = ()
        self.series_shade = PaddingShade(self.series_plot)

    def _build_classes(self) -> None:
        page = self.pages["classes"]
        self.class_key = self.add_key(page, 1, 0, colspan=2)
        self.class_plot, self.class_image, self.class_bar = self.add_heatmap(
            page, 2, 0, {}, colormaps.sequential(self.theme.sequential_map), (0.0, 1.0),
            "probability", index_axes=("left",))
        self.class_plot.invertY(True)
        self.class_plot.hideAxis("bottom")  # the p(target) plot under it carries the time axis
        self.target_marks = self.class_plot.plot(pen=None, symbol="s", symbolSize=8, name="target")
        self.target_prob_plot = self.add_plot(page, 3, 0, {"left": "p(target)", "bottom": "timestep"},
                                              index_axes=("bottom",))
        self.target_prob_plot.setXLink(self.class_plot)
        self.target_prob_plot.showGrid(y=True, alpha=0.25)
        self.target_prob_curve = self.target_prob_plot.plot(symbol="o", symbolSize=5)
        page.ci.layout.setRowStretchFactor(2, 3)
        page.ci.layout.setRowStretchFactor(3, 2)
        self.class_shades = [PaddingShade(self.class_plot), PaddingShade(self.target_prob_plot)]

    def _build_bars(self) -> None:
        page = self.pages["bars"]
        self.bar_key = self.add_key(page, 1, 0)
        self.bar_plot = self.add_plot(page, 2, 0, {"left": "value", "bottom": "output"}, index_axes=("bottom",))
        self.bar_plot.showGrid(y=True, alpha=0.25)
        self.target_bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=BAR_WIDTH, name="target")
        self.prediction_bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=BAR_WIDTH, name="prediction")
        self.bar_plot.addItem(self.target_bars)
        self.bar_plot.addItem(self.prediction_bars)
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, movable=False)
        self.bar_plot.addItem(self.zero_line, ignoreBounds=True)

    def restyle(self, theme: Theme) -> None:
        for index, (target, prediction) in enumerate(self.series_lines):
            self._style_pair(target, prediction, index)
        self._series_key()
        self.class_bar.setColorMap(colormaps.sequential(theme.sequential_map))
        self.target_marks.setSymbolPen(pg.mkPen(TARGET_MARK, width=2))
        self.target_marks.setSymbolBrush(pg.mkBrush(None))
        self.set_key(self.class_key, [(TARGET_MARK, "□", "target class")])
        self.target_prob_curve.setPen(self.pen(0))
        self.target_prob_curve.setSymbolBrush(theme.pen(0))
        self.target_prob_curve.setSymbolPen(self.pen(0))
        self.target_bars.setOpts(brush=pg.mkBrush(theme.muted), pen=pg.mkPen(theme.foreground, width=1))
        self.prediction_bars.setOpts(brush=pg.mkBrush(theme.pen(0)), pen=pg.mkPen(theme.foreground, width=1))
        self.set_key(self.bar_key, [(theme.muted, "■", "target"), (0, "■", "prediction")])
        self.zero_line.setPen(pg.mkPen(theme.foreground, width=1))
        for shade in [self.series_shade, *self.class_shades]:
            shade.restyle(theme)

    def _style_pair(self, target: pg.PlotDataItem, prediction: pg.PlotDataItem, index: int) -> None:
        color = self.theme.pen(index)
        target.setPen(pg.mkPen(color, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        prediction.setPen(self.pen(index))
        prediction.setSymbolPen(self.pen(index))
        prediction.setSymbolBrush(color)

    def _series_key(self) -> None:
        """Solid line = prediction, dashed = target; with several outputs, one colour per output."""
        names = self._series_names
        if len(names) <= 1:
            entries = [(0, "━", "prediction"), (0, "╍", "target")]
        else:
            entries = [(i, "━", name) for i, name in enumerate(names)]
            entries.append((self.theme.foreground, "", "(━ prediction, ╍ target)"))
        self.set_key(self.series_key, entries)

    # --- drawing -----------------------------------------------------------------------------

    def draw(self, view: PredictionsView) -> None:
        self.mode = view.kind
        if self.stack.currentWidget() is not self.pages[self.mode]:
            self.stack.setCurrentWidget(self.pages[self.mode])
        {"series": self._draw_series, "classes": self._draw_classes, "bars": self._draw_bars}[self.mode](view)

    def _value_axis(self, plot: pg.PlotItem, view: PredictionsView) -> None:
        self.set_axis_label(plot, "left", "probability" if view.probability else "value")

    def _draw_series(self, view: PredictionsView) -> None:
        targets, predictions = view.targets, view.predictions  # (T, O)
        if view.output_names != self._series_names:
            self._rebuild_series(view.output_names)
        steps = targets.shape[0]
        x = np.arange(steps, dtype=float)
        for index, (target_line, prediction_line) in enumerate(self.series_lines):
            self.show_markers(prediction_line, steps)
            target_line.setData(x, targets[:, index], connect="finite")
            prediction_line.setData(x, predictions[:, index], connect="finite")
        self.series_shade.show(view.time.padding_start, steps)
        self.set_time_axis(self.series_plot, view.time)
        self._value_axis(self.series_plot, view)
        if view.probability:
            y = (-0.05, 1.05)
        else:
            values = np.concatenate([targets.ravel(), predictions.ravel()])
            values = values[np.isfinite(values)]
            low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
            span = max(high - low, 1e-9)
            y = (low - 0.08 * span, high + 0.08 * span)
        self.set_ranges(self.series_plot, (-0.5, steps - 0.5), y)

    def _rebuild_series(self, names: tuple[str, ...]) -> None:
        """Only when the outputs change (another task), never per frame."""
        for pair in self.series_lines:
            for line in pair:
                self.series_plot.removeItem(line)
        self.series_lines = []
        for index, output in enumerate(names):
            target = self.series_plot.plot(name=f"target {output}")
            prediction = self.series_plot.plot(name=f"prediction {output}", symbol="o", symbolSize=5)
            self._style_pair(target, prediction, index)
            self.series_lines.append((target, prediction))
        self._series_names = names
        self._series_key()

    def _draw_classes(self, view: PredictionsView) -> None:
        probabilities = view.predictions  # (T, C)
        steps, classes = probabilities.shape
        self.class_image.setImage(probabilities, autoLevels=False)
        if self._y_kind.get(id(self.class_image)) != (steps, classes):
            self._y_kind[id(self.class_image)] = (steps, classes)
            self.class_image.setRect(-0.5, -0.5, steps, classes)
        x = np.arange(steps, dtype=float)
        self.target_marks.setData(x, view.target_class.astype(float), skipFiniteCheck=True)
        self.show_markers(self.target_prob_curve, steps)
        self.target_prob_curve.setData(x, view.p_target, connect="finite")
        self.class_plot.getAxis("left").set_labels(view.output_names)
        for shade in self.class_shades:
            shade.show(view.time.padding_start, steps)
        self.set_time_axis(self.target_prob_plot, view.time)
        self.set_ranges(self.class_plot, (-0.5, steps - 0.5), (-0.5, classes - 0.5))
        self.set_ranges(self.target_prob_plot, (-0.5, steps - 0.5), (0.0, 1.05))

    def _draw_bars(self, view: PredictionsView) -> None:
        targets = view.targets.ravel()  # (O,)
        predictions = view.predictions.ravel()  # (O,)
        outputs = np.arange(targets.shape[0], dtype=float)
        self.target_bars.setOpts(x=outputs - BAR_WIDTH / 2, height=targets, width=BAR_WIDTH)
        self.prediction_bars.setOpts(x=outputs + BAR_WIDTH / 2, height=np.nan_to_num(predictions), width=BAR_WIDTH)
        self.bar_plot.getAxis("bottom").set_labels(view.output_names)
        self.set_axis_label(self.bar_plot, "bottom", "class" if view.classification else "output")
        self._value_axis(self.bar_plot, view)
        if view.probability:
            y = (0.0, 1.08)
        else:
            values = np.concatenate([targets, predictions, [0.0]])
            values = values[np.isfinite(values)]
            low, high = float(values.min()), float(values.max())
            span = max(high - low, 1e-9)
            y = (min(0.0, low - 0.08 * span), high + 0.1 * span)
        self.set_ranges(self.bar_plot, (-0.6, targets.shape[0] - 0.4), y)

    # --- data --------------------------------------------------------------------------------

    def csv_rows(self) -> Rows:
        view: PredictionsView | None = self.view
        if view is None:
            return [["timestep"]]
        targets, predictions, names = view.targets, view.predictions, list(view.output_names)
        if view.kind == "bars":
            rows: Rows = [["output", "target", "prediction"]]
            rows += [[n, float(t), float(p)] for n, t, p in zip(names, targets.ravel(), predictions.ravel())]
            return rows
        lead = ["timestep", "label", "mask"]
        labels, mask = view.time.labels, view.time.mask
        if view.kind == "classes":
            rows = [[*lead, "target_class", *[f"p:{n}" for n in names], "p_target"]]
            for t in range(targets.shape[0]):
                rows.append([t, labels[t], float(mask[t]), int(view.target_class[t]),
                             *predictions[t].tolist(), float(view.p_target[t])])
            return rows
        rows = [[*lead, *[f"target:{n}" for n in names], *[f"prediction:{n}" for n in names]]]
        for t in range(targets.shape[0]):
            rows.append([t, labels[t], float(mask[t]), *targets[t].tolist(), *predictions[t].tolist()])
        return rows
