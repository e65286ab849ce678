"""Weight sharing in numbers: the feed-forward count from its formula, the RNN's constant in length."""
from __future__ import annotations

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.session.weight_sharing import feedforward_param_count, weight_sharing


def test_the_lessons_example_needs_about_four_million_weights():
    """20 words, a 20,000-word vocabulary and 10 hidden units: 4 million input weights."""
    count = feedforward_param_count(20, 20_000, 10, 2)
    assert count == 20 * 20_000 * 10 + 10 + 10 * 2 + 2
    assert 4_000_000 <= count < 4_001_000


def test_the_feedforward_count_grows_with_length_and_the_rnns_does_not():
    session = Session(SessionConfig(task="sentiment", cell="gru", hidden_size=10))
    table = weight_sharing(session)
    vocabulary = session.task.input_size
    assert session.task.seq_len in table.lengths
    assert set(table.recurrent) == {session.model.num_params()}
    for t, ff in zip(table.lengths, table.feedforward):
        assert ff == t * vocabulary * 10 + 10 + 10 * 2 + 2
    rnn, ff = table.at_task_length()
    assert f"{rnn:,}" in table.summary() and f"{ff:,}" in table.summary()
    assert table.csv_rows()[0] == ["seq_len", "recurrent_gru", "feedforward_padded_one_hot"]


def test_many_to_many_tasks_need_outputs_at_every_timestep():
    session = Session(SessionConfig(task="copy", hidden_size=8))
    table = weight_sharing(session, lengths=(5,))
    outputs = 5 * session.task.output_size
    assert table.feedforward[0] == 5 * session.task.input_size * 8 + 8 + 8 * outputs + outputs
