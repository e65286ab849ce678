"""Backpropagation through time, one timestep at a time.

    dL/dh_t = (what arrives from the output at t) + (what flows back from t+1 through the recurrence)

The panel shows, for the timestep the backward pass is at:
- ||dL/dh_t|| per timestep on a log axis, filled in as the backward pass goes (vanishing: the points
  fall by decades towards t = 0; exploding: they grow);
- dL/dh_t per unit, split into its two sources (side-by-side bars);
- the local derivative factors (tanh'(a) = 1 − h², σ'(f) = f (1 − f), …) per unit;
- this timestep's contribution to dW_ih and dW_hh and the gradient accumulated so far.
Above the plots: whether clipping fires on the full gradient (and by what factor), and once every step
is taken, whether the accumulated gradients equal the full backward pass ("matches full BPTT ✓").
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QSizePolicy

from rnnviz.session.stepper import ClipInfo
from rnnviz.session.views.step_through import BpttView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, fitted_title_size, index_ticks, let_shrink
from rnnviz.ui.panels.gradients import decade_ticks, log_range
from rnnviz.ui.theme import Theme

MATRICES = ("W_ih", "W_hh")
HEATMAP_TITLES = {"local": "local factors", "W_ih": "ΔW_ih(t)", "W_hh": "ΔW_hh(t)",
                  "acc_W_ih": "Σ ΔW_ih", "acc_W_hh": "Σ ΔW_hh"}
HEATMAP_TITLE_PT = (10.0, 7.0)  # largest and smallest size of a small heatmap's two-line title
NORM_TITLE_PT = (11.0, 8.0)  # the same for the gradient-norm plot's title


def short_number(value: float) -> str:
    """1.2e-3 rather than 1.2e-03: a small heatmap's title has room for few characters."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def clip_text(clip: ClipInfo) -> str:
    """What clipping does to the full gradient, in words."""
    if clip.threshold is None:
        return f"Clipping off (gradient norm {clip.global_norm:.3g})"
    if clip.fires:
        return (f"<b>Clipping fires</b>: gradient norm {clip.global_norm:.3g} > {clip.threshold:g}, "
                f"scaled × {clip.scale:.3g}")
    return f"Clipping at {clip.threshold:g} does not fire (gradient norm {clip.global_norm:.3g})"


