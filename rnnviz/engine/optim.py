"""Optimizers with PyTorch's update rules and defaults, updating live parameter arrays in place.

An optimizer holds a dict ``name -> array`` of live parameters and ``step(grads)`` takes a dict with
the same names. ``lr`` is a plain, validated attribute that may change between steps. State
(momentum buffers, Adam moments, the step count) is saved by ``state_dict()`` as a flat dict of
numbers, strings and arrays (``"<buffer>/<param>" -> array``), which ``np.savez`` stores without
pickling.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np


class OptimizerError(ValueError):
    """A bad optimizer name, hyper-parameter or saved state: the message says how to fix it."""


def _positive_finite(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptimizerError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise OptimizerError(f"{name} must be a positive finite number, got {value!r}; try e.g. 1e-3")
    return number


def _in_range(name: str, value: Any, low: float, high: float, high_open: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptimizerError(f"{name} must be a number, got {value!r}") from None
    ok = math.isfinite(number) and low <= number and (number < high if high_open else number <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise OptimizerError(f"{name} must be in [{low:g}, {high:g}{bracket}, got {value!r}")
    return number


class Optimizer:
    """Base class: subclasses set ``name``, ``defaults``, ``buffers`` and implement ``_update``."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, float]]  # hyper-parameters other than lr
    default_lr: ClassVar[float]
    buffers: ClassVar[tuple[str, ...]] = ()  # per-parameter state arrays

    def __init__(self, params: dict[str, np.ndarray], lr: float | None = None, **hyper: Any) -> None:
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            raise OptimizerError(
                f"{self.name} has no option {', '.join(unknown)}; it takes lr"
                + "".join(f", {k}" for k in self.defaults)
            )
        self.params = dict(params)
        self.lr = self.default_lr if lr is None else lr
        self.hyper = {k: self._validate(k, hyper.get(k, v)) for k, v in self.defaults.items()}
        self.step_count = 0
        self.state: dict[str, dict[str, np.ndarray]] = {
            buf: {n: np.zeros_like(p) for n, p in self.params.items()} for buf in self.buffers
        }

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _positive_finite("learning rate", value)

    def _validate(self, key: str, value: Any) -> float:
        return _in_range(key, value, 0.0, math.inf)

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Apply one update to every parameter in place, given ``grads`` with the same names."""
        missing = sorted(set(self.params) - set(grads))
        if missing:
            raise OptimizerError(f"no gradient for {', '.join(missing)}: pass a gradient for every parameter")
        self.step_count += 1
        for name, param in self.params.items():
            grad = np.asarray(grads[name], dtype=param.dtype)
            if grad.shape != param.shape:
                raise OptimizerError(f"gradient for {name} has shape {grad.shape}, parameter has {param.shape}")
            self._update(name, param, grad)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _with_weight_decay(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        decay = self.hyper.get("weight_decay", 0.0)
        return grad + param.dtype.type(decay) * param if decay else grad

    # ------------------------------------------------------------------ saving

    def state_dict(self) -> dict[str, Any]:
        """A flat, picklable-free copy: name, lr, hyper-parameters, step and ``"<buffer>/<param>"`` arrays."""
        state: dict[str, Any] = {"name": self.name, "lr": self.lr, "step": self.step_count, **self.hyper}
        for buf, arrays in self.state.items():
            for param_name, array in arrays.items():
                state[f"{buf}/{param_name}"] = array.copy()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from ``state_dict()`` output (arrays may come back from ``np.load``)."""
        saved_name = str(np.asarray(state.get("name", "")))
        if saved_name != self.name:
            raise OptimizerError(f"saved optimizer state is for {saved_name!r}, not {self.name!r}")
        self.lr = float(state["lr"])
        self.hyper = {k: self._validate(k, float(state.get(k, v))) for k, v in self.defaults.items()}
        step = int(state.get("step", 0))
        for buf, arrays in self.state.items():
            for param_name, array in arrays.items():
                key = f"{buf}/{param_name}"
                if key not in state:
                    raise OptimizerError(f"saved optimizer state has no {key!r}: it belongs to another model")
                value = np.asarray(state[key])
                if value.shape != array.shape:
                    raise OptimizerError(f"saved {key} has shape {value.shape}, the model needs {array.shape}")
        for buf, arrays in self.state.items():
            for param_name, array in arrays.items():
                array[...] = np.asarray(state[f"{buf}/{param_name}"])
        self.step_count = step


