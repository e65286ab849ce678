"""Held-out figures beyond per-token accuracy: whole-sequence accuracy and the order-sensitive subset."""
from __future__ import annotations

import numpy as np

from rnnviz.session.config import SessionConfig
from rnnviz.session.evaluation import evaluate, heldout_batch, sequence_accuracy
from rnnviz.session.session import Session
from rnnviz.tasks import make_task


def _one_hot_predictions(task, batch):
    """Probabilities (T, B, O) that put all weight on the target class."""
    return np.eye(task.output_size)[batch.targets]


def test_sequence_accuracy_counts_a_sample_only_when_every_scored_token_is_right():
    task = make_task("copy")
    batch = task.batch(10, np.random.default_rng(0))
    predictions = _one_hot_predictions(task, batch)
    assert sequence_accuracy(task, predictions, batch) == 1.0
    scored = task.scored(batch)
    t_scored = int(np.flatnonzero(scored[:, 3])[0])
    t_free = int(np.flatnonzero(scored[:, 5] == 0)[0])
    wrong = predictions.copy()
    wrong[t_scored, 3] = np.roll(wrong[t_scored, 3], 1)  # one scored token of sample 3 wrong
    wrong[t_free, 5] = np.roll(wrong[t_free, 5], 1)  # an unscored token of sample 5: does not count
    assert sequence_accuracy(task, wrong, batch) == 9 / 10
    assert sequence_accuracy(make_task("sentiment"), np.zeros((10, 2)), batch) is None  # many-to-one


def test_metrics_of_a_sentiment_session_include_its_order_sensitive_accuracy():
    session = Session(SessionConfig(task="sentiment", cell="gru", hidden_size=8))
    session.train(20)
    figures = evaluate(session, 200)
    batch = heldout_batch(session.task, session.config.seed, 200)
    sentences = session.task.sentences(batch)
    with_but = np.array(["but" in s.split() for s in sentences])  # what the subset is, read off the words
    predicted = session.model.forward(batch.inputs, batch.mask).predictions.argmax(axis=1)
    assert figures.order_sensitive_samples == with_but.sum() > 0
    assert figures.order_sensitive_accuracy == np.mean(predicted[with_but] == batch.targets[with_but])
    assert "order_sensitive_accuracy" in figures.to_dict() and "heldout_sequence_accuracy" not in figures.to_dict()


def test_tasks_without_the_notion_leave_the_figures_out():
    figures = evaluate(Session(SessionConfig(task="adding", hidden_size=4)), 16).to_dict()
    assert "order_sensitive_accuracy" not in figures and "heldout_sequence_accuracy" not in figures
    copy = evaluate(Session(SessionConfig(task="copy", hidden_size=4)), 16).to_dict()
    assert 0.0 <= copy["heldout_sequence_accuracy"] <= copy["heldout_accuracy"] + 1e-12
