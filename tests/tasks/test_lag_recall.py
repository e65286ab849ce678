"""Lag recall: the target is the input from lag steps back, scored only where there is one."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.tasks import TaskError, make_task


@pytest.mark.parametrize("lag", [0, 1, 5])
def test_the_target_is_the_symbol_lag_steps_back(lag):
    task = make_task("lag_recall", lag=lag, vocab=5, seq_len=12)
    batch = task.batch(64, np.random.default_rng(3))
    ids = np.argmax(batch.inputs, axis=-1)  # (T, B)
    assert batch.inputs.shape == (12, 64, 5) and task.output_size == 5
    for t in range(lag, 12):
        np.testing.assert_array_equal(batch.targets[t], ids[t - lag])
    # before the lag the targets went by before the sequence: symbols like any other, not scored
    assert batch.targets.dtype == np.int64 and set(np.unique(batch.targets[:lag])) <= set(range(5))
    assert (task.scored(batch)[:lag] == 0).all() and (task.scored(batch)[lag:] == 1).all()


def test_accuracy_counts_only_the_recalled_steps_and_guessing_is_at_chance():
    task = make_task("lag_recall", lag=4, vocab=4, seq_len=20)
    batch = task.batch(400, np.random.default_rng(0))
    perfect = np.eye(4)[batch.targets]  # (T, B, 4) one-hot of the right answers
    assert task.accuracy(perfect, batch) == 1.0
    wrong_start = perfect.copy()
    wrong_start[:4] = np.eye(4)[(batch.targets[:4] + 1) % 4]  # the unseen targets wrong: not scored
    assert task.accuracy(wrong_start, batch) == 1.0
    always_a = np.broadcast_to(np.eye(4)[0], perfect.shape)
    # symbols are uniform: always saying "A" is right 1 time in 4 (400 x 16 draws: sd 0.005)
    assert abs(task.accuracy(always_a, batch) - 0.25) < 0.03
    assert task.info().extra["chance_accuracy"] == 0.25


def test_seq_len_must_exceed_the_lag():
    with pytest.raises(TaskError, match="larger than the lag"):
        make_task("lag_recall", lag=10, seq_len=10)
