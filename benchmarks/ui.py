"""UI benchmark (offscreen): is the window live while an LSTM trains at full speed?

LSTM, hidden 64, T=200 (adding problem), batch 16, every panel live. Measures
  - event_loop_p99_ms: lateness of a 5 ms QTimer probe while training runs (how frozen the UI feels),
  - frame_ms_p50: one redraw of the panels (set_snapshot on each + a synchronous repaint),
  - live_vs_headless_steps_ratio: training steps/s with the window live vs the same session
    headless (no window, no event loop), in alternating rounds in one process because this machine is
    shared and noisy; the median of the rounds' ratios is reported.
Prints the figures and a final JSON line. Targets: p99 < 50 ms, frame < 16 ms, ratio >= 0.7.

    python benchmarks/ui.py            (RNNVIZ_BENCH_SECONDS=3 per segment, RNNVIZ_BENCH_ROUNDS=5)
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnnviz.app import SWITCH_INTERVAL_S  # noqa: E402
from rnnviz.engine.threads import pin_blas_threads  # noqa: E402
from rnnviz.session.config import SessionConfig  # noqa: E402
from rnnviz.session.session import Session  # noqa: E402
from rnnviz.ui.main_window import MainWindow  # noqa: E402

CONFIG = SessionConfig(task="adding", task_params={"seq_len": 200}, cell="lstm", hidden_size=64, batch_size=16)
SECONDS = float(os.environ.get("RNNVIZ_BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("RNNVIZ_BENCH_ROUNDS", "5"))


def headless_rate(session: Session, seconds: float) -> float:
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        session.train_step()
        steps += 1
    return steps / (time.perf_counter() - start)


class LiveRun:
    """The real window training at full speed under the real event loop, with a 5 ms probe timer."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "benchmark")
        settings.clear()
        self.window = MainWindow(CONFIG, settings)
        self.window.resize(1440, 900)
        self.window.show()
        self.window.controller.wait_idle()
        self.frames: list[float] = []
        self.lateness: list[float] = []
        redraw = self.window.show_snapshot

        def timed_redraw(snapshot) -> None:
            started = time.perf_counter()
            redraw(snapshot)
            self.window.centralWidget().repaint()
            self.frames.append((time.perf_counter() - started) * 1000)

        self.window.controller.snapshot_ready.disconnect()
        self.window.controller.snapshot_ready.connect(timed_redraw)

    def rate(self, seconds: float, with_probe: bool = False) -> float:
        clock, probe = QElapsedTimer(), QTimer()
        probe.setInterval(5)

        def tick() -> None:
            self.lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - 5.0))
            clock.restart()

        probe.timeout.connect(tick)
        controller = self.window.controller
        first = controller.session.step
        controller.play()
        clock.start()
        if with_probe:
            probe.start()
        start = time.perf_counter()
        QTimer.singleShot(int(seconds * 1000), lambda: self.app.exit(0))  # quit() would close the window
        self.app.exec()  # the real event loop: it sleeps until something happens
        steps = controller.session.step - first
        elapsed = time.perf_counter() - start
        probe.stop()
        controller.wait_idle()
        return steps / elapsed

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()


def main() -> None:
    pin_blas_threads()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the app does
    app = QApplication.instance() or QApplication(["rnnviz-bench"])
    live = LiveRun(app)
    headless = Session(CONFIG)
    headless.train(3)  # warm up
    rounds = []
    for _ in range(ROUNDS):
        h = headless_rate(headless, SECONDS)
        w = live.rate(SECONDS)
        rounds.append((h, w, w / h))
    probed = live.rate(2 * SECONDS, with_probe=True)
    live.close()
    lateness, frames = sorted(live.lateness), live.frames
    figures = {
        "headless_steps_per_s": statistics.median(r[0] for r in rounds),
        "live_steps_per_s": statistics.median(r[1] for r in rounds),
        "live_steps_per_s_with_probe": probed,
        "live_vs_headless_steps_ratio": statistics.median(r[2] for r in rounds),
        "event_loop_p50_ms": lateness[len(lateness) // 2],
        "event_loop_p99_ms": lateness[int(len(lateness) * 0.99)],
        "frame_ms_p50": statistics.median(frames),
        "frame_ms_p90": sorted(frames)[int(len(frames) * 0.9)],
        "frames": len(frames),
    }
    print(f"LSTM H=64 T=200 B=16, {ROUNDS} rounds of {SECONDS:.0f} s headless + {SECONDS:.0f} s live")
    for h, w, ratio in rounds:
        print(f"  round: headless {h:6.1f} steps/s, live {w:6.1f} steps/s, ratio {ratio:.2f}")
    print(f"  live / headless   {figures['live_vs_headless_steps_ratio']:.2f} (median; target >= 0.7)")
    print(f"  with the 5 ms probe running: {probed:.1f} steps/s")
    print(f"  event loop        p50 {figures['event_loop_p50_ms']:.1f} ms late,"
          f" p99 {figures['event_loop_p99_ms']:.1f} ms (target < 50)")
    print(f"  frame             p50 {figures['frame_ms_p50']:.1f} ms, p90 {figures['frame_ms_p90']:.1f} ms"
          f" over {figures['frames']} frames (target < 16)")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
