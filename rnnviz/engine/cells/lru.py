"""LRU, the linear recurrent unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
Long Sequences"): a complex diagonal linear recurrence whose eigenvalues λ are parameters, kept
inside the unit circle by construction, and a real read-out.

    λ = exp(-exp(ν) + iθ)           |λ| = exp(-exp(ν)) < 1 for every ν: stable, how long a unit remembers
    γ = √(1 - |λ|²)                 normalises the input so that |c| stays of order 1
    c_t = λ ⊙ c_(t-1) + γ ⊙ (B x_t) the state (the paper's h_t), H complex numbers
    h_t = Re(C c_t) + D x_t         the layer's output (the paper's y_t), H real numbers

λ does not depend on the input: the LRU is *time-invariant*, every step decays and rotates the state
the same way whatever it reads (compare the selective layer). The recurrence is linear, so it can be
computed with a parallel scan.

In rnnviz the complex state is a cell state of 2H real numbers, [Re c_t, Im c_t]; h_t, the output,
is what the layer above and the head read, and is not read back by the next step. Parameters per layer
and direction: ``nu`` (H,), ``theta`` (H,), ``B_re`` and ``B_im`` (H, I), ``C_re`` and ``C_im``
(H, H), ``D`` (H, I). Initialisation: |λ| uniform on the ring between R_MIN and R_MAX (in the area
sense: |λ|² uniform), θ uniform in [0, MAX_PHASE], B ~ N(0, 1/(2I)), C ~ N(0, 1/H), D ~ N(0, 1/I).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnviz.engine.cells.base import CellSpec, GateSpec, StateUpdate, StepGrads, StepState, Weights, param_kind
from rnnviz.engine.cells.linear import (
    backward_output,
    backward_states,
    carry_output,
    carry_padding,
    forward_states,
    no_hidden_projection,
    real_steps,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "lru"
R_MIN, R_MAX, MAX_PHASE = 0.5, 0.99, np.pi  # the ring initialisation of |λ| and θ
KINDS = ("nu", "theta", "B_re", "B_im", "C_re", "C_im", "D")
GATES = (
    GateSpec("u", "input drive, real part", "", "linear", "u_t + i v_t = γ ⊙ (B x_t),  γ = √(1 - |λ|²)"),
    GateSpec("v", "input drive, imaginary part", "", "linear", "v_t = Im(γ ⊙ (B x_t))"),
)
DISPLAY = ("λ_re", "λ_im", "c_prev_im", "c_im", "readout", "skip")
UPDATES = (
    StateUpdate("Re c_t = Re λ · Re c_(t-1) - Im λ · Im c_(t-1) + u_t,  λ = exp(-exp(ν) + iθ)",
                "{λ_re} · {c_prev} − {λ_im} · {c_prev_im} + {u}", "c"),
    StateUpdate("Im c_t = Im λ · Re c_(t-1) + Re λ · Im c_(t-1) + v_t",
                "{λ_im} · {c_prev} + {λ_re} · {c_prev_im} + {v}", "c_im"),
    StateUpdate("h_t = Re(C c_t) + D x_t", "{readout} + {skip}", "h"),
)


def layout(layer_input: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    H, I = hidden_size, layer_input
    return {"nu": (H,), "theta": (H,), "B_re": (H, I), "B_im": (H, I), "C_re": (H, H), "C_im": (H, H),
            "D": (H, I)}


def eigenvalues(nu: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(λ complex (H,), γ (H,)) from ν and θ; γ = √(-expm1(-2 exp ν)) is accurate when |λ| is near 1."""
    rate = np.exp(nu)
    lam = np.exp(-rate) * np.exp(1j * theta)
    gamma = np.sqrt(-np.expm1(-2.0 * rate))
    return lam, gamma


def _complex(state: np.ndarray) -> np.ndarray:
    """(..., 2H) [Re, Im] -> (..., H) complex."""
    H = state.shape[-1] // 2
    return state[..., :H] + 1j * state[..., H:]


def _real(state: np.ndarray, dtype) -> np.ndarray:
    """(..., H) complex -> (..., 2H) [Re, Im]."""
    return np.concatenate([state.real, state.imag], axis=-1).astype(dtype, copy=False)


