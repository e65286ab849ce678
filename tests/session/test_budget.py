"""Settings that would not fit in memory are refused before anything is allocated."""
from __future__ import annotations

import pickle

import pytest

from rnnviz.engine.memory import BUDGET_ENV
from rnnviz.session.budget import MemoryBudgetError
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.session import Session

BIG = SessionConfig(task="adding", task_params={"seq_len": 1000}, cell="lstm", hidden_size=256, batch_size=256)


@pytest.fixture
def budget_1g(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "1G")


def test_a_network_too_big_for_the_budget_is_refused_naming_the_settings(budget_1g):
    with pytest.raises(MemoryBudgetError) as info:
        Session(BIG)
    message = str(info.value)
    assert isinstance(info.value, ConfigError)  # the window and the CLI show it like any bad setting
    assert "seq_len 1000 x batch 256 x hidden 256" in message and "1.0 GiB" in message
    assert "lower the batch size to" in message and BUDGET_ENV in message
    assert info.value.needed > info.value.budget == 2**30


def test_the_suggested_values_fit_and_one_more_does_not(budget_1g):
    with pytest.raises(MemoryBudgetError) as info:
        Session(BIG)
    fits = info.value.fits
    assert set(fits) == {"batch_size", "seq_len", "hidden_size"}
    Session(BIG.replace(batch_size=fits["batch_size"]))
    with pytest.raises(MemoryBudgetError):
        Session(BIG.replace(batch_size=fits["batch_size"] + 1))
    Session(BIG.replace(task_params={"seq_len": fits["seq_len"]}))
    Session(BIG.replace(hidden_size=fits["hidden_size"]))


def test_raising_the_batch_size_of_a_live_session_is_checked_too(budget_1g):
    session = Session(BIG.replace(batch_size=1))
    with pytest.raises(MemoryBudgetError, match="batch size") as info:
        session.update_training(session.config.replace(batch_size=256))
    assert session.config.batch_size == session.trainer.config.batch_size == 1
    fits = info.value.fits["batch_size"]
    assert 1 < fits < 256
    session.update_training(session.config.replace(batch_size=fits))
    assert session.trainer.config.batch_size == fits


def test_training_steps_ahead_count_their_history(monkeypatch):
    session = Session(SessionConfig(hidden_size=4, batch_size=2))
    small = session.check_memory()
    monkeypatch.setenv(BUDGET_ENV, str(small + 1000))
    with pytest.raises(MemoryBudgetError):
        session.check_memory(steps=10**6)


def test_the_error_survives_a_trip_to_another_process(budget_1g):
    with pytest.raises(MemoryBudgetError) as info:
        Session(BIG)
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value) and copy.fits == info.value.fits
    assert "--batch to" in copy.message({"batch_size": "--batch"})


def test_the_rewind_history_the_window_keeps_is_counted():
    from rnnviz.session.budget import REWIND_BYTES
    from rnnviz.session.rewind import DEFAULT_MAX_BYTES

    assert REWIND_BYTES >= DEFAULT_MAX_BYTES
