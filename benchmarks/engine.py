"""Forward + BPTT speed of the engine against PyTorch CPU (one thread), and headless training speed.

    python benchmarks/engine.py [--rounds 15] [--quick] [--modes lstm gru ...] [--no-training]

Engine: one call = one forward and one backward with a random d_output (PyTorch: forward, then
``output.backward(d_output)``). Three runners are timed in alternating rounds so that load from
other processes hits them alike: rnnviz as it runs (compiled kernels where they are faster, when
numba is installed), rnnviz's NumPy path (``kernels.numpy_path()``) and PyTorch; in a round each
is called back to back for ~20 ms after one untimed call (see ``median_ms``). Each figure is the
median over the rounds of the time per call; ratios are PyTorch ÷ rnnviz (above 1: rnnviz is
faster) and are compared with the targets. Beside each time stands the hardware limit: the FLOP estimate (the layer's
multiply-adds at this machine's measured BLAS peak, one thread) and the dependent-chain estimate
(the latency of one step's chain of dependent operations, times the timesteps; see ``chain_ns``).

Training: steps/s of a headless Session on the window's default settings, in child processes,
alternating "before" (RNNVIZ_NO_NUMBA=1: the NumPy path as it was, without the heap settings) and
"after" (as installed); then the same for ``rnnviz train`` (the CLI's own "N steps in X s").

Prints tables and a final JSON line with every figure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnnviz.engine import Recurrent, cell_specs, kernels  # noqa: E402
from rnnviz.engine.threads import blas_info, pin_blas_threads  # noqa: E402

MODES = tuple(spec.name for spec in cell_specs() if spec.pytorch_module)  # the cells PyTorch has
SIZES = (  # (batch, timesteps, input, hidden)
    (1, 200, 1, 16),
    (16, 100, 8, 32),
    (32, 200, 16, 128),
)
DTYPES = (np.float32, np.float64)
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
CLOCK_GHZ_FALLBACK = 2.6


def target(shape, mode: str, dtype) -> float:
    """The issue's targets, PyTorch ÷ rnnviz."""
    batch, hidden = shape[0], shape[3]
    if batch == 1:
        return 3.0
    if hidden >= 128:
        return 0.8
    return 1.0 if (mode == "lstm" and np.dtype(dtype) == np.float32) else 1.5


# ----- hardware limits --------------------------------------------------------------------------


def clock_ghz() -> float:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return float(re.search(r"cpu MHz\s*:\s*([\d.]+)", text).group(1)) / 1000
    except (OSError, AttributeError, ValueError):
        return CLOCK_GHZ_FALLBACK


def blas_peak_gflops(dtype) -> float:
    """Measured single-thread matmul speed (best of 20, 512 x 512 x 512): the FLOP ceiling."""
    a = np.random.default_rng(0).standard_normal((512, 512)).astype(dtype)
    np.dot(a, a)
    best = min(_time(lambda: np.dot(a, a)) for _ in range(20))
    return 2 * 512 ** 3 / best / 1e9


def flops(mode: str, shape) -> float:
    """Multiply-adds x 2 of forward + backward of one layer: the input projection, the recurrent
    product, dh_(t-1) = W_hh^T d_a, and the three weight-gradient products."""
    B, T, I, H = shape
    G = GATES[mode]
    return 2 * T * B * G * H * (3 * H + 3 * I)


def chain_ns(mode: str, shape, ghz: float) -> float:
    """The latency floor of the recurrence: each timestep waits for the previous one, forward and
    backward. Per step, in cycles (current x86: multiply-add and add 4, divide ~13): the recurrent
    product as a tree of depth log2(K) + 1 over its K terms (H forward, G·H backward); one
    activation (exp: ~14 dependent multiply-adds, then a divide) per sigmoid/tanh layer on the
    path (LSTM 2: the gates, then tanh(c); GRU 2: r, then n; RNN 1); a few more dependent
    multiply-adds for the cell update (3 forward, 6 backward). The batch runs in parallel lanes."""
    _, T, _, H = shape
    G = GATES[mode]
    fma, exp = 4, 14 * 4 + 13
    activations = 1 if mode.startswith("rnn") else 2
    forward = (math.log2(H) + 1) * fma + activations * exp + 3 * fma
    backward = (math.log2(G * H) + 1) * fma + 6 * fma
    return T * (forward + backward) / ghz


