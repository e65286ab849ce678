"""Shared helpers for the engine tests: a PyTorch reference and a finite-difference checker."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import Recurrent
from rnnviz.engine.gradcheck import central_differences
from tests.tolerances import assert_matches_finite_differences

MODE_LIST = ("rnn_tanh", "rnn_relu", "lstm", "gru")


def make_core(mode, input_size=3, hidden_size=4, num_layers=1, bidirectional=False, seed=0,
              dtype=np.float64) -> Recurrent:
    return Recurrent(mode, input_size, hidden_size, num_layers=num_layers,
                     bidirectional=bidirectional, dtype=dtype, seed=seed)


def lengths_mask(lengths, seq_len) -> np.ndarray:
    """(T, B) mask with 1 for the first lengths[b] timesteps of sample b."""
    return (np.arange(seq_len)[:, None] < np.asarray(lengths)[None, :]).astype(np.float64)


def scalar_loss(core: Recurrent, x, h0, mask, d_output, d_h_n, d_c_n) -> float:
    """L = sum(output * d_output) + sum(h_n * d_h_n) + sum(c_n * d_c_n): its gradient is what
    core.backward(trace, d_output, d_h_n, d_c_n) returns."""
    trace = core.forward(x, h0=h0, mask=mask)
    loss = float(np.sum(trace.output * d_output))
    if d_h_n is not None:
        loss += float(np.sum(trace.h_n * d_h_n))
    if d_c_n is not None:
        loss += float(np.sum(trace.c_n * d_c_n))
    return loss


def finite_difference(loss, array: np.ndarray, indices, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``loss()`` with respect to ``array`` at the flat ``indices``."""
    return central_differences(loss, array, indices, eps)


def assert_core_gradients_match_finite_differences(core: Recurrent, x, h0, c0, mask, d_output, d_h_n, d_c_n,
                                                   rng: np.random.Generator, entries: int = 6) -> None:
    """BPTT's d_input, d_h0, d_c0 and every parameter gradient of ``core`` against central differences
    of ``scalar_loss`` at ``entries`` random entries of each array (h0, c0 already inside the core's
    state convention: lstm-style cells take the tuple)."""
    state = (h0, c0) if c0 is not None else h0

    def loss():
        return scalar_loss(core, x, state, mask, d_output, d_h_n, d_c_n)

    grads = core.backward(core.forward(x, h0=state, mask=mask), d_output, d_h_n, d_c_n)
    checks = [(x, grads.d_input, "d_input"), (h0, grads.d_h0, "d_h0")]
    if c0 is not None:
        checks.append((c0, grads.d_c0, "d_c0"))
    checks += [(array, grads.params[name], name) for name, array in core.parameters().items()]
    for array, analytic, name in checks:
        indices = rng.choice(array.size, size=min(array.size, entries), replace=False)
        numeric = finite_difference(loss, array, indices)
        # per entry |a - n| <= atol + rtol |n|: the gradient check's float analysis (engine/gradcheck.py)
        assert_matches_finite_differences(analytic.reshape(-1)[indices], numeric, loss(), err_msg=name)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