class BpttPanel(Panel):
    name = "bptt"
    title = "Backpropagation through time"

    def build(self) -> None:
        page = self.graphics
        self.norm_plot = self.add_plot(page, 1, 0, {"left": "||dL/dh_t||", "bottom": "timestep"},
                                       index_axes=("bottom",))
        self._fit_title(self.norm_plot, "||dL/dh_t|| per timestep", NORM_TITLE_PT)  # fitted to the plot's width
        self.norm_plot.setLogMode(y=True)
        self.norm_plot.showGrid(x=True, y=True, alpha=0.25)
        self.norm_curve = self.norm_plot.plot(symbol="o", symbolSize=7)
        self.norm_now = self.norm_plot.plot(pen=None, symbol="o", symbolSize=14)
        self.split_plot = self.add_plot(page, 1, 1, {"left": "dL/dh_t", "bottom": "unit"})
        self.split_plot.showGrid(y=True, alpha=0.25)
        self.bars_output = pg.BarGraphItem(x=[0], height=[0], width=0.4)
        self.bars_next = pg.BarGraphItem(x=[0], height=[0], width=0.4)
        self.split_plot.addItem(self.bars_output)
        self.split_plot.addItem(self.bars_next)
        page.ci.layout.setColumnStretchFactor(0, 3)
        page.ci.layout.setColumnStretchFactor(1, 2)
        self.norm_plot.setPreferredWidth(600)
        self.split_plot.setPreferredWidth(300)
        self.norm_plot.getViewBox().sigResized.connect(lambda *_args: self._refit_heatmap_title(self.norm_plot))
        sub = page.ci.addLayout(row=2, col=0, colspan=2)  # the small heatmaps span both columns
        sub.setContentsMargins(0, 0, 0, 0)
        sub.layout.setSpacing(4)
        page.ci.layout.setRowStretchFactor(1, 3)
        page.ci.layout.setRowStretchFactor(2, 2)
        self.heatmaps: dict[str, tuple[pg.PlotItem, pg.ImageItem]] = {}
        for col, (key, title) in enumerate(HEATMAP_TITLES.items()):
            plot = self.add_plot(sub, 0, col, {"title": title})
            plot.invertY(True)
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("left").setStyle(showValues=key == "local")
            image = pg.ImageItem(axisOrder="col-major")
            plot.addItem(image)
            plot.getViewBox().sigResized.connect(lambda *_args, p=plot: self._refit_heatmap_title(p))
            self.heatmaps[key] = (plot, image)
        self.status = QLabel()
        self.status.setObjectName("bptt_status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.match_label = QLabel()
        self.match_label.setObjectName("bptt_match")
        self.controls.addWidget(self.status, 1)
        self.controls.addWidget(self.match_label)
        self._local_names: tuple[str, ...] = ()
        self._units = -1

    def time_plots(self) -> list[pg.PlotItem]:
        return [self.norm_plot]

    def restyle(self, theme: Theme) -> None:
        self.split_plot.setTitle(f"from <span style='color:{theme.pen(0)}'>■ output</span> + "
                                 f"<span style='color:{theme.pen(1)}'>■ t+1</span>",
                                 color=theme.foreground, size=theme.label_size)
        self.norm_curve.setPen(self.pen(3))
        self.norm_curve.setSymbolPen(self.pen(3))
        self.norm_curve.setSymbolBrush(theme.pen(3))
        self.norm_now.setSymbolPen(pg.mkPen(theme.pen(1), width=2))
        self.norm_now.setSymbolBrush(pg.mkBrush(None))
        self.bars_output.setOpts(brush=pg.mkBrush(theme.pen(0)), pen=pg.mkPen(None))
        self.bars_next.setOpts(brush=pg.mkBrush(theme.pen(1)), pen=pg.mkPen(None))
        for plot, image in [*self.heatmaps.values(), (self.norm_plot, None)]:
            if image is not None:
                image.setColorMap(colormaps.diverging(theme.diverging_map))
            self._refit_heatmap_title(plot)  # in the theme's colour
        if self.view is not None:
            self.show_view(self.view)

    @property
    def state(self) -> BpttView | None:
        """The BPTT view drawn last."""
        return self.view

    def draw(self, state: BpttView) -> None:
        self._draw_norms(state)
        self._draw_split(state)
        self._draw_heatmaps(state)
        theme = self.theme
        where = state.message
        symbol = state.state_symbol
        if state.t is not None:
            where = f"t = {state.t},  ||dL/d{symbol}_{state.t}|| = {state.grad_norm[state.t]:.2e}"
        self.set_axis_label(self.norm_plot, "left", f"||dL/d{symbol}_t||")
        self._fit_title(self.norm_plot, f"||dL/d{symbol}_t|| per timestep", NORM_TITLE_PT)
        if state.time is not None:
            self.set_time_axis(self.norm_plot, state.time)
        cut = "  — truncated BPTT cuts the recurrence here" if state.cut else ""
        self.set_page_title(self.graphics, f"BPTT: {where}{cut}")
        self.status.setText(clip_text(state.clip))
        if state.match is None:
            self.match_label.setText("")
        else:
            ok, error = state.match
            colour = theme.pen(2) if ok else theme.pen(1)
            self.match_label.setText(f"<b style='color:{colour}'>{'matches full BPTT ✓' if ok else 'differs from full BPTT ✗'}"
                                     f"</b>")
            self.match_label.setToolTip(f"Σ of the per-step contributions vs the full backward pass: "
                                        f"largest difference {error:.1e} of the largest gradient entry")

    def _draw_norms(self, state: BpttView) -> None:
        norms = state.grad_norm
        steps = norms.shape[0]
        x = np.arange(steps, dtype=float)
        shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
        if np.isfinite(shown).any():
            self.norm_curve.setData(x, shown, connect="finite")
        else:
            self.norm_curve.setData([], [])
        if state.t is not None and np.isfinite(shown[state.t]):
            self.norm_now.setData([float(state.t)], [shown[state.t]])
        else:
            self.norm_now.setData([], [])
        low, high = log_range(norms)
        self.norm_plot.getAxis("left").setTicks(decade_ticks(low, high))
        self.set_ranges(self.norm_plot, (-0.5, steps - 0.5), (low, high))

    def _draw_split(self, state: BpttView) -> None:
        if state.d_hidden_from_output is None:
            self.bars_output.setOpts(x=[0.0], height=[0.0])
            self.bars_next.setOpts(x=[0.0], height=[0.0])
            return
        units = len(state.d_hidden_from_output)
        x = np.arange(units, dtype=float)
        self.bars_output.setOpts(x=x - 0.2, height=state.d_hidden_from_output)
        self.bars_next.setOpts(x=x + 0.2, height=state.d_hidden_from_next)
        both = np.concatenate([state.d_hidden_from_output, state.d_hidden_from_next])
        top = float(np.abs(both[np.isfinite(both)]).max(initial=0.0)) or 1e-12
        self.split_plot.setRange(xRange=(-0.6, units - 0.4), yRange=(-1.1 * top, 1.1 * top), padding=0)
        if units != self._units:
            self._units = units
            self.split_plot.getAxis("bottom").setTicks(index_ticks(units, most=12))

    def _draw_heatmaps(self, state: BpttView) -> None:
        arrays = {
            "local": np.stack(list(state.local.values())) if state.local else None,  # (factors, H)
            "W_ih": state.contribution.get("W_ih"), "W_hh": state.contribution.get("W_hh"),
            "acc_W_ih": state.accumulated.get("W_ih"), "acc_W_hh": state.accumulated.get("W_hh"),
        }
        for key, (plot, image) in self.heatmaps.items():
            array = arrays[key]
            if array is None:
                image.setVisible(False)
                self._fit_title(plot, f"{HEATMAP_TITLES[key]}<br>&nbsp;")
                continue
            image.setVisible(True)
            matrix = np.asarray(array, dtype=float)  # (rows, cols) as the matrix is written
            image.setImage(matrix.T, levels=colormaps.symmetric_levels(matrix), autoLevels=False)
            image.setRect(-0.5, -0.5, matrix.shape[1], matrix.shape[0])
            self.set_ranges(plot, (-0.5, matrix.shape[1] - 0.5), (-0.5, matrix.shape[0] - 0.5))
            largest = float(np.abs(matrix).max(initial=0.0))
            self._fit_title(plot, f"{HEATMAP_TITLES[key]}<br>max {short_number(largest)}")
        names = tuple(state.local)
        if names != self._local_names:
            self._local_names = names
            self.heatmaps["local"][0].getAxis("left").setTicks([[(float(i), n) for i, n in enumerate(names)], []])

    def _fit_title(self, plot: pg.PlotItem, text: str, sizes: tuple[float, float] = HEATMAP_TITLE_PT) -> None:
        """A plot's title, small enough to stay within its plot (neighbours never run together)."""
        grow = float(self.theme.label_size.rstrip("pt")) / 11.0  # presentation mode's text is larger
        largest, smallest = sizes[0] * grow, sizes[1] * grow
        size = fitted_title_size(text, plot.width() - 4, largest, smallest, bold=False) if plot.width() > 0 else largest
        if (getattr(plot, "_rnnviz_title", None) or (None,) * 4)[:3] != (text, size, self.theme.foreground):
            plot._rnnviz_title = (text, size, self.theme.foreground, sizes)
            plot.setTitle(text, color=self.theme.foreground, size=f"{size:g}pt")
            let_shrink(plot.titleLabel, width=8.0)

    def _refit_heatmap_title(self, plot: pg.PlotItem) -> None:
        shown = getattr(plot, "_rnnviz_title", None)
        if shown is not None:
            plot._rnnviz_title = None
            self._fit_title(plot, shown[0], shown[3])

    def csv_rows(self) -> Rows:
        state = self.view
        if state is None:
            return [["timestep", "grad_norm_dL_dh"]]
        rows: Rows = [["timestep", "grad_norm_dL_dh"]]
        for t, norm in enumerate(state.grad_norm):
            rows.append([t, float(norm)])
        return rows
