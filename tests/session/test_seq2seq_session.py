"""rnnviz.session.seq2seq: settings, training, greedy accuracy, the page's background work and the
length experiment."""
from __future__ import annotations

import pickle
import queue

import numpy as np
import pytest

from rnnviz.session.background import thread_context
from rnnviz.session.config import ConfigError
from rnnviz.session.seq2seq import (
    Seq2SeqSession,
    Seq2SeqSettings,
    anti_diagonal_weight,
    gradient_check,
    greedy_scores,
    length_experiment,
    loss_curve,
    train_live,
)
from rnnviz.tasks import TaskError

SMALL = dict(task="reverse", task_params={"seq_len": 4}, hidden_size=8, batch_size=16)


def test_greedy_scores_count_tokens_before_the_decoder_stopped():
    targets = np.array([[1, 2, 1], [2, 3, 0], [3, 0, 0]])  # (T_tgt, B); 3 = end token
    target_mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=float)
    tokens = np.array([[1, 2, 2], [2, 1, 3], [3, 3, 3]])  # sample 0 exact; 1 wrong at step 1; 2 wrong at 0
    decoded = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 0]], dtype=float)
    right, exact = greedy_scores(tokens, decoded, targets, target_mask)
    assert right.sum() == 3 + 1 + 0 and exact.tolist() == [True, False, False]
    # a decoder that stopped early (its mask ends) gets no credit for what it guessed after
    stopped = decoded.copy()
    stopped[1:, 0] = 0
    right, exact = greedy_scores(tokens, stopped, targets, target_mask)
    assert right[:, 0].tolist() == [True, False, False] and not exact[0]
    # a shorter decoding (all samples ended) counts the missing steps as wrong
    right, _ = greedy_scores(tokens[:1], decoded[:1], targets, target_mask)
    assert right.sum() == 2


def test_anti_diagonal_weight_of_a_perfect_and_of_a_uniform_attention():
    n, B = 4, 2
    source_mask = np.ones((n, B))
    target_mask = np.ones((n + 1, B))
    mirror = np.zeros((n + 1, B, n))
    for t in range(n):
        mirror[t, :, n - 1 - t] = 1.0
    mirror[n] = 1.0 / n  # the end token's step is left out
    assert anti_diagonal_weight(mirror, source_mask, target_mask) == 1.0
    assert anti_diagonal_weight(np.full((n + 1, B, n), 1.0 / n), source_mask, target_mask) == pytest.approx(1 / n)


def test_training_learns_to_reverse():
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL, attention="additive"))
    before = session.evaluate(128)
    done = session.train(300)
    after = session.evaluate(128)
    assert done == 300 == session.step == len(session.losses)
    assert np.mean(session.losses[-20:]) < np.mean(session.losses[:20]) / 4
    # 128 held-out sequences of up to 4 symbols: chance is 1/8 per symbol, the trained net is near 1
    assert after.token_accuracy > before.token_accuracy + 0.5 and after.sequence_accuracy > 0.5
    assert [step for step, _ in session.evaluations] == [0, 300]


def test_a_non_finite_step_changes_nothing():
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL))
    session.train(2)
    session.model.parameters()["output.bias"][0] = np.nan
    weights = {k: v.copy() for k, v in session.model.parameters().items()}
    assert session.train(5) == 0
    assert session.diverged and session.step == 2
    for name, array in session.model.parameters().items():
        np.testing.assert_array_equal(array, weights[name])


def test_settings_and_tasks_are_checked():
    with pytest.raises(ConfigError, match="attention must be one of"):
        Seq2SeqSettings(attention="luong")
    with pytest.raises(ConfigError, match="hidden_size"):
        Seq2SeqSettings(hidden_size=0)
    with pytest.raises(ConfigError, match="encoder_cell"):
        Seq2SeqSettings(encoder_cell="transformer")
    with pytest.raises(TaskError, match="not an encoder–decoder task.*reverse, sort_digits, number_words"):
        Seq2SeqSession(Seq2SeqSettings(task="adding"))


