"""Type your own: readings of typed sentences and text by a trained network."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.feedforward import FeedForward, FeedForwardConfig
from rnnviz.session.config import SessionConfig
from rnnviz.session.reading import ReadingError, read_text
from rnnviz.session.session import Session
from rnnviz.tasks.base import TaskError


@pytest.mark.parametrize("layout", [dict(), dict(num_layers=2, bidirectional=True)])
def test_a_sentence_gives_one_hidden_state_and_one_verdict_per_word(layout):
    session = Session(SessionConfig(task="sentiment", cell="gru", hidden_size=6, **layout))
    session.train(5)
    reading = read_text(session, "The food is NOT good", bow=FeedForward(FeedForwardConfig(session.task.input_size)))
    assert reading.tokens == ("the", "food", "is", "not", "good") and reading.label == 0
    assert reading.hidden.shape == (5, 6) and reading.probabilities.shape == (5, 2)
    for k in range(5):  # the verdict after word k is the network's verdict on the first k + 1 words alone
        prefix = session.task.encode_sentences([" ".join(reading.tokens[: k + 1])], labels=[0])
        alone = session.model.forward(prefix.inputs, prefix.mask).predictions[0]
        np.testing.assert_allclose(reading.probabilities[k], alone, rtol=1e-5, atol=1e-6)  # float32 model
    full = session.task.encode_sentences([reading.text])
    trace = session.model.forward(full.inputs, full.mask).trace.layer(session.config.num_layers - 1, 0)
    np.testing.assert_array_equal(reading.hidden, trace.hidden[:5, 0])
    assert read_text(session, "the food is").label is None  # no adjective yet: no answer, still a reading
    assert reading.bow_probabilities.shape == (2,) and len(reading.csv_rows()) == 1 + 5 + 1


def test_unknown_words_are_named_with_the_vocabulary():
    session = Session(SessionConfig(task="sentiment", hidden_size=4))
    with pytest.raises(TaskError, match="unknown word.*pizza.*use only: the food"):
        read_text(session, "the pizza is good")
    with pytest.raises(ReadingError, match="type a sentence"):
        read_text(session, "   ")
    with pytest.raises(ReadingError, match="sentiment or text"):
        read_text(Session(SessionConfig(task="adding", hidden_size=4)), "1 2 3")


def test_text_gives_the_next_character_after_each_character():
    session = Session(SessionConfig(task="text", hidden_size=8, task_params={"seq_len": 8}))
    reading = read_text(session, "the cat\u2603")
    assert len(reading.tokens) == 8 and reading.kind == "next" and reading.unknown == ("\u2603",)
    output = session.model.forward(np.eye(session.task.vocabulary.size)[session.task.vocabulary.encode("the cat\u2603")][:, None])
    np.testing.assert_array_equal(reading.probabilities, output.predictions[:, 0])
    assert reading.predicted()[0] in session.task.info().output_names


def test_too_long_a_sentence_is_refused_with_the_limit():
    words = " ".join(["the food is good"] * 5)  # 20 words
    bidirectional = Session(SessionConfig(task="sentiment", hidden_size=4, bidirectional=True))
    with pytest.raises(ReadingError, match="at most 16"):
        read_text(bidirectional, words)
    assert len(read_text(Session(SessionConfig(task="sentiment", hidden_size=4)), words).tokens) == 20
