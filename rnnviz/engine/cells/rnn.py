"""Elman RNN cell (PyTorch nn.RNN): h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu.

Two cell kinds, ``rnn_tanh`` and ``rnn_relu``: the fast kernel ``RNNCell``, the textbook timestep
(``step_forward`` / ``step_backward``) and their specs ``RNN_TANH`` and ``RNN_RELU``.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from rnnviz.engine.cells.base import CellSpec, GateSpec, StepGrads, StepState, Weights, stacked_gate_layout
from rnnviz.engine.kernels import CompiledKernel
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout


class RNNCell:
    """One direction of one layer of an Elman RNN, over a whole padded batch."""

    def __init__(self, name: str, activation: str) -> None:
        if activation not in ("tanh", "relu"):
            raise ValueError(f"RNN activation must be 'tanh' or 'relu', got {activation!r}")
        self.name = name
        self.activation = activation

    def forward(
        self,
        inputs: np.ndarray,  # (T, B, I)
        weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],  # W_ih, W_hh, b_ih, b_hh
        h0: np.ndarray,  # (B, H)
        c0: None,
        layout: TimeLayout,
        padded: np.ndarray | None,  # (T, B, 1) bool, True at padding
    ) -> LayerTrace:
        """a_t = W_ih x_t + b_ih + b_hh + W_hh h_(t-1);  h_t = act(a_t)."""
        W_ih, W_hh, b_ih, b_hh = weights
        T, B, I = inputs.shape
        H = W_hh.shape[1]
        preact = (inputs.reshape(T * B, I) @ W_ih.T + (b_ih + b_hh)).reshape(T, B, H)
        states = np.empty((T + 1, B, H), dtype=inputs.dtype)  # see TimeLayout
        states[layout.initial_slot] = h0
        W_hh_T = np.ascontiguousarray(W_hh.T)  # (H, H)
        recurrent = np.empty((B, H), dtype=inputs.dtype)
        relu = self.activation == "relu"
        for t in layout.steps():
            h_prev, h = states[layout.previous_slot(t)], states[layout.state_slot(t)]
            a = preact[t]
            np.dot(h_prev, W_hh_T, out=recurrent)
            np.add(a, recurrent, out=a)
            if relu:
                np.maximum(a, 0, out=h)
            else:
                np.tanh(a, out=h)
            if padded is not None:
                np.copyto(h, h_prev, where=padded[t])
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=self.name, inputs=inputs, preact=preact,
            gates={}, hidden=layout.states(states), prev_hidden=layout.previous(states),
            h0=states[layout.initial_slot],
        )

    def backward(
        self,
        trace: LayerTrace,
        W_hh: np.ndarray,  # (H, H)
        d_from_output: np.ndarray,  # (T, B, H), zero at padding
        d_h_last: np.ndarray | None,  # (B, H) dL/dh_n of this direction
        d_c_last: None,
        cut: np.ndarray,  # (T,) bool, see TimeLayout.recurrence_cut
    ) -> tuple[LayerGradTrace, np.ndarray, None]:
        """d_a_t = dh_t * act'(a_t);  dh_(t-1) = d_a_t @ W_hh (+ dh_t where step t is padding)."""
        hidden, T = trace.hidden, trace.seq_len
        B, H = hidden.shape[1], hidden.shape[2]
        dtype = hidden.dtype
        if self.activation == "relu":
            derivative = (trace.preact > 0).astype(dtype)  # (T, B, H)
        else:
            derivative = 1 - hidden * hidden
        keep = None
        if trace.mask is not None:
            real = trace.mask[:, :, None]
            derivative *= real
            keep = 1 - real  # (T, B, 1) 1 where the state is carried through padding
        d_next = np.empty((T, B, H), dtype=dtype)
        d_hidden = np.empty((T, B, H), dtype=dtype)
        d_preact = np.empty((T, B, H), dtype=dtype)
        d_h0 = np.empty((B, H), dtype=dtype)
        carried = np.empty((B, H), dtype=dtype)
        order = list(reversed(trace_steps(trace)))
        _start(d_next[order[0]], d_h_last)
        for q, t in enumerate(order):
            dh = d_hidden[t]
            np.add(d_from_output[t], d_next[t], out=dh)
            np.multiply(dh, derivative[t], out=d_preact[t])
            target = d_next[order[q + 1]] if q + 1 < T else d_h0
            if cut[t]:
                target.fill(0)
                continue
            np.dot(d_preact[t], W_hh, out=target)
            if keep is not None:
                np.multiply(dh, keep[t], out=carried)
                np.add(target, carried, out=target)
        grads = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden,
            d_hidden_from_output=d_from_output, d_hidden_from_next=d_next, d_preact=d_preact,
            d_hidden_preact=d_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden,
        )
        return grads, d_h0, None


