"""The new cells (minGRU, minLSTM, LRU, selective) through the session: the step-through cursor against
the full pass, the gradient-check button, snapshots, compare, evaluation, and the settings they refuse."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.init import InitError
from rnnviz.engine.stepping import weight_labels
from rnnviz.session.checks import gradient_check
from rnnviz.session.compare import Comparison
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.evaluation import evaluate
from rnnviz.session.pytorch import WeightsFileError, load_pytorch_weights, save_pytorch_weights
from rnnviz.session.session import Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.gradient_flow import gradient_flow_view
from tests.session.test_stepper import SETUPS, _reference, _selection, make_session

CELLS = ("mingru", "minlstm", "lru", "selective")
# float64 textbook steps against the float64 kernel: the same sums in another order over at most T = 9
# steps of a small network (tests/tolerances.py: 2 N u with N = 2^12 roundings is 9e-13 relative)
CLOSE = dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("mode", CELLS)
def test_stepping_forward_and_back_reproduces_the_full_pass(mode, setup):
    session = make_session(mode, setup)
    session.train(2)
    selection = _selection(session, setup)
    result, forward, backward = _reference(session, selection)
    stepper = StepThrough(session, selection)
    s, T = selection.sample, stepper.seq_len
    for k in range(T):
        step = stepper.step_forward()
        t = stepper.order[k]
        np.testing.assert_allclose(step.h, forward.hidden[t, s], **CLOSE)
        for name, gate in forward.gates.items():
            np.testing.assert_allclose(step.gates[name], gate[t, s], **CLOSE)
        if forward.cell_state is not None:
            np.testing.assert_allclose(step.c, forward.cell_state[t, s], **CLOSE)
    if forward.cell_state is not None:
        np.testing.assert_allclose(stepper.cell_state_so_far, forward.cell_state[:, s], **CLOSE)
    for k in range(T):
        step = stepper.step_backward()
        t = stepper.order[-1 - k]
        np.testing.assert_allclose(step.d_hidden, backward.d_hidden[t, s], **CLOSE)
        np.testing.assert_allclose(np.concatenate(list(step.d_preact.values())), backward.d_preact[t, s], **CLOSE)
        if backward.d_cell_state is not None:
            np.testing.assert_allclose(step.d_cell, backward.d_cell_state[t, s], **CLOSE)
    suffix = f"_l{selection.layer}" + ("_reverse" if selection.direction else "")
    labels = weight_labels(mode)
    assert set(stepper.current_backward.accumulated) == set(labels.values())
    for kind, label in labels.items():  # the summed per-step contributions are the full gradients
        np.testing.assert_allclose(stepper.current_backward.accumulated[label], result.grads[kind + suffix],
                                   err_msg=label, **CLOSE)
    # the gradient norm the views show follows the state that carries memory: h, or c for LRU/selective
    memory = backward.d_cell_state if session.model.core.cell.memory_state == "c" else backward.d_hidden
    expected = np.linalg.norm(memory[:, s], axis=1)
    np.testing.assert_allclose(stepper.grad_norm_so_far, expected, **CLOSE)
    np.testing.assert_allclose(session.snapshot(selection).grad_norm_per_step, expected, **CLOSE)


@pytest.mark.parametrize("mode", CELLS)
def test_the_gradient_check_button_passes(mode):
    session = Session(SessionConfig(task="selective_copy", task_params={"n_tokens": 2, "region": 4}, cell=mode,
                                    hidden_size=3, num_layers=2, bidirectional=True, tbptt=0, batch_size=4))
    session.train(2)
    rows = gradient_check(session, max_entries=8)
    assert [row.name for row in rows] == list(session.model.parameters())
    for row in rows:  # every checked entry within atol + rtol |numeric| (engine/gradcheck.py's analysis)
        assert row.passed, row


@pytest.mark.parametrize("mode", CELLS)
def test_a_snapshot_holds_the_cell_s_own_parameters_and_state(mode):
    session = Session(SessionConfig(task="associative_recall", cell=mode, hidden_size=5, batch_size=4))
    snapshot = session.snapshot()
    spec = session.model.core.cell
    assert set(snapshot.weights) == set(weight_labels(mode).values()) | {"W_out", "b_out"}
    assert set(snapshot.weight_grads) == set(snapshot.weights)
    steps = session.view_batch.seq_len
    assert snapshot.hidden.shape == (steps, 5)
    for name in spec.gate_names:
        assert snapshot.gates[name].shape == (steps, 5)
    if spec.has_cell_state:
        assert snapshot.gates["cell_state"].shape == (steps, spec.cell_state_size(5))
    view = gradient_flow_view(session)
    assert view.lag_norms.shape == (steps,) and np.isfinite(view.lag_norms).all()
    assert set(view.eigenvalues) == ({"λ"} if mode == "lru" else set())


def test_compare_takes_the_new_cells_beside_the_old():
    comparison = Comparison(SessionConfig(task="selective_copy", task_params={"region": 6}, hidden_size=4,
                                          batch_size=4), cells=("lstm", "lru", "selective"), heldout_every=1)
    comparison.step()
    curves = comparison.curves()
    assert set(curves) == {"lstm", "lru", "selective"}
    for curve in curves.values():
        assert np.isfinite(curve.loss).all() and curve.grad_norm_per_step.shape == (10,)


def test_evaluation_is_per_recalled_token_and_reproducible():
    session = Session(SessionConfig(task="selective_copy", cell="mingru", hidden_size=4))
    first, again = evaluate(session, 64), evaluate(session, 64)
    assert first == again and first.tokens == 64 * 4 and 0.0 <= first.accuracy <= 1.0
    session.train(3)
    assert evaluate(session, 64).loss != first.loss  # the weights changed, the batch did not
    assert evaluate(Session(SessionConfig(task="sine", cell="lru", hidden_size=4)), 8).accuracy is None


def test_settings_the_new_cells_cannot_take_are_refused_with_the_reason(tmp_path):
    with pytest.raises(ConfigError, match="scan works only for the cells with a linear recurrence"):
        SessionConfig(cell="lstm", scan=True)
    assert Session(SessionConfig(cell="selective", scan=True, hidden_size=3, task="sine")).model.core.scan
    with pytest.raises(InitError, match="orthogonal initialisation does not fit a minGRU, which has no weight_hh"):
        Session(SessionConfig(cell="mingru", init="orthogonal"))
    with pytest.raises(InitError, match="xavier initialisation does not fit an LRU.*stacked"):
        Session(SessionConfig(cell="lru", init="xavier"))
    Session(SessionConfig(cell="minlstm", init="xavier", carry_bias=3.0))  # W_ih only: fine, f starts open
    session = Session(SessionConfig(cell="lru", hidden_size=3))
    path = tmp_path / "weights.npz"
    np.savez(path, weight_ih_l0=np.zeros((3, 1)))
    with pytest.raises(WeightsFileError, match="LRU has no PyTorch module to import weights for.*nn.RNN/nn.LSTM"):
        load_pytorch_weights(session, path)
    with pytest.raises(WeightsFileError, match="LRU has no PyTorch module to export weights for.*model.npz"):
        save_pytorch_weights(session, tmp_path / "lru.safetensors")
    assert not (tmp_path / "lru.safetensors").exists()
