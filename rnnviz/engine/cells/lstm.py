"""LSTM cell (PyTorch nn.LSTM), gate order i, f, g, o.

Speed notes (measured here; at these sizes time is numpy call overhead, ~0.5-1 µs a call):
- the time loops work feature-major, (features, B) per step, so that every gate block a ufunc
  touches is contiguous (a strided (B, 3H) block costs 2-3x a contiguous one); the traces are
  batch-major (T, B, ...) *views* of the feature-major buffers (strided writes cost ~10x
  contiguous ones), only d_preact is copied batch-major, for the weight-gradient matmuls;
- the backward reads time-ordered arrays in processing order through reversed views (no
  gathers), and the buffers a call drops are reused (``Scratch``): fresh multi-MB arrays cost
  their page faults on every call, which was about half of float64 B = 16 forward + BPTT;
- every per-step view is built before the loop (``list(array)`` makes T views in one C loop,
  slicing inside the loop costs ~0.3 µs a view);
- the forward step is one matmul and nine ufunc calls (eleven through exp), the backward step
  one matmul and five ([dh, dc_in] ⊙ [from_hidden, forget] is one call);
  everything that does not depend on the recurrence is computed for all timesteps at once.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.base import (
    CellSpec,
    GateSpec,
    StateUpdate,
    StepGrads,
    StepState,
    Weights,
    sigmoid,
    split_blocks,
    stacked_gate_layout,
)
from rnnviz.engine.cells.rnn import _start
from rnnviz.engine.kernels import CompiledKernel
from rnnviz.engine.scratch import work_buffers
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "lstm"
GATES = (  # PyTorch's order i, f, g, o
    GateSpec("i", "input gate", "σ", "gate", "i_t = σ(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)"),
    GateSpec("f", "forget gate", "σ", "gate", "f_t = σ(W_if x_t + b_if + W_hf h_(t-1) + b_hf)"),
    GateSpec("g", "candidate", "tanh", "candidate", "g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)"),
    GateSpec("o", "output gate", "σ", "gate", "o_t = σ(W_io x_t + b_io + W_ho h_(t-1) + b_ho)"),
)
GATE_NAMES = tuple(gate.name for gate in GATES)
UPDATES = (
    StateUpdate("c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t", "{f} · {c_prev} + {i} · {g}", "c"),
    StateUpdate("h_t = o_t ⊙ tanh(c_t)", "{o} · tanh({c})", "h"),
)

# Inside the forward loop the gates are kept in the order i, f, o, g so that the three sigmoids
# are one contiguous block; the named gate views of the trace pick the blocks back out.
_LOOP_ORDER = (0, 1, 3, 2)
_LOOP_BLOCK = {"i": 0, "f": 1, "o": 2, "g": 3}  # gate -> block of the loop order




def use_exp_activations(batch: int, hidden: int, dtype) -> bool:
    """float64 np.tanh is 2-3x slower per element than np.exp (measured here); from ~128 units
    per step on, sigmoid/tanh through one exp call plus cheap calls wins. In float32 it does not."""
    return np.dtype(dtype) == np.float64 and batch * hidden >= 128


def lstm_uses_exp(batch: int, hidden: int, dtype) -> bool:
    """Whether the LSTM forward step computes its four gates through np.exp (five calls) rather
    than np.tanh (three calls). Measured here per element: float64 tanh ~15 ns, exp ~6 ns;
    float32 tanh ~5 ns, exp ~3 ns; the two extra calls cost ~1.5 µs, so exp wins from
    4·B·H ≈ 512 gate values per step in float64 and ≈ 2048 in float32."""
    size = batch * hidden
    return size >= 128 if np.dtype(dtype) == np.float64 else size >= 512


def activation_scale(size: int, sigmoid_size: int, use_exp: bool, dtype) -> np.ndarray:
    """(size,) factor applied to the pre-activation rows so one transcendental call serves all
    gates: the first ``sigmoid_size`` rows are sigmoids, the rest tanh.
    exp path: σ(a) = 1/(1 + exp(-a)) -> -1; tanh(a) = 2σ(2a) - 1 -> -2.
    tanh path: σ(a) = (1 + tanh(a/2))/2 -> 1/2; tanh -> 1."""
    scale = np.empty(size, dtype=dtype)
    scale[:sigmoid_size] = -1.0 if use_exp else 0.5
    scale[sigmoid_size:] = -2.0 if use_exp else 1.0
    return scale


def _processing_order(views: list, layout: TimeLayout) -> tuple[list, list]:
    """Split per-slot views of a (T + 1, ...) state buffer into (read, written) lists in
    processing order: step k of the loop reads ``read[k]`` and writes ``written[k]``."""
    T = layout.seq_len
    if layout.reverse:
        return views[T:0:-1], views[T - 1::-1]
    return views[:T], views[1:]


def _in_steps(views: list, layout: TimeLayout) -> list:
    """Per-timestep views (index t) in processing order."""
    return views[::-1] if layout.reverse else views


class LSTMCell:
    """One direction of one layer of an LSTM over a whole padded batch; the equations are ``UPDATES``
    and the gate equations of ``GATES``."""

    name = NAME

    # ----- forward ----------------------------------------------------------------------------

    def forward(
        self,
        inputs: np.ndarray,  # (T, B, I)
        weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        h0: np.ndarray,  # (B, H)
        c0: np.ndarray,  # (B, H)
        layout: TimeLayout,
        padded: np.ndarray | None,  # (T, B, 1) bool
    ) -> LayerTrace:
        """The equations of the module's ``GATES`` and ``UPDATES``. The loop keeps each step's gates in the order i, f, o, g, followed
        by c_(t-1), in one block of ``work`` (T + 1, 5H, B), so that [i, f] ⊙ [g, c_(t-1)] is one
        call and the sigmoids are one block; the activations take one transcendental call for
        all four gates (see ``activation_scale``)."""
        W_ih, W_hh, b_ih, b_hh = weights
        T, B, I = inputs.shape
        H = W_hh.shape[1]
        dtype = inputs.dtype
        use_exp = lstm_uses_exp(B, H, dtype)
        scale = activation_scale(4 * H, 3 * H, use_exp, dtype)
        rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in _LOOP_ORDER])
        W_h = np.ascontiguousarray(W_hh[rows] * scale[:, None])  # (4H, H) loop order, scaled
        preact = _input_projection(inputs, W_ih[rows] * scale[:, None], (b_ih + b_hh)[rows] * scale,
                                   work_buffers.get("lstm_preact", (T, 4 * H, B), dtype))
        work = np.empty((T + 1, 5 * H, B), dtype=dtype)  # blocks [i, f, o, g, c_prev]
        work[layout.initial_slot, 4 * H:] = c0.T
        states = np.empty((T + 1, H, B), dtype=dtype)  # h feature-major, see TimeLayout
        states[layout.initial_slot] = h0.T
        tanh_cell = np.empty((T, H, B), dtype=dtype)
        with np.errstate(over="ignore"):  # exp(-a) = inf gives σ = 0, as it should
            self._forward_loop(preact, work, states, tanh_cell, W_h, layout, padded, use_exp)
        return self._forward_trace(inputs, preact, scale, work, states, tanh_cell, layout)

    def _forward_loop(self, preact, work, states, tanh_cell, W_h, layout, padded, use_exp):
        """a_t = preact_t + W_h h_(t-1)  (scaled rows, loop order)
        [i, f, o] = σ, g = tanh (one tanh or exp call, see ``activation_scale``)
        c_t = [i, f] ⊙ [g, c_(t-1)] summed;  h_t = o ⊙ tanh(c_t)."""
        H, B = states.shape[1:]
        dtype = states.dtype
        H2, H3, H4 = 2 * H, 3 * H, 4 * H
        one, two, half = (np.array(v, dtype=dtype) for v in (1, 2, 0.5))  # 0-d: fastest operands
        recurrent = np.empty((H4, B), dtype=dtype)  # W_h h_(t-1)
        products = np.empty((H2, B), dtype=dtype)  # [i g, f c_(t-1)]
        i_g, f_c = products[:H], products[H:]

        def read(block: np.ndarray) -> list:  # the views of ``work`` that each step reads
            return _processing_order(list(block), layout)[0]

        read_c, write_c = _processing_order(list(work[:, H4:]), layout)
        read_h, write_h = _processing_order(list(states), layout)
        pads = [None] * len(read_h)
        if padded is not None:
            pads = _in_steps(list(padded.transpose(0, 2, 1)), layout)  # (1, B) each
        steps = zip(read_h, write_h, _in_steps(list(preact), layout), read(work[:, :H4]),
                    read(work[:, :H3]), read(work[:, H3:H4]), read(work[:, :H2]),
                    read(work[:, H3:]), read_c, write_c, _in_steps(list(tanh_cell), layout),
                    read(work[:, H2:H3]), pads)
        for h_prev, h, a, gates, sig, g, i_f, g_c, c_prev, c, tanh_c, o, pad in steps:
            np.dot(W_h, h_prev, out=recurrent)
            np.add(a, recurrent, out=a)
            if use_exp:  # σ(a) = 1 / (1 + exp(-a)); g = 2 σ(2 a_g) - 1
                np.exp(a, out=gates)
                np.add(gates, one, out=gates)
                np.reciprocal(gates, out=gates)
                np.multiply(g, two, out=g)
                np.subtract(g, one, out=g)
            else:  # σ(a) = (1 + tanh(a / 2)) / 2
                np.tanh(a, out=gates)
                np.multiply(sig, half, out=sig)
                np.add(sig, half, out=sig)
            np.multiply(i_f, g_c, out=products)
            np.add(i_g, f_c, out=c)
            np.tanh(c, out=tanh_c)
            np.multiply(o, tanh_c, out=h)
            if pad is not None:  # padding carries the state
                np.copyto(c, c_prev, where=pad)
                np.copyto(h, h_prev, where=pad)

    def _forward_trace(self, inputs, preact, scale, work, states, tanh_cell, layout) -> LayerTrace:
        """The trace in PyTorch's terms, batch-major (T, B, ...) views of the loop's feature-major
        buffers (fresh per call, so a later call cannot change them): pre-activations unscaled
        (multiplying by 1/scale, a power of two, is exact) in gate order i, f, g, o; named
        (T, B, H) gate views; hidden and cell states."""
        T, H4, B = preact.shape
        H = H4 // 4
        H2, H3 = 2 * H, 3 * H
        unscale = (1 / scale)[:, None]  # (4H, 1)
        preact_torch = np.empty((T, H4, B), dtype=preact.dtype)  # i, f, g, o; contiguous writes
        np.multiply(preact[:, :H2], unscale[:H2], out=preact_torch[:, :H2])
        np.multiply(preact[:, H3:], unscale[H3:], out=preact_torch[:, H2:H3])
        np.multiply(preact[:, H2:H3], unscale[H2:H3], out=preact_torch[:, H3:])
        steps = layout.previous(work)  # (T, 5H, B): block t holds the gates of step t
        gates = {name: steps[:, k * H:(k + 1) * H].transpose(0, 2, 1)
                 for name, k in _LOOP_BLOCK.items()}
        hidden = states.transpose(0, 2, 1)  # (T + 1, B, H) view
        cells = work[:, H4:].transpose(0, 2, 1)  # (T + 1, B, H) view
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=self.name, inputs=inputs,
            preact=preact_torch.transpose(0, 2, 1), gates={name: gates[name] for name in GATE_NAMES},
            hidden=layout.states(hidden), prev_hidden=layout.previous(hidden),
            h0=hidden[layout.initial_slot].copy(),
            cell_state=layout.states(cells), prev_cell_state=layout.previous(cells),
            c0=cells[layout.initial_slot].copy(),
            cache={"gates": steps, "tanh_cell": tanh_cell},  # feature-major, loop order
        )

    # ----- backward ---------------------------------------------------------------------------

    def backward(
        self,
        trace: LayerTrace,
        W_hh: np.ndarray,  # (4H, H)
        d_from_output: np.ndarray,  # (T, B, H)
        d_h_last: np.ndarray | None,
        d_c_last: np.ndarray | None,
        cut: np.ndarray,  # (T,) bool
    ) -> tuple[LayerGradTrace, np.ndarray, np.ndarray]:
        """dc_t = dh_t * o_t (1 - tanh²c_t) + dc_(t+1) * f_(t+1)
        d_a_i = dc_t g_t i_t(1-i_t), d_a_f = dc_t c_(t-1) f_t(1-f_t), d_a_g = dc_t i_t (1-g_t²),
        d_a_o = dh_t tanh(c_t) o_t(1-o_t);  dh_(t-1) = d_a_t @ W_hh  (padding carries dh, dc).

        Arrays indexed by processing step q are time-ordered arrays read through
        ``_processed`` (a reversed view for the forward direction), so nothing is gathered."""
        T, B, H = trace.hidden.shape
        dtype = trace.hidden.dtype
        reverse = trace.reverse
        # pairs[q] = [dh, dc carried in] of the q-th processed step, (2, H, B); its dc goes to
        # pairs[q + 1, 1]. multipliers[q] = [from_hidden, forget of the step processed before].
        pairs = np.empty((T + 1, 2, H, B), dtype=dtype)
        _start(pairs[0, 1], None if d_c_last is None else d_c_last.T)
        np.copyto(pairs[:T, 0], _processed(d_from_output, reverse).transpose(0, 2, 1))
        multipliers = work_buffers.get("lstm_multipliers", (T, 2, H, B), dtype)
        local, forget, keep = self._local_derivatives(trace, multipliers)
        cut_processed = _processed(cut, reverse)
        if cut_processed[:-1].any():
            multipliers[1:, 1][cut_processed[:-1]] = 0  # a cut stops dc as well as dh
        d_next = np.empty((T, H, B), dtype=dtype)
        d_h0 = np.empty((H, B), dtype=dtype)
        _start(d_next[T - 1 if not reverse else 0], None if d_h_last is None else d_h_last.T)
        d_preact = work_buffers.get("lstm_d_preact", (T, 4 * H, B), dtype)  # i, f, g, o
        self._backward_loop(pairs, multipliers, local, d_next, d_h0, d_preact,
                            np.ascontiguousarray(W_hh.T), TimeLayout(T, reverse), cut, keep)
        d_c0 = pairs[T, 1] * forget[0 if not reverse else T - 1]  # (H, B)
        d_preact = np.ascontiguousarray(d_preact.transpose(0, 2, 1))  # (T, B, 4H)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction,
            d_hidden=_processed(pairs[:T, 0], reverse).transpose(0, 2, 1),
            d_hidden_from_output=d_from_output,
            d_hidden_from_next=d_next.transpose(0, 2, 1), d_preact=d_preact,
            d_hidden_preact=d_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden,
            d_cell_state=_processed(pairs[1:, 1], reverse).transpose(0, 2, 1),
        )
        return grads, d_h0.T.copy(), d_c0.T.copy()

    def _local_derivatives(self, trace: LayerTrace, multipliers: np.ndarray):
        """All timesteps at once, feature-major, without temporaries:
        local (T, 4, H, B) time order, d_a_{i,f,g} = dc * local[:, :3], d_a_o = dh * local[:, 3];
        into ``multipliers`` (T, 2, H, B) in processing order: [:, 0] from_hidden = o (1 - tanh²c)
        so that dc_t += dh_t from_hidden, [1:, 1] forget of the previously processed step (what
        dc passes on; [0, 1] = 1). Returns local, forget (time order, for d_c0), keep (padding:
        dh passes, or None)."""
        steps, tanh_cell = trace.cache["gates"], trace.cache["tanh_cell"]  # feature-major
        T, H, B = tanh_cell.shape
        reverse = trace.reverse
        i, f, o, g, c_prev = (steps[:, k * H:(k + 1) * H] for k in range(5))  # (T, H, B)
        local = work_buffers.get("lstm_local", (T, 4, H, B), tanh_cell.dtype)
        for out, gate, factor in ((local[:, 0], i, g), (local[:, 1], f, c_prev),
                                  (local[:, 3], o, tanh_cell)):
            np.subtract(1, gate, out=out)  # σ' = σ (1 - σ), times the factor
            np.multiply(out, gate, out=out)
            np.multiply(out, factor, out=out)
        np.multiply(g, g, out=local[:, 2])  # i (1 - g²)
        np.subtract(1, local[:, 2], out=local[:, 2])
        np.multiply(local[:, 2], i, out=local[:, 2])
        from_hidden = multipliers[:, 0]  # processing order
        tanh_processed = _processed(tanh_cell, reverse)
        np.multiply(tanh_processed, tanh_processed, out=from_hidden)
        np.subtract(1, from_hidden, out=from_hidden)
        np.multiply(from_hidden, _processed(o, reverse), out=from_hidden)
        multipliers[0, 1] = 1
        forget, keep = f, None
        if trace.mask is not None:
            real = trace.mask[:, None, :]  # (T, 1, B)
            keep = 1 - real
            from_hidden *= _processed(real, reverse)
            local *= real[:, None]
            forget = f * real + keep
        np.copyto(multipliers[1:, 1], _processed(forget, reverse)[:-1])
        return local, forget, keep

    def _backward_loop(self, pairs, multipliers, local, d_next, d_h0, d_preact,
                       W_hh_T, layout, cut, keep):
        """Per processed step q (timestep t):  dh = d_output_t (already in pairs[q, 0]) + d_next_t;
        [dh m, dc_in f'] = pairs[q] ⊙ multipliers[q], summed: dc;  d_a_{i,f,g} = dc local_{i,f,g};
        d_a_o = dh local_o;  d_next of the next processed step (or d_h0) = W_hh^T d_a_t."""
        T, H, B = d_next.shape
        scratch = np.empty((2, H, B), dtype=d_next.dtype)
        dh_m, dc_f = scratch[0], scratch[1]
        d_blocks = d_preact.reshape(T, 4, H, B)

        def by_time(array: np.ndarray) -> list:  # per-timestep views in processing order
            return _in_steps(list(array), layout)[::-1]

        dc_list = list(pairs[1:, 1])
        steps = zip(list(pairs[:, 0]), list(pairs), list(multipliers), dc_list,
                    [dc[None] for dc in dc_list], by_time(d_next),
                    by_time(d_blocks[:, :3]), by_time(d_blocks[:, 3]), by_time(local[:, :3]),
                    by_time(local[:, 3]), by_time(d_preact), by_time(d_next)[1:] + [d_h0],
                    _in_steps(cut.tolist(), layout)[::-1], [None] * T if keep is None else by_time(keep))
        for (dh, pair, multiplier, dc, dc_3, d_in, d_ifg, d_o, local_ifg, local_o,
             d_a, target, is_cut, keep_t) in steps:
            np.add(dh, d_in, out=dh)
            np.multiply(pair, multiplier, out=scratch)
            np.add(dh_m, dc_f, out=dc)
            np.multiply(dc_3, local_ifg, out=d_ifg)
            np.multiply(dh, local_o, out=d_o)
            if is_cut:
                target.fill(0)
                continue
            np.dot(W_hh_T, d_a, out=target)
            if keep_t is not None:
                np.multiply(dh, keep_t, out=dh_m)
                np.add(target, dh_m, out=target)


def _input_projection(inputs: np.ndarray, W_x: np.ndarray, bias: np.ndarray,
                      out: np.ndarray) -> np.ndarray:
    """(T, 4H, B) W_x x_t + bias for all timesteps, feature-major, into ``out``: one stacked
    matmul W_x (4H, I) @ x_t^T (I, B), no transposing copy of the result.
    (Folding the bias into a stacked matmul against [x_t; 1] was a little faster at B = 16 but
    rounds differently in float32, which moved a borderline gradient-check test.)"""
    np.matmul(W_x, inputs.transpose(0, 2, 1), out=out)  # (T, 4H, B)
    out += bias[:, None]
    return out


def _processed(array: np.ndarray, reverse: bool) -> np.ndarray:
    """A time-ordered (T, ...) array as a view in backward processing order (t = T-1 .. 0 for
    the forward direction, 0 .. T-1 for the reverse one)."""
    return array if reverse else array[::-1]


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> StepState:
    """i_t = σ(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)
    f_t = σ(W_if x_t + b_if + W_hf h_(t-1) + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)
    o_t = σ(W_io x_t + b_io + W_ho h_(t-1) + b_ho)
    c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)"""
    W_ih, W_hh, b_ih, b_hh = weights
    preact = split_blocks(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh, GATE_NAMES)  # 4 x (B, H)
    i, f, o = sigmoid(preact["i"]), sigmoid(preact["f"]), sigmoid(preact["o"])
    g = np.tanh(preact["g"])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return StepState(NAME, x_t, h_prev, c_prev, preact, {"i": i, "f": f, "g": g, "o": o}, h, c=c)


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: np.ndarray | None = None) -> StepGrads:
    """With d_c what flows back into c_t from the next step (zero when None):
    dL/dc_t = d_c + dL/dh_t ⊙ o_t ⊙ tanh'(c_t),    tanh'(c) = 1 - tanh²(c)
    dL/da_i = dL/dc_t ⊙ g_t ⊙ σ'(i),                 σ'(i) = i (1 - i)
    dL/da_f = dL/dc_t ⊙ c_(t-1) ⊙ σ'(f)
    dL/da_g = dL/dc_t ⊙ i_t ⊙ tanh'(g),              tanh'(g) = 1 - g²
    dL/da_o = dL/dh_t ⊙ tanh(c_t) ⊙ σ'(o)
    dL/dc_(t-1) = dL/dc_t ⊙ f_t;   dL/dh_(t-1) = dL/da W_hh;   dL/dx_t = dL/da W_ih"""
    W_ih, W_hh, _, _ = weights
    if d_c is None:
        d_c = np.zeros_like(d_h)
    i, f, g, o = (state.gates[n] for n in GATE_NAMES)
    tanh_c = np.tanh(state.c)
    local = {
        "σ'(i)": i * (1 - i), "σ'(f)": f * (1 - f), "tanh'(g)": 1 - g * g, "σ'(o)": o * (1 - o),
        "tanh'(c)": 1 - tanh_c * tanh_c,
    }
    d_cell = d_c + d_h * o * local["tanh'(c)"]  # (B, H)
    d_preact = {
        "i": d_cell * g * local["σ'(i)"],
        "f": d_cell * state.c_prev * local["σ'(f)"],
        "g": d_cell * i * local["tanh'(g)"],
        "o": d_h * tanh_c * local["σ'(o)"],
    }
    d_a = np.concatenate([d_preact[n] for n in GATE_NAMES], axis=-1)  # (B, 4H)
    return StepGrads(d_h, d_cell, local, d_preact, d_a,
                     d_h_prev=d_a @ W_hh, d_c_prev=d_cell * f, d_x=d_a @ W_ih)


_KERNEL = LSTMCell()
SPEC = CellSpec(
    name=NAME, title="LSTM", noun="an LSTM", gates=GATES, updates=UPDATES, has_cell_state=True,
    carry_gate="f", kernel=_KERNEL, step_forward=step_forward, step_backward=step_backward,
    compiled_kernel=CompiledKernel(_KERNEL),  # numba loops (rnnviz/engine/kernels) where faster
    layout=stacked_gate_layout(len(GATES)), pytorch_module="nn.LSTM", compare_by_default=True,
)