class SGD(Optimizer):
    """PyTorch's SGD: ``g <- g + wd p``; with momentum ``b <- mu b + (1 - dampening) g`` (``b <- g`` on
    the first step), ``g <- g + mu b`` if nesterov else ``g <- b``; then ``p <- p - lr g``."""

    name = "sgd"
    default_lr = 1e-3
    defaults = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": 0.0}
    buffers = ("momentum_buffer",)

    def _validate(self, key: str, value: Any) -> float:
        if key in ("momentum", "dampening"):
            return _in_range(key, value, 0.0, 1.0, high_open=False)
        if key == "nesterov":
            return float(bool(value))
        return super()._validate(key, value)

    def __init__(self, params: dict[str, np.ndarray], lr: float | None = None, **hyper: Any) -> None:
        super().__init__(params, lr, **hyper)
        if self.hyper["nesterov"] and (self.hyper["momentum"] <= 0 or self.hyper["dampening"] != 0):
            raise OptimizerError("nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        grad = self._with_weight_decay(param, grad)
        momentum = self.hyper["momentum"]
        if momentum:
            buffer = self.state["momentum_buffer"][name]
            if self.step_count == 1:
                buffer[...] = grad
            else:
                buffer *= param.dtype.type(momentum)
                buffer += param.dtype.type(1.0 - self.hyper["dampening"]) * grad
            grad = grad + param.dtype.type(momentum) * buffer if self.hyper["nesterov"] else buffer
        param -= param.dtype.type(self.lr) * grad


class SGDMomentum(SGD):
    """SGD with momentum 0.9 by default (PyTorch's formulation, see SGD)."""

    name = "sgd_momentum"
    defaults = {**SGD.defaults, "momentum": 0.9}


class Adam(Optimizer):
    """PyTorch's Adam: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)``."""

    name = "adam"
    default_lr = 1e-3
    defaults = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    buffers = ("exp_avg", "exp_avg_sq")

    def _validate(self, key: str, value: Any) -> float:
        if key in ("beta1", "beta2"):
            return _in_range(key, value, 0.0, 1.0)
        return super()._validate(key, value)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        cast = param.dtype.type
        beta1, beta2, eps = self.hyper["beta1"], self.hyper["beta2"], self.hyper["eps"]
        grad = self._with_weight_decay(param, grad)
        m, v = self.state["exp_avg"][name], self.state["exp_avg_sq"][name]
        m *= cast(beta1)
        m += cast(1.0 - beta1) * grad
        v *= cast(beta2)
        v += cast(1.0 - beta2) * grad * grad
        step_size = self.lr / (1.0 - beta1**self.step_count)
        denominator = np.sqrt(v) / cast(math.sqrt(1.0 - beta2**self.step_count)) + cast(eps)
        param -= cast(step_size) * (m / denominator)


class RMSprop(Optimizer):
    """PyTorch's RMSprop: ``s <- a s + (1-a) g^2``; centered: ``ga <- a ga + (1-a) g``,
    ``d = sqrt(s - ga^2) + eps`` else ``d = sqrt(s) + eps``; with momentum ``b <- mu b + g/d``,
    ``p <- p - lr b``, else ``p <- p - lr g/d``."""

    name = "rmsprop"
    default_lr = 1e-2
    defaults = {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": 0.0}
    buffers = ("square_avg", "grad_avg", "momentum_buffer")

    def _validate(self, key: str, value: Any) -> float:
        if key == "alpha":
            return _in_range(key, value, 0.0, 1.0, high_open=False)
        if key == "momentum":
            return _in_range(key, value, 0.0, 1.0)
        if key == "centered":
            return float(bool(value))
        return super()._validate(key, value)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        cast = param.dtype.type
        alpha = self.hyper["alpha"]
        grad = self._with_weight_decay(param, grad)
        square_avg = self.state["square_avg"][name]
        square_avg *= cast(alpha)
        square_avg += cast(1.0 - alpha) * grad * grad
        if self.hyper["centered"]:
            grad_avg = self.state["grad_avg"][name]
            grad_avg *= cast(alpha)
            grad_avg += cast(1.0 - alpha) * grad
            denominator = np.sqrt(square_avg - grad_avg * grad_avg) + cast(self.hyper["eps"])
        else:
            denominator = np.sqrt(square_avg) + cast(self.hyper["eps"])
        if self.hyper["momentum"]:
            buffer = self.state["momentum_buffer"][name]
            buffer *= cast(self.hyper["momentum"])
            buffer += grad / denominator
            param -= cast(self.lr) * buffer
        else:
            param -= cast(self.lr) * (grad / denominator)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, SGDMomentum, Adam, RMSprop)
}


def make_optimizer(name: str, params: dict[str, np.ndarray], lr: float | None = None, **kw: Any) -> Optimizer:
    """The optimizer called ``name`` over ``params``; ``lr=None`` takes PyTorch's default for it."""
    try:
        cls = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise OptimizerError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return cls(params, lr, **kw)
