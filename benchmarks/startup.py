"""Start-up with the compiled kernels: time to a shown window and until the kernels are ready.

    python benchmarks/startup.py [--rounds 3]

Each round starts three fresh processes (offscreen window, the window's default settings), in
turn: "cold" (an empty numba cache: the first start after installing compiles every kernel),
"warm" (the cache that cold run filled) and "numpy" (RNNVIZ_NO_NUMBA=1: no kernels at all, as
before they existed). Reported per kind, as medians over the rounds: seconds from launching the
process to the window shown, and to the kernels ready (the "preparing fast kernels…" note gone).
Prints a table and a final JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
launched = float(sys.argv[1])
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
from rnnviz.app import SWITCH_INTERVAL_S
from rnnviz.engine import kernels
from rnnviz.engine.threads import pin_blas_threads
from rnnviz.session.config import SessionConfig
from rnnviz.ui.kernel_status import show_kernel_preparation
from rnnviz.ui.main_window import MainWindow
from PySide6.QtCore import QSettings

pin_blas_threads()
sys.setswitchinterval(SWITCH_INTERVAL_S)
app = QApplication(sys.argv[:1])
settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "startup-bench")
window = MainWindow(SessionConfig(), settings)
window.show()
app.processEvents()
shown = time.time() - launched
note = show_kernel_preparation(window) is not None
while kernels.status() == "preparing":
    app.processEvents()
    time.sleep(0.01)
ready = time.time() - launched
window.close()
window.deleteLater()
app.processEvents()
print(shown, ready, kernels.status(), note)
"""


def launch(env: dict) -> tuple[float, float, str, bool]:
    env = {**env, "QT_QPA_PLATFORM": "offscreen"}
    started = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), repr(started)],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), out[2], out[3] == "True"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    base = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "RNNVIZ_NO_NUMBA")}
    runs: dict[str, list[tuple[float, float, str, bool]]] = {"cold": [], "warm": [], "numpy": []}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as cache:
            runs["cold"].append(launch({**base, "NUMBA_CACHE_DIR": cache}))
            runs["warm"].append(launch({**base, "NUMBA_CACHE_DIR": cache}))
        runs["numpy"].append(launch({**base, "RNNVIZ_NO_NUMBA": "1"}))
    print(f"{'start':6} {'window shown s':>15} {'kernels ready s':>16}  status (median of {args.rounds})")
    result = {"benchmark": "startup", "rounds": args.rounds}
    for kind, values in runs.items():
        shown = statistics.median(v[0] for v in values)
        ready = statistics.median(v[1] for v in values)
        statuses = sorted({v[2] for v in values})
        result[kind] = {"window_shown_s": round(shown, 3), "kernels_ready_s": round(ready, 3),
                        "status": statuses, "note_shown": [v[3] for v in values],
                        "shown_rounds": [round(v[0], 3) for v in values],
                        "ready_rounds": [round(v[1], 3) for v in values]}
        print(f"{kind:6} {shown:15.2f} {ready:16.2f}  {', '.join(statuses)}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
