"""The gradient-check button: finite differences against BPTT for every weight matrix, on the view
batch, in float64 (a float32 session is checked through a float64 copy of its weights).

The check always uses full BPTT: a truncated gradient (tbptt) is deliberately not the gradient of
the loss, so comparing it with finite differences would only measure the truncation.
"""
from __future__ import annotations

from dataclasses import dataclass

from rnnviz.engine.gradcheck import gradcheck
from rnnviz.engine.threads import blas_threads
from rnnviz.session.session import Session

DEFAULT_RTOL = 1e-5  # relative error (per matrix, see engine/gradcheck.py) a float64 check passes at


@dataclass(frozen=True)
class CheckRow:
    name: str  # parameter name, e.g. "weight_hh_l0" or "head.weight"
    shape: tuple[int, ...]
    checked: int  # entries compared (a random subset of at most max_entries)
    max_abs_error: float  # max |analytic - numeric|
    rel_error: float  # max_abs_error / max(|analytic|, |numeric|) over the checked entries
    passed: bool


def gradient_check(session: Session, max_entries: int = 40, seed: int = 0, eps: float = 1e-6,
                   rtol: float = DEFAULT_RTOL) -> list[CheckRow]:
    """One row per parameter of the model (the recurrent core's matrices and the head).
    Default session (LSTM, hidden 32, adding T=50): 386 loss evaluations, ~0.7 s measured here."""
    batch = session.view_batch
    with blas_threads(1):  # tiny matmuls: a second BLAS thread only slows them down
        result = gradcheck(session.model, batch.inputs, batch.targets, batch.mask, eps=eps,
                           max_entries=max_entries, seed=seed)
    return [
        CheckRow(p.name, p.shape, p.checked, p.max_abs_error, p.rel_error, bool(p.rel_error <= rtol))
        for p in result.params
    ]
