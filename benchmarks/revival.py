"""Forward + BPTT speed of the new cells (minGRU, minLSTM, LRU, selective) against PyTorch CPU (one
thread) running the same equations, written below as a loop over time with autograd (there is no
PyTorch module for them).

    python benchmarks/revival.py [--repeats 10] [--quick] [--cells mingru lru ...]

One timing = one forward and one backward with a random d_output, for one layer. rnnviz is timed with
its loop and with its parallel scan (``Recurrent(..., scan=True)``); all three are timed in
alternating rounds so that load from other processes hits them alike. Prints the best of the repeats
in ms and the ratios torch / rnnviz (> 1: rnnviz is faster), then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import timings_ms  # noqa: E402
from rnnviz.engine import Recurrent, cell_spec  # noqa: E402
from rnnviz.engine.threads import pin_blas_threads  # noqa: E402

CELLS = ("mingru", "minlstm", "lru", "selective")
SHAPES = ((16, 100, 8, 32), (1, 200, 1, 16))  # (batch, timesteps, input, hidden)
DTYPES = (np.float32, np.float64)


def torch_step(torch, mode, p, x, h, c):
    """One timestep of ``mode`` from the papers' equations; p: parameter kind -> tensor."""
    if mode == "mingru":  # z = σ(W_z x + b_z), h̃ = W_h x + b_h, h = (1 - z) h + z h̃
        a_z, candidate = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(2, dim=-1)
        z = torch.sigmoid(a_z)
        return (1 - z) * h + z * candidate, c
    if mode == "minlstm":  # f, i = σ(.), h̃ = W_h x + b_h, h = f/(f+i) h + i/(f+i) h̃
        a_f, a_i, candidate = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=-1)
        f, i = torch.sigmoid(a_f), torch.sigmoid(a_i)
        return f / (f + i) * h + i / (f + i) * candidate, c
    if mode == "lru":  # c = λ c + γ (B x), h = Re(C c) + D x, c complex
        state = p["lam"] * c + p["gamma"] * (x.to(p["B"].dtype) @ p["B"].T)
        return (state @ p["C"].T).real + x @ p["D"].T, state
    # selective: Δ = softplus(W_Δ u + b_Δ), c = exp(Δ A) c + (Δ u) B_t, h = c C_t + D u
    u = x @ p["weight_in"].T
    delta = torch.nn.functional.softplus(u @ p["weight_delta"].T + p["bias_delta"])
    B_t, C_t = u @ p["weight_B"].T, u @ p["weight_C"].T
    state = torch.exp(delta[:, :, None] * p["A"]) * c + (delta * u)[:, :, None] * B_t[:, None, :]
    return (state * C_t[:, None, :]).sum(-1) + p["D"] * u, state


def torch_run(torch, mode, dtype, shape):
    B, T, I, H = shape
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    core = Recurrent(mode, I, H, dtype=dtype, seed=0)
    raw = {name[:-3]: torch.tensor(value, requires_grad=True) for name, value in core.parameters().items()}
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(T, B, I, generator=gen, dtype=torch_dtype)
    d_output = torch.randn(T, B, H, generator=gen, dtype=torch_dtype)
    spec = cell_spec(mode)

    def derived():
        p = dict(raw)
        if mode == "lru":
            p["lam"] = torch.exp(torch.complex(-torch.exp(raw["nu"]), raw["theta"]))
            p["gamma"] = torch.sqrt(1 - p["lam"].abs() ** 2)
            p["B"], p["C"] = torch.complex(raw["B_re"], raw["B_im"]), torch.complex(raw["C_re"], raw["C_im"])
        if mode == "selective":
            p["A"] = -torch.exp(raw["A_log"])
        return p

    def run():
        p = derived()
        h = torch.zeros(B, H, dtype=torch_dtype)
        c = None
        if mode == "lru":
            c = torch.zeros(B, H, dtype=p["B"].dtype)
        elif mode == "selective":
            c = torch.zeros(B, H, spec.cell_state_size(H) // H, dtype=torch_dtype)
        outputs = []
        for t in range(T):
            h, c = torch_step(torch, mode, p, x[t], h, c)
            outputs.append(h)
        torch.stack(outputs).backward(d_output)

    return run


def rnnviz_run(mode, dtype, shape, scan: bool):
    B, T, I, H = shape
    rng = np.random.default_rng(0)
    core = Recurrent(mode, I, H, dtype=dtype, seed=0, scan=scan)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    d_output = rng.standard_normal((T, B, H)).astype(dtype)

    def run():
        core.backward(core.forward(x), d_output)

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 repeats, for a smoke run")
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    pin_blas_threads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}")
    header = (f"{'cell':10} {'dtype':8} {'B,T,I,H':12} {'loop ms':>9} {'scan ms':>9} {'torch ms':>9} "
              f"{'torch/loop':>11} {'torch/scan':>11}")
    print(header)
    print("-" * len(header))
    rows = []
    for shape in SHAPES:
        for dtype in DTYPES:
            for mode in args.cells:
                runs = [rnnviz_run(mode, dtype, shape, False), rnnviz_run(mode, dtype, shape, True)]
                if torch:
                    runs.append(torch_run(torch, mode, dtype, shape))
                times = timings_ms(runs, repeats, warmup=1) + [[float("nan")]]
                loop, scan, theirs = (min(t) for t in times[:3])
                rows.append({"cell": mode, "dtype": np.dtype(dtype).name, "shape": list(shape),
                             "loop_ms": round(loop, 3), "scan_ms": round(scan, 3), "torch_ms": round(theirs, 3),
                             "torch_over_loop": round(theirs / loop, 3), "torch_over_scan": round(theirs / scan, 3)})
                print(f"{mode:10} {np.dtype(dtype).name:8} {','.join(map(str, shape)):12} {loop:9.2f} {scan:9.2f} "
                      f"{theirs:9.2f} {theirs / loop:11.2f} {theirs / scan:11.2f}")
    print(json.dumps({"benchmark": "revival_cells_forward_bptt", "repeats": repeats, "results": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
