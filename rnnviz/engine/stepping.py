"""One timestep of a recurrent cell, written out like a textbook: the reference the fast engine is
checked against and what the step-through view shows.

Each cell kind has a forward step and a backward step over a batch, in its own module
(``CellSpec.step_forward`` / ``step_backward``); nothing there is optimised. This module dispatches on
the cell name and adds each timestep's weight-gradient contributions.
``weights`` are one layer and direction's parameters in the order of ``CellSpec.layout``: for the
PyTorch cells ``(W_ih, W_hh, b_ih, b_hh)`` (G*H stacked gate blocks in the order of
``CellSpec.block_names``). Shapes: B batch, I input size of the layer, H hidden size, G gates.

    state = step_forward(mode, weights, x_t, h_prev, c_prev)        # StepState
    grads = step_backward(mode, weights, state, d_h, d_c)           # StepGrads

``d_h`` is the total dL/dh_t (what arrives from the output plus what flows back from the step
that read h_t); ``d_c`` (cells with a cell state) is what flows back into c_t from the step that
read it (the LSTM: f_(t+1) ⊙ dL/dc_(t+1)). Masks are not handled here: the caller carries the state
through padded steps (h_t = h_(t-1), nothing flows there), as the engine does.

Sigmoids are computed as σ(a) = (1 + tanh(a / 2)) / 2, the same function without overflow.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.cells.base import StepGrads, StepState, Weights, param_kind, param_label, sigmoid, split_blocks
from rnnviz.engine.errors import EngineError
from rnnviz.engine.recurrent import param_name
from rnnviz.engine.trace import CONTRIBUTION_FACTORS, weight_contribution

CONTRIBUTION_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")  # labels of WEIGHT_KINDS (the stacked layout), in that order

__all__ = ["CONTRIBUTION_NAMES", "StepGrads", "StepState", "Weights", "gate_names", "layer_weights", "sigmoid",
           "split_blocks", "step_backward", "step_forward", "weight_labels"]


def gate_names(mode: str) -> tuple[str, ...]:
    """The parameter blocks of ``mode`` in order (a vanilla RNN: its pre-activation "a")."""
    return cell_spec(mode).block_names


def layer_weights(params: Mapping[str, np.ndarray], layer: int, direction: int, dtype=None,
                  mode: str | None = None) -> Weights:
    """One layer and direction's parameters out of a state dict, in the cell's layout order (the
    PyTorch cells: W_ih, W_hh, b_ih, b_hh), optionally cast. Without ``mode`` the kinds are read off
    the names (a state dict keeps the layout's order)."""
    if mode is not None:
        kinds = cell_spec(mode).param_kinds()
    else:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        kinds = tuple(param_kind(name) for name in params if name.endswith(suffix) and not name.startswith("head."))
    arrays = [params[param_name(kind, layer, direction)] for kind in kinds]
    if dtype is not None:
        arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    return tuple(arrays)


def weight_labels(mode: str) -> dict[str, str]:
    """kind -> label of the cell's parameters, in layout order (the PyTorch cells: weight_ih -> W_ih, ...)."""
    return {kind: param_label(kind) for kind in cell_spec(mode).param_kinds()}


def step_forward(mode: str, weights: Weights, x_t: np.ndarray, h_prev: np.ndarray,
                 c_prev: np.ndarray | None = None) -> StepState:
    """One timestep of the cell ``mode`` over a batch; its module's ``step_forward`` has the
    equations. ``c_prev`` (B, H) is needed for cells with a cell state only."""
    spec = cell_spec(mode)
    if spec.has_cell_state and c_prev is None:
        raise EngineError(f"{spec.noun} step needs the previous cell state c_prev (B, H)")
    return spec.step_forward(weights, x_t, h_prev, c_prev if spec.has_cell_state else None)


def step_backward(mode: str, weights: Weights, state: StepState, d_h: np.ndarray,
                  d_c: np.ndarray | None = None, contributions: bool = True) -> StepGrads:
    """Backpropagate through one timestep: ``d_h`` (B, H) is the total dL/dh_t, ``d_c`` (cells with
    a cell state, optional) what flows back into c_t from the next step. ``contributions=False``
    skips the weight gradients (for propagating many directions at once, e.g. Jacobians)."""
    spec = cell_spec(mode)
    if state.mode != mode:
        raise EngineError(f"this step state is from a {state.mode} cell, not {mode}")
    grads = spec.step_backward(weights, state, d_h, d_c if spec.has_cell_state else None)
    if not contributions or grads.contribution:  # a cell outside the stacked layout brings its own
        return grads
    factors = {
        "d_preact": np.concatenate([grads.d_preact[n] for n in spec.block_names], axis=-1),  # (B, GH)
        "d_hidden_preact": grads.d_hidden_preact,  # (B, GH)
        "inputs": state.x,  # (B, I)
        "prev_hidden": state.h_prev,  # (B, H)
    }
    contribution = {  # the layout's kinds of W_ih (GH, I), W_hh (GH, H), b_ih, b_hh (GH,)
        label: weight_contribution(factors[CONTRIBUTION_FACTORS[kind][0]],
                                   factors.get(CONTRIBUTION_FACTORS[kind][1]))  # type: ignore[arg-type]
        for kind, label in weight_labels(mode).items()
    }
    return StepGrads(grads.d_h, grads.d_c, grads.local, grads.d_preact, grads.d_hidden_preact,
                     contribution, grads.d_h_prev, grads.d_c_prev, grads.d_x)
