"""Finite-difference gradient checks (float64) of Recurrent.backward, independent of PyTorch."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.engine.conftest import MODE_LIST, finite_difference, lengths_mask, make_core, scalar_loss
from tests.tolerances import assert_matches_finite_differences

T, B, I, H = 4, 2, 2, 3


@pytest.mark.parametrize("mode,num_layers,bidirectional,masked",
                         list(itertools.product(MODE_LIST, (1, 2), (False, True), (False, True))))
def test_backward_matches_finite_differences(mode, num_layers, bidirectional, masked):
    rng = np.random.default_rng(5)
    core = make_core(mode, I, H, num_layers, bidirectional, seed=9)
    D = 2 if bidirectional else 1
    states = (num_layers * D, B, H)
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal(states)
    c0 = rng.standard_normal(states) if mode == "lstm" else None
    mask = lengths_mask([4, 2], T) if masked else None
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal(states)
    d_c_n = rng.standard_normal(states) if mode == "lstm" else None
    state = (h0, c0) if mode == "lstm" else h0

    def loss():
        return scalar_loss(core, x, state, mask, d_output, d_h_n, d_c_n)

    grads = core.backward(core.forward(x, h0=state, mask=mask), d_output, d_h_n, d_c_n)
    checks = [(x, grads.d_input, "d_input"), (h0, grads.d_h0, "d_h0")]
    if c0 is not None:
        checks.append((c0, grads.d_c0, "d_c0"))
    checks += [(array, grads.params[name], name) for name, array in core.parameters().items()]
    for array, analytic, name in checks:
        indices = rng.choice(array.size, size=min(array.size, 6), replace=False)
        numeric = finite_difference(loss, array, indices)
        # per entry |a - n| <= atol + rtol |n|: the gradient check's float analysis (engine/gradcheck.py)
        assert_matches_finite_differences(analytic.reshape(-1)[indices], numeric, loss(), err_msg=name)
