"""`rnnviz train --arch window-mlp|ngram --window K`: train a fixed-window model instead of an RNN.

    rnnviz train --arch ngram --window 3 --task lag_recall --param lag=2 --out runs/ngram
    rnnviz train --arch window-mlp --window 3 --task lag_recall --param lag=5 --hidden 32 --out runs/tdnn

Writes DIR/metrics.json (final_loss: the last training loss, for the n-gram its held-out cross-entropy;
heldout_loss, heldout_accuracy, window, seed, steps, arch, task, the model's size), DIR/history.csv
(the held-out accuracy and loss every 25 steps) and DIR/plots/window_accuracy.{png,svg,csv} (the same
as a plot, with the chance level), and for the time-delay network its weights as DIR/model.npz. The
training maths is rnnviz.session.window_memory's, the same the window's "Window vs memory" page runs.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from rnnviz.cli import EXIT_OK, HISTORY_FILE, METRICS_FILE, PLOTS_DIR, Progress, UserError, session_config
from rnnviz.engine.training import TrainConfig, TrainConfigError
from rnnviz.engine.window_models import WindowModelError
from rnnviz.session.budget import MemoryBudgetError, check_ngram_memory
from rnnviz.session.config import ENGINE_OPTIMIZERS
from rnnviz.session.window_memory import WindowRun, WindowTaskError, check_window_task, train_window_arch
from rnnviz.tasks import make_task

PLOT_NAME = "window_accuracy"
RNN_ONLY = {"init_weights": "--init-weights", "bidirectional": "--bidirectional", "scan": "--scan"}


def train_ngram(args: argparse.Namespace, out: Path) -> int:
    return _train(args, out)


def train_window_mlp(args: argparse.Namespace, out: Path) -> int:
    return _train(args, out)


def _train(args: argparse.Namespace, out: Path) -> int:
    for name, option in RNN_ONLY.items():
        if getattr(args, name, None):
            raise UserError(f"{option} is for the recurrent network (--arch rnn); --arch {args.arch} has no "
                            "recurrence: leave it out")
    config = session_config(args)  # validates the task parameters and the shared numeric options
    task = make_task(config.task, **config.task_params)
    try:
        check_window_task(task)
        if args.arch == "ngram":
            check_ngram_memory(args.window, task.input_size, task.output_size)
        train = TrainConfig(optimizer=ENGINE_OPTIMIZERS[config.optimizer], lr=config.lr,
                            clip_norm=config.clip_norm or None, batch_size=config.batch_size, seed=config.seed)
        print(f"training {_describe(args)} on {task.name} for {args.steps} steps")
        progress = StepProgress(args.steps, sys.stderr, with_loss=args.arch == "window-mlp")
        run = train_window_arch(args.arch, task, args.window, config.hidden_size, args.steps, train,
                                dtype=config.dtype, on_step=progress.update)
        progress.finish(run.trained.steps)
    except MemoryBudgetError as exc:
        raise UserError(exc.message({"window": "--window"})) from None
    except (WindowTaskError, WindowModelError, TrainConfigError) as exc:
        raise UserError(str(exc)) from None
    metrics = _write(args, out, run, task.name)
    print(f"held-out accuracy: {metrics['heldout_accuracy']:.4f} ({metrics['heldout_tokens']} tokens; "
          f"chance {run.curve.chance:.4f})")
    print(f"wrote {out / METRICS_FILE}, {out / HISTORY_FILE}" + ("" if args.no_plots else f" and {out / PLOTS_DIR}/"))
    print(f"final loss: {metrics['final_loss']:.6g}")
    return EXIT_OK


class StepProgress(Progress):
    """The RNN's progress lines, without a gradient norm (and, for the n-gram, without a loss: counting
    has none until the held-out measurement)."""

    def __init__(self, total: int, stream: TextIO, with_loss: bool) -> None:
        super().__init__(total, stream)
        self.with_loss = with_loss

    def update(self, step: int, loss: float, grad_norm: float = math.nan) -> None:  # type: ignore[override]
        self.done += 1
        now = time.perf_counter()
        what = f"loss {loss:.4g}  " if self.with_loss else ""
        line = f"step {self.done}/{self.total}  {what}{self.done / max(now - self.started, 1e-9):.0f} steps/s"
        self._show(line, now)


def _describe(args: argparse.Namespace) -> str:
    if args.arch == "ngram":
        return f"an n-gram of window {args.window} (counting {args.batch} sequences per step)"
    return f"a time-delay network of window {args.window} (hidden {args.hidden})"


def _write(args: argparse.Namespace, out: Path, run: WindowRun, task_name: str) -> dict:
    final_loss = run.trained.final_loss
    metrics = {
        "final_loss": final_loss if math.isfinite(final_loss) else None, "heldout_loss": run.heldout_loss,
        "heldout_accuracy": run.heldout_accuracy, "heldout_samples": run.heldout_samples,
        "heldout_tokens": run.heldout_tokens, "chance_accuracy": run.curve.chance, "window": args.window,
        "seed": args.seed, "steps": run.trained.steps, "arch": args.arch, "task": task_name,
        ("table_entries" if args.arch == "ngram" else "parameter_count"): run.size,
    }
    if args.arch == "window-mlp":
        metrics["hidden"] = args.hidden
    out.mkdir(parents=True, exist_ok=True)
    with open(out / HISTORY_FILE, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(run.curve.csv_rows())
    if args.arch == "window-mlp":
        parameters = run.trained.model.parameters()
        np.savez(out / "model.npz", **{name: array for name, array in parameters.items()})
    if not args.no_plots:
        from rnnviz.ui.pages.window_memory import render_accuracy_curve

        render_accuracy_curve(run.curve, out / PLOTS_DIR / PLOT_NAME)
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
