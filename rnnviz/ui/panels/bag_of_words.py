"""The bag-of-words page's panels: held-out accuracy of both models over training, a typed sentence
read by the RNN (hidden state and prediction after each word or character), and weight sharing in
numbers. They draw view states from rnnviz.session (bag_of_words, reading, weight_sharing) only."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from rnnviz.session.bag_of_words import CHANCE, SAME_WORDS_PAIR, AccuracyCurves
from rnnviz.session.reading import Reading
from rnnviz.session.weight_sharing import WeightSharing
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, let_shrink
from rnnviz.ui.theme import Theme

RNN_PEN, BOW_PEN = 0, 1  # theme pen indices: the RNN's colour and the bag of words'
SOLID, DASHED = "━", "╍"  # key glyphs for overall and order-sensitive curves


def _placeholder(plot: pg.PlotItem, text: str, where: tuple[float, float]) -> pg.TextItem:
    """A grey note in the middle of an empty plot, hidden once there is something to draw."""
    item = pg.TextItem(text, color="#808080", anchor=(0.5, 0.5))
    item.setPos(*where)
    plot.addItem(item, ignoreBounds=True)
    return item


def _count_text(count: int) -> str:
    """A parameter count on an axis: 500, 20k, 1.5M."""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return str(count)


def _nice_step(rough: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``rough``."""
    power = 10.0 ** np.floor(np.log10(max(rough, 1.0)))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


def _probability_text(probabilities: np.ndarray, names: tuple[str, ...]) -> str:
    k = int(np.argmax(probabilities))
    return f"{names[k]} ({probabilities[k]:.0%})"


class AccuracyPanel(Panel):
    """Held-out accuracy against training step: RNN and bag of words, overall and order-sensitive."""

    name = "bow_accuracy"
    title = "Held-out accuracy over training"

    def build(self) -> None:
        page = self.graphics
        self.plot = self.add_plot(page, 1, 0, {"left": "held-out accuracy", "bottom": "training step"})
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in ("rnn_overall", "rnn_order_sensitive", "bow_overall", "bow_order_sensitive"):
            self.curves[key] = self.plot.plot([], [])
        self.chance = self.plot.plot([], [])
        self.key = page.addLabel("", row=2, col=0, justify="left")  # a two-column key under the plot
        let_shrink(self.key)
        self.placeholder = _placeholder(self.plot, "Train both to see them learn", (50.0, 0.5))
        self.set_ranges(self.plot, (0, 100), (0.0, 1.02))

    def restyle(self, theme: Theme) -> None:
        for key, curve in self.curves.items():
            colour = theme.pen(RNN_PEN if key.startswith("rnn") else BOW_PEN)
            style = Qt.PenStyle.SolidLine if key.endswith("overall") else Qt.PenStyle.DashLine
            curve.setPen(pg.mkPen(colour, width=2, style=style))
        self.chance.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashDotLine))
        if self.view is not None:
            self._draw_key(self.view)

    def draw(self, curves: AccuracyCurves) -> None:
        steps = curves.steps.astype(np.float64)
        self.placeholder.setVisible(False)
        for key, curve in self.curves.items():
            values = getattr(curves, key)
            curve.setData(steps, values, connect="finite")  # no markers: a measurement every 25 steps
        right = float(max(steps.max(initial=0.0), 50.0))
        self.chance.setData([0.0, right], [CHANCE, CHANCE])
        self.set_ranges(self.plot, (0.0, right), (0.0, 1.02))
        self._draw_key(curves)

    def _draw_key(self, curves: AccuracyCurves) -> None:
        """Two lines, one per model: solid = all held-out sentences, dashed = the order-sensitive ones."""
        last = curves.last()
        theme = self.theme

        def entry(pen: int, glyph: str, text: str, key: str) -> str:
            value = last[key]
            figure = "" if np.isnan(value) else f" <b>{value:.0%}</b>"
            return f"<span style='color:{theme.pen(pen)}'>{glyph}</span>&nbsp;{text}{figure}"

        subset = f"order-sensitive ({curves.order_sensitive_samples})"
        lines = [
            f"{entry(RNN_PEN, SOLID, curves.rnn_name + ': all', 'rnn_overall')}&nbsp;&nbsp; "
            f"{entry(RNN_PEN, DASHED, subset, 'rnn_order_sensitive')}",
            f"{entry(BOW_PEN, SOLID, curves.bow_name + ': all', 'bow_overall')}&nbsp;&nbsp; "
            f"{entry(BOW_PEN, DASHED, subset, 'bow_order_sensitive')}",
            f"<span style='color:{theme.muted}'>┄</span>&nbsp;chance {CHANCE:g}",
        ]
        self.key.setText("<br>".join(lines), color=theme.foreground, size="9pt")

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [list(AccuracyCurves.COLUMNS)]


