"""Type your own: what a trained network makes of a sentence a person types. Qt-free.

    reading = read_text(session, "the food is not good", bow=mlp)

For a task of words (sentiment) each word is one timestep; for the text task each character is. The
reading holds, per token, the hidden state of the top layer (forward direction) and the network's
prediction *after that token*: for many-to-one tasks P(class | the words so far), from running the
network on every prefix (right for any cell, also bidirectional ones); for next-character tasks the
output at that timestep, P(next character). For sentiment the bag-of-words model's verdict on the
whole sentence sits beside the RNN's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.feedforward import FeedForward
from rnnviz.session.session import Session
from rnnviz.tasks.base import TaskError
from rnnviz.tasks.sentiment import bag_of_words, sentence_label

MAX_TYPED_WORDS = 30
MAX_TYPED_WORDS_BIDIRECTIONAL = 16  # each prefix is read on its own (T² cell steps): measured 92 ms at 30 words
MAX_TYPED_CHARS = 400  # one forward pass


class ReadingError(TaskError):
    """The text cannot be read by this network: the message says what to type instead."""


@dataclass(frozen=True)
class Reading:
    text: str
    tokens: tuple[str, ...]  # (T,) the words or characters read
    hidden: np.ndarray  # (T, H) top layer, forward direction, after each token
    probabilities: np.ndarray  # (T, O) after each token: P(class | prefix) or P(next token)
    output_names: tuple[str, ...]
    kind: str  # "class": many-to-one verdicts; "next": next-token predictions
    label: int | None = None  # the task's own answer for the whole sentence, when it has one
    bow_probabilities: np.ndarray | None = None  # (O,) the bag-of-words verdict on the whole sentence
    unknown: tuple[str, ...] = ()  # characters outside the vocabulary (read as the unknown one)

    def predicted(self) -> list[str]:
        """The most probable class or next token after each token."""
        return [self.output_names[int(k)] for k in np.argmax(self.probabilities, axis=1)]

    def csv_rows(self) -> list[list]:
        header = ["timestep", "token", *[f"h_{k}" for k in range(self.hidden.shape[1])], "predicted",
                  *[f"p_{name}" for name in self.output_names]]
        rows: list[list] = [header]
        for t, token in enumerate(self.tokens):
            rows.append([t, token, *map(float, self.hidden[t]), self.predicted()[t],
                         *map(float, self.probabilities[t])])
        if self.bow_probabilities is not None:
            rows.append(["whole sentence", "bag of words", *[""] * self.hidden.shape[1],
                         self.output_names[int(np.argmax(self.bow_probabilities))], *map(float, self.bow_probabilities)])
        return rows


def can_read(session: Session) -> bool:
    """True for the tasks a person can type into: words (sentiment) and characters (text)."""
    return hasattr(session.task, "encode_sentences") or hasattr(session.task, "vocabulary")


def read_text(session: Session, text: str, bow: FeedForward | None = None) -> Reading:
    """The network's hidden states and predictions along ``text`` (ReadingError/TaskError if it cannot)."""
    task = session.task
    if hasattr(task, "encode_sentences"):
        return _read_words(session, text, bow)
    if hasattr(task, "vocabulary"):
        return _read_characters(session, text)
    raise ReadingError(f"the {task.name} task has no words or characters to type; switch to the sentiment "
                       "or text task to type your own")


def _top_hidden(session: Session, inputs: np.ndarray, mask: np.ndarray):
    with np.errstate(over="ignore", invalid="ignore"):
        output = session.model.forward(inputs, mask)
    top = session.config.num_layers - 1
    return output, output.trace.layer(top, 0).hidden[:, 0].astype(np.float64)  # (T, H)


def _read_words(session: Session, text: str, bow: FeedForward | None) -> Reading:
    words = text.lower().split()
    if not words:
        raise ReadingError("type a sentence first, e.g. 'the food is not good'")
    most = MAX_TYPED_WORDS_BIDIRECTIONAL if session.model.config.num_directions == 2 else MAX_TYPED_WORDS
    if len(words) > most:
        raise ReadingError(f"that is {len(words)} words; type at most {most}")
    task = session.task
    batch = task.encode_sentences([" ".join(words)], labels=[0])  # TaskError naming unknown words
    try:
        label: int | None = sentence_label(words)
    except TaskError:  # e.g. no adjective yet: the grammar has no answer, the networks still do
        label = None
    length = len(words)
    inputs = batch.inputs[:length]  # (T, 1, V)
    output, hidden = _top_hidden(session, inputs, np.ones((length, 1)))
    probabilities = _prefix_probabilities(session, inputs, output)  # (T, O)
    bow_p = None if bow is None else bow.forward(bag_of_words(batch)).predictions[0].astype(np.float64)
    return Reading(" ".join(words), tuple(words), hidden, probabilities, tuple(task.info().output_names),
                   "class", label=label, bow_probabilities=bow_p)


def _prefix_probabilities(session: Session, inputs: np.ndarray, output) -> np.ndarray:
    """P(class | the first k + 1 tokens) for every k: (T, O).

    A unidirectional network's verdict on a prefix is its head applied to h_k, so one forward pass
    gives all of them; a bidirectional one reads each prefix from its end too, so each prefix is run
    on its own (T forward passes, batched)."""
    model = session.model
    length = inputs.shape[0]
    if model.config.num_directions == 1:
        logits = model.head.forward(output.trace.output[:, 0])  # (T, O): the top layer's h_t
        return np.asarray(model.loss_fn.predict(logits), dtype=np.float64)
    prefixes = np.repeat(inputs, length, axis=1)  # (T, T, V): sample k reads the first k + 1 tokens
    prefix_mask = (np.arange(length)[:, None] <= np.arange(length)[None, :]).astype(np.float64)  # (T, T)
    with np.errstate(over="ignore", invalid="ignore"):
        predictions = model.forward(prefixes * prefix_mask[..., None], prefix_mask).predictions
    return np.asarray(predictions, dtype=np.float64)


def _read_characters(session: Session, text: str) -> Reading:
    if not text:
        raise ReadingError("type some text first, e.g. 'twinkle twinkle'")
    if len(text) > MAX_TYPED_CHARS:
        raise ReadingError(f"that is {len(text)} characters; type at most {MAX_TYPED_CHARS}")
    task = session.task
    vocabulary = task.vocabulary
    ids = vocabulary.encode(text)  # (T,)
    unknown = tuple(sorted({c for c in text if c not in vocabulary.chars[:-1]}))
    inputs = np.eye(vocabulary.size)[ids][:, None, :]  # (T, 1, V)
    output, hidden = _top_hidden(session, inputs, np.ones((len(ids), 1)))
    names = tuple(task.info().output_names)
    tokens = tuple(names[int(i)] for i in ids)
    return Reading(text, tokens, hidden, np.asarray(output.predictions[:, 0], dtype=np.float64), names, "next",
                   unknown=unknown)
