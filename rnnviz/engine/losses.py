"""Loss functions on the output head's logits, each returning the loss and its gradient.

Every loss takes ``logits`` of shape ``(..., O)`` (``(T, B, O)`` for many_to_many, ``(B, O)`` for
many_to_one), targets in the task's layout and an optional ``mask`` of shape ``logits.shape[:-1]``
(1.0 real, 0.0 padding). The loss is a mean over the *real* positions only, so padding never
contributes to the loss or to its gradient:

    mse            L = sum_{p,o} m_p (y_po - t_po)^2 / (O * sum_p m_p)        (like nn.MSELoss)
    cross_entropy  L = -sum_p m_p log softmax(y_p)[t_p] / sum_p m_p           (like nn.CrossEntropyLoss)
    bce            L = sum_{p,o} m_p BCE(sigmoid(y_po), t_po) / (O * sum_p m_p)
                                                                  (like nn.BCEWithLogitsLoss)

Each function returns ``(loss, d_logits)`` with ``d_logits = dL/dlogits`` in the logits' dtype;
``d_logits`` is exactly zero at padded positions. ``predict`` turns logits into what the views
show: the values themselves (mse), class probabilities (cross_entropy) or probabilities (bce).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


class LossError(ValueError):
    """Bad loss name, or targets/mask that do not fit the logits: the message says how to fix it."""


# ----------------------------------------------------------------------------- helpers


def _mask_weights(logits: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Return the mask as the logits' dtype, shape ``logits.shape[:-1]``, and its number of real positions."""
    positions = logits.shape[:-1]
    if mask is None:
        weights = np.ones(positions, dtype=logits.dtype)
    else:
        mask = np.asarray(mask)
        if mask.shape != positions:
            raise LossError(
                f"mask has shape {mask.shape} but the logits {logits.shape} need a mask of shape {positions} "
                "(one 1/0 entry per timestep and sample)"
            )
        weights = mask.astype(logits.dtype, copy=False)
    count = float(weights.sum())
    if count <= 0:
        raise LossError("the mask has no real (non-zero) positions: there is nothing to compute a loss over")
    return weights, count


def _check_float_targets(logits: np.ndarray, targets: np.ndarray, name: str) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.shape != logits.shape:
        raise LossError(
            f"{name} needs targets shaped like the logits {logits.shape}, got {targets.shape}; "
            "float targets have one value per output unit"
        )
    return targets.astype(logits.dtype, copy=False)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Stable ``log softmax(y) = y - max(y) - log sum exp(y - max(y))`` over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)  # (..., O)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Stable ``softmax(y)_o = exp(y_o - max y) / sum_k exp(y_k - max y)`` over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))  # (..., O)
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Stable ``sigmoid(y) = 1 / (1 + exp(-y))``, computed as ``exp(y) / (1 + exp(y))`` for y < 0."""
    exp_neg_abs = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1.0 / (1.0 + exp_neg_abs), exp_neg_abs / (1.0 + exp_neg_abs)).astype(
        logits.dtype, copy=False
    )


# ----------------------------------------------------------------------------- losses


def mse_loss(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Masked mean squared error ``L = sum m (y - t)^2 / (O * sum m)``; ``dL/dy = 2 m (y - t) / (O * sum m)``."""
    targets = _check_float_targets(logits, targets, "mse")
    weights, count = _mask_weights(logits, mask)  # (...,)
    denominator = count * logits.shape[-1]
    diff = (logits - targets) * weights[..., None]  # (..., O), zero at padding
    loss = float(np.sum(diff * diff, dtype=np.float64) / denominator)
    d_logits = diff * logits.dtype.type(2.0 / denominator)
    return loss, d_logits


def cross_entropy_loss(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Masked softmax cross-entropy with class-id targets.

    ``L = -sum_p m_p log softmax(y_p)[t_p] / sum_p m_p``;
    ``dL/dy_p = m_p (softmax(y_p) - onehot(t_p)) / sum_p m_p``.
    Target ids at padded positions are ignored (they may be anything, e.g. -1).
    """
    targets = np.asarray(targets)
    positions, classes = logits.shape[:-1], logits.shape[-1]
    if targets.shape != positions:
        raise LossError(
            f"cross_entropy needs one class id per position, shape {positions}, got targets of shape "
            f"{targets.shape}; pass integer class ids, not one-hot vectors"
        )
    if not np.issubdtype(targets.dtype, np.integer):
        if not np.all(np.isfinite(targets)) or np.any(targets != np.round(targets)):
            raise LossError("cross_entropy targets must be whole-number class ids")
        targets = targets.astype(np.int64)
    weights, count = _mask_weights(logits, mask)
    real = weights != 0
    if np.any((targets[real] < 0) | (targets[real] >= classes)):
        raise LossError(f"cross_entropy class ids must be between 0 and {classes - 1} at real positions")
    ids = np.where(real, targets, 0)[..., None]  # (..., 1)
    log_probs = log_softmax(logits)  # (..., O)
    picked = np.take_along_axis(log_probs, ids, axis=-1)[..., 0]  # (...,)
    loss = float(-np.sum(picked * weights, dtype=np.float64) / count)
    d_logits = np.exp(log_probs)
    np.put_along_axis(d_logits, ids, np.take_along_axis(d_logits, ids, axis=-1) - 1, axis=-1)
    d_logits *= (weights / logits.dtype.type(count))[..., None]
    return loss, d_logits


def bce_with_logits_loss(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Masked binary cross-entropy on logits, stable for large |y|.

    ``BCE(y, t) = max(y, 0) - y t + log(1 + exp(-|y|))`` (= -t log s - (1-t) log(1-s), s = sigmoid(y));
    ``L = sum m BCE / (O * sum m)``; ``dL/dy = m (sigmoid(y) - t) / (O * sum m)``.
    """
    targets = _check_float_targets(logits, targets, "bce")
    weights, count = _mask_weights(logits, mask)
    denominator = count * logits.shape[-1]
    elementwise = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))  # (..., O)
    loss = float(np.sum(elementwise * weights[..., None], dtype=np.float64) / denominator)
    d_logits = (sigmoid(logits) - targets) * (weights[..., None] / logits.dtype.type(denominator))
    return loss, d_logits.astype(logits.dtype, copy=False)


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Loss:
    """A loss by name: ``compute(logits, targets, mask) -> (loss, d_logits)`` and ``predict(logits)``."""

    name: str
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray | None], tuple[float, np.ndarray]]
    predict: Callable[[np.ndarray], np.ndarray]
    class_targets: bool  # targets are integer class ids (one fewer axis than the logits)

    def __call__(
        self, logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        return self.compute(logits, targets, mask)


def _identity(logits: np.ndarray) -> np.ndarray:
    return logits.copy()


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", mse_loss, _identity, class_targets=False),
    "cross_entropy": Loss("cross_entropy", cross_entropy_loss, softmax, class_targets=True),
    "bce": Loss("bce", bce_with_logits_loss, sigmoid, class_targets=False),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; raise LossError listing the known names otherwise."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise LossError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None


def predict(name: str, logits: np.ndarray) -> np.ndarray:
    """What to display for ``logits`` under loss ``name``: values, class probabilities or probabilities."""
    return get_loss(name).predict(logits)
