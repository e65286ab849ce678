"""Check analytic gradients against central finite differences, entry by entry.

For every parameter entry ``w`` checked, the numerical derivative is the central difference

    D = (L(w+) - L(w-)) / (w+ - w-),    w± = fl(w ± eps)

(dividing by the step actually stored, ``w+ - w-``, rather than by 2 eps removes the error of
representing w ± eps). Each entry passes when, as in ``torch.autograd.gradcheck``,

    |analytic - D| <= atol + rtol |D|.

Why these tolerances hold (float analysis of D against the true derivative L'):

* truncation: Taylor's theorem gives D - L' = eps² L'''(ξ) / 6. It is covered by ``rtol``
  (default 1e-6) wherever |L'''| <= 6 rtol |L'| / eps² (6e6 |L'| at eps = 1e-6, i.e. unless the
  loss curves on a scale below ~4e-4 of the weight), and by ``atol`` wherever
  |L'''| <= 6 atol / eps² (at least 1.4e6 at eps = 1e-6 in float64): the networks here are
  compositions of tanh, σ, products and matmuls of O(1) weights and states, far inside both.
* round-off: a computed loss is L + δ with |δ| <= k ulp(S), where S is the magnitude of the
  quantities the loss is summed from and k counts the ulps accumulated by the forward pass, so
  |D - D_exact| <= (|δ+| + |δ-|) / (2 eps) <= k ulp(S) / eps. The scale is S = max(|L(w)|, 1),
  not |L|: a well-fitted loss of 1e-8 is a difference of predictions and targets of order 1
  (the tasks keep inputs and targets of order 1, tanh and σ bound the states), so its rounding
  is of order ulp(1), not ulp(1e-8). The errors of the forward pass's many roundings have random
  signs and grow like the square root of their count (a dot product of H terms per state, T
  steps, B·T·O terms summed pairwise), so even T·H·B ~ 10⁶ roundings give ~10³ ulps: k = 2^10
  (``ROUNDOFF_ULPS``). Measured here (max |analytic - D| eps / ulp(S)): 0.2-1.1 for the app's
  sessions and presets up to hidden 256, T = 500; 39 for a bare core's loss sum(output R) over
  10⁵ random-sign terms, whose S = |L| understates the terms' magnitude.
  ulp() is that of the parameters' dtype (float64 for every check the app runs: a float32 model
  or core is checked through a float64 copy with the same weights, so the check tests the maths,
  not float32 rounding). Float64 gives atol = 2^10 · 2.2e-16 / 1e-6 ≈ 2.3e-7 at S <= 1.
* the analytic gradient's own rounding (a few ulps of the sums BPTT accumulates) is far below
  atol. Not covered: a kink. A ReLU pre-activation within eps of 0 makes L non-differentiable
  between w- and w+, and such an entry fails (it happens in the exploding preset).
* neither bound depends on the CPU: the BLAS kernel (AMD or Intel, FMA or not, any blocking)
  changes which roundings happen, not how many ulps they can add up to.

Per matrix the result keeps the worst entry, the one with the largest ratio
``|analytic - D| / (atol + rtol |D|)``: the matrix passes when that ratio is at most 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

ROUNDOFF_ULPS = 2.0**10  # k: ulps of the loss's scale its computation may accumulate (see above)
DEFAULT_RTOL = 1e-6  # covers the truncation error eps² L''' / 6 (see above)


class GradCheckError(ValueError):
    """Bad gradient-check arguments: the message says how to fix them."""


def roundoff_atol(eps: float, loss_scale: float, dtype=np.float64) -> float:
    """The absolute floor ``k ulp(S) / eps`` of the finite-difference error (module docstring)."""
    scale = np.asarray(max(abs(loss_scale), 1.0), dtype=dtype)
    return float(ROUNDOFF_ULPS * np.spacing(scale) / eps)


@dataclass(frozen=True)
class ParamCheck:
    name: str
    shape: tuple[int, ...]
    checked: int  # entries compared (all of them, or a random subset for big matrices)
    atol: float  # the absolute floor of the allowance (``roundoff_atol``)
    rtol: float
    max_abs_error: float  # max |analytic - numeric| over the checked entries
    worst_index: tuple[int, ...]  # the entry with the largest error / allowance ratio
    worst_analytic: float
    worst_numeric: float
    ratio: float  # |analytic - numeric| / (atol + rtol |numeric|) at the worst entry: passes <= 1
    max_grad: float  # max |analytic| over the checked entries (the scale of this gradient)

    @property
    def worst_error(self) -> float:
        return abs(self.worst_analytic - self.worst_numeric)

    @property
    def allowed(self) -> float:
        """The allowance at the worst entry, atol + rtol |numeric|."""
        return self.atol + self.rtol * abs(self.worst_numeric)

    @property
    def passed(self) -> bool:
        return self.ratio <= 1.0  # False for NaN


@dataclass(frozen=True)
class GradCheckResult:
    params: tuple[ParamCheck, ...]
    eps: float
    loss_scale: float  # S = max(|L(w)|, 1), the scale of the round-off floor

    @property
    def passed(self) -> bool:
        """True when every checked entry of every matrix is within its allowance."""
        return all(p.passed for p in self.params)

    @property
    def max_abs_error(self) -> float:
        return max((p.max_abs_error for p in self.params), default=0.0)

    @property
    def worst_ratio(self) -> float:
        return max((p.ratio for p in self.params), default=0.0)

    def worst(self) -> ParamCheck:
        return max(self.params, key=lambda p: p.ratio if math.isfinite(p.ratio) else math.inf)

    def __str__(self) -> str:
        lines = [f"{'parameter':24s} {'shape':>10s} {'checked':>8s} {'worst entry':>12s} {'|a - n|':>10s} "
                 f"{'allowed':>10s} {'ratio':>8s}"]
        for p in self.params:
            index = ",".join(map(str, p.worst_index))
            lines.append(f"{p.name:24s} {'x'.join(map(str, p.shape)):>10s} {p.checked:8d} {index:>12s} "
                         f"{p.worst_error:10.2e} {p.allowed:10.2e} {p.ratio:8.2g}")
        lines.append(f"eps {self.eps:g}; allowed = atol + rtol |numeric|, ratio = |a - n| / allowed "
                     "(passes at <= 1)")
        return "\n".join(lines)


def _entries(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_entries is None or max_entries >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def central_differences(loss_fn: Callable[[], float], array: np.ndarray, indices, eps: float = 1e-6) -> np.ndarray:
    """(L(w+) - L(w-)) / (w+ - w-) with w± = fl(w ± eps e_k), for each flat index k of ``array``,
    which is perturbed in place (``loss_fn()`` must read it) and restored exactly after each entry."""
    flat = array.reshape(-1)
    numeric = np.empty(len(indices))
    for k, index in enumerate(indices):
        original = flat[index]
        flat[index] = original + eps
        plus = float(flat[index])
        loss_plus = loss_fn()
        flat[index] = original - eps
        minus = float(flat[index])
        loss_minus = loss_fn()
        flat[index] = original
        if plus == minus:
            raise GradCheckError(f"eps = {eps:g} is below the resolution of {array.dtype} at {original!r}: "
                                 "use a larger eps (or a float64 copy)")
        numeric[k] = (loss_plus - loss_minus) / (plus - minus)
    return numeric


def compare_gradients(
    params: dict[str, np.ndarray],
    loss_fn: Callable[[], float],
    analytic: dict[str, np.ndarray],
    eps: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
) -> GradCheckResult:
    """Finite-difference check of ``analytic`` against ``loss_fn`` by perturbing ``params`` in place.

    ``loss_fn()`` must read the live arrays in ``params`` and compute in their dtype (float64 for
    a meaningful check); each entry is restored exactly after use. ``max_entries`` limits the
    entries checked per array to a random subset drawn with ``seed``.
    """
    if not (math.isfinite(eps) and eps > 0):
        raise GradCheckError(f"eps must be a small positive number, got {eps!r}; 1e-6 suits float64")
    if not (math.isfinite(rtol) and rtol >= 0):
        raise GradCheckError(f"rtol must be a number >= 0, got {rtol!r}")
    if max_entries is not None and max_entries < 1:
        raise GradCheckError(f"max_entries must be at least 1 (or None for all), got {max_entries}")
    rng = np.random.default_rng(seed)
    loss_scale = max(abs(float(loss_fn())), 1.0)
    checks = []
    for name, param in params.items():
        if name not in analytic:
            raise GradCheckError(f"no analytic gradient for {name!r}")
        if not np.issubdtype(param.dtype, np.floating):
            raise GradCheckError(f"parameter {name!r} is {param.dtype}, not a float array")
        grad = np.asarray(analytic[name], dtype=np.float64).reshape(-1)
        flat = param.reshape(-1)  # a view: perturbations reach the live array
        if not np.shares_memory(flat, param):
            raise GradCheckError(f"parameter {name!r} is not contiguous; cannot perturb it in place")
        indices = _entries(flat.size, max_entries, rng)
        numeric = central_differences(loss_fn, flat, indices, eps)
        atol = roundoff_atol(eps, loss_scale, param.dtype)
        checks.append(_param_check(name, param.shape, indices, grad[indices], numeric, atol, rtol))
    return GradCheckResult(tuple(checks), eps, loss_scale)


def _param_check(name: str, shape: tuple[int, ...], indices: np.ndarray, analytic: np.ndarray,
                 numeric: np.ndarray, atol: float, rtol: float) -> ParamCheck:
    if analytic.size == 0:
        return ParamCheck(name, tuple(shape), 0, atol, rtol, 0.0, (), 0.0, 0.0, 0.0, 0.0)
    error = np.abs(analytic - numeric)
    ratios = error / (atol + rtol * np.abs(numeric))
    ratios[~np.isfinite(ratios)] = np.inf  # a NaN or inf anywhere fails the matrix
    worst = int(np.argmax(ratios))
    index = tuple(int(i) for i in np.unravel_index(indices[worst], shape))
    return ParamCheck(name, tuple(shape), int(analytic.size), atol, rtol, float(np.max(error)), index,
                      float(analytic[worst]), float(numeric[worst]), float(ratios[worst]),
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
    rtol: float = DEFAULT_RTOL,
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
        params, loss, analytic = _model_problem(target, inputs64, targets, mask, check_inputs)
    elif hasattr(target, "backward") and hasattr(target, "parameters"):
        if targets is not None:
            raise GradCheckError("a bare recurrent core has no loss: pass targets=None (or check the model)")
        params, loss, analytic = _core_problem(target, inputs64, mask, seed, check_inputs)
    else:
        raise GradCheckError(f"gradcheck takes a SequenceModel or a Recurrent core, got {type(target).__name__}")
    return compare_gradients(params, loss, analytic, eps, max_entries, seed, rtol)


def _model_problem(model, inputs, targets, mask, check_inputs):
    """(float64 parameters, their loss function, the analytic gradients) of a model."""
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
    return params, loss, analytic


def _core_float64(core):
    copy = type(core)(
        core.mode, core.input_size, core.hidden_size, num_layers=core.num_layers,
        bidirectional=core.bidirectional, dtype=np.float64,
    )
    copy.load_state_dict({k: np.asarray(v, dtype=np.float64) for k, v in core.state_dict().items()})
    return copy


def _core_problem(core, inputs, mask, seed, check_inputs):
    """(float64 parameters, the loss sum(output R) + ..., the analytic gradients) of a bare core."""
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
    return params, loss, analytic
