"""Fixed window against memory: the n-gram and the time-delay network (rnnviz.engine.window_models)
against a recurrent network on the lag-recall task, as the lag grows past the window.

    sweep = measure_lag_sweep(work, SweepConfig(window=3, lags=(0, 1, 2, 3, 4, 6)))   # background work
    sweep.accuracy["ngram"]        # held-out accuracy at each lag (None: not measured yet)
    sizes = state_sizes(vocab=4, windows=range(1, 9), cell="gru", hidden_size=32)

For every lag each model is trained from scratch on ``lag_recall`` (vocab V, seq_len T) with the same
number of training sequences (``steps`` batches of ``batch_size``): the n-gram counts them, the
time-delay network and the RNN take one optimizer step per batch with the same optimizer code
(rnnviz.engine.training.Trainer). Accuracy is measured on one held-out batch per lag, the same for
all three (``heldout_batch``, the seed convention of rnnviz.session.evaluation), at the steps where
there is a symbol to recall; chance is 1/V. The window models cannot see an input k or more steps
back, so beyond lag k - 1 they are at chance however long they train; the RNN is not limited by a
window. Like ``measure_scan_times`` it calls ``work.check()`` between training steps (raises when the
person cancels) and offers each partial result to ``work.progress``.

The training functions here are also what ``rnnviz train --arch ngram|window-mlp`` runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.model import ModelConfig, SequenceModel
from rnnviz.engine.training import TrainConfig, Trainer
from rnnviz.engine.window_models import (NgramModel, TimeDelayNetwork, WindowModelError, ngram_table_entries,
                                         time_delay_parameter_count)
from rnnviz.session.background import WorkContext
from rnnviz.session.budget import check_ngram_memory
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.evaluation import EVAL_SAMPLES, EVAL_SEED_OFFSET
from rnnviz.session.session import Session
from rnnviz.tasks import Task, make_task
from rnnviz.tasks.base import Batch

MODELS = ("ngram", "window_mlp", "rnn")
MODEL_TITLES = {"ngram": "n-gram (window k)", "window_mlp": "time-delay net (window k)", "rnn": "RNN (no window)"}
SWEEP_TASK = "lag_recall"
MAX_SWEEP_LAG = 60


class WindowTaskError(ValueError):
    """A task a window model cannot read: the message says which tasks it can."""


@dataclass(frozen=True)
class SweepConfig:
    """What the comparison trains. The defaults are measured to let a GRU of 32 units learn every lag
    up to 6 of 4 symbols in 300 steps, at three seeds (README: "Fixed window against memory")."""

    window: int = 3  # k: the window models see x_(t-k+1) .. x_t
    lags: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    vocab: int = 4
    seq_len: int = 24  # must exceed the largest lag
    cell: str = "gru"
    hidden_size: int = 32  # the RNN's and the time-delay network's hidden units
    steps: int = 300  # training batches for each model and lag
    batch_size: int = 32
    lr: float = 0.01
    seed: int = 0
    eval_samples: int = EVAL_SAMPLES

    def __post_init__(self) -> None:
        lags = tuple(sorted({int(lag) for lag in self.lags}))
        if not lags or lags[0] < 0 or lags[-1] > MAX_SWEEP_LAG:
            raise ConfigError(f"the lags must be between 0 and {MAX_SWEEP_LAG}, got {self.lags!r}")
        object.__setattr__(self, "lags", lags)
        if self.seq_len <= lags[-1]:
            raise ConfigError(f"seq_len ({self.seq_len}) must exceed the largest lag ({lags[-1]})")
        if not 1 <= self.window <= 64:
            raise ConfigError(f"the window must be between 1 and 64, got {self.window}")
        if self.steps < 1:
            raise ConfigError(f"steps must be at least 1, got {self.steps}")

    def task(self, lag: int) -> Task:
        return make_task(SWEEP_TASK, lag=lag, vocab=self.vocab, seq_len=self.seq_len)


@dataclass(frozen=True)
class LagSweep:
    """Held-out accuracy against lag per model; partial while it runs (None where not measured yet)."""

    config: SweepConfig
    accuracy: dict[str, tuple[float | None, ...]] = field(default_factory=dict)  # model -> one per lag
    final_loss: dict[str, tuple[float | None, ...]] = field(default_factory=dict)  # the last training loss

    @property
    def lags(self) -> tuple[int, ...]:
        return self.config.lags

    @property
    def chance(self) -> float:
        return 1.0 / self.config.vocab

    @property
    def measured(self) -> int:
        return sum(value is not None for values in self.accuracy.values() for value in values)

    @property
    def planned(self) -> int:
        return len(MODELS) * len(self.lags)

    @property
    def complete(self) -> bool:
        return self.measured == self.planned

    def with_result(self, model: str, lag: int, accuracy: float, loss: float) -> "LagSweep":
        index = self.lags.index(lag)
        accuracies, losses = dict(self.accuracy), dict(self.final_loss)
        accuracies[model] = tuple(accuracy if k == index else v for k, v in enumerate(accuracies[model]))
        losses[model] = tuple(loss if k == index else v for k, v in enumerate(losses[model]))
        return replace(self, accuracy=accuracies, final_loss=losses)

    def csv_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = [["lag", "window", *(f"{m}_accuracy" for m in MODELS), "chance"]]
        for index, lag in enumerate(self.lags):
            values = ["" if self.accuracy[m][index] is None else self.accuracy[m][index] for m in MODELS]
            rows.append([lag, self.config.window, *values, self.chance])
        return rows


def empty_sweep(config: SweepConfig) -> LagSweep:
    nothing = tuple(None for _ in config.lags)
    return LagSweep(config, {m: nothing for m in MODELS}, {m: nothing for m in MODELS})


# ----------------------------------------------------------------------------- training one model


def check_window_task(task: Task) -> None:
    """WindowTaskError unless the window models can read ``task``: one-hot tokens in, a class at every
    timestep out (many_to_many cross-entropy)."""
    if not (task.info().token_inputs and task.io == "many_to_many" and task.loss == "cross_entropy"):
        raise WindowTaskError(f"the window models predict a class at every step from one-hot tokens; task "
                              f"{task.name!r} is {task.io.replace('_', '-')} with {task.loss} loss"
                              f"{'' if task.info().token_inputs else ' and real-valued inputs'}: use lag_recall, "
                              f"copy, text, selective_copy or associative_recall")


def heldout_batch(task: Task, seed: int, samples: int = EVAL_SAMPLES) -> Batch:
    """The held-out batch every model is measured on (rnnviz.session.evaluation's seed convention)."""
    return task.batch(samples, np.random.default_rng(seed + EVAL_SEED_OFFSET))


def chance_accuracy(task: Task) -> float:
    """A guess's accuracy on the scored steps: the task's own figure, else one over the classes (not
    counting a blank class, which is never the answer at a scored step)."""
    extra = task.info().extra
    if "chance_accuracy" in extra:
        return float(extra["chance_accuracy"])
    return 1.0 / (task.output_size - (1 if "blank_class" in extra else 0))


@dataclass
class TrainedModel:
    model: Any  # NgramModel, TimeDelayNetwork or the Session of an RNN
    final_loss: float  # the last training batch's loss (n-gram: its held-out cross-entropy)
    steps: int

    def predict(self, inputs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if isinstance(self.model, Session):
            with np.errstate(over="ignore", invalid="ignore"):
                return self.model.model.forward(inputs, mask).predictions
        return self.model.predict(inputs)


def train_ngram(task: Task, window: int, batches: int, batch_size: int, seed: int,
                on_batch: Callable[[int], None] | None = None, budget: int | None = None) -> TrainedModel:
    """Count ``batches`` training batches of ``task`` (drawn from ``seed``) into an order-``window`` n-gram.
    MemoryBudgetError if its table would not fit; the final loss is the held-out cross-entropy."""
    check_window_task(task)
    check_ngram_memory(window, task.input_size, task.output_size, budget)
    ngram = NgramModel(window, task.input_size, task.output_size)
    train = TrainConfig(batch_size=batch_size, seed=seed)
    return _count_batches(ngram, task, batches, train, None if on_batch is None else lambda step, _: on_batch(step))


def _count_batches(ngram: NgramModel, task: Task, batches: int, train: TrainConfig,
                   on_batch: Callable[[int, float], None] | None) -> TrainedModel:
    """Count ``batches`` batches drawn from ``train.seed`` (the generator Trainer would use); the final
    loss is the held-out cross-entropy."""
    rng = np.random.default_rng(train.seed)
    for done in range(batches):
        batch = task.batch(train.batch_size, rng)
        ngram.fit(batch.inputs, batch.targets, batch.mask)
        if on_batch is not None:
            on_batch(done + 1, float("nan"))
    heldout = heldout_batch(task, train.seed)
    return TrainedModel(ngram, ngram.loss(heldout.inputs, heldout.targets, heldout.mask), batches)


def train_time_delay(task: Task, window: int, hidden_size: int, steps: int, train: TrainConfig,
                     on_step: Callable[[int, float], None] | None = None) -> TrainedModel:
    """Train a TimeDelayNetwork on ``steps`` batches with the RNN's Trainer (optimizer, clipping, the
    non-finite guard); stops early at a non-finite step."""
    check_window_task(task)
    net = TimeDelayNetwork(window, task.input_size, hidden_size, task.output_size, loss=task.loss, seed=train.seed)
    return _fit_network(net, task, steps, train, on_step)


def _fit_network(net: TimeDelayNetwork, task: Task, steps: int, train: TrainConfig,
                 on_step: Callable[[int, float], None] | None) -> TrainedModel:
    trainer = Trainer(net, train)
    loss = float("nan")
    for _ in range(steps):
        batch = task.batch(train.batch_size, trainer.rng)
        report = trainer.step(batch.inputs, batch.targets, batch.mask)
        if not report.finite:
            break
        loss = report.loss
        if on_step is not None:
            on_step(trainer.steps, loss)
    return TrainedModel(net, loss, trainer.steps)


def train_rnn(config: SessionConfig, steps: int, on_step: Callable[[int, float], None] | None = None) -> TrainedModel:
    session = Session(config)
    outcome = session.train(steps, on_step=None if on_step is None else lambda o: on_step(o.step, o.loss))
    return TrainedModel(session, float("nan") if outcome is None else outcome.loss, session.step)


def heldout_accuracy(trained: TrainedModel, task: Task, batch: Batch) -> float:
    return float(task.accuracy(trained.predict(batch.inputs, batch.mask), batch))


# ----------------------------------------------------------------------------- one model, as `rnnviz train` runs it

ARCHS = {"ngram": "ngram", "window-mlp": "window_mlp"}  # `train --arch` name -> MODELS name
CHECKPOINT_EVERY = 25  # training steps between two held-out measurements of the accuracy curve


@dataclass(frozen=True)
class AccuracyCurve:
    """Held-out accuracy and loss of one window model against training steps (n-gram: batches counted)."""

    title: str
    steps: tuple[int, ...]
    accuracy: tuple[float, ...]
    loss: tuple[float, ...]
    chance: float

    def csv_rows(self) -> list[list[Any]]:
        return [["step", "heldout_accuracy", "heldout_loss", "chance"]] + [
            [step, accuracy, loss, self.chance] for step, accuracy, loss in zip(self.steps, self.accuracy, self.loss)]


@dataclass
class WindowRun:
    trained: TrainedModel
    curve: AccuracyCurve
    heldout_loss: float
    heldout_accuracy: float
    heldout_samples: int
    heldout_tokens: int
    size: int  # n-gram: table entries; time-delay network: weights


def train_window_arch(arch: str, task: Task, window: int, hidden_size: int, steps: int, train: TrainConfig,
                      dtype: str = "float32", on_step: Callable[[int, float], None] | None = None,
                      every: int = CHECKPOINT_EVERY, samples: int = EVAL_SAMPLES) -> WindowRun:
    """Train the ``arch`` ("ngram" or "window-mlp") on ``task`` for ``steps`` batches, measuring the
    held-out batch every ``every`` steps and at the end; MemoryBudgetError for an n-gram table too big."""
    check_window_task(task)
    if ARCHS.get(arch) == "ngram":
        check_ngram_memory(window, task.input_size, task.output_size)
        model: Any = NgramModel(window, task.input_size, task.output_size)
    elif ARCHS.get(arch) == "window_mlp":
        model = TimeDelayNetwork(window, task.input_size, hidden_size, task.output_size, loss=task.loss,
                                 dtype=dtype, seed=train.seed)
    else:
        raise WindowModelError(f"there is no window model {arch!r}; choose one of {', '.join(ARCHS)}")
    heldout = heldout_batch(task, train.seed, samples)
    points: list[tuple[int, float, float]] = []  # (step, held-out accuracy, held-out loss)

    def measure(step: int) -> None:
        accuracy = task.accuracy(model.predict(heldout.inputs), heldout)
        points.append((step, accuracy, model.loss(heldout.inputs, heldout.targets, heldout.mask)))

    def after_step(step: int, loss: float) -> None:
        if step % every == 0:
            measure(step)
        if on_step is not None:
            on_step(step, loss)

    fit = _count_batches if isinstance(model, NgramModel) else _fit_network
    trained = fit(model, task, steps, train, after_step)
    if not points or points[-1][0] != trained.steps:
        measure(trained.steps)
    steps_measured, accuracies, losses = (tuple(column) for column in zip(*points))
    chance = chance_accuracy(task)
    settings = ", ".join(f"{name} {value}" for name, value in task.values.items() if name in ("lag", "delay", "vocab"))
    title = f"{arch}, window {window}, on {task.name}" + (f" ({settings})" if settings else "")
    curve = AccuracyCurve(title, steps_measured, accuracies, losses, chance)
    size = model.table_entries if isinstance(model, NgramModel) else model.parameter_count()
    return WindowRun(trained, curve, losses[-1], accuracies[-1], samples,
                     int(np.count_nonzero(task.scored(heldout))), size)


# ----------------------------------------------------------------------------- the sweep


def measure_lag_sweep(work: WorkContext, config: SweepConfig) -> LagSweep:
    """Train and measure every model at every lag (see the module docstring); progress after each."""
    sweep = empty_sweep(config)
    work.progress(sweep)
    train = TrainConfig(optimizer="adam", lr=config.lr, clip_norm=1.0, batch_size=config.batch_size,
                        seed=config.seed)
    for lag in config.lags:
        task = config.task(lag)
        heldout = heldout_batch(task, config.seed, config.eval_samples)
        for model in MODELS:
            work.check()
            trained = _train_one(work, model, task, config, train, lag)
            sweep = sweep.with_result(model, lag, heldout_accuracy(trained, task, heldout), trained.final_loss)
            work.progress(sweep)
    return sweep


def _train_one(work: WorkContext, model: str, task: Task, config: SweepConfig, train: TrainConfig,
               lag: int) -> TrainedModel:
    check = lambda *_: work.check()  # noqa: E731 (cancel between steps)
    if model == "ngram":
        return train_ngram(task, config.window, config.steps, config.batch_size, config.seed, check)
    if model == "window_mlp":
        return train_time_delay(task, config.window, config.hidden_size, config.steps, replace(train), check)
    session_config = SessionConfig(task=SWEEP_TASK, task_params={"lag": lag, "vocab": config.vocab,
                                                                 "seq_len": config.seq_len},
                                   cell=config.cell, hidden_size=config.hidden_size, lr=config.lr,
                                   batch_size=config.batch_size, clip_norm=1.0, seed=config.seed)
    return train_rnn(session_config, config.steps, check)


# ----------------------------------------------------------------------------- what each model stores


@dataclass(frozen=True)
class StateSizes:
    """What each model keeps, against the window k: the n-gram's counts (V+1)^k C, the time-delay
    network's weights H (k V + 1) + C (H + 1), and the RNN's weights and hidden state (the same for
    every k: it has no window)."""

    window: int  # the chosen k (marked on the plot)
    windows: tuple[int, ...]
    ngram_counts: tuple[int, ...]
    time_delay_weights: tuple[int, ...]
    rnn_weights: int
    rnn_state: int  # numbers carried from step to step (h; LSTM h and c)
    cell: str

    def csv_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = [["window", "ngram_counts", "time_delay_weights", "rnn_weights", "rnn_state"]]
        for k, counts, weights in zip(self.windows, self.ngram_counts, self.time_delay_weights):
            rows.append([k, counts, weights, self.rnn_weights, self.rnn_state])
        return rows


def state_sizes(vocab: int, windows: range | tuple[int, ...], cell: str, hidden_size: int, window: int = 3) -> StateSizes:
    """The counts of ``StateSizes`` for lag_recall with ``vocab`` symbols (and as many classes)."""
    classes = vocab
    windows = tuple(int(k) for k in windows)
    rnn = SequenceModel(ModelConfig(mode=cell, input_size=vocab, hidden_size=hidden_size, output_size=classes,
                                    io="many_to_many", loss="cross_entropy"))
    spec = cell_spec(cell)
    state = hidden_size + (spec.cell_state_size(hidden_size) if spec.has_cell_state else 0)
    return StateSizes(
        window=int(window), windows=windows,
        ngram_counts=tuple(ngram_table_entries(k, vocab, classes) for k in windows),
        time_delay_weights=tuple(time_delay_parameter_count(k, vocab, hidden_size, classes) for k in windows),
        rnn_weights=int(sum(p.size for p in rnn.parameters().values())),
        rnn_state=state, cell=cell,
    )


__all__ = ["LagSweep", "MODELS", "MODEL_TITLES", "StateSizes", "SweepConfig", "TrainedModel", "WindowModelError",
           "WindowTaskError", "check_window_task", "empty_sweep", "heldout_accuracy", "heldout_batch",
           "measure_lag_sweep", "state_sizes", "train_ngram", "train_rnn", "train_time_delay"]
