"""The parallel (associative) scan against the sequential loop, against sequence length.

    python benchmarks/scan.py [--repeats 7] [--quick]

Each case at T = 16, 32, ..., 4096, loop and scan timed in alternating rounds (so that load from other
processes hits both alike), best of the repeats in ms, and the ratio loop / scan (> 1: the scan is
faster):

- ``recurrence B x S``: h_t = a_t ⊙ h_(t-1) + b_t alone (rnnviz/engine/scan.py), float64, B samples
  of S state values: what the scan replaces. Also the largest |scan - loop|.
- ``mingru B x H``: one forward and backward of a minGRU layer (I = 8, float32) with
  ``Recurrent(..., scan=False)`` and ``scan=True``: what training gains.

On one CPU core the scan is not parallel: it trades the loop's T dependent NumPy calls (about 1 µs of
overhead each) for 2 log2 T levels that together do about five times the loop's arithmetic. It wins
where the calls dominate (a few state values, long sequences) and loses where the arithmetic does;
on parallel hardware its levels run at once, which is why the new recurrent models use it.
Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import timings_ms  # noqa: E402
from rnnviz.engine import Recurrent  # noqa: E402
from rnnviz.engine.scan import parallel_scan, sequential_scan  # noqa: E402
from rnnviz.engine.threads import pin_blas_threads  # noqa: E402

LENGTHS = tuple(2 ** k for k in range(4, 13))  # 16 .. 4096
CASES = (("recurrence", 1, 16), ("recurrence", 8, 64), ("mingru", 1, 16), ("mingru", 16, 32))  # (what, B, S or H)
LAYER_INPUTS = 8


def recurrence_runs(steps: int, batch: int, state: int):
    rng = np.random.default_rng(steps)
    a = rng.uniform(0, 0.95, size=(steps, batch, state))
    b = rng.uniform(-1, 1, size=(steps, batch, state))
    initial = np.zeros((batch, state))
    difference = float(np.max(np.abs(parallel_scan(a, b, initial) - sequential_scan(a, b, initial))))
    return [lambda: sequential_scan(a, b, initial), lambda: parallel_scan(a, b, initial)], difference


def layer_runs(steps: int, batch: int, hidden: int):
    inputs = LAYER_INPUTS
    rng = np.random.default_rng(steps)
    x = rng.standard_normal((steps, batch, inputs)).astype(np.float32)
    d_output = rng.standard_normal((steps, batch, hidden)).astype(np.float32)
    runs = []
    for scan in (False, True):
        core = Recurrent("mingru", inputs, hidden, dtype=np.float32, seed=0, scan=scan)
        runs.append(lambda core=core: core.backward(core.forward(x), d_output))
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 repeats up to T = 256, for a smoke run")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    lengths = [t for t in LENGTHS if t <= 256] if args.quick else LENGTHS
    pin_blas_threads(1)
    header = (f"{'what':20} {'T':>5} {'loop ms':>9} {'scan ms':>9} {'loop/scan':>10} {'levels':>7} "
              f"{'max |scan - loop|':>18}")
    print(header)
    print("-" * len(header))
    rows = []
    for what, batch, size in CASES:
        name = f"{what} {batch} x {size}"
        for steps in lengths:
            difference = None
            if what == "recurrence":
                runs, difference = recurrence_runs(steps, batch, size)
            else:
                runs = layer_runs(steps, batch, size)
            loop, scan = (min(times) for times in timings_ms(runs, repeats, warmup=1))
            levels = 2 * int(np.ceil(np.log2(steps))) - 1
            rows.append({"what": what, "batch": batch, "size": size, "T": steps, "loop_ms": round(loop, 3),
                         "scan_ms": round(scan, 3), "ratio": round(loop / scan, 3), "levels": levels,
                         "max_difference": difference})
            shown = "" if difference is None else f"{difference:18.1e}"
            print(f"{name:20} {steps:5d} {loop:9.3f} {scan:9.3f} {loop / scan:10.2f} {levels:7d} {shown}")
    print(json.dumps({"benchmark": "scan", "repeats": repeats, "layer_inputs": LAYER_INPUTS, "results": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
