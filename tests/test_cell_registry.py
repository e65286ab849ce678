"""The cell registry: a cell kind registered from outside rnnviz (the leaky RNN of tests/toy_cell.py)
reaches the config, the CLI, the engine, the step-through maths, the gradient checks and compare, and
passes the same generic tests as the built-in cells; the textbook-step kernel reproduces every
built-in kernel."""
from __future__ import annotations

import dataclasses
import itertools
import pickle

import numpy as np
import pytest

import tests.engine.test_dynamics as dynamics_tests
import tests.engine.test_recurrent_gradcheck as gradcheck_tests
import tests.engine.test_stepping as stepping_tests
import tests.session.test_stepper as stepper_tests
from rnnviz.engine import EngineError, Recurrent, cell_names, cell_spec
from rnnviz.engine.cells import register, registered, unregister
from rnnviz.engine.cells.base import CellSpecError, GateSpec, StateUpdate
from rnnviz.engine.cells.textbook import StepKernel
from rnnviz.engine.dynamics import lag_gradient_norms
from rnnviz.engine.model import ModelConfig
from rnnviz.session.checks import gradient_check
from rnnviz.session.compare import Comparison
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.files import load_session
from rnnviz.session.session import Session
from tests.test_cli import run
from tests.toy_cell import LEAK, LEAKY

BUILT_IN = cell_names()  # collected before any test registers a cell
TINY = dict(task="adding", task_params={"seq_len": 6}, hidden_size=3, batch_size=4)


# --- the registry ------------------------------------------------------------------------------


def test_a_registered_cell_exists_inside_the_block_only():
    assert LEAKY.name not in cell_names()
    with pytest.raises(ConfigError, match="cell must be one of rnn_tanh, rnn_relu, lstm, gru"):
        SessionConfig(cell=LEAKY.name)
    with registered(LEAKY):
        assert cell_names() == (*BUILT_IN, LEAKY.name) and cell_spec(LEAKY.name) is LEAKY
        assert SessionConfig(cell=LEAKY.name).cell == LEAKY.name
        assert ModelConfig(LEAKY.name, input_size=2, hidden_size=3, output_size=1).mode == LEAKY.name
        with pytest.raises(ValueError, match="already registered"):
            register(LEAKY)
    assert cell_names() == BUILT_IN
    with pytest.raises(EngineError, match="unknown cell mode 'leaky'; use one of rnn_tanh"):
        cell_spec(LEAKY.name)
    with pytest.raises(ValueError, match="built-in"):
        unregister("lstm")


def test_a_spec_that_contradicts_itself_is_refused():
    with pytest.raises(CellSpecError, match="carry gate 'z'"):
        dataclasses.replace(LEAKY, carry_gate="z")
    with pytest.raises(CellSpecError, match=r"names \['q'\]"):
        dataclasses.replace(LEAKY, updates=(StateUpdate("h_t = q_t", "{q}", "h"),))
    with pytest.raises(CellSpecError, match="taken by the states"):
        dataclasses.replace(LEAKY, gates=(GateSpec("h", "state", "tanh", "candidate", "h_t = tanh(...)"),))


def test_a_core_pickles_with_its_cell_by_name(leaky_cell):
    core = Recurrent(leaky_cell, 2, 3, seed=1)
    copy = pickle.loads(pickle.dumps(core))
    assert copy.cell is LEAKY and copy.cell.kernel is LEAKY.kernel
    assert all(np.array_equal(copy.parameters()[k], v) for k, v in core.parameters().items())


# --- the CLI -----------------------------------------------------------------------------------


def test_the_cli_offers_the_cell_and_trains_it(leaky_cell, tmp_path, capsys):
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0 and "{rnn_tanh,rnn_relu,lstm,gru,mingru,minlstm,lru,selective,leaky}" in out
    folder = tmp_path / "run"
    code, out, err = run(["train", "--task", "adding", "--seq-len", "6", "--cell", leaky_cell, "--hidden", "3",
                          "--batch", "4", "--steps", "3", "--out", str(folder)], capsys)
    assert code == 0, err
    assert load_session(folder).config.cell == leaky_cell
    assert (folder / "plots" / "gates.png").is_file()  # its candidate n has a strip, so the panel is drawn


