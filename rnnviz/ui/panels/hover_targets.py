"""What can be hovered in each panel, by panel name: its images and curves, each with the session's
explanation of the number under the mouse (rnnviz.session.views.explain) and, where a double-click
edits something (what-if), the edit it asks for.

The functions read the panels' items as they are at this moment (pages are rebuilt when the model
changes), so the panels themselves carry no hover code. A panel missing here shows no tooltips but
still has its "?" button.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg

from rnnviz.engine.cells import cell_spec
from rnnviz.session.views.explain import (
    Explanation,
    explain_gate,
    explain_gradient,
    explain_hidden,
    explain_input,
    explain_step_vector,
    explain_weight,
    number,
    time_fact,
    weight_key,
)
from rnnviz.session.whatif import InputTarget, WeightEntry, WeightTarget, parameter_name
from rnnviz.ui.panels.hover import ColumnTarget, CurveTarget, ImageTarget, Target

TargetsOf = Callable[[Any], list[Target]]


def _input_edit(panel: Any) -> Callable[..., InputTarget | None]:
    """A double-click on timestep t of a training panel edits x_t of the sample shown."""

    def edit(t: int, *_rest: Any) -> InputTarget | None:
        snapshot = panel.snapshot
        if snapshot is None or not 0 <= int(t) < len(snapshot.mask):
            return None
        return InputTarget(snapshot.sample, int(t))

    return edit


def hidden_targets(panel: Any) -> list[Target]:
    snapshot = panel.snapshot
    if snapshot is None:
        return []
    token_axis = panel.view.value_label == "token"
    targets: list[Target] = [ImageTarget(panel.image, lambda t, unit: explain_hidden(panel.snapshot, t, unit),
                                         _input_edit(panel))]
    for feature, line in enumerate(panel.input_lines):
        targets.append(CurveTarget(
            line, lambda i, x, y, f=feature: explain_input(panel.snapshot, int(round(x)), None if token_axis else f),
            _input_edit(panel)))
    one_hot = getattr(panel, "one_hot", None)  # token tasks: x_t drawn as one-hot rows
    if one_hot is not None:  # (a hidden image answers nothing: ImageTarget.find)
        targets.append(ImageTarget(one_hot.image, lambda t, row: explain_input(panel.snapshot, t, None),
                                   _input_edit(panel)))
    return targets


def gates_targets(panel: Any) -> list[Target]:
    if panel.snapshot is None or panel.view is None:
        return []
    kind = panel.page_kind(panel.view.cell)
    targets: list[Target] = []
    for group in panel.groups.get(kind, []):
        for name, image in zip(group.names, group.images):
            targets.append(ImageTarget(image, lambda t, unit, n=name: explain_gate(panel.snapshot, n, t, unit),
                                       _input_edit(panel)))
    return targets


def gradients_targets(panel: Any) -> list[Target]:
    if panel.snapshot is None:
        return []
    describe = lambda i, x, y: explain_gradient(panel.snapshot, int(round(x)))  # noqa: E731
    return [CurveTarget(panel.curve, describe, _input_edit(panel)), CurveTarget(panel.zeros, describe)]


def weights_targets(panel: Any) -> list[Target]:
    view, snapshot = panel.view, panel.snapshot
    if view is None or snapshot is None:
        return []
    gradients = panel.show_gradients.isChecked()
    targets: list[Target] = []
    for key, matrix_view in panel.views.items():
        def describe(col: int, row: int, k: str = key) -> Explanation:
            return explain_weight(panel.view, k, row, col, gradients)

        def edit(col: int, row: int, k: str = key) -> WeightTarget | None:
            return _weight_edit(panel, k, row, col)

        targets.append(ImageTarget(matrix_view.image, describe, None if gradients else edit))
    return targets


def _weight_edit(panel: Any, key: str, row: int, col: int) -> WeightTarget | None:
    snapshot, view = panel.snapshot, panel.view
    label, column = weight_key(key, col)
    array = view.weights[label]
    index = (row,) if np.ndim(array) == 1 else (row, column)
    name = parameter_name(snapshot.cell, label, snapshot.layer, snapshot.direction)
    shown = f"{label}[{', '.join(str(i) for i in index)}]"
    return WeightTarget(WeightEntry(name, index), shown, float(array[index]))


def predictions_targets(panel: Any) -> list[Target]:
    view, snapshot = panel.view, panel.snapshot
    if view is None or snapshot is None:
        return []
    time = view.time
    if view.kind == "series":
        targets: list[Target] = []
        for output, (target_line, prediction_line) in enumerate(panel.series_lines):
            for line, what in ((prediction_line, "prediction ŷ_t"), (target_line, "target y_t")):
                targets.append(CurveTarget(line, lambda i, x, y, o=output, w=what: Explanation(
                    f"{w}[{o}]", y, (f"output '{view.output_names[o]}'", time_fact(time, int(round(x))),
                                     f"prediction {number(view.predictions[int(round(x)), o])}, target "
                                     f"{number(view.targets[int(round(x)), o])}"),
                    note="double-click to edit the input at this timestep (what-if)"), _input_edit(panel)))
        return targets
    if view.kind == "classes":
        def describe_class(t: int, c: int) -> Explanation:
            facts = (f"class '{view.output_names[c]}'", time_fact(time, t),
                     f"target class '{view.output_names[int(view.target_class[t])]}'")
            return Explanation("p(class | inputs so far)", float(view.predictions[t, c]), facts,
                               note="double-click to edit the input at this timestep (what-if)")
        return [ImageTarget(panel.class_image, describe_class, _input_edit(panel)),
                CurveTarget(panel.target_prob_curve, lambda i, x, y: Explanation(
                    "p(target class)", y, (time_fact(time, int(round(x))),
                                           f"target '{view.output_names[int(view.target_class[int(round(x))])]}'")),
                    _input_edit(panel))]

    def describe_bar(o: int, _y: float) -> Explanation:
        return Explanation(f"prediction for '{view.output_names[o]}'", float(np.ravel(view.predictions)[o]),
                           (f"target {number(float(np.ravel(view.targets)[o]))}",
                            "read once, after the last timestep (many-to-one)"))
    return [ColumnTarget(panel.bar_plot, describe_bar, lambda: int(np.size(view.targets)))]


def loss_targets(panel: Any) -> list[Target]:
    def describe(what: str) -> Callable[..., Explanation]:
        return lambda i, x, y: Explanation(f"{what} loss", y, (f"training step {int(x):,}",),
                                           note="falling: the network is learning; flat: stuck or done")
    return [CurveTarget(panel.heldout_curve, describe("held-out")), CurveTarget(panel.train_curve, describe("training"))]


# ---------------------------------------------------------------------- the step-through page


def equations_targets(panel: Any) -> list[Target]:
    cell = panel.cell
    if cell is None or not panel._rows_shown:
        return []
    rows = [name for name, _ in panel._rows_shown]
    return [ImageTarget(panel.image, lambda unit, row: explain_step_vector(panel.cell, rows[row], unit),
                        lambda unit, row: _gate_bias_edit(panel, rows[row], unit))]


def _gate_bias_edit(panel: Any, gate: str, unit: int) -> WeightTarget | None:
    """A double-click on a gate's row of the equations heatmap edits that gate's bias for the unit
    (b_hh, or b_ih for a cell without W_hh), of the layer and direction stepped."""
    spec = cell_spec(panel.mode)
    if not spec.stacked or gate not in spec.block_names:
        return None
    selection = getattr(panel.window(), "model", None)
    if selection is None:
        return None
    selection = selection.selection
    kinds = spec.param_kinds()
    label = "b_hh" if "bias_hh" in kinds else "b_ih"
    row = spec.block_names.index(gate) * panel.cell.units + unit
    name = parameter_name(spec.name, label, selection.layer, selection.direction)
    return WeightTarget(WeightEntry(name, (row,)), f"{label}[{row}] (the bias of {gate} for unit {unit})", float("nan"))


def bptt_targets(panel: Any) -> list[Target]:
    state = panel.view
    if state is None:
        return []
    symbol = state.state_symbol
    targets: list[Target] = [CurveTarget(panel.norm_curve, lambda i, x, y: Explanation(
        f"‖dL/d{symbol}_t‖", y, (f"t = {int(round(x))}",),
        note="BPTT walks from the last timestep back; a falling curve to the left is a vanishing gradient"))]
    if state.d_hidden_from_output is not None:
        def describe_split(unit: int, _y: float) -> Explanation:
            out, back = float(state.d_hidden_from_output[unit]), float(state.d_hidden_from_next[unit])
            return Explanation(f"dL/dh_t[{unit}]", out + back, (f"unit {unit}", f"t = {state.t}"),
                               equation="dL/dh_t = (from the output at t) + (from step t+1)",
                               numbers=f"= {number(out)} + {number(back)} = {number(out + back)}",
                               terms=(out, back))
        targets.append(ColumnTarget(panel.split_plot, describe_split, lambda: len(state.d_hidden_from_output)))
    names = tuple(state.local)
    for key, (_plot, image) in panel.heatmaps.items():
        def describe(col: int, row: int, k: str = key) -> Explanation | None:
            if k == "local":
                return Explanation(f"local factor {names[row]}", float(state.local[names[row]][col]),
                                   (f"unit {col}", f"t = {state.t}"), note="near 0 blocks the gradient, near 1 passes it")
            arrays = state.contribution if not k.startswith("acc_") else state.accumulated
            label = k.removeprefix("acc_")
            what = "this timestep's share of" if arrays is state.contribution else "the sum so far of"
            return Explanation(f"{what} dL/d{label}[{row}, {col}]", float(arrays[label][row, col]),
                               (f"t = {state.t}", "summed over the view batch"))
        targets.append(ImageTarget(image, describe))
    return targets


def unrolled_targets(panel: Any) -> list[Target]:
    state = panel.state
    layout = getattr(panel, "_layout", None)
    if state is None or layout is None:
        return []
    return [_UnrolledTarget(panel)]


class _UnrolledTarget:
    """A box of the unrolled diagram: the timestep, its token, h_t, ‖dL/dh_t‖ and ŷ_t."""

    def __init__(self, panel: Any) -> None:
        self.panel = panel
        self.item = panel.viewbox

    def find(self, scene_pos: Any) -> tuple | None:
        panel = self.panel
        if not panel.viewbox.sceneBoundingRect().contains(scene_pos):
            return None
        point = panel.viewbox.mapSceneToView(scene_pos)
        k = int(round(point.x()))
        if not 0 <= k < panel._slots:
            return None
        return (panel._start + k,)

    def describe(self, t: int) -> Explanation | None:
        state = self.panel.state
        if not 0 <= t < state.seq_len:
            return None
        hidden = state.hidden[t]
        facts = [time_fact_of(state, t), f"layer {state.layer}, {'reverse ←' if state.direction else 'forward →'}"]
        if np.isfinite(hidden).all():
            shown = ", ".join(number(v) for v in hidden[:4]) + (", …" if len(hidden) > 4 else "")
            facts.append(f"h_t = [{shown}]")
        else:
            facts.append("h_t not computed yet: step forward (→)")
        if np.isfinite(state.grad_norm[t]):
            facts.append(f"‖dL/dh_t‖ = {number(state.grad_norm[t])}")
        outputs = state.outputs[t]
        if np.isfinite(outputs).all() and outputs.size:
            facts.append("ŷ_t = " + ", ".join(number(v) for v in outputs[:4]) + (", …" if outputs.size > 4 else ""))
        value = float(np.linalg.norm(hidden)) if np.isfinite(hidden).all() else float("nan")
        return Explanation(f"{cell_spec(state.cell).title} cell at t = {t}: ‖h_t‖", value, tuple(facts),
                           note="click: move the cursor here; double-click: edit the input x_t (what-if)")

    def edit(self, t: int) -> InputTarget | None:
        state = self.panel.state
        sample = getattr(self.panel, "sample", None)
        if state is None or not 0 <= t < state.seq_len:
            return None
        return InputTarget(-1 if sample is None else sample, t)  # -1: the sample the window shows


def time_fact_of(state: Any, t: int) -> str:
    label = state.labels[t]
    if state.mask[t] == 0:
        return f"t = {t} · padding"
    return f"t = {t}" if label == str(t) else f"t = {t} · token '{label}'"


def vanishing_targets(panel: Any) -> list[Target]:
    data = panel.view
    if data is None:
        return []
    symbol = data.state_symbol
    targets: list[Target] = []
    for lag in (panel.eigen_lags, panel.decay_lags):
        targets.append(CurveTarget(lag.curve, lambda i, x, y: Explanation(
            f"‖∂{symbol}_T/∂{symbol}_t‖", y, (f"lag T − t = {int(round(x))} steps back",),
            note="below 1e-6 the loss no longer reaches that far back: the gradient has vanished")))
    for gate, scatter in panel.scatters.items():
        def describe(i: int, x: float, y: float, g: str = gate) -> Explanation:
            value = complex(x, y)
            return Explanation(f"eigenvalue λ of {g}", abs(value), (f"λ = {number(x)} {'+' if y >= 0 else '−'} "
                                                                     f"{number(abs(y))}i", f"|λ| = {number(abs(value))}"),
                               note="|λ| < 1 shrinks a signal each step (vanishing), > 1 grows it (exploding)")
        targets.append(CurveTarget(scatter, describe))
    if data.decay is not None:
        decay = data.decay
        targets.append(ImageTarget(panel.decay_image, lambda t, row: Explanation(
            decay.label, float(decay.values[t, row]), (f"{decay.rows} {row}", time_fact(decay.time, t)),
            equation=decay.equation, note="the share of its memory the unit keeps at this step")))
    return targets


def scan_targets(panel: Any) -> list[Target]:
    view = panel.view
    if view is None:
        return []
    tree = view.tree
    targets: list[Target] = []

    def describe_node(t: int, y: float) -> Explanation | None:
        level = int(round(y))
        if not 0 <= level <= tree.levels:
            return None
        first, last = tree.spans[level][t]
        where = "the input steps" if level == 0 else f"level {level} ({tree.phases[level - 1]})"
        return Explanation(f"steps combined at position {t} after {where}", float(last - first + 1),
                           (f"holds steps {first}…{last} combined", f"= h_{last} once the scan is done" if first == 0
                            else "still waiting for the steps before it"))
    targets.append(ColumnTarget(panel.tree_plot, describe_node, lambda: tree.steps))
    for curve, what in ((panel.loop_curve, "sequential loop"), (panel.scan_curve, "parallel scan")):
        targets.append(CurveTarget(curve, lambda i, x, y, w=what: Explanation(
            f"{w}: seconds", y, (f"sequence length T = {int(round(x)):,}",))))
    return targets


TARGETS: dict[str, TargetsOf] = {
    "hidden": hidden_targets, "gates": gates_targets, "gradients": gradients_targets, "weights": weights_targets,
    "predictions": predictions_targets, "loss": loss_targets, "equations": equations_targets,
    "bptt": bptt_targets, "unrolled": unrolled_targets, "vanishing": vanishing_targets, "scan": scan_targets,
}


def generic_targets(panel: Any) -> list[Target]:
    """A panel with no entry in TARGETS (a new page's): every curve and heatmap of its current page, each
    point or cell explained by its plot's axis labels and the curve's name."""
    page = panel.stack.currentWidget()
    targets: list[Target] = []
    for item in page.scene().items():
        if isinstance(item, pg.PlotDataItem) and item.isVisible():
            targets.append(CurveTarget(item, lambda i, x, y, c=item: _plain_point(c, x, y)))
        elif isinstance(item, pg.ImageItem) and item.isVisible() and item.image is not None:
            targets.append(ImageTarget(item, lambda col, row, m=item: _plain_cell(m, col, row)))
    return targets


def _axis_labels(item: Any) -> tuple[str, str]:
    """(bottom, left) axis labels of the plot holding ``item`` ("x", "y" when it has none)."""
    box = item.getViewBox()
    plot = box.parentItem() if box is not None else None
    while plot is not None and not isinstance(plot, pg.PlotItem):
        plot = plot.parentItem()
    if plot is None:
        return "x", "value"
    bottom, left = (plot.getAxis(side).labelText or default for side, default in (("bottom", "x"), ("left", "value")))
    return bottom, left


def _plain_point(curve: Any, x: float, y: float) -> Explanation:
    bottom, left = _axis_labels(curve)
    name = curve.name() or left
    return Explanation(name, y, (f"{bottom} = {number(x)}",) + ((left,) if name != left else ()))


def _plain_cell(image: Any, col: int, row: int) -> Explanation:
    data = np.asarray(image.image)
    value = float(data[col, row] if image.axisOrder == "col-major" else data[row, col])
    bottom, left = _axis_labels(image)
    return Explanation("value", value, (f"{bottom} {col}", f"{left} {row}"))


def targets_of(panel: Any) -> list[Target]:
    """The panel's hover targets now (a panel not in TARGETS: its plain curves and heatmaps)."""
    find = TARGETS.get(panel.name, generic_targets)
    return find(panel)
