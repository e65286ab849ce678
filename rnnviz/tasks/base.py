"""What every task is: a seeded generator of batches plus what a person needs to read them.

A task produces ``Batch`` objects in the engine's sequence-first layout:

    inputs  (T, B, input_size)   float64
    targets many_to_many: (T, B, output_size) float for "mse"/"bce", (T, B) int64 class ids for
            "cross_entropy"; many_to_one: (B, output_size) float or (B,) int64
    mask    (T, B)               float64, 1.0 for real timesteps, 0.0 for padding (padding only at
                                  the end of a sequence)

An encoder–decoder task (``io = "seq2seq"``: a source and a target of their own lengths, e.g. a
reversed or translated sequence) produces ``Seq2SeqBatch`` objects instead (rnnviz/tasks/seq2seq.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from rnnviz.engine.training import MAX_BATCH_SIZE

IOPattern = Literal["many_to_one", "many_to_many", "seq2seq"]
LossKind = Literal["mse", "cross_entropy", "bce"]
PAD_LABEL = "<pad>"  # how a padded timestep is named on every time axis, in the diagram and in exports


class TaskError(ValueError):
    """A bad task parameter or a bad data file: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Param:
    """One adjustable task parameter, with the limits the UI and CLI enforce."""

    name: str
    default: Any
    help: str
    kind: Literal["int", "float", "choice", "text", "path"] = "int"
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise TaskError saying why not."""
        if self.kind == "int":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise TaskError(f"{self.name} must be a whole number, got {value!r}") from None
            if isinstance(value, float) and value != number:
                raise TaskError(f"{self.name} must be a whole number, got {value!r}")
            self._check_range(number)
            return number
        if self.kind == "float":
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise TaskError(f"{self.name} must be a number, got {value!r}") from None
            if not np.isfinite(number):
                raise TaskError(f"{self.name} must be a finite number, got {value!r}")
            self._check_range(number)
            return number
        if self.kind == "choice":
            if value not in self.choices:
                raise TaskError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        return value if value is None else str(value)

    def _check_range(self, number: float) -> None:
        if self.minimum is not None and number < self.minimum:
            raise TaskError(f"{self.name} must be at least {self.minimum:g}, got {number:g}")
        if self.maximum is not None and number > self.maximum:
            raise TaskError(f"{self.name} must be at most {self.maximum:g}, got {number:g}")


@dataclass(frozen=True)
class Batch:
    inputs: np.ndarray  # (T, B, input_size)
    targets: np.ndarray  # see module docstring
    mask: np.ndarray  # (T, B)

    @property
    def seq_len(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]


@dataclass(frozen=True)
class Seq2SeqBatch:
    """A batch of an encoder–decoder task: source and target sequences with their own lengths and masks.
    The target ends with the end-of-sequence class; the decoder reads BOS, then the target shifted by one
    step (teacher forcing)."""

    source: np.ndarray  # (T_src, B, source vocabulary) one-hot float64, zero rows at padding
    source_mask: np.ndarray  # (T_src, B) float64
    targets: np.ndarray  # (T_tgt, B) int64 class ids, the end-of-sequence class last; 0 at padding
    target_mask: np.ndarray  # (T_tgt, B) float64
    decoder_inputs: np.ndarray  # (T_tgt, B, classes + 1) one-hot: BOS (the last index), y_1 .. y_(m-1)

    @property
    def batch_size(self) -> int:
        return self.source.shape[1]


@dataclass(frozen=True)
class TaskInfo:
    """Display metadata: what the axes of the plots are called."""

    input_names: tuple[str, ...]  # one per input feature, e.g. ("value", "marker") or the vocabulary
    output_names: tuple[str, ...]  # one per output unit / class
    token_inputs: bool = False  # inputs are one-hot tokens: label timesteps with input_names[argmax]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LossBaseline:
    """The loss of a predictor that learned nothing worth having, drawn as a reference line on the
    loss plot: training that stays on it has learned nothing; below it the network uses what it was
    meant to learn (its memory, the order of the words).

    ``kind`` says what the predictor knows: "chance" (nothing about the input: it predicts the class
    frequencies or the mean target) or "memoryless" (only the current input and the timestep).
    ``value`` is in the task's loss (the engine's masked mean, rnnviz/engine/losses.py), exact
    for the generator's distribution (checked against Monte-Carlo estimates in tests/tasks).
    """

    value: float
    kind: str  # "chance" | "memoryless" | "noise floor" (a bound from below: the unpredictable part)
    formula: str  # how the value is written, e.g. "ln 2", "1/6", "n ln k / T"

    @property
    def label(self) -> str:
        """What the line says: "chance: ln 2 = 0.693"."""
        return f"{self.kind}: {self.formula} = {self.value:.3g}"


class Task:
    """Base class. Subclasses set the class attributes and implement ``_generate``.

    ``Task(**params)`` validates every parameter against ``params`` (unknown names and values out of
    range raise TaskError); missing ones take their defaults. ``batch(batch_size, rng)`` must be
    deterministic given the generator's state.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]  # one paragraph: what this task teaches about recurrent networks
    params: ClassVar[tuple[Param, ...]] = ()
    io: ClassVar[IOPattern]
    loss: ClassVar[LossKind]

    def __init__(self, **values: Any) -> None:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TaskError(
                f"task {self.name!r} has no parameter {', '.join(unknown)}; "
                f"it takes {', '.join(known) or 'no parameters'}"
            )
        self.values = {n: p.validate(values.get(n, p.default)) for n, p in known.items()}

    @property
    def input_size(self) -> int:
        return len(self.info().input_names)

    @property
    def output_size(self) -> int:
        return len(self.info().output_names)

    def info(self) -> TaskInfo:
        raise NotImplementedError

    def batch(self, batch_size: int, rng: np.random.Generator) -> Batch:
        if not 1 <= int(batch_size) <= MAX_BATCH_SIZE:
            raise TaskError(f"batch size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")
        return self._generate(int(batch_size), rng)

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        raise NotImplementedError

    def loss_baseline(self) -> LossBaseline | None:
        """The chance or memoryless loss of this task (LossBaseline), or None where there is no
        closed form. Each task's override says in its docstring why the value holds."""
        return None

    def scored(self, batch: Batch) -> np.ndarray | None:
        """Where a prediction counts towards ``accuracy``: (T, B) for many_to_many (default: every real
        timestep), (B,) for many_to_one (every sample); None for a task without classes (regression).
        Tasks whose answers sit at a few timesteps (copy, selective copy, recall) override it."""
        if self.loss == "mse":
            return None
        return batch.mask.copy() if self.io == "many_to_many" else np.ones(batch.batch_size)

    def accuracy(self, predictions: np.ndarray, batch: Batch) -> float | None:
        """The fraction of scored tokens (``scored``) predicted right: the most probable class for
        cross-entropy tasks, every output on the right side of 0.5 for bce ones; None for regression or
        when nothing is scored. ``predictions`` has the shape of the model's output (probabilities)."""
        weights = self.scored(batch)
        if weights is None or not np.any(weights):
            return None
        if self.loss == "cross_entropy":
            right = np.argmax(predictions, axis=-1) == batch.targets
        else:  # bce: every output of the step must be right
            right = np.all((predictions > 0.5) == (batch.targets > 0.5), axis=-1)
        return float(np.sum(right * weights) / np.sum(weights))

    def timestep_labels(self, inputs: np.ndarray, mask: np.ndarray | None = None) -> list[str]:
        """Labels for the time axis of one sample's inputs (T, input_size): tokens for token tasks,
        else the timestep numbers; ``PAD_LABEL`` where ``mask`` (T,) is 0 (padding has no token:
        its zeroed one-hot row would otherwise read as token 0)."""
        info = self.info()
        if info.token_inputs:
            labels = [info.input_names[int(i)] for i in np.argmax(inputs, axis=-1)]
        else:
            labels = [str(t) for t in range(inputs.shape[0])]
        if mask is not None:
            labels = [PAD_LABEL if real == 0 else label for label, real in zip(labels, np.asarray(mask))]
        return labels
