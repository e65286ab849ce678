"""A whole sequence model: the recurrent core, a linear output head and a loss.

many_to_many: the head reads the top layer's output at every timestep,
    logits_t = output_t W^T + b                         output (T, B, D*H) -> logits (T, B, O)
and the loss is a mean over real (unmasked) timesteps.
many_to_one: the head reads the top layer's final states, both directions concatenated,
    logits = [h_n(top, forward), h_n(top, reverse)] W^T + b          (B, D*H) -> (B, O)
where the forward state is the one at each sequence's last real step (masking) and the reverse
state is the one after reading the sequence backwards (at t = 0). The gradient reaches the core
through ``d_h_n``.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from rnnviz.engine.cells import cell_names, cell_spec, cell_specs
from rnnviz.engine.head import LinearHead
from rnnviz.engine.losses import LOSSES, get_loss

IO_PATTERNS = ("many_to_one", "many_to_many")
DTYPES = ("float32", "float64")
MAX_HIDDEN = 1024
MAX_LAYERS = 4
HEAD_PREFIX = "head."


class ModelConfigError(ValueError):
    """A model setting out of range: the message says which and what is allowed."""


class ModelInputError(ValueError):
    """Inputs, targets or a saved state that do not fit the model: the message says how to fix it."""


def _whole(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if not (isinstance(value, float) and value.is_integer()):
            raise ModelConfigError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ModelConfigError(f"{name} must be {allowed}, got {number}")
    return number


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ModelConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def from_known_fields(cls: type, values: dict[str, Any], error: type[Exception], what: str) -> Any:
    """``cls(**values)`` for a dataclass, naming any key it does not know in ``error``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise error(f"unknown {what} {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**values)


@dataclass(frozen=True)
class ModelConfig:
    mode: str  # a registered cell name (rnnviz.engine.cells.cell_names())
    input_size: int
    hidden_size: int
    output_size: int
    num_layers: int = 1
    bidirectional: bool = False
    io: str = "many_to_one"  # "many_to_one" | "many_to_many"
    loss: str = "mse"  # "mse" | "cross_entropy" | "bce"
    init: str = "default"  # a name in rnnviz.engine.init.INITS
    init_scale: float = 1.0  # passed as ``scale`` to initialisations that take one
    dtype: str = "float32"  # "float32" | "float64"
    seed: int = 0
    scan: bool = False  # linear cells: the recurrence by the parallel scan (rnnviz/engine/scan.py)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _choice("mode", self.mode, cell_names())
        if not isinstance(self.scan, (bool, np.bool_)):
            raise ModelConfigError(f"scan must be True or False, got {self.scan!r}")
        set_(self, "scan", bool(self.scan))
        if self.scan and not cell_spec(self.mode).scannable:
            scannable = ", ".join(spec.name for spec in cell_specs() if spec.scannable)
            raise ModelConfigError(f"scan works for the linear recurrences ({scannable}), not {self.mode}: "
                                   f"its h_(t-1) goes through a nonlinearity, so the steps cannot be combined")
        set_(self, "input_size", _whole("input_size", self.input_size, 1))
        set_(self, "hidden_size", _whole("hidden_size", self.hidden_size, 1, MAX_HIDDEN))
        set_(self, "output_size", _whole("output_size", self.output_size, 1))
        set_(self, "num_layers", _whole("num_layers", self.num_layers, 1, MAX_LAYERS))
        if not isinstance(self.bidirectional, (bool, np.bool_)):
            raise ModelConfigError(f"bidirectional must be True or False, got {self.bidirectional!r}")
        set_(self, "bidirectional", bool(self.bidirectional))
        _choice("io", self.io, IO_PATTERNS)
        _choice("loss", self.loss, tuple(LOSSES))
        _choice("init", self.init, _init_names())
        try:
            scale = float(self.init_scale)
        except (TypeError, ValueError):
            raise ModelConfigError(f"init_scale must be a number, got {self.init_scale!r}") from None
        if not (math.isfinite(scale) and scale > 0):
            raise ModelConfigError(f"init_scale must be a positive finite number, got {self.init_scale!r}")
        set_(self, "init_scale", scale)
        try:
            dtype_name = np.dtype(self.dtype).name
        except TypeError:
            dtype_name = repr(self.dtype)
        set_(self, "dtype", _choice("dtype", dtype_name, DTYPES))
        set_(self, "seed", _whole("seed", self.seed, 0))

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        """Build from a saved dict; unknown keys raise ModelConfigError."""
        return from_known_fields(cls, values, ModelConfigError, "model setting")


def _init_names() -> tuple[str, ...]:
    from rnnviz.engine.init import INITS

    return tuple(INITS)


def load_arrays(live: dict[str, np.ndarray], state: dict[str, np.ndarray], what: str, rebuild: str) -> None:
    """Copy ``state`` into the ``live`` parameter arrays in place (cast to their dtype). Every name and
    shape must match, else ModelInputError saying what differs (``what``: "this model"; ``rebuild``: what
    to do, e.g. "build the model"), and nothing is changed."""
    missing, unknown = sorted(set(live) - set(state)), sorted(set(state) - set(live))
    if missing or unknown:
        raise ModelInputError(
            f"the saved weights do not fit {what}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(unknown)}" if unknown else "")
            + f": {rebuild} with the settings the weights were saved with"
        )
    for name, array in live.items():
        value = np.asarray(state[name])
        if value.shape != array.shape:
            raise ModelInputError(f"saved {name} has shape {value.shape}, this model needs {array.shape}")
    for name, array in live.items():
        array[...] = np.asarray(state[name])


