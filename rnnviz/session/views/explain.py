"""What a hovered number is: its value, where it sits (unit, timestep and token) and, for gates, hidden
states and gradients, the equation that made it with that cell's own numbers plugged in.

    explanation = explain_gate(snapshot, "f", t=5, unit=3)
    explanation.numbers   # "= σ(0.42 − 0.1 + 0.3 + 0.05) = σ(0.67) = 0.661"

The equations are the cell registry's (``CellSpec.gates`` and ``CellSpec.updates``), so every cell
kind, minGRU, LRU and the selective layer included, is explained by the same code. The numbers come
from one textbook step (``CellSpec.step_forward``, float64) of the selected layer and direction at t,
on what the snapshot recorded that step read (its input x_t, the state h_(t-1) or, in the reverse
direction, h_(t+1), and c_(t-1)); the terms of a pre-activation are the session's split
(``equation_terms``). ``Explanation.terms`` keeps the plugged-in numbers in full precision, so a test can
recompute the value from them.

Text is plain, in the CellSpec notation (``x_t``, ``h_(t-1)``, ``σ``, ``⊙``): the UI renders it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.engine.cells import CellSpec, GateSpec, cell_spec
from rnnviz.engine.cells.base import StateUpdate, StepState, param_label
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.views.common import PAD_LABEL, TimeAxis
from rnnviz.session.views.step_through import TERMS, EquationsView, equation_terms
from rnnviz.session.views.training import WeightsView

SHOWN_TERMS = 4  # a norm's sum of squares spells out this many units, then "…"
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Explanation:
    """What one hovered number is."""

    title: str  # what the value is, e.g. "forget gate f_t"
    value: float
    facts: tuple[str, ...] = ()  # where it sits: "unit 3", "t = 5 · token 'not'"
    equation: str = ""  # the equation that made it (CellSpec notation), "" when none
    numbers: str = ""  # the equation's right-hand side with the numbers plugged in, ending "= <value>"
    terms: tuple[float, ...] = ()  # the plugged-in numbers, full precision, in the order ``numbers`` prints them
    note: str = ""  # what to look for / what a double-click does

    def text(self) -> str:
        """Plain text, one item per line (CSV, logs, tests)."""
        lines = [f"{self.title} = {number(self.value)}", *self.facts]
        if self.equation:
            lines.append(self.equation)
        if self.numbers:
            lines.append(self.numbers)
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def number(value: float) -> str:
    """3 significant digits with a real minus sign; powers of ten written out (1.2·10⁻⁵)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.3g}" if value != 0 else "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}·10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    return text.replace("-", "−")


def factor(value: float) -> str:
    """A number as a factor of a product or a base of a power: in parentheses when negative or written
    with a power of ten ("(−0.2)", "(3.1·10⁻⁵)")."""
    text = number(value)
    return f"({text})" if text.startswith("−") or "·" in text else text


def signed_sum(values: list[float]) -> str:
    """"0.1 − 0.2 + 0.3": the signs folded into the operators."""
    text = number(values[0])
    for value in values[1:]:
        text += (" − " if value < 0 else " + ") + number(abs(value))
    return text


def time_fact(time: TimeAxis, t: int, token_inputs: bool | None = None) -> str:
    """"t = 5 · token 'not'", "t = 5", or "t = 5 · padding (after the end of the sequence)"."""
    label = time.labels[t] if 0 <= t < time.steps else ""
    if label == PAD_LABEL or (0 <= t < time.steps and time.mask[t] == 0):
        return f"t = {t} · padding (after the end of the sequence)"
    tokens = time.named if token_inputs is None else token_inputs
    return f"t = {t} · token '{label}'" if tokens and label != str(t) else f"t = {t}"


def selection_fact(snapshot: Snapshot, t: int | None = None) -> str:
    """"layer 0, forward →, sample 0", and "x_t edited (what-if)" when the input at ``t`` was edited."""
    arrow = "reverse ←" if snapshot.direction == 1 else "forward →"
    edited = " · x_t edited (what-if)" if t is not None and t in snapshot.edited_timesteps else ""
    return f"layer {snapshot.layer}, {arrow}, sample {snapshot.sample}{edited}"


def _time(snapshot: Snapshot) -> TimeAxis:
    from rnnviz.session.views.common import time_axis

    return time_axis(snapshot.timestep_labels, snapshot.mask, snapshot.token_inputs)


# ---------------------------------------------------------------------- one step, recomputed


