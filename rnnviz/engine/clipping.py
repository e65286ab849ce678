"""Gradient clipping in place, reporting the global norm before clipping and whether clipping fired."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np


class ClippingError(ValueError):
    """A bad clipping threshold: the message says what is allowed."""


@dataclass(frozen=True)
class ClipResult:
    norm_before: float  # global L2 norm of all gradients before clipping
    clipped: bool  # True when clipping changed the gradients


Grads = Mapping[str, np.ndarray] | Iterable[np.ndarray]


def _arrays(grads: Grads) -> list[np.ndarray]:
    return list(grads.values()) if isinstance(grads, Mapping) else list(grads)


def _threshold(name: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClippingError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ClippingError(f"{name} must be a positive finite number, got {value!r}; use None to turn it off")
    return number


def global_norm(grads: Grads) -> float:
    """``||g|| = sqrt(sum over all arrays and entries of g^2)``, accumulated in float64."""
    total = 0.0
    for grad in _arrays(grads):
        flat = grad.reshape(-1).astype(np.float64, copy=False)
        total += float(flat @ flat)
    return math.sqrt(total)


def clip_grad_norm(grads: Grads, max_norm: float) -> ClipResult:
    """Scale all gradients by ``max_norm / (||g|| + 1e-6)`` when that is < 1 (PyTorch's rule).

    A non-finite norm is reported as it is and nothing is scaled (the trainer rejects such a step).
    """
    max_norm = _threshold("max_norm", max_norm)
    arrays = _arrays(grads)
    norm = global_norm(arrays)
    coefficient = max_norm / (norm + 1e-6)
    if not math.isfinite(norm) or coefficient >= 1.0:
        return ClipResult(norm, False)
    for grad in arrays:
        grad *= grad.dtype.type(coefficient)
    return ClipResult(norm, True)


def clip_grad_value(grads: Grads, clip_value: float) -> ClipResult:
    """Clamp every gradient entry to ``[-clip_value, clip_value]``; ``clipped`` if any entry was outside."""
    clip_value = _threshold("clip_value", clip_value)
    arrays = _arrays(grads)
    norm = global_norm(arrays)
    clipped = False
    for grad in arrays:
        if np.any(np.abs(grad) > clip_value):
            clipped = True
            np.clip(grad, -clip_value, clip_value, out=grad)
    return ClipResult(norm, clipped)