def test_views_show_the_sample_tokens_and_attention_rows():
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL, attention="dot"))
    session.train(3)
    session.evaluate(16)
    views = session.views()
    batch, task = session.view_batch, session.task
    for sample, view in enumerate(views):
        n = int(batch.source_mask[:, sample].sum())
        assert view.source == tuple(task.source_labels(batch, sample)[:n])
        assert view.target[-1] == "<eos>" and len(view.target) == n + 1
        assert view.forced_attention.shape == (n + 1, n)
        assert view.greedy_attention.shape == (len(view.decoded), n)
        np.testing.assert_allclose(view.forced_attention.sum(axis=1), 1.0, rtol=0, atol=1e-6)  # float32 softmax rows
    assert views[0].losses.size == 3 and views[0].eval_steps.tolist() == [3]
    none = Seq2SeqSession(Seq2SeqSettings(**SMALL, attention="none")).view(0)
    assert none.forced_attention is None and none.greedy_attention is None


def test_a_pickled_session_resumes_where_it_stopped():
    """The page sends the session to a worker process and gets it back: nothing is lost on the way."""
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL))
    session.train(4)
    copy = pickle.loads(pickle.dumps(session))
    session.train(3)
    copy.train(3)
    assert copy.losses == session.losses
    for name, array in session.model.parameters().items():
        np.testing.assert_array_equal(copy.model.parameters()[name], array)


def test_train_live_stops_on_the_stop_message_and_returns_the_session():
    outbox, inbox = queue.SimpleQueue(), queue.SimpleQueue()
    work, cancel, _ = thread_context(outbox, inbox)
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL))
    back, frame = train_live(work, session, steps=12, eval_every=5, eval_samples=16)
    assert back.step == 12 == frame.step and len(frame.views) == 8
    assert [s for s, _ in back.evaluations] == [5, 10, 12]
    inbox.put("stop")
    again, _ = train_live(work, back, steps=100, eval_samples=16)
    assert again.step == 12, "a stop waiting before the first chunk trains nothing"
    cancel.set()
    assert train_live(work, again, steps=100, eval_samples=16)[0].step == 12


def test_length_experiment_runs_every_combination_and_can_be_cancelled():
    settings = Seq2SeqSettings(**SMALL)
    seen = []
    experiment = length_experiment(settings, lengths=(2, 3), attentions=("none", "dot"), seeds=(0, 1), steps=3,
                                   samples=8, progress=lambda e: seen.append(len(e.runs)))
    assert seen == list(range(1, 9))
    assert {(r.length, r.attention, r.seed) for r in experiment.runs} == {
        (n, a, s) for n in (2, 3) for a in ("none", "dot") for s in (0, 1)}
    table = experiment.table()
    assert [(row["length"], row["attention"]) for row in table] == [(2, "none"), (2, "dot"), (3, "none"), (3, "dot")]
    assert all(row["seeds"] == [0, 1] and row["steps"] == 3 for row in table)
    calls = iter(range(100))
    cut = length_experiment(settings, lengths=(2, 3), steps=3, samples=8, cancelled=lambda: next(calls) > 5)
    assert 0 < len(cut.runs) < 6 and all(r.steps == 3 for r in cut.runs)


def test_the_gradient_check_passes_for_every_parameter():
    session = Seq2SeqSession(Seq2SeqSettings(**SMALL, attention="additive"))
    session.train(5)
    rows = gradient_check(session, max_entries=8)
    names = {row.name for row in rows}
    assert names == set(session.model.parameters())
    assert {"attention.W_query", "attention.W_key", "attention.v", "encoder.weight_hh_l0_reverse"} <= names
    assert all(row.passed for row in rows), [(r.name, r.ratio) for r in rows]


def test_the_loss_curve_of_a_long_run_is_averaged_into_at_most_a_thousand_points():
    steps, values = loss_curve([1.0, 2.0, 3.0])
    assert steps.tolist() == [1, 2, 3] and values.tolist() == [1.0, 2.0, 3.0]
    long = np.arange(1, 2502, dtype=float)  # 2501 steps: runs of 3, the last run of 2
    steps, values = loss_curve(list(long))
    assert len(steps) <= 1000 and steps[0] == 3 and steps[-1] == 2501
    assert values[0] == 2.0 and values[-1] == 2500.5  # means of 1, 2, 3 and of 2500, 2501