# ----- the engine rows ----------------------------------------------------------------------------


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rnnviz_run(mode, dtype, shape, numpy_path: bool):
    B, T, I, H = shape
    rng = np.random.default_rng(0)
    core = Recurrent(mode, I, H, dtype=dtype, seed=0)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    d_output = rng.standard_normal((T, B, H)).astype(dtype)

    def run():
        core.backward(core.forward(x), d_output)

    if not numpy_path:
        return run

    def run_numpy():
        with kernels.numpy_path():
            run()

    return run_numpy


def torch_run(torch, mode, dtype, shape):
    B, T, I, H = shape
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    if mode.startswith("rnn"):
        module = torch.nn.RNN(I, H, nonlinearity=mode[4:])
    else:
        module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[mode](I, H)
    module = module.to(torch_dtype)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(T, B, I, generator=gen, dtype=torch_dtype)
    d_output = torch.randn(T, B, H, generator=gen, dtype=torch_dtype)

    def run():
        output, _ = module(x)
        output.backward(d_output)

    return run


def median_ms(runs, rounds: int, budget_s: float, round_s: float = 0.02) -> list[float]:
    """Median ms per call of each run over alternating rounds. In a round each run is called once
    untimed, then timed over as many back-to-back calls as fill ~``round_s`` (training calls the
    engine back to back; a single call right after another framework's measured up to 4x slower
    than in a loop here, from cold caches alone). Fewer rounds for slow cases."""
    per_call = []
    for run in runs:
        run()
        per_call.append(max(_time(run), 1e-6))
    calls = [max(1, int(round_s / seconds)) for seconds in per_call]
    per_round = sum(n * seconds + seconds for n, seconds in zip(calls, per_call))
    rounds = max(5, min(rounds, int(budget_s / per_round)))
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, n, record in zip(runs, calls, times):
            run()
            start = time.perf_counter()
            for _ in range(n):
                run()
            record.append(1000 * (time.perf_counter() - start) / n)
    return [statistics.median(record) for record in times]


def engine_rows(torch, modes, rounds: int, budget_s: float) -> list[dict]:
    ghz = clock_ghz()
    peak = {np.dtype(d).name: blas_peak_gflops(d) for d in DTYPES}
    print(f"BLAS peak (one thread, 512^3 matmul): float32 {peak['float32']:.0f} GFLOP/s, float64 "
          f"{peak['float64']:.0f} GFLOP/s; clock {ghz:.2f} GHz")
    header = (f"{'mode':9} {'dtype':8} {'B,T,I,H':13} {'rnnviz':>8} {'numpy':>8} {'torch':>8} "
              f"{'flop lim':>8} {'chain':>8}   {'torch/rnnviz':>12} {'torch/numpy':>11} {'target':>7}")
    print(header + "\n" + "-" * len(header) + "   (ms, medians)")
    rows = []
    for shape in SIZES:
        for dtype in DTYPES:
            for mode in modes:
                runs = [rnnviz_run(mode, dtype, shape, False), rnnviz_run(mode, dtype, shape, True)]
                if torch:
                    runs.append(torch_run(torch, mode, dtype, shape))
                times = median_ms(runs, rounds, budget_s) + [math.nan]
                ours, numpy_ms, theirs = times[0], times[1], times[2]
                name = np.dtype(dtype).name
                flop_ms = flops(mode, shape) / (peak[name] * 1e9) * 1000
                chain_ms = chain_ns(mode, shape, ghz) / 1e6
                goal = target(shape, mode, dtype)
                ratio = theirs / ours
                met = "met" if ratio >= goal else ("MISSED" if torch else "-")
                compiled = kernels.kernel_for(mode, shape[0], shape[3], dtype) is not None
                rows.append({
                    "mode": mode, "dtype": name, "shape": list(shape), "compiled": compiled,
                    "rnnviz_ms": round(ours, 4), "numpy_ms": round(numpy_ms, 4),
                    "torch_ms": round(theirs, 4), "flop_limit_ms": round(flop_ms, 4),
                    "chain_limit_ms": round(chain_ms, 4), "ratio": round(ratio, 3),
                    "numpy_ratio": round(theirs / numpy_ms, 3), "target": goal, "met": ratio >= goal,
                })
                print(f"{mode:9} {name:8} {','.join(map(str, shape)):13} {ours:8.3f} {numpy_ms:8.3f} "
                      f"{theirs:8.3f} {flop_ms:8.3f} {chain_ms:8.3f}   {ratio:12.2f} "
                      f"{theirs / numpy_ms:11.2f} {goal:6.1f} {met}{'' if compiled else ' (numpy)'}")
    return rows


