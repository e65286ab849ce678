"""The encoder–decoder's panels (drawn from rnnviz.session.seq2seq view states, not from a Session
snapshot): the attention heatmap with the chosen decoder step's weights under it, the training
curves (loss and held-out accuracy of greedy decoding), and the length experiment."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from rnnviz.session.seq2seq import LengthExperiment, Seq2SeqView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, nice_ceiling
from rnnviz.ui.theme import Theme

ROWS = {"forced": "target (teacher forcing)", "greedy": "greedy output"}
SYMBOLS = ("o", "s", "t")
LINE_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)
ROW_AXIS = {"forced": "step: target", "greedy": "step: greedy output"}
NO_ATTENTION = "No attention: every decoder step reads the encoder's final state (nothing to look at)"


def _row_tokens(view: Seq2SeqView, rows: str) -> tuple[str, ...]:
    return view.target if rows == "forced" else view.decoded


def _weights(view: Seq2SeqView, rows: str) -> np.ndarray | None:
    return view.forced_attention if rows == "forced" else view.greedy_attention


class AttentionPanel(Panel):
    """Target × source heatmap of a_tj (rows: decoder steps, named by their tokens; columns: the source
    tokens), the chosen step outlined, and that step's weights as bars under it."""

    name = "attention"
    title = "Attention weights a_tj"

    def build(self) -> None:
        self.rows = "forced"
        self.step = 0
        self.rows_box = QComboBox()
        self.rows_box.setObjectName("attention_rows")
        for key, text in ROWS.items():
            self.rows_box.addItem(f"rows: {text}", key)
        self.rows_box.setToolTip("Teacher forcing: the decoder reads the true previous token (as in training). "
                                 "Greedy: it reads its own previous guess (as in use)")
        self.rows_box.currentIndexChanged.connect(lambda _index: self.set_rows(self.rows_box.currentData()))
        self.controls.addWidget(self.rows_box)
        self.controls.addStretch(1)
        page = self.graphics
        self.heat_plot, self.image, self.bar = self.add_heatmap(
            page, 1, 0, {"left": "step: target"},
            colormaps.sequential(self.theme.sequential_map), (0.0, 1.0), "weight a_tj", index_axes=("left", "bottom"))
        self.heat_plot.invertY(True)
        self.heat_plot.getAxis("left").setWidth(92)
        self.outline = pg.PlotCurveItem()
        self.outline.setZValue(10)
        self.heat_plot.addItem(self.outline)
        self.message = pg.TextItem(anchor=(0.5, 0.5))
        self.heat_plot.addItem(self.message, ignoreBounds=True)
        self.step_plot = self.add_plot(page, 2, 0, {"left": "weight", "bottom": "source token"},
                                       index_axes=("bottom",))
        self.step_plot.getAxis("left").setWidth(92)
        self.step_plot.showGrid(y=True, alpha=0.25)
        self.step_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.step_plot.addItem(self.step_bars)
        page.ci.layout.setRowStretchFactor(1, 3)
        page.ci.layout.setRowStretchFactor(2, 1)
        page.ci.layout.setColumnStretchFactor(0, 1)
        page.ci.layout.setColumnStretchFactor(1, 0)

    def restyle(self, theme: Theme) -> None:
        self.bar.setColorMap(colormaps.sequential(theme.sequential_map))
        self.outline.setPen(pg.mkPen(theme.pen(1), width=2))
        self.step_bars.setOpts(brush=pg.mkBrush(theme.pen(0)), pen=pg.mkPen(None))
        self.message.setColor(theme.foreground)

    # ------------------------------------------------------------------ choices

    def set_rows(self, rows: str) -> None:
        """"forced" (teacher forcing: rows are the target tokens) or "greedy" (rows are its output)."""
        if rows not in ROWS:
            raise ValueError(f"rows must be one of {', '.join(ROWS)}, got {rows!r}")
        self.rows = rows
        index = self.rows_box.findData(rows)
        if self.rows_box.currentIndex() != index:
            self.rows_box.setCurrentIndex(index)
        if self.view is not None:
            self.draw(self.view)

    def row_count(self) -> int:
        return 0 if self.view is None else len(_row_tokens(self.view, self.rows))

    def set_step(self, step: int) -> None:
        """Outline decoder step ``step`` and show its weights under the heatmap."""
        self.step = int(step)
        if self.view is not None:
            self.draw(self.view)

    # ------------------------------------------------------------------ drawing

    def draw(self, view: Seq2SeqView) -> None:
        tokens = _row_tokens(view, self.rows)
        weights = _weights(view, self.rows)  # (rows, T_src) or None
        columns = len(view.source)
        steps = max(len(tokens), 1)
        shown = np.zeros((steps, columns)) if weights is None or weights.size == 0 else weights
        self.image.setImage(shown.T, autoLevels=False)  # col-major: x = source position, y = decoder step
        self.image.setRect(-0.5, -0.5, columns, shown.shape[0])
        self.heat_plot.getAxis("left").set_labels([f"{t}: {token}" for t, token in enumerate(tokens)] or None)
        self.set_axis_label(self.heat_plot, "left", ROW_AXIS[self.rows])
        verdict = "right" if view.correct else "wrong"
        self.set_plot_title(self.heat_plot, f"greedy output '{view.decoded_text}' ({verdict})")
        self.heat_plot.getAxis("bottom").set_labels(view.source)
        self.step_plot.getAxis("bottom").set_labels(view.source)
        self.set_ranges(self.heat_plot, (-0.5, columns - 0.5), (-0.5, shown.shape[0] - 0.5))
        self.message.setText(NO_ATTENTION if weights is None else "")
        self.message.setPos((columns - 1) / 2, (shown.shape[0] - 1) / 2)
        self.message.setVisible(weights is None)
        step = min(max(self.step, 0), steps - 1)
        x0, x1, y0, y1 = -0.5, columns - 0.5, step - 0.5, step + 0.5
        self.outline.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        row = np.zeros(columns) if weights is None or weights.size == 0 else weights[step]
        self.step_bars.setOpts(x=np.arange(columns, dtype=float), height=row, width=0.8)
        token = tokens[step] if tokens else "?"
        self.set_plot_title(self.step_plot, f"decoder step {step} ('{token}') looks at")
        self.set_ranges(self.step_plot, (-0.5, columns - 0.5), (0.0, 1.0))

    def csv_rows(self) -> Rows:
        rows: Rows = [["rows", "decoder_step", "row_token", "source_position", "source_token", "weight"]]
        view: Seq2SeqView | None = self.view
        if view is None:
            return rows
        weights = _weights(view, self.rows)
        tokens = _row_tokens(view, self.rows)
        for t, token in enumerate(tokens):
            for j, source in enumerate(view.source):
                rows.append([self.rows, t, token, j, source, float("nan") if weights is None else float(weights[t, j])])
        return rows


