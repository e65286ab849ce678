"""Gate activations as heatmap strips (units x timesteps), stacked on one shared time axis.

The strips follow the cell's spec (``CellSpec.gates``): its gates (sigmoids, [0, 1], one sequential
colour bar), its candidates (tanh, [-1, 1], a diverging bar) and, with a cell state, c_t (unbounded,
levels symmetric about zero, its own diverging bar). For the LSTM: i, f, o; g; c_t. For the GRU: r, z;
n. Time runs left to right as in the hidden-state panel, so a gate that opens at timestep t lines up
with the hidden state it changes. A cell without gates (a vanilla RNN) gets a page that says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from rnnviz.engine.cells import CellSpec, cell_spec, cell_specs
from rnnviz.engine.cells.base import KIND_RANGES
from rnnviz.session.views.training import GatesView, gates_view
from rnnviz.ui import colormaps
from rnnviz.ui.panels.base import IndexAxis, Panel, Rows, let_shrink, nice_ceiling
from rnnviz.ui.panels.hidden import PaddingShade
from rnnviz.ui.theme import Theme

CELL_STATE = "cell_state"  # the key of c_t among a snapshot's gates
NO_GATES_PAGE = "no gates"  # the page of every cell without gates
UNIT_AXIS_WIDTH = 30  # px, the same for every strip so that they line up
NAME_MIN_HEIGHT = 18  # px: a strip's two-line name may overhang into the gaps rather than push the time axis out
SHORT_NAMES_BELOW = 300  # px of panel width: below it the strips are named by their symbol alone
GROUP_GAP = 10  # px between two groups of strips: their colour bars' end labels (reaching ~6 px past the ends) stay apart


@dataclass
class GateGroup:
    names: tuple[str, ...]
    kind: str  # "gate" [0, 1] | "candidate" [-1, 1] | "linear", "cell" symmetric about zero | "positive" [0, max]
    images: list[pg.ImageItem]
    bar: pg.ColorBarItem


def fixed_levels(kind: str) -> tuple[float, float] | None:
    return KIND_RANGES.get(kind)


BAR_LABELS = {"gate": "gate value", "linear": "value", "positive": "value"}


def gate_groups(spec: CellSpec) -> list[tuple[tuple[str, ...], str, str]]:
    """(strip names, colour-bar kind, colour-bar label) for each group of strips sharing one colour
    bar: the gates (and derived values in [0, 1], minLSTM's f′ i′), the candidates, the unbounded values
    (minGRU's h̃, the LRU's input drive), the positive ones (the selective layer's Δ), the cell state."""
    groups = []
    for kind in ("gate", "candidate", "linear", "positive"):
        names = tuple(g.name for g in spec.shown_values if g.kind == kind)
        if names:
            groups.append((names, kind, BAR_LABELS.get(kind) or (names[0] if len(names) == 1 else kind)))
    if spec.has_cell_state:
        groups.append(((CELL_STATE,), "cell", "c_t"))
    return groups


def gate_label(spec: CellSpec, name: str, short: bool = False) -> str:
    """Two-line name of a strip: the symbol in bold, then what it is; ``short``: the symbol alone (a
    narrow panel gives the strips the width, and the time axis keeps its numbers)."""
    symbol, meaning = ("c", spec.state_word) if name == CELL_STATE else (name, spec.gate(name).short_word)
    return f"<b>{symbol}</b>" if short else f"<b>{symbol}</b><br><span style='font-size:9pt'>{meaning}</span>"


def no_gates_text(spec: CellSpec) -> str:
    """What the panel says for a cell without gates, with its equation wrapped at a '+' near the middle."""
    equation = spec.equations[0]
    plus = [k for k in range(len(equation)) if equation.startswith(" + ", k)]
    if plus:
        middle = min(plus, key=lambda k: abs(k - len(equation) / 2))
        equation = equation[:middle] + "<br>" + equation[middle + 1:]
    return f"{spec.noun[0].upper()}{spec.noun[1:]} has no gates:<br>{equation}"


class GatesPanel(Panel):
    name = "gates"
    title = "Gates"
    view_of = staticmethod(gates_view)

    def build(self) -> None:
        """A page per registered cell with gates (a cell registered later gets its page when first
        drawn) and one page for the cells without gates."""
        self.pages: dict[str, pg.GraphicsLayoutWidget] = {}
        self.groups: dict[str, list[GateGroup]] = {}
        self.plots: dict[str, list[pg.PlotItem]] = {}
        self.time_axes: dict[str, IndexAxis] = {}
        self.time_holders: dict[str, pg.PlotItem] = {}
        self.name_labels: list[pg.LabelItem] = []
        self.name_of: dict[int, tuple[CellSpec, str]] = {}  # id(label) -> the strip it names
        self.short_names = False
        self.shades: dict[str, list[PaddingShade]] = {}
        for spec in cell_specs():
            if spec.gate_names:
                self._build_gate_page(spec)
        self.pages[NO_GATES_PAGE] = self.add_page()
        self.message = self.pages[NO_GATES_PAGE].addLabel("", row=1, col=0)
        self.set_page_title(self.pages[NO_GATES_PAGE], "Gates")
        self._shape: dict[str, tuple] = {}  # page -> (T, H, labels) its axes were set for

    def _build_gate_page(self, spec: CellSpec) -> None:
        cell = spec.name
        self.pages[cell] = self.graphics if not self.pages else self.add_page()
        self.set_page_title(self.pages[cell], f"Gates ({spec.title})")
        sub = self.add_sublayout(self.pages[cell], 1)
        sub.layout.setHorizontalSpacing(2)
        sub.layout.setVerticalSpacing(3)
        built, plots, row = [], [], 0
        for names, kind, bar_label in gate_groups(spec):
            images = []
            for gate in names:
                name = sub.addLabel(gate_label(spec, gate), row=row, col=0, justify="right")
                let_shrink(name, width=None, height=NAME_MIN_HEIGHT)  # two lines must not set the strips' height
                self.name_labels.append(name)
                self.name_of[id(name)] = (spec, gate)
                plot = self.add_plot(sub, row, 1, {}, index_axes=("left",))
                plot.hideAxis("bottom")
                plot.getAxis("left").setWidth(UNIT_AXIS_WIDTH)
                plot.invertY(True)
                if plots:
                    plot.setXLink(plots[0])
                image = pg.ImageItem(axisOrder="col-major")
                plot.addItem(image)
                images.append(image)
                plots.append(plot)
                row += 1
            bar = self._group_bar(sub, row - len(names), len(names), images, kind, bar_label)
            built.append(GateGroup(names, kind, images, bar))
            sub.layout.setRowSpacing(row - 1, GROUP_GAP)  # the end labels of two colour bars must not meet
        self.time_axes[cell] = self.add_time_axis(sub, row, 1, plots[-1])
        self.time_holders[cell] = self._styled[-1][0]
        for r in range(row):
            sub.layout.setRowStretchFactor(r, 1)
        self.groups[cell] = built
        self.plots[cell] = plots
        self.shades[cell] = [PaddingShade(plot) for plot in plots]

    def _group_bar(self, sub, row: int, rows: int, images, kind: str, label: str) -> pg.ColorBarItem:
        levels = fixed_levels(kind) or (-1.0, 1.0)
        bar = pg.ColorBarItem(values=levels, width=12, colorMap=self._colormap(kind), interactive=False,
                              colorMapMenu=False)
        bar.setImageItem(images)
        bar.axis.enableAutoSIPrefix(False)
        sub.addItem(bar, row=row, col=2, rowspan=rows)
        self._styled.append((bar, {"right": label}))
        self._style_axes(bar, {"right": label})
        self.set_bar_levels(bar, levels, middle=len(images) > 1)  # after the label: the width counts it
        return bar

    def _colormap(self, kind: str) -> pg.ColorMap:
        if kind in ("gate", "positive"):
            return colormaps.sequential(self.theme.sequential_map)
        return colormaps.diverging(self.theme.diverging_map)

    def time_plots(self) -> list[pg.PlotItem]:
        return [plot for cell_plots in self.plots.values() for plot in cell_plots]

    def restyle(self, theme: Theme) -> None:
        for groups in self.groups.values():
            for group in groups:
                group.bar.setColorMap(self._colormap(group.kind))
        for label in self.name_labels:
            spec, gate = self.name_of[id(label)]
            label.setText(gate_label(spec, gate, self.short_names), color=theme.foreground, size=theme.label_size)
        self.message.setText(self.message.text, color=theme.foreground, size=theme.label_size)
        for shades in self.shades.values():
            for shade in shades:
                shade.restyle(theme)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        short = event.size().width() < SHORT_NAMES_BELOW
        if short != self.short_names:
            self.short_names = short
            self.restyle(self.theme)

    def page_kind(self, cell: str) -> str:
        """The page that shows ``cell``: its own, built when first needed, or the no-gates page."""
        spec = cell_spec(cell)
        if not spec.gate_names:
            return NO_GATES_PAGE
        if cell not in self.pages:
            self._build_gate_page(spec)
            self.restyle(self.theme)
        return cell

    def draw(self, view: GatesView) -> None:
        kind = self.page_kind(view.cell)
        if self.stack.currentWidget() is not self.pages[kind]:
            self.stack.setCurrentWidget(self.pages[kind])
        if kind == NO_GATES_PAGE:
            spec = cell_spec(view.cell)
            self.set_page_title(self.pages[kind], f"Gates ({spec.title})")
            text = no_gates_text(spec)
            if self.message.text != text:
                self.message.setText(text, color=self.theme.foreground, size=self.theme.label_size)
            return
        steps, units = view.shape
        state_units = np.shape(view.gates.get(CELL_STATE, np.zeros((0, units))))[1]  # S: c_t may be wider than h_t
        shape_changed = self._shape.get(kind) != (steps, units, state_units)
        for group in self.groups[kind]:
            for gate, image in zip(group.names, group.images):
                image.setImage(view.gates[gate], autoLevels=False)  # (T, H); the cell state (T, S)
                if shape_changed:
                    image.setRect(-0.5, -0.5, steps, np.shape(view.gates[gate])[1])
            self.set_bar_levels(group.bar, self.levels(group, view), middle=len(group.names) > 1)
        self.set_time_axis(self.time_holders[kind], view.time, self.time_axes[kind])
        for shade in self.shades[kind]:
            shade.show(view.time.padding_start, steps)
        if shape_changed:
            self._shape[kind] = (steps, units, state_units)
            names = [name for group in self.groups[kind] for name in group.names]
            for plot, name in zip(self.plots[kind], names):
                rows = state_units if name == CELL_STATE else units
                self.set_ranges(plot, (-0.5, steps - 0.5), (-0.5, rows - 0.5))

    @staticmethod
    def levels(group: GateGroup, view: GatesView) -> tuple[float, float]:
        """Fixed for the gates and candidates; for the cell state and unbounded values +-(a round number
        >= the largest magnitude), for positive values [0, that number]: they change only now and then
        while training, not every frame."""
        levels = fixed_levels(group.kind)
        if levels is None:
            largest = max(colormaps.symmetric_levels(view.gates[name])[1] for name in group.names)
            top = nice_ceiling(largest) if largest > 0 else 1.0
            levels = (0.0, top) if group.kind == "positive" else (-top, top)
        return levels

    def shown_gates(self) -> tuple[str, ...]:
        if self.view is None:
            return ()
        kind = self.page_kind(self.view.cell)
        return tuple(name for group in self.groups.get(kind, []) for name in group.names)

    def csv_rows(self) -> Rows:
        gates = self.shown_gates()
        if not gates:
            return [["timestep"]]
        arrays = [self.view.gates[g] for g in gates]  # each (T, H); the cell state (T, S)
        header = ["timestep", *[f"{g}[{u}]" for g, a in zip(gates, arrays) for u in range(a.shape[1])]]
        rows: Rows = [header]
        for t in range(arrays[0].shape[0]):
            rows.append([t, *np.concatenate([a[t] for a in arrays]).tolist()])
        return rows

