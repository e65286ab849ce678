"""Sentiment of short generated sentences with negation and contrast, plus a bag-of-words baseline.

Grammar (label = polarity of the *last* clause; "not" flips a clause; "but" joins two clauses of
opposite polarity, so the part after "but" decides):

    sentence := clause | clause "but" (clause | tail)
    clause   := "the" NOUN VERB ["not"] INTENSIFIER* ADJECTIVE
    tail     := ["not"] INTENSIFIER* ADJECTIVE

    "the food is not good"                    negative
    "the movie was good but not great"        negative
    "the movie was not great but good"        positive   (same words as the line above)

Swapping the two halves of a "but" sentence keeps its words and flips its label, and the generator
makes both orders equally likely, so a model that only counts words is at chance on them.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.feedforward import FeedForward, FeedForwardConfig, FeedForwardTrainer
from rnnviz.engine.training import TrainConfig
from rnnviz.tasks._common import length_mask, one_hot
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskError, TaskInfo

NOUNS = ("food", "movie", "service", "book", "show", "music")
VERBS = ("is", "was")
POSITIVE = ("good", "great", "fun", "nice")
NEGATIVE = ("bad", "boring", "awful", "dull")
INTENSIFIERS = ("really", "very", "quite")
VOCABULARY = ("the",) + NOUNS + VERBS + ("not",) + INTENSIFIERS + POSITIVE + NEGATIVE + ("but",)
WORD_ID = {word: i for i, word in enumerate(VOCABULARY)}
POLARITY = {**{w: 1 for w in POSITIVE}, **{w: 0 for w in NEGATIVE}}
LABELS = ("negative", "positive")


def sentence_label(words: list[str]) -> int:
    """1 positive, 0 negative: the polarity of the last adjective, flipped by a "not" in its clause."""
    clause = words[len(words) - words[::-1].index("but") :] if "but" in words else words
    adjectives = [w for w in clause if w in POLARITY]
    if not adjectives:
        raise TaskError(f"'{' '.join(words)}' has no adjective after its last 'but'; end it with one of "
                        f"{', '.join(POSITIVE + NEGATIVE)}")
    return POLARITY[adjectives[-1]] ^ int("not" in clause)


def _split_clause(words: list[str]) -> tuple[list[str], list[str]]:
    """(subject part, what is said) of a clause or a tail: "the food is" + "not really good"."""
    said = next((k for k, w in enumerate(words) if w not in ("the",) + NOUNS + VERBS), len(words))
    return words[:said], words[said:]


def swapped_sentence(sentence: str) -> str | None:
    """The same words in another order with the opposite label, or None if there is none.

    For "A but B", what A says and what B says change places: "the movie was good but not great"
    (negative) -> "the movie was not great but good" (positive). None for a sentence without exactly
    one "but", or whose halves say the same thing's polarity (swapping them changes nothing).
    """
    words = sentence.lower().split()
    if words.count("but") != 1:
        return None
    cut = words.index("but")
    (first_subject, first_said), (second_subject, second_said) = (_split_clause(words[:cut]),
                                                                  _split_clause(words[cut + 1:]))
    if not first_said or not second_said:
        return None
    swapped = first_subject + second_said + ["but"] + second_subject + first_said
    try:
        differs = sentence_label(swapped) != sentence_label(words)
    except TaskError:
        return None
    return " ".join(swapped) if differs else None


class SentimentTask(Task):
    """Inputs (T, B, V) one-hot words, padded at the end (mask 0); targets (B,) int64, 1 = positive.

    T is the longest sentence the grammar can make with these parameters.
    """

    name = "sentiment"
    title = "Sentiment: negation and 'but'"
    description = (
        "Short sentences like 'the food is not good' or 'the movie was good but not great' are "
        "labelled positive or negative. The words alone do not decide it: 'not' flips the meaning "
        "of the adjective that follows, and after 'but' the second half overrides the first, so "
        "the same bag of words can be positive in one order and negative in the other. A "
        "bag-of-words classifier stays near chance on the 'but' sentences; a recurrent network "
        "reads the words in order, and its hidden state shows it switching polarity at 'not' "
        "and at 'but'."
    )
    params = (
        Param("contrast", 0.5, "share of sentences with two halves joined by 'but'", kind="float",
              minimum=0.0, maximum=1.0),
        Param("negation", 0.5, "chance that a clause contains 'not'", kind="float", minimum=0.0, maximum=1.0),
        Param("max_intensifiers", 1, "up to this many 'really/very/quite' before an adjective "
              "(longer sentences, longer memory)", minimum=0, maximum=20),
    )
    io = "many_to_one"
    loss = "cross_entropy"

    @property
    def seq_len(self) -> int:
        clause = 5 + self.values["max_intensifiers"]  # the noun verb not intensifiers adjective
        return 2 * clause + 1 if self.values["contrast"] > 0 else clause

    def info(self) -> TaskInfo:
        return TaskInfo(input_names=VOCABULARY, output_names=LABELS, token_inputs=True,
                        extra={"baseline_cross_entropy": self.loss_baseline().value})

    def loss_baseline(self) -> LossBaseline:
        """Chance: the label is a fair coin (positive or negative with probability 1/2 each), so a
        classifier that reads nothing scores ln 2. (A bag of words does better on the sentences
        without 'not' or 'but'; that comparison has its own page.)"""
        return LossBaseline(float(np.log(2.0)), "chance", "ln 2")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        labels = rng.integers(0, 2, size=batch_size)  # (B,) 1 positive
        contrast = rng.random(batch_size) < self.values["contrast"]  # (B,)
        tail = rng.integers(0, 2, size=batch_size).astype(bool)  # (B,) second half without subject
        # the second half is drawn like the first with the opposite polarity, so exchanging the
        # contents of the two halves gives an equally likely sentence with the opposite label
        first = self._clauses(1 - labels, batch_size, rng)
        second = self._clauses(labels, batch_size, rng)
        sentences = []
        for b in range(batch_size):
            if not contrast[b]:
                sentences.append(" ".join(second[b]))
            else:
                ending = second[b][3:] if tail[b] else second[b]
                sentences.append(" ".join(first[b] + ["but"] + ending))
        return self.encode_sentences(sentences, labels=list(labels))

    def encode_sentences(self, sentences: list[str], labels: list[int] | None = None) -> Batch:
        """A batch of given sentences (e.g. typed by a person); labels default to the grammar's rule."""
        word_lists = [s.lower().split() for s in sentences]
        for words in word_lists:
            unknown = [w for w in words if w not in WORD_ID]
            if unknown or not words:
                raise TaskError(
                    f"cannot encode {' '.join(words)!r}: unknown word(s) {', '.join(unknown) or '(empty)'}; "
                    f"use only: {' '.join(VOCABULARY)}"
                )
        if labels is None:
            labels = [sentence_label(words) for words in word_lists]
        lengths = np.array([len(w) for w in word_lists], dtype=np.int64)  # (B,)
        seq_len = max(self.seq_len, int(lengths.max()))
        ids = np.zeros((seq_len, len(word_lists)), dtype=np.int64)  # (T, B)
        for b, words in enumerate(word_lists):
            ids[: len(words), b] = [WORD_ID[w] for w in words]
        mask = length_mask(lengths, seq_len)  # (T, B)
        return Batch(one_hot(ids, len(VOCABULARY), mask), np.asarray(labels, dtype=np.int64), mask)

    def sentences(self, batch: Batch) -> list[str]:
        """The words of each sample of ``batch`` (padding left out), as text."""
        ids = np.argmax(batch.inputs, axis=-1)  # (T, B)
        return [" ".join(VOCABULARY[i] for i, real in zip(ids[:, b], batch.mask[:, b]) if real)
                for b in range(batch.batch_size)]

    def order_sensitive(self, batch: Batch) -> np.ndarray:
        """(B,) bool: the samples whose words, in another order, make a sentence of the opposite label
        (``swapped_sentence``), so that word counts cannot decide them.

        These are the "but" sentences: exchanging what the two halves say ("good" and "not great" in
        "the movie was good but not great") keeps every word and flips the label, and the generator
        draws both orders equally often. They include the negations whose *position* decides, before
        or after "but". A single clause is not order-sensitive: its label is its adjective's polarity
        flipped by a "not" anywhere in it, which counts decide (an MLP learns that XOR).
        """
        return np.array([swapped_sentence(words) is not None for words in self.sentences(batch)], dtype=bool)

    def _clauses(self, polarity: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[list[str]]:
        """One clause "the N V [not] I* A" per sample with the given polarity (B,)."""
        most = self.values["max_intensifiers"]
        negated = rng.random(batch_size) < self.values["negation"]  # (B,)
        nouns = rng.integers(0, len(NOUNS), size=batch_size)
        verbs = rng.integers(0, len(VERBS), size=batch_size)
        n_intensifiers = rng.integers(0, most + 1, size=batch_size)
        intensifiers = rng.integers(0, len(INTENSIFIERS), size=(batch_size, most))
        adjectives = rng.integers(0, len(POSITIVE), size=batch_size)
        positive = (polarity == 1) ^ negated  # the adjective's own polarity  # (B,)
        clauses = []
        for b in range(batch_size):
            words = ["the", NOUNS[nouns[b]], VERBS[verbs[b]]] + ["not"] * int(negated[b])
            words += [INTENSIFIERS[i] for i in intensifiers[b, : n_intensifiers[b]]]
            clauses.append(words + [(POSITIVE if positive[b] else NEGATIVE)[adjectives[b]]])
        return clauses


def bag_of_words(batch: Batch) -> np.ndarray:
    """Word counts (B, V) of each sentence: the order of the words is thrown away."""
    return (batch.inputs * batch.mask[..., None]).sum(axis=0)


def train_bow_baseline(task: SentimentTask, rng: np.random.Generator, train_size: int = 1000,
                       test_size: int = 1000, hidden_size: int = 16, steps: int = 200,
                       learning_rate: float = 0.05) -> float:
    """Accuracy on fresh test sentences of a one-hidden-layer MLP (rnnviz.engine.feedforward) trained
    with Adam (rnnviz.engine.optim), full batch, on word counts."""
    train, test = task.batch(train_size, rng), task.batch(test_size, rng)
    config = FeedForwardConfig(input_size=len(VOCABULARY), hidden_size=hidden_size, output_size=len(LABELS),
                               seed=int(rng.integers(2**31)))
    mlp = FeedForward(config)
    trainer = FeedForwardTrainer(mlp, TrainConfig(optimizer="adam", lr=learning_rate))
    counts = bag_of_words(train)  # (N, V)
    for _ in range(steps):
        trainer.step(counts, train.targets)
    predictions = mlp.forward(bag_of_words(test)).predictions.argmax(axis=1)  # (N,)
    return float(np.mean(predictions == test.targets))
