"""``rnnviz train --arch seq2seq`` and ``rnnviz check --arch seq2seq``: the encoder–decoder with attention
(rnnviz.session.seq2seq) without a window.

    rnnviz train --arch seq2seq --attention additive --task reverse --cell gru --bidirectional --out DIR

writes DIR/metrics.json (final_loss, heldout_accuracy per target token and heldout_sequence_accuracy
of greedy decoding, heldout_loss, seed, steps, arch, attention, ...), DIR/model.npz (the weights by
name and the settings as JSON text; np.load(..., allow_pickle=False) reads it), DIR/history.csv (the
training loss per step) and DIR/plots/ (the attention heatmap of view sample --sample under teacher
forcing and greedy decoding, and the training curves, as PNG, SVG and CSV). --cell is the encoder's
cell and, unless --decoder-cell names another, the decoder's.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.cli import (
    EXIT_CHECK_FAILED,
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    HISTORY_FILE,
    METRICS_FILE,
    PLOTS_DIR,
    UserError,
    _ctrl_c_deferred,
    check_table,
    task_params,
    train_with_progress,
)
from rnnviz.session.config import SessionConfig
from rnnviz.session.views.common import plural

WEIGHTS_FILE = "model.npz"


def _refuse_options_it_ignores(args: argparse.Namespace) -> None:
    """Options of the plain recurrent network that mean nothing here: one error line, not a silent no-op."""
    defaults = SessionConfig()
    ignored = [("--layers", args.layers != defaults.num_layers), ("--tbptt", bool(args.tbptt)),
               ("--scan", args.scan), ("--init", args.init != defaults.init),
               ("--init-scale", args.init_scale != defaults.init_scale),
               ("--carry-bias", args.carry_bias != defaults.carry_bias), ("--init-weights", bool(args.init_weights)),
               ("--window", args.window is not None), ("--data", args.data is not None),
               ("--optimizer", args.optimizer != "adam")]
    named = [option for option, given in ignored if given]
    if named:
        raise UserError(f"{', '.join(named)} {'does' if len(named) == 1 else 'do'} not apply to --arch seq2seq "
                        "(one-layer encoder and decoder, Adam, full BPTT); leave "
                        f"{'it' if len(named) == 1 else 'them'} out")


def seq2seq_settings(args: argparse.Namespace) -> Any:
    from rnnviz.session.config import ConfigError
    from rnnviz.session.seq2seq import Seq2SeqSettings

    _refuse_options_it_ignores(args)
    params = task_params(args)
    try:
        return Seq2SeqSettings(task=args.task, task_params=params, encoder_cell=args.cell,
                               decoder_cell=getattr(args, "decoder_cell", None) or args.cell,
                               hidden_size=args.hidden, bidirectional=args.bidirectional,
                               attention=args.attention or "none", lr=args.lr, batch_size=args.batch,
                               clip_norm=args.clip, seed=args.seed, dtype=args.dtype)
    except ConfigError as exc:
        names = {"hidden_size": "--hidden", "batch_size": "--batch", "clip_norm": "--clip"}
        name = str(exc).split(" ", 1)[0]
        raise UserError(f"{names.get(name, '--' + name.replace('_', '-'))}: {exc}") from None


def describe(settings: Any) -> str:
    encoder = f"{'bidirectional ' if settings.bidirectional else ''}{settings.encoder_cell}"
    return (f"encoder-decoder ({encoder} encoder, {settings.decoder_cell} decoder, hidden {settings.hidden_size}, "
            f"attention {settings.attention}) on {settings.task}")


def train_seq2seq(args: argparse.Namespace, out: Path) -> int:
    """The ARCHITECTURES entry of "seq2seq": train, evaluate greedily, write everything into ``out``."""
    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.session.seq2seq import Seq2SeqSession

    settings = seq2seq_settings(args)
    session = Seq2SeqSession(settings)
    session.eval_every = max(1, args.steps // 20)  # the accuracy curve: about 20 points
    pin_blas_threads()
    print(f"training {describe(settings)} for {plural(args.steps, 'step')}")
    run = train_with_progress(session, args.steps, sys.stderr)
    evaluation = session.evaluate()
    final_loss = run.last_loss if run.last_loss is not None else evaluation.loss
    with _ctrl_c_deferred("saving the run: Ctrl-C will stop rnnviz once the files are written") as pressed:
        metrics = write_outputs(session, out, final_loss, args, plots=not args.no_plots)
    print(f"held-out accuracy (greedy decoding): {metrics['heldout_accuracy']:.4f} per token "
          f"({metrics['heldout_tokens']} tokens), {metrics['heldout_sequence_accuracy']:.4f} per sequence "
          f"({metrics['heldout_samples']} sequences)")
    if metrics.get("attention_anti_diagonal") is not None:
        print(f"attention on the anti-diagonal: {metrics['attention_anti_diagonal']:.3f} (mean weight)")
    plots = "" if args.no_plots else f" and {out / PLOTS_DIR}/"
    print(f"wrote {out / WEIGHTS_FILE}, {out / HISTORY_FILE}, {out / METRICS_FILE}{plots}")
    code = EXIT_OK
    if session.diverged:
        print(f"training diverged at step {session.step + 1} (the loss or the gradients became NaN or infinite); "
              f"kept the weights of step {session.step}. Try a smaller learning rate (--lr {settings.lr / 10:g})",
              file=sys.stderr)
        code = EXIT_DIVERGED
    elif run.interrupted or pressed.is_set():
        print(f"interrupted: stopped after step {session.step} of {args.steps} and wrote the network as it was then",
              file=sys.stderr)
        code = EXIT_INTERRUPTED
    print(f"final loss: {final_loss:.6g}")
    return code


def write_outputs(session: Any, out: Path, final_loss: float, args: argparse.Namespace, plots: bool) -> dict[str, Any]:
    """metrics.json, model.npz, history.csv and (``plots``) plots/ into ``out``; returns the metrics."""
    from rnnviz.session.storage import describe_os_error

    evaluation = session.evaluations[-1][1]
    settings = session.settings
    metrics = {"final_loss": final_loss if math.isfinite(final_loss) else None, **evaluation.to_dict(),
               "arch": "seq2seq", "attention": settings.attention, "task": settings.task,
               "task_params": settings.task_params, "encoder_cell": settings.encoder_cell,
               "decoder_cell": settings.decoder_cell, "bidirectional": settings.bidirectional,
               "hidden_size": settings.hidden_size, "steps": session.step, "seed": settings.seed}
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.{WEIGHTS_FILE}.partial"  # beside the folder (its lock is there too):
        # a crash mid-write leaves no stray file inside it for the next run's check to refuse
        with open(staging, "wb") as handle:
            np.savez(handle, **session.weights_arrays())
        staging.replace(out / WEIGHTS_FILE)
        history = ["step,loss"] + [f"{step},{loss!r}" for step, loss in enumerate(session.losses, start=1)]
        (out / HISTORY_FILE).write_text("\n".join(history) + "\n", encoding="utf-8")
        if plots:
            from rnnviz.ui.pages.seq2seq import render_plots

            with np.errstate(all="ignore"):
                render_plots(session.frame(), out / PLOTS_DIR, sample=args.sample)
        (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"writing the results into {out} failed: {describe_os_error(exc)}") from None
    return metrics


def check_seq2seq(args: argparse.Namespace) -> int:
    """``rnnviz check --arch seq2seq``: the per-parameter gradient check; exit 1 when one fails."""
    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.session.seq2seq import Seq2SeqSession, gradient_check

    settings = seq2seq_settings(args)
    session = Seq2SeqSession(settings)
    pin_blas_threads()
    if args.steps:
        train_with_progress(session, args.steps, sys.stderr)
    print(f"gradient check of the {describe(settings)} at training step {session.step}, float64, full BPTT "
          "through the decoder, the attention and the encoder")
    rows = gradient_check(session, max_entries=args.entries)
    print(check_table(rows))
    failed = [row.name for row in rows if not row.passed]
    verdict = "FAIL" if failed else "PASS"
    print(f"{verdict}: {len(rows) - len(failed)} of {plural(len(rows), 'parameter')} pass (an entry passes when "
          f"|BPTT − FD| <= atol + rtol·|FD|; atol = {rows[0].atol:.1e}, rtol = {rows[0].rtol:g})")
    return EXIT_CHECK_FAILED if failed else EXIT_OK
