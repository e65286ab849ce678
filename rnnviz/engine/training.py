"""One training step at a time: loss and BPTT, clipping, an optimizer update, and a guard against
non-finite numbers.

A step whose loss or gradients are not finite (or whose update would make a parameter non-finite)
changes nothing: parameters and optimizer state stay as they were after the last finite step and the
report says ``finite=False`` so the caller can stop. ``Trainer.config`` is mutable and validated on
every assignment; a new learning rate, clipping threshold, truncation length or optimizer applies
from the next step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from rnnviz.engine.clipping import clip_grad_norm, clip_grad_value, global_norm
from rnnviz.engine.model import SequenceModel, StepResult, from_known_fields
from rnnviz.engine.optim import OPTIMIZERS, Optimizer, make_optimizer

MAX_BATCH_SIZE = 4096  # the one batch-size limit (session.config.LIMITS, the CLI and the UI use it)


class TrainConfigError(ValueError):
    """A training setting out of range: the message says which and what is allowed."""


def _optional_positive(name: str, value: Any, whole: bool = False) -> float | int | None:
    """None and 0 mean 'off'; otherwise a positive finite number (a whole one if ``whole``)."""
    if value is None or (not isinstance(value, bool) and value == 0):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TrainConfigError(f"{name} must be a number or None (off), got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise TrainConfigError(f"{name} must be a positive number, or 0/None to turn it off; got {value!r}")
    if whole:
        if not number.is_integer():
            raise TrainConfigError(f"{name} must be a whole number of timesteps, got {value!r}")
        return int(number)
    return number


def _validate_field(name: str, value: Any) -> Any:
    if name == "optimizer":
        if value not in OPTIMIZERS:
            raise TrainConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {value!r}")
        return value
    if name == "lr":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TrainConfigError(f"learning rate must be a number, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
            raise TrainConfigError(f"learning rate must be a positive finite number, got {value!r}; try 1e-3")
        return number
    if name in ("clip_norm", "clip_value"):
        return _optional_positive(name, value)
    if name == "tbptt":
        return _optional_positive("tbptt (truncation length)", value, whole=True)
    if name in ("batch_size", "seed"):
        low, high = (1, MAX_BATCH_SIZE) if name == "batch_size" else (0, None)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TrainConfigError(f"{name} must be a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise TrainConfigError(f"{name} must be {allowed}, got {value}")
        return int(value)
    if name == "optimizer_options":
        return dict(value or {})
    return value


@dataclass
class TrainConfig:
    """Training settings; every assignment is validated (so the UI can change them between steps)."""

    optimizer: str = "adam"  # a name in rnnviz.engine.optim.OPTIMIZERS
    lr: float = 1e-3
    clip_norm: float | None = None  # clip the global gradient norm to this (None/0 = off)
    clip_value: float | None = None  # clamp each gradient entry to +-this (None/0 = off)
    tbptt: int | None = None  # truncate BPTT every this many timesteps (None/0 = off)
    batch_size: int = 32
    seed: int = 0  # seeds Trainer.rng, the generator callers draw training batches from
    optimizer_options: dict[str, Any] | None = None  # e.g. {"momentum": 0.5} (applied when the optimizer is built)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, _validate_field(name, value))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        return from_known_fields(cls, values, TrainConfigError, "training setting")


@dataclass
class StepReport:
    loss: float
    grad_norm: float  # global gradient norm before clipping
    clipped: bool  # clipping changed the gradients
    finite: bool  # False: nothing was changed and training should stop
    result: StepResult
    step: int  # training steps applied so far (not counting rejected ones)


def _all_finite(arrays: dict[str, np.ndarray]) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays.values())


class Trainer:
    """Train a SequenceModel one batch at a time."""

    def __init__(self, model: SequenceModel, config: TrainConfig | None = None) -> None:
        self.model = model
        self.config = config if config is not None else TrainConfig()
        self.rng = np.random.default_rng(self.config.seed)
        self.steps = 0
        self.optimizer = self._build_optimizer()

    def _build_optimizer(self) -> Optimizer:
        options = self.config.optimizer_options or {}
        return make_optimizer(self.config.optimizer, self.model.parameters(), self.config.lr, **options)

    def _sync_optimizer(self) -> None:
        """Pick up changes made to ``config`` since the last step."""
        if self.optimizer.name != self.config.optimizer:
            self.optimizer = self._build_optimizer()  # a new optimizer starts with fresh state
        self.optimizer.lr = self.config.lr

    def step(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> StepReport:
        """Loss, BPTT, clipping and one update; a non-finite step changes nothing (``finite=False``).

        Overflow warnings are silenced here: a step that overflows is detected and reported instead.
        """
        self._sync_optimizer()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._guarded_step(inputs, targets, mask)

    def _guarded_step(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None) -> StepReport:
        result = self.model.loss_and_grads(inputs, targets, mask, tbptt=self.config.tbptt)
        grads = result.grads
        norm = global_norm(grads)
        if not (math.isfinite(result.loss) and math.isfinite(norm) and _all_finite(grads)):
            return StepReport(result.loss, norm, False, False, result, self.steps)
        clipped = False
        if self.config.clip_norm is not None:
            clipped |= clip_grad_norm(grads, self.config.clip_norm).clipped
        if self.config.clip_value is not None:
            clipped |= clip_grad_value(grads, self.config.clip_value).clipped
        params = self.model.parameters()
        saved_params = {k: v.copy() for k, v in params.items()}
        saved_state = self.optimizer.state_dict()
        self.optimizer.step(grads)
        if not (_all_finite(params) and self._optimizer_state_finite()):  # the update overflowed: roll back
            for name, array in params.items():
                array[...] = saved_params[name]
            self.optimizer.load_state_dict(saved_state)
            return StepReport(result.loss, norm, clipped, False, result, self.steps)
        self.steps += 1
        return StepReport(result.loss, norm, clipped, True, result, self.steps)

    def _optimizer_state_finite(self) -> bool:
        return all(_all_finite(buffers) for buffers in self.optimizer.state.values())

    def evaluate(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        """The loss on a batch without changing anything (e.g. a held-out batch); inf or NaN, without
        NumPy warnings, when the network has diverged."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.model.loss(inputs, targets, mask)
