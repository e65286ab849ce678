"""RNN vs LSTM vs GRU on the same task, seed and data."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from rnnviz.session.compare import CompareError, Comparison
from rnnviz.session.config import SessionConfig
from tests.tolerances import assert_same_maths

BASE = SessionConfig(task="adding", task_params={"seq_len": 10}, hidden_size=6, batch_size=5, seed=11)


def next_batch(session):
    """The batch the session's next training step will draw (from a copy of its generator)."""
    rng = copy.deepcopy(session.trainer.rng)
    return session.task.batch(session.config.batch_size, rng)


def test_every_cell_trains_on_the_same_batches_and_views_the_same_samples():
    comparison = Comparison(BASE)
    assert list(comparison.sessions) == ["rnn_tanh", "lstm", "gru"]
    for _ in range(3):
        batches = [next_batch(s) for s in comparison.sessions.values()]
        for batch in batches[1:]:
            np.testing.assert_array_equal(batch.inputs, batches[0].inputs)
            np.testing.assert_array_equal(batch.targets, batches[0].targets)
        comparison.step()
    views = [s.view_batch for s in comparison.sessions.values()]
    for view in views[1:]:
        np.testing.assert_array_equal(view.inputs, views[0].inputs)
    cells = [s.model.config.mode for s in comparison.sessions.values()]
    assert cells == ["rnn_tanh", "lstm", "gru"]


def test_deterministic_per_seed_and_different_across_seeds():
    def run(config):
        comparison = Comparison(config, heldout_every=2)
        for _ in range(4):
            comparison.step()
        return comparison.curves()

    a, b, c = run(BASE), run(BASE), run(BASE.replace(seed=12))
    for cell in a:
        np.testing.assert_array_equal(a[cell].loss, b[cell].loss)
        np.testing.assert_array_equal(a[cell].heldout_loss, b[cell].heldout_loss)
        np.testing.assert_array_equal(a[cell].grad_norm_per_step, b[cell].grad_norm_per_step)
        assert not np.array_equal(a[cell].loss, c[cell].loss)


def test_curves_hold_losses_heldout_losses_and_gradient_norms():
    comparison = Comparison(BASE, cells=("rnn_tanh", "gru"), heldout_every=2)
    for _ in range(5):
        comparison.step()
    curves = comparison.curves()
    assert set(curves) == {"rnn_tanh", "gru"}
    for cell, curve in curves.items():
        np.testing.assert_array_equal(curve.steps, [1, 2, 3, 4, 5])
        assert np.all(np.isfinite(curve.loss))
        np.testing.assert_array_equal(curve.heldout_steps, [2, 4])
        session = comparison.sessions[cell]
        d_hidden = session.inspect().core_grads.layer(0, 0).d_hidden.astype(np.float64)
        # float32 norms of B H = 30 squares against the float64 sum: N <= 2 B H + 4 roundings, 2 N u32
        assert_same_maths(curve.grad_norm_per_step, np.sqrt((d_hidden ** 2).sum(axis=(1, 2))),
                          roundings=64, dtype=np.float32)
        assert curve.grad_norm_per_step.shape == (10,) and not curve.diverged
    assert not np.array_equal(curves["rnn_tanh"].loss, curves["gru"].loss)  # different cells, different fits


def test_carry_gate_bias_reaches_only_the_gated_cells():
    comparison = Comparison(BASE, carry_gate_bias=4.0)
    H = BASE.hidden_size
    assert np.all(comparison.sessions["lstm"].model.parameters()["bias_ih_l0"][H:2 * H] == 4.0)
    assert np.all(comparison.sessions["gru"].model.parameters()["bias_ih_l0"][H:2 * H] == 4.0)
    assert not np.any(comparison.sessions["rnn_tanh"].model.parameters()["bias_ih_l0"] == 4.0)


def test_bad_cells_are_refused_with_the_allowed_names():
    with pytest.raises(CompareError, match="rnn_tanh"):
        Comparison(BASE, cells=("lstm", "transformer"))
    with pytest.raises(CompareError, match="distinct"):
        Comparison(BASE, cells=("lstm", "lstm"))


def test_any_registered_cells_with_what_only_some_of_them_have_adapted():
    from rnnviz.session.compare import cell_problem

    base = SessionConfig(task="adding", task_params={"seq_len": 6}, cell="mingru", hidden_size=3, batch_size=4,
                         scan=True, carry_bias=3.0)
    comparison = Comparison(base, cells=("lstm", "mingru", "selective"))
    scans = {cell: s.model.core.scan for cell, s in comparison.sessions.items()}
    assert scans == {"lstm": False, "mingru": True, "selective": True}  # the scan only where it exists
    comparison.step()
    assert {c.state_symbol for c in comparison.curves().values()} == {"h", "c"}
    assert cell_problem(base, "gru") is None
    assert "does not fit" in cell_problem(base.replace(init="orthogonal", scan=False), "lru")
