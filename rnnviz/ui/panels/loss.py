"""Loss curve: training loss per recorded step and held-out loss, on a linear or log scale."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui.panels.base import Panel, Rows, nice_ceiling
from rnnviz.ui.theme import Theme


def _positive_or_nan(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: zero, negative and non-finite values become gaps (NaN)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


class LossPanel(Panel):
    name = "loss"
    title = "Loss"

    def build(self) -> None:
        self.log_scale = QCheckBox("log scale")
        self.log_scale.toggled.connect(self._log_toggled)
        self.controls.addStretch(1)
        self.controls.addWidget(self.log_scale)
        self.log_action = self.menu.addAction("Log scale")
        self.log_action.setCheckable(True)
        self.log_action.toggled.connect(self.log_scale.setChecked)
        self.menu.insertSeparator(self.log_action)

        self.plot = self.add_plot(self.graphics, 1, 0, {"bottom": "training step", "left": "loss"})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.add_legend(self.plot)
        self.train_curve = self.plot.plot(name="train")
        self.heldout_curve = self.plot.plot(name="held-out", symbol="o", symbolSize=6)
        self.latest_text = pg.TextItem(anchor=(0, 1))
        self.plot.addItem(self.latest_text, ignoreBounds=True)

    def restyle(self, theme: Theme) -> None:
        self.train_curve.setPen(self.pen(0))
        self.heldout_curve.setPen(self.pen(1))
        self.heldout_curve.setSymbolPen(self.pen(1))
        self.heldout_curve.setSymbolBrush(theme.pen(1))
        self.latest_text.setColor(theme.foreground)

    def _log_toggled(self, on: bool) -> None:
        self.log_action.setChecked(on)
        self.plot.setLogMode(y=on)
        self.plot.setLabel("left", "loss (log scale)" if on else "loss",
                           **{"color": self.theme.foreground, "font-size": self.theme.label_size})
        if self.snapshot is not None:
            self.draw(self.snapshot)

    def draw(self, snapshot: Snapshot) -> None:
        history = snapshot.history
        log = self.log_scale.isChecked()
        train = _positive_or_nan(history.train_loss) if log else np.asarray(history.train_loss, float)
        heldout = _positive_or_nan(history.heldout_loss) if log else np.asarray(history.heldout_loss, float)
        # loss can be NaN (diverged): connect only the finite stretches
        self.train_curve.setData(np.asarray(history.steps, float), train, connect="finite")
        self.heldout_curve.setData(np.asarray(history.heldout_steps, float), heldout, connect="finite")
        self.latest_text.setText("" if math.isnan(snapshot.loss) else f"latest loss {snapshot.loss:.4g}")
        self._update_ranges(history.steps, history.heldout_steps, train, heldout, log)

    def _update_ranges(self, steps, heldout_steps, train, heldout, log: bool) -> None:
        all_steps = np.concatenate([np.asarray(steps, float), np.asarray(heldout_steps, float)])
        x_max = nice_ceiling(float(all_steps.max())) if all_steps.size else 1.0
        values = np.concatenate([train, heldout])
        values = values[np.isfinite(values)]
        if log:
            low = math.floor(math.log10(values.min())) if values.size else -2
            high = math.ceil(math.log10(values.max())) if values.size else 1
            y = (float(low), float(max(high, low + 1)))
            self.latest_text.setPos(0, y[0])
        else:
            top = nice_ceiling(float(values.max())) if values.size else 1.0
            bottom = min(0.0, -nice_ceiling(-float(values.min()))) if values.size and values.min() < 0 else 0.0
            y = (bottom, top)
            self.latest_text.setPos(0, bottom)
        self.set_ranges(self.plot, (0.0, x_max), y)

    def csv_rows(self) -> Rows:
        rows: Rows = [["step", "train_loss", "heldout_loss"]]
        if self.snapshot is None:
            return rows
        history = self.snapshot.history
        heldout = {float(s): float(v) for s, v in zip(history.heldout_steps, history.heldout_loss)}
        train = {float(s): float(v) for s, v in zip(history.steps, history.train_loss)}
        for step in sorted(set(train) | set(heldout)):
            rows.append([int(step) if step.is_integer() else step, train.get(step, float("nan")), heldout.get(step, float("nan"))])
        return rows
