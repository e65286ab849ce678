"""The parallel scan beside the sequential loop, for a session: do they agree, and which is faster?

    difference = scan_difference(session)          # max |scan − loop| in float64, states and gradients
    timing = measure_scan_times(work, "mingru", hidden_size=32, input_size=8)   # loop and scan vs T

``scan_difference`` runs the session's network on its view batch twice in float64, once with the loop
and once with the associative scan (``Recurrent(..., scan=True)``, rnnviz/engine/scan.py), and
compares every state and every parameter gradient. ``measure_scan_times`` times one layer's forward
pass and BPTT at T = 16 … 4096 both ways (for a cell that cannot scan: the bare linear recurrence
h_t = a_t ⊙ h_(t−1) + b_t, what such a cell would gain), in alternating rounds so that load from other
processes hits both alike, best of ``repeats``. It is background work (rnnviz.ui.jobs runs it in a
process of its own, so that the window does not share its GIL): it calls ``work.check()`` between
runs (which raises when the person cancels) and offers each partial result to ``work.progress``
(the newest wins).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rnnviz.engine import Recurrent
from rnnviz.engine.cells import cell_spec
from rnnviz.engine.scan import linear_recurrence
from rnnviz.session.background import WorkContext
from rnnviz.session.session import Session

TIMING_LENGTHS = tuple(2 ** k for k in range(4, 13))  # T = 16 .. 4096
TIMING_REPEATS = 3
MAX_TIMING_HIDDEN = 64  # the timed layer's H at most (the selective layer's T x H x N state at T = 4096)
TIMING_INPUTS = 8  # the timed layer's input size at most
# The agreement the view asks of the two in float64: rnnviz/engine/scan.py bounds the difference of the
# recurrence by (4 ceil(log2 T) + 1) u β / (1 − ρ) + 2 u β / (1 − ρ)², below 3e-13 for β = 1, ρ <= 0.95
# and any T up to 2^20 (u = 1.1e-16); the states of the view batch stay far inside that.
AGREEMENT = 1e-12


@dataclass(frozen=True)
class ScanDifference:
    states: float  # max |scan − loop| over every h_t and c_t of every layer and direction (float64)
    gradients: float  # max |scan − loop| over every parameter gradient (float64)
    largest_state: float  # max |h_t|, |c_t|: the scale of ``states``
    largest_gradient: float  # max |dL/dw|: the scale of ``gradients``


def scan_difference(session: Session) -> ScanDifference | None:
    """The loop against the scan on the session's view batch, both in float64; None for a cell that
    cannot scan."""
    if not cell_spec(session.config.cell).scannable:
        return None
    model = session.model.astype(np.float64)
    batch = session.view_batch
    results = []
    for parallel in (False, True):
        model.core.scan = parallel
        results.append(model.loss_and_grads(batch.inputs, batch.targets, batch.mask, tbptt=session.config.tbptt or None))
    loop, scan = results
    states, largest_state = 0.0, 0.0
    for layer in range(model.config.num_layers):
        for direction in range(model.config.num_directions):
            first, second = loop.trace.layer(layer, direction), scan.trace.layer(layer, direction)
            pairs = [(first.hidden, second.hidden)]
            if first.cell_state is not None:
                pairs.append((first.cell_state, second.cell_state))
            for a, b in pairs:
                states = max(states, float(np.max(np.abs(a - b))))
                largest_state = max(largest_state, float(np.max(np.abs(a))))
    gradients = max(float(np.max(np.abs(loop.grads[k] - scan.grads[k]))) for k in loop.grads)
    largest_gradient = max(float(np.max(np.abs(g))) for g in loop.grads.values())
    return ScanDifference(states, gradients, largest_state, largest_gradient)


@dataclass(frozen=True)
class ScanTiming:
    """Loop and scan times against sequence length (seconds, best of the repeats); partial while it runs."""

    what: str  # what was timed, e.g. "minGRU layer, H = 32, B = 1: forward + BPTT (float32)"
    lengths: tuple[int, ...]  # T measured so far
    loop_seconds: tuple[float, ...]
    scan_seconds: tuple[float, ...]
    planned: tuple[int, ...]  # every T it will measure
    repeats: int = TIMING_REPEATS  # each time is the best of this many runs

    @property
    def complete(self) -> bool:
        return len(self.lengths) == len(self.planned)

    @property
    def fraction(self) -> float:
        return len(self.lengths) / max(len(self.planned), 1)


def measure_scan_times(work: WorkContext, cell: str, hidden_size: int, input_size: int, dtype: str = "float32",
                       lengths: tuple[int, ...] = TIMING_LENGTHS, repeats: int = TIMING_REPEATS) -> ScanTiming:
    """Time the loop and the scan at each T in ``lengths`` (see the module docstring); progress after each T."""
    spec = cell_spec(cell)
    hidden = min(int(hidden_size), MAX_TIMING_HIDDEN)
    inputs = min(int(input_size), TIMING_INPUTS)
    if spec.scannable:
        what = f"{spec.title} layer, H = {hidden}, I = {inputs}, B = 1: forward + BPTT ({dtype})"
    else:
        what = f"h_t = a_t ⊙ h_(t−1) + b_t alone, {hidden} values, B = 1 ({dtype}): {spec.title} cannot scan"
    timing = ScanTiming(what, (), (), (), tuple(lengths), repeats)
    work.progress(timing)
    for steps in lengths:
        work.check()
        runs = (_layer_runs if spec.scannable else _recurrence_runs)(cell, steps, hidden, inputs, np.dtype(dtype))
        loop, scan = _best_times(work, runs, repeats)
        timing = ScanTiming(what, timing.lengths + (steps,), timing.loop_seconds + (loop,),
                            timing.scan_seconds + (scan,), timing.planned, repeats)
        work.progress(timing)
    return timing


def build_scan_view(work: WorkContext, session: Session) -> Any:
    """The scan view of ``session`` (rnnviz.session.views.scan.scan_view), as background work."""
    from rnnviz.session.views.scan import scan_view

    work.check()
    return scan_view(session)


def _layer_runs(cell: str, steps: int, hidden: int, inputs: int, dtype: np.dtype) -> list[Callable[[], Any]]:
    rng = np.random.default_rng(steps)
    x = rng.standard_normal((steps, 1, inputs)).astype(dtype)
    d_output = rng.standard_normal((steps, 1, hidden)).astype(dtype)
    runs = []
    for parallel in (False, True):
        core = Recurrent(cell, inputs, hidden, dtype=dtype, seed=0, scan=parallel)
        runs.append(lambda core=core: core.backward(core.forward(x), d_output))
    return runs


def _recurrence_runs(cell: str, steps: int, hidden: int, inputs: int, dtype: np.dtype) -> list[Callable[[], Any]]:
    rng = np.random.default_rng(steps)
    a = rng.uniform(0, 0.95, size=(steps, 1, hidden)).astype(dtype)
    b = rng.uniform(-1, 1, size=(steps, 1, hidden)).astype(dtype)
    initial = np.zeros((1, hidden), dtype=dtype)
    return [lambda parallel=parallel: linear_recurrence(a, b, initial, parallel=parallel) for parallel in (False, True)]


def _best_times(work: WorkContext, runs: list[Callable[[], Any]], repeats: int) -> tuple[float, float]:
    """Each run once to warm up, then ``repeats`` alternating rounds; the best time of each."""
    for run in runs:
        run()
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for k, run in enumerate(runs):
            work.check()
            started = time.perf_counter()
            run()
            best[k] = min(best[k], time.perf_counter() - started)
    return best[0], best[1]


__all__ = ["AGREEMENT", "ScanDifference", "ScanTiming", "TIMING_LENGTHS", "build_scan_view", "measure_scan_times",
           "scan_difference"]
