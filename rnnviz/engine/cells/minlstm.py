"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): an LSTM without the cell state, the output
gate and any dependence of its gates on h_(t-1); the forget and input gates are normalised to sum to 1.

    f_t = σ(W_f x_t + b_f)                        forget gate
    i_t = σ(W_i x_t + b_i)                        input gate
    h̃_t = W_h x_t + b_h                           candidate (no tanh)
    f′_t = f_t / (f_t + i_t),   i′_t = i_t / (f_t + i_t)
    h_t = f′_t ⊙ h_(t-1) + i′_t ⊙ h̃_t

The recurrence is linear in h, so it can be computed with a parallel scan. Parameters per layer and
direction (no PyTorch module exists): ``weight_ih`` (3H, I) = [W_f; W_i; W_h], ``bias_ih`` (3H,),
blocks in the order f, i, h̃.

The kernel computes f′ = σ(log f - log i) and i′ = 1 - f′ = σ(log i - log f), the same numbers without
0 / 0 when both gates underflow; the textbook step divides as the paper writes it.
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
    log_sigmoid,
    no_hidden_projection,
    real_steps,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "minlstm"
CANDIDATE, FORGET, INPUT = "h̃", "f′", "i′"
GATES = (
    GateSpec("f", "forget gate", "σ", "gate", "f_t = σ(W_f x_t + b_f)"),
    GateSpec("i", "input gate", "σ", "gate", "i_t = σ(W_i x_t + b_i)"),
    GateSpec(CANDIDATE, "candidate", "", "linear", "h̃_t = W_h x_t + b_h"),
)
BLOCKS = tuple(gate.name for gate in GATES)
DERIVED = (
    GateSpec(FORGET, "normalised forget gate", "", "gate", "f′_t = f_t / (f_t + i_t)"),
    GateSpec(INPUT, "normalised input gate", "", "gate", "i′_t = i_t / (f_t + i_t)"),
)
UPDATES = (
    StateUpdate("f′_t = f_t / (f_t + i_t)", "{f} / ({f} + {i})", FORGET),
    StateUpdate("i′_t = i_t / (f_t + i_t)", "{i} / ({f} + {i})", INPUT),
    StateUpdate("h_t = f′_t ⊙ h_(t-1) + i′_t ⊙ h̃_t", "{f′} · {h_prev} + {i′} · {h̃}", "h"),
)