# ----- headless training ------------------------------------------------------------------------


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from rnnviz.engine import kernels
from rnnviz.engine.threads import pin_blas_threads
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
pin_blas_threads()
kernels.start(wait=True)
session = Session(SessionConfig())
for _ in range(10):
    session.train_step()
start, steps = time.perf_counter(), 0
while time.perf_counter() - start < {seconds}:
    session.train_step()
    steps += 1
print(steps / (time.perf_counter() - start), kernels.status())
"""


def _env(before: bool) -> dict:
    env = dict(os.environ)
    if before:
        env[kernels.DISABLE_VARIABLE] = "1"
    else:
        env.pop(kernels.DISABLE_VARIABLE, None)
    return env


def session_rate(before: bool, seconds: float) -> tuple[float, str]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), seconds=seconds)],
                         env=_env(before), capture_output=True, text=True, check=True).stdout
    rate, status = out.split()
    return float(rate), status


def cli_rate(before: bool, steps: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-m", "rnnviz", "train", "--task", "adding", "--steps", str(steps), "--no-plots",
             "--out", str(Path(folder) / "run")],
            env=_env(before), capture_output=True, text=True, check=True, cwd=ROOT)
    match = re.search(r"(\d+) steps in ([\d.]+) s", result.stderr)
    return int(match.group(1)) / float(match.group(2))


def training_rows(rounds: int, seconds: float, cli_steps: int) -> dict:
    print(f"\nheadless training, window defaults (lstm H=32, adding, batch 32, float32), "
          f"{rounds} alternating rounds:")
    figures = {}
    for label, measure in (("session", lambda before: session_rate(before, seconds)[0]),
                           ("cli", lambda before: cli_rate(before, cli_steps))):
        before, after = [], []
        for _ in range(rounds):
            before.append(measure(True))
            after.append(measure(False))
        ratios = [a / b for a, b in zip(after, before)]
        figures[label] = {"before_steps_per_s": round(statistics.median(before), 2),
                          "after_steps_per_s": round(statistics.median(after), 2),
                          "ratio_median": round(statistics.median(ratios), 3),
                          "ratios": [round(r, 3) for r in ratios], "target": 2.0}
        print(f"  {label:8} before {statistics.median(before):7.1f} steps/s   after "
              f"{statistics.median(after):7.1f} steps/s   after/before {statistics.median(ratios):.2f} "
              f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; target 2.0)")
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds per engine case")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds, short training")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="cell modes to time (default: all)")
    parser.add_argument("--no-training", action="store_true", help="skip the training figures")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    pin_blas_threads(1)
    status = kernels.start(wait=True)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} threads={b.get('num_threads')}"
                     for b in blas_info())
    print(f"numpy {np.__version__} ({blas}); torch {torch.__version__ if torch else 'not installed'}; "
          f"compiled kernels: {status}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}")
    result = {"benchmark": "engine_forward_bptt", "rounds": rounds, "kernels": status,
              "results": engine_rows(torch, args.modes, rounds, 1.5 if args.quick else 6.0)}
    if not args.no_training:
        result["training"] = training_rows(1 if args.quick else 5, 1.0 if args.quick else 3.0,
                                           50 if args.quick else 300)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
