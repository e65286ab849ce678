"""Bag of words against the recurrent network, trained side by side on the same batches. Qt-free.

    comparison = BagOfWordsComparison(SessionConfig(task="sentiment", cell="gru", hidden_size=16))
    comparison.train(600)                 # both models, one batch each step, the same optimizer settings
    curves = comparison.curves()          # held-out accuracy, overall and order-sensitive, both models
    comparison.verdicts(SAME_WORDS_PAIR)  # what each model says about two sentences of the same words

The bag-of-words model (rnnviz.engine.feedforward) reads the word counts of a sentence: every order of
the same words gives it the same input, so it cannot do better than chance on the task's
order-sensitive sentences (sentiment: the "but" sentences), whatever it learns. With ``bow_hidden=0``
it is linear in the counts, softmax(W x + b): each word adds a fixed amount to each
class's score, so it cannot represent negation either ("not good" and "not bad" differ from "good"
and "bad" by the same amount, w_not). With tanh hidden units (an MLP) it can learn single-clause
negation, an XOR of counts, but still not the "but" sentences. The RNN
trains exactly as in a Session with the same settings (the same batches from the same seed), so its
figures equal ``rnnviz train --arch rnn``'s; the MLP is given each of those batches too and is updated
by the same optimizer code with the same optimizer, learning rate and clipping.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rnnviz.engine.feedforward import FeedForward, FeedForwardConfig, FeedForwardTrainer
from rnnviz.engine.training import TrainConfig
from rnnviz.session.config import LIMITS, SessionConfig
from rnnviz.session.evaluation import EVAL_SAMPLES, heldout_batch, order_sensitive_subset, subset_accuracy
from rnnviz.session.session import Session
from rnnviz.tasks import Task
from rnnviz.tasks.base import Batch, TaskError
from rnnviz.tasks.sentiment import bag_of_words  # token counts (B, V), padding left out

# tanh units of the bag-of-words model; 0: linear in the word counts. 16, not 0, by default: on this
# task every word is as common in positive as in negative sentences, so a linear model stays at chance on
# everything (measured, README) and its flat curves cannot show what the MLP's do: counts learn the
# single clauses ("not" anywhere flips the adjective) but never the order-sensitive "but" sentences
BOW_HIDDEN = 16
MAX_BOW_HIDDEN = int(LIMITS["hidden_size"][1])  # the recurrent network's limit
EVAL_EVERY = 25  # steps between two held-out measurements
# two sentences of the same words and opposite labels (sentiment's grammar): a bag of words sees one input
SAME_WORDS_PAIR = ("the movie was good but not great", "the movie was not great but good")
CHANCE = 0.5  # two balanced classes
# negation in one clause: an MLP on word counts can learn it, a linear bag of words cannot
NEGATION_EXAMPLE = "the food is not good"


class BagOfWordsError(TaskError):
    """The task has no bag of words (not a many-to-one classification of tokens): says which have one."""


def has_bag_of_words(task: Task) -> bool:
    """A bag of words means something for a many-to-one classification of one-hot tokens."""
    return task.info().token_inputs and task.io == "many_to_one" and task.loss == "cross_entropy"


def check_bag_of_words(task: Task) -> None:
    if not has_bag_of_words(task):
        raise BagOfWordsError(
            f"the {task.name} task has no bag of words: a bag-of-words model classifies a whole sequence of "
            "words (tokens) by counting them; use it with --task sentiment")


@dataclass(frozen=True)
class AccuracyCurves:
    """Held-out accuracy over training, for both models: overall and on the order-sensitive subset."""

    steps: np.ndarray  # (K,) training step of each measurement
    rnn_overall: np.ndarray  # (K,)
    rnn_order_sensitive: np.ndarray  # (K,) NaN when the task has no order-sensitive subset
    bow_overall: np.ndarray  # (K,)
    bow_order_sensitive: np.ndarray  # (K,)
    rnn_name: str  # e.g. "GRU (hidden 16)"
    bow_name: str  # e.g. "bag of words → MLP (hidden 16)", "bag of words → linear"
    samples: int  # held-out sentences
    order_sensitive_samples: int

    COLUMNS = ("step", "rnn_overall", "rnn_order_sensitive", "bow_overall", "bow_order_sensitive")

    def csv_rows(self) -> list[list]:
        rows: list[list] = [list(self.COLUMNS)]
        for k in range(len(self.steps)):
            rows.append([int(self.steps[k])] + [float(getattr(self, c)[k]) for c in self.COLUMNS[1:]])
        return rows

    def last(self) -> dict[str, float]:
        """The newest measurement of each curve (NaN before the first)."""
        return {c: float(getattr(self, c)[-1]) if len(self.steps) else float("nan") for c in self.COLUMNS[1:]}


@dataclass(frozen=True)
class Verdict:
    """What both models say about one sentence."""

    sentence: str
    label: int | None  # the task's own answer (None: the task cannot tell)
    rnn_probabilities: np.ndarray  # (O,)
    bow_probabilities: np.ndarray  # (O,)
    class_names: tuple[str, ...]

    def rnn_class(self) -> str:
        return self.class_names[int(np.argmax(self.rnn_probabilities))]

    def bow_class(self) -> str:
        return self.class_names[int(np.argmax(self.bow_probabilities))]


def check_bow_hidden(value: object) -> int:
    """The bag-of-words model's hidden units, a whole number 0..MAX_BOW_HIDDEN (BagOfWordsError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_BOW_HIDDEN:
        raise BagOfWordsError(f"the bag-of-words model's hidden units must be a whole number from 0 (linear: word "
                              f"counts only) to {MAX_BOW_HIDDEN}, got {value!r}")
    return int(value)


