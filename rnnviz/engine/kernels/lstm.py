"""Compiled time loops of the LSTM (PyTorch nn.LSTM, gate order i, f, g, o).

Only the recurrence is here: the caller computes the input projection for all timesteps with one
BLAS matmul before, and the weight gradients with BLAS after (``Recurrent._accumulate``). A step's
gates are kept block-major, [i, f, o, g, c] blocks of (B, H) each, so that the sigmoids and tanh of
all samples are one pass and every cell-state update is one flat loop (measured 1.3x over a
sample-by-sample layout at B = 16-32).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from rnnviz.engine.kernels.arguments import contiguous, mask_rows, padding_rows
from rnnviz.engine.kernels.common import (
    JIT,
    activate_inplace,
    add_rows_matrix,
    add_rows_matrix_t,
    matrix_vector,
    tanh_inplace,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace

GATE_NAMES = ("i", "f", "g", "o")  # PyTorch's order, the trace's ``gates``

BLOCKS = ("i", "f", "o", "g", "c")  # the blocks of a step in ``work``: sigmoids, tanh, cell state


@njit(**JIT)
def lstm_forward(x_proj, bias, W_h, h0, c0, padded, reverse):
    """Per timestep t (in processing order), for all samples at once:

        a_t = x_proj_t + bias + W_hh h_(t-1)   (x_proj = W_ih x_t, bias = b_ih + b_hh)
        i, f, o = σ(a_i, a_f, a_o),  g = tanh(a_g)
        c_t = f ⊙ c_(t-1) + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    where ``padded[t, b]`` (when ``padded`` has rows) the state is carried: h_t = h_(t-1),
    c_t = c_(t-1).

    x_proj (T, B, 4H), bias (4H,) and W_h (H, 4H) = W_hh^T in PyTorch's gate order i, f, g, o ·
    h0, c0 (B, H) · padded (T, B) bool or (0, 0). Returns preact (T, B, 4H) = a; work
    (T + 1, 5, B, H): slot s holds the blocks i, f, o, g of the step that reads slot s, then the
    cell state of slot s; states (T + 1, B, H) the hidden states; tanh_cell (T, B, H). Slots as
    in TimeLayout.
    """
    T, B, H4 = x_proj.shape
    H = H4 // 4
    H2, H3, BH = 2 * H, 3 * H, B * H
    dtype = x_proj.dtype
    preact = np.empty((T, B, H4), dtype)
    work = np.empty((T + 1, 5, B, H), dtype)
    states = np.empty((T + 1, B, H), dtype)
    tanh_cell = np.empty((T, B, H), dtype)
    spare = np.empty(4 * BH, dtype)  # scratch of the activations
    initial = T if reverse else 0
    states[initial] = h0
    work[initial, 4] = c0
    masked = padded.shape[0] > 0
    for step in range(T):
        t = T - 1 - step if reverse else step
        read, write = (t + 1, t) if reverse else (t, t + 1)  # state slots
        for b in range(B):
            a, x = preact[t, b], x_proj[t, b]
            for r in range(H4):
                a[r] = x[r] + bias[r]
        add_rows_matrix(preact[t], states[read], W_h)  # a += W_hh h_(t-1), all samples
        blocks = work[read]
        for b in range(B):  # PyTorch's i, f, g, o into the blocks i, f, o, g
            a, i, f, o, g = preact[t, b], blocks[0, b], blocks[1, b], blocks[2, b], blocks[3, b]
            for j in range(H):
                i[j] = a[j]
                f[j] = a[H + j]
                g[j] = a[H2 + j]
                o[j] = a[H3 + j]
        activate_inplace(blocks[:4].reshape(4 * BH), spare, 3 * BH)  # σ(i, f, o), tanh(g)
        i, f = blocks[0].reshape(BH), blocks[1].reshape(BH)
        o, g = blocks[2].reshape(BH), blocks[3].reshape(BH)
        c_prev, c, tanh_c = blocks[4].reshape(BH), work[write, 4].reshape(BH), tanh_cell[t].reshape(BH)
        for k in range(BH):
            c[k] = f[k] * c_prev[k] + i[k] * g[k]  # c_t = f c_(t-1) + i g
            tanh_c[k] = c[k]
        tanh_inplace(tanh_c, spare)
        h = states[write].reshape(BH)
        for k in range(BH):
            h[k] = o[k] * tanh_c[k]  # h_t = o tanh(c_t)
        if masked:
            for b in range(B):
                if padded[t, b]:  # padding carries the state
                    states[write, b] = states[read, b]
                    work[write, 4, b] = work[read, 4, b]
    return preact, work, states, tanh_cell


@njit(**JIT)
def lstm_backward(steps, tanh_cell, W_hh, W_hh_T, d_output, d_h_last, d_c_last, cut, real,
                  reverse, dot_products):
    """BPTT, per timestep t in backward processing order and sample b, with m = real[t, b]
    (1 without a mask):

        dh_t  = d_output_t + d_next_t
        dc_t  = dh_t o (1 − tanh²c_t) m + dc_carried
        d_a_i = dc_t g i (1 − i) m      d_a_f = dc_t c_(t-1) f (1 − f) m
        d_a_g = dc_t i (1 − g²) m       d_a_o = dh_t tanh(c_t) o (1 − o) m
        d_next of the step read before  = W_hh^T d_a_t + dh_t (1 − m)
        dc_carried for it               = dc_t (f m + 1 − m)

    both zero across a truncated-BPTT cut (``cut[t]``); what is left after the last processed
    step is d_h0 and d_c0.

    steps (T, 5, B, H): timestep t's blocks i, f, o, g, c_(t-1) · tanh_cell (T, B, H) · W_hh
    (4H, H) in PyTorch's order and its transpose W_hh_T · d_output (T, B, H) · d_h_last, d_c_last
    (B, H) · cut (T,) bool · real (T, B) or (0, 0) · dot_products: W_hh^T d_a as dot products
    (see ``add_rows_matrix_t``). Returns d_hidden, d_next, d_cell (T, B, H), d_preact (T, B, 4H)
    in PyTorch's order, d_h0, d_c0 (B, H).
    """
    T, B, H = d_output.shape
    H2, H3, H4 = 2 * H, 3 * H, 4 * H
    dtype = d_output.dtype
    one = dtype.type(1)
    d_hidden = np.empty((T, B, H), dtype)
    d_next = np.empty((T, B, H), dtype)
    d_cell = np.empty((T, B, H), dtype)
    d_preact = np.empty((T, B, H4), dtype)
    dh_carried = d_h_last.copy()  # (B, H) d_next of the step processed next
    dc_carried = d_c_last.copy()
    masked = real.shape[0] > 0
    for step in range(T):
        t = step if reverse else T - 1 - step
        for b in range(B):
            m = real[t, b] if masked else one
            i, f, o, g = steps[t, 0, b], steps[t, 1, b], steps[t, 2, b], steps[t, 3, b]
            c_prev, tanh_c, d_a = steps[t, 4, b], tanh_cell[t, b], d_preact[t, b]
            dh_in, dc_in = dh_carried[b], dc_carried[b]
            dh_all, dc_all = d_hidden[t, b], d_cell[t, b]
            d_next[t, b] = dh_in
            for j in range(H):
                dh = d_output[t, b, j] + dh_in[j]
                dc = dh * o[j] * (one - tanh_c[j] * tanh_c[j]) * m + dc_in[j]
                dh_all[j] = dh
                dc_all[j] = dc
                d_a[j] = dc * g[j] * i[j] * (one - i[j]) * m
                d_a[H + j] = dc * c_prev[j] * f[j] * (one - f[j]) * m
                d_a[H2 + j] = dc * i[j] * (one - g[j] * g[j]) * m
                d_a[H3 + j] = dh * tanh_c[j] * o[j] * (one - o[j]) * m
                dc_in[j] = dc * (f[j] * m + one - m)
                dh_in[j] = dh * (one - m)  # what padding carries; the product is added below
        if cut[t]:
            dh_carried[:] = 0
            dc_carried[:] = 0
        elif B == 1:  # one long dot product per unit beats four-row passes over a short row
            matrix_vector(dh_carried[0], W_hh_T, d_preact[t, 0], True)
        elif dot_products:
            add_rows_matrix_t(dh_carried, d_preact[t], W_hh_T)  # += W_hh^T d_a, all samples
        else:
            add_rows_matrix(dh_carried, d_preact[t], W_hh)  # += W_hh^T d_a, all samples
    return d_hidden, d_next, d_cell, d_preact, dh_carried, dc_carried


# ----- the calls from LSTMCell ----------------------------------------------------------------


class _NumpyPathCache(dict):
    """A trace's ``cache``: the kernels' own arrays, and on first use the NumPy path's
    feature-major ones ("gates" (T, 5H, B) in the order i, f, o, g, c_(t-1); "tanh_cell"
    (T, H, B)), so that a compiled trace can also go through LSTMCell's NumPy backward."""

    def __missing__(self, key):
        if key == "gates":
            steps = self["steps"]  # (T, 5, B, H)
            T, _, B, H = steps.shape
            value = np.ascontiguousarray(steps.transpose(0, 1, 3, 2)).reshape(T, 5 * H, B)
        elif key == "tanh_cell":
            value = self["tanh_cell_bh"].transpose(0, 2, 1)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def forward(cell, inputs, weights, h0, c0, layout, padded) -> LayerTrace:
    """LSTMCell.forward through the compiled loop: the same LayerTrace as the NumPy path."""
    W_ih, W_hh, b_ih, b_hh = weights
    T, B, I = inputs.shape
    H = W_hh.shape[1]
    dtype = inputs.dtype
    x_proj = np.dot(inputs.reshape(T * B, I), W_ih.T)  # (T B, 4H): W_ih x_t for all t at once
    # (np.dot, not @: numpy's matmul takes ~5x longer when I = 1, measured here)
    preact, work, states, tanh_cell = lstm_forward(
        x_proj.reshape(T, B, 4 * H), contiguous(b_ih + b_hh, dtype), contiguous(W_hh.T, dtype),
        contiguous(h0, dtype), contiguous(c0, dtype), padding_rows(padded, T, B), layout.reverse)
    steps = layout.previous(work)  # (T, 5, B, H): timestep t's i, f, o, g, c_(t-1)
    cells = work[:, 4]  # (T + 1, B, H)
    return LayerTrace(
        layer=-1, direction=int(layout.reverse), mode=cell.name, inputs=inputs, preact=preact,
        gates={name: steps[:, BLOCKS.index(name)] for name in GATE_NAMES},
        hidden=layout.states(states), prev_hidden=layout.previous(states),
        h0=states[layout.initial_slot].copy(),
        cell_state=layout.states(cells), prev_cell_state=layout.previous(cells),
        c0=cells[layout.initial_slot].copy(),
        cache=_NumpyPathCache(steps=steps, tanh_cell_bh=tanh_cell),
    )


