"""UI benchmark (offscreen): is the window live while an LSTM trains at full speed?

LSTM, hidden 64, T=200 (adding problem), batch 16, every training panel live. Training runs in the
window's worker process. Measures, in one run (this machine is shared and noisy: ratios, alternating
rounds, medians):
  - live_vs_headless_steps_ratio: steps/s of the window's worker vs the same session trained headless in
    a process of its own at the worker's priority, alternating rounds; the median of the rounds' ratios,
  - event_loop_p99_ms: lateness of a 5 ms QTimer probe while training runs (how frozen the UI feels),
    and event_loop_p99_ms_with_compare: the same with the Compare window training its three networks,
  - frame_ms_p50: one redraw of every training panel at once (draw + a synchronous repaint; the window
    itself spreads a frame over six event-loop turns, one panel each),
  - startup_s_median: from starting a Python process to the window shown, median of 5 runs, next to a
    reference (Python, NumPy, Qt and pyqtgraph showing one plot) started alternately,
  - event_loop_p99_ms_idle: the probe with nothing training (this machine's noise floor).
Prints the figures and a final JSON line. Targets: ratio >= 0.9, p99 < 20 ms (both), frame < 16 ms,
start-up <= 1.5 s.

    python benchmarks/ui.py            (RNNVIZ_BENCH_SECONDS=3 per segment, RNNVIZ_BENCH_ROUNDS=5)
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECONDS = float(os.environ.get("RNNVIZ_BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("RNNVIZ_BENCH_ROUNDS", "5"))
STARTUPS = 5
CONFIG_ARGS = dict(task="adding", task_params={"seq_len": 200}, cell="lstm", hidden_size=64, batch_size=16)

STARTUP_SCRIPT = """
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, {root!r})
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from rnnviz.app import _route_qt_messages
from rnnviz.engine.threads import pin_blas_threads
from rnnviz.ui.main_window import MainWindow
pin_blas_threads()
_route_qt_messages()
app = QApplication(["rnnviz-bench"])
settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "benchmark-startup")
settings.clear()
window = MainWindow(None, settings)
window.show()
app.processEvents()
print("shown", flush=True)
window.controller.wait_idle(60000)
print("first frame", flush=True)
window.close()
window.deleteLater()
app.processEvents()
"""
# the same machine's floor in the same run: Python, NumPy, Qt and pyqtgraph with one plot in a window
REFERENCE_SCRIPT = """
import os
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import numpy
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(["reference"])
window = QMainWindow()
window.setCentralWidget(pg.PlotWidget())
window.show()
app.processEvents()
print("shown", flush=True)
print("first frame", flush=True)
"""


def startup_seconds(script: str = STARTUP_SCRIPT) -> tuple[float, float]:
    """(to the window shown, to the first frame of the worker) for one fresh Python process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script.format(root=str(ROOT))],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    shown = frame = float("nan")
    for line in iter(child.stdout.readline, ""):  # line by line, as it is printed
        if line.startswith("shown"):
            shown = time.perf_counter() - started
        elif line.startswith("first frame"):
            frame = time.perf_counter() - started
    child.wait(60)
    return shown, frame


# the same session trained headless, in a process of its own at the worker's priority (like for like:
# the ratio measures what the window costs the training, not the worker's lower priority)
HEADLESS_SCRIPT = """
import os, sys, time
sys.path.insert(0, {root!r})
from rnnviz.engine.threads import pin_blas_threads
from rnnviz.session.background import WORKER_NICENESS
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
pin_blas_threads()
if hasattr(os, "nice"):
    os.nice(WORKER_NICENESS)
session = Session(SessionConfig(**{config!r}))
session.train(3)  # warm up
start, steps = time.perf_counter(), 0
while time.perf_counter() - start < {seconds!r}:
    session.train_step()
    steps += 1
print(steps / (time.perf_counter() - start))
"""


def headless_rate(seconds: float) -> float:
    script = HEADLESS_SCRIPT.format(root=str(ROOT), config=CONFIG_ARGS, seconds=seconds)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
    return float(done.stdout.strip().splitlines()[-1])


