"""Properties of the recurrent core that hold for any sizes (hypothesis), the gradient trace,
and the errors a person can cause."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.engine import CELLS, EngineError, Recurrent, cell_names
from rnnviz.engine.threads import blas_info, blas_threads
from tests.engine.conftest import MODE_LIST, lengths_mask, make_core
from tests.tolerances import assert_same_maths

FAST = settings(max_examples=25, deadline=None)


@st.composite
def configurations(draw):
    return dict(
        mode=draw(st.sampled_from(MODE_LIST)),
        num_layers=draw(st.integers(1, 2)),
        bidirectional=draw(st.booleans()),
        seq_len=draw(st.integers(1, 6)),
        batch=draw(st.integers(1, 4)),
        input_size=draw(st.integers(1, 4)),
        hidden_size=draw(st.integers(1, 5)),
        seed=draw(st.integers(0, 2**16)),
    )


def build(config, dtype=None):
    kwargs = {} if dtype is None else {"dtype": dtype}
    return Recurrent(config["mode"], config["input_size"], config["hidden_size"],
                     num_layers=config["num_layers"], bidirectional=config["bidirectional"],
                     seed=config["seed"], **kwargs)


@FAST
@given(configurations())
def test_shapes_and_float32_default_everywhere(config):
    core = build(config)
    T, B, I, H = (config[k] for k in ("seq_len", "batch", "input_size", "hidden_size"))
    L, D = config["num_layers"], 2 if config["bidirectional"] else 1
    rng = np.random.default_rng(config["seed"])
    trace = core.forward(rng.standard_normal((T, B, I)))  # float64 input is cast
    grads = core.backward(trace, rng.standard_normal((T, B, D * H)))
    assert core.dtype == np.float32 and core.num_directions == D
    assert trace.output.shape == (T, B, D * H) and trace.h_n.shape == (L * D, B, H)
    assert grads.d_input.shape == (T, B, I) and grads.d_h0.shape == (L * D, B, H)
    lstm = config["mode"] == "lstm"
    assert (trace.c_n is not None) == lstm and (grads.d_c0 is not None) == lstm
    arrays = [trace.output, trace.h_n, grads.d_input, grads.d_h0, *grads.params.values(),
              *core.parameters().values()]
    G = CELLS[config["mode"]].num_gates
    for l in range(L):
        for d in range(D):
            layer, layer_grads = trace.layer(l, d), grads.layer(l, d)
            I_l = I if l == 0 else D * H
            assert layer.inputs.shape == (T, B, I_l) and layer.preact.shape == (T, B, G * H)
            assert layer.hidden.shape == (T, B, H) and layer.h0.shape == (B, H)
            assert set(layer.gates) == set(CELLS[config["mode"]].gate_names)
            assert layer_grads.d_hidden.shape == (T, B, H)
            assert layer_grads.d_preact.shape == (T, B, G * H)
            arrays += [layer.inputs, layer.preact, layer.hidden, *layer.gates.values(),
                       layer_grads.d_hidden, layer_grads.d_hidden_from_output,
                       layer_grads.d_hidden_from_next, layer_grads.d_preact,
                       *layer_grads.weight_grad_norm_per_step.values()]
            if lstm:
                arrays += [layer.cell_state, layer_grads.d_cell_state]
    assert core.num_params() == sum(a.size for a in core.parameters().values())
    assert all(a.dtype == np.float32 for a in arrays)


@FAST
@given(configurations(), st.data())
def test_values_in_padded_steps_change_nothing(config, data):
    core = build(config, dtype=np.float64)
    T, B, I, H = (config[k] for k in ("seq_len", "batch", "input_size", "hidden_size"))
    D = 2 if config["bidirectional"] else 1
    lengths = data.draw(st.lists(st.integers(0, T), min_size=B, max_size=B))
    mask = lengths_mask(lengths, T)
    rng = np.random.default_rng(config["seed"])
    x = rng.standard_normal((T, B, I))
    d_output = rng.standard_normal((T, B, D * H))
    padded = mask == 0
    x_other, d_other = x.copy(), d_output.copy()
    x_other[padded] = rng.standard_normal((int(padded.sum()), I)) * 50
    d_other[padded] = rng.standard_normal((int(padded.sum()), D * H)) * 50
    first = core.forward(x, mask=mask)
    second = core.forward(x_other, mask=mask)
    grads_first = core.backward(first, d_output)
    grads_second = core.backward(second, d_other)
    np.testing.assert_array_equal(first.output, second.output)
    np.testing.assert_array_equal(first.h_n, second.h_n)
    assert np.all(first.output[padded] == 0)
    np.testing.assert_array_equal(grads_first.d_input, grads_second.d_input)
    np.testing.assert_array_equal(grads_first.d_h0, grads_second.d_h0)
    assert np.all(grads_first.d_input[padded] == 0)
    for name in grads_first.params:
        np.testing.assert_array_equal(grads_first.params[name], grads_second.params[name])


@FAST
@given(configurations())
def test_padding_carries_the_state_and_h_n_is_the_last_real_state(config):
    core = build(config, dtype=np.float64)
    T, B, I = config["seq_len"], config["batch"], config["input_size"]
    H = config["hidden_size"]
    rng = np.random.default_rng(config["seed"])
    x = rng.standard_normal((T, B, I))
    lengths = rng.integers(1, T + 1, size=B)
    trace = core.forward(x, mask=lengths_mask(lengths, T))
    for b, length in enumerate(lengths):  # each sample alone, unpadded
        alone = core.forward(x[:length, b:b + 1])
        # the same maths with another batch size (other BLAS blocking): 2 N u (tests/tolerances.py)
        assert_same_maths(trace.output[:length, b], alone.output[:, 0])
        assert_same_maths(trace.h_n[:, b], alone.h_n[:, 0])
        forward_layer = trace.layer(0, 0)
        np.testing.assert_array_equal(forward_layer.hidden[length:, b],
                                      np.broadcast_to(forward_layer.hidden[length - 1, b],
                                                      (T - length, H)))


@FAST
@given(configurations())
def test_state_dict_round_trip(config):
    core = build(config)
    other = build({**config, "seed": config["seed"] + 1})
    state = core.state_dict()
    other.load_state_dict(state)
    for name, array in core.parameters().items():
        np.testing.assert_array_equal(other.parameters()[name], array)
    state[next(iter(state))][...] = 123.0  # the returned dict holds copies
    assert not np.any(core.parameters()[next(iter(state))] == 123.0)
    x = np.random.default_rng(0).standard_normal((3, 2, config["input_size"]))
    np.testing.assert_array_equal(core.forward(x).output, other.forward(x).output)


@pytest.mark.parametrize("mode", MODE_LIST)
@pytest.mark.parametrize("bidirectional", (False, True))
def test_per_step_contributions_sum_to_the_weight_gradient(mode, bidirectional):
    rng = np.random.default_rng(2)
    core = make_core(mode, 3, 4, 2, bidirectional)
    D = 2 if bidirectional else 1
    trace = core.forward(rng.standard_normal((6, 3, 3)), mask=lengths_mask([6, 3, 5], 6))
    grads = core.backward(trace, rng.standard_normal((6, 3, D * 4)), tbptt=4)
    for l in range(2):
        for d in range(D):
            layer = grads.layer(l, d)
            suffix = f"_l{l}" + ("_reverse" if d else "")
            for kind, norms in layer.weight_grad_norm_per_step.items():
                steps = [layer.contribution(kind, t) for t in range(6)]
                # per-step matmuls summed against one matmul over all steps, and norms of those:
                # the same maths by another route, 2 N u (tests/tolerances.py)
                assert_same_maths(sum(steps), grads.params[kind + suffix])
                assert_same_maths(norms, [np.linalg.norm(s) for s in steps])
            # one addition each (N = 1), a norm of B H = 12 squares (N = 16): 2 N u
            assert_same_maths(layer.d_hidden, layer.d_hidden_from_output + layer.d_hidden_from_next, roundings=1)
            assert_same_maths(layer.grad_norm_per_step, np.linalg.norm(layer.d_hidden.reshape(6, -1), axis=1),
                              roundings=16)


def test_gradient_trace_splits_what_comes_from_above_and_from_the_next_step():
    rng = np.random.default_rng(4)
    core = make_core("rnn_tanh", 2, 3)
    trace = core.forward(rng.standard_normal((5, 1, 2)))
    d_output = np.zeros((5, 1, 3))
    d_output[-1] = 1.0  # loss at the last step only
    layer = core.backward(trace, d_output).layer(0)
    np.testing.assert_array_equal(layer.d_hidden_from_output, d_output)
    assert np.all(layer.d_hidden_from_next[-1] == 0) and np.all(layer.d_hidden_from_next[:-1] != 0)
    W_hh = core.parameters()["weight_hh_l0"]
    for t in range(4):  # dL/dh_t = (dL/dh_{t+1} * tanh'(a_{t+1})) @ W_hh
        expected = (layer.d_hidden[t + 1] * (1 - trace.layer(0).hidden[t + 1] ** 2)) @ W_hh
        assert_same_maths(layer.d_hidden_from_next[t], expected, roundings=16)  # ~8 roundings a side
    cut = core.backward(trace, np.ones((5, 1, 3)), tbptt=2).layer(0)  # chunks [0,2) [2,4) [4,5)
    assert np.all(cut.d_hidden_from_next[[1, 3, 4]] == 0)
    assert np.all(cut.d_hidden_from_next[[0, 2]] != 0)


def test_lstm_trace_follows_the_equations():
    rng = np.random.default_rng(8)
    core = make_core("lstm", 2, 3)
    layer = core.forward(rng.standard_normal((4, 2, 2))).layer(0)
    i, f, g, o = (layer.gates[k] for k in "ifgo")
    sigmoid = 1 / (1 + np.exp(-layer.preact))
    # the engine's σ is (1 + tanh(a/2)) / 2 or 1 / (1 + exp(-a)), its tanh possibly 2σ(2a) - 1: a few
    # roundings of values in [-1, 1] each side, transcendental ones 4: N = 16, 2 N u (tests/tolerances.py)
    assert_same_maths(i, sigmoid[:, :, 0:3], roundings=16)
    assert_same_maths(g, np.tanh(layer.preact[:, :, 6:9]), roundings=16)
    assert_same_maths(layer.cell_state, f * layer.prev_cell_state + i * g, roundings=16)
    assert_same_maths(layer.hidden, o * np.tanh(layer.cell_state), roundings=16)


def test_registry_and_equations():
    assert cell_names() == ("rnn_tanh", "rnn_relu", "lstm", "gru", "mingru", "minlstm", "lru", "selective")
    assert CELLS["gru"].gate_names == ("r", "z", "n")
    assert any("r_t ⊙ (W_hn h_(t-1) + b_hn)" in line for line in CELLS["gru"].equations)
    assert all(CELLS[m].equations for m in cell_names())


def test_load_state_dict_names_what_is_wrong():
    core = make_core("lstm", 3, 4, 2, True)
    good = core.state_dict()
    missing = dict(good)
    del missing["bias_hh_l1_reverse"]
    with pytest.raises(ValueError, match="missing keys bias_hh_l1_reverse"):
        core.load_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected keys weight_ih_l2"):
        core.load_state_dict({**good, "weight_ih_l2": np.zeros((16, 8))})
    wrong = {**good, "weight_hh_l0": np.zeros((16, 5))}
    with pytest.raises(ValueError, match=r"weight_hh_l0 has shape \(16, 5\).*needs \(16, 4\)"):
        core.load_state_dict(wrong)
    np.testing.assert_array_equal(core.parameters()["weight_hh_l0"], good["weight_hh_l0"])


def test_bad_inputs_raise_engine_errors():
    core = make_core("gru", 3, 4)
    x = np.zeros((5, 2, 3))
    with pytest.raises(EngineError, match="unknown cell mode 'lstmx'"):
        Recurrent("lstmx", 3, 4)
    with pytest.raises(EngineError, match="x must have shape"):
        core.forward(np.zeros((5, 2, 4)))
    with pytest.raises(EngineError, match="padding must be at the end"):
        core.forward(x, mask=np.array([[1, 1], [0, 1], [1, 1], [1, 1], [1, 1]]))
    with pytest.raises(EngineError, match="mask must have shape"):
        core.forward(x, mask=np.ones((5, 3)))
    with pytest.raises(EngineError, match="h0 must have shape"):
        core.forward(x, h0=np.zeros((2, 2, 4)))
    trace = core.forward(x)
    with pytest.raises(EngineError, match="d_output must have"):
        core.backward(trace, np.zeros((5, 2, 3)))
    with pytest.raises(EngineError, match="tbptt"):
        core.backward(trace, np.zeros((5, 2, 4)), tbptt=0)


def test_backward_uses_the_weights_of_its_forward():
    rng = np.random.default_rng(6)
    core = make_core("gru", 2, 3)
    x, d_output = rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 3))
    trace = core.forward(x)
    before = core.backward(trace, d_output)
    for array in core.parameters().values():  # an optimizer step in between
        array -= 0.1
    after = core.backward(trace, d_output)
    for name in before.params:
        np.testing.assert_array_equal(before.params[name], after.params[name])


def test_blas_threads_context_limits_blas():
    with blas_threads(1):
        assert all(info["num_threads"] == 1 for info in blas_info())
