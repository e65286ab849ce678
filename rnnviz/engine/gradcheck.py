"""Check analytic gradients against central finite differences, in float64.

For every parameter entry ``w`` checked, the numerical derivative is

    dL/dw ~= (L(w + eps) - L(w - eps)) / (2 eps)

and is compared with the analytic gradient. Per parameter matrix the result holds the largest
absolute difference and the *relative error* ``max|analytic - numeric| / max(max|analytic|, max|numeric|)``
(the error measured against the size of that matrix's gradient, 0 when both are exactly zero).
That definition stays meaningful for matrices with many near-zero entries, where an entry-by-entry
ratio would divide finite-difference noise by zero. A float32 model or core is checked through a
float64 copy with the same weights, so the check tests the maths, not float32 rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class GradCheckError(ValueError):
    """Bad gradient-check arguments: the message says how to fix them."""


@dataclass(frozen=True)
class ParamCheck:
    name: str
    shape: tuple[int, ...]
    checked: int  # entries compared (all of them, or a random subset for big matrices)
    max_abs_error: float  # max |analytic - numeric| over the checked entries
    rel_error: float  # max_abs_error / max(max|analytic|, max|numeric|) over the checked entries
    max_grad: float  # max |analytic| over the checked entries (the scale of this gradient)


@dataclass(frozen=True)
class GradCheckResult:
    params: tuple[ParamCheck, ...]
    eps: float

    @property
    def max_abs_error(self) -> float:
        return max((p.max_abs_error for p in self.params), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((p.rel_error for p in self.params), default=0.0)

    def passed(self, rtol: float = 1e-5) -> bool:
        """True when every checked matrix has relative error at most ``rtol``."""
        return all(p.rel_error <= rtol for p in self.params)

    def worst(self) -> ParamCheck:
        return max(self.params, key=lambda p: p.rel_error)

    def rows(self) -> list[tuple[str, str, int, float, float]]:
        """Table rows: (name, shape, entries checked, max abs error, relative error)."""
        return [
            (p.name, "x".join(map(str, p.shape)), p.checked, p.max_abs_error, p.rel_error) for p in self.params
        ]

    def __str__(self) -> str:
        lines = [f"{'parameter':24s} {'shape':>10s} {'checked':>8s} {'max abs err':>12s} {'rel err':>10s}"]
        for name, shape, checked, abs_err, rel_err in self.rows():
            lines.append(f"{name:24s} {shape:>10s} {checked:8d} {abs_err:12.3e} {rel_err:10.3e}")
        return "\n".join(lines)


def _entries(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_entries is None or max_entries >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def central_differences(loss_fn: Callable[[], float], array: np.ndarray, indices, eps: float = 1e-6) -> np.ndarray:
    """(L(w + eps e_k) - L(w - eps e_k)) / (2 eps) for each flat index k of ``array``, which is
    perturbed in place (``loss_fn()`` must read it) and restored exactly after each entry."""
    flat = array.reshape(-1)
    numeric = np.empty(len(indices))
    for k, index in enumerate(indices):
        original = flat[index]
        flat[index] = original + eps
        loss_plus = loss_fn()
        flat[index] = original - eps
        loss_minus = loss_fn()
        flat[index] = original
        numeric[k] = (loss_plus - loss_minus) / (2 * eps)
    return numeric


def compare_gradients(
    params: dict[str, np.ndarray],
    loss_fn: Callable[[], float],
    analytic: dict[str, np.ndarray],
    eps: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Finite-difference check of ``analytic`` against ``loss_fn`` by perturbing ``params`` in place.

    ``loss_fn()`` must read the live arrays in ``params`` (float64 for a meaningful check); each entry
    is restored exactly after use. ``max_entries`` limits the entries checked per array to a random
    subset drawn with ``seed``.
    """
    if not (math.isfinite(eps) and eps > 0):
        raise GradCheckError(f"eps must be a small positive number, got {eps!r}; 1e-6 suits float64")
    if max_entries is not None and max_entries < 1:
        raise GradCheckError(f"max_entries must be at least 1 (or None for all), got {max_entries}")
    rng = np.random.default_rng(seed)
    checks = []
    for name, param in params.items():
        if name not in analytic:
            raise GradCheckError(f"no analytic gradient for {name!r}")
        grad = np.asarray(analytic[name], dtype=np.float64).reshape(-1)
        flat = param.reshape(-1)  # a view: perturbations reach the live array
        if not np.shares_memory(flat, param):
            raise GradCheckError(f"parameter {name!r} is not contiguous; cannot perturb it in place")
        indices = _entries(flat.size, max_entries, rng)
        numeric = central_differences(loss_fn, flat, indices, eps)
        checks.append(_param_check(name, param.shape, grad[indices], numeric))
    return GradCheckResult(tuple(checks), eps)


