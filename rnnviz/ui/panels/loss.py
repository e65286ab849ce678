"""Loss curve: training loss per recorded step and held-out loss, on a linear or log scale, with the
task's chance, memoryless or noise-floor loss as a labelled dashed line (Task.loss_baseline).

A spike (a loss SPIKE_RATIO times the typical one, e.g. 3e24 on the way to diverging) would flatten the
rest of a linear curve to its floor: the axis turns to log by itself (once; a person who turns log off
again gets a linear axis cut at a height that shows the typical losses, and the axis label says so).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox

from rnnviz.session.views.training import LossView, loss_view
from rnnviz.ui.panels.base import Panel, Rows, nice_ceiling
from rnnviz.ui.theme import Theme


SPIKE_RATIO = 1e3  # a loss this many times the median loss is a spike
# short lines: the panel may be 220 px wide
EMPTY_TEXT = "The loss (how wrong the\nnetwork is) appears here\nonce it trains.\n\nPress ▶ Play (Space)\nor Step (S)."
MAX_CURVE_POINTS = 1200  # a longer training curve is decimated (min/max per bucket) before drawing


def _positive_or_nan(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: zero, negative and non-finite values become gaps (NaN)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def spike_peak(values: np.ndarray) -> float | None:
    """The largest finite loss when it is a spike (over SPIKE_RATIO × the median finite loss), else None."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return None
    typical, peak = float(np.median(np.abs(finite))), float(finite.max())
    return peak if peak > SPIKE_RATIO * max(typical, 1e-12) else None