class ReadingPanel(Panel):
    """A typed sentence, one row per token (the words down the side, where each has room): the hidden
    state after it (heatmap) and the prediction after it (P(class) for sentiment, the most probable next
    character and its probability for text)."""

    name = "type_your_own"
    title = "Type your own"

    def build(self) -> None:
        page = self.graphics
        self.heat_plot, self.image, self.bar = self.add_heatmap(
            page, 1, 0, {"left": "", "bottom": "unit of h_t"}, colormaps.diverging(self.theme.diverging_map),
            (-1.0, 1.0), "h_t", index_axes=("left", "bottom"))
        self.token_axis = self.heat_plot.getAxis("left")
        self.heat_plot.invertY(True)
        # the colour bar sits right of the probabilities: move it one column on
        page.ci.layout.removeItem(self.bar)
        page.ci.layout.addItem(self.bar, 1, 2)
        self.prob_plot = self.add_plot(page, 1, 1, {"bottom": "P"})
        self.prob_plot.hideAxis("left")
        self.prob_plot.invertY(True)
        self.prob_plot.setYLink(self.heat_plot)
        self.prob_plot.showGrid(x=True, alpha=0.2)
        self.prob_plot.getAxis("bottom").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], []])
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6)
        self.prob_plot.addItem(self.bars)
        self.half = pg.InfiniteLine(pos=0.5, angle=90, movable=False)
        self.prob_plot.addItem(self.half, ignoreBounds=True)
        self.bar_labels: list[pg.TextItem] = []
        self.verdict = self.add_key(page, 2, 0, colspan=3, justify="left", vertical=True)
        page.ci.layout.setColumnStretchFactor(0, 3)
        page.ci.layout.setColumnStretchFactor(1, 2)
        page.ci.layout.setColumnStretchFactor(2, 0)

    def restyle(self, theme: Theme) -> None:
        self.bar.setColorMap(colormaps.diverging(theme.diverging_map))
        self.bars.setOpts(brush=pg.mkBrush(theme.pen(RNN_PEN)), pen=pg.mkPen(None))
        self.half.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))
        for label in self.bar_labels:
            label.setColor(theme.foreground)

    def draw(self, reading: Reading) -> None:
        steps, units = reading.hidden.shape
        self.image.setImage(reading.hidden.T, levels=(-1.0, 1.0), autoLevels=False)  # x unit, y token
        self.image.setRect(-0.5, -0.5, units, steps)
        self.token_axis.set_labels(list(reading.tokens))
        if reading.kind == "class":
            positive = min(1, len(reading.output_names) - 1)
            values = reading.probabilities[:, positive]
            self.set_axis_label(self.prob_plot, "bottom", f"P({reading.output_names[positive]})")
            labels = [f"{v:.2f}" for v in values]
        else:
            values = reading.probabilities.max(axis=1)
            self.set_axis_label(self.prob_plot, "bottom", "next, P")
            labels = [f"{name} {v:.2f}" for name, v in zip(reading.predicted(), values)]
        self.bars.setOpts(x0=np.zeros(steps), y=np.arange(steps), width=values, height=0.6)
        self._label_bars(labels)
        self.set_ranges(self.heat_plot, (-0.5, units - 0.5), (-0.5, steps - 0.5))
        self.set_ranges(self.prob_plot, (0.0, 1.0), (-0.5, steps - 0.5))
        self.set_key(self.verdict, self._verdict_entries(reading))

    def _label_bars(self, labels: list[str]) -> None:
        for item in self.bar_labels:
            self.prob_plot.removeItem(item)
        self.bar_labels = []
        if len(labels) > 16:  # rows too thin for a number: the CSV has them all
            return
        for t, text in enumerate(labels):
            item = pg.TextItem(text, color=self.theme.foreground, anchor=(0.0, 0.5))
            item.setPos(0.02, t)
            self.prob_plot.addItem(item)
            self.bar_labels.append(item)

    def _verdict_entries(self, reading: Reading) -> list[tuple]:
        names = reading.output_names
        if reading.kind != "class":
            unknown = f" (read as unknown: {' '.join(reading.unknown)})" if reading.unknown else ""
            return [(RNN_PEN, "■", f"after “{reading.text[-24:]}” the RNN expects: {reading.predicted()[-1]}{unknown}")]
        entries = [(RNN_PEN, "■", f"RNN: {_probability_text(reading.probabilities[-1], names)}")]
        if reading.bow_probabilities is not None:
            entries.append((BOW_PEN, "■", f"bag of words: {_probability_text(reading.bow_probabilities, names)}"))
        entries.append(("", "", "the grammar's answer: " + ("none (no adjective)" if reading.label is None
                                                             else names[reading.label])))
        return entries

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [["timestep", "token"]]