def _param_check(name: str, shape: tuple[int, ...], analytic: np.ndarray, numeric: np.ndarray) -> ParamCheck:
    if analytic.size == 0:
        return ParamCheck(name, tuple(shape), 0, 0.0, 0.0, 0.0)
    max_abs_error = float(np.max(np.abs(analytic - numeric)))
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))))
    rel_error = max_abs_error / scale if scale > 0 else 0.0
    if not math.isfinite(max_abs_error):
        rel_error = math.inf
    return ParamCheck(name, tuple(shape), int(analytic.size), max_abs_error, rel_error,
                      float(np.max(np.abs(analytic))))


# ----------------------------------------------------------------------------- models and cores


def gradcheck(
    target: Any,
    inputs: np.ndarray,
    targets: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    eps: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
    check_inputs: bool = False,
) -> GradCheckResult:
    """Check the gradients of a ``SequenceModel`` (its loss on ``targets``) or of a bare ``Recurrent``
    core, on a float64 copy of it.

    A core has no loss, so it is checked on ``L = sum(output * R) + sum(h_n * R_h) (+ sum(c_n * R_c))``
    with fixed random ``R`` drawn from ``seed`` (``targets`` must then be None). ``check_inputs``
    adds a row for dL/dinputs.
    """
    inputs64 = np.asarray(inputs, dtype=np.float64)
    if hasattr(target, "loss_and_grads"):
        if targets is None:
            raise GradCheckError("checking a model needs targets for its loss")
        return _check_model(target, inputs64, targets, mask, eps, max_entries, seed, check_inputs)
    if hasattr(target, "backward") and hasattr(target, "parameters"):
        if targets is not None:
            raise GradCheckError("a bare recurrent core has no loss: pass targets=None (or check the model)")
        return _check_core(target, inputs64, mask, eps, max_entries, seed, check_inputs)
    raise GradCheckError(f"gradcheck takes a SequenceModel or a Recurrent core, got {type(target).__name__}")


def _check_model(model, inputs, targets, mask, eps, max_entries, seed, check_inputs) -> GradCheckResult:
    model64 = model.astype(np.float64)
    result = model64.loss_and_grads(inputs, targets, mask)
    params = dict(model64.parameters())
    analytic = dict(result.grads)
    input_box = inputs.copy()

    def loss() -> float:
        return model64.loss(input_box, targets, mask)

    if check_inputs:
        params["inputs"] = input_box
        analytic["inputs"] = result.core_grads.d_input
    return compare_gradients(params, loss, analytic, eps, max_entries, seed)


def _core_float64(core):
    copy = type(core)(
        core.mode, core.input_size, core.hidden_size, num_layers=core.num_layers,
        bidirectional=core.bidirectional, dtype=np.float64,
    )
    copy.load_state_dict({k: np.asarray(v, dtype=np.float64) for k, v in core.state_dict().items()})
    return copy


def _check_core(core, inputs, mask, eps, max_entries, seed, check_inputs) -> GradCheckResult:
    core64 = _core_float64(core)
    input_box = inputs.copy()
    trace = core64.forward(input_box, mask=mask)
    rng = np.random.default_rng([seed, 7])
    d_output = rng.standard_normal(trace.output.shape)  # (T, B, D*H)
    d_h_n = rng.standard_normal(trace.h_n.shape)  # (L*D, B, H)
    has_cell_state = getattr(trace, "c_n", None) is not None
    d_c_n = rng.standard_normal(trace.c_n.shape) if has_cell_state else None

    def loss() -> float:
        t = core64.forward(input_box, mask=mask)
        total = np.sum(t.output * d_output) + np.sum(t.h_n * d_h_n)
        return float(total + (np.sum(t.c_n * d_c_n) if has_cell_state else 0.0))

    grads = core64.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n)
    params = dict(core64.parameters())
    analytic = dict(grads.params)
    if check_inputs:
        params["inputs"] = input_box
        analytic["inputs"] = grads.d_input
    return compare_gradients(params, loss, analytic, eps, max_entries, seed)
