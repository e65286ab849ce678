"""The textbook one-timestep equations against the fast engine: forward trace and BPTT, every mode."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import Recurrent
from rnnviz.engine.recurrent import EngineError
from tests.tolerances import assert_matches_finite_differences, assert_same_maths
from rnnviz.engine.stepping import (
    gate_names,
    layer_weights,
    sigmoid,
    step_backward,
    step_forward,
)

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
T, B, I, H = 6, 3, 3, 4


def _core(mode, bidirectional=False):
    return Recurrent(mode, I, H, bidirectional=bidirectional, dtype=np.float64, seed=3)


def _run_textbook(mode, core, x, direction, d_output, d_h_last, d_c_last):
    """Step forward over the timesteps in processing order, then back, with the textbook functions."""
    weights = layer_weights(core.parameters(), 0, direction)
    order = list(range(T - 1, -1, -1)) if direction else list(range(T))
    h, c = np.zeros((B, H)), (np.zeros((B, H)) if mode == "lstm" else None)
    states = {}
    for t in order:
        states[t] = step_forward(mode, weights, x[t], h, c)
        h, c = states[t].h, states[t].c
    d_next = d_h_last.copy()
    d_c = None if d_c_last is None else d_c_last.copy()
    steps, totals = {}, {k: 0.0 for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    d_x = np.zeros_like(x)
    for t in reversed(order):
        grads = step_backward(mode, weights, states[t], d_output[t] + d_next, d_c)
        steps[t] = grads
        for name in totals:
            totals[name] = totals[name] + grads.contribution[name]
        d_next, d_c = grads.d_h_prev, grads.d_c_prev
        d_x[t] = grads.d_x
    return states, steps, totals, d_next, d_c, d_x


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("direction", [0, 1])
def test_stepping_reproduces_the_engine_forward_and_backward(mode, direction, rng):
    core = _core(mode, bidirectional=direction == 1)
    x = rng.standard_normal((T, B, I))
    trace = core.forward(x)
    D = core.num_directions
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal((D, B, H))
    d_c_n = rng.standard_normal((D, B, H)) if mode == "lstm" else None
    grads = core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n)
    block = slice(direction * H, (direction + 1) * H)
    states, steps, totals, d_h0, d_c0, d_x = _run_textbook(
        mode, core, x, direction, d_output[:, :, block], d_h_n[direction],
        None if d_c_n is None else d_c_n[direction],
    )
    layer = trace.layer(0, direction)
    layer_grads = grads.layer(0, direction)
    # textbook per-sample steps against the batched engine: the same maths by another route, within
    # 2 N u of each other (tests/tolerances.py: N <= 2^12 roundings in this T = 6, H = 4 net)
    for t in range(T):
        assert_same_maths(states[t].h, layer.hidden[t])
        assert_same_maths(
            np.concatenate([states[t].preact[g] for g in gate_names(mode)], axis=-1), layer.preact[t])
        for name, gate in layer.gates.items():
            assert_same_maths(states[t].gates[name], gate[t])
        if mode == "lstm":
            assert_same_maths(states[t].c, layer.cell_state[t])
            assert_same_maths(steps[t].d_c, layer_grads.d_cell_state[t])
        assert_same_maths(steps[t].d_h, layer_grads.d_hidden[t])
        d_preact = np.concatenate([steps[t].d_preact[g] for g in gate_names(mode)], axis=-1)
        assert_same_maths(d_preact, layer_grads.d_preact[t])
        assert_same_maths(steps[t].d_hidden_preact, layer_grads.d_hidden_preact[t])
    for label, kind in (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
        name = f"{kind}_l0" + ("_reverse" if direction else "")
        assert_same_maths(totals[label], grads.params[name], err_msg=label)
    assert_same_maths(d_h0, grads.d_h0[direction])
    if mode == "lstm":
        assert_same_maths(d_c0, grads.d_c0[direction])
    if not core.bidirectional:
        assert_same_maths(d_x, grads.d_input)


@pytest.mark.parametrize("mode", MODES)
def test_one_step_backward_matches_finite_differences_of_one_step_forward(mode, rng):
    """d_h_prev, d_c_prev and d_x of a single step against central differences of L = sum(h * R_h + c * R_c)."""
    weights = layer_weights(_core(mode).parameters(), 0, 0)
    x, h_prev = rng.standard_normal((B, I)), rng.standard_normal((B, H)) * 0.5
    c_prev = rng.standard_normal((B, H)) if mode == "lstm" else None
    R_h, R_c = rng.standard_normal((B, H)), rng.standard_normal((B, H))

    def loss():
        state = step_forward(mode, weights, x, h_prev, c_prev)
        return float(np.sum(state.h * R_h) + (np.sum(state.c * R_c) if mode == "lstm" else 0.0))

    grads = step_backward(mode, weights, step_forward(mode, weights, x, h_prev, c_prev), R_h,
                          R_c if mode == "lstm" else None)
    checks = [(h_prev, grads.d_h_prev), (x, grads.d_x)] + ([(c_prev, grads.d_c_prev)] if mode == "lstm" else [])
    for array, analytic in checks:
        numeric = np.empty(array.size)
        flat = array.reshape(-1)
        for k in range(array.size):
            keep = flat[k]
            flat[k] = keep + 1e-6
            plus = loss()
            flat[k] = keep - 1e-6
            minus = loss()
            flat[k] = keep
            numeric[k] = (plus - minus) / 2e-6
        assert_matches_finite_differences(analytic.reshape(-1), numeric, loss())  # engine/gradcheck.py analysis


def test_local_factors_are_named_like_the_equations():
    weights = layer_weights(_core("lstm").parameters(), 0, 0)
    state = step_forward("lstm", weights, np.ones((1, I)), np.zeros((1, H)), np.zeros((1, H)))
    grads = step_backward("lstm", weights, state, np.ones((1, H)))
    # the same two or three operations on the same numbers, values in [0, 1]: 2 N u with N = 8
    assert_same_maths(grads.local["σ'(f)"], state.gates["f"] * (1 - state.gates["f"]), roundings=8)
    assert_same_maths(grads.local["tanh'(c)"], 1 - np.tanh(state.c) ** 2, roundings=8)
    rnn = step_forward("rnn_tanh", layer_weights(_core("rnn_tanh").parameters(), 0, 0),
                       np.ones((1, I)), np.zeros((1, H)))
    assert rnn.gates == {} and set(rnn.preact) == {"a"}


def test_sigmoid_is_stable_and_right():
    a = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    with np.errstate(all="raise"):
        values = sigmoid(a)
    # one exp, one add, one division each side (4 + 1 + 1 roundings, values in (0, 1)): 2 N u with N = 6
    assert_same_maths(values[1:4], 1 / (1 + np.exp(-a[1:4])), roundings=6)
    assert values[0] == 0.0 and values[-1] == 1.0


def test_bad_mode_and_missing_cell_state_say_what_to_do():
    weights = layer_weights(_core("lstm").parameters(), 0, 0)
    with pytest.raises(EngineError, match="unknown cell mode"):
        step_forward("transformer", weights, np.ones((1, I)), np.zeros((1, H)))
    with pytest.raises(EngineError, match="c_prev"):
        step_forward("lstm", weights, np.ones((1, I)), np.zeros((1, H)))