def backward(cell, trace, W_hh, d_from_output, d_h_last, d_c_last, cut):
    """LSTMCell.backward through the compiled loop: the same LayerGradTrace, d_h0 and d_c0."""
    T, B, H = trace.hidden.shape
    dtype = trace.hidden.dtype
    if "steps" in trace.cache:  # a compiled trace
        steps, tanh_cell = trace.cache["steps"], trace.cache["tanh_cell_bh"]
    else:  # from the NumPy path (the kernels became ready in between)
        steps = np.stack([trace.gates[name] for name in BLOCKS[:4]] + [trace.prev_cell_state], 1)
        tanh_cell = trace.cache["tanh_cell"].transpose(0, 2, 1)
    zeros = np.zeros((B, H), dtype=dtype)
    d_hidden, d_next, d_cell, d_preact, d_h0, d_c0 = lstm_backward(
        contiguous(steps, dtype), contiguous(tanh_cell, dtype), contiguous(W_hh, dtype),
        contiguous(W_hh.T, dtype), contiguous(d_from_output, dtype),
        zeros if d_h_last is None else contiguous(d_h_last, dtype),
        zeros if d_c_last is None else contiguous(d_c_last, dtype),
        contiguous(cut, np.bool_), mask_rows(trace.mask, dtype), trace.reverse,
        H < 64 and dtype == np.float32)
    grads = LayerGradTrace(
        layer=trace.layer, direction=trace.direction, d_hidden=d_hidden,
        d_hidden_from_output=d_from_output, d_hidden_from_next=d_next, d_preact=d_preact,
        d_hidden_preact=d_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden,
        d_cell_state=d_cell,
    )
    return grads, d_h0, d_c0


def faster_than_numpy(batch: int, hidden: int, dtype) -> bool:
    """Where the compiled loop beats the NumPy path (measured here, forward + BPTT, T = 100):
    below batch · hidden = 8192 (B = 1, H = 16: ~7-8x; B = 32, H = 128: 1.1-1.25x; B = 64,
    H = 64: 1.2x); at B = 32, H = 256 BLAS catches up (0.94-1.0x)."""
    return batch * hidden < 8192
