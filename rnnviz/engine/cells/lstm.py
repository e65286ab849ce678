"""LSTM cell (PyTorch nn.LSTM), gate order i, f, g, o."""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.rnn import _start, trace_steps
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

# Inside the forward loop the gates are kept in the order i, f, o, g so that the three sigmoids
# are one contiguous block; the trace is put back into PyTorch's order i, f, g, o afterwards.
_LOOP_ORDER = (0, 1, 3, 2)


def use_exp_activations(batch: int, hidden: int, dtype) -> bool:
    """float64 np.tanh is 2-3x slower per element than np.exp (measured here); from ~128 units
    per step on, sigmoid/tanh through one exp call plus cheap calls wins. In float32 it does not."""
    return np.dtype(dtype) == np.float64 and batch * hidden >= 128


def activation_scale(size: int, sigmoid_size: int, use_exp: bool, dtype) -> np.ndarray:
    """(size,) factor applied to the pre-activation rows so one transcendental call serves all
    gates: the first ``sigmoid_size`` rows are sigmoids, the rest tanh.
    exp path: σ(a) = 1/(1 + exp(-a)) -> -1; tanh(a) = 2σ(2a) - 1 -> -2.
    tanh path: σ(a) = (1 + tanh(a/2))/2 -> 1/2; tanh -> 1."""
    scale = np.empty(size, dtype=dtype)
    scale[:sigmoid_size] = -1.0 if use_exp else 0.5
    scale[sigmoid_size:] = -2.0 if use_exp else 1.0
    return scale


