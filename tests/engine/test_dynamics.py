"""||∂h_last/∂h_t|| against finite differences, and the spectrum of W_hh."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from rnnviz.engine import Recurrent
from rnnviz.engine.dynamics import lag_gradient_norms, recurrent_eigenvalues
from rnnviz.engine.recurrent import EngineError
from rnnviz.engine.gradcheck import DEFAULT_RTOL, roundoff_atol
from rnnviz.engine.stepping import layer_weights, step_forward
from tests.tolerances import assert_same_maths, same_maths_tolerance

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
T, I, H = 6, 2, 3


def _last_hidden(mode, weights, inputs, h_start, c_start, mask, order, start):
    """Run the textbook forward from position ``start`` of ``order`` (state h_start, c_start already
    *at* that position) to the end; padded steps carry the state."""
    h, c = h_start[None], None if c_start is None else c_start[None]
    for t in order[start + 1:]:
        if mask[t] == 0:
            continue
        state = step_forward(mode, weights, inputs[t:t + 1], h, c)
        h, c = state.h, state.c
    return h[0]


def _finite_difference_norms(mode, weights, inputs, mask, reverse, eps=1e-6):
    order = list(range(T - 1, -1, -1)) if reverse else list(range(T))
    h, c = np.zeros((1, H)), (np.zeros((1, H)) if mode == "lstm" else None)
    hidden, cells = {}, {}
    for t in order:
        if mask[t]:
            state = step_forward(mode, weights, inputs[t:t + 1], h, c)
            h, c = state.h, state.c
        hidden[t], cells[t] = h[0].copy(), None if c is None else c[0].copy()
    norms = []
    for lag in range(T):
        position = T - 1 - lag
        t = order[position]
        jacobian = np.empty((H, H))
        for k in range(H):
            plus, minus = hidden[t].copy(), hidden[t].copy()
            plus[k] += eps
            minus[k] -= eps
            jacobian[:, k] = (_last_hidden(mode, weights, inputs, plus, cells[t], mask, order, position)
                              - _last_hidden(mode, weights, inputs, minus, cells[t], mask, order, position)) / (2 * eps)
        norms.append(np.linalg.norm(jacobian))
    return np.array(norms)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse,padded", [(False, False), (True, False), (False, True), (True, True)])
def test_lag_norms_match_a_finite_difference_jacobian(mode, reverse, padded, rng):
    core = Recurrent(mode, I, H, dtype=np.float64, seed=5)
    weights = layer_weights(core.parameters(), 0, 0)
    weights = (weights[0], weights[1] * 2.5, weights[2], weights[3])  # strong recurrence: norms vary
    inputs = rng.standard_normal((T, I))
    mask = np.array([1, 1, 1, 1, 0, 0.0]) if padded else np.ones(T)
    inputs = inputs * mask[:, None]
    result = lag_gradient_norms(mode, weights, inputs, np.zeros(H), None, mask, reverse)
    expected = _finite_difference_norms(mode, weights, inputs, mask, reverse)
    # each Jacobian entry within atol + rtol |J| of its central difference (the gradient check's float
    # analysis, engine/gradcheck.py, for a function of order 1): the Frobenius norm of the H x H
    # entries within H atol + rtol ||J||
    np.testing.assert_allclose(result.norms, expected, rtol=DEFAULT_RTOL, atol=H * roundoff_atol(1e-6, 1.0))
    assert_same_maths(result.norms[0], np.sqrt(H), roundings=2 * H)  # lag 0: the norm of the identity
    np.testing.assert_array_equal(result.lags, np.arange(T))
    np.testing.assert_array_equal(result.timesteps, np.arange(T) if reverse else np.arange(T)[::-1])


def test_log_norms_stay_finite_where_the_norm_underflows():
    """tanh RNN, W_hh = 0.01 I, zero input and bias: h stays 0 and ∂h_T/∂h_t = 0.01^lag I exactly."""
    steps, hidden = 400, 4
    weights = (np.zeros((hidden, 1)), 0.01 * np.eye(hidden), np.zeros(hidden), np.zeros(hidden))
    result = lag_gradient_norms("rnn_tanh", weights, np.zeros((steps, 1)), np.zeros(hidden))
    expected = -2.0 * np.arange(steps) + np.log10(np.sqrt(hidden))
    # 400 steps of ~4 roundings each on log-scaled values up to 800 in size: 2 N u (tests/tolerances.py)
    assert_same_maths(result.log10_norms, expected, roundings=1600)
    assert result.norms[-1] == 0.0  # 1e-798 underflows, the logarithm does not


def test_relu_identity_times_1_2_grows_like_1_2_to_the_lag():
    hidden = 3
    weights = (np.ones((hidden, 1)), 1.2 * np.eye(hidden), np.zeros(hidden), np.zeros(hidden))
    result = lag_gradient_norms("rnn_relu", weights, np.ones((20, 1)), np.zeros(hidden))
    # 19 steps of a product by 1.2 I (H + 4 roundings each) against 1.2 ** lag: N < 2^8, 2 N u
    assert_same_maths(result.norms[:19], 1.2 ** np.arange(19) * np.sqrt(hidden), roundings=2**8)


def test_eigenvalues_per_gate_block_of_known_matrices():
    angle, radius = 0.3, 0.9
    rotation = radius * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    W_hh = np.vstack([rotation, 2.0 * np.eye(2), -0.5 * np.eye(2), np.diag([0.1, -3.0])])  # lstm, H=2
    spectrum = recurrent_eigenvalues(W_hh, "lstm")
    assert list(spectrum.eigenvalues) == ["i", "f", "g", "o"]
    # LAPACK's eigenvalue solver is backward stable, within p(n) u ||A|| for these normal blocks
    # (condition 1), p(n) ~ 10 n² < 2^10 roundings for n <= 5 (also in the test below): 2 N u
    eigen = same_maths_tolerance(2**10)
    got = np.sort_complex(spectrum.eigenvalues["i"])
    want = np.sort_complex(radius * np.exp([-1j * angle, 1j * angle]))
    np.testing.assert_allclose(got, want, rtol=eigen, atol=eigen * 3.0)  # ||W_hh blocks|| <= 3
    radii = {"i": 0.9, "f": 2.0, "g": 0.5, "o": 3.0}
    assert spectrum.spectral_radius == pytest.approx(radii, rel=eigen, abs=eigen * 3)
    rnn = recurrent_eigenvalues(1.2 * np.eye(4), "rnn_relu")
    assert rnn.spectral_radius == {"a": pytest.approx(1.2, rel=eigen, abs=eigen * 1.2)}


def test_eigenvalues_of_a_random_block_have_its_trace_and_determinant(rng):
    eigen = same_maths_tolerance(2**10)  # see test_eigenvalues_per_gate_block_of_known_matrices
    W_hh = rng.standard_normal((15, 5))
    spectrum = recurrent_eigenvalues(W_hh, "gru")
    for k, name in enumerate(("r", "z", "n")):
        block = W_hh[5 * k:5 * (k + 1)]
        values = spectrum.eigenvalues[name]
        assert values.dtype == complex and values.shape == (5,)
        # eigenvalues backward stable (above): their sum within 5 eigen ||A|| of the trace, their product
        # within 5 eigen ||A||^5 of the determinant (itself from LU, as stable)
        norm = np.linalg.norm(block, 2)
        assert np.sum(values).real == pytest.approx(np.trace(block), rel=eigen, abs=5 * eigen * norm)
        assert np.prod(values).real == pytest.approx(np.linalg.det(block), rel=eigen, abs=10 * eigen * norm**5)


def test_a_wrongly_shaped_W_hh_says_what_is_expected():
    with pytest.raises(EngineError, match=r"\(4\*H, H\)"):
        recurrent_eigenvalues(np.zeros((6, 3)), "lstm")


@pytest.mark.parametrize("mode", MODES)
def test_diverged_weights_give_non_finite_norms_without_a_numpy_warning(mode, rng):
    """A diverged run's weights overflow in the forward pass: the panel gets inf/NaN norms to report,
    and no NumPy RuntimeWarning reaches the user's terminal."""
    core = Recurrent(mode, I, H, dtype=np.float64, seed=0)
    huge = {name: array * 1e300 for name, array in core.state_dict().items()}
    core.load_state_dict(huge)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norms = lag_gradient_norms(mode, layer_weights(core.state_dict(), 0, 0), rng.normal(size=(T, I)),
                                   np.zeros(H), np.zeros(H) if mode == "lstm" else None)
    assert norms is not None
