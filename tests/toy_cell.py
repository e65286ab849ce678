"""A toy cell kind defined only in the tests: a one-gate leaky RNN, to show that a cell registered from
outside rnnviz reaches every place that offers or draws cells.

    n_t = tanh(W_in x_t + b_in + W_hn h_(t-1) + b_hn)
    h_t = (1 - α) h_(t-1) + α n_t                        α = LEAK, a constant

It has everything a cell module has: a fast kernel over a padded batch, the textbook timestep and a
CellSpec; it is registered with ``rnnviz.engine.cells.registered`` (or the ``register_cell`` fixture).
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
    stacked_gate_layout,
)
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

NAME = "leaky"
LEAK = 0.3
GATES = (GateSpec("n", "candidate", "tanh", "candidate", "n_t = tanh(W_in x_t + b_in + W_hn h_(t-1) + b_hn)"),)
UPDATES = (StateUpdate("h_t = (1 - α) h_(t-1) + α n_t", f"(1 − {LEAK}) · {{h_prev}} + {LEAK} · {{n}}", "h"),)


class LeakyKernel:
    """The CellKernel: the input projection for all timesteps at once, one matmul per step."""

    def forward(self, inputs, weights: Weights, h0, c0, layout: TimeLayout, padded) -> LayerTrace:
        W_ih, W_hh, b_ih, b_hh = weights
        T, B, I = inputs.shape
        H = W_hh.shape[1]
        preact = (inputs.reshape(T * B, I) @ W_ih.T + (b_ih + b_hh)).reshape(T, B, H)
        candidate = np.empty((T, B, H), dtype=inputs.dtype)
        states = np.empty((T + 1, B, H), dtype=inputs.dtype)  # see TimeLayout
        states[layout.initial_slot] = h0
        for t in layout.steps():
            h_prev, h = states[layout.previous_slot(t)], states[layout.state_slot(t)]
            preact[t] += h_prev @ W_hh.T
            candidate[t] = np.tanh(preact[t])
            h[...] = (1 - LEAK) * h_prev + LEAK * candidate[t]
            if padded is not None:
                np.copyto(h, h_prev, where=padded[t])
        return LayerTrace(layer=-1, direction=int(layout.reverse), mode=NAME, inputs=inputs, preact=preact,
                          gates={"n": candidate}, hidden=layout.states(states),
                          prev_hidden=layout.previous(states), h0=states[layout.initial_slot].copy())

    def backward(self, trace: LayerTrace, W_hh, d_from_output, d_h_last, d_c_last, cut):
        """d_a_t = dh_t α (1 - n_t²);  dh_(t-1) = dh_t (1 - α) + d_a_t W_hh (padding: dh passes)."""
        T, B, H = trace.hidden.shape
        dtype = trace.hidden.dtype
        through_candidate = LEAK * (1 - trace.gates["n"] ** 2)  # (T, B, H) dh_t/da_t
        through_leak = np.full((T, B, 1), 1 - LEAK, dtype=dtype)  # the direct path h_(t-1) -> h_t
        if trace.mask is not None:
            real = trace.mask[:, :, None]
            through_candidate = through_candidate * real
            through_leak = through_leak * real + (1 - real)
        d_hidden, d_next, d_preact = (np.empty((T, B, H), dtype=dtype) for _ in range(3))
        d_carry = np.zeros((B, H), dtype=dtype) if d_h_last is None else d_h_last
        for t in reversed(TimeLayout(T, trace.reverse).steps()):
            d_next[t] = d_carry
            d_hidden[t] = d_from_output[t] + d_carry
            d_preact[t] = d_hidden[t] * through_candidate[t]
            d_carry = np.zeros((B, H), dtype=dtype) if cut[t] else d_hidden[t] * through_leak[t] + d_preact[t] @ W_hh
        grads = LayerGradTrace(layer=trace.layer, direction=trace.direction, d_hidden=d_hidden,
                               d_hidden_from_output=d_from_output, d_hidden_from_next=d_next, d_preact=d_preact,
                               d_hidden_preact=d_preact, inputs=trace.inputs, prev_hidden=trace.prev_hidden)
        return grads, d_carry, None


def step_forward(weights: Weights, x_t, h_prev, c_prev=None) -> StepState:
    """The module docstring's equations for one timestep over a batch."""
    W_ih, W_hh, b_ih, b_hh = weights
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, H)
    n = np.tanh(a)
    return StepState(NAME, x_t, h_prev, None, {"n": a}, {"n": n}, (1 - LEAK) * h_prev + LEAK * n)


def step_backward(weights: Weights, state: StepState, d_h, d_c=None) -> StepGrads:
    """dL/da = dL/dh_t α tanh'(n);  dL/dh_(t-1) = dL/dh_t (1 - α) + dL/da W_hh;  dL/dx_t = dL/da W_ih."""
    W_ih, W_hh, _, _ = weights
    derivative = 1 - state.gates["n"] ** 2
    d_a = d_h * LEAK * derivative
    return StepGrads(d_h, None, {"tanh'(n)": derivative}, {"n": d_a}, d_a,
                     d_h_prev=d_h * (1 - LEAK) + d_a @ W_hh, d_x=d_a @ W_ih)


LEAKY = CellSpec(
    name=NAME, title="Leaky RNN", noun="a leaky RNN", gates=GATES, updates=UPDATES, has_cell_state=False,
    carry_gate=None, kernel=LeakyKernel(), step_forward=step_forward, step_backward=step_backward,
    layout=stacked_gate_layout(1),
)
