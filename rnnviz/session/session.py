"""A Session: the task, the model and its trainer, the training history and the fixed samples the
views show. Qt-free; the window's controller and the CLI drive the same object."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from rnnviz.engine.init import has_carry_gate, set_carry_gate_bias
from rnnviz.engine.model import ModelConfig, SequenceModel, StepResult
from rnnviz.engine.stepping import weight_labels
from rnnviz.engine.trace import grad_norm_per_step
from rnnviz.engine.training import TrainConfig, Trainer
from rnnviz.session.budget import check_memory
from rnnviz.session.config import ENGINE_OPTIMIZERS, SessionConfig
from rnnviz.session.history import HistoryLog
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.whatif import InputEdits, WeightEntry, checked_input, write_weight
from rnnviz.tasks import Task, TaskError, make_task
from rnnviz.tasks.base import Batch

VIEW_BATCH = 8  # fixed held-out samples the panels show (and the held-out loss is measured on)
VIEW_SEED_OFFSET = 7919  # the view batch never coincides with a training batch's random stream


@dataclass(frozen=True)
class Selection:
    """Which part of the network the panels follow."""

    sample: int = 0
    layer: int = 0
    direction: int = 0


@dataclass(frozen=True)
class StepOutcome:
    step: int
    loss: float
    grad_norm: float  # global norm before clipping
    clipped: bool
    finite: bool  # False: the step was rejected; the weights are the last finite ones


WEIGHT_LABELS = {"weight_ih": "W_ih", "weight_hh": "W_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}  # stacked cells


def refuse_encoder_decoder_task(task: Task) -> None:
    """A plain recurrent network has one output per input step (or one at the end): it cannot train a
    task whose target has its own length (rnnviz.session.seq2seq trains those)."""
    if task.io == "seq2seq":
        raise TaskError(f"{task.name} is an encoder–decoder task (its target has its own length): train it with "
                        f"`rnnviz train --arch seq2seq --task {task.name}`, or on the window's Encoder–decoder page")


class Session:
    def __init__(self, config: SessionConfig, task: Task | None = None) -> None:
        """``task``: an already built task for ``config`` (saves re-reading a data file)."""
        self.config = config
        self.task: Task = task if task is not None else make_task(config.task, **config.task_params)
        refuse_encoder_decoder_task(self.task)
        self._seq_len = self._sequence_length()
        self.check_memory()  # before the view batch, the network and its traces exist
        # the view batch as generated, and as the panels inspect it: with the what-if input edits written in
        self.original_view_batch: Batch = self.task.batch(VIEW_BATCH, np.random.default_rng(config.seed + VIEW_SEED_OFFSET))
        self.input_edits = InputEdits()
        self.view_batch: Batch = self.original_view_batch
        self.model = SequenceModel(self._model_config())
        if config.carry_bias and has_carry_gate(config.cell):
            set_carry_gate_bias(self.model.core, config.carry_bias)
        self.trainer = Trainer(self.model, self._train_config())
        self.history = HistoryLog()
        baseline = self.task.loss_baseline()  # once: the text task's counts the whole corpus
        self.loss_baseline = None if baseline is None else (baseline.value, baseline.label)
        self.diverged = False
        self._rate = _RateMeter()
        self.rewind = None  # optional rnnviz.session.rewind.Rewind: weights recorded after each step

    # ------------------------------------------------------------------ configuration

    def _model_config(self) -> ModelConfig:
        c = self.config
        return ModelConfig(
            mode=c.cell, input_size=self.task.input_size, hidden_size=c.hidden_size,
            output_size=self.task.output_size, num_layers=c.num_layers, bidirectional=c.bidirectional,
            io=self.task.io, loss=self.task.loss, init=c.init, init_scale=c.init_scale, dtype=c.dtype,
            seed=c.seed, scan=c.scan,
        )

    def _train_config(self) -> TrainConfig:
        c = self.config
        return TrainConfig(
            optimizer=ENGINE_OPTIMIZERS[c.optimizer], lr=c.lr, clip_norm=c.clip_norm or None, clip_value=c.clip_value or None,
            tbptt=c.tbptt or None, batch_size=c.batch_size, seed=c.seed,
        )

    def check_memory(self, steps: int = 0, config: SessionConfig | None = None) -> int:
        """Bytes training (``config``, default this session's) for ``steps`` more steps needs; raises
        MemoryBudgetError, naming the setting to lower, when that is more than rnnviz may use."""
        return check_memory(config or self.config, self.task, self._seq_len, steps=steps, view_batch=VIEW_BATCH)

    def _sequence_length(self) -> int:
        """Timesteps per sequence: the task's seq_len setting, else the length of one sample."""
        seq_len = getattr(self.task, "values", {}).get("seq_len")
        if isinstance(seq_len, int):
            return seq_len
        return self.task.batch(1, np.random.default_rng(0)).seq_len

    def update_training(self, config: SessionConfig) -> None:
        """Apply training settings (lr, clipping, tbptt, optimizer, batch size, the parallel scan) from
        the next step on, keeping the weights. Architecture changes need a new Session."""
        if config.architecture() != self.config.architecture():
            raise ValueError("the architecture changed: build a new Session (this resets the weights)")
        if (config.batch_size, config.optimizer) != (self.config.batch_size, self.config.optimizer):
            self.check_memory(config=config)
        if config.scan != self.config.scan:  # the same states either way: only how they are computed changes
            self.model.config = replace(self.model.config, scan=config.scan)
            self.model.core.scan = config.scan
        self.config = config
        fresh = self._train_config()
        for name in ("optimizer", "lr", "clip_norm", "clip_value", "tbptt", "batch_size"):
            setattr(self.trainer.config, name, getattr(fresh, name))

    @property
    def step(self) -> int:
        return self.trainer.steps

    def frozen_copy(self) -> "Session":
        """A private Session with the same settings, task, view batch and a copy of the weights: safe
        to inspect or step while this one trains in another thread. (Copied while a step is being
        applied, the weights may mix two consecutive steps; a picture can afford that.)"""
        copy = Session(self.config, task=self.task)
        copy.model.load_state_dict(self.model.state_dict())
        copy.trainer.steps = self.step
        copy.input_edits, copy.view_batch = self.input_edits, self.view_batch
        return copy

    # ------------------------------------------------------------------ what-if edits (rnnviz.session.whatif)

    def edit_input(self, sample: int, timestep: int, values: np.ndarray | None) -> np.ndarray | None:
        """Override x_t of view-batch ``sample`` with ``values`` (None: back to the original input); the
        panels inspect the edited batch, training never sees it. Returns the override it replaced (None:
        there was none). A WhatIfError (nothing changed) for padding, a wrong size, absurd values."""
        previous = self.input_edits.get(sample, timestep)
        if values is not None:
            values = checked_input(self.original_view_batch, sample, timestep, values, self.task.info().token_inputs)
        elif not 0 <= sample < VIEW_BATCH:
            checked_input(self.original_view_batch, sample, timestep, [], False)  # says what is wrong
        self.input_edits = self.input_edits.with_edit(sample, timestep, values)
        self.view_batch = self.input_edits.apply(self.original_view_batch)
        return previous

    def edit_weight(self, entry: WeightEntry, value: float) -> float:
        """Write one entry of a live parameter (training continues from it); returns the old value."""
        return write_weight(self.model.parameters(), entry, value)

    # ------------------------------------------------------------------ training

    def train_step(self) -> StepOutcome:
        """One optimizer step on a fresh training batch. A non-finite loss or gradient changes nothing,
        marks the session diverged and returns ``finite=False``."""
        batch = self.task.batch(self.config.batch_size, self.trainer.rng)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned about
            report = self.trainer.step(batch.inputs, batch.targets, batch.mask)
        if not report.finite:
            self.diverged = True
            return StepOutcome(self.step, float(report.loss), float(report.grad_norm), report.clipped, False)
        self.diverged = False
        self.history.append(self.step, report.loss, report.grad_norm, report.clipped)
        if self.rewind is not None:
            self.rewind.record(self.step, self.model.parameters(), len(self.history))
        self._rate.tick()
        return StepOutcome(self.step, float(report.loss), float(report.grad_norm), report.clipped, True)

    def train(self, steps: int, on_step=None, heldout_every: int = 25) -> StepOutcome | None:
        """Train up to ``steps`` steps; stops early at the first non-finite step. Returns the last outcome."""
        outcome = None
        for _ in range(steps):
            outcome = self.train_step()
            if not outcome.finite:
                break
            if self.step % heldout_every == 0:
                self.record_heldout()
            if on_step is not None:
                on_step(outcome)
        return outcome

    def record_heldout(self) -> float:
        batch = self.original_view_batch  # the held-out curve never measures what-if inputs
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a diverging net's loss is inf/NaN
            loss = self.model.loss(batch.inputs, batch.targets, batch.mask)
        self._note_heldout(loss)
        return loss

    def _note_heldout(self, loss: float) -> None:
        """Record the view batch's loss once per training step (it is the held-out curve)."""
        heldout = self.history.heldout
        if self.step > 0 and np.isfinite(loss) and (not len(heldout) or heldout[-1, 0] != self.step):
            self.history.append_heldout(self.step, loss)

    def inspect(self) -> StepResult:
        """Forward and BPTT on the view batch without changing anything: what the panels draw."""
        batch = self.view_batch
        with np.errstate(over="ignore", invalid="ignore"):
            return self.model.loss_and_grads(batch.inputs, batch.targets, batch.mask,
                                             tbptt=self.config.tbptt or None)

    # ------------------------------------------------------------------ views

    def clamp(self, selection: Selection) -> Selection:
        return Selection(
            sample=min(max(selection.sample, 0), VIEW_BATCH - 1),
            layer=min(max(selection.layer, 0), self.config.num_layers - 1),
            direction=min(max(selection.direction, 0), self.model.config.num_directions - 1),
        )

    def snapshot(self, selection: Selection = Selection(), result: StepResult | None = None) -> Snapshot:
        """Copy what the panels need for ``selection`` out of a view-batch inspection."""
        sel = self.clamp(selection)
        if result is None:
            result = self.inspect()
            if not self.input_edits:  # an edited view batch is not the held-out set
                self._note_heldout(result.loss)
        s, layer, direction = sel.sample, sel.layer, sel.direction
        forward = result.trace.layer(layer, direction)
        backward = result.core_grads.layer(layer, direction)
        inputs = self.view_batch.inputs[:, s]  # (T, I)
        mask = self.view_batch.mask[:, s]  # (T,)
        d_memory = self.model.core.cell.memory_gradient(backward)[:, s]  # (T, H) dL/dh_t (LRU, selective: dL/dc_t)
        return Snapshot(
            step=self.step, cell=self.config.cell, task_name=self.task.name,
            layer=layer, direction=direction, sample=s,
            history=self.history.to_snapshot(),
            inputs=inputs.copy(), input_names=tuple(self.task.info().input_names),
            timestep_labels=tuple(self.task.timestep_labels(inputs, mask)),
            targets=self._display_targets(s), predictions=self._display_predictions(result, s),
            output_names=tuple(self.task.info().output_names),
            mask=mask.copy(), io=self.task.io,
            hidden=forward.hidden[:, s].astype(np.float64),
            gates=self._gates(forward, s),
            grad_norm_per_step=grad_norm_per_step(d_memory),
            weights=self._layer_arrays(self.model.parameters(), layer, direction),
            weight_grads=self._layer_arrays(result.grads, layer, direction),
            loss_kind=self.task.loss, token_inputs=self.task.info().token_inputs,
            loss=float(self.history.train[-1, 1]) if len(self.history) else float("nan"),
            steps_per_second=self._rate.rate(), clip_count=self.history.clip_count,
            layer_inputs=forward.inputs[:, s].astype(np.float64), initial_hidden=forward.h0[s].astype(np.float64),
            initial_cell_state=None if forward.c0 is None else forward.c0[s].astype(np.float64),
            memory_grad=self._per_unit(np.asarray(d_memory)[:, None], 0, forward.hidden.shape[-1]),
            edited_timesteps=self.input_edits.timesteps(s),
            loss_baseline=self.loss_baseline,
        )

    def refresh_snapshot(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with the training history and counters brought up to date, without a new
        inspection of the view batch (its arrays are shared, not copied: views can tell it by them)."""
        return replace(
            snapshot, step=self.step, history=self.history.to_snapshot(),
            loss=float(self.history.train[-1, 1]) if len(self.history) else float("nan"),
            steps_per_second=self._rate.rate(), clip_count=self.history.clip_count,
        )

    @staticmethod
    def _per_unit(array: np.ndarray | None, s: int, hidden_size: int) -> np.ndarray | None:
        """Sample ``s`` of a (T, B, R) array in float64 when it has at most 2 numbers per unit (the
        explanations spell those out; the selective layer's N per channel would only make frames larger)."""
        if array is None or array.shape[-1] > 2 * hidden_size:
            return None
        return array[:, s].astype(np.float64)

    def _gates(self, forward, s: int) -> dict[str, np.ndarray]:
        gates = {name: g[:, s].astype(np.float64) for name, g in forward.gates.items()}
        if forward.cell_state is not None:
            gates["cell_state"] = forward.cell_state[:, s].astype(np.float64)
        return gates

    def _layer_arrays(self, arrays: dict[str, np.ndarray], layer: int, direction: int) -> dict[str, np.ndarray]:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        picked = {label: np.array(arrays[kind + suffix], dtype=np.float64)
                  for kind, label in weight_labels(self.config.cell).items()}
        picked["W_out"] = np.array(arrays["head.weight"], dtype=np.float64)
        picked["b_out"] = np.array(arrays["head.bias"], dtype=np.float64)
        return picked

    def _display_targets(self, s: int) -> np.ndarray:
        targets = self.view_batch.targets
        picked = targets[s] if self.task.io == "many_to_one" else targets[:, s]
        if self.task.loss == "cross_entropy":  # class ids -> one-hot rows
            return np.eye(self.task.output_size)[np.asarray(picked, dtype=int)]
        return np.array(picked, dtype=np.float64)

    def _display_predictions(self, result: StepResult, s: int) -> np.ndarray:
        picked = result.predictions[s] if self.task.io == "many_to_one" else result.predictions[:, s]
        return np.array(picked, dtype=np.float64)


class _RateMeter:
    """Steps per second over the last couple of seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self.times: list[float] = []

    def tick(self) -> None:
        now = time.perf_counter()
        self.times.append(now)
        while self.times and now - self.times[0] > self.window:
            self.times.pop(0)

    def rate(self) -> float:
        if len(self.times) < 2:
            return 0.0
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0
