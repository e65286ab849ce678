"""``rnnviz train --arch bow-mlp``: a bag-of-words MLP trained beside the recurrent network the network
options describe (the same batches, the same optimizer settings; rnnviz.session.bag_of_words).

Writes DIR/metrics.json (the bag of words' final training loss, held-out accuracy overall and on the
task's order-sensitive sentences, and the RNN's figures under "rnn") and DIR/plots/: the accuracy
over training of both models and the same-words pair, as PNG, SVG and CSV. The bag-of-words model has
--bow-hidden tanh units (default 16, as on the window's page; 0: linear in the word counts). A task
without a bag of words (not a classification of words) is refused.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from rnnviz.cli import EXIT_DIVERGED, EXIT_OK, METRICS_FILE, PLOTS_DIR, Progress, session_config
from rnnviz.session.bag_of_words import (
    BOW_HIDDEN,
    NEGATION_EXAMPLE,
    SAME_WORDS_PAIR,
    BagOfWordsComparison,
    bow_model_name,
    check_bag_of_words,
    verdict_rows,
)
from rnnviz.tasks import make_task


def _figure(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN


def train_bow_mlp(args: argparse.Namespace, out: Path) -> int:
    from rnnviz.engine.threads import pin_blas_threads

    config = session_config(args)
    task = make_task(config.task, **config.task_params)
    check_bag_of_words(task)  # BagOfWordsError (a TaskError): one error line, exit 2
    bow_hidden = BOW_HIDDEN if args.bow_hidden is None else args.bow_hidden
    comparison = BagOfWordsComparison(config, bow_hidden=bow_hidden, task=task)
    pin_blas_threads()
    print(f"training a {bow_model_name(bow_hidden)} beside {config.cell} (hidden "
          f"{config.hidden_size}) on {config.task} for {args.steps} steps, {config.optimizer} lr {config.lr:g}")
    progress = Progress(args.steps, sys.stderr)
    comparison.train(args.steps, on_step=lambda step: progress.update(step, comparison.bow_loss, comparison.bow_grad_norm))
    progress.finish(comparison.step)
    metrics = _metrics(comparison, config.seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    written = f"{out / METRICS_FILE}"
    if not args.no_plots:
        from rnnviz.ui.panels.bag_of_words import render_comparison

        render_comparison(comparison.curves(), comparison.verdicts(SAME_WORDS_PAIR), out / PLOTS_DIR)
        written += f" and {out / PLOTS_DIR}/"
    _print_summary(metrics)
    print(f"wrote {written}")
    if comparison.diverged:
        print(f"the recurrent network diverged at step {comparison.step + 1}; try --clip 1 or a smaller --lr",
              file=sys.stderr)
    print(f"final loss: {comparison.bow_loss:.6g}")
    return EXIT_DIVERGED if comparison.diverged else EXIT_OK


def _metrics(comparison: BagOfWordsComparison, seed: int) -> dict[str, Any]:
    curves = comparison.curves()
    last = curves.last()
    pair = verdict_rows(comparison.verdicts(SAME_WORDS_PAIR))
    negation = verdict_rows(comparison.verdicts([NEGATION_EXAMPLE]))
    config = comparison.session.config
    return {
        "arch": "bow-mlp", "final_loss": _figure(comparison.bow_loss),
        "heldout_accuracy": _figure(last["bow_overall"]), "order_sensitive_accuracy": _figure(last["bow_order_sensitive"]),
        "heldout_samples": curves.samples, "order_sensitive_samples": curves.order_sensitive_samples,
        "steps": comparison.step, "seed": seed, "task": config.task, "bow_hidden": comparison.bow.config.hidden_size,
        "parameters": comparison.bow.num_params(), "optimizer": config.optimizer, "lr": config.lr,
        "rnn": {"cell": config.cell, "hidden": config.hidden_size, "parameters": comparison.session.model.num_params(),
                "final_loss": _figure(comparison.rnn_loss), "heldout_accuracy": _figure(last["rnn_overall"]),
                "order_sensitive_accuracy": _figure(last["rnn_order_sensitive"])},
        "same_words_pair": [dict(zip(pair[0], row)) for row in pair[1:]],
        "negation_example": dict(zip(negation[0], negation[1])),
    }


def _print_summary(metrics: dict[str, Any]) -> None:
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    rnn = metrics["rnn"]
    print(f"held-out accuracy: bag of words {show(metrics['heldout_accuracy'])}, {rnn['cell']} "
          f"{show(rnn['heldout_accuracy'])} ({metrics['heldout_samples']} sentences)")
    print(f"order-sensitive accuracy: bag of words {show(metrics['order_sensitive_accuracy'])}, {rnn['cell']} "
          f"{show(rnn['order_sensitive_accuracy'])} ({metrics['order_sensitive_samples']} sentences)")
    for row in metrics["same_words_pair"]:
        print(f"  “{row['sentence']}” ({row['label']}): {rnn['cell']} says {row['rnn_class']}, "
              f"bag of words says {row['bow_class']}")
    row = metrics["negation_example"]
    print(f"  “{row['sentence']}” ({row['label']}): {rnn['cell']} says {row['rnn_class']}, "
          f"bag of words says {row['bow_class']}")
