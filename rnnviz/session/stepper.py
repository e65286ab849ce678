"""The step-through cursor: the forward pass and backpropagation through time, one timestep at a time,
for one layer and direction of the session's view batch.

The stepper really steps, with the textbook equations of ``rnnviz.engine.stepping`` in float64:
forward step k computes timestep ``order[k]`` from the state the previous step left; backward step k
computes dL/dh at ``order[-1-k]`` from what arrives from the output there (taken from the reference
pass ``session.inspect()``: the layer's output gradient at t, plus dL/dh_n at the last processed
step) and what flows back from the step processed after it, cut at truncated-BPTT boundaries.
Padded steps carry the state unchanged and pass the gradient through untouched, as the engine does.

Per-sample values (CellStep, GradStep, *_so_far) are the selected sample's; weight-gradient
contributions and their running sum are over the whole view batch, so after T backward steps
``accumulated`` equals the layer's parameter gradients of the full backward pass.

Stepping the forward pass back while backward steps exist drops the backward steps (they need the
whole forward pass). ``seek_backward`` completes the forward pass first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.engine.clipping import global_norm
from rnnviz.engine.model import StepResult
from rnnviz.engine.recurrent import param_name
from rnnviz.engine.stepping import StepGrads, StepState, layer_weights, step_backward, step_forward, weight_labels
from rnnviz.engine.trace import TimeLayout, grad_norm_per_step
from rnnviz.session.session import Selection, Session


@dataclass(frozen=True)
class CellStep:
    """The selected sample's cell at one timestep (forward)."""

    t: int
    x: np.ndarray  # (I_l,) input to the layer
    h_prev: np.ndarray  # (H,)
    c_prev: np.ndarray | None  # (S,) cells with a cell state
    preact: dict[str, np.ndarray]  # gate name -> (H,)  (every block of CellSpec.block_names)
    gates: dict[str, np.ndarray]  # gate name -> (H,) activations (rnn: {})
    c: np.ndarray | None  # (S,) the cell state after the step (carried over at padding)
    h: np.ndarray  # (H,) the hidden state after the step (carried over at padding)
    masked: bool  # padded step: state carried over
    h_computed: np.ndarray | None = None  # (H,) what the cell computed (differs from h only at padding)
    c_computed: np.ndarray | None = None  # (S,) cells with a cell state


@dataclass(frozen=True)
class GradStep:
    """BPTT at one timestep."""

    t: int
    d_hidden_from_output: np.ndarray  # (H,) what arrives from the loss / the layer above at t (+ dL/dh_n)
    d_hidden_from_next: np.ndarray  # (H,) what flows back from the step that read h_t (after any cut)
    d_hidden: np.ndarray  # (H,) their sum
    d_cell: np.ndarray | None  # (S,) dL/dc_t of cells with a cell state
    local: dict[str, np.ndarray]  # (H,) local derivative factors by name, e.g. "tanh'(a)", "σ'(f)"
    d_preact: dict[str, np.ndarray]  # gate -> (H,)
    contribution: dict[str, np.ndarray]  # by label ("W_ih", ...; weight_labels): this timestep's share (whole batch)
    accumulated: dict[str, np.ndarray]  # sum of the contributions of the steps taken so far (whole batch)
    cut: bool  # truncated BPTT cut the recurrent gradient from this step to the state it read


@dataclass(frozen=True)
class ClipInfo:
    """Gradient-norm clipping of the full gradient (all parameters, PyTorch's rule)."""

    global_norm: float  # before clipping
    threshold: float | None  # None: clipping is off
    fires: bool
    scale: float  # factor the gradients are multiplied by (1.0 when it does not fire)

    @property
    def norm_after(self) -> float:
        return self.global_norm * self.scale


def clip_info(grads: dict[str, np.ndarray], threshold: float | None) -> ClipInfo:
    """What ``clip_grad_norm(grads, threshold)`` would do, without changing ``grads``."""
    norm = global_norm(grads)
    if not threshold or not math.isfinite(norm):
        return ClipInfo(norm, threshold or None, False, 1.0)
    coefficient = threshold / (norm + 1e-6)
    fires = coefficient < 1.0
    return ClipInfo(norm, float(threshold), fires, coefficient if fires else 1.0)


