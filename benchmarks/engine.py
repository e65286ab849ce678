"""Forward + BPTT speed of the NumPy engine against PyTorch CPU (one thread), per cell mode.

    python benchmarks/engine.py [--repeats 20] [--quick] [--modes lstm gru ...]

One timing = one forward and one backward with a random d_output (PyTorch: forward, then
``output.backward(d_output)``). rnnviz and PyTorch are timed in alternating rounds so that load
from other processes hits both alike. Prints a table with the best of the repeated timings (and
the median) and the ratio torch / rnnviz of the bests (> 1 means rnnviz is faster), then one JSON
line with all figures.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnviz.engine import Recurrent, cell_specs  # noqa: E402
from rnnviz.engine.threads import blas_info, pin_blas_threads  # noqa: E402

MODES = tuple(spec.name for spec in cell_specs() if spec.pytorch_module)  # the cells PyTorch has
SHAPES = (  # (batch, timesteps, input, hidden)
    (16, 100, 8, 32),
    (1, 200, 1, 16),
)
DTYPES = (np.float32, np.float64)


def timings_ms(runs, repeats: int, warmup: int = 3) -> list[list[float]]:
    """Time each of ``runs`` ``repeats`` times, alternating between them; ms per call."""
    for run in runs:
        for _ in range(warmup):
            run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, record in zip(runs, times):
            start = time.perf_counter()
            run()
            record.append(1000 * (time.perf_counter() - start))
    return times


def rnnviz_run(mode, dtype, shape):
    B, T, I, H = shape
    rng = np.random.default_rng(0)
    core = Recurrent(mode, I, H, dtype=dtype, seed=0)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    d_output = rng.standard_normal((T, B, H)).astype(dtype)

    def run():
        core.backward(core.forward(x), d_output)

    return run


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 repeats, for a smoke run")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="cell modes to time (default: all)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    pin_blas_threads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} threads={b.get('num_threads')}"
                     for b in blas_info())
    print(f"numpy {np.__version__} ({blas}); torch {torch.__version__ if torch else 'not installed'}"
          f"; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}")
    header = (f"{'mode':9} {'dtype':8} {'B,T,I,H':14} {'rnnviz ms':>10} {'(median)':>9} "
              f"{'torch ms':>9} {'(median)':>9} {'torch/rnnviz':>13}")
    print(header)
    print("-" * len(header))
    rows = []
    for shape in SHAPES:
        for dtype in DTYPES:
            for mode in args.modes:
                runs = [rnnviz_run(mode, dtype, shape)]
                if torch:
                    runs.append(torch_run(torch, mode, dtype, shape))
                times = timings_ms(runs, repeats) + [[float("nan")]]
                ours, theirs = min(times[0]), min(times[1])
                ours_median, theirs_median = statistics.median(times[0]), statistics.median(times[1])
                ratio = theirs / ours
                rows.append({"mode": mode, "dtype": np.dtype(dtype).name, "shape": list(shape),
                             "rnnviz_ms": round(ours, 3), "rnnviz_median_ms": round(ours_median, 3),
                             "torch_ms": round(theirs, 3), "torch_median_ms": round(theirs_median, 3),
                             "ratio": round(ratio, 3)})
                print(f"{mode:9} {np.dtype(dtype).name:8} {','.join(map(str, shape)):14} "
                      f"{ours:10.2f} {ours_median:9.2f} {theirs:9.2f} {theirs_median:9.2f} "
                      f"{ratio:13.2f}")
    print(json.dumps({"benchmark": "engine_forward_bptt", "repeats": repeats, "results": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
