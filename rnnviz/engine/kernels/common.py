"""Building blocks of the compiled kernels: sigmoid and tanh through one vectorisable exp, and the
matrix products of a recurrent step.

glibc's scalar ``tanh`` costs ~11-15 ns a value here and ``exp`` 2.5-4.5 ns, and neither call
vectorises (numba has no vector maths library without Intel's SVML). The exp below is plain
arithmetic that LLVM turns into SIMD code:

    exp(x) = 2^n · exp(r),  n = round(x / ln 2),  r = x − n ln 2  (|r| ≤ ln 2 / 2),

n ln 2 subtracted in two parts (Cody–Waite) so that r is exact, exp(r) − 1 by its Taylor
polynomial (degree 13 in float64, remainder < 2e-16 relative; degree 7 in float32, < 6e-9), and
2^n written straight into a float's exponent bits. Then

    σ(a) = 1 / (2 + e) with e = exp(−a) − 1,   tanh(a) = −e / (2 + e) with e = exp(−2a) − 1,

one formula for both (so a step's sigmoids and tanh are one pass), the second accurate relative
to tanh near 0 as well (2 σ(2a) − 1 would lose those digits).
Measured here: ~1.1 ns a value in float64, ~0.4 ns in float32, errors within 2 ulp. Arguments are
clamped to where exp is finite and normal ([−708, 709]; float32 [−87, 88]), where σ and tanh are
saturated anyway; NaN passes through.

Every loop here starts at index 0 and runs over a whole 1-D array: numba cannot prove a loop from
a run-time start is non-negative, checks each index for wrap-around, and LLVM then does not
vectorise it. ``error_model="numpy"`` lets a division by zero give inf instead of raising, without
which no loop with a division vectorises (measured 0.3 against 2.3 ns a value).
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

# contract: fused multiply-add allowed (rounds once instead of twice)
JIT = dict(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})

LOG2_E = 1.4426950408889634

# float64: ln 2 = LN2_HIGH + LN2_LOW with LN2_HIGH exact in 32 bits; ROUND = 1.5 · 2^52, adding it
# rounds to an integer that stays in the low mantissa bits
LN2_HIGH, LN2_LOW = 6.93147180369123816490e-01, 1.90821492927058770002e-10
ROUND, ROUND_BITS = 6755399441055744.0, 0x4338000000000000
EXP_LOW, EXP_HIGH = -708.0, 709.0
# float32: the same with 1.5 · 2^23
f32 = np.float32
LOG2_E_32, LN2_HIGH_32, LN2_LOW_32 = f32(LOG2_E), f32(0.693359375), f32(-2.12194440e-4)
ROUND_32, ROUND_BITS_32 = f32(12582912.0), 0x4B400000
EXP_LOW_32, EXP_HIGH_32 = f32(-87.0), f32(88.0)


@njit(**JIT)
def _exp_parts_64(values, spare, tanh_from):
    """With x = −values[k] (k < tanh_from) or −2 values[k] (from tanh_from on): values <- q =
    exp(r) − 1, spare <- s = 2^n (float64; ``spare`` at least as long), so that
    exp(x) − 1 = s q + (s − 1), exact to the last bits near x = 0 as well."""
    n = values.shape[0]
    bits = spare[:n].view(np.int64)
    for k in range(n):
        scale = -2.0 if k >= tanh_from else -1.0
        x = min(max(scale * values[k], EXP_LOW), EXP_HIGH)
        shifted = x * LOG2_E + ROUND
        spare[k] = shifted
        whole = shifted - ROUND  # n, as a float
        r = (x - whole * LN2_HIGH) - whole * LN2_LOW
        values[k] = r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (
            1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (
                1 / 3628800 + r * (1 / 39916800 + r * (1 / 479001600 + r * (
                    1 / 6227020800)))))))))))))
    for k in range(n):  # 2^n: the exponent field holds n + 1023
        bits[k] = (bits[k] - ROUND_BITS + 1023) << 52


@njit(**JIT)
def _exp_parts_32(values, spare, tanh_from):
    """As ``_exp_parts_64`` in float32."""
    n = values.shape[0]
    bits = spare[:n].view(np.int32)
    for k in range(n):
        scale = f32(-2) if k >= tanh_from else f32(-1)
        x = min(max(scale * values[k], EXP_LOW_32), EXP_HIGH_32)
        shifted = x * LOG2_E_32 + ROUND_32
        spare[k] = shifted
        whole = shifted - ROUND_32
        r = (x - whole * LN2_HIGH_32) - whole * LN2_LOW_32
        values[k] = r * (f32(1) + r * (f32(1 / 2) + r * (f32(1 / 6) + r * (f32(1 / 24) + r * (
            f32(1 / 120) + r * (f32(1 / 720) + r * f32(1 / 5040)))))))
    for k in range(n):  # 2^n: the exponent field holds n + 127
        bits[k] = (bits[k] - ROUND_BITS_32 + 127) << 23


def activate_inplace(values, spare, tanh_from):
    """values[:tanh_from] <- σ(values), values[tanh_from:] <- tanh(values), in one pass for both
    (1-D float32 or float64; ``spare`` scratch of the same dtype, at least as long). With
    e = exp(x) − 1 for x = −a (σ) or x = −2a (tanh), both are one formula:

        σ(a) = 1 / (2 + e),   tanh(a) = −e / (2 + e)."""


def sigmoid_inplace(values, spare):
    """values <- σ(values), as ``activate_inplace``."""


def tanh_inplace(values, spare):
    """values <- tanh(values), as ``activate_inplace``."""


@overload(activate_inplace, jit_options=JIT)
def _activate_inplace(values, spare, tanh_from):
    exp_parts = _exp_parts_32 if values.dtype == types.float32 else _exp_parts_64

    def activate(values, spare, tanh_from):
        one, two = values.dtype.type(1), values.dtype.type(2)
        exp_parts(values, spare, tanh_from)
        for k in range(values.shape[0]):
            e = spare[k] * values[k] + (spare[k] - one)  # exp(x) − 1
            numerator = -e if k >= tanh_from else one
            values[k] = numerator / (two + e)

    return activate


@overload(sigmoid_inplace, jit_options=JIT)
def _sigmoid_inplace(values, spare):
    def sigmoid(values, spare):
        activate_inplace(values, spare, values.shape[0])

    return sigmoid


@overload(tanh_inplace, jit_options=JIT)
def _tanh_inplace(values, spare):
    def tanh(values, spare):
        activate_inplace(values, spare, 0)

    return tanh


@njit(**JIT)
def padded_size(size):
    """``size`` rounded up to whole AVX-512 vectors of float32 (16 values), for the scratch
    buffers of activations, so that no value falls into a scalar remainder loop."""
    return (size + 15) // 16 * 16


@njit(**JIT)
def add_vector_matrix(out, vector, matrix):
    """out[r] += Σ_k vector[k] matrix[k, r]: out (R,), vector (K,), matrix (K, R) row-major.
    Rows are taken four at a time, so each pass over ``out`` does four multiply-adds per load and
    store of it (measured ~1.4x over one row at a time)."""
    K, R = matrix.shape
    k = 0
    while k + 4 <= K:
        v0, v1, v2, v3 = vector[k], vector[k + 1], vector[k + 2], vector[k + 3]
        for r in range(R):
            out[r] += (matrix[k, r] * v0 + matrix[k + 1, r] * v1) + (
                matrix[k + 2, r] * v2 + matrix[k + 3, r] * v3)
        k += 4
    while k < K:
        v0 = vector[k]
        for r in range(R):
            out[r] += matrix[k, r] * v0
        k += 1


@njit(**JIT)
def add_rows_matrix(out, rows, matrix):
    """out += rows @ matrix: out (B, R), rows (B, K), matrix (K, R) row-major. Two rows of
    ``out`` at a time share each load of ``matrix``, four of its rows at a time share each load
    and store of ``out`` (measured 1.3-2x over one row at a time at B = 16-32)."""
    B, R = out.shape
    K = matrix.shape[0]
    b = 0
    while b + 2 <= B:
        out_0, out_1 = out[b], out[b + 1]
        k = 0
        while k + 4 <= K:
            p0, p1, p2, p3 = rows[b, k], rows[b, k + 1], rows[b, k + 2], rows[b, k + 3]
            q0, q1, q2, q3 = rows[b + 1, k], rows[b + 1, k + 1], rows[b + 1, k + 2], rows[b + 1, k + 3]
            for r in range(R):
                m0, m1, m2, m3 = matrix[k, r], matrix[k + 1, r], matrix[k + 2, r], matrix[k + 3, r]
                out_0[r] += (m0 * p0 + m1 * p1) + (m2 * p2 + m3 * p3)
                out_1[r] += (m0 * q0 + m1 * q1) + (m2 * q2 + m3 * q3)
            k += 4
        while k < K:
            p0, q0 = rows[b, k], rows[b + 1, k]
            for r in range(R):
                out_0[r] += matrix[k, r] * p0
                out_1[r] += matrix[k, r] * q0
            k += 1
        b += 2
    if b < B:
        add_vector_matrix(out[b], rows[b], matrix)


REDUCE = dict(JIT, fastmath={"contract", "reassoc"})  # sums in SIMD lanes: only the rounding moves


@njit(**REDUCE)
def add_rows_matrix_t(out, rows, matrix_t):
    """out += rows @ matrix_t^T: out (B, J), rows (B, R), matrix_t (J, R) row-major, as dot
    products of length R, four rows of ``rows`` sharing each load of ``matrix_t``. For a short J
    and a long R (LSTM backward at H = 32, R = 4H: measured 1.7x over ``add_rows_matrix`` in
    float32, no gain in float64 or from H = 64 on)."""
    B, J = out.shape
    R = matrix_t.shape[1]
    b = 0
    while b + 4 <= B:
        rows_0, rows_1, rows_2, rows_3 = rows[b], rows[b + 1], rows[b + 2], rows[b + 3]
        for j in range(J):
            weights = matrix_t[j]
            total_0, total_1, total_2, total_3 = out[b, j], out[b + 1, j], out[b + 2, j], out[b + 3, j]
            for r in range(R):
                total_0 += weights[r] * rows_0[r]
                total_1 += weights[r] * rows_1[r]
                total_2 += weights[r] * rows_2[r]
                total_3 += weights[r] * rows_3[r]
            out[b, j], out[b + 1, j], out[b + 2, j], out[b + 3, j] = total_0, total_1, total_2, total_3
        b += 4
    while b < B:
        matrix_vector(out[b], matrix_t, rows[b], True)
        b += 1


@njit(**REDUCE)
def matrix_vector(out, matrix, vector, accumulate):
    """out[j] (+)= Σ_r matrix[j, r] vector[r]: out (J,), matrix (J, R) row-major, vector (R,).
    For a long R and a short J, where ``add_vector_matrix`` would loop over the short side:
    each sum runs in SIMD lanes (the reassociation this needs changes only the rounding)."""
    J, R = matrix.shape
    for j in range(J):
        total = out[j] if accumulate else out.dtype.type(0)
        for r in range(R):
            total += matrix[j, r] * vector[r]
        out[j] = total
