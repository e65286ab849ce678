"""Generation (one-to-many) with a session's own network: stepping with the state carried over gives
the numbers of one forward pass, temperature near 0 is greedy, sampling is seeded, mistakes are refused."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.generation import GenerationError, generate, generation_rows
from rnnviz.session.session import Session


def text_session(cell: str = "gru", **changes) -> Session:
    config = SessionConfig(task="text", task_params={"seq_len": 16}, cell=cell, hidden_size=12, batch_size=4,
                           dtype="float64", seed=3, **changes)
    session = Session(config)
    session.train(15)  # away from the initial weights: the distributions are no longer near uniform
    return session


def full_pass_probabilities(session: Session, input_ids: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) of ONE forward pass over the whole fed-in text: (T, V)."""
    size = session.task.vocabulary.size
    inputs = np.eye(size)[input_ids][:, None, :]  # (T, 1, V)
    logits = session.model.forward(inputs).logits[:, 0].astype(np.float64) / temperature  # (T, V)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru", "lru"])
def test_stepping_one_character_at_a_time_equals_one_forward_pass(cell):
    session = text_session(cell)
    generation = generate(session, "Twinkle ", 30, temperature=0.9, seed=1, keep_probabilities=True)
    steps = generation.steps
    assert generation.seq_len == len("Twinkle ") + 30 - 1
    expected = full_pass_probabilities(session, steps.input_ids, 0.9)
    # float64 throughout: the stepped and the whole-sequence pass differ only in the order of a few
    # hundred roundings per step (eps 1.1e-16) through a recurrence of < 40 steps; 1e-10 is far above
    # that and far below any real difference (a state not carried over changes them by > 1e-3)
    np.testing.assert_allclose(steps.probabilities, expected, rtol=0, atol=1e-10)
    # sum of V <= 97 float64 terms: rounding < 97 * 1.1e-16
    np.testing.assert_allclose(steps.probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(steps.chosen_probability,
                                  steps.probabilities[np.arange(generation.seq_len), steps.output_ids])


def test_each_sampled_character_is_the_next_input_and_the_seed_is_read_first():
    session = text_session()
    generation = generate(session, "Mary had", 20, temperature=1.0, seed=5)
    steps = generation.steps
    seed_ids = session.task.vocabulary.encode("Mary had")
    np.testing.assert_array_equal(steps.input_ids[:8], seed_ids)
    np.testing.assert_array_equal(steps.output_ids[:7], seed_ids[1:])  # teacher-forced over the seed
    np.testing.assert_array_equal(steps.input_ids[1:], steps.output_ids[:-1])  # output at t is input at t+1
    assert not steps.sampled_steps[:7].any() and steps.sampled_steps[7:].all()
    assert len(generation.text) == 20
    assert generation.text == session.task.vocabulary.decode(steps.output_ids[7:])


def test_temperature_near_zero_is_greedy():
    session = text_session()
    generation = generate(session, "The ", 40, temperature=1e-4, seed=0)
    ids = generation.steps.input_ids
    greedy = full_pass_probabilities(session, ids, 1.0).argmax(axis=1)  # the most probable next character
    sampled = generation.steps.sampled_steps
    np.testing.assert_array_equal(generation.steps.output_ids[sampled], greedy[sampled])
    # and every seed gives the same text: nothing is left to chance
    assert generate(session, "The ", 40, temperature=1e-4, seed=99).text == generation.text


def test_sampling_is_reproducible_per_seed():
    session = text_session()
    first = generate(session, "a", 60, temperature=1.5, seed=7).text
    assert generate(session, "a", 60, temperature=1.5, seed=7).text == first
    assert generate(session, "a", 60, temperature=1.5, seed=8).text != first


def test_generation_does_not_change_the_session():
    session = text_session()
    before = {k: v.copy() for k, v in session.model.state_dict().items()}
    generate(session, "The ", 10, temperature=1.0)
    for name, value in session.model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize(("seed_text", "length", "temperature", "words"), [
    ("", 5, 1.0, "seed text is empty"),
    ("The ☃", 5, 1.0, "'☃'"),
    ("The", 0, 1.0, "length"),
    ("The", 5, 0.0, "temperature"),
    ("The", 5, -1.0, "temperature"),
    ("The", 5, float("nan"), "temperature"),
])
def test_bad_settings_are_refused_with_a_reason(seed_text, length, temperature, words):
    session = text_session()
    with pytest.raises(GenerationError if words != "temperature" else ValueError, match=words):
        generate(session, seed_text, length, temperature)


def test_only_a_one_directional_text_session_generates():
    with pytest.raises(GenerationError, match="choose the text task"):
        generate(Session(SessionConfig(task="parity")), "1", 5, 1.0)
    with pytest.raises(GenerationError, match="bidirectional"):
        generate(Session(SessionConfig(task="text", task_params={"seq_len": 8}, bidirectional=True)), "a", 5, 1.0)


def test_csv_rows_name_the_characters_and_their_top_k():
    session = text_session()
    generation = generate(session, "ab", 4, temperature=1.0, keep_probabilities=True)
    rows = generation_rows(generation, k=3)
    assert rows[0][:5] == ["timestep", "input", "output", "sampled", "probability"] and len(rows[0]) == 5 + 6
    assert len(rows) == 1 + generation.seq_len
    assert rows[1][1] == "a" and rows[1][2] == "b" and rows[1][3] == 0  # the seed's next character
    top_probabilities = [row[6::2] for row in rows[1:]]
    assert all(p[0] >= p[1] >= p[2] for p in top_probabilities)


def test_the_page_view_has_every_top_k_and_every_chosen_character():
    from rnnviz.session.generation import generation_view

    session = text_session()
    generation = generate(session, "Twinkle ", 25, temperature=1.3, seed=2, keep_probabilities=True)
    view = generation_view(generation, k=3)
    steps = generation.steps
    assert view.seq_len == generation.seq_len and len(view.row_names) == view.probabilities.shape[1]
    for t in range(view.seq_len):
        assert view.row_names[view.output_rows[t]] == view.outputs[t]
        top = np.argsort(-steps.probabilities[t])[:3]
        assert {generation.names[i] for i in top} <= set(view.row_names)
        # the heatmap's numbers are the kept probabilities of its rows
        np.testing.assert_array_equal(
            view.probabilities[t], steps.probabilities[t, [generation.names.index(n) for n in view.row_names]])
    np.testing.assert_array_equal(view.inputs[1:], view.outputs[:-1])
