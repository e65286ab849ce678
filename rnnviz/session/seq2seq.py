"""Training and reading an encoder–decoder (rnnviz.engine.seq2seq) on an encoder–decoder task, Qt-free:
the window's Encoder–decoder page and ``rnnviz train --arch seq2seq`` share it.

    session = Seq2SeqSession(Seq2SeqSettings(task="reverse", attention="additive"))
    session.train(500)                      # Adam with gradient-norm clipping, teacher forcing
    result = session.evaluate()             # greedy decoding on a held-out batch: per-token and
                                            # whole-sequence accuracy
    view = session.view(sample=0)           # what the page draws: the attention heatmap and its tokens

Accuracy is measured on greedy decoding (each guess fed back), not under teacher forcing: a target
token counts as right when the decoder wrote it at its step before writing its end token; a sequence
counts when every token and the end token are right.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from rnnviz.engine.cells import cell_names
from rnnviz.engine.clipping import clip_grad_norm, global_norm
from rnnviz.engine.optim import make_optimizer
from rnnviz.engine.seq2seq import ATTENTIONS, Seq2Seq, Seq2SeqConfig
from rnnviz.session.config import LIMITS, ConfigError
from rnnviz.tasks import TASKS, TaskError, make_task
from rnnviz.tasks.base import PAD_LABEL, Seq2SeqBatch
from rnnviz.tasks.seq2seq import Seq2SeqTask

VIEW_SAMPLES = 8  # the fixed samples the page shows
VIEW_SEED_OFFSET = 7919  # as rnnviz.session.session: never one of the training batches
EVAL_SAMPLES = 512
EVAL_SEED_OFFSET = 104_729  # as rnnviz.session.evaluation: the held-out batch
MAX_STEPS = 10_000_000
LENGTHS_DEFAULT = (5, 10, 20)  # the length experiment's source lengths


def encoder_decoder_tasks() -> tuple[str, ...]:
    return tuple(name for name, task in TASKS.items() if task.io == "seq2seq")


@dataclass(frozen=True)
class Seq2SeqSettings:
    """Everything a person chooses for an encoder–decoder run; validated on creation (ConfigError)."""

    task: str = "reverse"
    task_params: dict[str, Any] = field(default_factory=dict)
    encoder_cell: str = "gru"
    decoder_cell: str = "gru"
    hidden_size: int = 32  # the encoder's per direction; the decoder's is twice that when bidirectional
    bidirectional: bool = True
    attention: str = "additive"
    lr: float = 0.005
    batch_size: int = 32
    clip_norm: float = 1.0  # 0 = off
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("encoder_cell", "decoder_cell"):
            if getattr(self, name) not in cell_names():
                raise ConfigError(f"{name} must be one of {', '.join(cell_names())}; got {getattr(self, name)!r}")
        if self.attention not in ATTENTIONS:
            raise ConfigError(f"attention must be one of {', '.join(ATTENTIONS)}; got {self.attention!r}")
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false, got {self.bidirectional!r}")
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype must be float32 or float64; got {self.dtype!r}")
        if not isinstance(self.task_params, dict):
            raise ConfigError("task_params must be a mapping of parameter names to values")
        for name in ("hidden_size", "lr", "batch_size", "clip_norm", "seed"):
            low, high = LIMITS[name]
            value = getattr(self, name)
            whole = name in ("hidden_size", "batch_size", "seed")
            if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high:
                raise ConfigError(f"{name} must be {'a whole number' if whole else 'a number'} between "
                                  f"{low:g} and {high:g}, got {value!r}")

    def replace(self, **changes: Any) -> "Seq2SeqSettings":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Seq2SeqSettings":
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(f"unknown encoder-decoder setting(s) {', '.join(unknown)}")
        return cls(**values)


def build_task(settings: Seq2SeqSettings) -> Seq2SeqTask:
    """The settings' task; a TaskError naming the encoder–decoder tasks when it is not one of them."""
    task = make_task(settings.task, **settings.task_params)
    if task.io != "seq2seq":
        raise TaskError(f"{task.name} is not an encoder–decoder task (its output is aligned with its input): "
                        f"train it with --arch rnn; the encoder–decoder tasks are {', '.join(encoder_decoder_tasks())}")
    return task  # type: ignore[return-value]


@dataclass(frozen=True)
class Seq2SeqStep:
    step: int
    loss: float
    grad_norm: float  # before clipping
    finite: bool  # False: the step was rejected and the weights are the last finite ones


