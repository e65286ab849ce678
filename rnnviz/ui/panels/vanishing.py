"""Why gradients vanish or explode.

Left: ||∂h_T/∂h_t|| against the lag T − t on a log axis. BPTT multiplies by one recurrent Jacobian
per step back, so this falls (vanishes) or grows (explodes) roughly geometrically with the lag.
Right: the eigenvalues of W_hh (each gate's H x H block) on the complex plane with the unit circle:
for a vanilla RNN, a spectral radius well below 1 (times tanh' <= 1) means vanishing gradients,
well above 1 can mean exploding ones.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.gradient_flow import GradientFlowView
from rnnviz.ui.panels.base import Panel, Rows
from rnnviz.ui.panels.gradients import decade_ticks, log_range
from rnnviz.ui.theme import Theme

CIRCLE = np.exp(1j * np.linspace(0, 2 * np.pi, 181))


def ratio_text(ratio: float) -> str:
    """The first/last gradient-norm ratio as the title prints it ("" when there is no gradient at all)."""
    if np.isnan(ratio):
        return ""
    value = "∞ (no gradient at the last step)" if np.isinf(ratio) else f"{ratio:.1e}"
    return f"||dL/dh<sub>first</sub>|| / ||dL/dh<sub>last</sub>|| = {value}"


class VanishingPanel(Panel):
    name = "vanishing"
    title = "Why gradients vanish or explode"

    def build(self) -> None:
        page = self.graphics
        self.lag_plot = self.add_plot(page, 1, 0, {"left": "||∂h_T/∂h_t||", "bottom": "lag T − t (steps back)",
                                                  "title": "how much h_T depends on h_t"})
        self.lag_plot.setLogMode(y=True)
        self.lag_plot.showGrid(x=True, y=True, alpha=0.25)
        self.lag_curve = self.lag_plot.plot(symbol="o", symbolSize=5)
        self.eig_plot = self.add_plot(page, 1, 1, {"left": "imaginary", "bottom": "real",
                                                  "title": "eigenvalues of W_hh"})
        self.eig_plot.setAspectLocked(True)
        self.eig_plot.showGrid(x=True, y=True, alpha=0.2)
        self.circle = self.eig_plot.plot(CIRCLE.real, CIRCLE.imag)
        self.radius_label = page.addLabel("", row=2, col=1)  # spectral radius per gate, coloured like the dots
        self.scatters: dict[str, pg.PlotDataItem] = {}
        self._eig_title = ""
        page.ci.layout.setColumnStretchFactor(0, 1)
        page.ci.layout.setColumnStretchFactor(1, 1)
        self._gates: tuple[str, ...] = ()

    def restyle(self, theme: Theme) -> None:
        self.lag_curve.setPen(self.pen(0))
        self.lag_curve.setSymbolPen(self.pen(0))
        self.lag_curve.setSymbolBrush(theme.pen(0))
        self.circle.setPen(pg.mkPen(theme.muted, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        for index, scatter in enumerate(self.scatters.values()):
            scatter.setSymbolBrush(theme.pen(index + 1))
            scatter.setSymbolPen(pg.mkPen(theme.pen(index + 1)))
        self._eig_title = ""

    @property
    def data(self) -> GradientFlowView | None:
        """The view drawn last."""
        return self.view

    def draw(self, data: GradientFlowView) -> None:
        self._draw_lags(data)
        self._draw_eigenvalues(data)
        title = "Gradient flow" + ("" if data.step is None else f" at training step {data.step:,}")
        ratio = ratio_text(data.ratio_first_last)
        if ratio:
            title += f"<br><span style='font-size:{self.theme.label_size}; font-weight:normal'>{ratio}</span>"
        self.set_page_title(self.graphics, title)

    def _draw_lags(self, data: GradientFlowView) -> None:
        norms = np.asarray(data.lag_norms, dtype=float)
        lags = np.asarray(data.lags, dtype=float)
        shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
        if np.isfinite(shown).any():
            self.lag_curve.setData(lags, shown, connect="finite")
        else:
            self.lag_curve.setData([], [])
        low, high = log_range(norms)
        self.lag_plot.getAxis("left").setTicks(decade_ticks(low, high))
        span = float(lags.max()) if lags.size else 1.0
        self.set_ranges(self.lag_plot, (-0.5, max(span, 1.0) + 0.5), (low, high))

    def _draw_eigenvalues(self, data: GradientFlowView) -> None:
        gates = tuple(data.eigenvalues)
        if gates != self._gates:
            self._gates = gates
            for scatter in self.scatters.values():
                self.eig_plot.removeItem(scatter)
            self.scatters = {}
            for index, gate in enumerate(gates):
                scatter = self.eig_plot.plot(pen=None, symbol="o", symbolSize=8,
                                             symbolBrush=self.theme.pen(index + 1),
                                             symbolPen=pg.mkPen(self.theme.pen(index + 1)))
                self.scatters[gate] = scatter
        largest = 1.0
        for gate, scatter in self.scatters.items():
            values = np.asarray(data.eigenvalues[gate])
            scatter.setData(values.real, values.imag)
            if values.size:
                largest = max(largest, float(np.abs(values).max()))
        reach = 1.15 * largest
        self.set_ranges(self.eig_plot, (-reach, reach), (-reach, reach))
        self._write_radii(data)

    def _write_radii(self, data: GradientFlowView) -> None:
        """ρ per gate block under the plot, each in its dots' colour (a legend that cannot cover them)."""
        theme = self.theme
        if len(data.spectral_radius) == 1:
            radius = next(iter(data.spectral_radius.values()))
            text = f"spectral radius ρ = {radius:.3g}" + ("  (&lt; 1: vanishing)" if radius < 1 else "")
        else:
            parts = [f"<span style='color:{theme.pen(index + 1)}'>●</span> {gate}: ρ = {radius:.2f}"
                     for index, (gate, radius) in enumerate(data.spectral_radius.items())]
            text = "&nbsp; ".join(parts[:2]) + "<br>" + "&nbsp; ".join(parts[2:]) if len(parts) > 2 else \
                "&nbsp; ".join(parts)
        if text != self._eig_title:
            self._eig_title = text
            self.radius_label.setText(text, color=theme.foreground, size=theme.label_size)

    def csv_rows(self) -> Rows:
        data = self.data
        rows: Rows = [["kind", "index", "value_or_real", "imaginary"]]
        if data is None:
            return rows
        for lag, norm in zip(np.asarray(data.lags), np.asarray(data.lag_norms)):
            rows.append(["lag_norm", float(lag), float(norm), 0.0])
        for gate, values in data.eigenvalues.items():
            for k, value in enumerate(np.asarray(values)):
                rows.append([f"eigenvalue_{gate}", k, float(value.real), float(value.imag)])
        return rows
