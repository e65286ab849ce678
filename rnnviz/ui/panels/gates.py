"""Gate activations as small heatmaps (units x timesteps): LSTM i, f, g, o and the cell state, GRU r, z, n.

Value ranges share a colour bar: sigmoid gates lie in [0, 1] (sequential map), the tanh candidates
g / n in [-1, 1] and the cell state (unbounded, levels symmetric about zero) use the diverging map.
A vanilla RNN has no gates; the panel says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import Panel, Rows, index_ticks
from rnnviz.ui.theme import Theme

GATE_TITLES = {
    "i": "i (input)",
    "f": "f (forget)",
    "o": "o (output)",
    "g": "g (candidate)",
    "cell_state": "c_t (cell state)",
    "r": "r (reset)",
    "z": "z (update)",
    "n": "n (candidate)",
}
# rows of each page: (gate names, colour-bar kind) per colour-bar group
LAYOUTS = {
    "lstm": [[(("i", "f", "o"), "gate")], [(("g",), "candidate"), (("cell_state",), "cell")]],
    "gru": [[(("r", "z"), "gate")], [(("n",), "candidate")]],
}
NO_GATES = "A vanilla RNN has no gates:  h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)"
NO_GATES_RELU = "A vanilla RNN has no gates:  h_t = relu(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)"


@dataclass
class GateGroup:
    names: tuple[str, ...]
    kind: str  # "gate" [0, 1] | "candidate" [-1, 1] | "cell" symmetric about zero
    images: list[pg.ImageItem]
    bar: pg.ColorBarItem


def fixed_levels(kind: str) -> tuple[float, float] | None:
    return {"gate": (0.0, 1.0), "candidate": (-1.0, 1.0)}.get(kind)


class GatesPanel(Panel):
    name = "gates"
    title = "Gates"

    def build(self) -> None:
        self.pages = {"lstm": self.graphics, "gru": self.add_page(), "rnn": self.add_page()}
        self.groups: dict[str, list[GateGroup]] = {}
        self.plots: dict[str, list[pg.PlotItem]] = {}
        for cell, rows in LAYOUTS.items():
            self._build_gate_page(cell, rows)
        self.message = self.pages["rnn"].addLabel(NO_GATES, row=1, col=0)
        self.set_page_title(self.pages["lstm"], "Gates (LSTM)")
        self.set_page_title(self.pages["gru"], "Gates (GRU)")
        self.set_page_title(self.pages["rnn"], "Gates (vanilla RNN)")
        self._units: dict[int, tuple[int, int]] = {}  # plot -> (H, T) its ticks were set for

    def _build_gate_page(self, cell: str, rows) -> None:
        page = self.pages[cell]
        groups, plots = [], []
        for row_index, row in enumerate(rows, start=1):
            sub = self.add_sublayout(page, row_index)
            col = 0
            for names, kind in row:
                images = []
                for gate in names:
                    labels = {"title": GATE_TITLES[gate], "bottom": "timestep"}
                    if col == 0:
                        labels["left"] = "unit"
                    plot = self.add_plot(sub, 0, col, labels)
                    plot.invertY(True)
                    image = pg.ImageItem(axisOrder="col-major")
                    plot.addItem(image)
                    images.append(image)
                    plots.append(plot)
                    col += 1
                levels = fixed_levels(kind) or (-1.0, 1.0)
                bar = self.add_colorbar(sub, 0, col, images, self._colormap(kind), levels, "")
                groups.append(GateGroup(names, kind, images, bar))
                col += 1
        self.groups[cell] = groups
        self.plots[cell] = plots

    def _colormap(self, kind: str) -> pg.ColorMap:
        if kind == "gate":
            return colormaps.sequential(self.theme.sequential_map)
        return colormaps.diverging(self.theme.diverging_map)

    def restyle(self, theme: Theme) -> None:
        for groups in self.groups.values():
            for group in groups:
                group.bar.setColorMap(self._colormap(group.kind))
        self.message.setText(self.message.text, color=theme.foreground, size="16pt")

    @staticmethod
    def page_kind(cell: str) -> str:
        return cell if cell in LAYOUTS else "rnn"

    def draw(self, snapshot: Snapshot) -> None:
        kind = self.page_kind(snapshot.cell)
        self.stack.setCurrentWidget(self.pages[kind])
        if kind == "rnn":
            self.message.setText(NO_GATES_RELU if snapshot.cell == "rnn_relu" else NO_GATES,
                                 color=self.theme.foreground, size="16pt")
            return
        steps, units = np.asarray(snapshot.hidden).shape
        for group in self.groups[kind]:
            for gate, image in zip(group.names, group.images):
                image.setImage(np.asarray(snapshot.gates[gate]), autoLevels=False)
                image.setRect(-0.5, -0.5, steps, units)
            levels = fixed_levels(group.kind)
            if levels is None:
                levels = colormaps.symmetric_levels(np.asarray(snapshot.gates[group.names[0]]))
            if tuple(group.bar.levels()) != levels:
                group.bar.setLevels(levels)
        for plot in self.plots[kind]:
            self.set_ranges(plot, (-0.5, steps - 0.5), (-0.5, units - 0.5))
            if self._units.get(id(plot)) != (units, steps):
                self._units[id(plot)] = (units, steps)
                plot.getAxis("left").setTicks(index_ticks(units, most=5))
                plot.getAxis("bottom").setTicks(index_ticks(steps, most=3))

    def shown_gates(self) -> tuple[str, ...]:
        if self.snapshot is None:
            return ()
        kind = self.page_kind(self.snapshot.cell)
        return tuple(name for group in self.groups.get(kind, []) for name in group.names)

    def csv_rows(self) -> Rows:
        gates = self.shown_gates()
        if not gates:
            return [["timestep"]]
        arrays = [np.asarray(self.snapshot.gates[g]) for g in gates]  # each (T, H)
        units = arrays[0].shape[1]
        header = ["timestep", *[f"{g}[{u}]" for g in gates for u in range(units)]]
        rows: Rows = [header]
        for t in range(arrays[0].shape[0]):
            rows.append([t, *np.concatenate([a[t] for a in arrays]).tolist()])
        return rows
