"""The kernels' arguments in the one form each kernel is compiled for (C-contiguous, fixed dtype,
fixed number of dimensions): any other form would make numba compile again while training."""
from __future__ import annotations

import numpy as np

_NO_ROWS = {}  # dtype -> an empty (0, 0) array: "no mask"


def contiguous(array: np.ndarray, dtype) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=dtype)


def _empty(dtype) -> np.ndarray:
    key = np.dtype(dtype)
    if key not in _NO_ROWS:
        _NO_ROWS[key] = np.zeros((0, 0), dtype=key)
    return _NO_ROWS[key]


def padding_rows(padded: np.ndarray | None, T: int, B: int) -> np.ndarray:
    """(T, B) bool, True at padding, or (0, 0) without padding."""
    if padded is None:
        return _empty(np.bool_)
    return contiguous(padded.reshape(T, B), np.bool_)


def mask_rows(mask: np.ndarray | None, dtype) -> np.ndarray:
    """(T, B) 1 at real steps and 0 at padding, in the kernel's dtype, or (0, 0) without a mask."""
    if mask is None:
        return _empty(dtype)
    return contiguous(mask, dtype)