def bow_model_name(hidden: int) -> str:
    """How the bag-of-words model is named on plots and in messages."""
    return "bag of words → linear" if hidden == 0 else f"bag of words → MLP (hidden {hidden})"


def _rnn_name(config: SessionConfig) -> str:
    return f"{config.cell.upper() if len(config.cell) <= 4 else config.cell} (hidden {config.hidden_size})"


class BagOfWordsComparison:
    """A Session's recurrent network and a bag-of-words model (linear or an MLP), trained on the same batches."""

    def __init__(self, config: SessionConfig, bow_hidden: int = BOW_HIDDEN, eval_every: int = EVAL_EVERY,
                 samples: int = EVAL_SAMPLES, task: Task | None = None) -> None:
        self.session = Session(config, task=task)
        self.task = self.session.task
        check_bag_of_words(self.task)
        self.eval_every = max(1, int(eval_every))
        bow_hidden = check_bow_hidden(bow_hidden)
        self.bow = FeedForward(FeedForwardConfig(input_size=self.task.input_size, hidden_size=bow_hidden,
                                                 output_size=self.task.output_size, seed=config.seed))
        # the recurrent trainer's settings, copied: optimizer, learning rate, clipping
        self.bow_trainer = FeedForwardTrainer(self.bow, TrainConfig.from_dict(self.session.trainer.config.to_dict()))
        self.heldout = heldout_batch(self.task, config.seed, samples)
        self.subset = order_sensitive_subset(self.task, self.heldout)
        self._heldout_counts = bag_of_words(self.heldout)  # (N, V)
        self.rnn_loss = float("nan")
        self.bow_loss = float("nan")
        self.bow_grad_norm = float("nan")
        self.diverged = False
        self._rows: list[tuple[float, ...]] = []
        self.measure()

    @property
    def step(self) -> int:
        return self.session.step

    def train_step(self) -> bool:
        """One step of both models on one fresh batch; False (nothing changed) if the RNN's step was not finite."""
        session = self.session
        batch = self.task.batch(session.config.batch_size, session.trainer.rng)  # Session.train_step's batch
        with np.errstate(over="ignore", invalid="ignore"):
            report = session.trainer.step(batch.inputs, batch.targets, batch.mask)
        if not report.finite:
            self.diverged = True
            return False
        session.history.append(session.step, report.loss, report.grad_norm, report.clipped)
        self.rnn_loss = float(report.loss)
        bow_step = self.bow_trainer.step(bag_of_words(batch), batch.targets)
        self.bow_loss, self.bow_grad_norm = float(bow_step.loss), float(bow_step.grad_norm)
        if session.step % self.eval_every == 0:
            self.measure()
        return True

    def train(self, steps: int, on_step: Callable[[int], None] | None = None) -> None:
        """Up to ``steps`` steps of both (stops if the RNN diverges); measures at the end too."""
        for _ in range(steps):
            if not self.train_step():
                break
            if on_step is not None:
                on_step(self.step)
        if not self._rows or self._rows[-1][0] != self.step:
            self.measure()

    # ------------------------------------------------------------------ held-out accuracy

    def rnn_probabilities(self, batch: Batch) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return self.session.model.forward(batch.inputs, batch.mask).predictions  # (B, O)

    def bow_probabilities(self, batch: Batch) -> np.ndarray:
        return self.bow.forward(bag_of_words(batch)).predictions  # (B, O)

    def measure(self) -> tuple[float, ...]:
        """Held-out accuracy now: (step, RNN overall, RNN order-sensitive, BoW overall, BoW order-sensitive)."""
        targets = self.heldout.targets
        rnn = np.argmax(self.rnn_probabilities(self.heldout), axis=1)
        bow = np.argmax(self.bow.forward(self._heldout_counts).predictions, axis=1)

        def figure(value: float | None) -> float:
            return float("nan") if value is None else value

        row = (float(self.step), float(np.mean(rnn == targets)), figure(subset_accuracy(rnn, targets, self.subset)),
               float(np.mean(bow == targets)), figure(subset_accuracy(bow, targets, self.subset)))
        if self._rows and self._rows[-1][0] == self.step:
            self._rows[-1] = row
        else:
            self._rows.append(row)
        return row

    def curves(self) -> AccuracyCurves:
        table = np.array(self._rows, dtype=np.float64).reshape(-1, 5)  # (K, 5)
        return AccuracyCurves(
            steps=table[:, 0].astype(np.int64), rnn_overall=table[:, 1], rnn_order_sensitive=table[:, 2],
            bow_overall=table[:, 3], bow_order_sensitive=table[:, 4], rnn_name=_rnn_name(self.session.config),
            bow_name=bow_model_name(self.bow.config.hidden_size),
            samples=self.heldout.batch_size,
            order_sensitive_samples=0 if self.subset is None else int(np.count_nonzero(self.subset)))

    # ------------------------------------------------------------------ single sentences

    def verdicts(self, sentences: Sequence[str]) -> list[Verdict]:
        """Both models' class probabilities for each sentence (TaskError for words outside the vocabulary)."""
        return bag_of_words_verdicts(self.session, self.bow, sentences)


