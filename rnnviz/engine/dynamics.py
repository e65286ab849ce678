"""Why gradients vanish or explode: how much h at the last step depends on h at earlier steps, and the
eigenvalues of the recurrent weights.

    lags, norms = lag_gradient_norms(mode, weights, inputs, h0, c0, mask, reverse)
    spectrum = recurrent_eigenvalues(W_hh, mode)        # .eigenvalues, .spectral_radius by gate
    spectrum = cell_eigenvalues(mode, weights)          # any cell: W_hh's blocks, the LRU's λ, or none

For a cell whose memory is its cell state (``CellSpec.memory_state == "c"``: the LRU and the selective
layer, whose output h_t is not read by the next step) the norms are of ∂c_last/∂c_t instead.

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
    spec = cell_spec(mode)
    has_cell_state = spec.has_cell_state
    inputs = np.asarray(inputs, dtype=np.float64)
    T = inputs.shape[0]
    H = np.asarray(h0).shape[-1]
    S = spec.cell_state_size(H)
    if has_cell_state and c0 is None:
        c0 = np.zeros(S)
    real = np.ones(T) if mask is None else np.asarray(mask, dtype=np.float64)
    if real.shape != (T,):
        raise EngineError(f"mask must have shape ({T},), one entry per timestep; got {real.shape}")
    weights = tuple(np.asarray(w, dtype=np.float64) for w in weights)  # type: ignore[assignment]
    order = list(range(T - 1, -1, -1)) if reverse else list(range(T))
    rows = S if spec.memory_state == "c" else H
    # cells outside the stacked layout work out their parameter contributions inside their backward step,
    # which needs the state batched like the propagated rows: run their forward on ``rows`` copies
    states = _forward_one_sample(mode, weights, inputs, h0, c0, real, order, 1 if spec.stacked else rows)
    if spec.memory_state == "c":  # (S copies, ·): row k is ∂c_last[k]/∂c_t
        d_h, d_c = np.zeros((S, H)), np.eye(S)
    else:  # (H copies, ·): row k is ∂h_last[k]/∂h_t
        d_h, d_c = np.eye(H), (np.zeros((H, S)) if has_cell_state else None)
    memory_is_c = spec.memory_state == "c"
    log_norms = np.empty(T)  # natural log
    log_scale = 0.0  # the true rows are exp(log_scale) * d_h (and d_c)
    for lag, t in enumerate(reversed(order)):
        tracked = d_c if memory_is_c else d_h
        norm = np.sqrt(np.sum(tracked * tracked))
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


def _forward_one_sample(mode, weights, inputs, h0, c0, real, order, copies: int = 1) -> dict:
    """Forward step states of one sample (a batch of ``copies`` copies of it); padded steps carry h (and
    c) unchanged."""
    h = np.repeat(np.asarray(h0, dtype=np.float64).reshape(1, -1), copies, axis=0)
    c = None if c0 is None else np.repeat(np.asarray(c0, dtype=np.float64).reshape(1, -1), copies, axis=0)
    states = {}
    for t in order:
        if real[t] == 0:
            continue
        state = step_forward(mode, weights, np.repeat(inputs[t:t + 1], copies, axis=0), h, c)
        states[t] = state
        h, c = state.h, state.c
    return states


def cell_eigenvalues(mode: str, weights: Weights) -> Spectrum:
    """The input-independent eigenvalues of any cell's recurrence (``CellSpec.eigenvalues``): each
    gate block of W_hh for the PyTorch cells, the LRU's λ; none for a cell without W_hh whose decay
    depends on the input (minGRU, minLSTM, selective: see their per-timestep decay instead)."""
    spec = cell_spec(mode)
    if spec.eigenvalues is not None:
        values = {name: np.asarray(v, dtype=complex) for name, v in spec.eigenvalues(weights).items()}
        return Spectrum(values, {name: float(np.max(np.abs(v), initial=0.0)) for name, v in values.items()})
    kinds = spec.param_kinds()
    if "weight_hh" not in kinds:
        return Spectrum({}, {})
    return recurrent_eigenvalues(weights[kinds.index("weight_hh")], mode)


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


__all__ = ["LagNorms", "Spectrum", "cell_eigenvalues", "lag_gradient_norms", "recurrent_eigenvalues"]
