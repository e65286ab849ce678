"""Everything a person chooses: task, network and training settings, as one flat, validated record."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from rnnviz.engine.cells import DEFAULT_CELL, cell_names, cell_spec, cell_specs
from rnnviz.engine.training import MAX_BATCH_SIZE


class ConfigError(ValueError):
    """A setting out of range or of the wrong kind; the message names it and the allowed values."""


INITS = ("default", "xavier", "orthogonal", "identity")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
ENGINE_OPTIMIZERS = {"sgd": "sgd", "momentum": "sgd_momentum", "adam": "adam", "rmsprop": "rmsprop"}  # engine.optim's names
DTYPES = ("float32", "float64")

# (minimum, maximum) for numeric settings: the UI's spin boxes, the CLI and session files all use these.
LIMITS: dict[str, tuple[float, float]] = {
    "hidden_size": (1, 1024),
    "num_layers": (1, 4),
    "init_scale": (0.01, 10.0),
    "carry_bias": (0.0, 10.0),
    "lr": (1e-7, 10.0),
    "batch_size": (1, MAX_BATCH_SIZE),  # the one limit: engine, tasks, CLI and UI
    "clip_norm": (0.0, 1e6),
    "clip_value": (0.0, 1e6),
    "tbptt": (0, 10_000),
    "seed": (0, 2**31 - 1),
}


@dataclass(frozen=True)
class SessionConfig:
    task: str = "adding"
    task_params: dict[str, Any] = field(default_factory=dict)
    cell: str = DEFAULT_CELL  # a registered cell name (rnnviz.engine.cells)
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = False
    init: str = "default"
    init_scale: float = 1.0  # used by the "identity" initialisation (1.2 shows exploding gradients)
    carry_bias: float = 0.0  # carry-gate bias at the start, e.g. the LSTM forget gate (0 = as initialised)
    dtype: str = "float32"
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 32
    clip_norm: float = 1.0  # 0 = off
    clip_value: float = 0.0  # 0 = off
    tbptt: int = 0  # 0 = full BPTT
    seed: int = 0
    scan: bool = False  # linear-recurrence cells (minGRU, minLSTM, LRU, selective): use the parallel scan

    def __post_init__(self) -> None:
        _check_choice("cell", self.cell, cell_names())
        _check_choice("init", self.init, INITS)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("dtype", self.dtype, DTYPES)
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false, got {self.bidirectional!r}")
        if not isinstance(self.scan, bool):
            raise ConfigError(f"scan must be true or false, got {self.scan!r}")
        if self.scan and not cell_spec(self.cell).scannable:
            scannable = ", ".join(spec.name for spec in cell_specs() if spec.scannable)
            raise ConfigError(f"scan works only for the cells with a linear recurrence ({scannable}); "
                              f"{self.cell} feeds h_(t-1) through a nonlinearity: turn scan off")
        if not isinstance(self.task, str) or not self.task:
            raise ConfigError("task must be a task name such as 'adding'")
        if not isinstance(self.task_params, dict):
            raise ConfigError("task_params must be a mapping of parameter names to values")
        for name, (low, high) in LIMITS.items():
            _check_number(name, getattr(self, name), low, high, integer=name not in _FLOATS)

    def replace(self, **changes: Any) -> "SessionConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "SessionConfig":
        if not isinstance(data, dict):
            raise ConfigError("the configuration must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(data)
        for name in _FLOATS:
            if isinstance(values.get(name), int) and not isinstance(values.get(name), bool):
                values[name] = float(values[name])
        return cls(**values)

    def architecture(self) -> tuple:
        """The settings whose change means new weights (the UI asks before resetting). ``scan`` is not one:
        the loop and the scan compute the same states, so it is switched like a training setting."""
        return (self.task, tuple(sorted(self.task_params.items())), self.cell, self.hidden_size,
                self.num_layers, self.bidirectional, self.init, self.init_scale, self.carry_bias, self.dtype,
                self.seed)


_FLOATS = frozenset({"init_scale", "carry_bias", "lr", "clip_norm", "clip_value"})


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_number(name: str, value: Any, low: float, high: float, integer: bool) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
