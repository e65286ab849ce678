"""The work the window runs in the background, Qt-free (rnnviz.ui.jobs runs each in a thread or a
process and hands it a ``WorkContext`` first): step-through builds and jumps, the gradient check, the
RNN/LSTM/GRU comparison. Training itself is rnnviz.session.worker."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Callable

from rnnviz.session.background import WorkContext
from rnnviz.session.checks import CheckRow, gradient_check
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.stepper import StepThrough

COMPARE_CURVE_INTERVAL_S = 0.1  # the comparison's curves go out at most this often
COMPARE_IDLE_WAIT_S = 0.05


# ---------------------------------------------------------------------- step through time


def build_stepper(work: WorkContext, session: Session, selection: Selection,
                  position: tuple[int, int]) -> StepThrough:
    """A stepper over ``session`` (a private copy: nothing trains it) moved to ``position`` (forward,
    backward steps taken) as far as the new sequence allows."""
    stepper = StepThrough(session, selection)
    work.check()
    forward, backward = (min(p, stepper.seq_len) for p in position)
    if backward:
        stepper.seek_backward(backward)
    else:
        stepper.seek_forward(forward)
    return stepper


def move_stepper(work: WorkContext, stepper: StepThrough, move: Callable[[StepThrough], Any]) -> StepThrough:
    """Run ``move(stepper)`` (a jump of many steps) and hand the stepper back."""
    move(stepper)
    return stepper


def seek_forward_end(stepper: StepThrough) -> None:
    stepper.seek_forward(stepper.seq_len)


def seek_backward_end(stepper: StepThrough) -> None:
    stepper.seek_backward(stepper.seq_len)


# ---------------------------------------------------------------------- gradient check


class _Watched:
    """A model that reports progress (and honours cancellation) at every loss evaluation of the
    finite-difference check, and hands the same watch to its float64 copy."""

    def __init__(self, model: Any, on_loss: Callable[[], None]) -> None:
        self._model = model
        self._on_loss = on_loss

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def astype(self, dtype: Any) -> "_Watched":
        return _Watched(self._model.astype(dtype), self._on_loss)

    def loss(self, *args: Any, **kwargs: Any) -> float:
        self._on_loss()
        return self._model.loss(*args, **kwargs)


def run_gradient_check(work: WorkContext, session: Session, max_entries: int = 40, seed: int = 0) -> list[CheckRow]:
    """``checks.gradient_check`` with progress (the share of loss evaluations done) and cancellation
    between any two of them. ``session`` is this process's own copy."""
    sizes = [min(p.size, max_entries) for p in session.model.parameters().values()]
    total = max(1, 2 * sum(sizes))  # two loss evaluations per entry checked
    done = 0

    def on_loss() -> None:
        nonlocal done
        work.check()
        done += 1
        if done % 8 == 0:
            work.progress(min(done / total, 1.0))

    watched = copy.copy(session)  # shallow: the same view batch, a watched model
    watched.model = _Watched(session.model, on_loss)
    return gradient_check(watched, max_entries, seed)


# ---------------------------------------------------------------------- RNN vs LSTM vs GRU


@dataclass(frozen=True)
class ComparePlay:
    playing: bool


def run_comparison(work: WorkContext, base_config: SessionConfig, cells: tuple[str, ...]) -> int:
    """Train a ``Comparison`` while the UI says play; send its newest curves (latest wins) at most
    every ``COMPARE_CURVE_INTERVAL_S``. Runs until cancelled (the window closes); returns the steps."""
    from rnnviz.session.compare import Comparison

    comparison = Comparison(base_config, cells=cells)
    work.progress(comparison.curves())
    playing, last = False, time.perf_counter()
    while not work.cancelled:
        for message in work.receive(timeout=0.0 if playing else COMPARE_IDLE_WAIT_S):
            if isinstance(message, ComparePlay):
                if playing and not message.playing:
                    work.progress(comparison.curves())  # where it paused
                playing = message.playing
        if not playing:
            continue
        comparison.step()
        if time.perf_counter() - last >= COMPARE_CURVE_INTERVAL_S and work.progress_wanted():
            work.progress(comparison.curves())
            last = time.perf_counter()
    return comparison.step_count