class Seq2SeqCurvesPanel(Panel):
    """Training loss (teacher forcing) and held-out accuracy of greedy decoding, per token and per sequence."""

    name = "seq2seq_training"
    title = "Loss and held-out accuracy (greedy decoding)"

    def build(self) -> None:
        page = self.graphics
        self.key = self.add_key(page, 1, 0, colspan=2)
        # side by side: the page is wide and short under the heatmap
        self.loss_plot = self.add_plot(page, 2, 0, {"left": "loss", "bottom": "training step"},
                                       index_axes=("bottom",))
        self.accuracy_plot = self.add_plot(page, 2, 1, {"left": "accuracy", "bottom": "training step"},
                                           index_axes=("bottom",))
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.getAxis("left").setWidth(56)
        self.loss_curve = self.loss_plot.plot()
        self.token_curve = self.accuracy_plot.plot(symbol="o", symbolSize=5)
        self.sequence_curve = self.accuracy_plot.plot(symbol="s", symbolSize=5)

    def restyle(self, theme: Theme) -> None:
        self.loss_curve.setPen(self.pen(0))
        for index, curve in ((1, self.token_curve), (2, self.sequence_curve)):
            curve.setPen(self.pen(index))
            curve.setSymbolPen(self.pen(index))
            curve.setSymbolBrush(theme.pen(index))
        self.set_key(self.key, [(0, "━", "training loss"), (1, "●", "token accuracy"),
                                (2, "■", "sequence accuracy")])

    def draw(self, view: Seq2SeqView) -> None:
        self.loss_curve.setData(view.loss_steps, view.losses, connect="finite")
        self.token_curve.setData(view.eval_steps, view.token_accuracy)
        self.sequence_curve.setData(view.eval_steps, view.sequence_accuracy)
        for curve, count in ((self.token_curve, view.eval_steps.size), (self.sequence_curve, view.eval_steps.size)):
            self.show_markers(curve, count, curve.opts["symbol"] or "o")
        last = max(float(view.loss_steps[-1]) if view.loss_steps.size else 1.0,
                   float(view.eval_steps[-1]) if view.eval_steps.size else 1.0)
        finite = view.losses[np.isfinite(view.losses)]
        top = nice_ceiling(float(finite.max())) if finite.size else 1.0
        self.set_ranges(self.loss_plot, (0.0, nice_ceiling(last)), (0.0, top))
        self.set_ranges(self.accuracy_plot, (0.0, nice_ceiling(last)), (0.0, 1.02))

    def csv_rows(self) -> Rows:
        rows: Rows = [["step", "training_loss", "heldout_token_accuracy", "heldout_sequence_accuracy"]]
        view: Seq2SeqView | None = self.view
        if view is None:
            return rows
        accuracy = {int(s): (float(a), float(q)) for s, a, q in
                    zip(view.eval_steps, view.token_accuracy, view.sequence_accuracy)}
        losses = {int(s): float(v) for s, v in zip(view.loss_steps, view.losses)}
        for step in sorted(set(losses) | set(accuracy)):
            token, sequence = accuracy.get(step, (float("nan"), float("nan")))
            rows.append([step, losses.get(step, float("nan")), token, sequence])
        return rows


