"""Gradient norm per timestep ||dL/dh_t|| on a log scale: vanishing and exploding gradients made visible.
For a cell whose memory is its cell state (LRU, selective: ``CellSpec.memory_state``) it is ||dL/dc_t||,
and the title and axis say so.

Going back through time, BPTT multiplies dL/dh by the recurrent Jacobian once per step; a norm that
falls by decades towards early timesteps is a vanishing gradient, one that grows is exploding.
A zero norm (e.g. timesteps after the last loss term) cannot sit on a log axis: it is drawn at
the bottom edge with a hollow marker, and the CSV keeps the true value.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.common import plural
from rnnviz.session.views.training import GradientsView, gradients_view
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.hidden import PaddingShade
from rnnviz.ui.theme import Theme


def log_range(values: np.ndarray) -> tuple[float, float]:
    """(low, high) exponents of ten spanning the positive finite values, at least one decade."""
    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size:
        return -3.0, 0.0
    low = math.floor(math.log10(positive.min()))
    high = math.ceil(math.log10(positive.max()))
    return float(low), float(max(high, low + 1))


def decade_ticks(low: float, high: float, most: int = 7) -> list[list[tuple[float, str]]]:
    """Ticks at powers of ten labelled 1e-6, ..., 1e0 (positions are exponents on a log axis). A short
    axis labels more so it still reads: 2 and 5 times each power over one decade, 3 times over two."""
    exponents = range(int(low), int(high) + 1)
    stride = max(1, math.ceil(len(exponents) / most))
    major = [(float(e), f"1e{e}") for e in exponents[::stride]]
    minor = [(float(e), "") for e in exponents]
    multiples = {1: (2, 5), 2: (3,)}.get(int(round(high - low)), ())
    between = [(e + math.log10(m), f"{m}e{e}") for e in exponents for m in multiples if e + math.log10(m) < high]
    return [sorted(major + between), minor]


class GradientsPanel(Panel):
    name = "gradients"
    title = "Gradient norm  ||dL/dh_t||"
    view_of = staticmethod(gradients_view)

    def build(self) -> None:
        self.plot = self.add_plot(self.graphics, 1, 0,
                                  {"left": "||dL/dh_t|| (log scale)", "bottom": "timestep"},
                                  index_axes=("bottom",))
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot.plot(symbol="o", symbolSize=6)
        self.zeros = self.plot.plot(pen=None, symbol="o", symbolSize=8)
        self.note = ""  # "4 timesteps with zero gradient", on the title line (never over the curve)
        self.shade = PaddingShade(self.plot)
        self._decades: tuple[float, float] | None = None

    def time_plots(self) -> list[pg.PlotItem]:
        return [self.plot]

    def restyle(self, theme: Theme) -> None:
        self.curve.setPen(self.pen(3))
        self.curve.setSymbolPen(self.pen(3))
        self.curve.setSymbolBrush(theme.pen(3))
        self.zeros.setSymbolPen(pg.mkPen(theme.muted, width=1))
        self.zeros.setSymbolBrush(pg.mkBrush(None))
        self._label(self.view.norm_label if self.view is not None else "||dL/dh_t||")
        self.shade.restyle(theme)

    def draw(self, view: GradientsView) -> None:
        norms = view.grad_norm_per_step  # (T,)
        steps = norms.shape[0]
        low, high = log_range(norms)
        floor = 10.0**low
        positive = np.isfinite(norms) & (norms > 0)
        x = np.arange(steps, dtype=float)
        self.show_markers(self.curve, steps)
        if positive.all():
            self.curve.setData(x, norms, skipFiniteCheck=True)
        elif positive.any():
            self.curve.setData(x, np.where(positive, norms, np.nan), connect="finite")
        else:  # nothing to draw on a log axis
            self.curve.setData(np.zeros(0), np.zeros(0))
        zero_steps = np.flatnonzero(norms == 0)
        if zero_steps.size or self.zeros.xData is None or self.zeros.xData.size:
            self.zeros.setData(zero_steps.astype(float), np.full(zero_steps.size, floor))
        self.note = (f"{plural(int(zero_steps.size), 'timestep')} with zero gradient (○ at the bottom)"
                     if zero_steps.size else "")
        self.shade.show(view.time.padding_start, steps)
        self.set_time_axis(self.plot, view.time)
        if self._decades != (low, high):
            self._decades = (low, high)
            self.plot.getAxis("left").setTicks(decade_ticks(low, high))
        self.set_ranges(self.plot, (-0.5, steps - 0.5), (low, high))
        self._label(view.norm_label)

    def _label(self, norm: str) -> None:
        """Title and axis name the state whose gradient this is; the title line also says how many
        timesteps have no gradient (the hollow markers) on a second line, in the plain weight of a note."""
        note = "" if not self.note else (f"<br><span style='font-weight:normal; font-size:"
                                         f"{self.theme.label_size}'>{self.note}</span>")
        self.set_page_title(self.graphics, f"Gradient norm  {norm}{note}")
        self.set_axis_label(self.plot, "left", f"{norm} (log scale)")

    def csv_rows(self) -> Rows:
        view: GradientsView | None = self.view
        rows: Rows = [["timestep", "label", f"grad_norm_dL_d{view.state_symbol if view else 'h'}", "mask"]]
        if view is None:
            return rows
        for t, norm in enumerate(view.grad_norm_per_step):
            rows.append([t, view.time.labels[t], float(norm), float(view.time.mask[t])])
        return rows
