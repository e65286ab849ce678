"""GRU cell (PyTorch nn.GRU), gate order r, z, n: the fast kernel ``GRUCell``, the textbook timestep
(``step_forward`` / ``step_backward``) and the spec ``SPEC``."""
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
from rnnviz.engine.cells.lstm import use_exp_activations
from rnnviz.engine.cells.rnn import _start, trace_steps
from rnnviz.engine.kernels import CompiledKernel
from rnnviz.engine.scratch import work_buffers
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "gru"
GATES = (  # PyTorch's order r, z, n
    GateSpec("r", "reset gate", "σ", "gate", "r_t = σ(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)"),
    GateSpec("z", "update gate", "σ", "gate", "z_t = σ(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)"),
    GateSpec("n", "candidate", "tanh", "candidate", "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn))",
             hidden_scaled_by="r"),
)
GATE_NAMES = tuple(gate.name for gate in GATES)
UPDATES = (StateUpdate("h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_(t-1)", "(1 − {z}) · {n} + {z} · {h_prev}", "h"),)


class GRUCell:
    """One direction of one layer of a GRU over a whole padded batch; the equations are the gate
    equations of ``GATES`` and ``UPDATES``."""

    name = NAME

    def forward(
        self,
        inputs: np.ndarray,  # (T, B, I)
        weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        h0: np.ndarray,  # (B, H)
        c0: None,
        layout: TimeLayout,
        padded: np.ndarray | None,  # (T, B, 1) bool
    ) -> LayerTrace:
        """The equations, with σ through one tanh or exp call (see lstm.activation_scale) and
        h_t = n_t + z_t (h_(t-1) - n_t). The hidden projection W_hh h + b_hh is one matmul per step
        against [h, 1] so b_hn stays inside r * (...)."""
        W_ih, W_hh, b_ih, b_hh = weights
        T, B, I = inputs.shape
        H = W_hh.shape[1]
        dtype = inputs.dtype
        H2 = 2 * H
        use_exp = use_exp_activations(B, H, dtype)
        scale = np.ones(3 * H, dtype=dtype)
        scale[:H2] = -1.0 if use_exp else 0.5  # see lstm.activation_scale
        one, half = np.array(1, dtype=dtype), np.array(0.5, dtype=dtype)  # 0-d: fastest operands
        W_h_aug = np.empty((H + 1, 3 * H), dtype=dtype)  # [W_hh^T; b_hh] scaled
        W_h_aug[:H] = W_hh.T * scale
        W_h_aug[H] = b_hh * scale
        preact = (inputs.reshape(T * B, I) @ (W_ih.T * scale) + b_ih * scale).reshape(T, B, 3 * H)
        states = np.empty((T + 1, B, H + 1), dtype=dtype)  # [h, 1]
        states[:, :, H] = 1
        states[layout.initial_slot, :, :H] = h0
        projected = np.empty((T, B, 3 * H), dtype=dtype)  # W_hh h_(t-1) + b_hh (r, z scaled)
        gates = np.empty((T, B, 3 * H), dtype=dtype)
        scratch = np.empty((B, H), dtype=dtype)
        with np.errstate(over="ignore"):  # exp(-a) = inf gives σ = 0, as it should
            for t in layout.steps():
                h_prev_aug, h_aug = states[layout.previous_slot(t)], states[layout.state_slot(t)]
                a, hp, gate = preact[t], projected[t], gates[t]
                np.dot(h_prev_aug, W_h_aug, out=hp)
                rz = a[:, :H2]
                np.add(rz, hp[:, :H2], out=rz)
                sig = gate[:, :H2]
                if use_exp:  # σ(a) = 1 / (1 + exp(-a))
                    np.exp(rz, out=sig)
                    np.add(sig, one, out=sig)
                    np.reciprocal(sig, out=sig)
                else:  # σ(a) = (1 + tanh(a / 2)) / 2
                    np.tanh(rz, out=sig)
                    np.multiply(sig, half, out=sig)
                    np.add(sig, half, out=sig)
                np.multiply(gate[:, :H], hp[:, H2:], out=scratch)  # r * (W_hn h + b_hn)
                a_n, n = a[:, H2:], gate[:, H2:]
                np.add(a_n, scratch, out=a_n)
                np.tanh(a_n, out=n)
                h, h_prev = h_aug[:, :H], h_prev_aug[:, :H]
                np.subtract(h_prev, n, out=scratch)
                np.multiply(gate[:, H:H2], scratch, out=scratch)
                np.add(n, scratch, out=h)
                if padded is not None:
                    np.copyto(h, h_prev, where=padded[t])
        preact /= scale
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=self.name, inputs=inputs, preact=preact,
            gates={n: gates[:, :, k * H:(k + 1) * H] for k, n in enumerate(GATE_NAMES)},
            hidden=np.ascontiguousarray(layout.states(states)[:, :, :H]),
            prev_hidden=np.ascontiguousarray(layout.previous(states)[:, :, :H]),
            h0=np.array(states[layout.initial_slot, :, :H]),
            cache={"hidden_n": projected[:, :, H2:]},  # (T, B, H) W_hn h_(t-1) + b_hn
        )

    def backward(
        self,
        trace: LayerTrace,
        W_hh: np.ndarray,  # (3H, H)
        d_from_output: np.ndarray,  # (T, B, H)
        d_h_last: np.ndarray | None,
        d_c_last: None,
        cut: np.ndarray,  # (T,) bool
    ) -> tuple[LayerGradTrace, np.ndarray, None]:
        """d_a_n = dh (1-z)(1-n²);  d_a_z = dh (h_(t-1) - n) z(1-z);  d_hn = d_a_n r;
        d_a_r = d_a_n hn r(1-r);  dh_(t-1) = dh z + [d_a_r, d_a_z, d_hn] @ W_hh (padding carries dh)."""
        T, B, H = trace.hidden.shape
        dtype = trace.hidden.dtype
        r, z, n = (trace.gates[k] for k in GATE_NAMES)
        hidden_n = trace.cache["hidden_n"]
        # d = dh * local, local in the order [n, r, z, hn] so that [r, z, hn] is contiguous
        # reused buffers (see rnnviz.engine.scratch), filled with out= and no temporaries
        local = work_buffers.get("gru_local", (T, B, 4, H), dtype)
        local_n, local_r, local_z, local_hn = (local[:, :, k] for k in range(4))  # (T, B, H)
        one_minus_z = work_buffers.get("gru_one_minus_z", (T, B, H), dtype)
        np.subtract(1, z, out=one_minus_z)
        np.multiply(n, n, out=local_n)  # (1 - z)(1 - n²)
        np.subtract(1, local_n, out=local_n)
        np.multiply(local_n, one_minus_z, out=local_n)
        np.subtract(1, r, out=local_r)  # (1 - z)(1 - n²) hn r(1 - r)
        np.multiply(local_r, r, out=local_r)
        np.multiply(local_r, hidden_n, out=local_r)
        np.multiply(local_r, local_n, out=local_r)
        np.subtract(trace.prev_hidden, n, out=local_z)  # (h_(t-1) - n) z(1 - z)
        np.multiply(local_z, one_minus_z, out=local_z)
        np.multiply(local_z, z, out=local_z)
        np.multiply(local_n, r, out=local_hn)  # (1 - z)(1 - n²) r
        through_z = z
        if trace.mask is not None:
            real = trace.mask[:, :, None]
            local *= real[:, :, :, None]
            through_z = z * real + (1 - real)
        d_next = np.empty((T, B, H), dtype=dtype)
        d_hidden = np.empty((T, B, H), dtype=dtype)
        d_local = np.empty((T, B, 4, H), dtype=dtype)
        d_h0 = np.empty((B, H), dtype=dtype)
        scratch = np.empty((B, H), dtype=dtype)
        order = list(reversed(trace_steps(trace)))
        _start(d_next[order[0]], d_h_last)
        for q, t in enumerate(order):
            dh, d = d_hidden[t], d_local[t]
            np.add(d_from_output[t], d_next[t], out=dh)
            np.multiply(dh[:, None, :], local[t], out=d)
            target = d_next[order[q + 1]] if q + 1 < T else d_h0
            if cut[t]:
                target.fill(0)
                continue
            np.dot(d[:, 1:].reshape(B, 3 * H), W_hh, out=target)
            np.multiply(dh, through_z[t], out=scratch)
            np.add(target, scratch, out=target)
        d_preact = np.concatenate([d_local[:, :, 1:3], d_local[:, :, :1]], axis=2).reshape(T, B, 3 * H)
        d_hidden_preact = d_local[:, :, 1:].reshape(T, B, 3 * H)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden,
            d_hidden_from_output=d_from_output, d_hidden_from_next=d_next, d_preact=d_preact,
            d_hidden_preact=d_hidden_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden,
        )
        return grads, d_h0, None


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: None = None) -> StepState:
    """r_t = σ(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)
    z_t = σ(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn))
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_(t-1)"""
    W_ih, W_hh, b_ih, b_hh = weights
    from_input = split_blocks(x_t @ W_ih.T + b_ih, GATE_NAMES)  # 3 x (B, H)
    from_hidden = split_blocks(h_prev @ W_hh.T + b_hh, GATE_NAMES)  # 3 x (B, H)
    a_r = from_input["r"] + from_hidden["r"]
    a_z = from_input["z"] + from_hidden["z"]
    r, z = sigmoid(a_r), sigmoid(a_z)
    a_n = from_input["n"] + r * from_hidden["n"]
    n = np.tanh(a_n)
    h = (1 - z) * n + z * h_prev
    return StepState(NAME, x_t, h_prev, None, {"r": a_r, "z": a_z, "n": a_n}, {"r": r, "z": z, "n": n},
                     h, hidden_n=from_hidden["n"])


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: None = None) -> StepGrads:
    """With hn = W_hn h_(t-1) + b_hn:
    dL/da_n = dL/dh_t ⊙ (1 - z_t) ⊙ tanh'(n),        tanh'(n) = 1 - n²
    dL/da_z = dL/dh_t ⊙ (h_(t-1) - n_t) ⊙ σ'(z),     σ'(z) = z (1 - z)
    dL/da_r = dL/da_n ⊙ hn ⊙ σ'(r),                  σ'(r) = r (1 - r)
    dL/dhn  = dL/da_n ⊙ r_t
    dL/dh_(t-1) = dL/dh_t ⊙ z_t + [dL/da_r, dL/da_z, dL/dhn] W_hh;  dL/dx_t = [dL/da_r, dL/da_z, dL/da_n] W_ih"""
    W_ih, W_hh, _, _ = weights
    r, z, n = (state.gates[k] for k in GATE_NAMES)
    local = {
        "σ'(r)": r * (1 - r), "σ'(z)": z * (1 - z), "tanh'(n)": 1 - n * n, "1-z": 1 - z,
        "h_prev-n": state.h_prev - n,
    }
    d_a_n = d_h * local["1-z"] * local["tanh'(n)"]
    d_a_z = d_h * local["h_prev-n"] * local["σ'(z)"]
    d_a_r = d_a_n * state.hidden_n * local["σ'(r)"]
    d_hidden_preact = np.concatenate([d_a_r, d_a_z, d_a_n * r], axis=-1)  # (B, 3H)
    d_a = np.concatenate([d_a_r, d_a_z, d_a_n], axis=-1)  # (B, 3H)
    return StepGrads(d_h, None, local, {"r": d_a_r, "z": d_a_z, "n": d_a_n}, d_hidden_preact,
                     d_h_prev=d_h * z + d_hidden_preact @ W_hh, d_x=d_a @ W_ih)


_KERNEL = GRUCell()
SPEC = CellSpec(
    name=NAME, title="GRU", noun="a GRU", gates=GATES, updates=UPDATES, has_cell_state=False,
    carry_gate="z", kernel=_KERNEL, step_forward=step_forward, step_backward=step_backward,
    compiled_kernel=CompiledKernel(_KERNEL),  # numba loops (rnnviz/engine/kernels) where faster
    layout=stacked_gate_layout(len(GATES)), pytorch_module="nn.GRU", compare_by_default=True,
)
