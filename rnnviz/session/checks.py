"""The gradient-check button: finite differences against BPTT for every weight matrix, on the view
batch, in float64 (a float32 session is checked through a float64 copy of its weights).

Each checked entry passes when |BPTT - FD| <= atol + rtol |FD| (``rnnviz.engine.gradcheck`` derives
atol from eps and the dtype and explains both tolerances); a row reports its worst entry: the
error there, the allowance there and their ratio (at most 1 to pass).

The check always uses full BPTT: a truncated gradient (tbptt) is deliberately not the gradient of
the loss, so comparing it with finite differences would only measure the truncation.
"""
from __future__ import annotations

from dataclasses import dataclass

from rnnviz.engine.gradcheck import DEFAULT_RTOL, ParamCheck, gradcheck
from rnnviz.engine.threads import blas_threads
from rnnviz.session.session import Session


@dataclass(frozen=True)
class CheckRow:
    name: str  # parameter name, e.g. "weight_hh_l0" or "head.weight"
    shape: tuple[int, ...]
    checked: int  # entries compared (a random subset of at most max_entries)
    worst_index: tuple[int, ...]  # the entry with the largest error / allowance ratio
    analytic: float  # BPTT's value there
    numeric: float  # the central difference there
    allowed: float  # atol + rtol |numeric| there
    ratio: float  # |analytic - numeric| / allowed: the row passes at <= 1
    atol: float
    rtol: float

    @property
    def error(self) -> float:
        """|analytic - numeric| at the worst entry."""
        return abs(self.analytic - self.numeric)

    @property
    def passed(self) -> bool:
        return self.ratio <= 1.0  # False for NaN

    @classmethod
    def from_check(cls, check: ParamCheck) -> "CheckRow":
        return cls(check.name, check.shape, check.checked, check.worst_index, check.worst_analytic,
                   check.worst_numeric, check.allowed, check.ratio, check.atol, check.rtol)


def gradient_check(session: Session, max_entries: int = 40, seed: int = 0, eps: float = 1e-6,
                   rtol: float = DEFAULT_RTOL) -> list[CheckRow]:
    """One row per parameter of the model (the recurrent core's matrices and the head).
    Default session (LSTM, hidden 32, adding T=50): 387 loss evaluations, ~0.7 s measured here."""
    batch = session.view_batch
    with blas_threads(1):  # tiny matmuls: a second BLAS thread only slows them down
        result = gradcheck(session.model, batch.inputs, batch.targets, batch.mask, eps=eps,
                           max_entries=max_entries, seed=seed, rtol=rtol)
    return [CheckRow.from_check(p) for p in result.params]
