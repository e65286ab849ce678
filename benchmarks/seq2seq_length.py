"""Accuracy of an encoder–decoder against sequence length, without attention and with it (not a speed
benchmark: an experiment, measured with seeds).

    python benchmarks/seq2seq_length.py [--task reverse] [--lengths 5 10 20] [--seeds 0 1 2] [--steps 1000]
                                        [--cell gru] [--hidden 32] [--unidirectional]

For every length, attention kind (none, additive, dot) and seed it trains a fresh network for --steps
steps (Adam, lr 0.005, batch 32, clipping 1) on sequences of exactly that length and decodes 512
held-out sequences greedily (rnnviz.session.seq2seq.length_experiment). Prints one line per run, a
table of the means, and a final JSON line with every figure. On `reverse` it also prints the mean
attention weight on the anti-diagonal (1 = each output step looks only at its mirror position).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnviz.engine.threads import pin_blas_threads  # noqa: E402
from rnnviz.session.seq2seq import Seq2SeqSettings, length_experiment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="reverse", choices=("reverse", "sort_digits"))
    parser.add_argument("--lengths", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--unidirectional", action="store_true")
    args = parser.parse_args()
    pin_blas_threads()
    settings = Seq2SeqSettings(task=args.task, encoder_cell=args.cell, decoder_cell=args.cell,
                               hidden_size=args.hidden, bidirectional=not args.unidirectional)
    started = time.perf_counter()

    def show(experiment) -> None:
        run = experiment.runs[-1]
        diagonal = "" if run.anti_diagonal is None else f"  anti-diagonal {run.anti_diagonal:.3f}"
        print(f"length {run.length:3d}  {run.attention:8s}  seed {run.seed}  sequences {run.sequence_accuracy:.3f}  "
              f"tokens {run.token_accuracy:.3f}  loss {run.final_loss:.4g}{diagonal}  ({run.seconds:.0f} s)", flush=True)

    experiment = length_experiment(settings, tuple(args.lengths), seeds=tuple(args.seeds), steps=args.steps,
                                   samples=512, progress=show)
    table = experiment.table()
    print(f"\n{args.task}, {args.cell} hidden {args.hidden}{'' if args.unidirectional else ' bidirectional'}, "
          f"{args.steps} steps, seeds {args.seeds}: mean held-out accuracy of greedy decoding")
    print(f"{'length':>6}  {'attention':9}  {'sequences':>9}  {'tokens':>6}  {'anti-diag':>9}")
    for row in table:
        diagonal = "" if row["anti_diagonal"] is None else f"{row['anti_diagonal']:.3f}"
        print(f"{row['length']:6d}  {row['attention']:9}  {row['sequence_accuracy']:9.3f}  {row['token_accuracy']:6.3f}"
              f"  {diagonal:>9}")
    print(json.dumps({"benchmark": "seq2seq_length", "task": args.task, "cell": args.cell, "hidden": args.hidden,
                      "bidirectional": not args.unidirectional, "steps": args.steps, "seeds": args.seeds,
                      "seconds": round(time.perf_counter() - started, 1), "table": table}))


if __name__ == "__main__":
    main()
