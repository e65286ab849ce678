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

from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class _Mlp:
    """A one-hidden-layer classifier on word counts: p = softmax(W2 tanh(W1 x + b1) + b2)."""

    W1: np.ndarray  # (V, H)
    b1: np.ndarray  # (H,)
    W2: np.ndarray  # (H, 2)
    b2: np.ndarray  # (2,)

    def hidden(self, counts: np.ndarray) -> np.ndarray:
        return np.tanh(counts @ self.W1 + self.b1)  # (N, H)

    def predict(self, counts: np.ndarray) -> np.ndarray:
        return np.argmax(self.hidden(counts) @ self.W2 + self.b2, axis=1)  # (N,)


def bag_of_words(batch: Batch) -> np.ndarray:
    """Word counts (B, V) of each sentence: the order of the words is thrown away."""
    return (batch.inputs * batch.mask[..., None]).sum(axis=0)


def train_bow_baseline(task: SentimentTask, rng: np.random.Generator, train_size: int = 1000,
                       test_size: int = 1000, hidden_size: int = 16, steps: int = 200,
                       learning_rate: float = 0.05) -> float:
    """Accuracy on fresh test sentences of a one-hidden-layer MLP trained (Adam, full batch) on word counts."""
    train, test = task.batch(train_size, rng), task.batch(test_size, rng)
    counts, labels = bag_of_words(train), train.targets  # (N, V), (N,)
    vocab = counts.shape[1]
    params = [rng.normal(0, 1 / np.sqrt(vocab), (vocab, hidden_size)), np.zeros(hidden_size),
              rng.normal(0, 1 / np.sqrt(hidden_size), (hidden_size, 2)), np.zeros(2)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    for step in range(1, steps + 1):
        grads = _mlp_gradients(_Mlp(*params), counts, labels)
        for p, g, (m, v) in zip(params, grads, moments):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= learning_rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    predictions = _Mlp(*params).predict(bag_of_words(test))
    return float(np.mean(predictions == test.targets))


def _mlp_gradients(mlp: _Mlp, counts: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Gradients of the mean cross-entropy  L = -mean log softmax(W2 h + b2)[y],  h = tanh(W1 x + b1)."""
    h = mlp.hidden(counts)  # (N, H)
    logits = h @ mlp.W2 + mlp.b2  # (N, 2)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dlogits = p.copy()
    dlogits[np.arange(len(labels)), labels] -= 1.0
    dlogits /= len(labels)  # (N, 2)
    dpre = (dlogits @ mlp.W2.T) * (1 - h * h)  # (N, H)
    return [counts.T @ dpre, dpre.sum(axis=0), h.T @ dlogits, dlogits.sum(axis=0)]