class WeightSharingPanel(Panel):
    """Parameters against sequence length: the RNN's (shared over time) and a feed-forward net's."""

    name = "weight_sharing"
    title = "Parameters vs sequence length"

    def build(self) -> None:
        page = self.graphics
        self.plot = self.add_plot(page, 1, 0, {"left": "parameters", "bottom": "sequence length T"})
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.rnn_curve = self.plot.plot([], [])
        self.ff_curve = self.plot.plot([], [])
        self.task_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.task_line, ignoreBounds=True)
        self.key = self.add_key(page, 2, 0, justify="left", vertical=True)

    def restyle(self, theme: Theme) -> None:
        self.rnn_curve.setPen(pg.mkPen(theme.pen(RNN_PEN), width=2))
        self.rnn_curve.setSymbolBrush(theme.pen(RNN_PEN))
        self.ff_curve.setPen(pg.mkPen(theme.pen(BOW_PEN), width=2))
        self.ff_curve.setSymbolBrush(theme.pen(BOW_PEN))
        self.task_line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))

    def draw(self, table: WeightSharing) -> None:
        lengths = table.lengths.astype(np.float64)
        self.rnn_curve.setData(lengths, table.recurrent.astype(np.float64), symbol="o", symbolSize=6)
        self.ff_curve.setData(lengths, table.feedforward.astype(np.float64), symbol="s", symbolSize=6)
        self.task_line.setPos(table.seq_len)
        high = float(max(table.recurrent.max(), table.feedforward.max())) * 1.08
        self.set_ranges(self.plot, (0.0, float(lengths.max()) * 1.05), (0.0, high))
        step = _nice_step(high / 4)
        self.plot.getAxis("left").setTicks([[(float(v), _count_text(int(v))) for v in np.arange(0, high, step)], []])
        rnn, ff = table.at_task_length()
        self.set_key(self.key, [
            (RNN_PEN, SOLID, f"{table.cell}, the same weights at every step: {rnn:,}"),
            (BOW_PEN, SOLID, f"feed-forward on T × {table.input_size} inputs: {ff:,} at T = {table.seq_len}"),
            (self.theme.muted, "┆", "this task's length"),
        ])
        self.setToolTip(table.tooltip())

    def csv_rows(self) -> Rows:
        return self.view.csv_rows() if self.view is not None else [["seq_len"]]


