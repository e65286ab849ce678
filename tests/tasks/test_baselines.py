"""Each task's loss baseline (Task.loss_baseline) against a Monte-Carlo estimate from its own generator.

The estimates never use the derivation: a cross-entropy baseline is checked with the plug-in
conditional entropy of the target given what the baseline predictor may know (nothing for "chance";
the timestep and the current token for "memoryless"; the current character alone for text), counted in
sampled batches, with the Miller–Madow correction ((m - 1) / 2N per context, m the outcomes seen in
it, N its count) that removes the plug-in's first-order bias. The estimate is made on R independent
groups of batches; the tolerance is 5 standard errors of their mean (a Student t with R - 1 = 7
degrees of freedom is beyond 5 with probability 0.0016), plus an absolute floor for the bias the
correction leaves, which is of order (cells / N)² per group (below 1e-4 here; the floor is 2e-3).
Every generator is seeded, so each run draws the same numbers on any CPU.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from rnnviz.tasks import TASKS, make_task
from rnnviz.tasks.base import Batch, Task

GROUPS = 8
BIAS_FLOOR = 2e-3


def _entropy_with_correction(counts: np.ndarray) -> float:
    """Plug-in entropy (nats) of one context's outcome counts, Miller–Madow corrected."""
    total = counts.sum()
    p = counts[counts > 0] / total
    return float(-np.sum(p * np.log(p)) + (p.size - 1) / (2 * total))


def conditional_entropy(contexts: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
    """H(target | context) from weighted (0/1) samples: contexts and targets are int arrays (N,)."""
    real = weights > 0
    contexts, targets = contexts[real], targets[real]
    total = 0.0
    for context in np.unique(contexts):
        here = targets[contexts == context]
        total += here.size * _entropy_with_correction(np.bincount(here))
    return total / contexts.size


def memoryless_samples(task: Task, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(context, target, weight) per position: the context is the timestep and the current token."""
    steps, size = batch.mask.shape
    token = np.argmax(batch.inputs, axis=-1)  # (T, B)
    timestep = np.broadcast_to(np.arange(steps)[:, None], (steps, size))
    context = timestep * batch.inputs.shape[-1] + token
    return context.ravel(), batch.targets.ravel(), batch.mask.ravel()


def chance_samples(task: Task, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many-to-one: one position per sample, no context."""
    return np.zeros(batch.batch_size, dtype=np.int64), batch.targets, np.ones(batch.batch_size)


def current_char_samples(task: Task, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text: the current character alone (pooled over the timesteps)."""
    return np.argmax(batch.inputs, axis=-1).ravel(), batch.targets.ravel(), batch.mask.ravel()


def estimate(task: Task, samples: Callable, batches: int, batch_size: int, seed: int) -> tuple[float, float]:
    """Mean and standard error over GROUPS independent groups of ``batches`` batches."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(GROUPS):
        parts = [samples(task, task.batch(batch_size, rng)) for _ in range(batches)]
        contexts, targets, weights = (np.concatenate([p[i] for p in parts]) for i in range(3))
        values.append(conditional_entropy(contexts, targets.astype(np.int64), weights))
    values = np.asarray(values)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(GROUPS))


CROSS_ENTROPY_CASES = [
    ("parity", {"seq_len": 9}, chance_samples, 4, 2048),
    ("parity", {"seq_len": 7, "lengths": "variable"}, chance_samples, 4, 2048),
    ("sentiment", {}, chance_samples, 4, 2048),
    ("dyck", {"target": "balanced", "seq_len": 12}, chance_samples, 4, 2048),
    ("copy", {"n_symbols": 3, "alphabet": 5, "delay": 4}, memoryless_samples, 4, 2048),
    ("selective_copy", {"n_tokens": 2, "vocab": 4, "region": 6}, memoryless_samples, 4, 2048),
    ("associative_recall", {"n_pairs": 3, "keys": 5, "values": 6, "n_queries": 2}, memoryless_samples, 4, 2048),
    ("text", {"seq_len": 32}, current_char_samples, 2, 2048),
    ("lag_recall", {"lag": 2, "vocab": 5, "seq_len": 8}, memoryless_samples, 4, 2048),
    ("lag_recall", {"lag": 0, "vocab": 3, "seq_len": 5}, memoryless_samples, 4, 2048),
]


@pytest.mark.parametrize("name, params, samples, batches, batch_size", CROSS_ENTROPY_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CROSS_ENTROPY_CASES)])
def test_cross_entropy_baseline_matches_a_monte_carlo_estimate(name, params, samples, batches, batch_size):
    task = make_task(name, **params)
    baseline = task.loss_baseline()
    mean, stderr = estimate(task, samples, batches, batch_size, seed=len(name))
    assert abs(mean - baseline.value) <= 5 * stderr + BIAS_FLOOR, (baseline, mean, stderr)