def bag_of_words_verdicts(session: Session, bow: FeedForward | None, sentences: Sequence[str]) -> list[Verdict]:
    """The session's RNN's and (when given) the bag-of-words model's probabilities for each sentence."""
    task = session.task
    encode = getattr(task, "encode_sentences", None)
    if encode is None:
        raise BagOfWordsError(f"the {task.name} task cannot read typed sentences; use the sentiment task")
    batch = encode(list(sentences))
    with np.errstate(over="ignore", invalid="ignore"):
        rnn = session.model.forward(batch.inputs, batch.mask).predictions  # (B, O)
    bow_probabilities = (bow.forward(bag_of_words(batch)).predictions if bow is not None
                         else np.full_like(rnn, np.nan))
    names = tuple(task.info().output_names)
    return [Verdict(" ".join(s.lower().split()), int(batch.targets[b]), rnn[b].astype(np.float64),
                    bow_probabilities[b].astype(np.float64), names) for b, s in enumerate(sentences)]


def verdict_rows(verdicts: Sequence[Verdict]) -> list[list]:
    """CSV rows: sentence, the task's label, each model's class and P(each class)."""
    if not verdicts:
        return [["sentence"]]
    names = verdicts[0].class_names
    rows: list[list] = [["sentence", "label", "rnn_class", *[f"rnn_p_{n}" for n in names], "bow_class",
                         *[f"bow_p_{n}" for n in names]]]
    for v in verdicts:
        rows.append([v.sentence, "" if v.label is None else names[v.label], v.rnn_class(),
                     *map(float, v.rnn_probabilities), v.bow_class(), *map(float, v.bow_probabilities)])
    return rows


# --------------------------------------------------------------------- background work (the window)


@dataclass(frozen=True)
class ComparisonState:
    """What the window receives while both models train, and at the end: enough to draw the curves and
    to rebuild both trained models (``trained_models``)."""

    step: int
    total: int  # steps asked for in this run
    curves: AccuracyCurves
    pair: tuple[Verdict, ...]  # SAME_WORDS_PAIR's verdicts now
    config: SessionConfig
    rnn_state: dict[str, np.ndarray]
    bow_config: FeedForwardConfig
    bow_state: dict[str, np.ndarray]
    rnn_loss: float
    bow_loss: float
    diverged: bool = False


def comparison_state(comparison: BagOfWordsComparison, total: int) -> ComparisonState:
    return ComparisonState(
        comparison.step, total, comparison.curves(), tuple(comparison.verdicts(SAME_WORDS_PAIR)),
        comparison.session.config, comparison.session.model.state_dict(), comparison.bow.config,
        comparison.bow.state_dict(), comparison.rnn_loss, comparison.bow_loss, comparison.diverged)


def trained_models(state: ComparisonState) -> tuple[Session, FeedForward]:
    """The RNN (as a Session) and the bag-of-words model with the weights ``state`` carries."""
    session = Session(state.config)
    session.model.load_state_dict(state.rnn_state)
    session.trainer.steps = state.step
    bow = FeedForward(state.bow_config)
    bow.load_state_dict(state.bow_state)
    return session, bow


def run_comparison(work, config: SessionConfig, steps: int, bow_hidden: int = BOW_HIDDEN,
                   eval_every: int = EVAL_EVERY) -> ComparisonState:
    """Train both for ``steps`` steps, offering a ComparisonState after each measurement (latest wins).
    Stopping (``work.cancelled``) ends it after the step under way; the last state offered keeps the
    models trained so far."""
    comparison = BagOfWordsComparison(config, bow_hidden=bow_hidden, eval_every=eval_every)
    work.progress(comparison_state(comparison, steps))
    for _ in range(steps):
        if work.cancelled or not comparison.train_step():
            break
        if comparison.step % comparison.eval_every == 0 and work.progress_wanted():
            work.progress(comparison_state(comparison, steps))
    comparison.measure()
    state = comparison_state(comparison, steps)
    work.progress(state)
    return state
