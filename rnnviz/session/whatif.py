"""What-if edits: change one input of the view batch, or one weight entry, and look again.

Two kinds of edit, with different lives:
- an **input edit** overrides x_t of one sample of the view batch (a value, or the token at t). It is a
  per-sample override of what the panels inspect, never of the training data: the original view batch
  is kept and the override stays until it is undone or the session is reset (a new Session starts with
  none). Targets stay as they were: the edit asks "what would the network do with this input?";
- a **weight edit** writes one entry of one parameter of the live model. It is part of the weights from
  then on: training continues from the edited value.

Values that are not finite, or larger than ``VALUE_LIMIT`` in size, are refused with a ``WhatIfError``
that says what to enter instead.

    edits = InputEdits()
    edits = edits.with_edit(sample=0, timestep=5, values=np.array([0.3, 1.0]))
    batch = edits.apply(view_batch)            # a new Batch; view_batch is not changed
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from rnnviz.tasks.base import Batch

# Inputs and weights beyond this size are refused: every task's inputs lie within ±10 and trained weights
# within ±20; a value of 1000 already saturates every sigmoid and tanh it reaches, so larger ones show
# nothing new and overflow the exp of some cells (the LRU's exp(ν)).
VALUE_LIMIT = 1000.0


class WhatIfError(ValueError):
    """A what-if edit that cannot be made; the message says what to do instead."""


def checked_value(value: float, what: str) -> float:
    """``value`` as a float when it is finite and within ±VALUE_LIMIT, else a WhatIfError naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WhatIfError(f"{what}: {value!r} is not a number; enter a number such as 0.5 or -2") from None
    if not math.isfinite(number):
        raise WhatIfError(f"{what}: {value!r} is not a finite number; enter a number between "
                          f"{-VALUE_LIMIT:g} and {VALUE_LIMIT:g}")
    if abs(number) > VALUE_LIMIT:
        raise WhatIfError(f"{what}: {number:g} is too large (it would only saturate every unit it reaches); "
                          f"enter a number between {-VALUE_LIMIT:g} and {VALUE_LIMIT:g}")
    return number


@dataclass(frozen=True)
class InputEdits:
    """The view batch's overridden inputs: (sample, timestep) -> x_t (I,) float64."""

    values: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values)

    def timesteps(self, sample: int) -> tuple[int, ...]:
        """The edited timesteps of ``sample``, in order."""
        return tuple(sorted(t for s, t in self.values if s == sample))

    def get(self, sample: int, timestep: int) -> np.ndarray | None:
        return self.values.get((sample, timestep))

    def with_edit(self, sample: int, timestep: int, values: np.ndarray | None) -> "InputEdits":
        """A copy with x_t of ``sample`` set to ``values``; None removes the override (the original input)."""
        edited = dict(self.values)
        if values is None:
            edited.pop((sample, timestep), None)
        else:
            edited[(sample, timestep)] = np.array(values, dtype=np.float64)
        return replace(self, values=edited)

    def apply(self, batch: Batch) -> Batch:
        """``batch`` with the overrides written in (a copy; ``batch`` itself is not changed)."""
        if not self.values:
            return batch
        inputs = batch.inputs.copy()
        for (sample, timestep), values in self.values.items():
            inputs[timestep, sample] = values
        return replace(batch, inputs=inputs)


def checked_input(batch: Batch, sample: int, timestep: int, values: np.ndarray | list[float],
                  token_inputs: bool) -> np.ndarray:
    """``values`` as x_t of ``sample`` (I,) float64 when the edit can be made; WhatIfError otherwise."""
    steps, samples, size = batch.inputs.shape
    if not 0 <= sample < samples:
        raise WhatIfError(f"sample {sample} is not in the view batch (0 to {samples - 1})")
    if not 0 <= timestep < steps:
        raise WhatIfError(f"timestep {timestep} is not in the sequence (0 to {steps - 1})")
    if batch.mask[timestep, sample] == 0:
        raise WhatIfError(f"t = {timestep} is padding after the end of the sequence: the network skips it, "
                          "so an input there changes nothing; edit a timestep before the padding")
    array = np.asarray(values, dtype=object).reshape(-1)
    if array.size != size:
        raise WhatIfError(f"x_t has {size} input features, not {array.size}")
    checked = np.array([checked_value(v, f"input {k} at t = {timestep}") for k, v in enumerate(array)])
    if token_inputs and not (np.count_nonzero(checked) == 1 and checked.max() == 1.0):
        raise WhatIfError("this task's inputs are tokens (one-hot rows): choose a token from the vocabulary")
    return checked


def one_hot(token: int, vocabulary: int) -> np.ndarray:
    """The one-hot row of token id ``token`` (a WhatIfError when it is not in the vocabulary)."""
    if not 0 <= token < vocabulary:
        raise WhatIfError(f"token id {token} is not in the vocabulary (0 to {vocabulary - 1})")
    row = np.zeros(vocabulary)
    row[token] = 1.0
    return row


@dataclass(frozen=True)
class WeightEntry:
    """One entry of one parameter: its PyTorch name (``weight_hh_l0``, ``head.weight``) and index."""

    name: str
    index: tuple[int, ...]

    def label(self) -> str:
        return f"{self.name}[{', '.join(str(i) for i in self.index)}]"


def weight_entry_value(parameters: dict[str, np.ndarray], entry: WeightEntry) -> float:
    """The entry's current value; a WhatIfError when the name or index does not exist."""
    array = parameters.get(entry.name)
    if array is None:
        raise WhatIfError(f"the network has no parameter {entry.name!r}; it has {', '.join(parameters)}")
    if len(entry.index) != array.ndim or not all(0 <= i < n for i, n in zip(entry.index, array.shape)):
        raise WhatIfError(f"{entry.label()} is outside {entry.name}, whose shape is {tuple(array.shape)}")
    return float(array[entry.index])


def write_weight(parameters: dict[str, np.ndarray], entry: WeightEntry, value: float) -> float:
    """Write ``value`` (checked) into the live parameter; returns the value it replaced."""
    old = weight_entry_value(parameters, entry)
    new = checked_value(value, entry.label())
    parameters[entry.name][entry.index] = new
    return old


__all__ = ["VALUE_LIMIT", "InputEdits", "InputTarget", "WeightEntry", "WeightTarget", "parameter_name", "WhatIfError", "checked_input", "checked_value", "one_hot",
           "weight_entry_value", "write_weight"]


HEAD_NAMES = {"W_out": "head.weight", "b_out": "head.bias"}


def parameter_name(cell: str, label: str, layer: int, direction: int) -> str:
    """The model's name of the parameter a view labels ``label`` ("W_hh" -> "weight_hh_l0_reverse",
    "W_out" -> "head.weight", a cell's own kind "nu" -> "nu_l0")."""
    from rnnviz.engine.recurrent import param_name
    from rnnviz.engine.stepping import weight_labels

    if label in HEAD_NAMES:
        return HEAD_NAMES[label]
    kinds = {shown: kind for kind, shown in weight_labels(cell).items()}
    if label not in kinds:
        raise WhatIfError(f"the {cell} cell has no parameter shown as {label!r}")
    return param_name(kinds[label], layer, direction)


@dataclass(frozen=True)
class InputTarget:
    """What a double-click on a timestep asks to edit: x_t of one view-batch sample."""

    sample: int
    timestep: int


@dataclass(frozen=True)
class WeightTarget:
    """What a double-click on a weight asks to edit: one entry, and the value the panel showed."""

    entry: WeightEntry
    shown_label: str  # how the view writes it, e.g. "W_hh[3, 2]"
    value: float
