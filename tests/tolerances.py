"""Float tolerances the tests share, each from an error analysis rather than from one machine.

Rounding model (IEEE 754, which every x86 CPU and Python 3.10-3.13 follow): an operation returns the
exact result times (1 + δ), |δ| <= u, the unit roundoff: u = 2^-53 ≈ 1.1e-16 in float64 and
2^-24 ≈ 6.0e-8 in float32. numpy's and glibc's exp, log and tanh are within 4 ulps: they count as
4 roundings. A value reached through N roundings of quantities no larger than S is within about
N u S of exact (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3: γ_N = N u / (1 - N u)),
in whatever order the operations run. So two routes to the same quantity (a batched matmul and a
per-step one, rnnviz and PyTorch, AMD's and Intel's BLAS kernels, with FMA or without, another
summation order) differ by at most

    |actual - expected| <= 2 N u (|expected| + S),   S = the largest magnitude of the two arrays

which is what ``assert_same_maths`` checks: a relative part and an absolute floor, the floor scaled
by the array's own magnitude (gradients are linear in the output gradient: their rounding scales with
them). N is counted per test; ``SMALL_NET`` covers the small networks most tests build.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.gradcheck import DEFAULT_RTOL, roundoff_atol

# Roundings per value in the tests' small networks (T <= 10 steps, L <= 2 layers, hidden <= 8, fan-in
# <= 24, T B <= 100): per step and layer a dot product over the fan-in plus ~16 elementwise operations
# (4 for a transcendental) <= 64; forward T L 64 <= 1280; backward as many again plus sums over T B
# terms: <= 2700 < 2^12.
SMALL_NET = 2**12


def unit_roundoff(dtype=np.float64) -> float:
    return float(np.finfo(dtype).eps) / 2


def same_maths_tolerance(roundings: int = SMALL_NET, dtype=np.float64) -> float:
    """2 N u: how far two routes through at most N roundings each can end apart, per unit of scale."""
    return 2 * roundings * unit_roundoff(dtype)


def assert_same_maths(actual, expected, roundings: int = SMALL_NET, dtype=np.float64, err_msg: str = "") -> None:
    """|actual - expected| <= 2 N u (|expected| + S) elementwise, S = max(|actual|, |expected|)."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    tol = same_maths_tolerance(roundings, dtype)
    scale = max(_largest(expected), _largest(actual))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=err_msg)


def assert_matches_finite_differences(analytic, numeric, loss_value: float, eps: float = 1e-6,
                                      err_msg: str = "") -> None:
    """The gradient check's criterion (rnnviz/engine/gradcheck.py, where the analysis is): per entry
    |analytic - numeric| <= atol + rtol |numeric|, atol = 2^10 ulp(max(|L|, 1)) / eps (round-off
    of the loss), rtol = 1e-6 (truncation eps² L''' / 6), for float64 central differences."""
    np.testing.assert_allclose(np.asarray(analytic, dtype=np.float64), numeric, rtol=DEFAULT_RTOL,
                               atol=roundoff_atol(eps, loss_value), err_msg=err_msg)


def _largest(array: np.ndarray) -> float:
    finite = np.abs(array[np.isfinite(array)])
    return float(np.max(finite, initial=0.0))
