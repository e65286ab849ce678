"""The view state of the parallel-scan panel: the scan tree on a short sequence, the scan against the
loop on the session's own network (float64), the times of both against sequence length, and why a
tanh RNN, an LSTM or a GRU cannot be scanned.

    view = scan_view(session)                      # the tree, the difference; no times yet
    view = with_timing(view, timing)               # the times (rnnviz.session.scan.measure_scan_times)
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from rnnviz.engine.cells import cell_spec, cell_specs
from rnnviz.engine.scan import scan_tree
from rnnviz.session.scan import AGREEMENT, ScanDifference, ScanTiming, scan_difference
from rnnviz.session.session import Session

TREE_STEPS = 8  # the short sequence the tree is drawn for

WHY_IT_SCANS = (
    "Why it scans: one step of a linear recurrence is the map h ↦ a ⊙ h + b, and two steps compose into "
    "one of the same form, (a, b) then (a′, b′) = (a′ ⊙ a, a′ ⊙ b + b′). Composing is associative, so the "
    "scan combines neighbours, then pairs of pairs: 2⌈log₂ T⌉ − 1 levels instead of T steps in a row."
)
WHY_NOT = (
    "Why a tanh RNN, an LSTM or a GRU cannot: h_(t−1) goes through a nonlinearity, "
    "h_t = tanh(W_hh h_(t−1) + W_ih x_t + b) (their gates: σ(W_h· h_(t−1) + …)). Two steps, "
    "tanh(W₂ tanh(W₁ h + b₁) + b₂), are no single tanh(W h + b): composed steps are not closed under a "
    "fixed-size representation, so there is nothing to combine in pairs and h_t waits for h_(t−1)."
)


@dataclass(frozen=True)
class ScanTreeView:
    """The combinations of ``rnnviz.engine.scan.parallel_scan`` on ``steps`` steps."""

    steps: int
    phases: tuple[str, ...]  # per level: "up" (sums over blocks of 2, 4, ...) or "down" (hands prefixes on)
    pairs: tuple[tuple[tuple[int, int], ...], ...]  # per level: (source, target) steps combined
    spans: tuple[tuple[tuple[int, int], ...], ...]  # per level + 1 (0: before any): (first, last) step
    # each position holds after that level

    @property
    def levels(self) -> int:
        return len(self.pairs)

    @property
    def combines(self) -> int:
        return sum(len(level) for level in self.pairs)


@dataclass(frozen=True)
class ScanView:
    cell: str
    title: str  # the cell's title, e.g. "minGRU"
    scannable: bool
    recurrence: str  # the cell's update as a linear recurrence ("" when it cannot scan)
    nonlinear: str  # the cell's first equation that reads h_(t−1) through a nonlinearity ("" when it can scan)
    tree: ScanTreeView
    difference: ScanDifference | None  # the session's network, loop against scan, float64; None: cannot scan
    agreement: float  # what the difference is held to (AGREEMENT)
    why_it_scans: str
    why_not: str
    scannable_cells: tuple[str, ...]  # titles of the cells that can scan
    timing: ScanTiming | None = None  # measured on request

    @property
    def agrees(self) -> bool | None:
        if self.difference is None:
            return None
        return self.difference.states <= self.agreement and self.difference.gradients <= self.agreement


def tree_view(steps: int = TREE_STEPS) -> ScanTreeView:
    tree = scan_tree(steps)
    spans = tuple(tuple(tree.span(level, t) for t in range(steps)) for level in range(-1, tree.depth))
    return ScanTreeView(steps, tree.phases, tree.levels, spans)


def scan_view(session: Session, tree_steps: int = TREE_STEPS) -> ScanView:
    """The tree, the loop-against-scan difference of the session's network and the cell's equations."""
    spec = cell_spec(session.config.cell)
    nonlinear = "" if spec.scannable else next(
        (eq for eq in spec.equations if "h_(t-1)" in eq), spec.equations[0])
    return ScanView(
        cell=spec.name, title=spec.title, scannable=spec.scannable, recurrence=spec.recurrence,
        nonlinear=nonlinear, tree=tree_view(tree_steps), difference=scan_difference(session),
        agreement=AGREEMENT, why_it_scans=WHY_IT_SCANS, why_not=WHY_NOT,
        scannable_cells=tuple(s.title for s in cell_specs() if s.scannable),
    )


def with_timing(view: ScanView, timing: ScanTiming | None) -> ScanView:
    """``view`` with the times measured so far."""
    return replace(view, timing=timing)


__all__ = ["ScanTreeView", "ScanView", "TREE_STEPS", "scan_view", "tree_view", "with_timing"]
