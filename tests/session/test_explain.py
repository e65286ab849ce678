"""Hover explanations: the plugged-in numbers recompute the value shown, for every registered cell.

The recomputation here is written independently of rnnviz: the activations are NumPy expressions,
the printed templates are evaluated with the full-precision numbers put in, and the terms of a stacked
cell's pre-activation are recomputed from the snapshot's weights, inputs and previous states.
"""
from __future__ import annotations

from string import Formatter

import numpy as np
import pytest

from rnnviz.engine.cells import cell_names, cell_spec
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.session.views.explain import (
    explain_gate,
    explain_gradient,
    explain_hidden,
    explain_weight,
    number,
    previous_states,
)
from rnnviz.session.views.training import weights_view

ACTIVATIONS = {
    "σ": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "ReLU": lambda a: np.maximum(a, 0.0),
    "softplus": lambda a: np.log1p(np.exp(a)),
    "": lambda a: a,
}
# Tolerances. float64 sessions: the trace (the fast kernel) and the explanation's textbook step compute
# the same float64 expressions in a different order, so they differ by a few ulps of the largest term
# (terms are O(1) here): 1e-12 absolute plus 1e-10 relative is far above that on any x86 CPU and Python.
# float32 sessions: the shown value comes from the float32 kernel and the explanation recomputes in
# float64 from the same float32 weights and inputs; each float32 operation rounds by <= 6e-8 relative and
# an LSTM step chains ~10 of them on O(1) values: 1e-6 absolute plus 1e-5 relative bounds it.
TOLERANCE = {"float64": (1e-12, 1e-10), "float32": (1e-6, 1e-5)}


def close(a: float, b: float, dtype: str) -> bool:
    atol, rtol = TOLERANCE[dtype]
    return abs(a - b) <= atol + rtol * abs(b)


def session_of(cell: str, dtype: str, **changes) -> Session:
    config = SessionConfig(cell=cell, hidden_size=5, dtype=dtype, **changes)
    session = Session(config)
    session.train(3)  # weights that are not the initial ones
    return session


def evaluate_template(template: str, values: tuple[float, ...]) -> float:
    """A StateUpdate template ("{f} · {c_prev} + {i} · {g}") with ``values`` in field order, evaluated."""
    fields = [name for _, name, _, _ in Formatter().parse(template) if name]
    assert len(fields) == len(values)
    expression = template
    for name, value in zip(fields, values):
        expression = expression.replace("{" + name + "}", f"({value!r})", 1)
    expression = expression.replace("·", "*").replace("−", "-")
    return float(eval(expression, {"__builtins__": {}}, {"tanh": np.tanh}))  # noqa: S307 (our own template)


def recompute(spec, name: str, explanation) -> float:
    """The value from the explanation's plugged-in numbers, by the equation the explanation printed."""
    terms = explanation.terms
    if name in spec.gate_names or name == "a":
        gate = spec.gate(name)
        if gate not in spec.derived:
            act = ACTIVATIONS[gate.activation]
            if gate.hidden_scaled_by and len(terms) == 5:  # GRU n: W_in x + b_in + r ⊙ (W_hn h + b_hn)
                return float(act(terms[0] + terms[1] + terms[2] * (terms[3] + terms[4])))
            return float(act(sum(terms)))
    update = next(u for u in spec.updates if u.result == name)  # "h", or a derived value (minLSTM f′)
    return evaluate_template(update.numbers, terms)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", cell_names())
def test_every_gate_and_hidden_state_recomputes_from_its_plugged_in_numbers(cell, dtype):
    session = session_of(cell, dtype)
    snapshot = session.snapshot()
    spec = cell_spec(cell)
    t, unit = 4, 2
    names = [n for n in snapshot.gates if n != "cell_state"]
    if spec.has_cell_state:
        names.append("cell_state")
    checked = 0
    for name in names:
        explanation = explain_gate(snapshot, name, t, unit)
        assert explanation.value == snapshot.gates[name][t, unit]
        if not explanation.numbers:  # a state of N numbers per channel (selective) prints none
            assert name == "cell_state" and spec.cell_state_size(5) != 5
            continue
        assert explanation.numbers.endswith("= " + number(explanation.value)), explanation.numbers
        if name == "cell_state":
            value = evaluate_template(next(u for u in spec.updates if u.result == "c").numbers, explanation.terms)
        else:
            value = recompute(spec, name, explanation)
        assert close(value, explanation.value, dtype), (name, value, explanation.value)
        checked += 1
    hidden = explain_hidden(snapshot, t, unit)
    assert hidden.value == snapshot.hidden[t, unit]
    block = next((g for g in spec.gates if g.kind == "hidden"), None)
    value = recompute(spec, block.name, hidden) if block else recompute(spec, "h", hidden)
    assert close(value, hidden.value, dtype), (value, hidden.value)
    assert checked >= len(spec.gate_names) - (1 if spec.name == "selective" else 0)