def test_adding_chance_is_the_mse_of_predicting_the_mean():
    task = make_task("adding", seq_len=10)
    rng = np.random.default_rng(3)
    targets = np.concatenate([task.batch(4096, rng).targets[:, 0] for _ in range(8)])  # (32768,)
    squared = (targets - targets.mean()) ** 2
    # the mean of 32768 iid squared deviations: standard error sd / sqrt(n) ~ 0.0011 (sd^2 = 1/15 - 1/36 at
    # most); 5 standard errors, plus 1e-9 for the summation (32768 values <= 1 in float64)
    tolerance = 5 * squared.std() / np.sqrt(squared.size) + 1e-9
    assert abs(squared.mean() - task.loss_baseline().value) <= tolerance
    assert task.loss_baseline().label == "chance: 1/6 = 0.167"


def test_sine_noise_floor_is_the_mse_of_knowing_the_clean_signal():
    noisy, clean = make_task("sine", seq_len=40, noise=0.2), make_task("sine", seq_len=40, noise=0.0)
    # the generator draws the noise last, with the same number of draws at any scale: the same seed gives
    # the same waves, with and without noise
    a, b = noisy.batch(2048, np.random.default_rng(5)), clean.batch(2048, np.random.default_rng(5))
    squared = ((a.targets - b.targets) ** 2).ravel()  # the MSE of a network that knows the clean signal
    tolerance = 5 * squared.std() / np.sqrt(squared.size) + 1e-12  # iid Gaussian noise; floor: rounding
    assert abs(squared.mean() - noisy.loss_baseline().value) <= tolerance
    assert noisy.loss_baseline().kind == "noise floor"


def test_series_chance_is_the_mse_of_the_best_constant():
    task = make_task("series", seq_len=24)
    rng = np.random.default_rng(11)
    targets = np.concatenate([task.batch(1024, rng).targets.ravel() for _ in range(GROUPS)])
    groups = targets.reshape(GROUPS, -1)
    variances = groups.var(axis=1)  # windows of one group overlap, so groups are the independent units
    tolerance = 5 * variances.std(ddof=1) / np.sqrt(GROUPS) + BIAS_FLOOR  # floor: the 1/n bias of var
    assert abs(variances.mean() - task.loss_baseline().value) <= tolerance


def test_every_task_states_a_baseline_or_says_why_not():
    for name, task_class in TASKS.items():
        if task_class.io == "seq2seq":  # trained on the encoder-decoder page, whose loss plot has no line yet
            continue
        task = task_class()
        baseline = task.loss_baseline()
        assert baseline is not None, f"{name} (default settings) has a chance, memoryless or noise-floor loss"
        assert np.isfinite(baseline.value) and baseline.value >= 0
        assert baseline.label.startswith(f"{baseline.kind}: {baseline.formula} = ")
        assert task_class.loss_baseline.__doc__, f"{name}: the derivation belongs in the docstring"
    assert make_task("dyck", target="depth").loss_baseline() is None
    assert make_task("parity").loss_baseline().label == "chance: ln 2 = 0.693"
