"""The text task (windows, vocabulary, sampling, bundled corpus) and the sentiment BoW baseline."""
from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from rnnviz.tasks import make_task
from rnnviz.tasks._common import resource_path
from rnnviz.tasks.base import TaskError
from rnnviz.tasks.loaders import load_text
from rnnviz.tasks.sentiment import (
    NEGATIVE,
    POSITIVE,
    WORD_ID,
    bag_of_words,
    sentence_label,
    swapped_sentence,
    train_bow_baseline,
)
from rnnviz.tasks.text import BUNDLED_CORPUS, Vocabulary, sample_text

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


# --- windows and vocabulary ------------------------------------------------------------------------

def test_text_targets_are_the_next_character_of_the_corpus():
    task = make_task("text", seq_len=40)
    corpus = load_text(resource_path(*BUNDLED_CORPUS))
    batch = task.batch(10, np.random.default_rng(0))
    chars = task.info().extra["vocabulary"]
    np.testing.assert_array_equal(batch.inputs[1:].argmax(axis=-1), batch.targets[:-1])
    for b in range(10):
        window = "".join(chars[i] for i in batch.inputs[:, b].argmax(axis=-1)) + chars[batch.targets[-1, b]]
        assert len(window) == 41 and window in corpus


def test_vocabulary_keeps_most_frequent_and_maps_the_rest_to_unknown(tmp_path):
    path = tmp_path / "own.txt"
    path.write_text("aaaa bbb cc d\n", encoding="utf-8")
    task = make_task("text", path=str(path), seq_len=3, max_vocab=3)
    vocab = task.info().extra["vocabulary"]
    assert set(vocab[:-1]) == {"a", "b", " "}  # the three most frequent; c, d and \n are unknown
    text = "".join(vocab[i] for i in task.corpus_ids)
    assert text == "aaaa bbb " + vocab[-1] * 2 + " " + vocab[-1] * 2
    assert task.info().input_names[vocab.index(" ")] == "\u2423"  # a visible space on the axis


def test_display_names_are_unique_and_visible():
    vocabulary = Vocabulary.from_text("a \n\t\u2423\x07b", max_chars=20)
    names = vocabulary.display_names()
    assert len(set(names)) == len(names) == vocabulary.size
    assert all(name.strip() and name.isprintable() for name in names)


# --- sampling --------------------------------------------------------------------------------------

def echo_model(vocabulary: Vocabulary, sharpness: float = 50.0):
    """Predicts that the next character repeats the one just read; state counts the steps."""
    def step(one_hot: np.ndarray, state):
        assert one_hot.shape == (1, vocabulary.size) and one_hot.sum() == 1.0
        return sharpness * one_hot[0], (state or 0) + 1
    return step


def test_sampling_feeds_the_seed_then_its_own_samples():
    vocabulary = Vocabulary.from_text("abcdefgh", max_chars=20)
    calls = []

    def step(one_hot, state):
        calls.append(vocabulary.chars[int(one_hot.argmax())])
        return echo_model(vocabulary)(one_hot, state)

    out = sample_text(step, vocabulary, "cab", 6, temperature=0.5, rng=np.random.default_rng(0))
    assert out == "bbbbbb"
    # the seed, then each sample but the last fed back (nothing reads what follows the last one)
    assert calls[:3] == ["c", "a", "b"] and len(calls) == 3 + 6 - 1


def test_sampling_follows_softmax_over_temperature():
    vocabulary = Vocabulary.from_text("xyz", max_chars=20)  # x, y, z, unknown
    logits = np.array([2.0, 1.0, 0.0, -1.0])

    def fixed(one_hot, state):
        return logits, state

    for temperature in (0.5, 2.0):
        text = sample_text(fixed, vocabulary, "x", 3000, temperature, np.random.default_rng(1))
        counts = np.array([text.count(c) for c in vocabulary.chars]) / len(text)
        expected = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
        # frequencies of 3000 seeded draws: sd sqrt(p (1 - p) / 3000) <= 0.0091, so 0.03 is >= 3.3 sd;
        # rounding of the probabilities (~1e-16) could flip a draw only at an exact tie
        np.testing.assert_allclose(counts, expected, rtol=0, atol=0.03)


def test_sampling_is_deterministic_per_seed():
    task = make_task("text", seq_len=8)
    model = echo_model(task.vocabulary, sharpness=0.5)  # soft: many characters possible
    first = task.sample(model, "The ", 50, 1.0, np.random.default_rng(3))
    assert first == task.sample(model, "The ", 50, 1.0, np.random.default_rng(3))
    assert first != task.sample(model, "The ", 50, 1.0, np.random.default_rng(4))


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_sampling_refuses_bad_temperature(temperature):
    vocabulary = Vocabulary.from_text("ab", max_chars=5)
    with pytest.raises(TaskError, match="temperature"):
        sample_text(echo_model(vocabulary), vocabulary, "a", 5, temperature, np.random.default_rng(0))


