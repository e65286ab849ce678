"""The memory check every Session runs before it allocates a network: settings that would not fit
are refused with a message that says how much they need, how much rnnviz may use, and which
setting to lower to what.

    check_memory(config, task, seq_len)           # raises MemoryBudgetError, a ConfigError

The CLI, the window and opening a saved session all build a Session, so all three refuse alike.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from rnnviz.engine.cells import CELLS
from rnnviz.engine.memory import (BUDGET_ENV, BUDGET_FRACTION, NetworkShape, format_bytes, memory_budget,
                                  training_estimate)
from rnnviz.engine.optim import OPTIMIZERS
from rnnviz.engine.window_models import ngram_table_bytes, ngram_table_entries
from rnnviz.session.config import ENGINE_OPTIMIZERS, LIMITS, ConfigError, SessionConfig

HISTORY_BYTES_PER_STEP = 160  # two float64 rows of 4 and 2 columns (grown by doubling) + a history.csv line
VIEW_INSPECTIONS = 2  # the panels' inspection and the step-through page's, alive at once
REWIND_BYTES = 64 << 20  # the window's rewind history of weights (rewind.DEFAULT_MAX_BYTES)
# how a setting is called in messages; the CLI passes its option names instead
SETTING_WORDS = {"batch_size": "the batch size", "seq_len": "seq_len", "hidden_size": "the hidden size"}


class MemoryBudgetError(ConfigError):
    """Settings whose training would need more memory than rnnviz may use."""

    def __init__(self, needed: int, budget: int, what: str, fits: dict[str, int] | None = None) -> None:
        self.needed, self.budget = int(needed), int(budget)
        self.what = what  # e.g. "traces of seq_len 1000 x batch 256 x hidden 256 (lstm, float32)"
        self.fits = dict(fits or {})  # setting -> the largest value that fits
        super().__init__(self.message())

    def __reduce__(self):  # pickles across processes with its fields, not just the message
        return type(self), (self.needed, self.budget, self.what, self.fits)

    def message(self, names: dict[str, str] | None = None) -> str:
        """The refusal in one sentence; ``names`` maps settings to what to call them (CLI options)."""
        names = {**SETTING_WORDS, **(names or {})}
        source = f"${BUDGET_ENV}" if os.environ.get(BUDGET_ENV, "").strip() else \
            f"{BUDGET_FRACTION:.0%} of the memory available now"
        options = [f"{names.get(k, k)} to {v} or less" for k, v in self.fits.items()]
        advice = ", ".join(options[:-1]) + (", or " if len(options) > 2 else " or ") + options[-1] \
            if len(options) > 1 else "".join(options)
        return (f"training this network needs about {format_bytes(self.needed)} for {self.what}, more than "
                f"the {format_bytes(self.budget)} rnnviz may use ({source}); "
                + (f"lower {advice}" if advice else "lower the hidden size or the number of layers"))


def network_shape(config: SessionConfig, task: Any, seq_len: int, batch_size: int | None = None) -> NetworkShape:
    """The sizes of training ``config`` on ``task`` with sequences of ``seq_len`` timesteps."""
    return NetworkShape(
        seq_len=seq_len, batch_size=config.batch_size if batch_size is None else batch_size,
        input_size=task.input_size, hidden_size=config.hidden_size, output_size=task.output_size,
        num_layers=config.num_layers, num_directions=2 if config.bidirectional else 1,
        num_gates=CELLS[config.cell].trace_blocks, itemsize=np.dtype(config.dtype).itemsize,
        optimizer_buffers=len(OPTIMIZERS[ENGINE_OPTIMIZERS[config.optimizer]].buffers),
    )


def estimated_bytes(config: SessionConfig, task: Any, seq_len: int, steps: int = 0, view_batch: int = 8) -> int:
    """Bytes training ``config`` for ``steps`` more steps needs (traces, weights, views, history)."""
    shape = network_shape(config, task, seq_len)
    extra = HISTORY_BYTES_PER_STEP * max(int(steps), 0) + REWIND_BYTES
    return training_estimate(shape, VIEW_INSPECTIONS * view_batch, extra).total


def check_memory(config: SessionConfig, task: Any, seq_len: int, steps: int = 0, view_batch: int = 8,
                 budget: int | None = None) -> int:
    """Refuse (MemoryBudgetError) settings that need more than the budget; returns the estimate."""
    budget = memory_budget() if budget is None else budget
    needed = estimated_bytes(config, task, seq_len, steps, view_batch)
    if needed <= budget:
        return needed
    shape = network_shape(config, task, seq_len)
    if training_estimate(shape).parameters > needed / 2:
        what = f"{shape.parameter_count():,} weights and their optimizer state ({config.dtype})"
    else:
        what = (f"forward and backward traces of seq_len {seq_len} x batch {config.batch_size} x hidden "
                f"{config.hidden_size}{f' x {config.num_layers} layers' if config.num_layers > 1 else ''}"
                f"{' x 2 directions' if config.bidirectional else ''} ({config.cell}, {config.dtype})")
    fits = _settings_that_fit(config, task, seq_len, steps, view_batch, budget)
    raise MemoryBudgetError(needed, budget, what, fits)


def _settings_that_fit(config: SessionConfig, task: Any, seq_len: int, steps: int, view_batch: int,
                       budget: int) -> dict[str, int]:
    """For the batch size, seq_len (when the task has one) and the hidden size: the largest value
    below the current one with which training fits, where one does."""
    def needs(**change: int) -> int:
        length = change.pop("seq_len", seq_len)
        return estimated_bytes(config.replace(**change), task, length, steps, view_batch)

    candidates: dict[str, Callable[[int], int]] = {"batch_size": lambda v: needs(batch_size=v)}
    if "seq_len" in getattr(task, "values", {}):
        candidates["seq_len"] = lambda v: needs(seq_len=v)
    candidates["hidden_size"] = lambda v: needs(hidden_size=v)
    current = {"batch_size": config.batch_size, "seq_len": seq_len, "hidden_size": config.hidden_size}
    fits = {}
    for name, need in candidates.items():
        low = int(LIMITS.get(name, (1, 0))[0]) if name in LIMITS else 2
        best = _largest_fitting(need, low, current[name] - 1, budget)
        if best is not None:
            fits[name] = best
    return fits


def _largest_fitting(need: Callable[[int], int], low: int, high: int, budget: int) -> int | None:
    """The largest value in [low, high] whose need is within the budget (need grows with the value)."""
    if high < low or need(low) > budget:
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if need(middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def check_ngram_memory(window: int, vocab: int, classes: int, budget: int | None = None) -> int:
    """Refuse (MemoryBudgetError, naming the largest window that fits) an n-gram whose count table,
    (V+1)^k x classes counts (rnnviz.engine.window_models), needs more than the budget; returns its bytes."""
    budget = memory_budget() if budget is None else budget
    needed = ngram_table_bytes(window, vocab, classes)
    if needed <= budget:
        return needed
    fits = [k for k in range(1, window) if ngram_table_bytes(k, vocab, classes) <= budget]
    what = (f"an n-gram table of {vocab + 1}^{window} contexts x {classes} classes "
            f"({ngram_table_entries(window, vocab, classes):,} counts)")
    raise MemoryBudgetError(needed, budget, what, {"window": fits[-1]} if fits else {})