class LRUCell:
    """One layer and direction over a padded batch: the input drive for all timesteps in one complex
    matmul, the recurrence c_t = λ ⊙ c_(t-1) + drive_t (loop or scan), the read-out in one matmul."""

    name = NAME

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: np.ndarray, layout: TimeLayout,
                padded: np.ndarray | None, scan: bool = False) -> LayerTrace:
        nu, theta, B_re, B_im, C_re, C_im, D = weights
        T, B, I = inputs.shape
        H = nu.shape[0]
        dtype = inputs.dtype
        lam, gamma = eigenvalues(nu, theta)
        x = inputs.reshape(T * B, I)
        drive_re = (gamma * (x @ B_re.T)).reshape(T, B, H)
        drive_im = (gamma * (x @ B_im.T)).reshape(T, B, H)
        real = real_steps(padded, dtype)
        a, b = carry_padding(lam.astype(np.result_type(dtype, 1j))[None, None], drive_re + 1j * drive_im, real)
        states, previous = forward_states(a, b, _complex(c0), layout, scan)  # (T, B, H) complex
        output = (states.real.reshape(T * B, H) @ C_re.T - states.imag.reshape(T * B, H) @ C_im.T
                  + x @ D.T).reshape(T, B, H)
        hidden, prev_hidden = carry_output(output.astype(dtype, copy=False), h0, real, layout)
        preact = np.concatenate([drive_re, drive_im], axis=-1).astype(dtype, copy=False)
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=NAME, inputs=inputs, preact=preact,
            gates={"u": preact[:, :, :H], "v": preact[:, :, H:]}, hidden=hidden, prev_hidden=prev_hidden,
            h0=np.array(h0), cell_state=_real(states, dtype), prev_cell_state=_real(previous, dtype),
            c0=np.array(c0),
            cache={"decay": a, "weights": weights},  # decay: the multiplier of c_(t-1), λ (1 at padding)
        )

    def backward(self, trace: LayerTrace, W_hh: None, d_from_output: np.ndarray, d_h_last: np.ndarray | None,
                 d_c_last: np.ndarray | None, cut: np.ndarray,
                 scan: bool = False) -> tuple[LayerGradTrace, np.ndarray, np.ndarray]:
        """With G_t = dL/dRe c_t + i dL/dIm c_t: G_t = dL/dh_t C̄ (from the read-out) + conj(λ) ⊙ G_(t+1)
        (from the next step), a linear recurrence run backwards (loop or scan)."""
        layout = TimeLayout(trace.seq_len, trace.reverse)
        _, _, _, _, C_re, C_im, _ = trace_weights(trace)
        T, B, H = trace.hidden.shape
        real = None if trace.mask is None else trace.mask[:, :, None]
        d_hidden, from_next, d_output, d_h0 = backward_output(d_from_output, d_h_last, real, layout, cut)
        flat = d_output.reshape(T * B, H)
        direct = ((flat @ C_re) - 1j * (flat @ C_im)).reshape(T, B, H)
        start = None if d_c_last is None else _complex(d_c_last)
        total, _, d_c0 = backward_states(np.conj(trace.cache["decay"]), direct, start, layout, cut, scan)
        dtype = trace.hidden.dtype
        d_cell_state = _real(total, dtype)
        d_preact = d_cell_state if real is None else d_cell_state * real
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden, d_hidden_from_output=d_from_output,
            d_hidden_from_next=from_next, d_preact=d_preact, d_hidden_preact=no_hidden_projection(d_preact),
            inputs=trace.inputs, prev_hidden=trace.prev_hidden, d_cell_state=d_cell_state,
        )
        return grads, d_h0, _real(d_c0, dtype)


def trace_weights(trace: LayerTrace) -> Weights:
    """The weights a forward trace was computed with (kept by Recurrent.forward in the trace cache)."""
    return trace.cache["weights"]