class LengthExperimentPanel(Panel):
    """Sequence accuracy of greedy decoding against source length, one curve per attention kind (mean over
    seeds, each seed a faint point)."""

    name = "length_experiment"
    title = "Accuracy against length"

    def build(self) -> None:
        self.key = self.add_key(self.graphics, 1, 0)
        self.plot = self.add_plot(self.graphics, 2, 0, {"left": "accuracy",
                                                        "bottom": "source length"})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.seed_points: dict[str, pg.ScatterPlotItem] = {}

    def restyle(self, theme: Theme) -> None:
        for index, name in enumerate(self.curves):
            # later curves dashed and thinner: equal accuracies (1.0 for both attentions) stay visible
            self.curves[name].setPen(pg.mkPen(theme.pen(index), width=1, style=LINE_STYLES[index % len(LINE_STYLES)]))
            self.curves[name].setSymbolPen(self.pen(index))
            self.curves[name].setSymbolBrush(theme.pen(index))
            self.seed_points[name].setBrush(pg.mkBrush(theme.pen(index)))
        self._write_key()

    def _write_key(self) -> None:
        glyphs = ("━●", "╍■", "┅▲")
        self.set_key(self.key, [(index, glyphs[index % 3], name) for index, name in enumerate(self.curves)])

    def draw(self, view: LengthExperiment) -> None:
        table = view.table()
        names = list(dict.fromkeys(row["attention"] for row in table))
        for name in names:
            if name not in self.curves:
                index = len(self.curves)
                self.curves[name] = self.plot.plot(symbol=SYMBOLS[index % len(SYMBOLS)], symbolSize=9 - 2 * (index % 3),
                                                   pen=self.pen(index))
                self.seed_points[name] = pg.ScatterPlotItem(size=5, pen=pg.mkPen(None))
                self.seed_points[name].setOpacity(0.45)
                self.plot.addItem(self.seed_points[name])
        self.restyle(self.theme)
        lengths = sorted({row["length"] for row in table})
        for name in self.curves:
            rows = [row for row in table if row["attention"] == name]
            self.curves[name].setData([r["length"] for r in rows], [r["sequence_accuracy"] for r in rows])
            self.seed_points[name].setData([r["length"] for r in rows for _ in r["per_seed_sequence_accuracy"]],
                                           [v for r in rows for v in r["per_seed_sequence_accuracy"]])
        self.plot.getAxis("bottom").setTicks([[(float(n), str(n)) for n in lengths], []] if lengths else None)
        low, high = (min(lengths), max(lengths)) if lengths else (0, 1)
        margin = max(1.0, 0.05 * (high - low))
        self.set_ranges(self.plot, (low - margin, high + margin), (-0.02, 1.02))
        steps = {row["steps"] for row in table}
        seeds = {len(row["seeds"]) for row in table}
        note = (f" (greedy, {'/'.join(map(str, sorted(steps)))} steps, "
                f"{'/'.join(map(str, sorted(seeds)))} seed{'s' if max(seeds) > 1 else ''})" if table else "")
        self.set_axis_label(self.plot, "bottom", "source length" + note)

    def csv_rows(self) -> Rows:
        rows: Rows = [["length", "attention", "seed", "steps", "final_loss", "token_accuracy", "sequence_accuracy",
                       "anti_diagonal"]]
        view: LengthExperiment | None = self.view
        if view is None:
            return rows
        for run in view.runs:
            rows.append([run.length, run.attention, run.seed, run.steps, run.final_loss, run.token_accuracy,
                         run.sequence_accuracy, float("nan") if run.anti_diagonal is None else run.anti_diagonal])
        return rows
