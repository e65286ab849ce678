"""One-to-many, drawn: the network unrolled over the text it writes, each sampled character fed back
in as the next input, and the most probable next characters at every step.

    sampled ŷ_t   e .43   l .61   l .88        (the character chosen after t, and its probability)
                   ↑ ┐     ↑ ┐     ↑
                  ┌─┐│ h  ┌─┐│ h  ┌─┐          box colour: p(the chosen character)
                  └─┘│ ─▶ └─┘│ ─▶ └─┘
                   ↑ └──▶  ↑ └──▶  ↑           the output at t becomes the input at t + 1
    input x_t      H       e       l

Under it, p(next character) for the characters among the top k at some step (rows) over the timesteps,
the chosen one marked. Drag sideways to scroll a long text. The view state is a GenerationView
(rnnviz.session.generation): this module only draws it.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg

from rnnviz.session.generation import GenerationView
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import LEFT_AXIS_WIDTH, Panel, Rows
from rnnviz.ui.theme import Theme

SLOT_PIXELS = 44  # about this many pixels per timestep are shown at once; the rest scrolls
BOX = (0.32, 0.48, 1.12)  # half width, bottom, top of a cell box (data units): a square symbol 0.64 wide
INPUT_Y, OUTPUT_Y = 0.12, 1.5  # where the input labels hang from and the output labels stand on
FEED_Y_TOP, FEED_Y_BOTTOM = 1.42, 0.2  # the feedback path's horizontal runs
CHOSEN_MARK = "#e8423f"


class GenerationPanel(Panel):
    name = "generation"
    title = "Generation: each sampled character is the next input"

    def build(self) -> None:
        page = self.graphics
        self.strip = self.add_plot(page, 1, 0, {})
        self.strip.hideAxis("bottom")
        blank = self.strip.getAxis("left")  # as wide as the heatmap's: the timesteps line up
        blank.setStyle(showValues=False, tickLength=0)
        blank.setPen(pg.mkPen(None))
        self.strip.setMouseEnabled(x=True, y=False)
        self.boxes = pg.ScatterPlotItem(symbol="s", pxMode=False, size=2 * BOX[0])
        self.arrows = pg.PlotDataItem(connect="pairs")
        self.feedback = pg.PlotDataItem(connect="pairs")
        self.heads = pg.ScatterPlotItem(size=9, pxMode=True)
        for item in (self.feedback, self.arrows, self.boxes, self.heads):
            self.strip.addItem(item)
        self.texts: list[tuple[pg.TextItem, pg.TextItem]] = []
        self.heat_plot, self.image, self.bar = self.add_heatmap(
            page, 2, 0, {"left": "next character", "bottom": "input x_t"},
            colormaps.sequential(self.theme.sequential_map), (0.0, 1.0), "probability",
            index_axes=("left", "bottom"))
        self.heat_plot.invertY(True)
        self.heat_plot.setMouseEnabled(x=True, y=False)
        self.heat_plot.setXLink(self.strip)
        for plot in (self.strip, self.heat_plot):
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.chosen = self.heat_plot.plot(pen=None, symbol="s", symbolSize=9)
        page.ci.layout.setRowStretchFactor(1, 2)
        page.ci.layout.setRowStretchFactor(2, 3)
        self.strip.setMinimumHeight(120)
        self._shape: tuple[int, int] | None = None

    def restyle(self, theme: Theme) -> None:
        self.strip.getAxis("left").setPen(pg.mkPen(None))
        self.bar.setColorMap(colormaps.sequential(theme.sequential_map))
        self.arrows.setPen(pg.mkPen(theme.foreground, width=1))
        self.feedback.setPen(pg.mkPen(theme.pen(0), width=1))
        self.heads.setPen(pg.mkPen(None))
        self.chosen.setSymbolPen(pg.mkPen(CHOSEN_MARK, width=2))
        self.chosen.setSymbolBrush(pg.mkBrush(None))
        if self.view is not None:
            self.draw(self.view)

    # ------------------------------------------------------------------ drawing

    def draw(self, view: GenerationView) -> None:
        steps = view.seq_len
        self._draw_boxes(view)
        self._draw_arrows(view)
        self._draw_texts(view)
        self._draw_heatmap(view)
        shown = max(int(self.width() / SLOT_PIXELS), 6)
        first = max(0, min(int(np.argmax(view.sampled)) - 2, steps - shown))  # from the seed's last letters
        self.strip.setLimits(xMin=-1.0, xMax=steps + 0.5)
        self.strip.setRange(xRange=(first - 0.6, first + shown - 0.4), yRange=(-0.55, 2.05), padding=0)
        temperature = f"{view.temperature:g}"
        self.set_page_title(self.graphics, f"Generation at temperature {temperature} (seed {view.seed}): "
                                           f"{len(view.text)} characters sampled, each fed back in")

    def _draw_boxes(self, view: GenerationView) -> None:
        theme = self.theme
        colours = colormaps.sequential(theme.sequential_map).map(np.clip(view.chosen_probability, 0, 1), mode="qcolor")
        brushes = [pg.mkBrush(c) if sampled else pg.mkBrush(theme.background)
                   for c, sampled in zip(colours, view.sampled)]
        pens = [pg.mkPen(theme.foreground if sampled else theme.muted, width=1) for sampled in view.sampled]
        x = np.arange(view.seq_len, dtype=float)
        self.boxes.setData(x=x, y=np.full(view.seq_len, (BOX[1] + BOX[2]) / 2), brush=brushes, pen=pens,
                           size=2 * BOX[0])

    def _draw_arrows(self, view: GenerationView) -> None:
        half, bottom, top = BOX
        shafts, heads, symbols, feed = [], [], [], []
        for t in range(view.seq_len):
            shafts += [(t, INPUT_Y + 0.02), (t, bottom)]  # input into the cell
            shafts += [(t, top), (t, OUTPUT_Y - 0.02)]  # output out of it
            heads += [(t, bottom - 0.03), (t, OUTPUT_Y - 0.05)]
            symbols += ["t1", "t1"]
            if t + 1 < view.seq_len:
                y = (bottom + top) / 2
                shafts += [(t + half, y), (t + 1 - half, y)]  # h_t to the next step
                heads.append((t + 1 - half - 0.03, y))
                symbols.append("t2")
                if view.sampled[t]:  # the sampled character is the next input
                    feed += [(t + 0.06, FEED_Y_TOP), (t + 0.5, FEED_Y_TOP), (t + 0.5, FEED_Y_TOP),
                             (t + 0.5, FEED_Y_BOTTOM), (t + 0.5, FEED_Y_BOTTOM), (t + 0.9, FEED_Y_BOTTOM)]
                    heads.append((t + 0.9, FEED_Y_BOTTOM))
                    symbols.append("t2")
        shafts_array = np.array(shafts, dtype=float)
        self.arrows.setData(shafts_array[:, 0], shafts_array[:, 1])
        feed_array = np.array(feed, dtype=float).reshape(-1, 2)
        self.feedback.setData(feed_array[:, 0], feed_array[:, 1])
        heads_array = np.array(heads, dtype=float)
        brushes = [pg.mkBrush(self.theme.pen(0) if (s == "t2" and abs(y - FEED_Y_BOTTOM) < 1e-9)
                              else self.theme.foreground) for (_, y), s in zip(heads, symbols)]
        self.heads.setData(x=heads_array[:, 0], y=heads_array[:, 1], symbol=symbols, brush=brushes)

    def _draw_texts(self, view: GenerationView) -> None:
        while len(self.texts) < view.seq_len:
            pair = (pg.TextItem(anchor=(0.5, 0.0)), pg.TextItem(anchor=(0.5, 1.0)))
            for item in pair:
                item.setZValue(10)
                self.strip.addItem(item)
            self.texts.append(pair)
        theme = self.theme
        for t, (below, above) in enumerate(self.texts):
            visible = t < view.seq_len
            below.setVisible(visible)
            above.setVisible(visible)
            if not visible:
                continue
            fed = t > 0 and view.sampled[t - 1]
            colour = theme.pen(0) if fed else theme.foreground
            below.setPos(t, INPUT_Y)
            below.setHtml(f"<div style='text-align:center; color:{colour}'><b>{html.escape(view.inputs[t])}</b>"
                          f"<br><span style='color:{theme.muted}'>t={t}</span></div>")
            below.setToolTip(f"x_{t} = {view.inputs[t]}" + (" (sampled at t - 1, fed back in)" if fed else " (seed)"))
            above.setPos(t, OUTPUT_Y)
            out_colour = theme.foreground if view.sampled[t] else theme.muted
            above.setHtml(f"<div style='text-align:center; color:{out_colour}'><b>{html.escape(view.outputs[t])}</b>"
                          f"<br>{view.chosen_probability[t]:.2f}</div>")
            what = "sampled" if view.sampled[t] else "the seed's next character"
            above.setToolTip(f"after t = {t}: {view.outputs[t]} ({what}), p = {view.chosen_probability[t]:.3f}")

    def _draw_heatmap(self, view: GenerationView) -> None:
        probabilities = view.probabilities  # (T, m)
        self.image.setImage(probabilities, autoLevels=False)
        if self._shape != probabilities.shape:
            self._shape = probabilities.shape
            self.image.setRect(-0.5, -0.5, *probabilities.shape)
        self.heat_plot.getAxis("left").set_labels(view.row_names)
        self.heat_plot.getAxis("bottom").set_labels(view.inputs, upright=True)
        self.heat_plot.setLimits(xMin=-1.0, xMax=view.seq_len + 0.5)
        self.heat_plot.setYRange(-0.5, len(view.row_names) - 0.5, padding=0)
        self.chosen.setData(np.arange(view.seq_len, dtype=float), view.output_rows.astype(float))

    # ------------------------------------------------------------------ export

    def csv_rows(self) -> Rows:
        view: GenerationView | None = self.view
        if view is None:
            return [["timestep"]]
        rows: Rows = [["timestep", "input", "output", "sampled", "probability",
                       *[f"p({name})" for name in view.row_names]]]
        for t in range(view.seq_len):
            rows.append([t, view.inputs[t], view.outputs[t], int(view.sampled[t]),
                         float(view.chosen_probability[t]), *view.probabilities[t].tolist()])
        return rows