def trace_steps(trace: LayerTrace) -> range:
    """Timesteps of a layer trace in the order its forward pass processed them."""
    return TimeLayout(trace.seq_len, trace.reverse).steps()


def _start(first: np.ndarray, given: np.ndarray | None) -> None:
    """Initialise the gradient flowing into the last processed step (dL/dh_n, or zero)."""
    if given is None:
        first.fill(0)
    else:
        first[...] = given


# ----------------------------------------------------------------------------- the textbook timestep


def step_forward(weights: Weights, x_t: np.ndarray, h_prev: np.ndarray, c_prev: None = None, *,
                 mode: str = "rnn_tanh", relu: bool = False) -> StepState:
    """a_t = W_ih x_t + b_ih + W_hh h_(t-1) + b_hh;  h_t = tanh(a_t)  (relu: max(0, a_t))."""
    W_ih, W_hh, b_ih, b_hh = weights
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, H)
    h = np.maximum(a, 0) if relu else np.tanh(a)
    return StepState(mode, x_t, h_prev, None, {"a": a}, {}, h)


def step_backward(weights: Weights, state: StepState, d_h: np.ndarray, d_c: None = None, *,
                  relu: bool = False) -> StepGrads:
    """dL/da_t = dL/dh_t ⊙ act'(a_t), with tanh'(a) = 1 - h_t², relu'(a) = [a > 0];
    dL/dh_(t-1) = dL/da_t W_hh;  dL/dx_t = dL/da_t W_ih."""
    W_ih, W_hh, _, _ = weights
    if relu:
        name, derivative = "relu'(a)", (state.preact["a"] > 0).astype(d_h.dtype)
    else:
        name, derivative = "tanh'(a)", 1 - state.h * state.h
    d_a = d_h * derivative  # (B, H)
    return StepGrads(d_h, None, {name: derivative}, {"a": d_a}, d_a,
                     d_h_prev=d_a @ W_hh, d_x=d_a @ W_ih)


# ----------------------------------------------------------------------------- the specs


def _spec(name: str, title: str, activation: str, function: str) -> CellSpec:
    relu = activation == "relu"
    return CellSpec(
        name=name, title=title, noun="a vanilla RNN",
        gates=(GateSpec("a", "pre-activation", function, "hidden",
                        f"h_t = {function}(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)"),),
        updates=(), has_cell_state=False, carry_gate=None, kernel=(kernel := RNNCell(name, activation)),
        compiled_kernel=CompiledKernel(kernel),  # numba loops (rnnviz/engine/kernels) where faster
        step_forward=partial(step_forward, mode=name, relu=relu), step_backward=partial(step_backward, relu=relu),
        layout=stacked_gate_layout(1), hidden_range=None if relu else (-1.0, 1.0), pytorch_module="nn.RNN",
        compare_by_default=not relu,
    )


RNN_TANH = _spec("rnn_tanh", "RNN (tanh)", "tanh", "tanh")
RNN_RELU = _spec("rnn_relu", "RNN (ReLU)", "relu", "ReLU")
