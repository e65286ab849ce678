"""Why gradients vanish or explode: how much h at the last step depends on h at earlier steps, and the
eigenvalues of the recurrent weights.

    lags, norms = lag_gradient_norms(mode, weights, inputs, h0, c0, mask, reverse)
    spectrum = recurrent_eigenvalues(W_hh, mode)        # .eigenvalues, .spectral_radius by gate

``lag_gradient_norms`` is exact: it backpropagates the H unit vectors of h_last (as a batch of H
copies of the one sample) with the textbook backward step, so the LSTM path through c and the GRU
paths through every gate are all included. ∂h_last/∂h_t is the partial derivative with c_t held fixed
(cells with a cell state), i.e. how a nudge to the hidden state at t reaches the last hidden state.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.errors import EngineError
from rnnviz.engine.stepping import Weights, gate_names, step_backward, step_forward


class LagNorms(NamedTuple):
    lags: np.ndarray  # (T,) 0, 1, ..., T-1: how many steps before the last processed step
    norms: np.ndarray  # (T,) ||∂h_last/∂h_(last - lag)||_F; lag 0 is ||I||_F = sqrt(H)
    timesteps: np.ndarray  # (T,) the timestep each lag refers to
    log10_norms: np.ndarray  # (T,) log10 of norms, finite even where norms underflow to 0


class Spectrum(NamedTuple):
    eigenvalues: dict[str, np.ndarray]  # gate -> (H,) complex eigenvalues of that H x H block of W_hh
    spectral_radius: dict[str, float]  # gate -> max |eigenvalue|


@np.errstate(over="ignore", invalid="ignore", divide="ignore")  # diverged weights: inf/NaN norms, no warning
def lag_gradient_norms(
    mode: str,
    weights: Weights,
    inputs: np.ndarray,  # (T, I) one sample's input to the layer
    h0: np.ndarray,  # (H,)
    c0: np.ndarray | None = None,  # (H,) cells with a cell state
    mask: np.ndarray | None = None,  # (T,) 1 real, 0 padding (state carried, identity Jacobian)
    reverse: bool = False,
) -> LagNorms:
    """||∂h_last/∂h_t||_F against the lag (steps before the last processed one), in float64.

    Jacobian rows are propagated together: d_h starts as the H x H identity (a batch of H unit
    vectors) and each backward step maps dL/dh_t to dL/dh_(t-1) = J_t^T dL/dh_t. The propagated
    rows are rescaled to norm 1 whenever they get tiny or huge (the scale is kept as a logarithm),
    which keeps the arithmetic away from subnormal numbers (measured 50x slower) and overflow."""
    has_cell_state = cell_spec(mode).has_cell_state
    inputs = np.asarray(inputs, dtype=np.float64)
    T = inputs.shape[0]
    H = np.asarray(h0).shape[-1]
    if has_cell_state and c0 is None:
        c0 = np.zeros(H)
    real = np.ones(T) if mask is None else np.asarray(mask, dtype=np.float64)
    if real.shape != (T,):
        raise EngineError(f"mask must have shape ({T},), one entry per timestep; got {real.shape}")
    weights = tuple(np.asarray(w, dtype=np.float64) for w in weights)  # type: ignore[assignment]
    order = list(range(T - 1, -1, -1)) if reverse else list(range(T))
    states = _forward_one_sample(mode, weights, inputs, h0, c0, real, order)
    d_h = np.eye(H)  # (H copies, H): row k is ∂h_last[k]/∂h_t
    d_c = np.zeros((H, H)) if has_cell_state else None
    log_norms = np.empty(T)  # natural log
    log_scale = 0.0  # the true rows are exp(log_scale) * d_h (and d_c)
    for lag, t in enumerate(reversed(order)):
        norm = np.sqrt(np.sum(d_h * d_h))
        log_norms[lag] = log_scale + (np.log(norm) if norm > 0 else -np.inf)
        if real[t] == 0:  # padding: h_t = h_(t-1), c_t = c_(t-1)
            continue
        if norm > 0 and not 1e-30 < norm < 1e30:
            d_h = d_h / norm
            d_c = None if d_c is None else d_c / norm
            log_scale += np.log(norm)
        grads = step_backward(mode, weights, states[t], d_h, d_c, contributions=False)
        d_h, d_c = grads.d_h_prev, grads.d_c_prev
    with np.errstate(over="ignore", under="ignore"):
        norms = np.exp(log_norms)
    return LagNorms(np.arange(T), norms, np.array(order[::-1]), log_norms / np.log(10))


def _forward_one_sample(mode, weights, inputs, h0, c0, real, order) -> dict:
    """Forward step states of one sample (batch of 1); padded steps carry h (and c) unchanged."""
    h = np.asarray(h0, dtype=np.float64).reshape(1, -1)
    c = None if c0 is None else np.asarray(c0, dtype=np.float64).reshape(1, -1)
    states = {}
    for t in order:
        if real[t] == 0:
            continue
        state = step_forward(mode, weights, inputs[t:t + 1], h, c)
        states[t] = state
        h, c = state.h, state.c
    return states


def recurrent_eigenvalues(W_hh: np.ndarray, mode: str) -> Spectrum:
    """Eigenvalues of each H x H gate block of W_hh (G*H, H), named like the gates (rnn: "a"),
    and the spectral radius of each. For a tanh RNN, radius < 1 means the gradient shrinks at least
    geometrically with the lag (tanh' <= 1); a relu RNN with radius > 1 can grow it."""
    names = gate_names(mode)
    W_hh = np.asarray(W_hh, dtype=np.float64)
    H = W_hh.shape[1]
    if W_hh.shape != (len(names) * H, H):
        raise EngineError(f"W_hh of a {mode} cell must have shape ({len(names)}*H, H); got {W_hh.shape}")
    eigenvalues = {name: np.linalg.eigvals(W_hh[k * H:(k + 1) * H]).astype(complex)
                   for k, name in enumerate(names)}
    radius = {name: float(np.max(np.abs(values))) for name, values in eigenvalues.items()}
    return Spectrum(eigenvalues, radius)


__all__ = ["LagNorms", "Spectrum", "lag_gradient_norms", "recurrent_eigenvalues"]
