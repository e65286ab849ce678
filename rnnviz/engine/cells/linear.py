"""What the cells with a linear recurrence (minGRU, minLSTM, LRU, selective) share: running
state_t = a_t ⊙ state_(t-1) + b_t forward and its gradient backward, with padding, truncated BPTT and
either the loop or the parallel scan (rnnviz/engine/scan.py).

All arrays are in timestep order, (T, B, ...). The multipliers ``a`` (which may broadcast, e.g. the
LRU's constant λ of shape (1, 1, H)) and the drives ``b`` are computed for all timesteps first, from
the inputs alone; only then does the recurrence run.

Padding (``real[t, b] == 0``) carries the state: a = 1 and b = 0 there, so the gradient passes through
untouched. A tbptt cut at t stops the gradient from state_t to the state step t read.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.scan import linear_recurrence
from rnnviz.engine.trace import TimeLayout


def real_steps(padded: np.ndarray | None, dtype) -> np.ndarray | None:
    """(T, B, 1) 1.0 at real timesteps, 0.0 at padding; None without padding."""
    return None if padded is None else (~padded).astype(dtype)


def carry_padding(a: np.ndarray, b: np.ndarray, real: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """a and b with the state carried through padding: a = 1, b = 0 where ``real`` (T, B, 1[, 1]) is 0."""
    if real is None:
        return a, b
    real = real.reshape(real.shape + (1,) * (b.ndim - real.ndim))
    return np.where(real > 0, a, 1), b * real


def forward_states(a: np.ndarray, b: np.ndarray, initial: np.ndarray, layout: TimeLayout,
                   parallel: bool) -> tuple[np.ndarray, np.ndarray]:
    """(states, previous): state_t for every t and the state step t read (the initial one at the first
    processed step), both (T, B, ...) in timestep order."""
    states = linear_recurrence(a, b, initial, reverse=layout.reverse, parallel=parallel)
    previous = np.empty_like(states)
    if layout.reverse:
        previous[:-1] = states[1:]
        previous[-1] = initial
    else:
        previous[1:] = states[:-1]
        previous[0] = initial
    return states, previous


def backward_states(a: np.ndarray, direct: np.ndarray, d_last: np.ndarray | None, layout: TimeLayout,
                    cut: np.ndarray, parallel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BPTT through state_t = a_t ⊙ state_(t-1) + b_t (real a; complex a: pass conj(a)).

    ``direct`` (T, B, ...) is dL/dstate_t from everything but the next step; ``d_last`` dL/d(final
    state) or None. In processing order p, with e_p = a_p (0 where ``cut``), the total gradient is

        G_p = direct_p + e_(p+1) ⊙ G_(p+1),    G_last = direct_last + d_last

    a linear recurrence backwards in processing order, run with the same loop or scan as the forward.
    Returns (G, from_next, d_initial): from_next_p = e_(p+1) ⊙ G_(p+1) (d_last at the last processed
    step), and dL/d(initial state) = e_first ⊙ G_first, all in timestep order."""
    steps = direct.shape[0]
    multiplier = np.broadcast_to(a, direct.shape)
    keep = (~cut).astype(direct.real.dtype).reshape((steps,) + (1,) * (direct.ndim - 1))
    flip = (lambda x: x[::-1]) if layout.reverse else (lambda x: x)
    effective = flip(multiplier * keep)  # e_p, processing order
    direct_p = flip(direct)
    start = np.zeros(direct.shape[1:], dtype=direct.dtype) if d_last is None else np.asarray(d_last, dtype=direct.dtype)
    shifted = np.empty_like(effective)  # m_p = e_(p+1), 1 at the last processed step
    shifted[:-1] = effective[1:]
    shifted[-1] = 1
    total_p = linear_recurrence(shifted, direct_p, start, reverse=True, parallel=parallel)
    following = np.empty_like(total_p)  # G_(p+1), d_last after the last
    following[:-1] = total_p[1:]
    following[-1] = start
    from_next_p = shifted * following
    d_initial = effective[0] * total_p[0]
    return flip(total_p), flip(from_next_p), d_initial


def carry_output(output: np.ndarray, h0: np.ndarray, real: np.ndarray | None, layout: TimeLayout) -> tuple[np.ndarray, np.ndarray]:
    """(hidden, prev_hidden) of a cell whose h_t is read off its state (LRU, selective): h_t = output_t at
    real steps and h_(t-1) (carried) at padding, like every cell's h."""
    if real is None:
        hidden = output
    else:
        hidden = linear_recurrence(1 - real, output * real, h0, reverse=layout.reverse)
    previous = np.empty_like(hidden)
    if layout.reverse:
        previous[:-1], previous[-1] = hidden[1:], h0
    else:
        previous[1:], previous[0] = hidden[:-1], h0
    return hidden, previous


def backward_output(d_from_output: np.ndarray, d_h_last: np.ndarray | None, real: np.ndarray | None,
                    layout: TimeLayout, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The gradient at h_t of a cell whose h_t is not read by the next step: it only passes back through
    padding (where h_t = h_(t-1)). Returns (d_hidden, from_next, d_output at the real steps, dL/dh0)."""
    T, B, H = d_from_output.shape
    carried = np.zeros((T, B, 1), dtype=d_from_output.dtype) if real is None else 1 - real
    d_hidden, from_next, d_h0 = backward_states(carried, d_from_output, d_h_last, layout, cut, parallel=False)
    d_output = d_hidden if real is None else d_hidden * real
    return d_hidden, from_next, d_output, d_h0


def no_hidden_projection(like: np.ndarray) -> np.ndarray:
    """(T, B, 0): the gradient at a hidden projection the cell does not have (no W_hh)."""
    return np.zeros(like.shape[:-1] + (0,), dtype=like.dtype)


def log_sigmoid(a: np.ndarray) -> np.ndarray:
    """log σ(a) = -log(1 + exp(-a)), without overflow."""
    return -np.logaddexp(0, -a)


def softplus(a: np.ndarray) -> np.ndarray:
    """log(1 + exp(a)), without overflow."""
    return np.logaddexp(0, a)
