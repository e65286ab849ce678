"""Why gradients vanish or explode, for the selected sample, layer and direction: the view state of
the gradient-flow panel.

    view = gradient_flow_view(session, selection)      # or (..., result=session.inspect())

The lag curve ||∂h_last/∂h_(last - lag)|| comes from ``engine.dynamics.lag_gradient_norms`` on this
layer's own inputs (the layer below's outputs for layers above 0) and initial state, in processing
order (the reverse direction's last step is t = 0); the eigenvalues are the cell's input-independent
ones (``CellSpec.eigenvalues``: W_hh's gate blocks, the LRU's λ). A cell whose decay depends on the
input (``CellSpec.decay``: minGRU 1 − z_t, minLSTM f′_t, selective Ā_t) has none; its view holds that
decay per timestep for the selected sample instead. For the cells whose memory is their cell state
(LRU, selective) the lag curve is ||∂c_last/∂c_(last - lag)|| and the norms are ||dL/dc_t||
(``state_symbol`` "c").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.cells import CellSpec, cell_spec
from rnnviz.engine.dynamics import cell_eigenvalues, lag_gradient_norms
from rnnviz.engine.model import StepResult
from rnnviz.engine.stepping import layer_weights
from rnnviz.engine.trace import grad_norm_per_step
from rnnviz.session.session import Selection, Session
from rnnviz.session.views.common import PAD_LABEL, TimeAxis, sample_time_axis

LAG_PAD_LABEL = "pad"  # a padded timestep on the lag axis (see lag_labels)


@dataclass(frozen=True)
class StepDecayView:
    """How much of its memory each unit keeps at each timestep, for the selected sample."""

    label: str  # its symbol, e.g. "1 − z_t" (CellSpec.decay)
    equation: str  # what the symbol stands for ("" when plain), e.g. "Ā_t = exp(Δ_t A)"
    values: np.ndarray  # (T, R) in [0, 1]
    rows: str  # what the R rows are, e.g. "hidden unit"
    time: TimeAxis


@dataclass(frozen=True)
class GradientFlowView:
    lags: np.ndarray  # (T,) 0 .. T-1 steps before the last processed step
    lag_norms: np.ndarray  # (T,) ||∂h_last/∂h_(last - lag)||_F (state_symbol "c": ∂c)
    eigenvalues: dict[str, np.ndarray]  # name -> (H,) complex: W_hh's gate blocks, the LRU's λ
    spectral_radius: dict[str, float]  # name -> max |eigenvalue|
    grad_norm_per_step: np.ndarray  # (T,) ||dL/dh_t|| of the selected sample (timestep order; "c": dL/dc_t)
    ratio_first_last: float  # see first_last_ratio
    step: int | None = None  # the training step the weights are from
    layer: int = 0
    direction: int = 0
    state_symbol: str = "h"  # the state that carries memory (CellSpec.memory_state): "h" or "c"
    eigen_title: str = "eigenvalues of W_hh"  # what the eigenvalues are
    decay: StepDecayView | None = None  # cells whose decay depends on the input
    # (T,) what the timestep at each lag is called (tokens, "<pad>"; lag order); None: the lags are numbered
    lag_labels: tuple[str, ...] | None = None
    lag_title: str = "lag T − t (steps back)"  # the lag axis's title


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
    spec = cell_spec(forward.mode)
    norms = grad_norm_per_step(spec.memory_gradient(backward)[:, s])  # (T,)
    time = sample_time_axis(session, s)
    return GradientFlowView(
        lags=lag.lags, lag_norms=lag.norms, eigenvalues=dict(spectrum.eigenvalues),
        spectral_radius=dict(spectrum.spectral_radius), grad_norm_per_step=norms,
        ratio_first_last=first_last_ratio(norms, forward.reverse),
        step=session.step if step is None else step, layer=sel.layer, direction=sel.direction,
        state_symbol=spec.memory_state, eigen_title=eigen_title(spec),
        decay=step_decay_view(session, spec, forward, weights, s, time),
        lag_labels=lag_labels(time, lag.timesteps),
        lag_title=f"{time.title}, steps back from the last" if time.named else GradientFlowView.lag_title,
    )


def lag_labels(time: TimeAxis, timesteps: np.ndarray) -> tuple[str, ...] | None:
    """The name of the timestep at each lag (``timesteps``: (T,) the timestep of lag 0, 1, ...); None
    when the timesteps are just numbered (the lags are numbers then). A padded step is called "pad":
    in lag order padding comes first (lag 0 is the last step), and "<pad>" on an axis marks where
    trailing padding starts, hiding every label after it."""
    if not time.named:
        return None
    return tuple(LAG_PAD_LABEL if time.labels[t] == PAD_LABEL else time.labels[t] for t in timesteps)


def eigen_title(spec: CellSpec) -> str:
    """What the eigenvalue plot shows: W_hh's blocks, or the cell's own (e.g. "λ of the LRU")."""
    if spec.eigenvalues is not None:
        return f"eigenvalues of the {spec.title}"
    return "eigenvalues of W_hh"


def step_decay_view(session: Session, spec: CellSpec, forward, weights, sample: int,
                    time: TimeAxis) -> StepDecayView | None:
    """The cell's input-dependent decay (``CellSpec.decay``) for one sample, (T, R); None without one."""
    if spec.decay is None:
        return None
    values = np.asarray(spec.decay.values(forward, weights), dtype=np.float64)[:, sample]  # (T, R)
    return StepDecayView(spec.decay.label, spec.decay.equation, values, spec.decay.rows, time)
