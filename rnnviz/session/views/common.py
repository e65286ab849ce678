"""Pieces every view state shares: the time axis (labels, padding) and counted nouns."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnviz.tasks.base import PAD_LABEL

if TYPE_CHECKING:
    from rnnviz.session.session import Session


@dataclass(frozen=True)
class TimeAxis:
    """The time axis of one sample: what each timestep is called and where the padding starts."""

    labels: tuple[str, ...]  # (T,) tokens or timestep numbers; PAD_LABEL at padded steps
    named: bool  # the labels are not just 0..T-1 (tokens or padding): the axis shows them
    title: str  # "input token" | "timestep"
    mask: np.ndarray  # (T,) 1 real, 0 padding
    padding_start: int  # first padded timestep; T when there is none (padding is only at the end)

    @property
    def steps(self) -> int:
        return len(self.labels)


def labels_are_numbers(labels: Sequence[str]) -> bool:
    """True when the timestep labels are just 0..T-1 (not tokens, no padding)."""
    return all(label == str(t) for t, label in enumerate(labels))


def padding_start(mask: np.ndarray) -> int:
    """First padded timestep (padding is only at the end); len(mask) when there is none."""
    padded = np.flatnonzero(np.asarray(mask) == 0)
    return int(padded[0]) if padded.size else len(mask)


def time_axis(labels: Sequence[str], mask: np.ndarray, token_inputs: bool) -> TimeAxis:
    labels = tuple(labels)
    return TimeAxis(labels=labels, named=not labels_are_numbers(labels),
                    title="input token" if token_inputs else "timestep",
                    mask=np.asarray(mask, dtype=np.float64), padding_start=padding_start(mask))


def sample_time_axis(session: Session, sample: int) -> TimeAxis:
    """The time axis of one sample of the session's view batch: its tokens (or numbers), "<pad>" at padding."""
    inputs = session.view_batch.inputs[:, sample]
    mask = session.view_batch.mask[:, sample]
    return time_axis(session.task.timestep_labels(inputs, mask), mask, session.task.info().token_inputs)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """"1 step", "2 steps", "1,000 steps": a count and its noun, agreeing."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"


__all__ = ["PAD_LABEL", "TimeAxis", "labels_are_numbers", "padding_start", "plural", "sample_time_axis", "time_axis"]