class SameWordsPanel(Panel):
    """Two sentences of the same words and opposite labels, and what each model says about them."""

    name = "same_words"
    title = "Same words, different order"

    def build(self) -> None:
        page = self.graphics
        self.plot = self.add_plot(page, 1, 0, {"bottom": "P(positive)"})
        self.plot.hideAxis("left")
        self.plot.showGrid(x=True, alpha=0.2)
        self.plot.getViewBox().setMouseEnabled(False, False)
        self.plot.invertY(True)
        self.bars = {key: pg.BarGraphItem(x0=[], y=[], width=[], height=0.75) for key in ("rnn", "bow")}
        for bars in self.bars.values():
            self.plot.addItem(bars)
        self.half = pg.InfiniteLine(pos=0.5, angle=90, movable=False)
        self.plot.addItem(self.half, ignoreBounds=True)
        self.texts: list[pg.TextItem] = []
        self.placeholder = _placeholder(self.plot, "Train both: then each model's verdict on\n“" + SAME_WORDS_PAIR[0]
                                        + "” and\n“" + SAME_WORDS_PAIR[1] + "”", (0.5, 2.5))
        self.set_ranges(self.plot, (0.0, 1.0), (-0.5, 5.5))

    def restyle(self, theme: Theme) -> None:
        for key, pen in (("rnn", RNN_PEN), ("bow", BOW_PEN)):
            colour = pg.mkColor(theme.pen(pen))
            colour.setAlpha(120)  # the model's verdict is written over its bar
            self.bars[key].setOpts(brush=pg.mkBrush(colour), pen=pg.mkPen(theme.pen(pen), width=1))
        self.half.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))
        if self.view is not None:
            self.draw(self.view)

    def _text(self, text: str, x: float, y: float, bold: bool = False) -> None:
        item = pg.TextItem(html=f"<span style='color:{self.theme.foreground}'>{'<b>' if bold else ''}{text}"
                                f"{'</b>' if bold else ''}</span>", anchor=(0.0, 0.5))
        item.setPos(x, y)
        self.plot.addItem(item)
        self.texts.append(item)

    def draw(self, verdicts) -> None:
        self.placeholder.setVisible(False)
        for item in self.texts:
            self.plot.removeItem(item)
        self.texts = []
        rows = {"rnn": ([], []), "bow": ([], [])}
        for k, verdict in enumerate(verdicts):
            top = 3.0 * k
            label = "" if verdict.label is None else f" ({verdict.class_names[verdict.label]})"
            self._text(f"“{verdict.sentence}”{label}", 0.0, top, bold=True)
            positive = min(1, len(verdict.class_names) - 1)
            for offset, key, who, p in ((1.0, "rnn", "RNN", verdict.rnn_probabilities),
                                        (2.0, "bow", "bag of words", verdict.bow_probabilities)):
                trained = bool(np.all(np.isfinite(p)))
                rows[key][0].append(top + offset)
                rows[key][1].append(float(p[positive]) if trained else 0.0)
                said = _probability_text(p, verdict.class_names) if trained else "not trained"
                self._text(f"{who}: {said}", 0.01, top + offset)
        for key, (ys, widths) in rows.items():
            self.bars[key].setOpts(x0=np.zeros(len(ys)), y=np.array(ys), width=np.array(widths), height=0.75)
        self.set_ranges(self.plot, (0.0, 1.0), (-0.5, 3.0 * len(verdicts) - 0.4))

    def csv_rows(self) -> Rows:
        from rnnviz.session.bag_of_words import verdict_rows

        return verdict_rows(self.view or ())


def render_comparison(curves: AccuracyCurves, verdicts, folder, size: tuple[int, int] = (900, 600)) -> list:
    """PNG, SVG and CSV of the accuracy curves and the same-words pair into ``folder`` (the CLI's plots),
    drawn off screen by the window's own panels."""
    from rnnviz.ui.export import export_all
    from rnnviz.ui.render import _dispose, _lay_out, ensure_application

    app = ensure_application()
    panels = {"bow_accuracy": AccuracyPanel(), "same_words": SameWordsPanel()}
    try:
        panels["bow_accuracy"].show_view(curves)
        panels["same_words"].show_view(tuple(verdicts))
        for panel in panels.values():
            _lay_out(panel, size)
        app.processEvents()
        return export_all(panels, folder)
    finally:
        _dispose(app, panels.values())
