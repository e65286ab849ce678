"""The fixed-window comparison: the window models are at chance beyond their window and the RNN is not;
the sweep reports partial results and stops when cancelled; the sizes grow as the formulas say; an
n-gram table that would not fit is refused."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.training import TrainConfig
from rnnviz.session.background import Cancelled
from rnnviz.session.budget import MemoryBudgetError, check_ngram_memory
from rnnviz.session.config import ConfigError
from rnnviz.session.window_memory import (MODELS, SweepConfig, WindowTaskError, chance_accuracy, heldout_batch,
                                          measure_lag_sweep, state_sizes, train_ngram, train_window_arch)
from rnnviz.tasks import make_task

# Held-out accuracy of a model that cannot know the answer: 512 samples x (24 - lag) scored tokens of
# which each is right with probability 1/4 if the prediction does not depend on the answer; its standard
# deviation is sqrt(p (1 - p) / n) < 0.005 for n >= 512 x 16, so 0.05 is ten of them.
CHANCE_SLACK = 0.05


class Recorder:
    """A WorkContext that keeps every progress value and cancels after ``cancel_after`` checks."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.values, self.checks, self.cancel_after = [], 0, cancel_after

    def check(self) -> None:
        self.checks += 1
        if self.cancel_after is not None and self.checks > self.cancel_after:
            raise Cancelled()

    def progress(self, value) -> None:
        self.values.append(value)


def test_window_models_are_at_chance_beyond_their_window_and_the_rnn_is_not():
    config = SweepConfig(window=2, lags=(1, 3), cell="gru", hidden_size=32, steps=150, seed=0)
    work = Recorder()
    sweep = measure_lag_sweep(work, config)
    assert sweep.complete and sweep.chance == 0.25
    inside, beyond = 0, 1  # lag 1 < k = 2 <= lag 3
    for model in ("ngram", "window_mlp"):
        assert sweep.accuracy[model][inside] > 0.95, model
        assert abs(sweep.accuracy[model][beyond] - 0.25) < CHANCE_SLACK, model
    assert sweep.accuracy["rnn"][beyond] > 0.9  # measured 1.000 at seeds 0, 1, 2 (README)
    # progress: first the empty sweep, then one more model measured each time, in order
    measured = [value.measured for value in work.values]
    assert measured == list(range(len(MODELS) * 2 + 1))
    assert work.values[-1] == sweep


def test_cancel_stops_the_sweep_between_training_steps():
    config = SweepConfig(window=2, lags=(0, 5), steps=400, hidden_size=8)
    work = Recorder(cancel_after=450)  # into the time-delay net's training at lag 0
    with pytest.raises(Cancelled):
        measure_lag_sweep(work, config)
    last = work.values[-1]
    assert last.measured == 1 and last.accuracy["ngram"][0] is not None and last.accuracy["window_mlp"][0] is None
    assert work.checks == 451  # it checked at every step and stopped at the first check after the cancel


def test_the_sweep_refuses_lags_that_do_not_fit():
    with pytest.raises(ConfigError, match="seq_len"):
        SweepConfig(lags=(0, 30), seq_len=24)
    with pytest.raises(ConfigError, match="lags"):
        SweepConfig(lags=(-1, 2))


def test_state_sizes_follow_the_formulas():
    sizes = state_sizes(vocab=4, windows=range(1, 6), cell="gru", hidden_size=16, window=3)
    classes = 4
    assert sizes.ngram_counts == tuple(5**k * classes for k in range(1, 6))  # (V+1)^k C
    assert sizes.time_delay_weights == tuple(16 * (4 * k + 1) + classes * 17 for k in range(1, 6))
    assert sizes.rnn_weights == 3 * 16 * (4 + 16 + 2) + classes * 17  # PyTorch's GRU + the head: no k in it
    assert sizes.rnn_state == 16
    assert state_sizes(4, (1,), "lstm", 16).rnn_state == 32  # h and c
    assert sizes.csv_rows()[0][0] == "window" and len(sizes.csv_rows()) == 6


def test_an_ngram_table_that_does_not_fit_is_refused_naming_the_largest_window_that_does():
    # (4+1)^k x 4 counts of 4 bytes: k = 5 needs 50,000 bytes, k = 6 250,000
    assert check_ngram_memory(5, 4, 4, budget=100_000) == 50_000
    with pytest.raises(MemoryBudgetError) as refused:
        check_ngram_memory(6, 4, 4, budget=100_000)
    assert refused.value.fits == {"window": 5}
    assert "lower --window to 5 or less" in refused.value.message({"window": "--window"})
    task = make_task("lag_recall")
    with pytest.raises(MemoryBudgetError):
        train_ngram(task, window=6, batches=1, batch_size=1, seed=0, budget=100_000)


def test_window_models_refuse_tasks_they_cannot_read():
    for name in ("parity", "sine"):
        with pytest.raises(WindowTaskError, match="lag_recall"):
            train_window_arch("ngram", make_task(name), 2, 8, 1, TrainConfig())


def test_one_model_run_records_its_held_out_accuracy_curve():
    task = make_task("lag_recall", lag=1)
    run = train_window_arch("window-mlp", task, 2, 16, 60, TrainConfig(lr=0.02, batch_size=16), every=20)
    assert run.curve.steps == (20, 40, 60) and run.trained.steps == 60
    heldout = heldout_batch(task, 0)
    expected = task.accuracy(run.trained.model.predict(heldout.inputs), heldout)
    assert run.heldout_accuracy == run.curve.accuracy[-1] == expected
    assert run.heldout_tokens == 512 * 23 and run.size == 16 * 9 + 4 * 17
    ngram = train_window_arch("ngram", task, 2, 16, 10, TrainConfig(batch_size=16), every=5)
    assert ngram.curve.steps == (5, 10) and ngram.size == 25 * 4 and ngram.trained.model.tokens_seen == 10 * 16 * 24
    assert np.isfinite(ngram.trained.final_loss) and ngram.trained.final_loss == ngram.heldout_loss


def test_chance_is_one_over_the_symbols_that_can_be_the_answer():
    assert chance_accuracy(make_task("lag_recall", vocab=5)) == 1 / 5
    assert chance_accuracy(make_task("copy", alphabet=8)) == 1 / 8  # the blank class is never the answer
    assert chance_accuracy(make_task("text")) == 1 / make_task("text").output_size
