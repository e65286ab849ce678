"""The weight initialisations in rnnviz.engine.init."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.init import INITS, initialise
from tests.engine.conftest import MODE_LIST, make_core
from tests.tolerances import assert_same_maths


def blocks(matrix, hidden):
    return [matrix[k:k + hidden] for k in range(0, matrix.shape[0], hidden)]


@pytest.mark.parametrize("name", sorted(INITS))
def test_seeded_and_deterministic(name):
    first, second = make_core("lstm", 3, 5, 2, True), make_core("lstm", 3, 5, 2, True)
    initialise(first, name, seed=4)
    initialise(second, name, seed=4)
    for key, array in first.parameters().items():
        np.testing.assert_array_equal(array, second.parameters()[key])
    initialise(second, name, seed=5)
    assert any(not np.array_equal(a, second.parameters()[k]) for k, a in first.parameters().items()
               if k.startswith("weight"))


def test_default_is_pytorch_uniform_bound():
    core = make_core("gru", 3, 16, seed=0)
    initialise(core, "default", seed=1)
    bound = 1 / np.sqrt(16)
    for array in core.parameters().values():
        # drawn in float64 from [-bound, bound): the bound holds exactly. Seeded, so the spread check is
        # deterministic; P(max |w| < 0.8 bound) = 0.8^n is < 1e-3 for the n >= 48 entries of each array
        assert np.all(np.abs(array) <= bound) and np.abs(array).max() > 0.8 * bound


@pytest.mark.parametrize("mode", MODE_LIST)
def test_xavier_bounds_per_gate_block_and_zero_biases(mode):
    core = make_core(mode, 6, 10, 2)
    initialise(core, "xavier", seed=0)
    for name, array in core.parameters().items():
        if name.startswith("bias"):
            assert np.all(array == 0)
            continue
        for block in blocks(array, 10):
            bound = np.sqrt(6 / (block.shape[0] + block.shape[1]))
            # float64 draws from [-bound, bound): exact. Seeded spread check: 0.7^60 = 5e-10 for a 10 x 6 block
            assert np.all(np.abs(block) <= bound) and np.abs(block).max() > 0.7 * bound


@pytest.mark.parametrize("mode", MODE_LIST)
def test_orthogonal_recurrent_blocks(mode):
    core = make_core(mode, 3, 8, 1, True)
    initialise(core, "orthogonal", seed=2)
    for name, array in core.parameters().items():
        if name.startswith("weight_hh"):
            for block in blocks(array, 8):
                # Householder QR: Q^T Q = I within c n² u, c n² < 2^8 for n = 8 (float64): 2 N u
                assert_same_maths(block @ block.T, np.eye(8), roundings=2**8)
        if name.startswith("bias"):
            assert np.all(array == 0)


def test_identity_for_relu_rnn_with_scale():
    core = make_core("rnn_relu", 4, 6, 2)
    initialise(core, "identity", seed=0, scale=1.2)
    params = core.parameters()
    np.testing.assert_array_equal(params["weight_hh_l0"], 1.2 * np.eye(6))
    np.testing.assert_array_equal(params["weight_hh_l1"], 1.2 * np.eye(6))
    # IRNN input weights ~ N(0, 0.001²): the sample std of 24 draws is within ~14% of 0.001 (one
    # standard error): the bounds are 5 of them away, and seeded
    assert 0.0005 < params["weight_ih_l0"].std() < 0.002
    assert all(np.all(a == 0) for k, a in params.items() if k.startswith("bias"))
    # scale > 1 makes dL/dh grow going back in time for a relu RNN with positive states
    trace = core.forward(np.ones((30, 1, 4)))
    d_output = np.zeros((30, 1, 6))
    d_output[-1] = 1
    norms = core.backward(trace, d_output).layer(1).grad_norm_per_step
    assert norms[0] > 10 * norms[-1]  # ~1.2^29 ≈ 200 on active units; rounding moves it by ~1e-6


def test_identity_applies_per_gate_block_for_gated_cells():
    core = make_core("lstm", 2, 3)
    initialise(core, "identity", seed=0)
    for block in blocks(core.parameters()["weight_hh_l0"], 3):
        np.testing.assert_array_equal(block, np.eye(3))


def test_unknown_name_and_bad_arguments():
    core = make_core("rnn_tanh", 2, 3)
    with pytest.raises(ValueError, match="unknown initialisation 'he'.*default, xavier"):
        initialise(core, "he", seed=0)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        initialise(core, "identity", seed=0, scale=-1)
    with pytest.raises(ValueError, match="bad argument"):
        initialise(core, "xavier", seed=0, gain=2)
