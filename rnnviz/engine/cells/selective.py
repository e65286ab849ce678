"""The selective state-space layer (S6, the core of Mamba; Gu & Dao 2023): a diagonal linear recurrence
whose step size Δ_t, input matrix B_t and read-out C_t are computed from the input, so the layer can
choose, token by token, what to write into its state and what to let decay.

    u_t = W_in x_t                                 the layer's input on H channels
    Δ_t = softplus(W_Δ u_t + b_Δ)                  a step size per channel, from the input
    B_t = W_B u_t,  C_t = W_C u_t                  (N,) each, from the input, shared by the channels
    A = -exp(A_log)                                (H, N), negative: every mode decays
    Ā_t = exp(Δ_t A)                               (H, N) in (0, 1): large Δ forgets, small Δ keeps
    c_t = Ā_t ⊙ c_(t-1) + (Δ_t ⊙ u_t) B_t          the state (the paper's h_t), N numbers per channel
    h_t = c_t C_t + D ⊙ u_t                        the layer's output (the paper's y_t), H numbers

Unlike the LRU, the decay Ā_t depends on the input: this is what lets it ignore the noise tokens of
selective copying. The recurrence is still linear in the state, so it can be computed with a parallel
scan. (Mamba wraps this in a block with a convolution and a gate; here it is the bare S6 with its input
projection, N = STATE_SIZE.)

The state is a cell state of H*N real numbers (channel by channel, N each); h_t, the output, is what
the layer above and the head read, and is not read back by the next step. Parameters per layer and
direction: ``weight_in`` (H, I), ``weight_delta`` (H, H), ``bias_delta`` (H,), ``weight_B`` (N, H),
``weight_C`` (N, H), ``A_log`` (H, N), ``D`` (H,). Initialisation as Mamba's: A_log = log(1 .. N) on
every channel (S4D-real), D = 1, b_Δ = softplus⁻¹(Δ₀) with Δ₀ log-uniform in [DELTA_MIN, DELTA_MAX],
the matrices ~ U(-1/sqrt(fan in), 1/sqrt(fan in)).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnviz.engine.cells.base import (
    CellSpec,
    GateSpec,
    StateUpdate,
    StepDecay,
    StepGrads,
    StepState,
    Weights,
    param_kind,
    sigmoid,
)
from rnnviz.engine.cells.linear import (
    backward_output,
    backward_states,
    carry_output,
    carry_padding,
    forward_states,
    no_hidden_projection,
    real_steps,
    softplus,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "selective"
STATE_SIZE = 8  # N, the state's size per channel (Mamba uses 16)
DELTA_MIN, DELTA_MAX = 1e-3, 1e-1
KINDS = ("weight_in", "weight_delta", "bias_delta", "weight_B", "weight_C", "A_log", "D")
DELTA = "Δ"
GATES = (
    GateSpec("u", "channel input", "", "linear", "u_t = W_in x_t"),
    GateSpec(DELTA, "step size", "softplus", "positive", "Δ_t = softplus(W_(Δ) u_t + b_(Δ))"),
)
DISPLAY = ("readout", "skip")
UPDATES = (
    StateUpdate("c_t = exp(Δ_t A) ⊙ c_(t-1) + (Δ_t ⊙ u_t) B_t,  B_t = W_B u_t,  A = -exp(A_log)", "", "c"),
    StateUpdate("h_t = c_t C_t + D ⊙ u_t,  C_t = W_C u_t", "{readout} + {skip}", "h"),
)


def layout(layer_input: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    H, I, N = hidden_size, layer_input, STATE_SIZE
    return {"weight_in": (H, I), "weight_delta": (H, H), "bias_delta": (H,), "weight_B": (N, H),
            "weight_C": (N, H), "A_log": (H, N), "D": (H,)}


class Pieces:
    """Everything of the forward pass computed from the inputs alone, for all timesteps (T, B, ...)."""

    def __init__(self, weights: Weights, inputs: np.ndarray) -> None:
        W_in, W_delta, b_delta, W_B, W_C, A_log, _ = weights
        T, B, I = inputs.shape
        H = W_in.shape[0]
        self.u = (inputs.reshape(T * B, I) @ W_in.T).reshape(T, B, H)
        self.a_delta = (self.u.reshape(T * B, H) @ W_delta.T + b_delta).reshape(T, B, H)
        self.delta = softplus(self.a_delta)
        self.B = (self.u.reshape(T * B, H) @ W_B.T).reshape(T, B, -1)  # (T, B, N)
        self.C = (self.u.reshape(T * B, H) @ W_C.T).reshape(T, B, -1)
        self.A = -np.exp(A_log)  # (H, N)
        self.decay = np.exp(self.delta[..., None] * self.A)  # Ā (T, B, H, N)
        self.drive = (self.delta * self.u)[..., None] * self.B[:, :, None, :]  # (T, B, H, N)


class SelectiveCell:
    """One layer and direction over a padded batch: everything that reads the input for all timesteps at
    once, the recurrence c_t = Ā_t ⊙ c_(t-1) + drive_t (loop or scan), the read-out at once."""

    name = NAME

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: np.ndarray, layout: TimeLayout,
                padded: np.ndarray | None, scan: bool = False) -> LayerTrace:
        T, B, _ = inputs.shape
        D = weights[6]
        H, N = D.shape[0], STATE_SIZE
        p = Pieces(weights, inputs)
        real = real_steps(padded, inputs.dtype)
        a, b = carry_padding(p.decay, p.drive, real)
        states, previous = forward_states(a, b, c0.reshape(B, H, N), layout, scan)
        output = np.einsum("tbhn,tbn->tbh", states, p.C) + D * p.u
        hidden, prev_hidden = carry_output(output, h0, real, layout)
        preact = np.concatenate([p.u, p.a_delta], axis=-1)
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=NAME, inputs=inputs, preact=preact,
            gates={"u": preact[:, :, :H], DELTA: p.delta}, hidden=hidden, prev_hidden=prev_hidden, h0=np.array(h0),
            cell_state=states.reshape(T, B, H * N), prev_cell_state=previous.reshape(T, B, H * N), c0=np.array(c0),
            cache={"decay": a, "pieces": p, "weights": weights},  # decay: Ā_t (1 at padding)
        )

    def backward(self, trace: LayerTrace, W_hh: None, d_from_output: np.ndarray, d_h_last: np.ndarray | None,
                 d_c_last: np.ndarray | None, cut: np.ndarray,
                 scan: bool = False) -> tuple[LayerGradTrace, np.ndarray, np.ndarray]:
        """G_t = dL/dc_t = dL/dh_t ⊗ C_t (from the read-out) + Ā_(t+1) ⊙ G_(t+1) (from the next step), a linear
        recurrence run backwards (loop or scan); then everything else at once (``input_gradients``)."""
        layout = TimeLayout(trace.seq_len, trace.reverse)
        T, B, H = trace.hidden.shape
        p: Pieces = trace.cache["pieces"]
        real = None if trace.mask is None else trace.mask[:, :, None]
        d_hidden, from_next, d_output, d_h0 = backward_output(d_from_output, d_h_last, real, layout, cut)
        direct = d_output[..., None] * p.C[:, :, None, :]  # (T, B, H, N)
        start = None if d_c_last is None else d_c_last.reshape(B, H, -1)
        total, _, d_c0 = backward_states(trace.cache["decay"], direct, start, layout, cut, scan)
        d_cell_state = total.reshape(T, B, -1)
        pieces = input_gradients(trace.cache["weights"], p, trace.prev_cell_state, trace.cell_state,
                                 d_cell_state if real is None else d_cell_state * real, d_output)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden, d_hidden_from_output=d_from_output,
            d_hidden_from_next=from_next, d_preact=np.concatenate([pieces["d_u"], pieces["d_a_delta"]], axis=-1),
            d_hidden_preact=no_hidden_projection(d_hidden), inputs=trace.inputs, prev_hidden=trace.prev_hidden,
            d_cell_state=d_cell_state, cache=pieces,
        )
        return grads, d_h0, d_c0.reshape(B, -1)


def input_gradients(weights: Weights, p: Pieces, prev_state: np.ndarray, state: np.ndarray, d_state: np.ndarray,
                    d_output: np.ndarray) -> dict[str, np.ndarray]:
    """From G_t = dL/dc_t and dL/dh_t at the real steps (zero at padding), (T, B, ·) each:

        dL/dĀ_t = G_t ⊙ c_(t-1);  dL/dΔ_t = Σ_n dL/dĀ_t Ā_t A + u_t ⊙ (G_t B_t);  dL/da_Δ = dL/dΔ_t σ(a_Δ)
        dL/dB_t = Σ_h G_t (Δ_t ⊙ u_t);  dL/dC_t = Σ_h dL/dh_t c_t
        dL/du_t = D ⊙ dL/dh_t + Δ_t ⊙ (G_t B_t) + dL/da_Δ W_Δ + dL/dB_t W_B + dL/dC_t W_C"""
    _, W_delta, _, W_B, W_C, _, D = weights
    T, B, H = p.u.shape
    G = d_state.reshape(T, B, H, -1)
    through_B = np.einsum("tbhn,tbn->tbh", G, p.B)  # G_t B_t
    d_decay_a = G * prev_state.reshape(G.shape) * p.decay  # dL/dĀ ⊙ Ā
    d_a_delta = (np.einsum("tbhn,hn->tbh", d_decay_a, p.A) + p.u * through_B) * sigmoid(p.a_delta)
    d_B = np.einsum("tbhn,tbh->tbn", G, p.delta * p.u)
    d_C = np.einsum("tbhn,tbh->tbn", state.reshape(G.shape), d_output)
    d_u = (D * d_output + p.delta * through_B + d_a_delta @ W_delta + d_B @ W_B + d_C @ W_C)
    return {"d_u": d_u, "d_a_delta": d_a_delta, "d_B": d_B, "d_C": d_C, "d_decay_a": d_decay_a}


def parameter_gradients(weights: Weights, inputs: np.ndarray, p: Pieces, pieces: Mapping[str, np.ndarray],
                        d_output: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every parameter's gradient (sums over time and batch) and dL/dx from ``input_gradients``:
    dW_in = Σ dL/du_t x_t^T, dW_Δ = Σ dL/da_Δ u_t^T, db_Δ = Σ dL/da_Δ, dW_B = Σ dL/dB_t u_t^T,
    dW_C = Σ dL/dC_t u_t^T, dA_log = Σ (dL/dĀ ⊙ Ā) Δ_t A, dD = Σ dL/dh_t ⊙ u_t;  dL/dx_t = dL/du_t W_in."""
    W_in = weights[0]
    H, I = W_in.shape
    x, u = inputs.reshape(-1, I), p.u.reshape(-1, H)
    d_u, d_a = pieces["d_u"].reshape(-1, H), pieces["d_a_delta"].reshape(-1, H)
    grads = {
        "weight_in": d_u.T @ x, "weight_delta": d_a.T @ u, "bias_delta": d_a.sum(axis=0),
        "weight_B": pieces["d_B"].reshape(-1, pieces["d_B"].shape[-1]).T @ u,
        "weight_C": pieces["d_C"].reshape(-1, pieces["d_C"].shape[-1]).T @ u,
        "A_log": np.einsum("tbhn,tbh->hn", pieces["d_decay_a"], p.delta) * p.A,
        "D": np.einsum("tbh,tbh->h", d_output, p.u),
    }
    return grads, (d_u @ W_in).reshape(inputs.shape)