def decimate_peaks(x: np.ndarray, y: np.ndarray, most: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` points of a long curve that keep its spikes: min and max of each bucket.

    A panel is a few hundred pixels wide, so a 20,000-step history drawn point by point costs time and
    shows nothing more. The curve is cut into ``most // 2`` buckets of consecutive points; each gives its
    smallest and its largest value (in their order), so no spike or dip disappears. A bucket that
    holds a NaN (a diverged stretch) gives NaN, which stays a gap in the drawn curve.
    """
    count = y.shape[0]
    if count <= most:
        return x, y
    per_bucket = math.ceil(count / (most // 2))
    buckets = count // per_bucket
    used = buckets * per_bucket
    ys = y[:used].reshape(buckets, per_bucket)  # (buckets, per_bucket)
    low_at, high_at = ys.argmin(axis=1), ys.argmax(axis=1)
    first = np.minimum(low_at, high_at)
    second = np.maximum(low_at, high_at)
    rows = np.arange(buckets)
    base = rows * per_bucket
    order = np.stack([base + first, base + second], axis=1).ravel()  # (2 * buckets,)
    values = y[order]
    values[np.repeat(np.isnan(ys).any(axis=1), 2)] = np.nan
    keep_x, keep_y = x[order], values
    if used < count:  # the last, partial bucket is drawn as it is
        keep_x, keep_y = np.concatenate([keep_x, x[used:]]), np.concatenate([keep_y, y[used:]])
    return keep_x, keep_y


class LossPanel(Panel):
    name = "loss"
    title = "Loss"
    view_of = staticmethod(loss_view)

    def build(self) -> None:
        self.log_scale = QCheckBox("log scale")
        self.log_scale.toggled.connect(self._log_toggled)
        self.controls.addStretch(1)
        self.controls.addWidget(self.log_scale)
        self.log_action = self.menu.addAction("Log scale")
        self.log_action.setCheckable(True)
        self.log_action.toggled.connect(self.log_scale.setChecked)
        self.menu.insertSeparator(self.log_action)

        self.key = self.add_key(self.graphics, 1, 0)
        self.plot = self.add_plot(self.graphics, 2, 0, {"bottom": "training step", "left": "loss"},
                                  index_axes=("bottom",))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.train_curve = self.plot.plot(name="train")
        self.heldout_curve = self.plot.plot(name="held-out", symbol="o", symbolSize=6)
        self.baseline_line = pg.InfiniteLine(angle=0, movable=False, label="",
                                             labelOpts={"position": 0.98, "anchors": [(1, 1), (1, 1)]})
        self.baseline_line.setVisible(False)
        self.plot.addItem(self.baseline_line, ignoreBounds=True)
        self.empty_text = pg.TextItem(EMPTY_TEXT, anchor=(0.5, 0.5))  # what will appear, what to press
        self.plot.addItem(self.empty_text, ignoreBounds=True)
        self.empty_text.setPos(0.5, 0.5)
        self._latest = ""
        self._auto_log = False  # the axis turned to log by itself (once per panel)
        self._scale_by_code = False

    def restyle(self, theme: Theme) -> None:
        self.empty_text.setColor(theme.muted)
        self.train_curve.setPen(self.pen(0))
        self.heldout_curve.setPen(self.pen(1))
        self.heldout_curve.setSymbolPen(self.pen(1))
        self.heldout_curve.setSymbolBrush(theme.pen(1))
        self.baseline_line.setPen(pg.mkPen(theme.foreground, width=1, style=Qt.PenStyle.DashLine))
        self.baseline_line.label.setColor(theme.foreground)
        backing = QColor(theme.background)
        backing.setAlpha(215)  # the label stays readable where a curve runs through it
        self.baseline_line.label.fill = pg.mkBrush(backing)
        self.baseline_line.label.update()
        self._write_key()

    def _write_key(self) -> None:
        self.set_key(self.key, [(0, "━", "train"), (1, "●", "held-out")])

    def _log_toggled(self, on: bool) -> None:
        if not self._scale_by_code:
            self._auto_log = True  # the person chose: never switch it for them again
        self.log_action.setChecked(on)
        self.plot.setLogMode(y=on)
        self.set_axis_label(self.plot, "left", "loss (log scale)" if on else "loss")
        if self.view is not None:
            self.draw(self.view)

    def draw(self, view: LossView) -> None:
        peak = spike_peak(np.concatenate([np.asarray(view.train_loss, float), np.asarray(view.heldout_loss, float)]))
        if peak is not None and not self._auto_log and not self.log_scale.isChecked():
            self._auto_log, self._scale_by_code = True, True
            self.log_scale.setChecked(True)  # draws the view on the log axis
            self._scale_by_code = False
            return
        log = self.log_scale.isChecked()
        train = _positive_or_nan(view.train_loss) if log else view.train_loss
        heldout = _positive_or_nan(view.heldout_loss) if log else view.heldout_loss
        # loss can be NaN (diverged): connect only the finite stretches
        steps, shown = decimate_peaks(view.steps, train)
        self.train_curve.setData(steps, shown, connect="finite", skipFiniteCheck=bool(np.isfinite(shown).all()))
        self.show_markers(self.heldout_curve, heldout.size)  # hundreds of markers cost more than the rest
        self.heldout_curve.setData(view.heldout_steps, heldout, connect="finite")
        latest = "" if math.isnan(view.latest) else f"  (latest {view.latest:.4g})"
        if latest != self._latest:  # in the title, not the key: a narrow panel's key fits on one line
            self._latest = latest
            self.set_page_title(self.graphics, f"{self.title}{latest}")
        self._draw_baseline(view, log)
        self._update_ranges(view.steps, view.heldout_steps, train, heldout, log, self._baseline_shown(view, log))
        empty = len(view.steps) == 0 and len(view.heldout_steps) == 0
        self.empty_text.setVisible(empty)
        if empty:
            (x_low, x_high), (y_low, y_high) = self.plot.viewRange()
            self.empty_text.setPos((x_low + x_high) / 2, (y_low + y_high) / 2)

    @staticmethod
    def _baseline_shown(view: LossView, log: bool) -> float | None:
        """The baseline when it can be drawn (a log axis has no place for 0)."""
        value = view.baseline
        return None if value is None or not np.isfinite(value) or (log and value <= 0) else float(value)

    def _draw_baseline(self, view: LossView, log: bool) -> None:
        value = self._baseline_shown(view, log)
        self.baseline_line.setVisible(value is not None)
        if value is None:
            return
        self.baseline_line.setPos(math.log10(value) if log else value)  # a log axis plots log10 (pyqtgraph)
        if self.baseline_line.label.format != view.baseline_label:
            self.baseline_line.label.setFormat(view.baseline_label)

    def _update_ranges(self, steps, heldout_steps, train, heldout, log: bool, baseline: float | None = None) -> None:
        all_steps = np.concatenate([np.asarray(steps, float), np.asarray(heldout_steps, float)])
        x_max = nice_ceiling(float(all_steps.max())) if all_steps.size else 1.0
        values = np.concatenate([train, heldout, [] if baseline is None else [baseline]])
        values = values[np.isfinite(values)]
        if log:
            low = math.floor(math.log10(values.min())) if values.size else -2
            high = math.ceil(math.log10(values.max())) if values.size else 1
            y = (float(low), float(max(high, low + 1)))
        else:
            peak = spike_peak(values)
            shown = values if peak is None else values[values <= SPIKE_RATIO * float(np.median(np.abs(values)))]
            top = nice_ceiling(float(shown.max())) if shown.size else 1.0
            self.set_axis_label(self.plot, "left", "loss" if peak is None else f"loss (cut: peak {peak:.2g})")
            bottom = min(0.0, -nice_ceiling(-float(values.min()))) if values.size and values.min() < 0 else 0.0
            y = (bottom, top)
        self.set_ranges(self.plot, (0.0, x_max), y)

    def csv_rows(self) -> Rows:
        rows: Rows = [["step", "train_loss", "heldout_loss"]]
        view: LossView | None = self.view
        if view is None:
            return rows
        if view.baseline is not None:  # the reference line: one more column, its label in the header
            rows[0].append(f"baseline_loss ({view.baseline_label})")
            return self._rows_with(rows, view, [float(view.baseline)])
        return self._rows_with(rows, view, [])

    @staticmethod
    def _rows_with(rows: Rows, view: LossView, extra: list) -> Rows:
        heldout = {float(s): float(v) for s, v in zip(view.heldout_steps, view.heldout_loss)}
        train = {float(s): float(v) for s, v in zip(view.steps, view.train_loss)}
        for step in sorted(set(train) | set(heldout)):
            rows.append([int(step) if step.is_integer() else step, train.get(step, float("nan")),
                         heldout.get(step, float("nan"))] + extra)
        return rows