def test_the_cli_refuses_the_cell_once_it_is_unregistered(tmp_path, capsys):
    code, _, err = run(["train", "--task", "adding", "--cell", LEAKY.name, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "invalid choice: 'leaky'" in err


# --- the maths: the same generic tests the built-in cells pass ---------------------------------


def test_the_textbook_step_reproduces_its_kernel_and_finite_differences(leaky_cell):
    for direction in (0, 1):
        stepping_tests.test_stepping_reproduces_the_engine_forward_and_backward(
            leaky_cell, direction, np.random.default_rng(1234))
    stepping_tests.test_one_step_backward_matches_finite_differences_of_one_step_forward(
        leaky_cell, np.random.default_rng(1234))


def test_backward_matches_finite_differences(leaky_cell):
    for layers, bidirectional, masked in itertools.product((1, 2), (False, True), (False, True)):
        gradcheck_tests.test_backward_matches_finite_differences(leaky_cell, layers, bidirectional, masked)


def test_the_gradient_check_button_passes(leaky_cell):
    session = Session(SessionConfig(cell=leaky_cell, num_layers=2, bidirectional=True, **TINY))
    session.train(2)
    rows = gradient_check(session, max_entries=10)
    assert [row.name for row in rows] == list(session.model.parameters())
    assert all(row.passed for row in rows), rows


def test_step_through_reproduces_the_full_pass_in_every_setup(leaky_cell):
    for setup in stepper_tests.SETUPS:
        stepper_tests.test_stepping_forward_T_times_equals_the_full_forward_trace(leaky_cell, setup)
        stepper_tests.test_stepping_back_T_times_equals_the_full_bptt_gradients(leaky_cell, setup)


def test_lag_norms_match_finite_differences_and_the_leak(leaky_cell):
    for reverse, padded in itertools.product((False, True), (False, True)):
        dynamics_tests.test_lag_norms_match_a_finite_difference_jacobian(
            leaky_cell, reverse, padded, np.random.default_rng(1234))
    # with W_hh = 0, ∂h_t/∂h_(t-1) = (1 - α) I, so ||∂h_last/∂h_(last-lag)||_F = (1 - α)^lag sqrt(H)
    steps, hidden = 12, 4
    rng = np.random.default_rng(0)
    weights = (rng.standard_normal((hidden, 2)), np.zeros((hidden, hidden)), rng.standard_normal(hidden),
               np.zeros(hidden))
    result = lag_gradient_norms(leaky_cell, weights, rng.standard_normal((steps, 2)), np.zeros(hidden))
    # float64: each step multiplies by exactly 1 - α = 0.7 (rounded once), 12 steps stay within 1e-14
    np.testing.assert_allclose(result.norms, (1 - LEAK) ** np.arange(steps) * np.sqrt(hidden), rtol=1e-12, atol=0)


def test_compare_trains_it_beside_a_built_in_cell(leaky_cell):
    comparison = Comparison(SessionConfig(**TINY), cells=(leaky_cell, "lstm"), heldout_every=1)
    for _ in range(2):
        comparison.step()
    curves = comparison.curves()
    assert set(curves) == {leaky_cell, "lstm"}
    assert len(curves[leaky_cell].loss) == 2 and np.isfinite(curves[leaky_cell].loss).all()
    assert curves[leaky_cell].grad_norm_per_step.shape == (6,)


# --- the textbook-step kernel ------------------------------------------------------------------


def textbook_twin(name: str):
    """The built-in cell ``name`` with a StepKernel (its textbook timestep run over time) as kernel."""
    spec = cell_spec(name)
    twin = f"{name}_textbook"
    kernel = StepKernel(twin, spec.gates, spec.step_forward, spec.step_backward, spec.has_cell_state, spec.derived)
    return dataclasses.replace(spec, name=twin, kernel=kernel, compiled_kernel=None)


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_step_kernel_reproduces_every_built_in_kernel(name, register_cell):
    twin = register_cell(textbook_twin(name)).name
    T, B, I, H, L = 7, 3, 2, 4, 2
    rng = np.random.default_rng(8)
    fast, slow = (Recurrent(mode, I, H, num_layers=L, bidirectional=True, dtype=np.float64, seed=4)
                  for mode in (name, twin))
    assert all(np.array_equal(fast.parameters()[k], v) for k, v in slow.parameters().items())  # same init
    x = rng.standard_normal((T, B, I))
    mask = (np.arange(T)[:, None] < np.array([7, 4, 2])[None, :]).astype(float)
    S = cell_spec(name).cell_state_size(H)
    states = [rng.standard_normal((2 * L, B, H)), rng.standard_normal((2 * L, B, S))]
    h0 = tuple(states) if cell_spec(name).has_cell_state else states[0]
    d_output = rng.standard_normal((T, B, 2 * H))
    d_h_n, d_c_n = rng.standard_normal((2 * L, B, H)), rng.standard_normal((2 * L, B, S))
    results = []
    for core in (fast, slow):
        trace = core.forward(x, h0=h0, mask=mask)
        grads = core.backward(trace, d_output, d_h_n=d_h_n,
                              d_c_n=d_c_n if trace.c_n is not None else None, tbptt=3)
        results.append((trace, grads))
    (trace, grads), (twin_trace, twin_grads) = results
    # Both are float64 evaluations of the same expressions in another order (fused biases, stacked
    # matmuls, exp- or tanh-based sigmoids): a few ulp (1e-16) per operation, carried through at most
    # T * L = 14 steps of contracting recurrences. 1e-10 relative with a 1e-12 floor for values near 0
    # leaves four orders of margin over any x86 BLAS / libm rounding.
    close = dict(rtol=1e-10, atol=1e-12)
    pairs = [(trace.output, twin_trace.output), (trace.h_n, twin_trace.h_n), (grads.d_input, twin_grads.d_input),
             (grads.d_h0, twin_grads.d_h0)]
    pairs += [(grads.params[k], twin_grads.params[k]) for k in grads.params]
    if trace.c_n is not None:
        pairs += [(trace.c_n, twin_trace.c_n), (grads.d_c0, twin_grads.d_c0)]
    for layer, direction in itertools.product(range(L), range(2)):
        ours, theirs = trace.layer(layer, direction), twin_trace.layer(layer, direction)
        pairs += [(ours.preact, theirs.preact), (ours.hidden, theirs.hidden), (ours.prev_hidden, theirs.prev_hidden)]
        pairs += [(ours.gates[g], theirs.gates[g]) for g in ours.gates]
        assert set(ours.gates) == set(theirs.gates)
        if ours.cell_state is not None:
            pairs += [(ours.cell_state, theirs.cell_state), (ours.prev_cell_state, theirs.prev_cell_state)]
        ours, theirs = grads.layer(layer, direction), twin_grads.layer(layer, direction)
        pairs += [(ours.d_hidden, theirs.d_hidden), (ours.d_hidden_from_next, theirs.d_hidden_from_next),
                  (ours.d_preact, theirs.d_preact), (ours.d_hidden_preact, theirs.d_hidden_preact)]
        if ours.d_cell_state is not None:
            pairs.append((ours.d_cell_state, theirs.d_cell_state))
    for index, (expected, actual) in enumerate(pairs):
        np.testing.assert_allclose(actual, expected, err_msg=f"pair {index}", **close)