class _Pass:
    """Forward and backward steps of one layer/direction over the whole batch, in processing order."""

    def __init__(self, owner: "StepThrough") -> None:
        self.owner = owner
        self.states: list[StepState] = []  # raw cell outputs, forward step k
        self.hidden: list[np.ndarray] = []  # (B, H) h after step k (carried at padding)
        self.cells: list[np.ndarray | None] = []  # (B, H) c after step k (cells with a cell state)
        self.grads: list[GradStep] = []  # backward step k (selected sample)
        self._carry: list[tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]] = []

    # ---- forward
    def advance_forward(self) -> None:
        o = self.owner
        k = len(self.states)
        t = o.order[k]
        h_prev = o.h0 if k == 0 else self.hidden[k - 1]
        c_prev = o.c0 if k == 0 else self.cells[k - 1]
        state = step_forward(o.mode, o.weights, o.layer_inputs[t], h_prev, c_prev)
        real = o.real[t][:, None]  # (B, 1)
        self.states.append(state)
        self.hidden.append(np.where(real > 0, state.h, h_prev))
        self.cells.append(None if state.c is None else np.where(real > 0, state.c, c_prev))

    def retreat_forward(self) -> None:
        self.retreat_all_backward()
        for stack in (self.states, self.hidden, self.cells):
            stack.pop()

    # ---- backward
    def advance_backward(self) -> None:
        o = self.owner
        k = len(self.grads)
        t = o.order[-1 - k]
        d_next, d_c_next, accumulated = self._carry[-1] if self._carry else o.start_carry()
        real = o.real[t][:, None]  # (B, 1)
        d_h = o.arriving[t] + d_next  # (B, H)
        d_c_in = None if d_c_next is None else d_c_next * real
        grads: StepGrads = step_backward(o.mode, o.weights, self.states[o.seq_len - 1 - k], d_h * real, d_c_in)
        keep = 1 - real  # padding passes the gradient through unchanged
        d_prev = grads.d_h_prev + keep * d_h
        d_c_prev = None if d_c_next is None else grads.d_c_prev + keep * d_c_next
        d_cell = None if d_c_next is None else grads.d_c + keep * d_c_next
        if o.cut[t]:
            d_prev = np.zeros_like(d_prev)
            d_c_prev = None if d_c_prev is None else np.zeros_like(d_c_prev)
        total = {name: accumulated[name] + grads.contribution[name] for name in accumulated}
        self._carry.append((d_prev, d_c_prev, total))
        s = o.sample
        self.grads.append(GradStep(
            t=t, d_hidden_from_output=o.arriving[t, s].copy(), d_hidden_from_next=d_next[s].copy(),
            d_hidden=d_h[s].copy(), d_cell=None if d_cell is None else d_cell[s].copy(),
            local={n: v[s].copy() for n, v in grads.local.items()},
            d_preact={n: v[s].copy() for n, v in grads.d_preact.items()},
            contribution=grads.contribution, accumulated=total, cut=bool(o.cut[t]),
        ))

    def retreat_backward(self) -> None:
        for stack in (self.grads, self._carry):
            stack.pop()

    def retreat_all_backward(self) -> None:
        while self.grads:
            self.retreat_backward()


