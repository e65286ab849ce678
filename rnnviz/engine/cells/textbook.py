"""A kernel made of a cell's textbook timestep: correct for any cell, slow (numpy calls per step).

A new cell kind can use ``StepKernel`` as its ``CellSpec.kernel`` until it has a fast one; the fast
one is then tested against it. Padding and truncated BPTT follow the engine's rules: a padded step
carries h (and c) unchanged and passes its gradient through untouched; a cut stops the gradient
from h_t (and c_t) to the state step t read.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.base import GateSpec, StepBackward, StepForward, Weights
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout


class StepKernel:
    """``CellKernel`` over one layer and direction, one textbook step per timestep."""

    def __init__(self, name: str, gates: tuple[GateSpec, ...], step_forward: StepForward,
                 step_backward: StepBackward, has_cell_state: bool, derived: tuple[GateSpec, ...] = ()) -> None:
        self.name = name
        self.block_names = tuple(gate.name for gate in gates)
        self.gate_names = tuple(gate.name for gate in gates if gate.kind != "hidden") + tuple(
            value.name for value in derived)
        self.step_forward = step_forward
        self.step_backward = step_backward
        self.has_cell_state = has_cell_state

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: np.ndarray | None,
                layout: TimeLayout, padded: np.ndarray | None, scan: bool = False) -> LayerTrace:
        """inputs (T, B, I); h0 (B, H), c0 (B, S); padded (T, B, 1) True at padding. (``scan`` is
        accepted and ignored: the textbook steps go one at a time.)"""
        T, B, _ = inputs.shape
        H = h0.shape[-1]
        dtype = inputs.dtype
        preact = np.empty((T, B, len(self.block_names) * H), dtype=dtype)
        gates = {name: np.empty((T, B, H), dtype=dtype) for name in self.gate_names}
        hidden, prev_hidden = np.empty((T, B, H), dtype=dtype), np.empty((T, B, H), dtype=dtype)
        S = c0.shape[-1] if self.has_cell_state else H
        cells = np.empty((T, B, S), dtype=dtype) if self.has_cell_state else None
        prev_cells = np.empty((T, B, S), dtype=dtype) if self.has_cell_state else None
        h, c = h0, c0 if self.has_cell_state else None
        steps = {}
        for t in layout.steps():
            state = self.step_forward(weights, inputs[t], h, c)
            steps[t] = state
            prev_hidden[t] = h
            preact[t] = np.concatenate([state.preact[name] for name in self.block_names], axis=-1)
            for name in self.gate_names:
                gates[name][t] = state.gates[name]
            keep = padded[t] if padded is not None else False  # (B, 1)
            h = np.where(keep, h, state.h)
            hidden[t] = h
            if self.has_cell_state:
                prev_cells[t] = c
                c = np.where(keep, c, state.c)
                cells[t] = c
        return LayerTrace(
            layer=-1, direction=int(layout.reverse), mode=self.name, inputs=inputs, preact=preact, gates=gates,
            hidden=hidden, prev_hidden=prev_hidden, h0=np.array(h0, dtype=dtype),
            cell_state=cells, prev_cell_state=prev_cells,
            c0=None if c0 is None or not self.has_cell_state else np.array(c0, dtype=dtype),
            cache={"steps": steps, "weights": weights},
        )

    def backward(self, trace: LayerTrace, W_hh: np.ndarray | None, d_from_output: np.ndarray,
                 d_h_last: np.ndarray | None, d_c_last: np.ndarray | None,
                 cut: np.ndarray, scan: bool = False) -> tuple[LayerGradTrace, np.ndarray, np.ndarray | None]:
        """Per timestep, last processed first: dL/dh_t = d_from_output[t] + what the step that read
        h_t sent back; the textbook backward step on the real samples; padding passes dh (and dc)."""
        T, B, H = trace.hidden.shape
        dtype = trace.hidden.dtype
        steps, weights = trace.cache["steps"], trace.cache["weights"]
        d_hidden, d_next = np.empty((T, B, H), dtype=dtype), np.empty((T, B, H), dtype=dtype)
        d_preact = np.empty_like(trace.preact)
        d_hidden_preact = None  # (T, B, G*H), or (T, B, 0) for a cell without a hidden projection
        d_cells = np.empty_like(trace.cell_state) if self.has_cell_state else None
        d_h_carry = np.zeros((B, H), dtype=dtype) if d_h_last is None else np.asarray(d_h_last, dtype=dtype)
        d_c_carry = None
        if self.has_cell_state:
            d_c_carry = (np.zeros(trace.cell_state.shape[1:], dtype=dtype) if d_c_last is None
                         else np.asarray(d_c_last, dtype=dtype))
        for t in reversed(TimeLayout(T, trace.reverse).steps()):
            real = np.ones((B, 1), dtype=dtype) if trace.mask is None else trace.mask[t][:, None].astype(dtype)
            keep = 1 - real  # padding passes the gradient through unchanged
            d_next[t] = d_h_carry
            d_h = d_from_output[t] + d_h_carry
            d_hidden[t] = d_h
            grads = self.step_backward(weights, steps[t], d_h * real, None if d_c_carry is None else d_c_carry * real)
            d_preact[t] = np.concatenate([grads.d_preact[name] for name in self.block_names], axis=-1)
            if d_hidden_preact is None:
                d_hidden_preact = np.empty((T,) + grads.d_hidden_preact.shape, dtype=dtype)
            d_hidden_preact[t] = grads.d_hidden_preact
            d_h_carry = grads.d_h_prev + keep * d_h
            if d_c_carry is not None:
                d_cells[t] = grads.d_c + keep * d_c_carry
                d_c_carry = grads.d_c_prev + keep * d_c_carry
            if cut[t]:
                d_h_carry = np.zeros_like(d_h_carry)
                d_c_carry = None if d_c_carry is None else np.zeros_like(d_c_carry)
        grads_trace = LayerGradTrace(
            layer=trace.layer, direction=trace.direction, d_hidden=d_hidden, d_hidden_from_output=d_from_output,
            d_hidden_from_next=d_next, d_preact=d_preact, d_hidden_preact=d_hidden_preact, inputs=trace.inputs,
            prev_hidden=trace.prev_hidden, d_cell_state=d_cells,
        )
        return grads_trace, d_h_carry, d_c_carry
