"""Selective copying and associative recall: what their batches hold, and per-token accuracy."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.tasks import TaskError, make_task


def _ids(inputs):
    return np.argmax(inputs, axis=-1)  # (T, B) token ids


def test_selective_copy_scatters_the_symbols_in_order_and_asks_for_them_at_the_end():
    task = make_task("selective_copy", n_tokens=3, vocab=5, region=10)
    batch = task.batch(200, np.random.default_rng(1))
    names = task.info().input_names
    noise, go = names.index("·"), names.index("?")
    ids = _ids(batch.inputs)
    assert batch.seq_len == 13 and (ids[10:] == go).all()
    region = ids[:10]
    placed = region != noise
    assert (placed.sum(axis=0) == 3).all()  # exactly n symbols among the noise
    for b in range(200):
        np.testing.assert_array_equal(batch.targets[10:, b], region[placed[:, b], b])  # in order of appearance
    assert (batch.targets[:10] == task.info().extra["blank_class"]).all()
    first = np.argmax(placed, axis=0)
    assert len(np.unique(first)) > 3  # the positions move from sequence to sequence


def test_associative_recall_answers_with_the_value_after_the_key():
    task = make_task("associative_recall", n_pairs=5, keys=6, values=10, n_queries=3)
    batch = task.batch(100, np.random.default_rng(2))
    ids = _ids(batch.inputs)
    assert batch.seq_len == 2 * 5 + 1 + 3 and (ids[10] == 6 + 10).all()  # the "?"
    for b in range(100):
        keys, values = ids[0:10:2, b], ids[1:10:2, b] - 6
        assert len(set(keys)) == 5 and (keys < 6).all()
        for step in range(11, 14):
            asked = ids[step, b]
            assert batch.targets[step, b] == values[list(keys).index(asked)]
    assert (batch.targets[:11] == 10).all()  # blank


@pytest.mark.parametrize("name", ["selective_copy", "associative_recall", "copy"])
def test_accuracy_counts_the_recalled_tokens_only(name):
    task = make_task(name)
    batch = task.batch(64, np.random.default_rng(3))
    classes = task.output_size
    perfect = np.eye(classes)[batch.targets]  # (T, B, classes) the right answer everywhere
    assert task.accuracy(perfect, batch) == 1.0
    blanks = np.eye(classes)[np.full_like(batch.targets, task.info().extra["blank_class"])]
    assert task.accuracy(blanks, batch) == 0.0  # right on every blank step, wrong on every recalled one
    start = task.info().extra["recall_start"]
    half = perfect.copy()
    half[start:, :32] = blanks[start:, :32]  # half the samples wrong at every recall step
    assert task.accuracy(half, batch) == 0.5


def test_accuracy_of_other_tasks_uses_every_real_step_or_sample_and_none_for_regression():
    parity = make_task("parity", lengths="variable")
    batch = parity.batch(10, np.random.default_rng(0))
    guesses = np.eye(2)[np.zeros(10, dtype=int)]  # always "even"
    assert parity.accuracy(guesses, batch) == np.mean(batch.targets == 0)
    sine = make_task("sine")
    assert sine.accuracy(np.zeros((1, 1, 1)), sine.batch(2, np.random.default_rng(0))) is None


def test_settings_that_cannot_fit_are_refused():
    with pytest.raises(TaskError, match="n_tokens .* cannot exceed region"):
        make_task("selective_copy", n_tokens=5, region=4)
    with pytest.raises(TaskError, match="n_pairs .* cannot exceed keys"):
        make_task("associative_recall", n_pairs=9, keys=8)