class StepThrough:
    """A cursor over the forward pass and BPTT of ``selection``'s layer and direction on the view batch.

    ``reference`` (optional) is a ``session.inspect()`` result to reuse; otherwise one is taken.
    """

    def __init__(self, session: Session, selection: Selection = Selection(),
                 reference: StepResult | None = None) -> None:
        self.session = session
        self.selection = session.clamp(selection)
        self.reference = session.inspect() if reference is None else reference
        layer, direction, self.sample = self.selection.layer, self.selection.direction, self.selection.sample
        forward = self.reference.trace.layer(layer, direction)
        backward = self.reference.core_grads.layer(layer, direction)
        self.mode = forward.mode
        self.memory_state = session.model.core.cell.memory_state
        self.weights = layer_weights(self.reference.trace.weights, layer, direction, np.float64, mode=self.mode)
        self.layer_inputs = forward.inputs.astype(np.float64)  # (T, B, I_l) padded steps zeroed
        self.seq_len = forward.seq_len
        T, B = self.seq_len, forward.hidden.shape[1]
        mask = self.reference.trace.mask
        self.real = np.ones((T, B)) if mask is None else np.asarray(mask, dtype=np.float64)  # (T, B)
        self.h0 = forward.h0.astype(np.float64)
        self.c0 = None if forward.c0 is None else forward.c0.astype(np.float64)
        layout = TimeLayout(T, forward.reverse)
        self.order: list[int] = list(layout.steps())
        self.tbptt: int | None = session.config.tbptt or None
        self.cut = layout.recurrence_cut(self.tbptt)  # (T,) bool
        # what arrives from the output at t; dL/dh_n enters at the last processed step
        self.arriving = backward.d_hidden_from_output.astype(np.float64)  # (T, B, H)
        self.arriving[self.order[-1]] += backward.d_hidden_from_next[self.order[-1]]
        self.full_grads: dict[str, np.ndarray] = {
            label: np.asarray(self.reference.grads[param_name(kind, layer, direction)], dtype=np.float64)
            for kind, label in weight_labels(self.mode).items()
        }
        self.clip = clip_info(self.reference.grads, session.config.clip_norm or None)
        self._cursor = _Pass(self)
        self._full: _Pass | None = None

    # ------------------------------------------------------------------ carried state

    def start_carry(self) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
        zeros = np.zeros_like(self.h0)
        return zeros, (None if self.c0 is None else np.zeros_like(self.c0)), {
            name: np.zeros_like(value) for name, value in self.full_grads.items()
        }

    # ------------------------------------------------------------------ cursor

    @property
    def forward_done(self) -> int:
        return len(self._cursor.states)

    @property
    def backward_done(self) -> int:
        return len(self._cursor.grads)

    @property
    def phase(self) -> str:
        return "backward" if self.backward_done > 0 else "forward"

    def step_forward(self) -> CellStep | None:
        """Compute the next timestep of the forward pass; None when the forward pass is complete."""
        if self.forward_done == self.seq_len:
            return None
        self._cursor.advance_forward()
        return self.current_forward

    def step_forward_back(self) -> None:
        """Undo the last forward step (and drop any backward steps)."""
        if self.forward_done:
            self._cursor.retreat_forward()

    def step_backward(self) -> GradStep | None:
        """The next backward step; None before the forward pass is complete or after the last step."""
        if self.forward_done < self.seq_len or self.backward_done == self.seq_len:
            return None
        self._cursor.advance_backward()
        return self.current_backward

    def step_backward_back(self) -> None:
        if self.backward_done:
            self._cursor.retreat_backward()

    def seek_forward(self, count: int) -> None:
        """Go to ``count`` forward steps taken (clamped to 0..T); drops backward steps."""
        count = min(max(int(count), 0), self.seq_len)
        self._cursor.retreat_all_backward()
        while self.forward_done > count:
            self._cursor.retreat_forward()
        while self.forward_done < count:
            self._cursor.advance_forward()

    def seek_backward(self, count: int) -> None:
        """Go to ``count`` backward steps taken (clamped to 0..T), completing the forward pass first."""
        count = min(max(int(count), 0), self.seq_len)
        while self.forward_done < self.seq_len:
            self._cursor.advance_forward()
        while self.backward_done > count:
            self._cursor.retreat_backward()
        while self.backward_done < count:
            self._cursor.advance_backward()

    def reset(self) -> None:
        self.seek_forward(0)

    @property
    def current_forward(self) -> CellStep | None:
        k = self.forward_done
        return self._cell_step(self._cursor, k - 1) if k else None

    @property
    def current_backward(self) -> GradStep | None:
        return self._cursor.grads[-1] if self._cursor.grads else None

    # ------------------------------------------------------------------ what the panels draw

    @property
    def hidden_so_far(self) -> np.ndarray:
        """(T, H) the selected sample's h_t, NaN where not yet computed."""
        return self._so_far([h[self.sample] for h in self._cursor.hidden])

    @property
    def cell_state_so_far(self) -> np.ndarray | None:
        """(T, S) the selected sample's c_t, NaN where not yet computed (None without a cell state)."""
        if self.c0 is None:
            return None
        return self._so_far([c[self.sample] for c in self._cursor.cells], self.c0.shape[1])

    @property
    def grad_norm_so_far(self) -> np.ndarray:
        """(T,) ||dL/dh_t|| of the selected sample (LRU, selective: ||dL/dc_t||), NaN where not yet computed."""
        return self._grad_norms(self._cursor)

    @property
    def hidden_full(self) -> np.ndarray:
        """(T, H) the selected sample's h_t of the whole forward pass (the cursor does not move)."""
        full = self._complete()
        return self._so_far([h[self.sample] for h in full.hidden])

    @property
    def grad_norm_full(self) -> np.ndarray:
        """(T,) ||dL/dh_t|| (LRU, selective: ||dL/dc_t||) of the whole backward pass (the cursor does not move)."""
        return self._grad_norms(self._complete())

    def _grad_norms(self, source: "_Pass") -> np.ndarray:
        norms = np.full(self.seq_len, np.nan)
        if source.grads:
            taken = [self.order[-1 - k] for k in range(len(source.grads))]
            memory = [step.d_hidden if self.memory_state == "h" else step.d_cell for step in source.grads]
            norms[taken] = grad_norm_per_step(np.stack(memory))
        return norms

    def cell_step(self, t: int) -> CellStep:
        """The forward step at timestep ``t`` (any t, stepped to or not)."""
        k = self._position(t)
        source = self._cursor if k < self.forward_done else self._complete()
        return self._cell_step(source, k)

    def grad_step(self, t: int) -> GradStep:
        """The backward step at timestep ``t`` (any t); ``accumulated`` counts the steps up to it."""
        k = self.seq_len - 1 - self._position(t)
        source = self._cursor if k < self.backward_done else self._complete()
        return source.grads[k]

    # ------------------------------------------------------------------ helpers

    def _position(self, t: int) -> int:
        if not 0 <= int(t) < self.seq_len:
            raise IndexError(f"timestep {t} is outside 0..{self.seq_len - 1}")
        return self.order.index(int(t))

    def _complete(self) -> _Pass:
        """A private pass stepped to the very end (for clicking on steps not reached yet)."""
        if self._full is None:
            full = _Pass(self)
            for _ in range(self.seq_len):
                full.advance_forward()
            for _ in range(self.seq_len):
                full.advance_backward()
            self._full = full
        return self._full

    def _so_far(self, rows: list[np.ndarray], width: int | None = None) -> np.ndarray:
        result = np.full((self.seq_len, self.h0.shape[1] if width is None else width), np.nan)
        for k, row in enumerate(rows):
            result[self.order[k]] = row
        return result

    def _cell_step(self, source: _Pass, k: int) -> CellStep:
        s, t = self.sample, self.order[k]
        state = source.states[k]
        c = source.cells[k]
        return CellStep(
            t=t, x=state.x[s].copy(), h_prev=state.h_prev[s].copy(),
            c_prev=None if state.c_prev is None else state.c_prev[s].copy(),
            preact={n: v[s].copy() for n, v in state.preact.items()},
            gates={n: v[s].copy() for n, v in state.gates.items()},
            c=None if c is None else c[s].copy(), h=source.hidden[k][s].copy(),
            masked=bool(self.real[t, s] == 0), h_computed=state.h[s].copy(),
            c_computed=None if state.c is None else state.c[s].copy(),
        )