def layer_weights_of(snapshot: Snapshot) -> tuple[np.ndarray, ...]:
    """The snapshot's layer parameters in the cell's layout order (float64)."""
    spec = cell_spec(snapshot.cell)
    return tuple(np.asarray(snapshot.weights[param_label(kind)], dtype=np.float64) for kind in spec.param_kinds())


def previous_states(snapshot: Snapshot, t: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(h, c) the step at ``t`` read: h_(t-1) and c_(t-1), or h_(t+1) and c_(t+1) in the reverse direction,
    the initial state at the first processed step (the trace's states shifted: padded steps carry the
    state, so the shift holds there too); None when the snapshot did not record the initial state."""
    if snapshot.initial_hidden is None:
        return None
    steps = len(snapshot.hidden)
    before = t + 1 if snapshot.direction == 1 else t - 1
    first = not 0 <= before < steps
    h_prev = snapshot.initial_hidden if first else snapshot.hidden[before]
    cell_state = snapshot.gates.get("cell_state")
    if cell_state is None:
        return np.asarray(h_prev, dtype=np.float64), None
    if first and snapshot.initial_cell_state is None:
        return None
    c_prev = snapshot.initial_cell_state if first else cell_state[before]
    return np.asarray(h_prev, dtype=np.float64), np.asarray(c_prev, dtype=np.float64)


def step_at(snapshot: Snapshot, t: int) -> StepState | None:
    """The selected layer and direction's step at ``t`` for the selected sample, recomputed in float64
    from what the snapshot recorded it read; None when that was not recorded."""
    previous = previous_states(snapshot, t)
    if snapshot.layer_inputs is None or previous is None:
        return None
    spec = cell_spec(snapshot.cell)
    h_prev, c_prev = previous
    if spec.has_cell_state and c_prev is None:
        return None
    return spec.step_forward(layer_weights_of(snapshot), snapshot.layer_inputs[t][None], h_prev[None],
                             None if c_prev is None else c_prev[None])


def _unit_values(state: StepState, unit: int) -> dict[str, float]:
    """One unit's numbers by the names the StateUpdate templates use."""
    values = {name: float(v[0, unit]) for name, v in state.gates.items() if np.shape(v)[-1] > unit}
    values["h_prev"], values["h"] = float(state.h_prev[0, unit]), float(state.h[0, unit])
    if state.c is not None and state.c.shape[-1] > unit:
        values["c_prev"], values["c"] = float(state.c_prev[0, unit]), float(state.c[0, unit])
    return values


def gate_numbers(spec: CellSpec, gate: GateSpec, terms: dict[str, np.ndarray] | None, preact: float,
                 value: float, unit: int, scale: float | None = None) -> tuple[str, tuple[float, ...]]:
    """A gate's right-hand side with the numbers in: "= σ(a + b + c + d) = σ(pre) = value" (GRU n:
    "tanh(a + b + r · (c + d))"); a cell outside the stacked layout: "= act(pre) = value"."""
    act = gate.activation
    if terms is None:
        if act:
            return f"= {act}({number(preact)}) = {number(value)}", (preact,)
        return f"= {number(value)}", (value,)
    parts = [float(terms[k][unit]) for k in TERMS if k in terms]
    if gate.hidden_scaled_by and len(parts) == 4 and scale is not None:
        inner = f"{signed_sum(parts[:2])} + {number(scale)} · ({signed_sum(parts[2:])})"
        parts = [*parts[:2], scale, *parts[2:]]
    else:
        inner = signed_sum(parts)
    if act:
        return f"= {act}({inner}) = {act}({number(preact)}) = {number(value)}", tuple(parts)
    return f"= {inner} = {number(value)}", tuple(parts)


def update_numbers(update: StateUpdate, values: dict[str, float]) -> tuple[str, tuple[float, ...]]:
    """A state update's template filled with one unit's numbers: "= 0.9 · 0.2 + 0.1 · 0.5 = 0.23"."""
    if not update.numbers:
        return "", ()
    from string import Formatter

    names = [field for _, field, _, _ in Formatter().parse(update.numbers) if field]
    filled = update.numbers.format(**{name: factor(values[name]) for name in names})
    return f"= {filled} = {number(values[update.result])}", tuple(values[name] for name in names)


def _read_by(text: str, reverse: bool) -> str:
    return text.replace("(t-1)", "(t+1)") if reverse else text


def _step_gate(spec: CellSpec, state: StepState, terms: dict, name: str, unit: int,
               reverse: bool) -> tuple[str, str, tuple[float, ...]]:
    """(equation, numbers, terms) of gate ``name`` (or a derived value / the vanilla RNN's block)."""
    gate = spec.gate(name)
    if gate in spec.derived:  # minLSTM's f′, i′: written by a state update
        update = next(u for u in spec.updates if u.result == name)
        numbers, plugged = update_numbers(update, _unit_values(state, unit))
        return update.equation, numbers, plugged
    value = float((state.h if gate.kind == "hidden" else state.gates[name])[0, unit])
    scale = None
    if gate.hidden_scaled_by:
        scale = float(state.gates[gate.hidden_scaled_by][0, unit])
    numbers, plugged = gate_numbers(spec, gate, terms.get(name) if terms else None,
                                    float(state.preact[name][0, unit]), value, unit, scale)
    return _read_by(gate.equation, reverse), numbers, plugged


# ---------------------------------------------------------------------- the training panels


def explain_gate(snapshot: Snapshot, name: str, t: int, unit: int) -> Explanation:
    """A gate (or candidate, derived value, cell state "cell_state") at ``t``, unit ``unit``."""
    spec = cell_spec(snapshot.cell)
    value = float(snapshot.gates[name][t, unit])
    time = _time(snapshot)
    facts = [f"unit {unit}", time_fact(time, t), selection_fact(snapshot, t)]
    if name == "cell_state":
        return _explain_cell_state(snapshot, spec, value, t, unit, facts)
    gate = spec.gate(name)
    title = f"{gate.word} {name}_t"
    if time.mask[t] == 0:
        return Explanation(title, value, tuple(facts), note="padding: this step is skipped, the state is carried over")
    state = step_at(snapshot, t)
    if state is None:
        return Explanation(title, value, tuple(facts), equation=gate.equation)
    terms = equation_terms(snapshot.cell, layer_weights_of(snapshot), state.x[0], state.h_prev[0])
    equation, numbers, plugged = _step_gate(spec, state, terms, name, unit, snapshot.direction == 1)
    return Explanation(title, value, tuple(facts), equation, numbers, plugged, note=_gate_hint(gate))


def _gate_hint(gate: GateSpec) -> str:
    if gate.kind == "gate":
        return "near 1: lets through; near 0: blocks"
    if gate.kind == "candidate":
        return "the new value the cell may write, in [−1, 1]"
    return ""


def _explain_cell_state(snapshot: Snapshot, spec: CellSpec, value: float, t: int, index: int,
                        facts: list[str]) -> Explanation:
    title = f"{spec.state_word} c_t"
    facts[0] = f"state entry {index}" if snapshot.gates["cell_state"].shape[1] != snapshot.hidden.shape[1] else facts[0]
    state = None if _time(snapshot).mask[t] == 0 else step_at(snapshot, t)
    update = next((u for u in spec.updates if u.result == "c"), None)
    unit = index
    if state is not None and state.c is not None and state.c.shape[-1] == 2 * state.h.shape[-1] \
            and index >= state.h.shape[-1]:  # a complex state [Re c, Im c] (the LRU): the imaginary half
        update = next((u for u in spec.updates if u.result == "c_im"), None)
        unit = index - state.h.shape[-1]
    if state is None or update is None or not update.numbers or state.c is None \
            or state.c.shape[-1] not in (state.h.shape[-1], 2 * state.h.shape[-1]):
        # a state of N numbers per channel (the selective layer) has no one-number equation
        return Explanation(title, value, tuple(facts), equation=spec.recurrence or (update.equation if update else ""))
    numbers, plugged = update_numbers(update, _unit_values(state, unit))
    return Explanation(title, value, tuple(facts), _read_by(update.equation, snapshot.direction == 1), numbers, plugged,
                       note="the memory the cell carries from step to step")


def explain_hidden(snapshot: Snapshot, t: int, unit: int) -> Explanation:
    """h_t of ``unit``: the cell's equation for h with this step's numbers."""
    spec = cell_spec(snapshot.cell)
    value = float(snapshot.hidden[t, unit])
    time = _time(snapshot)
    facts = (f"unit {unit}", time_fact(time, t), selection_fact(snapshot, t))
    title = "hidden state h_t"
    if time.mask[t] == 0:
        return Explanation(title, value, facts, equation="h_t = h_(t-1)",
                           note="padding: the step is skipped and the state carried over")
    state = step_at(snapshot, t)
    reverse = snapshot.direction == 1
    if state is None:
        return Explanation(title, value, facts, equation=_hidden_equation(spec))
    hidden_block = next((g for g in spec.gates if g.kind == "hidden"), None)
    if hidden_block is not None:  # a vanilla RNN: h_t is its one block's activation
        terms = equation_terms(snapshot.cell, layer_weights_of(snapshot), state.x[0], state.h_prev[0])
        equation, numbers, plugged = _step_gate(spec, state, terms, hidden_block.name, unit, reverse)
        return Explanation(title, value, facts, equation, numbers, plugged,
                           note="the memory: everything the network carries from step to step")
    update = next(u for u in spec.updates if u.result == "h")
    numbers, plugged = update_numbers(update, _unit_values(state, unit))
    return Explanation(title, value, facts, _read_by(update.equation, reverse), numbers, plugged,
                       note="what the layer outputs at t (to the layer above and the output head)")


def _hidden_equation(spec: CellSpec) -> str:
    block = next((g for g in spec.gates if g.kind == "hidden"), None)
    if block is not None:
        return block.equation
    return next((u.equation for u in spec.updates if u.result == "h"), "")


def explain_gradient(snapshot: Snapshot, t: int) -> Explanation:
    """||dL/dh_t|| (dL/dc_t for cells whose memory is c) at ``t``: the norm of the vector, spelled out."""
    spec = cell_spec(snapshot.cell)
    symbol = spec.memory_state
    norms = np.asarray(snapshot.grad_norm_per_step, dtype=np.float64)
    value = float(norms[t])
    facts = [time_fact(_time(snapshot), t), selection_fact(snapshot, t)]
    later = t - 1 if snapshot.direction == 1 else t + 1  # the step BPTT came from
    note = "BPTT runs from the last timestep back: shrinking to the left is a vanishing gradient"
    if 0 <= later < len(norms) and norms[later] > 0 and np.isfinite(norms[later]):
        facts.append(f"× {number(value / norms[later])} of ‖dL/d{symbol}_{later}‖ = {number(norms[later])} (one step later)")
    equation = f"‖dL/d{symbol}_t‖ = √(Σ_u (dL/d{symbol}_t[u])²)"
    if snapshot.memory_grad is None:
        return Explanation(f"gradient norm ‖dL/d{symbol}_t‖", value, tuple(facts), equation, note=note)
    vector = np.asarray(snapshot.memory_grad[t], dtype=np.float64).reshape(-1)
    shown = [f"{factor(v)}²" for v in vector[:SHOWN_TERMS]]
    more = " + …" if len(vector) > SHOWN_TERMS else ""
    numbers = f"= √({' + '.join(shown)}{more}) = {number(value)}"
    return Explanation(f"gradient norm ‖dL/d{symbol}_t‖", value, tuple(facts), equation, numbers,
                       tuple(float(v) for v in vector), note=note)


def explain_input(snapshot: Snapshot, t: int, feature: int | None) -> Explanation:
    """x_t: one input feature's value, or (``feature`` None) the token at t."""
    time = _time(snapshot)
    facts = [time_fact(time, t, token_inputs=True)]
    if t in snapshot.edited_timesteps:
        facts.append("edited (what-if): not the original input")
    note = "double-click to edit this input (what-if); Ctrl+Z undoes"
    if feature is None:
        token = int(np.argmax(snapshot.inputs[t]))
        name = snapshot.input_names[token] if token < len(snapshot.input_names) else str(token)
        return Explanation(f"input token '{name}'", float(token), (f"token id {token}", *facts), note=note)
    name = snapshot.input_names[feature] if feature < len(snapshot.input_names) else f"x[{feature}]"
    return Explanation(f"input x_t[{feature}] ({name})", float(snapshot.inputs[t, feature]), tuple(facts), note=note)


def weight_key(key: str, col: int) -> tuple[str, int]:
    """The parameter label and column of a heatmap entry: the weights panel shows b_ih and b_hh side by
    side as the two columns of "biases"."""
    if key == "biases":
        return ("b_ih", "b_hh")[col], 0
    return key, col


def explain_weight(view: WeightsView, key: str, row: int, col: int, showing_gradient: bool = False) -> Explanation:
    """One entry of the weights panel (``key``: "W_ih", "W_hh", "biases", "W_out", "b_out", a cell's own
    kind): which gate block and unit its row feeds, what its column reads, its value and its gradient."""
    label, column = weight_key(key, col)
    weights, gradients = view.weights[label], view.gradients.get(label)
    index = (row,) if np.ndim(weights) == 1 else (row, column)
    value = float((gradients if showing_gradient else weights)[index])
    facts = []
    if view.gate_names and label in ("W_ih", "W_hh", "b_ih", "b_hh"):
        block, unit = divmod(row, view.hidden_size)
        gate = cell_spec(view.cell).gate(view.gate_names[block])
        facts.append(f"row {row}: {gate.word} {gate.name}, unit {unit}")
    elif label in view.row_names:
        facts.append(f"row {row}: output '{view.row_names[label][row]}'")
    else:
        facts.append(f"row {row}")
    if label == "W_ih":
        names = view.column_names.get("W_ih")
        facts.append(f"column {column}: input '{names[column]}'" if names else f"column {column}: input feature {column}")
    elif label in ("W_hh", "W_out"):
        facts.append(f"column {column}: hidden unit {column} of " + ("h_(t-1)" if label == "W_hh" else "h_t"))
    elif np.ndim(weights) == 2:
        facts.append(f"column {column}")
    if gradients is not None and not showing_gradient:
        facts.append(f"gradient dL/d{label} = {number(float(gradients[index]))}: a training step moves the weight "
                     "against its sign")
    entry = f"{label}[{', '.join(str(i) for i in index)}]"
    title = f"dL/d{entry}" if showing_gradient else entry
    note = "" if showing_gradient else "double-click to edit this weight (what-if); Ctrl+Z undoes"
    return Explanation(title, value, tuple(facts), note=note)


# ---------------------------------------------------------------------- the step-through equations


def explain_step_vector(view: EquationsView, row: str, unit: int) -> Explanation:
    """A value of the equations panel's heatmap (rows h_(t-1), c_(t-1), the gates, c_t, h_t) at ``unit``."""
    spec = cell_spec(view.mode)
    facts = (f"unit {unit}", f"t = {view.t}")
    reverse = view.reverse
    state = StepState(view.mode, view.x[None], view.h_prev[None],
                      None if view.c_prev is None else view.c_prev[None],
                      {k: np.asarray(v)[None] for k, v in view.preact.items()},
                      {k: np.asarray(v)[None] for k, v in view.gates.items()},
                      np.asarray(view.h_computed if view.h_computed is not None else view.h)[None],
                      None if view.c is None else np.asarray(view.c_computed if view.c_computed is not None
                                                             else view.c)[None])
    if row.startswith("h_t-") or row.startswith("h_t+") or row.startswith("c_t-") or row.startswith("c_t+"):
        values = view.h_prev if row.startswith("h") else view.c_prev
        return Explanation(f"previous state {row}", float(values[unit]), facts,
                           note="what this step read: the state the step before it left")
    if row == "h_t":
        value = float(view.h[unit])
        block = next((g for g in spec.gates if g.kind == "hidden"), None)
        if block is not None:
            equation, numbers, plugged = _step_gate(spec, state, view.terms, block.name, unit, reverse)
        else:
            update = next(u for u in spec.updates if u.result == "h")
            numbers, plugged = update_numbers(update, _unit_values(state, unit))
            equation = _read_by(update.equation, reverse)
        return Explanation("hidden state h_t", value, facts, equation, numbers, plugged)
    if row == "c_t":
        update = next((u for u in spec.updates if u.result == "c"), None)
        value = float(view.c[unit])
        if update is None or not update.numbers:
            return Explanation("cell state c_t", value, facts, spec.recurrence)
        numbers, plugged = update_numbers(update, _unit_values(state, unit))
        return Explanation("cell state c_t", value, facts, _read_by(update.equation, reverse), numbers, plugged)
    gate = spec.gate(row)
    equation, numbers, plugged = _step_gate(spec, state, view.terms, row, unit, reverse)
    hint = _gate_hint(gate)
    if spec.stacked and row in spec.block_names:
        hint = (hint + "; " if hint else "") + "double-click to edit this gate's bias (what-if)"
    return Explanation(f"{gate.word} {row}_t", float(view.gates[row][unit]), facts, equation, numbers, plugged,
                       note=hint)


__all__ = ["Explanation", "explain_gate", "previous_states", "explain_gradient", "explain_hidden", "explain_input", "explain_step_vector",
           "explain_weight", "gate_numbers", "number", "step_at", "time_fact", "update_numbers"]