def layout(layer_input: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    return {"weight_ih": (3 * hidden_size, layer_input), "bias_ih": (3 * hidden_size,)}


def normalised_gates(a_f: np.ndarray, a_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f′, i′) from the pre-activations: σ(±(log σ(a_f) - log σ(a_i)))."""
    difference = log_sigmoid(a_f) - log_sigmoid(a_i)
    return sigmoid(difference), sigmoid(-difference)


class MinLSTMCell:
    """One layer and direction over a padded batch: the three blocks for all timesteps in one matmul,
    then h_t = a_t ⊙ h_(t-1) + b_t with a_t = f′_t, b_t = i′_t ⊙ h̃_t (loop or scan)."""

    name = NAME

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: None, layout: TimeLayout,
                padded: np.ndarray | None, scan: bool = False) -> LayerTrace:
        W_ih, b_ih = weights
        T, B, I = inputs.shape
        H = W_ih.shape[0] // 3
        preact = (inputs.reshape(T * B, I) @ W_ih.T + b_ih).reshape(T, B, 3 * H)  # [a_f, a_i, h̃]
        a_f, a_i, candidate = preact[:, :, :H], preact[:, :, H:2 * H], preact[:, :, 2 * H:]
        forget, keep_input = normalised_gates(a_f, a_i)
        real = real_steps(padded, inputs.dtype)
        a, b = carry_padding(forget, keep_input * candidate, real)
        hidden, previous = forward_states(a, b, h0, layout, scan)
        gates = {"f": sigmoid(a_f), "i": sigmoid(a_i), CANDIDATE: candidate, FORGET: forget, INPUT: keep_input}
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=NAME, inputs=inputs, preact=preact, gates=gates,
            hidden=hidden, prev_hidden=previous, h0=np.array(h0),
            cache={"decay": a},  # (T, B, H) the multiplier of h_(t-1), 1 at padding
        )

    def backward(self, trace: LayerTrace, W_hh: None, d_from_output: np.ndarray, d_h_last: np.ndarray | None,
                 d_c_last: None, cut: np.ndarray, scan: bool = False) -> tuple[LayerGradTrace, np.ndarray, None]:
        """dL/dh_(t-1) = dL/dh_t ⊙ f′_t; at each real step, with δ = log f - log i (f′ = σ(δ)):
        dL/dδ = dL/dh_t ⊙ (h_(t-1) - h̃_t) ⊙ f′ i′, dL/da_f = dL/dδ ⊙ (1 - f), dL/da_i = -dL/dδ ⊙ (1 - i),
        dL/dh̃_t = dL/dh_t ⊙ i′_t."""
        layout = TimeLayout(trace.seq_len, trace.reverse)
        d_hidden, from_next, d_h0 = backward_states(trace.cache["decay"], d_from_output, d_h_last, layout, cut, scan)
        g = trace.gates
        d_real = d_hidden if trace.mask is None else d_hidden * trace.mask[:, :, None]
        d_difference = d_real * (trace.prev_hidden - g[CANDIDATE]) * g[FORGET] * g[INPUT]
        d_preact = np.concatenate([d_difference * (1 - g["f"]), -d_difference * (1 - g["i"]), d_real * g[INPUT]],
                                  axis=-1)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden, d_hidden_from_output=d_from_output,
            d_hidden_from_next=from_next, d_preact=d_preact, d_hidden_preact=no_hidden_projection(d_preact),
            inputs=trace.inputs, prev_hidden=trace.prev_hidden,
        )
        return grads, d_h0, None


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: None = None) -> StepState:
    """f_t = σ(W_f x_t + b_f);  i_t = σ(W_i x_t + b_i);  h̃_t = W_h x_t + b_h;
    f′_t = f_t / (f_t + i_t);  i′_t = i_t / (f_t + i_t);  h_t = f′_t ⊙ h_(t-1) + i′_t ⊙ h̃_t."""
    W_ih, b_ih = weights
    blocks = split_blocks(x_t @ W_ih.T + b_ih, BLOCKS)  # 3 x (B, H)
    f, i, candidate = sigmoid(blocks["f"]), sigmoid(blocks["i"]), blocks[CANDIDATE]
    forget, keep_input = f / (f + i), i / (f + i)
    h = forget * h_prev + keep_input * candidate
    gates = {"f": f, "i": i, CANDIDATE: candidate, FORGET: forget, INPUT: keep_input}
    return StepState(NAME, x_t, h_prev, None, dict(blocks), gates, h)


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: None = None) -> StepGrads:
    """dL/df′ = dL/dh_t ⊙ h_(t-1),  dL/di′ = dL/dh_t ⊙ h̃_t,  dL/dh̃_t = dL/dh_t ⊙ i′_t;
    through the normalisation (s = f + i): dL/df = (dL/df′ - dL/di′) ⊙ i / s², dL/di = (dL/di′ - dL/df′) ⊙ f / s²;
    dL/da_f = dL/df ⊙ σ'(f), dL/da_i = dL/di ⊙ σ'(i);  dL/dh_(t-1) = dL/dh_t ⊙ f′_t."""
    W_ih, _ = weights
    g = state.gates
    f, i = g["f"], g["i"]
    square = (f + i) ** 2
    local = {"σ'(f)": f * (1 - f), "σ'(i)": i * (1 - i), "∂f′/∂f": i / square, "∂f′/∂i": -f / square}
    d_forget, d_input, d_candidate = d_h * state.h_prev, d_h * g[CANDIDATE], d_h * g[INPUT]
    d_a_f = (d_forget - d_input) * local["∂f′/∂f"] * local["σ'(f)"]
    d_a_i = (d_forget - d_input) * local["∂f′/∂i"] * local["σ'(i)"]
    d_a = np.concatenate([d_a_f, d_a_i, d_candidate], axis=-1)  # (B, 3H)
    return StepGrads(d_h, None, local, {"f": d_a_f, "i": d_a_i, CANDIDATE: d_candidate},
                     np.zeros(d_h.shape[:-1] + (0,), dtype=d_h.dtype), d_h_prev=d_h * g[FORGET], d_x=d_a @ W_ih)


def init(params, hidden_size: int, rng: np.random.Generator) -> None:
    """Every weight ~ U(-1/sqrt(I), 1/sqrt(I)) (nn.Linear's default for the input projection), biases 0."""
    for name, array in params.items():
        if name.startswith("weight"):
            bound = 1.0 / np.sqrt(array.shape[1])
            array[...] = rng.uniform(-bound, bound, size=array.shape)
        else:
            array[...] = 0


SPEC = CellSpec(
    name=NAME, title="minLSTM", noun="a minLSTM", gates=GATES, updates=UPDATES, has_cell_state=False,
    carry_gate="f", kernel=MinLSTMCell(), step_forward=step_forward, step_backward=step_backward,
    layout=layout, default_init=init, hidden_range=None, derived=DERIVED, scannable=True,
    recurrence="h_t = f′_t ⊙ h_(t−1) + i′_t ⊙ h̃_t",
    decay=StepDecay("f′_t", lambda trace, weights: trace.gates[FORGET], equation="f′_t = f_t / (f_t + i_t)"),
    notes="Its gates read only x_t and f′ + i′ = 1, so h_t is linear in h_(t-1): trainable with a parallel scan.",
)
