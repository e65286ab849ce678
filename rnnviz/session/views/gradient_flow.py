"""Why gradients vanish or explode, for the selected sample, layer and direction: the view state of
the gradient-flow panel.

    view = gradient_flow_view(session, selection)      # or (..., result=session.inspect())

The lag curve ||∂h_last/∂h_(last - lag)|| comes from ``engine.dynamics.lag_gradient_norms`` on this
layer's own inputs (the layer below's outputs for layers above 0) and initial state, in processing
order (the reverse direction's last step is t = 0); the eigenvalues are W_hh's gate blocks (the LRU: its
λ; none for the cells whose decay depends on the input). For the cells whose memory is their cell state
(LRU, selective) the lag curve is ||∂c_last/∂c_(last - lag)|| and the norms are ||dL/dc_t||.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.dynamics import cell_eigenvalues, lag_gradient_norms
from rnnviz.engine.model import StepResult
from rnnviz.engine.stepping import layer_weights
from rnnviz.engine.trace import grad_norm_per_step
from rnnviz.session.session import Selection, Session


@dataclass(frozen=True)
class GradientFlowView:
    lags: np.ndarray  # (T,) 0 .. T-1 steps before the last processed step
    lag_norms: np.ndarray  # (T,) ||∂h_last/∂h_(last - lag)||_F
    eigenvalues: dict[str, np.ndarray]  # gate -> (H,) complex eigenvalues of W_hh's gate block
    spectral_radius: dict[str, float]  # gate -> max |eigenvalue|
    grad_norm_per_step: np.ndarray  # (T,) ||dL/dh_t|| of the selected sample (timestep order)
    ratio_first_last: float  # see first_last_ratio
    step: int | None = None  # the training step the weights are from
    layer: int = 0
    direction: int = 0


def first_last_ratio(grad_norm_per_step: np.ndarray, reverse: bool = False) -> float:
    """||dL/dh|| at the first processed step over that at the last processed step (t = 0 over t = T-1;
    reverse direction: t = T-1 over t = 0). The one definition: when the last norm is 0 the ratio is
    inf if the first is not 0 (the gradient grew from nothing) and NaN if both are 0 (no gradient
    at all: no ratio); views show a finite ratio as a number and say so otherwise."""
    norms = np.asarray(grad_norm_per_step, dtype=np.float64)
    first, last = (norms[-1], norms[0]) if reverse else (norms[0], norms[-1])
    if last == 0:
        return float("nan") if first == 0 else float("inf")
    return float(first / last)


def gradient_flow_view(session: Session, selection: Selection = Selection(),
                       result: StepResult | None = None, step: int | None = None) -> GradientFlowView:
    """The lag-norm curve, the W_hh spectrum and the gradient-norm ratio; ``result`` (a
    ``session.inspect()``) is reused when given, otherwise one is taken. ``step`` labels the view
    (default: the session's step count)."""
    sel = session.clamp(selection)
    result = session.inspect() if result is None else result
    forward = result.trace.layer(sel.layer, sel.direction)
    backward = result.core_grads.layer(sel.layer, sel.direction)
    s = sel.sample
    weights = layer_weights(result.trace.weights, sel.layer, sel.direction, np.float64, mode=forward.mode)
    mask = None if result.trace.mask is None else result.trace.mask[:, s]
    lag = lag_gradient_norms(
        forward.mode, weights, forward.inputs[:, s], forward.h0[s],
        None if forward.c0 is None else forward.c0[s], mask, forward.reverse,
    )
    spectrum = cell_eigenvalues(forward.mode, weights)
    norms = grad_norm_per_step(session.model.core.cell.memory_gradient(backward)[:, s])  # (T,)
    return GradientFlowView(
        lags=lag.lags, lag_norms=lag.norms, eigenvalues=dict(spectrum.eigenvalues),
        spectral_radius=dict(spectrum.spectral_radius), grad_norm_per_step=norms,
        ratio_first_last=first_last_ratio(norms, forward.reverse),
        step=session.step if step is None else step, layer=sel.layer, direction=sel.direction,
    )