def accumulate(forward: LayerTrace, grads: LayerGradTrace, weights: Mapping[str, np.ndarray],
               out: Mapping[str, np.ndarray], d_input: np.ndarray) -> None:
    """The layer's parameter gradients over the whole sequence and batch (``parameter_gradients``);
    the pieces come from the kernel's backward, or are recomputed from the traces."""
    ordered = tuple(weights[k] for k in KINDS)
    real = None if forward.mask is None else forward.mask[:, :, None]
    d_output = grads.d_hidden if real is None else grads.d_hidden * real
    p = forward.cache.get("pieces") or Pieces(ordered, forward.inputs)
    pieces = grads.cache or input_gradients(ordered, p, forward.prev_cell_state, forward.cell_state,
                                            grads.d_cell_state if real is None else grads.d_cell_state * real,
                                            d_output)
    values, d_inputs = parameter_gradients(ordered, forward.inputs, p, pieces, d_output)
    for kind, value in values.items():
        out[kind][...] = value
    d_input += d_inputs


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> StepState:
    """u_t = W_in x_t;  Δ_t = softplus(W_Δ u_t + b_Δ);  B_t = W_B u_t;  C_t = W_C u_t;  A = -exp(A_log);
    c_t = exp(Δ_t A) ⊙ c_(t-1) + (Δ_t ⊙ u_t) B_t;  h_t = c_t C_t + D ⊙ u_t.  (h_(t-1) is not read.)"""
    W_in, W_delta, b_delta, W_B, W_C, A_log, D = weights
    u = x_t @ W_in.T  # (B, H)
    a_delta = u @ W_delta.T + b_delta
    delta = np.log1p(np.exp(a_delta))
    B_t, C_t = u @ W_B.T, u @ W_C.T  # (B, N)
    A = -np.exp(A_log)  # (H, N)
    c_before = c_prev.reshape(u.shape + (-1,))  # (B, H, N)
    c = np.exp(delta[:, :, None] * A) * c_before + (delta * u)[:, :, None] * B_t[:, None, :]
    readout = np.einsum("bhn,bn->bh", c, C_t)
    skip = D * u
    gates = {"u": u, DELTA: delta, "readout": readout, "skip": skip}
    return StepState(NAME, x_t, h_prev, c_prev, {"u": u, DELTA: a_delta}, gates, readout + skip,
                     c=c.reshape(c_prev.shape))


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: np.ndarray | None) -> StepGrads:
    """G_t = dL/dc_t = d_c (what the next step sent) + dL/dh_t ⊗ C_t;  dL/dc_(t-1) = Ā_t ⊙ G_t;
    dL/dh_(t-1) = 0 (h is not read by the step); the rest as in ``input_gradients``."""
    inputs = state.x[None]
    p = Pieces(weights, inputs)
    total = d_h[:, :, None] * p.C[0][:, None, :]  # (B, H, N)
    if d_c is not None:
        total = total + d_c.reshape(total.shape)
    d_state = total.reshape(d_h.shape[0], -1)
    pieces = input_gradients(weights, p, state.c_prev[None], state.c[None], d_state[None], d_h[None])
    contribution, d_x = parameter_gradients(weights, inputs, p, pieces, d_h[None])
    local = {"σ(a_Δ) = softplus'": sigmoid(p.a_delta[0]), "Ā mean over N": p.decay[0].mean(axis=-1)}
    return StepGrads(d_h, d_state, local, {"u": pieces["d_u"][0], DELTA: pieces["d_a_delta"][0]},
                     no_hidden_projection(d_h), contribution, d_h_prev=np.zeros_like(d_h),
                     d_c_prev=(p.decay[0] * total).reshape(d_state.shape), d_x=d_x[0])