def parameter_gradients(weights: Weights, inputs: np.ndarray, prev_state: np.ndarray, state: np.ndarray,
                        d_drive: np.ndarray, d_output: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every parameter's gradient and dL/dx, from (T, B, ·) arrays at real steps (zero at padding):
    the inputs x, c_(t-1) and c_t as [Re, Im], d_drive = dL/d(u + iv) = G_t and d_output = dL/dh_t.

        dL/dλ = Σ conj(c_(t-1)) G_t;   dL/dν = -e^ν Re(conj(λ) dL/dλ) + dL/dγ e^ν |λ|² / γ;
        dL/dθ = Im(conj(λ) dL/dλ);     dL/dγ = Σ Re(conj(B x_t) G_t);
        dL/dB_re = γ ⊙ Σ Re G_t x_t^T,  dL/dB_im = γ ⊙ Σ Im G_t x_t^T;
        dL/dC_re = Σ dL/dh_t Re c_t^T,  dL/dC_im = -Σ dL/dh_t Im c_t^T,  dL/dD = Σ dL/dh_t x_t^T;
        dL/dx_t = dL/dh_t D + γ ⊙ (Re G_t B_re + Im G_t B_im)."""
    nu, theta, B_re, B_im, C_re, C_im, D = weights
    H = nu.shape[0]
    I = inputs.shape[-1]
    lam, gamma = eigenvalues(nu, theta)
    x = inputs.reshape(-1, I)
    g_re, g_im = d_drive[..., :H].reshape(-1, H), d_drive[..., H:].reshape(-1, H)
    p_re, p_im = prev_state[..., :H].reshape(-1, H), prev_state[..., H:].reshape(-1, H)
    d_lam_re = np.einsum("kh,kh->h", p_re, g_re) + np.einsum("kh,kh->h", p_im, g_im)
    d_lam_im = np.einsum("kh,kh->h", p_re, g_im) - np.einsum("kh,kh->h", p_im, g_re)
    rate = np.exp(nu)
    d_gamma = np.einsum("kh,kh->h", x @ B_re.T, g_re) + np.einsum("kh,kh->h", x @ B_im.T, g_im)
    through_gamma = np.divide(rate * np.abs(lam) ** 2, gamma, out=np.zeros_like(gamma), where=gamma > 0)
    d_nu = -rate * (lam.real * d_lam_re + lam.imag * d_lam_im) + d_gamma * through_gamma
    d_theta = lam.real * d_lam_im - lam.imag * d_lam_re
    dy = d_output.reshape(-1, H)
    c_re, c_im = state[..., :H].reshape(-1, H), state[..., H:].reshape(-1, H)
    grads = {
        "nu": d_nu, "theta": d_theta,
        "B_re": gamma[:, None] * (g_re.T @ x), "B_im": gamma[:, None] * (g_im.T @ x),
        "C_re": dy.T @ c_re, "C_im": -(dy.T @ c_im), "D": dy.T @ x,
    }
    d_inputs = dy @ D + (gamma * g_re) @ B_re + (gamma * g_im) @ B_im
    return grads, d_inputs.reshape(inputs.shape)


def accumulate(forward: LayerTrace, grads: LayerGradTrace, weights: Mapping[str, np.ndarray],
               out: Mapping[str, np.ndarray], d_input: np.ndarray) -> None:
    """The LRU's parameter gradients (``parameter_gradients``) over the whole sequence and batch."""
    d_output = grads.d_hidden if forward.mask is None else grads.d_hidden * forward.mask[:, :, None]
    values, d_inputs = parameter_gradients(tuple(weights[k] for k in KINDS), forward.inputs, forward.prev_cell_state,
                                           forward.cell_state, grads.d_preact, d_output)
    for kind, value in values.items():
        out[kind][...] = value
    d_input += d_inputs


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> StepState:
    """λ = exp(-exp(ν) + iθ);  γ = √(1 - |λ|²);  u_t + i v_t = γ ⊙ (B x_t);
    c_t = λ ⊙ c_(t-1) + u_t + i v_t;  h_t = Re(C c_t) + D x_t.  (h_(t-1) is not read.)"""
    nu, theta, B_re, B_im, C_re, C_im, D = weights
    lam = np.exp(-np.exp(nu) + 1j * theta)
    gamma = np.sqrt(1 - np.abs(lam) ** 2)
    drive = gamma * (x_t @ (B_re + 1j * B_im).T)  # (B, H)
    c_before = _complex(c_prev)
    c = lam * c_before + drive
    readout = (c @ (C_re + 1j * C_im).T).real
    skip = x_t @ D.T
    h = readout + skip
    ones = np.ones_like(h)
    gates = {"u": drive.real, "v": drive.imag, "λ_re": lam.real * ones, "λ_im": lam.imag * ones,
             "c_prev_im": c_before.imag, "c_im": c.imag, "readout": readout, "skip": skip}
    return StepState(NAME, x_t, h_prev, c_prev, {"u": drive.real, "v": drive.imag}, gates, h,
                     c=_real(c, h.dtype))


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: np.ndarray | None) -> StepGrads:
    """G_t = dL/dc_t (complex: dL/dRe c + i dL/dIm c) = d_c (what the next step sent) + dL/dh_t C̄;
    dL/d(u + iv) = G_t;  dL/dc_(t-1) = conj(λ) ⊙ G_t;  dL/dh_(t-1) = 0 (h is not read by the step)."""
    nu, theta, B_re, B_im, C_re, C_im, D = weights
    lam = np.exp(-np.exp(nu) + 1j * theta)
    total = d_h @ (C_re - 1j * C_im)  # (B, H) complex
    if d_c is not None:
        total = total + _complex(d_c)
    d_drive = _real(total, d_h.dtype)
    d_c_prev = _real(np.conj(lam) * total, d_h.dtype)
    contribution, d_x = parameter_gradients(weights, state.x[None], state.c_prev[None], state.c[None],
                                            d_drive[None], d_h[None])
    H = nu.shape[0]
    local = {"|λ|": np.abs(lam) * np.ones_like(d_h), "θ": theta * np.ones_like(d_h)}
    return StepGrads(d_h, d_drive, local, {"u": d_drive[:, :H], "v": d_drive[:, H:]}, no_hidden_projection(d_h),
                     contribution, d_h_prev=np.zeros_like(d_h), d_c_prev=d_c_prev, d_x=d_x[0])


