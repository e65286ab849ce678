"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?"): a GRU whose gate and candidate read only the
input, so the recurrence is linear in h and can be computed with a parallel scan.

    z_t = σ(W_z x_t + b_z)                        update gate
    h̃_t = W_h x_t + b_h                           candidate (no tanh)
    h_t = (1 - z_t) ⊙ h_(t-1) + z_t ⊙ h̃_t

Parameters per layer and direction (no PyTorch module exists; names follow PyTorch's input half):
``weight_ih`` (2H, I) = [W_z; W_h] and ``bias_ih`` (2H,) = [b_z; b_h], blocks in the order z, h̃.
There is no W_hh: nothing multiplies h_(t-1) except the gate's (1 - z_t).
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.base import (
    CellSpec,
    GateSpec,
    StateUpdate,
    StepDecay,
    StepGrads,
    StepState,
    Weights,
    sigmoid,
    split_blocks,
)
from rnnviz.engine.cells.linear import (
    backward_states,
    carry_padding,
    forward_states,
    no_hidden_projection,
    real_steps,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "mingru"
CANDIDATE = "h̃"
GATES = (
    GateSpec("z", "update gate", "σ", "gate", "z_t = σ(W_z x_t + b_z)"),
    GateSpec(CANDIDATE, "candidate", "", "linear", "h̃_t = W_h x_t + b_h"),
)
GATE_NAMES = tuple(gate.name for gate in GATES)
UPDATES = (StateUpdate("h_t = (1 - z_t) ⊙ h_(t-1) + z_t ⊙ h̃_t", "(1 − {z}) · {h_prev} + {z} · {h̃}", "h"),)


def layout(layer_input: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    return {"weight_ih": (2 * hidden_size, layer_input), "bias_ih": (2 * hidden_size,)}


class MinGRUCell:
    """One layer and direction over a padded batch: both blocks for all timesteps in one matmul, then
    the recurrence h_t = a_t ⊙ h_(t-1) + b_t with a_t = 1 - z_t, b_t = z_t ⊙ h̃_t (loop or scan)."""

    name = NAME

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: None, layout: TimeLayout,
                padded: np.ndarray | None, scan: bool = False) -> LayerTrace:
        W_ih, b_ih = weights
        T, B, I = inputs.shape
        H = W_ih.shape[0] // 2
        preact = (inputs.reshape(T * B, I) @ W_ih.T + b_ih).reshape(T, B, 2 * H)  # [a_z, h̃]
        z, candidate = sigmoid(preact[:, :, :H]), preact[:, :, H:]
        real = real_steps(padded, inputs.dtype)
        a, b = carry_padding(1 - z, z * candidate, real)
        hidden, previous = forward_states(a, b, h0, layout, scan)
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=NAME, inputs=inputs, preact=preact,
            gates={"z": z, CANDIDATE: candidate}, hidden=hidden, prev_hidden=previous, h0=np.array(h0),
            cache={"decay": a},  # (T, B, H) the multiplier of h_(t-1), 1 at padding
        )

    def backward(self, trace: LayerTrace, W_hh: None, d_from_output: np.ndarray, d_h_last: np.ndarray | None,
                 d_c_last: None, cut: np.ndarray, scan: bool = False) -> tuple[LayerGradTrace, np.ndarray, None]:
        """dL/dh_(t-1) = dL/dh_t ⊙ (1 - z_t) through the recurrence; at each real step
        dL/da_z = dL/dh_t ⊙ (h̃_t - h_(t-1)) ⊙ σ'(z), dL/dh̃_t = dL/dh_t ⊙ z_t."""
        layout = TimeLayout(trace.seq_len, trace.reverse)
        d_hidden, from_next, d_h0 = backward_states(trace.cache["decay"], d_from_output, d_h_last, layout, cut, scan)
        z, candidate = trace.gates["z"], trace.gates[CANDIDATE]
        d_real = d_hidden if trace.mask is None else d_hidden * trace.mask[:, :, None]
        d_preact = np.concatenate([d_real * (candidate - trace.prev_hidden) * z * (1 - z), d_real * z], axis=-1)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden, d_hidden_from_output=d_from_output,
            d_hidden_from_next=from_next, d_preact=d_preact, d_hidden_preact=no_hidden_projection(d_preact),
            inputs=trace.inputs, prev_hidden=trace.prev_hidden,
        )
        return grads, d_h0, None


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: None = None) -> StepState:
    """z_t = σ(W_z x_t + b_z);  h̃_t = W_h x_t + b_h;  h_t = (1 - z_t) ⊙ h_(t-1) + z_t ⊙ h̃_t."""
    W_ih, b_ih = weights
    blocks = split_blocks(x_t @ W_ih.T + b_ih, GATE_NAMES)  # 2 x (B, H)
    z = sigmoid(blocks["z"])
    candidate = blocks[CANDIDATE]
    h = (1 - z) * h_prev + z * candidate
    return StepState(NAME, x_t, h_prev, None, dict(blocks), {"z": z, CANDIDATE: candidate}, h)


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: None = None) -> StepGrads:
    """dL/dh̃_t = dL/dh_t ⊙ z_t;  dL/da_z = dL/dh_t ⊙ (h̃_t - h_(t-1)) ⊙ σ'(z),  σ'(z) = z (1 - z);
    dL/dh_(t-1) = dL/dh_t ⊙ (1 - z_t);  dL/dx_t = [dL/da_z, dL/dh̃_t] W_ih."""
    W_ih, _ = weights
    z, candidate = state.gates["z"], state.gates[CANDIDATE]
    local = {"σ'(z)": z * (1 - z), "1-z": 1 - z, "h̃-h_prev": candidate - state.h_prev}
    d_a_z = d_h * local["h̃-h_prev"] * local["σ'(z)"]
    d_candidate = d_h * z
    d_a = np.concatenate([d_a_z, d_candidate], axis=-1)  # (B, 2H)
    return StepGrads(d_h, None, local, {"z": d_a_z, CANDIDATE: d_candidate}, no_hidden_projection(d_h),
                     d_h_prev=d_h * local["1-z"], d_x=d_a @ W_ih)


def init(params, hidden_size: int, rng: np.random.Generator) -> None:
    """Every weight ~ U(-1/sqrt(I), 1/sqrt(I)) (nn.Linear's default for the input projection), biases 0."""
    for name, array in params.items():
        if name.startswith("weight"):
            bound = 1.0 / np.sqrt(array.shape[1])
            array[...] = rng.uniform(-bound, bound, size=array.shape)
        else:
            array[...] = 0


SPEC = CellSpec(
    name=NAME, title="minGRU", noun="a minGRU", gates=GATES, updates=UPDATES, has_cell_state=False,
    carry_gate=None, kernel=MinGRUCell(), step_forward=step_forward, step_backward=step_backward,
    layout=layout, default_init=init, hidden_range=None, scannable=True,
    recurrence="h_t = (1 − z_t) ⊙ h_(t−1) + z_t ⊙ h̃_t",
    decay=StepDecay("1 − z_t", lambda trace, weights: 1 - trace.gates["z"]),
    notes="The gate reads only x_t, so h_t is linear in h_(t-1): trainable with a parallel scan.",
)
