"""Held-out evaluation: the loss and the per-token accuracy on a fixed batch the model never trains on.

    result = evaluate(session)        # Evaluation(loss, accuracy, samples, tokens)

The batch is drawn from the session's task with its own seed (the session's seed + EVAL_SEED_OFFSET),
so it is the same for every cell and every run with that seed, and never one of the training batches
(those come from the trainer's generator) or the 8 view samples. Accuracy is ``Task.accuracy``: the
fraction of scored tokens (e.g. the recalled symbols of the copy tasks) whose most probable class is
right; None for regression tasks. With 512 samples of one scored token the accuracy is within ±2.2
percentage points (one standard error at 50%).

Two more figures where they apply (None, and left out of ``to_dict``, elsewhere):
- ``sequence_accuracy`` for many-to-many classification tasks: the fraction of samples whose every
  scored token is right (one wrong character spoils the whole sequence);
- ``order_sensitive_accuracy`` for tasks that say which samples only word order decides
  (``task.order_sensitive(batch)``, e.g. sentiment's "but" sentences): accuracy on those alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.session.session import Session
from rnnviz.tasks import Task
from rnnviz.tasks.base import Batch

EVAL_SAMPLES = 512
EVAL_SEED_OFFSET = 104_729  # a prime far from the view batch's offset


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float | None  # None: the task has no classes
    samples: int
    tokens: int  # how many predictions the accuracy counts
    sequence_accuracy: float | None = None  # many-to-many classification: every scored token right
    order_sensitive_accuracy: float | None = None  # tasks with an order-sensitive subset
    order_sensitive_samples: int = 0

    def to_dict(self) -> dict[str, float | int | None]:
        loss = self.loss if np.isfinite(self.loss) else None  # JSON has no NaN
        figures: dict[str, float | int | None] = {
            "heldout_loss": loss, "heldout_accuracy": self.accuracy, "heldout_samples": self.samples,
            "heldout_tokens": self.tokens}
        if self.sequence_accuracy is not None:
            figures["heldout_sequence_accuracy"] = self.sequence_accuracy
        if self.order_sensitive_accuracy is not None:
            figures["order_sensitive_accuracy"] = self.order_sensitive_accuracy
            figures["order_sensitive_samples"] = self.order_sensitive_samples
        return figures


def heldout_batch(task: Task, seed: int, samples: int = EVAL_SAMPLES) -> Batch:
    """The held-out batch of a session with this task and seed (never a training or view batch)."""
    return task.batch(samples, np.random.default_rng(seed + EVAL_SEED_OFFSET))


def sequence_accuracy(task: Task, predictions: np.ndarray, batch: Batch) -> float | None:
    """Many-to-many classification: the fraction of samples (with any scored token) whose scored tokens
    are all right; None for other tasks. ``predictions`` (T, B, O) probabilities."""
    scored = task.scored(batch)
    if task.io != "many_to_many" or task.loss == "mse" or scored is None:
        return None
    if task.loss == "cross_entropy":
        right = np.argmax(predictions, axis=-1) == batch.targets  # (T, B)
    else:  # bce: every output of the step must be right
        right = np.all((predictions > 0.5) == (batch.targets > 0.5), axis=-1)
    counted = np.any(scored != 0, axis=0)  # (B,)
    if not np.any(counted):
        return None
    all_right = np.all(right | (scored == 0), axis=0)  # (B,)
    return float(np.mean(all_right[counted]))


def order_sensitive_subset(task: Task, batch: Batch) -> np.ndarray | None:
    """(B,) bool: the samples only word order decides, for tasks that define them; else None."""
    order_sensitive = getattr(task, "order_sensitive", None)
    return None if order_sensitive is None else np.asarray(order_sensitive(batch), dtype=bool)


def subset_accuracy(predicted_class: np.ndarray, targets: np.ndarray, subset: np.ndarray | None) -> float | None:
    """Accuracy (B,) class ids against (B,) targets on the samples in ``subset``; None if it is empty."""
    if subset is None or not np.any(subset):
        return None
    return float(np.mean(predicted_class[subset] == targets[subset]))


def evaluate(session: Session, samples: int = EVAL_SAMPLES) -> Evaluation:
    """Loss and accuracy of the session's current weights on the held-out batch of ``samples``."""
    task = session.task
    batch = heldout_batch(task, session.config.seed, samples)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = session.model.loss(batch.inputs, batch.targets, batch.mask)
        predictions = session.model.forward(batch.inputs, batch.mask).predictions
    scored = task.scored(batch)
    subset = order_sensitive_subset(task, batch) if task.io == "many_to_one" else None
    order_accuracy = None
    if subset is not None and task.loss == "cross_entropy":
        order_accuracy = subset_accuracy(np.argmax(predictions, axis=-1), batch.targets, subset)
    return Evaluation(float(loss), task.accuracy(predictions, batch), samples,
                      0 if scored is None else int(np.count_nonzero(scored)),
                      sequence_accuracy=sequence_accuracy(task, predictions, batch),
                      order_sensitive_accuracy=order_accuracy,
                      order_sensitive_samples=0 if order_accuracy is None else int(np.count_nonzero(subset)))
