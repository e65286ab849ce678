"""Why gradients vanish or explode.

Left: ||∂h_T/∂h_t|| against the lag T − t on a log axis (||∂c_T/∂c_t|| for a cell whose memory is its
cell state). BPTT multiplies by one recurrent Jacobian per step back, so this falls (vanishes) or grows
(explodes) roughly geometrically with the lag.
Right, one of two pages, after what the cell has (the view state says which):
- its input-independent eigenvalues (``CellSpec.eigenvalues``: each gate block of W_hh, the LRU's λ)
  on the complex plane with the unit circle. For a vanilla RNN a spectral radius well below 1 (times
  tanh' <= 1) means vanishing gradients, well above 1 can mean exploding ones; the LRU's |λ| < 1 is how
  long each unit remembers.
- its input-dependent decay per timestep (``CellSpec.decay``: minGRU 1 − z_t, minLSTM f′_t, the
  selective layer's Ā_t) as a heatmap over time for the selected sample: near 1 keeps, near 0 forgets.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.session.views.gradient_flow import GradientFlowView, StepDecayView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, let_shrink
from rnnviz.ui.panels.gradients import decade_ticks, log_range
from rnnviz.ui.panels.hidden import PaddingShade
from rnnviz.ui.theme import Theme

CIRCLE = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
DECAY_LEVELS = (0.0, 1.0)


def ratio_text(ratio: float, symbol: str = "h") -> str:
    """The first/last gradient-norm ratio as the title prints it ("" when there is no gradient at all)."""
    if np.isnan(ratio):
        return ""
    value = "∞ (no gradient at the last step)" if np.isinf(ratio) else f"{ratio:.1e}"
    return f"||dL/d{symbol}<sub>first</sub>|| / ||dL/d{symbol}<sub>last</sub>|| = {value}"


class LagPlot:
    """The lag curve of one page."""

    def __init__(self, panel: "VanishingPanel", page) -> None:
        self.plot = panel.add_plot(page, 1, 0, {"left": "||∂h_T/∂h_t||", "bottom": "lag T − t (steps back)"},
                                   index_axes=("bottom",))
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot.plot(symbol="o", symbolSize=5)


class VanishingPanel(Panel):
    name = "vanishing"
    title = "Why gradients vanish or explode"

    def build(self) -> None:
        self._build_eigen_page(self.graphics)
        self.decay_page = self.add_page()
        self._build_decay_page(self.decay_page)
        self.lags = {id(self.graphics): self.eigen_lags, id(self.decay_page): self.decay_lags}
        self._gates: tuple[str, ...] = ()
        self._eig_title = ""
        self._decay_shape: tuple[int, int] | None = None

    def _build_eigen_page(self, page) -> None:
        self.eigen_lags = LagPlot(self, page)
        self.eig_plot = self.add_plot(page, 1, 1, {"left": "imaginary", "bottom": "real",
                                                  "title": "eigenvalues of W_hh"})
        self.eig_plot.setAspectLocked(True)
        self.eig_plot.showGrid(x=True, y=True, alpha=0.2)
        self.circle = self.eig_plot.plot(CIRCLE.real, CIRCLE.imag)
        self.radius_label = page.addLabel("", row=2, col=0, colspan=2)  # ρ per gate, coloured like the dots
        let_shrink(self.radius_label, 8.0)
        self.scatters: dict[str, pg.PlotDataItem] = {}
        page.ci.layout.setColumnStretchFactor(0, 1)
        page.ci.layout.setColumnStretchFactor(1, 1)

    def _build_decay_page(self, page) -> None:
        self.decay_lags = LagPlot(self, page)
        self.decay_plot, self.decay_image, self.decay_bar = self.add_heatmap(
            page, 1, 1, {"left": "hidden unit", "bottom": "timestep", "title": "decay per timestep"},
            colormaps.sequential(self.theme.sequential_map), DECAY_LEVELS, "", index_axes=("left", "bottom"))
        self.decay_plot.invertY(True)
        self.decay_shade = PaddingShade(self.decay_plot)
        self.decay_note = page.addLabel("", row=2, col=0, colspan=3)
        let_shrink(self.decay_note, 8.0)
        page.ci.layout.setColumnStretchFactor(0, 1)
        page.ci.layout.setColumnStretchFactor(1, 1)
        page.ci.layout.setColumnStretchFactor(2, 0)

    def restyle(self, theme: Theme) -> None:
        for lag in (self.eigen_lags, self.decay_lags):
            lag.curve.setPen(self.pen(0))
            lag.curve.setSymbolPen(self.pen(0))
            lag.curve.setSymbolBrush(theme.pen(0))
        self.circle.setPen(pg.mkPen(theme.muted, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        for index, scatter in enumerate(self.scatters.values()):
            scatter.setSymbolBrush(theme.pen(index + 1))
            scatter.setSymbolPen(pg.mkPen(theme.pen(index + 1)))
        self.decay_bar.setColorMap(colormaps.sequential(theme.sequential_map))
        self.decay_shade.restyle(theme)
        self._eig_title = ""
        self.decay_note.setText(self.decay_note.text, color=theme.foreground, size=theme.label_size)

    @property
    def data(self) -> GradientFlowView | None:
        """The view drawn last."""
        return self.view

    def draw(self, data: GradientFlowView) -> None:
        page = self.decay_page if data.decay is not None else self.graphics
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
        self._draw_lags(self.lags[id(page)], data)
        if data.decay is not None:
            self._draw_decay(data.decay)
        else:
            self._draw_eigenvalues(data)
        title = "Gradient flow" + ("" if data.step is None else f" at training step {data.step:,}")
        ratio = ratio_text(data.ratio_first_last, data.state_symbol)
        if ratio:
            title += f"<br><span style='font-size:{self.theme.label_size}; font-weight:normal'>{ratio}</span>"
        self.set_page_title(page, title)

    def _draw_lags(self, lag: LagPlot, data: GradientFlowView) -> None:
        symbol = data.state_symbol
        self.set_axis_label(lag.plot, "left", f"||∂{symbol}_T/∂{symbol}_t||")
        lag.plot.getAxis("bottom").set_labels(data.lag_labels, upright=True)  # the timestep at each lag
        self.set_axis_label(lag.plot, "bottom", data.lag_title)
        norms = np.asarray(data.lag_norms, dtype=float)
        lags = np.asarray(data.lags, dtype=float)
        shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
        if np.isfinite(shown).any():
            lag.curve.setData(lags, shown, connect="finite")
        else:
            lag.curve.setData([], [])
        low, high = log_range(norms)
        lag.plot.getAxis("left").setTicks(decade_ticks(low, high))
        span = float(lags.max()) if lags.size else 1.0
        self.set_ranges(lag.plot, (-0.5, max(span, 1.0) + 0.5), (low, high))

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
        self.set_plot_title(self.eig_plot, data.eigen_title)
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
        if not data.spectral_radius:
            text = "no input-independent eigenvalues"
        elif len(data.spectral_radius) == 1:
            radius = next(iter(data.spectral_radius.values()))
            text = f"spectral radius ρ = {radius:.3g}" + ("  (&lt; 1: shrinks with the lag)" if radius < 1 else "")
        else:
            parts = [f"<span style='color:{theme.pen(index + 1)}'>●</span> {gate}: ρ = {radius:.2f}"
                     for index, (gate, radius) in enumerate(data.spectral_radius.items())]
            text = "&nbsp; ".join(parts[:2]) + "<br>" + "&nbsp; ".join(parts[2:]) if len(parts) > 2 else \
                "&nbsp; ".join(parts)
        if text != self._eig_title:
            self._eig_title = text
            self.radius_label.setText(text, color=theme.foreground, size=theme.label_size)

    def _draw_decay(self, decay: StepDecayView) -> None:
        values = decay.values  # (T, R)
        steps, rows = values.shape
        self.decay_image.setImage(values, autoLevels=False)
        if self._decay_shape != (steps, rows):
            self._decay_shape = (steps, rows)
            self.decay_image.setRect(-0.5, -0.5, steps, rows)
        self.set_time_axis(self.decay_plot, decay.time)
        self.set_axis_label(self.decay_plot, "left", decay.rows)
        self.set_plot_title(self.decay_plot, f"decay {decay.label}")
        self.decay_shade.show(decay.time.padding_start, steps)
        self.set_ranges(self.decay_plot, (-0.5, steps - 0.5), (-0.5, rows - 0.5))
        self._write_decay_note(decay)

    def _write_decay_note(self, decay: StepDecayView) -> None:
        what = decay.equation or decay.label
        text = f"{what}: 1 keeps the memory, 0 forgets;<br>set by the input at each step (no fixed eigenvalues)"
        if text != self.decay_note.text:
            self.decay_note.setText(text, color=self.theme.foreground, size=self.theme.label_size)

    def csv_rows(self) -> Rows:
        data = self.data
        rows: Rows = [["kind", "index", "row", "value_or_real", "imaginary"]]
        if data is None:
            return rows
        for lag, norm in zip(np.asarray(data.lags), np.asarray(data.lag_norms)):
            rows.append(["lag_norm", int(lag), "", float(norm), 0.0])
        for gate, values in data.eigenvalues.items():
            for k, value in enumerate(np.asarray(values)):
                rows.append([f"eigenvalue_{gate}", k, "", float(value.real), float(value.imag)])
        if data.decay is not None:
            for t, column in enumerate(np.asarray(data.decay.values)):
                for r, value in enumerate(column):
                    rows.append(["decay", t, r, float(value), 0.0])
        return rows