def test_sampling_refuses_empty_seed_and_bad_model_output():
    vocabulary = Vocabulary.from_text("ab", max_chars=5)
    with pytest.raises(TaskError, match="seed text is empty"):
        sample_text(echo_model(vocabulary), vocabulary, "", 5, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="returned 2 logits"):
        sample_text(lambda x, s: (np.zeros(2), s), vocabulary, "a", 5, 1.0, np.random.default_rng(0))
    with pytest.raises(TaskError, match="not finite"):
        sample_text(lambda x, s: (np.full(3, np.nan), s), vocabulary, "a", 5, 1.0, np.random.default_rng(0))


# --- bundled resources ------------------------------------------------------------------------------

def test_bundled_corpus_is_small_and_reproducible(capsys):
    corpus_file = RESOURCES / "corpora" / "rhymes.txt"
    assert corpus_file.stat().st_size < 200_000
    generator = runpy.run_path(str(RESOURCES / "corpora" / "make_rhymes.py"))
    assert generator["corpus"]() == corpus_file.read_text(encoding="utf-8")


def test_bundled_series_is_reproducible(capsys):
    runpy.run_path(str(RESOURCES / "examples" / "make_weather.py"), run_name="__main__")
    assert capsys.readouterr().out == (RESOURCES / "examples" / "weather.csv").read_text(encoding="utf-8")


# --- sentiment: bag of words cannot read word order -------------------------------------------------

def test_bow_learns_single_clauses_with_negation():
    """Without 'but' the bag of words decides the label, so the baseline itself is able to learn."""
    accuracy = train_bow_baseline(make_task("sentiment", contrast=0.0), np.random.default_rng(0))
    assert accuracy > 0.95  # measured 1.0 for seeds 0-3: rounding cannot move a separable problem 5%


def test_bow_is_at_chance_on_but_sentences():
    accuracy = train_bow_baseline(make_task("sentiment", contrast=1.0), np.random.default_rng(0))
    assert accuracy < 0.62  # measured 0.48-0.50 for seeds 0-3: chance, 12 points below the bound


def test_bow_stays_well_below_perfect_on_the_default_mix():
    accuracy = train_bow_baseline(make_task("sentiment"), np.random.default_rng(0))
    assert accuracy < 0.85  # measured 0.73-0.74 for seeds 0-3


# --- sentiment: the order-sensitive subset ----------------------------------------------------------

def test_order_sensitive_sentences_keep_their_words_and_flip_their_label_when_swapped():
    task = make_task("sentiment")
    batch = task.batch(400, np.random.default_rng(1))
    sensitive = task.order_sensitive(batch)
    sentences = task.sentences(batch)
    assert 0 < sensitive.sum() < len(sentences)
    for sentence, is_sensitive, label in zip(sentences, sensitive, batch.targets):
        assert sentence_label(sentence.split()) == label
        assert is_sensitive == ("but" in sentence.split())  # the generator's "but" halves always disagree
        if is_sensitive:
            swapped = swapped_sentence(sentence)
            assert sorted(swapped.split()) == sorted(sentence.split()) and swapped != sentence
            assert sentence_label(swapped.split()) == 1 - label


def test_the_examples_of_the_lesson():
    assert swapped_sentence("the movie was good but not great") == "the movie was not great but good"
    assert sentence_label("the movie was not great but good".split()) == 1
    assert swapped_sentence("the food is not good") is None  # one clause: the counts decide it
    assert swapped_sentence("the food is good but great") is None  # both halves positive: nothing flips


def test_word_counts_decide_the_other_sentences_and_not_the_order_sensitive_ones():
    """The subset must be unsolvable from word counts: grouped by every count that bears on polarity
    (positive and negative adjectives, 'not' before/anywhere), the labels of order-sensitive sentences
    are half positive; the other sentences' labels are a function of their full count vector."""
    task = make_task("sentiment")
    batch = task.batch(4000, np.random.default_rng(2))
    counts = bag_of_words(batch).astype(int)  # (B, V)
    sensitive = task.order_sensitive(batch)
    by_counts: dict[tuple, set] = {}
    for row, label in zip(counts[~sensitive], batch.targets[~sensitive]):
        by_counts.setdefault(tuple(row), set()).add(int(label))
    assert all(len(labels) == 1 for labels in by_counts.values())
    positive = counts[:, [WORD_ID[w] for w in POSITIVE]].sum(axis=1)
    negative = counts[:, [WORD_ID[w] for w in NEGATIVE]].sum(axis=1)
    nots = counts[:, WORD_ID["not"]]
    groups: dict[tuple, list[int]] = {}
    for p, n, k, label in zip(positive[sensitive], negative[sensitive], nots[sensitive], batch.targets[sensitive]):
        groups.setdefault((p, n, k), []).append(int(label))
    big = [labels for labels in groups.values() if len(labels) >= 150]
    assert len(big) >= 3
    for labels in big:
        # a fair coin over n >= 150 labels: 4 standard errors (0.5/sqrt(150) = 0.041) is 0.163
        assert abs(np.mean(labels) - 0.5) < 0.17