@pytest.mark.parametrize("cell", [c for c in cell_names() if cell_spec(c).stacked])
def test_the_terms_are_the_weights_times_what_the_step_read(cell):
    """W x_t, b, W h_(t-1), b of a gate, recomputed from the snapshot's weights and recorded inputs, in the
    reverse direction of the second layer too (where x_t is the layer below's output, h_prev is h_(t+1))."""
    session = session_of(cell, "float64", num_layers=2, bidirectional=True)
    from rnnviz.session.session import Selection

    snapshot = session.snapshot(Selection(sample=1, layer=1, direction=1))
    spec = cell_spec(cell)
    H, t, unit = 5, 3, 4
    x, (h_prev, _) = snapshot.layer_inputs[t], previous_states(snapshot, t)
    assert np.array_equal(h_prev, snapshot.hidden[t + 1])  # reverse: the step at t read h_(t+1)
    for k, gate in enumerate(spec.gates):
        explanation = explain_gate(snapshot, gate.name, t, unit) if gate.kind != "hidden" else \
            explain_hidden(snapshot, t, unit)
        row = k * H + unit
        expected = [snapshot.weights["W_ih"][row] @ x, snapshot.weights["b_ih"][row]]
        if "W_hh" in snapshot.weights:
            expected += [snapshot.weights["W_hh"][row] @ h_prev, snapshot.weights["b_hh"][row]]
        terms = list(explanation.terms)
        if gate.hidden_scaled_by:
            terms.pop(2)  # the scaling gate's value sits between the input and the hidden terms
        np.testing.assert_allclose(terms, expected, rtol=1e-12, atol=1e-14)
        assert "h_(t+1)" in explanation.equation or "W_hh" not in snapshot.weights


@pytest.mark.parametrize("cell", ["lstm", "lru"])
def test_gradient_norm_is_the_norm_of_the_spelled_out_vector(cell):
    session = session_of(cell, "float64")
    snapshot = session.snapshot()
    for t in (0, 5, len(snapshot.mask) - 1):
        explanation = explain_gradient(snapshot, t)
        assert explanation.value == snapshot.grad_norm_per_step[t]
        assert close(float(np.sqrt(np.sum(np.square(explanation.terms)))), explanation.value, "float64")
        assert explanation.numbers.endswith("= " + number(explanation.value))


def test_token_and_padding_are_named():
    session = Session(SessionConfig(task="sentiment", cell="gru", hidden_size=4))
    snapshot = session.snapshot()
    padded = np.flatnonzero(snapshot.mask == 0)
    real = np.flatnonzero(snapshot.mask == 1)
    explanation = explain_hidden(snapshot, int(real[1]), 0)
    assert f"token '{snapshot.timestep_labels[real[1]]}'" in " ".join(explanation.facts)
    if padded.size:
        explanation = explain_hidden(snapshot, int(padded[0]), 0)
        assert "padding" in " ".join(explanation.facts)
        assert explanation.numbers == ""


def test_weight_entry_names_its_gate_block_unit_and_gradient():
    session = session_of("lstm", "float64")
    view = weights_view(session.snapshot())
    explanation = explain_weight(view, "W_hh", row=5 + 3, col=2)  # block 1 (f), unit 3
    assert explanation.value == view.weights["W_hh"][8, 2]
    facts = " ".join(explanation.facts)
    assert "forget gate f, unit 3" in facts and "hidden unit 2" in facts
    assert number(view.gradients["W_hh"][8, 2]) in facts
    biases = explain_weight(view, "biases", row=0, col=1)
    assert biases.value == view.weights["b_hh"][0] and biases.title.startswith("b_hh[0]")


@pytest.mark.parametrize("cell", cell_names())
def test_the_states_a_step_read_are_the_engines_own_in_both_directions_and_at_padding(cell):
    """previous_states rebuilds h_(t-1) / h_(t+1) (and c) from the snapshot; the engine's trace records
    what each step really read (LayerTrace.prev_hidden, prev_cell_state): they must be the same numbers."""
    from rnnviz.session.session import Selection

    session = Session(SessionConfig(task="sentiment", cell=cell, hidden_size=4, num_layers=2, bidirectional=True))
    session.train(2)
    result = session.inspect()
    sample = int(np.argmin(session.view_batch.mask.sum(axis=0)))  # the shortest: padding at the end
    assert session.view_batch.mask[:, sample].min() == 0
    for layer in (0, 1):
        for direction in (0, 1):
            snapshot = session.snapshot(Selection(sample, layer, direction), result)
            trace = result.trace.layer(layer, direction)
            for t in range(len(snapshot.mask)):
                h_prev, c_prev = previous_states(snapshot, t)
                assert np.array_equal(h_prev, trace.prev_hidden[t, sample].astype(np.float64))
                if trace.prev_cell_state is not None:
                    assert np.array_equal(c_prev, trace.prev_cell_state[t, sample].astype(np.float64))