@dataclass(frozen=True)
class Seq2SeqEvaluation:
    """Held-out results of greedy decoding (and the teacher-forced loss)."""

    loss: float  # teacher-forced cross-entropy
    token_accuracy: float  # right target tokens (end token included) / all target tokens
    sequence_accuracy: float  # sequences decoded exactly
    samples: int
    tokens: int
    anti_diagonal: float | None  # reverse with attention: mean weight on source position n - 1 - t

    def to_dict(self) -> dict[str, Any]:
        return {"heldout_loss": self.loss if math.isfinite(self.loss) else None,
                "heldout_accuracy": self.token_accuracy, "heldout_sequence_accuracy": self.sequence_accuracy,
                "heldout_samples": self.samples, "heldout_tokens": self.tokens,
                "attention_anti_diagonal": self.anti_diagonal}


def greedy_scores(tokens: np.ndarray, decoded_mask: np.ndarray, targets: np.ndarray,
                  target_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per target token (T_tgt, B) right or not, and per sequence (B,) all right: a token is right when
    the decoding wrote it at its step before its own end token. tokens/decoded_mask (T_out, B)."""
    T, B = targets.shape
    written = np.full((T, B), -1, dtype=np.int64)  # -1: nothing written there
    steps = min(T, tokens.shape[0])
    written[:steps] = np.where(decoded_mask[:steps] != 0, tokens[:steps], -1)
    real = target_mask != 0
    right = (written == targets) & real
    return right, np.all(right | ~real, axis=0)


def anti_diagonal_weight(weights: np.ndarray, source_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """Mean attention weight a_(t, n-1-t) over every sample and target step t < n (n the source length;
    the end token's step left out): 1 when each output step looks only at its mirror position.
    weights (T_tgt, B, T_src)."""
    lengths = source_mask.sum(axis=0).astype(int)  # (B,)
    picked = []
    for b, n in enumerate(lengths):
        steps = min(n, int(target_mask[:, b].sum()) - 1, weights.shape[0])
        t = np.arange(steps)
        picked.append(weights[t, b, n - 1 - t])
    values = np.concatenate(picked) if picked else np.zeros(0)
    return float(values.mean()) if values.size else float("nan")


@dataclass(frozen=True)
class Seq2SeqView:
    """What the page draws for one sample: tokens on both axes, the attention of teacher forcing (rows:
    the target tokens) and of greedy decoding (rows: what the decoder wrote), and the curves."""

    step: int
    attention_kind: str  # "none", "additive", "dot"
    source: tuple[str, ...]  # the sample's real source tokens
    target: tuple[str, ...]  # the real target tokens, the end token last
    decoded: tuple[str, ...]  # greedy decoding, up to and including its end token
    forced_attention: np.ndarray | None  # (len(target), len(source)); None without attention
    greedy_attention: np.ndarray | None  # (len(decoded), len(source))
    source_text: str
    target_text: str
    decoded_text: str
    correct: bool  # the decoding equals the target
    loss_steps: np.ndarray  # (N,) training steps
    losses: np.ndarray  # (N,)
    eval_steps: np.ndarray  # (M,) steps of the held-out evaluations
    token_accuracy: np.ndarray  # (M,)
    sequence_accuracy: np.ndarray  # (M,)


@dataclass(frozen=True)
class Seq2SeqFrame:
    step: int
    views: tuple[Seq2SeqView, ...]  # one per view sample (they share the curve arrays)
    evaluation: Seq2SeqEvaluation | None  # the latest held-out evaluation
    diverged: bool


class Seq2SeqSession:
    """An encoder–decoder, its task, optimizer (Adam, PyTorch's rule) and history."""

    def __init__(self, settings: Seq2SeqSettings) -> None:
        self.settings = settings
        self.task = build_task(settings)
        info = self.task.info()
        self.model = Seq2Seq(Seq2SeqConfig(
            settings.encoder_cell, settings.decoder_cell, len(info.input_names), len(info.output_names),
            hidden_size=settings.hidden_size, bidirectional=settings.bidirectional, attention=settings.attention,
            dtype=settings.dtype, seed=settings.seed))
        self.optimizer = make_optimizer("adam", self.model.parameters(), settings.lr)
        self.rng = np.random.default_rng(settings.seed)  # training batches
        self.view_batch: Seq2SeqBatch = self.task.batch(VIEW_SAMPLES, np.random.default_rng(settings.seed + VIEW_SEED_OFFSET))
        self.step = 0
        self.losses: list[float] = []
        self.evaluations: list[tuple[int, Seq2SeqEvaluation]] = []
        self.diverged = False
        self.eval_every: int | None = None  # train() evaluates every this many steps (None: never)
        self.eval_samples = 256

    # ------------------------------------------------------------------ training

    def train_step(self) -> Seq2SeqStep:
        """One batch: teacher-forced loss, BPTT, clipping, Adam. A non-finite loss or gradient changes
        nothing and sets ``diverged``."""
        batch = self.task.batch(self.settings.batch_size, self.rng)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            grads = self.model.loss_and_grads(batch.source, batch.decoder_inputs, batch.targets, batch.source_mask,
                                              batch.target_mask)
            norm = global_norm(grads.params)
            if not (math.isfinite(grads.loss) and math.isfinite(norm)):
                self.diverged = True
                return Seq2SeqStep(self.step, grads.loss, norm, False)
            if self.settings.clip_norm:
                clip_grad_norm(grads.params, self.settings.clip_norm)
            self.optimizer.step(grads.params)
        self.step += 1
        self.losses.append(grads.loss)
        return Seq2SeqStep(self.step, grads.loss, norm, True)

    def train(self, steps: int, on_step: Callable[[Seq2SeqStep], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> int:
        """Up to ``steps`` steps (fewer when it diverges or ``cancelled()`` says so); returns steps done."""
        done = 0
        for _ in range(int(steps)):
            if cancelled is not None and cancelled():
                break
            outcome = self.train_step()
            if outcome.finite and self.eval_every and self.step % self.eval_every == 0:
                self.evaluate(self.eval_samples)
            if on_step is not None:
                on_step(outcome)
            if not outcome.finite:
                break
            done += 1
        return done

    # ------------------------------------------------------------------ reading

    def evaluate(self, samples: int = EVAL_SAMPLES, record: bool = True) -> Seq2SeqEvaluation:
        """Greedy decoding on the held-out batch (the same for every run with this seed)."""
        batch = self.task.batch(samples, np.random.default_rng(self.settings.seed + EVAL_SEED_OFFSET))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = self.model.loss(batch.source, batch.decoder_inputs, batch.targets, batch.source_mask,
                                   batch.target_mask)
            decoding = self.model.greedy(batch.source, batch.source_mask, self.task.target_len, self.task.end_token)
        right, exact = greedy_scores(decoding.tokens, decoding.mask, batch.targets, batch.target_mask)
        tokens = int(batch.target_mask.sum())
        anti_diagonal = None
        if self.task.name == "reverse" and self.model.attention is not None:
            forced = self.model.forward(batch.source, batch.decoder_inputs, batch.source_mask, batch.target_mask)
            anti_diagonal = anti_diagonal_weight(forced.attention_weights, batch.source_mask, batch.target_mask)
        result = Seq2SeqEvaluation(float(loss), float(right.sum() / tokens), float(exact.mean()), samples, tokens,
                                   anti_diagonal)
        if record:
            self.evaluations.append((self.step, result))
        return result

    def view(self, sample: int = 0) -> Seq2SeqView:
        """The page's view state of view sample ``sample`` (0..7) with the current weights."""
        return self.views()[int(np.clip(sample, 0, VIEW_SAMPLES - 1))]

    def views(self) -> tuple[Seq2SeqView, ...]:
        """The view state of every view sample, from one teacher-forced pass and one greedy decoding."""
        batch, task = self.view_batch, self.task
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            forced = self.model.forward(batch.source, batch.decoder_inputs, batch.source_mask, batch.target_mask)
            decoding = self.model.greedy(batch.source, batch.source_mask, task.target_len, task.end_token)
        loss_steps, losses = loss_curve(self.losses)
        curves = {"loss_steps": loss_steps, "losses": losses,
                  "eval_steps": np.array([s for s, _ in self.evaluations], dtype=np.int64),
                  "token_accuracy": np.array([e.token_accuracy for _, e in self.evaluations], dtype=np.float64),
                  "sequence_accuracy": np.array([e.sequence_accuracy for _, e in self.evaluations], dtype=np.float64)}
        return tuple(self._sample_view(sample, forced.attention_weights, decoding, curves)
                     for sample in range(batch.batch_size))

    def _sample_view(self, sample: int, forced_weights: np.ndarray | None, decoding: Any,
                     curves: dict[str, np.ndarray]) -> Seq2SeqView:
        batch, task = self.view_batch, self.task
        n_source = int(batch.source_mask[:, sample].sum())
        n_target = int(batch.target_mask[:, sample].sum())
        n_decoded = int(decoding.mask[:, sample].sum())
        source = task.source_labels(batch, sample)[:n_source]
        target = task.target_labels(batch.targets[:n_target, sample])
        decoded = task.target_labels(decoding.tokens[:n_decoded, sample])
        greedy_weights = decoding.trace.attention_weights
        return Seq2SeqView(
            step=self.step, attention_kind=self.settings.attention, source=tuple(source), target=tuple(target),
            decoded=tuple(decoded),
            forced_attention=None if forced_weights is None else forced_weights[:n_target, sample, :n_source].copy(),
            greedy_attention=None if greedy_weights is None else greedy_weights[:n_decoded, sample, :n_source].copy(),
            source_text=_text(task, source), target_text=_text(task, target), decoded_text=_text(task, decoded),
            correct=tuple(decoded) == tuple(target), **curves)

    def frame(self) -> "Seq2SeqFrame":
        """Everything the page draws now (sent from the training process)."""
        latest = self.evaluations[-1][1] if self.evaluations else None
        return Seq2SeqFrame(self.step, self.views(), latest, self.diverged)

    # ------------------------------------------------------------------ files

    def weights_arrays(self) -> dict[str, np.ndarray]:
        """The weights by name plus ``settings`` (JSON text): for ``np.savez`` (loads with allow_pickle=False)."""
        import json

        arrays = self.model.state_dict()
        arrays["settings"] = np.array(json.dumps(self.settings.to_dict()))
        return arrays

    def load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict({k: v for k, v in arrays.items() if k != "settings"})


CURVE_POINTS = 1000  # the loss curve a view carries: at most this many points, whatever the steps


def loss_curve(losses: list[float], most: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(steps, losses) of the training loss, steps 1..N; past ``most`` steps, the mean of each run of
    ceil(N / most) consecutive steps at that run's last step (a frame stays small however long it trains)."""
    values = np.asarray(losses, dtype=np.float64)
    if values.size <= most:
        return np.arange(1, values.size + 1), values
    per_point = -(-values.size // most)
    points = values.size // per_point
    means = values[:points * per_point].reshape(points, per_point).mean(axis=1)
    steps = np.arange(1, points + 1) * per_point
    rest = values[points * per_point:]
    if rest.size:
        means, steps = np.append(means, rest.mean()), np.append(steps, values.size)
    return steps, means


def _text(task: Seq2SeqTask, labels: list[str]) -> str:
    return task.text([label for label in labels if label != PAD_LABEL])


# ---------------------------------------------------------------------- background work (the page)

FRAME_SECONDS = 0.1  # at most ~10 frames a second leave the training process
STEP_CHUNK = 5  # steps between two looks at the page's messages


def train_live(work: Any, session: Seq2SeqSession, steps: int, eval_every: int = 100,
               eval_samples: int = 256) -> tuple[Seq2SeqSession, Seq2SeqFrame]:
    """Background work (rnnviz.session.background.WorkContext first): train ``session`` for up to
    ``steps`` steps, evaluating every ``eval_every`` steps, offering a frame about ten times a second;
    the message "stop" (pause) or a cancel ends it early. Returns the session (to resume from) and
    its last frame."""
    target = session.step + int(steps)
    last_frame = 0.0
    last_eval_step = session.evaluations[-1][0] if session.evaluations else -1
    while session.step < target and not session.diverged:
        if "stop" in work.receive() or work.cancelled:
            break
        session.train(min(STEP_CHUNK, target - session.step))
        if session.step - last_eval_step >= eval_every or last_eval_step < 0:
            session.evaluate(eval_samples)
            last_eval_step = session.step
        if time.monotonic() - last_frame >= FRAME_SECONDS and work.progress_wanted():
            work.progress(session.frame())
            last_frame = time.monotonic()
    if not session.evaluations or session.evaluations[-1][0] != session.step:
        session.evaluate(eval_samples)
    return session, session.frame()


def run_length_experiment(work: Any, settings: Seq2SeqSettings, lengths=LENGTHS_DEFAULT, attentions=ATTENTIONS,
                          seeds=(0,), steps: int = 1000, samples: int = 256) -> "LengthExperiment":
    """Background work: ``length_experiment`` with its progress and cancel wired to ``work``."""
    return length_experiment(settings, lengths, attentions, seeds, steps, samples, progress=work.progress,
                             cancelled=lambda: work.cancelled)


# ---------------------------------------------------------------------- the length experiment



@dataclass(frozen=True)
class LengthRun:
    length: int
    attention: str
    seed: int
    steps: int
    final_loss: float
    token_accuracy: float
    sequence_accuracy: float
    anti_diagonal: float | None
    seconds: float


@dataclass(frozen=True)
class LengthExperiment:
    """Accuracy of greedy decoding against the source length, per attention kind, over seeds."""

    runs: tuple[LengthRun, ...]

    def table(self) -> list[dict[str, Any]]:
        """One row per (length, attention): means and the per-seed values."""
        rows = []
        keys = sorted({(r.length, r.attention) for r in self.runs}, key=lambda k: (k[0], ATTENTIONS.index(k[1])))
        for length, attention in keys:
            runs = [r for r in self.runs if (r.length, r.attention) == (length, attention)]
            rows.append({"length": length, "attention": attention, "seeds": [r.seed for r in runs],
                         "steps": runs[0].steps,
                         "sequence_accuracy": float(np.mean([r.sequence_accuracy for r in runs])),
                         "token_accuracy": float(np.mean([r.token_accuracy for r in runs])),
                         "per_seed_sequence_accuracy": [r.sequence_accuracy for r in runs],
                         "anti_diagonal": (None if runs[0].anti_diagonal is None
                                           else float(np.mean([r.anti_diagonal for r in runs])))})
        return rows


def length_experiment(settings: Seq2SeqSettings, lengths=LENGTHS_DEFAULT, attentions=ATTENTIONS, seeds=(0,),
                      steps: int = 1000, samples: int = 256,
                      progress: Callable[[LengthExperiment], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> LengthExperiment:
    """Train one encoder–decoder per (length, attention, seed) for ``steps`` steps on ``settings``'s task
    with every sequence ``length`` long (``seq_len``, fixed lengths), and decode a held-out batch
    greedily. Everything else is ``settings``'. ``progress`` gets the runs so far after each run;
    ``cancelled()`` stops between steps (the runs finished so far are returned)."""
    runs: list[LengthRun] = []
    for length in lengths:
        for attention in attentions:
            for seed in seeds:
                if cancelled is not None and cancelled():
                    return LengthExperiment(tuple(runs))
                params = {**settings.task_params, "seq_len": int(length), "lengths": "fixed"}
                run_settings = settings.replace(task_params=params, attention=attention, seed=int(seed))
                started = time.perf_counter()
                session = Seq2SeqSession(run_settings)
                session.train(steps, cancelled=cancelled)
                if session.step < steps and not session.diverged:
                    return LengthExperiment(tuple(runs))  # cancelled half-way: not a result
                result = session.evaluate(samples)
                runs.append(LengthRun(int(length), attention, int(seed), session.step,
                                      session.losses[-1] if session.losses else float("nan"),
                                      result.token_accuracy, result.sequence_accuracy, result.anti_diagonal,
                                      time.perf_counter() - started))
                if progress is not None:
                    progress(LengthExperiment(tuple(runs)))
    return LengthExperiment(tuple(runs))


# ---------------------------------------------------------------------- the gradient check


def gradient_check(session: Seq2SeqSession, max_entries: int = 40, seed: int = 0, eps: float = 1e-6) -> list[Any]:
    """BPTT's gradient of every parameter (encoder, decoder, attention, output layer) against central
    finite differences of the teacher-forced loss on the view batch, in float64 (a float64 copy of the
    weights): one ``rnnviz.session.checks.CheckRow`` per parameter, with the allowance and analysis of
    rnnviz.engine.gradcheck."""
    from rnnviz.engine.gradcheck import compare_gradients
    from rnnviz.engine.threads import blas_threads
    from rnnviz.session.checks import CheckRow

    model = session.model.astype(np.float64)
    batch = session.view_batch
    arguments = (batch.source, batch.decoder_inputs, batch.targets, batch.source_mask, batch.target_mask)
    with blas_threads(1):
        grads = model.loss_and_grads(*arguments)
        result = compare_gradients(model.parameters(), lambda: model.loss(*arguments), grads.params, eps,
                                   max_entries, seed)
    return [CheckRow.from_check(p) for p in result.params]