class LiveRun:
    """The real window training at full speed under the real event loop, with a 5 ms probe timer."""

    def __init__(self, app, config) -> None:
        from PySide6.QtCore import QSettings

        from rnnviz.ui.main_window import MainWindow

        self.app = app
        settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "benchmark")
        settings.clear()
        self.window = MainWindow(config, settings)
        self.window.resize(1440, 900)
        self.window.show()
        self.window.controller.wait_idle(60000)
        self.arrivals: list[tuple[float, int]] = []  # (time, training step) of each frame
        self.full: list = []  # the newest two full snapshots (refreshes share their arrays)
        self.cpu_shares: list[float] = []  # the window process's CPU time / wall time while training
        self.window.controller.snapshot_ready.connect(self._arrived)

    def _arrived(self, snapshot) -> None:
        self.arrivals.append((time.perf_counter(), snapshot.step))
        if not self.full or snapshot.hidden is not self.full[-1].hidden:
            self.full = [*self.full[-1:], snapshot]

    def redraw_ms(self, count: int = 40) -> list[float]:
        """One redraw of every training panel (all at once, then a synchronous repaint), alternating
        the newest two full snapshots so that every panel really changes."""
        page, times = self.window.training_page, []
        for k in range(count):
            started = time.perf_counter()
            page.draw(self.full[k % len(self.full)], now=True)
            self.window.centralWidget().repaint()
            times.append((time.perf_counter() - started) * 1000)
        return times

    def rate(self, seconds: float, with_probe: bool = False, train: bool = True,
             idle_seconds: float = 0.0) -> tuple[float, list[float]]:
        """Training steps/s seen by the window over ``seconds``, and the probe's lateness (ms);
        ``train=False``: the probe alone for ``idle_seconds`` (the machine's noise floor)."""
        from PySide6.QtCore import QElapsedTimer, QTimer

        clock, probe, lateness = QElapsedTimer(), QTimer(), []
        probe.setInterval(5)

        def tick() -> None:
            lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - 5.0))
            clock.restart()

        probe.timeout.connect(tick)
        if not train:
            clock.start()
            probe.start()
            self._run_events(idle_seconds)
            probe.stop()
            return 0.0, lateness
        controller = self.window.controller
        controller.play()
        self._run_events(0.5)  # the worker starts and its first frames arrive
        self.arrivals.clear()
        clock.start()
        if with_probe:
            probe.start()
        cpu_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        self._run_events(seconds)
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu_shares.append((cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime)
                               / (time.perf_counter() - wall_before))
        probe.stop()
        controller.pause()
        controller.wait_idle(60000)
        (t0, s0), (t1, s1) = self.arrivals[0], self.arrivals[-1]
        return (s1 - s0) / (t1 - t0), lateness

    def _run_events(self, seconds: float) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(seconds * 1000), lambda: self.app.exit(0))  # quit() would close the window
        self.app.exec()  # the real event loop: it sleeps until something happens

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.session.config import SessionConfig

    startups, references = [], []
    for _ in range(STARTUPS):  # alternating: the machine's load changes from second to second
        startups.append(startup_seconds())
        references.append(startup_seconds(REFERENCE_SCRIPT)[0])
    pin_blas_threads()
    config = SessionConfig(**CONFIG_ARGS)
    app = QApplication.instance() or QApplication(["rnnviz-bench"])
    live = LiveRun(app, config)
    _, idle_lateness = live.rate(0, with_probe=True, train=False, idle_seconds=2 * SECONDS)
    rounds = []
    for _ in range(ROUNDS):
        h = headless_rate(SECONDS)
        w, _ = live.rate(SECONDS)
        rounds.append((h, w, w / h))
    probed, lateness = live.rate(2 * SECONDS, with_probe=True)
    compare = live.window.open_compare()
    compare.toggle()
    live._run_events(1.0)
    probed_compare, lateness_compare = live.rate(2 * SECONDS, with_probe=True)
    compare_steps = compare.step_count
    compare.close()
    frames = live.redraw_ms()
    live.close()
    figures = {
        "headless_steps_per_s": statistics.median(r[0] for r in rounds),
        "live_steps_per_s": statistics.median(r[1] for r in rounds),
        "live_steps_per_s_with_probe": probed,
        "live_vs_headless_steps_ratio": statistics.median(r[2] for r in rounds),
        "event_loop_p99_ms_idle": percentile(idle_lateness, 0.99),
        "event_loop_p50_ms": percentile(lateness, 0.5),
        "event_loop_p99_ms": percentile(lateness, 0.99),
        "event_loop_p99_ms_with_compare": percentile(lateness_compare, 0.99),
        "live_steps_per_s_with_compare": probed_compare,
        "frame_ms_p50": statistics.median(frames),
        "frame_ms_p90": percentile(frames, 0.9),
        "frames": len(frames),
        "window_cpu_share": statistics.median(live.cpu_shares),
        "startup_s_median": statistics.median(s for s, _ in startups),
        "startup_reference_s_median": statistics.median(references),
        "first_frame_s_median": statistics.median(f for _, f in startups),
    }
    report(figures, rounds, startups, compare_steps)


def report(figures: dict, rounds: list, startups: list, compare_steps: int) -> None:
    """The figures for a person, then the JSON line."""
    print(f"LSTM H=64 T=200 B=16, {ROUNDS} rounds of {SECONDS:.0f} s headless + {SECONDS:.0f} s live "
          "(training in the window's worker process)")
    for h, w, ratio in rounds:
        print(f"  round: headless {h:6.1f} steps/s, live {w:6.1f} steps/s, ratio {ratio:.2f}")
    print(f"  live / headless   {figures['live_vs_headless_steps_ratio']:.2f} (median; target >= 0.9)")
    print(f"  window process    {100 * figures['window_cpu_share']:.0f} % of one core while training (median)")
    print(f"  event loop idle   p99 {figures['event_loop_p99_ms_idle']:.1f} ms (the machine's floor: window open, "
          "nothing training)")
    print(f"  event loop        p50 {figures['event_loop_p50_ms']:.1f} ms late, p99 {figures['event_loop_p99_ms']:.1f}"
          f" ms (target < 20) at {figures['live_steps_per_s_with_probe']:.1f} steps/s")
    print(f"  with Compare      p99 {figures['event_loop_p99_ms_with_compare']:.1f} ms (target < 20) at "
          f"{figures['live_steps_per_s_with_compare']:.1f} steps/s; the comparison reached step {compare_steps}")
    print(f"  frame             p50 {figures['frame_ms_p50']:.1f} ms, p90 {figures['frame_ms_p90']:.1f} ms"
          f" over {figures['frames']} frames (target < 16)")
    print(f"  start-up          {', '.join(f'{s:.2f}' for s, _ in startups)} s to the window shown: median "
          f"{figures['startup_s_median']:.2f} s (target <= 1.5); first frame {figures['first_frame_s_median']:.2f} s")
    print(f"  reference         Python + NumPy + Qt + pyqtgraph, one plot shown: median "
          f"{figures['startup_reference_s_median']:.2f} s (rnnviz / reference "
          f"{figures['startup_s_median'] / figures['startup_reference_s_median']:.2f})")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
