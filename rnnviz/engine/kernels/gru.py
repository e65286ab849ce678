"""Compiled time loops of the GRU (PyTorch nn.GRU, gate order r, z, n).

Only the recurrence is here: the caller computes the input projection for all timesteps with one
BLAS matmul before, and the weight gradients with BLAS after (``Recurrent._accumulate``). The
gates are kept gate-major, (3, T, B, H), so that each named gate of the trace is one contiguous
array that the backward kernel reads without a copy.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from rnnviz.engine.kernels.common import (
    JIT,
    add_rows_matrix,
    matrix_vector,
    padded_size,
    sigmoid_inplace,
    tanh_inplace,
)
from rnnviz.engine.kernels.arguments import contiguous, mask_rows, padding_rows
from rnnviz.engine.trace import LayerGradTrace, LayerTrace

GATE_NAMES = ("r", "z", "n")  # PyTorch's order, the trace's ``gates``


@njit(**JIT)
def gru_forward(x_proj, b_ih, W_h, b_hh, h0, padded, reverse):
    """Per timestep t (in processing order) and sample b:

        hn_t = W_hh h_(t-1) + b_hh                (x_proj = W_ih x_t)
        r, z = σ(x_proj_{r,z} + b_i{r,z} + hn_{r,z})
        n    = tanh(x_proj_n + b_in + r ⊙ hn_n)
        h_t  = (1 − z) ⊙ n + z ⊙ h_(t-1)

    where ``padded[t, b]`` (when ``padded`` has rows) the state is carried: h_t = h_(t-1).

    x_proj (T, B, 3H) · b_ih (3H,) · W_h (H, 3H) = W_hh^T · b_hh (3H,) · h0 (B, H) · padded (T, B)
    bool or (0, 0). Returns preact (T, B, 3H) (n's is the argument of its tanh), gates (3, T, B, H) r, z, n,
    states (T + 1, B, H) (slots as in TimeLayout) and hidden_n (T, B, H) = W_hn h_(t-1) + b_hn.
    """
    T, B, H3 = x_proj.shape
    H = H3 // 3
    H2 = 2 * H
    dtype = x_proj.dtype
    preact = np.empty((T, B, H3), dtype)
    gates = np.empty((3, T, B, H), dtype)
    states = np.empty((T + 1, B, H), dtype)
    hidden_n = np.empty((T, B, H), dtype)
    projected = np.empty((B, H3), dtype)  # W_hh h_(t-1) + b_hh of every sample
    rz_args = np.zeros(padded_size(B * H2), dtype)  # σ arguments [a_r, a_z] per sample
    n_args = np.zeros(padded_size(B * H), dtype)  # a_n per sample
    spare = np.empty(rz_args.shape[0] + n_args.shape[0], dtype)
    states[T if reverse else 0] = h0
    masked = padded.shape[0] > 0
    for step in range(T):
        t = T - 1 - step if reverse else step
        read, write = (t + 1, t) if reverse else (t, t + 1)  # state slots
        for b in range(B):
            projected[b] = b_hh
        add_rows_matrix(projected, states[read], W_h)  # hn = W_hh h_(t-1) + b_hh, all samples
        for b in range(B):
            hp, a, x = projected[b], preact[t, b], x_proj[t, b]
            z_args = rz_args[b * H2:(b + 1) * H2]
            for k in range(H2):
                a[k] = (x[k] + b_ih[k]) + hp[k]
                z_args[k] = a[k]
        sigmoid_inplace(rz_args, spare)
        for b in range(B):
            hp, a, x = projected[b], preact[t, b], x_proj[t, b]
            rz, args = rz_args[b * H2:(b + 1) * H2], n_args[b * H:(b + 1) * H]
            for j in range(H):
                gates[0, t, b, j] = rz[j]
                gates[1, t, b, j] = rz[H + j]
                hidden_n[t, b, j] = hp[H2 + j]
                a[H2 + j] = (x[H2 + j] + b_ih[H2 + j]) + rz[j] * hp[H2 + j]
                args[j] = a[H2 + j]
        tanh_inplace(n_args, spare)
        for b in range(B):
            args, h_prev, h = n_args[b * H:(b + 1) * H], states[read, b], states[write, b]
            n, z = gates[2, t, b], gates[1, t, b]
            for j in range(H):
                n[j] = args[j]
                h[j] = n[j] + z[j] * (h_prev[j] - n[j])  # (1 − z) n + z h_(t-1)
            if masked and padded[t, b]:  # padding carries the state
                h[:] = h_prev
    return preact, gates, states, hidden_n


@njit(**JIT)
def gru_backward(gates, hidden_n, prev_hidden, W_hh, W_hh_T, d_output, d_h_last, cut, real,
                 reverse):
    """BPTT, per timestep t in backward processing order and sample b, with m = real[t, b]
    (1 without a mask):

        dh_t   = d_output_t + d_next_t
        d_a_n  = dh_t (1 − z)(1 − n²) m       d_hn = d_a_n r
        d_a_z  = dh_t (h_(t-1) − n) z (1 − z) m
        d_a_r  = d_a_n hn r (1 − r)
        d_next of the step read before = W_hh^T [d_a_r, d_a_z, d_hn] + dh_t (z m + 1 − m),
                                         zero across a cut

    gates (3, T, B, H) r, z, n · hidden_n, prev_hidden, d_output (T, B, H) · W_hh (3H, H) and
    its transpose W_hh_T ·
    d_h_last (B, H) · cut (T,) bool · real (T, B) or (0, 0). Returns d_hidden, d_next (T, B, H),
    d_preact [d_a_r, d_a_z, d_a_n] and d_hidden_preact [d_a_r, d_a_z, d_hn] (T, B, 3H), d_h0 (B, H).
    """
    T, B, H = d_output.shape
    H2 = 2 * H
    dtype = d_output.dtype
    one = dtype.type(1)
    d_hidden = np.empty((T, B, H), dtype)
    d_next = np.empty((T, B, H), dtype)
    d_preact = np.empty((T, B, 3 * H), dtype)
    d_hidden_preact = np.empty((T, B, 3 * H), dtype)
    carried = d_h_last.copy()  # (B, H) d_next of the step processed next
    masked = real.shape[0] > 0
    for step in range(T):
        t = step if reverse else T - 1 - step
        for b in range(B):
            m = real[t, b] if masked else one
            r, z, n = gates[0, t, b], gates[1, t, b], gates[2, t, b]
            hn, h_prev = hidden_n[t, b], prev_hidden[t, b]
            d_a, d_hp, dh = d_preact[t, b], d_hidden_preact[t, b], d_hidden[t, b]
            d_in = carried[b]
            d_next[t, b] = d_in
            for j in range(H):
                dh[j] = d_output[t, b, j] + d_in[j]
                d_a_n = dh[j] * (one - z[j]) * (one - n[j] * n[j]) * m
                d_a_z = dh[j] * (h_prev[j] - n[j]) * z[j] * (one - z[j]) * m
                d_a_r = d_a_n * hn[j] * r[j] * (one - r[j])
                d_a[j] = d_a_r
                d_a[H + j] = d_a_z
                d_a[H2 + j] = d_a_n
                d_hp[j] = d_a_r
                d_hp[H + j] = d_a_z
                d_hp[H2 + j] = d_a_n * r[j]
                d_in[j] = dh[j] * (z[j] * m + one - m)  # through z; the product is added below
        if cut[t]:
            carried[:] = 0
        elif B == 1:  # one long dot product per unit beats three-row passes over a short row
            matrix_vector(carried[0], W_hh_T, d_hidden_preact[t, 0], True)
        else:
            add_rows_matrix(carried, d_hidden_preact[t], W_hh)  # += W_hh^T d_hp, all samples
    return d_hidden, d_next, d_preact, d_hidden_preact, carried


# ----- the calls from GRUCell -----------------------------------------------------------------


def forward(cell, inputs, weights, h0, c0, layout, padded) -> LayerTrace:
    """GRUCell.forward through the compiled loop: the same LayerTrace as the NumPy path."""
    W_ih, W_hh, b_ih, b_hh = weights
    T, B, I = inputs.shape
    H = W_hh.shape[1]
    dtype = inputs.dtype
    x_proj = np.dot(inputs.reshape(T * B, I), W_ih.T)  # W_ih x_t for all t at once
    # (np.dot, not @: numpy's matmul takes ~5x longer when I = 1, measured here)
    preact, gates, states, hidden_n = gru_forward(
        x_proj.reshape(T, B, 3 * H), contiguous(b_ih, dtype), contiguous(W_hh.T, dtype),
        contiguous(b_hh, dtype),
        contiguous(h0, dtype), padding_rows(padded, T, B), layout.reverse)
    return LayerTrace(
        layer=-1, direction=int(layout.reverse), mode=cell.name, inputs=inputs, preact=preact,
        gates={name: gates[k] for k, name in enumerate(GATE_NAMES)},
        hidden=layout.states(states), prev_hidden=layout.previous(states),
        h0=states[layout.initial_slot].copy(),
        cache={"hidden_n": hidden_n, "gates_rzn": gates},
    )


def backward(cell, trace, W_hh, d_from_output, d_h_last, d_c_last, cut):
    """GRUCell.backward through the compiled loop: the same LayerGradTrace and d_h0."""
    T, B, H = trace.hidden.shape
    dtype = trace.hidden.dtype
    gates = _gate_major(trace, GATE_NAMES, dtype)
    d_hidden, d_next, d_preact, d_hidden_preact, d_h0 = gru_backward(
        gates, contiguous(trace.cache["hidden_n"], dtype), contiguous(trace.prev_hidden, dtype),
        contiguous(W_hh, dtype), contiguous(W_hh.T, dtype), contiguous(d_from_output, dtype),
        np.zeros((B, H), dtype) if d_h_last is None else contiguous(d_h_last, dtype),
        contiguous(cut, np.bool_), mask_rows(trace.mask, dtype), trace.reverse)
    grads = LayerGradTrace(
        layer=trace.layer, direction=trace.direction, d_hidden=d_hidden,
        d_hidden_from_output=d_from_output, d_hidden_from_next=d_next, d_preact=d_preact,
        d_hidden_preact=d_hidden_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden,
    )
    return grads, d_h0, None


def _gate_major(trace, names, dtype) -> np.ndarray:
    """(3, T, B, H) r, z, n: the kernel's own buffer when the trace came from it, else a copy."""
    if "gates_rzn" in trace.cache:
        return contiguous(trace.cache["gates_rzn"], dtype)
    return contiguous(np.stack([trace.gates[name] for name in names]), dtype)


def faster_than_numpy(batch: int, hidden: int, dtype) -> bool:
    """Where the compiled loop beats the NumPy path (measured here, forward + BPTT, T = 100):
    everywhere measured, up to batch · hidden = 16384 (B = 64, H = 256: 1.2-1.5x; B = 1, H = 16:
    ~10x); beyond that, unmeasured, the NumPy path's BLAS products keep the work."""
    return batch * hidden <= 16384