def init(params: Mapping[str, np.ndarray], hidden_size: int, rng: np.random.Generator) -> None:
    """The ring initialisation of Orvieto et al. 2023 (module docstring), per layer and direction."""
    for name, array in params.items():
        kind = param_kind(name)
        if kind == "nu":
            squared = rng.uniform(size=array.shape) * (R_MAX ** 2 - R_MIN ** 2) + R_MIN ** 2  # |λ|²
            array[...] = np.log(-0.5 * np.log(squared))
        elif kind == "theta":
            array[...] = rng.uniform(0, MAX_PHASE, size=array.shape)
        elif kind in ("B_re", "B_im"):
            array[...] = rng.normal(0, 1 / np.sqrt(2 * array.shape[1]), size=array.shape)
        elif kind in ("C_re", "C_im"):
            array[...] = rng.normal(0, 1 / np.sqrt(array.shape[1]), size=array.shape)
        else:  # D
            array[...] = rng.normal(0, 1 / np.sqrt(array.shape[1]), size=array.shape)


SPEC = CellSpec(
    name=NAME, title="LRU", noun="an LRU", gates=GATES, updates=UPDATES, has_cell_state=True, carry_gate=None,
    kernel=LRUCell(), step_forward=step_forward, step_backward=step_backward, layout=layout, default_init=init,
    hidden_range=None, accumulate=accumulate, display_values=DISPLAY, state_size=lambda hidden: 2 * hidden,
    state_word="state [Re c, Im c]", memory_state="c", scannable=True,
    recurrence="c_t = λ ⊙ c_(t−1) + γ ⊙ (B x_t)",
    memory_blocks=3,  # complex states and their gradients take twice the room of two real blocks
    eigenvalues=lambda weights: {"λ": eigenvalues(weights[0], weights[1])[0]},
    notes="λ does not depend on the input: every step decays and rotates the state the same way.",
    column_words={"B_re": "input", "B_im": "input", "C_re": "state unit", "C_im": "state unit", "D": "input",
                  "nu": "ν", "theta": "θ"},
)
