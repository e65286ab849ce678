"""Rewind: keep copies of the weights during training, in bounded memory, and look back at any of them.

    session.rewind = Rewind(max_bytes=64 * 2**20)       # Session.train_step records into it
    steps = session.rewind.steps()
    snapshot = rewind_snapshot(session, steps[3], selection)   # the panels' picture at that step

``record`` keeps the weights every ``interval`` steps. When the kept copies would exceed ``max_bytes``
the record is thinned, keeping every other entry (and always the first and the latest), and the
interval doubles, so memory stays bounded and the whole run stays covered at a coarser spacing.
Between records ``record`` costs one modulo and a comparison.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from rnnviz.engine.model import SequenceModel
from rnnviz.session.session import Selection, Session
from rnnviz.session.snapshot import History, Snapshot

DEFAULT_MAX_BYTES = 64 * 2**20


class RewindError(ValueError):
    """A bad rewind setting or a step that was not recorded: the message says what to do."""


@dataclass(frozen=True)
class RewindEntry:
    step: int
    state: dict[str, np.ndarray]  # parameter name -> copy of the weights after that step
    history_len: int  # training-history rows at that step
    nbytes: int


class Rewind:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, interval: int = 1) -> None:
        if int(max_bytes) != max_bytes or max_bytes < 1:
            raise RewindError(f"max_bytes must be a positive whole number of bytes, got {max_bytes!r}")
        if int(interval) != interval or interval < 1:
            raise RewindError(f"interval must be a whole number of steps >= 1, got {interval!r}")
        self.max_bytes = int(max_bytes)
        self.interval = int(interval)
        self._entries: list[RewindEntry] = []
        self._nbytes = 0
        self.too_big = False  # a copy of the weights would take more than half the budget: nothing kept

    @property
    def nbytes(self) -> int:
        """Bytes held by the recorded weights."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, step: int, model_state_dict: Mapping[str, np.ndarray], history_len: int = 0) -> bool:
        """Keep a copy of ``model_state_dict`` if ``step`` is due (a multiple of the interval, or the
        first record); returns True when it was kept. Live arrays may be passed: they are copied.
        Called from training, so it never raises: weights too big for two copies in the budget are
        not kept and ``too_big`` is set."""
        if self._entries and (step % self.interval or step <= self._entries[-1].step):
            return False
        size = sum(np.asarray(value).nbytes for value in model_state_dict.values())
        if 2 * size > self.max_bytes:
            self.too_big = True
            return False
        state = {name: np.array(value, copy=True) for name, value in model_state_dict.items()}
        self._entries.append(RewindEntry(int(step), state, int(history_len), size))
        self._nbytes += size
        while self._nbytes > self.max_bytes and len(self._entries) > 2:
            self._thin()
        return True

    def _thin(self) -> None:
        """Keep entries 0, 2, 4, ... and the latest; double the interval."""
        last = len(self._entries) - 1
        self._entries = [e for k, e in enumerate(self._entries) if k % 2 == 0 or k == last]
        self._nbytes = sum(e.nbytes for e in self._entries)
        self.interval *= 2

    def steps(self) -> list[int]:
        return [e.step for e in self._entries]

    def entry(self, step: int) -> RewindEntry:
        for e in self._entries:
            if e.step == step:
                return e
        raise RewindError(f"step {step} was not recorded; recorded steps are {self._describe()}")

    def nearest(self, step: int) -> int:
        """The recorded step closest to ``step`` (the earlier one on a tie)."""
        if not self._entries:
            raise RewindError("nothing is recorded yet: train a few steps first")
        return min(self.steps(), key=lambda s: (abs(s - step), s))

    def restore(self, step: int) -> dict[str, np.ndarray]:
        """A copy of the weights recorded at ``step`` (load it with ``model.load_state_dict``)."""
        return {name: value.copy() for name, value in self.entry(step).state.items()}

    def clear(self) -> None:
        self._entries, self._nbytes = [], 0

    def _describe(self) -> str:
        steps = self.steps()
        if len(steps) > 6:
            return f"{', '.join(map(str, steps[:3]))}, ..., {', '.join(map(str, steps[-2:]))}"
        return ", ".join(map(str, steps)) or "none"


def rewind_snapshot(session: Session, step: int, selection: Selection = Selection()) -> Snapshot:
    """The Snapshot the panels would have shown at recorded ``step``: a copy of the model with the
    recorded weights, evaluated on the view batch. The live session (and training) is not touched."""
    if getattr(session, "rewind", None) is None:
        raise RewindError("this session records no rewind history; set session.rewind = Rewind() first")
    entry = session.rewind.entry(step)
    model = SequenceModel(session.model.config)
    model.load_state_dict(entry.state)
    batch = session.view_batch
    with np.errstate(over="ignore", invalid="ignore"):
        result = model.loss_and_grads(batch.inputs, batch.targets, batch.mask, tbptt=session.config.tbptt or None)
    view = copy.copy(session)  # shallow: shares task, view batch and config, but not the model
    view.model = model
    snapshot = view.snapshot(selection, result)
    history = _history_until(snapshot.history, entry.history_len, entry.step)
    loss = float(history.train_loss[-1]) if len(history.train_loss) else float("nan")
    clip_count = int(session.history.train[:entry.history_len, 3].sum())
    return replace(snapshot, step=entry.step, history=history, loss=loss, steps_per_second=0.0,
                   clip_count=clip_count)


def _history_until(history: History, rows: int, step: int) -> History:
    held = history.heldout_steps <= step
    return History(
        steps=history.steps[:rows], train_loss=history.train_loss[:rows], grad_norm=history.grad_norm[:rows],
        heldout_steps=history.heldout_steps[held], heldout_loss=history.heldout_loss[held],
    )


def attach_rewind(session: Session, max_bytes: int = DEFAULT_MAX_BYTES, interval: int = 1) -> Rewind:
    """Give ``session`` a Rewind (recorded by every training step) holding its current weights."""
    rewind = Rewind(max_bytes, interval)
    rewind.record(session.step, session.model.parameters(), len(session.history))
    session.rewind = rewind
    return rewind