@dataclass
class ModelOutput:
    trace: Any  # the core's forward trace
    logits: np.ndarray  # many_to_many (T, B, O); many_to_one (B, O)
    predictions: np.ndarray  # same shape: values, class probabilities or probabilities


@dataclass
class StepResult:
    loss: float
    grads: dict[str, np.ndarray]  # same names and shapes as SequenceModel.parameters()
    trace: Any  # the core's forward trace
    core_grads: Any  # the core's backward result, including the gradient trace
    predictions: np.ndarray
    logits: np.ndarray


class SequenceModel:
    """Recurrent core + linear head + loss, built from a ModelConfig."""

    def __init__(self, config: ModelConfig) -> None:
        from rnnviz.engine import Recurrent

        self.config = config
        self.dtype = np.dtype(config.dtype)
        self.core = Recurrent(
            config.mode, config.input_size, config.hidden_size, num_layers=config.num_layers,
            bidirectional=config.bidirectional, dtype=self.dtype, seed=config.seed, scan=config.scan,
        )
        if config.init != "default":
            self._initialise()
        head_rng = np.random.default_rng([config.seed, 1])
        self.head = LinearHead(config.num_directions * config.hidden_size, config.output_size, self.dtype, head_rng)
        self.loss_fn = get_loss(config.loss)

    def _initialise(self) -> None:
        from rnnviz.engine.init import INITS, initialise

        config = self.config
        takes_scale = "scale" in inspect.signature(INITS[config.init]).parameters
        options = {"scale": config.init_scale} if takes_scale else {}
        initialise(self.core, config.init, config.seed, **options)

    # ------------------------------------------------------------------ parameters

    def parameters(self) -> dict[str, np.ndarray]:
        """Live arrays: the core's PyTorch names plus ``head.weight`` and ``head.bias``."""
        params = dict(self.core.parameters())
        params.update({HEAD_PREFIX + k: v for k, v in self.head.parameters().items()})
        return params

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.parameters().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy saved arrays into the live parameters (cast to this model's dtype); names and shapes must match."""
        load_arrays(self.parameters(), state, "this model", "build the model")

    def num_params(self) -> int:
        return int(sum(p.size for p in self.parameters().values()))

    def astype(self, dtype: np.dtype | type | str) -> "SequenceModel":
        """A copy with the same weights in ``dtype`` (e.g. float64 for gradient checks)."""
        copy = SequenceModel(replace(self.config, dtype=str(np.dtype(dtype))))
        copy.load_state_dict(self.state_dict())
        return copy

    # ------------------------------------------------------------------ forward / backward

    def _check_inputs(self, inputs: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        inputs = np.asarray(inputs)
        if inputs.ndim != 3 or inputs.shape[2] != self.config.input_size:
            raise ModelInputError(
                f"inputs must have shape (timesteps, batch, {self.config.input_size}), got {inputs.shape}"
            )
        if inputs.shape[0] < 1 or inputs.shape[1] < 1:
            raise ModelInputError(f"inputs need at least one timestep and one sample, got shape {inputs.shape}")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != inputs.shape[:2]:
                raise ModelInputError(f"mask must have shape {inputs.shape[:2]} (timesteps, batch), got {mask.shape}")
        return inputs.astype(self.dtype, copy=False), mask

    def _head_features(self, trace: Any) -> np.ndarray:
        """many_to_one: top-layer h_n of every direction, concatenated: (B, D*H)."""
        directions = self.config.num_directions
        top = trace.h_n[(self.config.num_layers - 1) * directions:]  # (D, B, H)
        return np.concatenate(list(top), axis=-1)  # (B, D*H)

    def forward(self, inputs: np.ndarray, mask: np.ndarray | None = None, h0: Any = None) -> ModelOutput:
        inputs, mask = self._check_inputs(inputs, mask)
        trace = self.core.forward(inputs, h0=h0, mask=mask)
        features = trace.output if self.config.io == "many_to_many" else self._head_features(trace)
        logits = self.head.forward(features)
        return ModelOutput(trace, logits, self.loss_fn.predict(logits))

    def _loss_mask(self, mask: np.ndarray | None) -> np.ndarray | None:
        return mask if self.config.io == "many_to_many" else None

    def loss(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        """The loss only (no gradients), e.g. on a held-out batch."""
        output = self.forward(inputs, mask)
        return self.loss_fn(output.logits, self._check_targets(targets, output.logits), self._loss_mask(mask))[0]

    def _check_targets(self, targets: np.ndarray, logits: np.ndarray) -> np.ndarray:
        targets = np.asarray(targets)
        expected = logits.shape[:-1] if self.loss_fn.class_targets else logits.shape
        if targets.shape != expected:
            kind = "integer class ids" if self.loss_fn.class_targets else "float values"
            raise ModelInputError(
                f"{self.config.io} with loss {self.config.loss} needs targets of shape {expected} ({kind}), "
                f"got {targets.shape}"
            )
        return targets

    def loss_and_grads(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None = None,
        tbptt: int | None = None,
        h0: Any = None,
    ) -> StepResult:
        """Forward, loss, and backpropagation through time (truncated every ``tbptt`` steps if given)."""
        output = self.forward(inputs, mask, h0)
        trace, logits = output.trace, output.logits
        targets = self._check_targets(targets, logits)
        loss, d_logits = self.loss_fn(logits, targets, self._loss_mask(mask))
        if self.config.io == "many_to_many":
            head_grads = self.head.backward(trace.output, d_logits)
            core_grads = self.core.backward(trace, head_grads.d_hidden, tbptt=tbptt or None)
        else:
            head_grads = self.head.backward(self._head_features(trace), d_logits)
            core_grads = self.core.backward(
                trace, np.zeros_like(trace.output), d_h_n=self._d_h_n(trace, head_grads.d_hidden),
                tbptt=tbptt or None,
            )
        grads = dict(core_grads.params)
        grads[HEAD_PREFIX + "weight"] = head_grads.weight
        grads[HEAD_PREFIX + "bias"] = head_grads.bias
        return StepResult(loss, grads, trace, core_grads, output.predictions, logits)

    def _d_h_n(self, trace: Any, d_features: np.ndarray) -> np.ndarray:
        """Scatter dL/d(features) (B, D*H) back onto the top layer's h_n slots of d_h_n (L*D, B, H)."""
        d_h_n = np.zeros_like(trace.h_n)
        directions, hidden = self.config.num_directions, self.config.hidden_size
        first = (self.config.num_layers - 1) * directions
        for direction in range(directions):
            d_h_n[first + direction] = d_features[:, direction * hidden:(direction + 1) * hidden]
        return d_h_n
