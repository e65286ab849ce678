"""Rewind: bounded memory, thinning that keeps the whole run covered, exact restores, snapshots."""
from __future__ import annotations


import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.rewind import Rewind, RewindError, attach_rewind, rewind_snapshot
from rnnviz.session.session import Selection, Session


def small_session(**changes) -> Session:
    values = dict(task="adding", task_params={"seq_len": 8}, cell="gru", hidden_size=4, batch_size=4)
    values.update(changes)
    return Session(SessionConfig(**values))


def weights(k: int, size: int = 100) -> dict[str, np.ndarray]:
    return {"w": np.full(size, float(k)), "b": np.arange(3.0) + k}  # 800 + 24 bytes


def test_memory_stays_bounded_and_the_whole_run_stays_covered():
    rewind = Rewind(max_bytes=10_000)
    for step in range(1, 2001):
        rewind.record(step, weights(step), history_len=step)
        assert rewind.nbytes <= 10_000
    steps = rewind.steps()
    assert steps[0] == 1 and steps[-1] >= 2000 - rewind.interval  # first kept, the end reached
    assert 6 <= len(steps) <= 12  # 824 bytes each: at most 12 fit in 10 000
    assert rewind.interval > 1 and (rewind.interval & (rewind.interval - 1)) == 0  # doubled: a power of 2
    gaps = np.diff(steps)
    assert gaps.max() <= 2 * rewind.interval  # evenly spread, no hole in the middle


def test_thinning_keeps_the_first_and_the_latest_entry():
    rewind = Rewind(max_bytes=4 * 824)
    for step in range(1, 6):
        rewind.record(step, weights(step))
    assert rewind.steps()[0] == 1 and rewind.steps()[-1] == 5
    assert len(rewind) == 3 and rewind.interval == 2  # 1 2 3 4 5 -> 1 3 5


def test_steps_that_are_not_due_are_skipped_cheaply():
    rewind = Rewind(max_bytes=10_000, interval=4)
    kept = [step for step in range(1, 20) if rewind.record(step, weights(step))]
    assert kept == [1, 4, 8, 12, 16]
    assert not rewind.record(16, weights(99))  # the same step twice is not kept twice


def test_restore_gives_identical_weights_and_copies():
    session = small_session()
    attach_rewind(session)
    recorded = {}
    for _ in range(5):
        session.train_step()
        recorded[session.step] = session.model.state_dict()
    assert session.rewind.steps() == [0, 1, 2, 3, 4, 5]
    for step, state in recorded.items():
        restored = session.rewind.restore(step)
        for name, value in state.items():
            np.testing.assert_array_equal(restored[name], value)
            assert restored[name].dtype == value.dtype
    restored = session.rewind.restore(3)
    restored["weight_hh_l0"] += 1  # a restored dict is a copy
    np.testing.assert_array_equal(session.rewind.restore(3)["weight_hh_l0"], recorded[3]["weight_hh_l0"])
    other = small_session()
    other.model.load_state_dict(session.rewind.restore(2))
    for name, value in recorded[2].items():
        np.testing.assert_array_equal(other.model.parameters()[name], value)


def test_rewind_snapshot_shows_the_past_without_disturbing_training():
    session = small_session()
    attach_rewind(session)
    session.train(4)
    early = session.snapshot(Selection(sample=2))  # the picture at step 4
    session.train(6)
    live_weights = session.model.state_dict()
    past = rewind_snapshot(session, 4, Selection(sample=2))
    assert past.step == 4 and len(past.history.steps) == 4
    np.testing.assert_array_equal(past.hidden, early.hidden)
    np.testing.assert_array_equal(past.grad_norm_per_step, early.grad_norm_per_step)
    np.testing.assert_array_equal(past.weights["W_hh"], early.weights["W_hh"])
    np.testing.assert_array_equal(past.history.train_loss, early.history.train_loss)
    for name, value in session.model.parameters().items():  # the live model is untouched
        np.testing.assert_array_equal(value, live_weights[name])
    assert session.step == 10
    with pytest.raises(RewindError, match="not recorded"):
        rewind_snapshot(session, 999)
    assert session.rewind.nearest(999) == 10


def test_bad_settings_and_too_big_models_are_reported():
    with pytest.raises(RewindError, match="max_bytes"):
        Rewind(max_bytes=0)
    with pytest.raises(RewindError, match="interval"):
        Rewind(interval=0)
    rewind = Rewind(max_bytes=1000)
    assert not rewind.record(1, weights(1)) and rewind.too_big and len(rewind) == 0
    with pytest.raises(RewindError, match="nothing is recorded"):
        rewind.nearest(3)
    with pytest.raises(RewindError, match="Rewind"):
        rewind_snapshot(small_session(), 0)