def step_decay(trace: LayerTrace, weights: Weights) -> np.ndarray:
    """(T, B, H*N) Ā_t = exp(Δ_t A), A = -exp(A_log): how much of each state value a step keeps (channel
    by channel, N each, as in the cell state)."""
    A = -np.exp(weights[KINDS.index("A_log")])  # (H, N)
    delta = trace.gates[DELTA]  # (T, B, H)
    T, B, H = delta.shape
    return np.exp(delta[..., None] * A).reshape(T, B, -1)


def init(params: Mapping[str, np.ndarray], hidden_size: int, rng: np.random.Generator) -> None:
    """Mamba's initialisation (module docstring), per layer and direction."""
    for name, array in params.items():
        kind = param_kind(name)
        if kind == "A_log":
            array[...] = np.log(np.arange(1, array.shape[1] + 1))[None, :]
        elif kind == "D":
            array[...] = 1.0
        elif kind == "bias_delta":
            step = np.exp(rng.uniform(np.log(DELTA_MIN), np.log(DELTA_MAX), size=array.shape))
            array[...] = step + np.log(-np.expm1(-step))  # softplus⁻¹(step)
        else:
            bound = 1.0 / np.sqrt(array.shape[1])
            array[...] = rng.uniform(-bound, bound, size=array.shape)


SPEC = CellSpec(
    name=NAME, title="Selective SSM (S6)", noun="a selective state-space layer", gates=GATES, updates=UPDATES,
    has_cell_state=True, carry_gate=None, kernel=SelectiveCell(), step_forward=step_forward,
    step_backward=step_backward, layout=layout, default_init=init, hidden_range=None, accumulate=accumulate,
    display_values=DISPLAY, state_size=lambda hidden: hidden * STATE_SIZE,
    state_word=f"state ({STATE_SIZE} per channel)", memory_state="c", scannable=True,
    recurrence="c_t = Ā_t ⊙ c_(t−1) + (Δ_t ⊙ u_t) B_t",
    decay=StepDecay("Ā_t", step_decay, rows=f"state ({STATE_SIZE}·channel + n)", equation="Ā_t = exp(Δ_t A)"),
    memory_blocks=STATE_SIZE + 2,  # the N-wide state, its decay and drive, and their gradients
    notes="Δ_t, B_t and C_t are computed from the input: the layer chooses what to write and what to keep.",
    column_words={"weight_in": "input", "weight_delta": "channel", "bias_delta": "b_Δ", "weight_B": "channel",
                  "weight_C": "channel", "A_log": "state n", "D": "D"},
)
