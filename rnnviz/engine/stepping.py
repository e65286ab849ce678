"""One timestep of a recurrent cell, written out like a textbook: the reference the fast engine is
checked against and what the step-through view shows.

Each cell kind has a forward step and a backward step over a batch; nothing here is optimised.
``weights`` are one layer and direction's ``(W_ih, W_hh, b_ih, b_hh)`` in PyTorch's layout
(G*H stacked gate blocks: lstm i, f, g, o; gru r, z, n). Shapes: B batch, I input size of the
layer, H hidden size, G gates.

    state = step_forward(mode, weights, x_t, h_prev, c_prev)        # StepState
    grads = step_backward(mode, weights, state, d_h, d_c)           # StepGrads

``d_h`` is the total dL/dh_t (what arrives from the output plus what flows back from the step
that read h_t); ``d_c`` (lstm) is what flows back into c_t from the step that read it,
f_(t+1) ⊙ dL/dc_(t+1). Masks are not handled here: the caller carries the state through padded
steps (h_t = h_(t-1), nothing flows there), as the engine does.

Sigmoids are computed as σ(a) = (1 + tanh(a / 2)) / 2, the same function without overflow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from rnnviz.engine.recurrent import EngineError, param_name

Weights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # W_ih (GH, I), W_hh (GH, H), b_ih, b_hh (GH,)

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "rnn_tanh": ("a",),  # the single pre-activation block of an Elman RNN
    "rnn_relu": ("a",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}
CONTRIBUTION_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


@dataclass(frozen=True)
class StepState:
    """One forward timestep over a batch. ``preact`` and ``gates`` by gate name, each (B, H);
    an RNN has ``preact = {"a": ...}`` and no gates. gru ``preact["n"]`` is the argument of its
    tanh, W_in x + b_in + r ⊙ (W_hn h + b_hn), and ``hidden_n`` is W_hn h + b_hn."""

    mode: str
    x: np.ndarray  # (B, I)
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray | None  # (B, H) lstm
    preact: dict[str, np.ndarray]  # gate -> (B, H)
    gates: dict[str, np.ndarray]  # gate -> (B, H)
    h: np.ndarray  # (B, H)
    c: np.ndarray | None = None  # (B, H) lstm
    hidden_n: np.ndarray | None = None  # (B, H) gru


@dataclass(frozen=True)
class StepGrads:
    """One backward timestep over a batch.

    ``local`` are the local derivative factors by name (e.g. "tanh'(a)" = 1 - h², "σ'(f)" = f(1-f));
    ``d_preact`` is dL/d(pre-activation) by gate; ``d_hidden_preact`` (B, G*H) is the gradient at the
    hidden projection W_hh h_(t-1) + b_hh (gru's n block is d_preact_n ⊙ r); ``contribution`` is this
    timestep's share of each weight gradient, summed over the batch."""

    d_h: np.ndarray  # (B, H) total dL/dh_t that came in
    d_c: np.ndarray | None  # (B, H) lstm: total dL/dc_t
    local: dict[str, np.ndarray]  # name -> (B, H)
    d_preact: dict[str, np.ndarray]  # gate -> (B, H)
    d_hidden_preact: np.ndarray  # (B, G*H)
    contribution: dict[str, np.ndarray] = field(default_factory=dict)  # W_ih (GH, I), W_hh (GH, H), b_ih, b_hh
    d_h_prev: np.ndarray | None = None  # (B, H) dL/dh_(t-1) through this step
    d_c_prev: np.ndarray | None = None  # (B, H) lstm dL/dc_(t-1) through this step
    d_x: np.ndarray | None = None  # (B, I) dL/dx_t


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gate_names(mode: str) -> tuple[str, ...]:
    if mode not in GATE_NAMES:
        raise EngineError(f"unknown cell mode {mode!r}; use one of {', '.join(GATE_NAMES)}")
    return GATE_NAMES[mode]


def layer_weights(params: Mapping[str, np.ndarray], layer: int, direction: int, dtype=None) -> Weights:
    """(W_ih, W_hh, b_ih, b_hh) of one layer and direction out of a state dict, optionally cast."""
    arrays = [params[param_name(kind, layer, direction)]
              for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if dtype is not None:
        arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    return tuple(arrays)  # type: ignore[return-value]


def _blocks(array: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split the last axis (G*H) into G named (…, H) gate blocks."""
    H = array.shape[-1] // len(names)
    return {name: array[..., k * H:(k + 1) * H] for k, name in enumerate(names)}


# ----------------------------------------------------------------------------- forward


def step_forward(mode: str, weights: Weights, x_t: np.ndarray, h_prev: np.ndarray,
                 c_prev: np.ndarray | None = None) -> StepState:
    """One timestep of ``mode`` (rnn_tanh, rnn_relu, lstm, gru) over a batch; see the per-cell
    functions for the equations. ``c_prev`` is needed for lstm only."""
    gate_names(mode)
    if mode == "lstm":
        if c_prev is None:
            raise EngineError("an lstm step needs the previous cell state c_prev (B, H)")
        return lstm_forward(weights, x_t, h_prev, c_prev)
    if mode == "gru":
        return gru_forward(weights, x_t, h_prev)
    return rnn_forward(mode, weights, x_t, h_prev)


def rnn_forward(mode: str, weights: Weights, x_t: np.ndarray, h_prev: np.ndarray) -> StepState:
    """a_t = W_ih x_t + b_ih + W_hh h_(t-1) + b_hh;  h_t = tanh(a_t)  (rnn_relu: max(0, a_t))."""
    W_ih, W_hh, b_ih, b_hh = weights
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, H)
    h = np.maximum(a, 0) if mode == "rnn_relu" else np.tanh(a)
    return StepState(mode, x_t, h_prev, None, {"a": a}, {}, h)


def lstm_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> StepState:
    """i_t = σ(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)
    f_t = σ(W_if x_t + b_if + W_hf h_(t-1) + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)
    o_t = σ(W_io x_t + b_io + W_ho h_(t-1) + b_ho)
    c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)"""
    W_ih, W_hh, b_ih, b_hh = weights
    preact = _blocks(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh, GATE_NAMES["lstm"])  # 4 x (B, H)
    i, f, o = sigmoid(preact["i"]), sigmoid(preact["f"]), sigmoid(preact["o"])
    g = np.tanh(preact["g"])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return StepState("lstm", x_t, h_prev, c_prev, preact, {"i": i, "f": f, "g": g, "o": o}, h, c=c)


def gru_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray) -> StepState:
    """r_t = σ(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)
    z_t = σ(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn))
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_(t-1)"""
    W_ih, W_hh, b_ih, b_hh = weights
    from_input = _blocks(x_t @ W_ih.T + b_ih, GATE_NAMES["gru"])  # 3 x (B, H)
    from_hidden = _blocks(h_prev @ W_hh.T + b_hh, GATE_NAMES["gru"])  # 3 x (B, H)
    a_r = from_input["r"] + from_hidden["r"]
    a_z = from_input["z"] + from_hidden["z"]
    r, z = sigmoid(a_r), sigmoid(a_z)
    a_n = from_input["n"] + r * from_hidden["n"]
    n = np.tanh(a_n)
    h = (1 - z) * n + z * h_prev
    return StepState("gru", x_t, h_prev, None, {"r": a_r, "z": a_z, "n": a_n}, {"r": r, "z": z, "n": n},
                     h, hidden_n=from_hidden["n"])


# ----------------------------------------------------------------------------- backward


def step_backward(mode: str, weights: Weights, state: StepState, d_h: np.ndarray,
                  d_c: np.ndarray | None = None, contributions: bool = True) -> StepGrads:
    """Backpropagate through one timestep: ``d_h`` (B, H) is the total dL/dh_t, ``d_c`` (lstm,
    optional) what flows back into c_t from the next step. ``contributions=False`` skips the weight
    gradients (for propagating many directions at once, e.g. Jacobians)."""
    gate_names(mode)
    if state.mode != mode:
        raise EngineError(f"this step state is from a {state.mode} cell, not {mode}")
    if mode == "lstm":
        grads = lstm_backward(weights, state, d_h, np.zeros_like(d_h) if d_c is None else d_c)
    elif mode == "gru":
        grads = gru_backward(weights, state, d_h)
    else:
        grads = rnn_backward(mode, weights, state, d_h)
    if not contributions:
        return grads
    d_a = np.concatenate([grads.d_preact[n] for n in GATE_NAMES[mode]], axis=-1)  # (B, GH)
    contribution = {
        "W_ih": d_a.T @ state.x,  # (GH, I)
        "W_hh": grads.d_hidden_preact.T @ state.h_prev,  # (GH, H)
        "b_ih": d_a.sum(axis=0),
        "b_hh": grads.d_hidden_preact.sum(axis=0),
    }
    return StepGrads(grads.d_h, grads.d_c, grads.local, grads.d_preact, grads.d_hidden_preact,
                     contribution, grads.d_h_prev, grads.d_c_prev, grads.d_x)


def rnn_backward(mode: str, weights: Weights, state: StepState, d_h: np.ndarray) -> StepGrads:
    """dL/da_t = dL/dh_t ⊙ act'(a_t), with tanh'(a) = 1 - h_t², relu'(a) = [a > 0];
    dL/dh_(t-1) = dL/da_t W_hh;  dL/dx_t = dL/da_t W_ih."""
    W_ih, W_hh, _, _ = weights
    if mode == "rnn_relu":
        name, derivative = "relu'(a)", (state.preact["a"] > 0).astype(d_h.dtype)
    else:
        name, derivative = "tanh'(a)", 1 - state.h * state.h
    d_a = d_h * derivative  # (B, H)
    return StepGrads(d_h, None, {name: derivative}, {"a": d_a}, d_a,
                     d_h_prev=d_a @ W_hh, d_x=d_a @ W_ih)


def lstm_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: np.ndarray) -> StepGrads:
    """dL/dc_t = d_c + dL/dh_t ⊙ o_t ⊙ tanh'(c_t),    tanh'(c) = 1 - tanh²(c)
    dL/da_i = dL/dc_t ⊙ g_t ⊙ σ'(i),                 σ'(i) = i (1 - i)
    dL/da_f = dL/dc_t ⊙ c_(t-1) ⊙ σ'(f)
    dL/da_g = dL/dc_t ⊙ i_t ⊙ tanh'(g),              tanh'(g) = 1 - g²
    dL/da_o = dL/dh_t ⊙ tanh(c_t) ⊙ σ'(o)
    dL/dc_(t-1) = dL/dc_t ⊙ f_t;   dL/dh_(t-1) = dL/da W_hh;   dL/dx_t = dL/da W_ih"""
    W_ih, W_hh, _, _ = weights
    i, f, g, o = (state.gates[n] for n in GATE_NAMES["lstm"])
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
    d_a = np.concatenate([d_preact[n] for n in GATE_NAMES["lstm"]], axis=-1)  # (B, 4H)
    return StepGrads(d_h, d_cell, local, d_preact, d_a,
                     d_h_prev=d_a @ W_hh, d_c_prev=d_cell * f, d_x=d_a @ W_ih)


def gru_backward(weights: Weights, state: StepState, d_h: np.ndarray) -> StepGrads:
    """With hn = W_hn h_(t-1) + b_hn:
    dL/da_n = dL/dh_t ⊙ (1 - z_t) ⊙ tanh'(n),        tanh'(n) = 1 - n²
    dL/da_z = dL/dh_t ⊙ (h_(t-1) - n_t) ⊙ σ'(z),     σ'(z) = z (1 - z)
    dL/da_r = dL/da_n ⊙ hn ⊙ σ'(r),                  σ'(r) = r (1 - r)
    dL/dhn  = dL/da_n ⊙ r_t
    dL/dh_(t-1) = dL/dh_t ⊙ z_t + [dL/da_r, dL/da_z, dL/dhn] W_hh;  dL/dx_t = [dL/da_r, dL/da_z, dL/da_n] W_ih"""
    W_ih, W_hh, _, _ = weights
    r, z, n = (state.gates[k] for k in GATE_NAMES["gru"])
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
