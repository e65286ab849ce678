"""Elman RNN cell (PyTorch nn.RNN): h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu."""
from __future__ import annotations

import numpy as np

from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout


class RNNCell:
    """One direction of one layer of an Elman RNN, over a whole padded batch."""

    num_gates = 1
    gate_names: tuple[str, ...] = ()
    has_cell_state = False

    def __init__(self, name: str, activation: str) -> None:
        if activation not in ("tanh", "relu"):
            raise ValueError(f"RNN activation must be 'tanh' or 'relu', got {activation!r}")
        self.name = name
        self.activation = activation
        self.equations = [f"h_t = {activation}(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)"]

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