class LSTMCell:
    name = "lstm"
    num_gates = 4
    gate_names = ("i", "f", "g", "o")
    has_cell_state = True
    equations = [
        "i_t = σ(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)",
        "f_t = σ(W_if x_t + b_if + W_hf h_(t-1) + b_hf)",
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)",
        "o_t = σ(W_io x_t + b_io + W_ho h_(t-1) + b_ho)",
        "c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t",
        "h_t = o_t ⊙ tanh(c_t)",
    ]

    def forward(
        self,
        inputs: np.ndarray,  # (T, B, I)
        weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        h0: np.ndarray,  # (B, H)
        c0: np.ndarray,  # (B, H)
        layout: TimeLayout,
        padded: np.ndarray | None,  # (T, B, 1) bool
    ) -> LayerTrace:
        """The equations above. The loop works feature-major ((4H, B) per step, so every gate
        block is contiguous) with the gates in the order i, f, o, g, and computes the activations
        with one transcendental call for all four gates (see ``activation_scale``)."""
        W_ih, W_hh, b_ih, b_hh = weights
        T, B, I = inputs.shape
        H = W_hh.shape[1]
        dtype = inputs.dtype
        H2, H3, H4 = 2 * H, 3 * H, 4 * H
        rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in _LOOP_ORDER])
        use_exp = use_exp_activations(B, H, dtype)
        one, two, half = (np.array(v, dtype=dtype) for v in (1, 2, 0.5))  # 0-d: fastest operands
        scale = activation_scale(4 * H, 3 * H, use_exp, dtype)
        W_x = W_ih[rows] * scale[:, None]  # (4H, I) loop order, scaled
        W_h = np.ascontiguousarray(W_hh[rows] * scale[:, None])  # (4H, H)
        bias = (b_ih + b_hh)[rows] * scale
        projected = (inputs.reshape(T * B, I) @ W_x.T + bias).reshape(T, B, H4)
        preact = np.ascontiguousarray(projected.transpose(0, 2, 1))  # (T, 4H, B)
        # work block of each step: [i, f, o, g, c_prev] (5H, B); block previous_slot(t) belongs to
        # step t, which writes its c_t into the c_prev rows of block state_slot(t).
        work = np.empty((T + 1, 5 * H, B), dtype=dtype)
        work[layout.initial_slot, H4:] = c0.T
        states = np.empty((T + 1, H, B), dtype=dtype)  # h_t feature-major
        states[layout.initial_slot] = h0.T
        tanh_cell = np.empty((T, H, B), dtype=dtype)
        recurrent = np.empty((H4, B), dtype=dtype)
        products = np.empty((H2, B), dtype=dtype)
        pad = None if padded is None else padded.transpose(0, 2, 1)  # (T, 1, B)
        with np.errstate(over="ignore"):
            for t in layout.steps():
                prev, slot = layout.previous_slot(t), layout.state_slot(t)
                block, a, h_prev = work[prev], preact[t], states[prev]
                np.dot(W_h, h_prev, out=recurrent)
                np.add(a, recurrent, out=a)
                gates = block[:H4]
                if use_exp:  # σ(a) = 1 / (1 + exp(-a)); g = 2 σ(2 a_g) - 1
                    np.exp(a, out=gates)
                    np.add(gates, one, out=gates)
                    np.reciprocal(gates, out=gates)
                    g = block[H3:H4]
                    np.multiply(g, two, out=g)
                    np.subtract(g, one, out=g)
                else:  # σ(a) = (1 + tanh(a / 2)) / 2
                    np.tanh(a, out=gates)
                    sig = block[:H3]
                    np.multiply(sig, half, out=sig)
                    np.add(sig, half, out=sig)
                np.multiply(block[:H2], block[H3:], out=products)  # [i*g, f*c_prev]
                c = work[slot, H4:]
                np.add(products[:H], products[H:], out=c)
                np.tanh(c, out=tanh_cell[t])
                np.multiply(block[H2:H3], tanh_cell[t], out=states[slot])
                if pad is not None:
                    np.copyto(c, work[prev, H4:], where=pad[t])
                    np.copyto(states[slot], h_prev, where=pad[t])
        order = np.argsort(rows)  # loop order -> PyTorch order
        steps = layout.previous(work)  # (T, 5H, B)
        gates = steps[:, :H4][:, order].transpose(0, 2, 1)  # (T, B, 4H) view of a copy
        preact = (preact / scale[:, None])[:, order].transpose(0, 2, 1)
        cells = work[:, H4:].transpose(0, 2, 1)  # (T + 1, B, H)
        hidden = states.transpose(0, 2, 1)
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=self.name, inputs=inputs,
            preact=np.ascontiguousarray(preact),
            gates={n: gates[:, :, k * H:(k + 1) * H] for k, n in enumerate(self.gate_names)},
            hidden=np.ascontiguousarray(layout.states(hidden)),
            prev_hidden=np.ascontiguousarray(layout.previous(hidden)),
            h0=np.array(hidden[layout.initial_slot]),
            cell_state=np.ascontiguousarray(layout.states(cells)),
            prev_cell_state=np.ascontiguousarray(layout.previous(cells)),
            c0=np.array(cells[layout.initial_slot]),
            cache={"steps": steps, "tanh_cell": tanh_cell},  # feature-major, loop order
        )

    def backward(
        self,
        trace: LayerTrace,
        W_hh: np.ndarray,  # (4H, H)
        d_from_output: np.ndarray,  # (T, B, H)
        d_h_last: np.ndarray | None,
        d_c_last: np.ndarray | None,
        cut: np.ndarray,  # (T,) bool
    ) -> tuple[LayerGradTrace, np.ndarray, np.ndarray]:
        """dc_t = dc_(t+1) * f_(t+1) + dh_t * o_t * (1 - tanh²c_t)
        d_a_i = dc_t g_t i_t(1-i_t), d_a_f = dc_t c_(t-1) f_t(1-f_t), d_a_g = dc_t i_t (1-g_t²),
        d_a_o = dh_t tanh(c_t) o_t(1-o_t);  dh_(t-1) = d_a_t @ W_hh  (padding carries dh, dc)."""
        T, B, H = trace.hidden.shape
        dtype = trace.hidden.dtype
        steps, tanh_cell = trace.cache["steps"], trace.cache["tanh_cell"]  # feature-major
        i, f, o, g, c_prev = (steps[:, k * H:(k + 1) * H] for k in range(5))  # (T, H, B)
        from_hidden = o * (1 - tanh_cell * tanh_cell)  # dc_t += dh_t * from_hidden
        local = np.empty((T, 4, H, B), dtype=dtype)  # d_a_{i,f,g} = dc * local[:3], d_a_o = dh * local[3]
        np.multiply(g, i * (1 - i), out=local[:, 0])
        np.multiply(c_prev, f * (1 - f), out=local[:, 1])
        np.multiply(i, 1 - g * g, out=local[:, 2])
        np.multiply(tanh_cell, o * (1 - o), out=local[:, 3])
        forget = f
        keep = None
        if trace.mask is not None:
            real = trace.mask[:, None, :]  # (T, 1, B)
            keep = 1 - real
            from_hidden *= real
            local *= real[:, None]
            forget = f * real + keep
        d_output = np.ascontiguousarray(d_from_output.transpose(0, 2, 1))  # (T, H, B)
        d_next = np.empty((T, H, B), dtype=dtype)
        d_hidden = np.empty((T, H, B), dtype=dtype)
        d_cell = np.empty((T, H, B), dtype=dtype)
        d_preact = np.empty((T, 4, H, B), dtype=dtype)
        d_h0 = np.empty((H, B), dtype=dtype)
        dc_carry = np.empty((H, B), dtype=dtype)
        scratch = np.empty((H, B), dtype=dtype)
        W_hh_T = np.ascontiguousarray(W_hh.T)  # (H, 4H)
        order = list(reversed(trace_steps(trace)))
        _start(d_next[order[0]], None if d_h_last is None else d_h_last.T)
        _start(dc_carry, None if d_c_last is None else d_c_last.T)
        flat = d_preact.reshape(T, 4 * H, B)
        for q, t in enumerate(order):
            dh, dc, da = d_hidden[t], d_cell[t], d_preact[t]
            np.add(d_output[t], d_next[t], out=dh)
            np.multiply(dh, from_hidden[t], out=scratch)
            np.add(scratch, dc_carry, out=dc)
            np.multiply(dc, local[t, :3], out=da[:3])
            np.multiply(dh, local[t, 3], out=da[3])
            target = d_next[order[q + 1]] if q + 1 < T else d_h0
            if cut[t]:
                target.fill(0)
                dc_carry.fill(0)
                continue
            np.multiply(dc, forget[t], out=dc_carry)
            np.dot(W_hh_T, flat[t], out=target)
            if keep is not None:
                np.multiply(dh, keep[t], out=scratch)
                np.add(target, scratch, out=target)
        d_preact = np.ascontiguousarray(flat.transpose(0, 2, 1))  # (T, B, 4H)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction,
            d_hidden=np.ascontiguousarray(d_hidden.transpose(0, 2, 1)),
            d_hidden_from_output=d_from_output,
            d_hidden_from_next=np.ascontiguousarray(d_next.transpose(0, 2, 1)),
            d_preact=d_preact, d_hidden_preact=d_preact, inputs=trace.inputs,
            prev_hidden=trace.prev_hidden,
            d_cell_state=np.ascontiguousarray(d_cell.transpose(0, 2, 1)),
        )
        return grads, np.ascontiguousarray(d_h0.T), np.ascontiguousarray(dc_carry.T)
