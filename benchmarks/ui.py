"""UI benchmark (offscreen): is the window live while an LSTM trains at full speed?

LSTM, hidden 64, T=200 (adding problem), batch 16, every panel live. Measures
  - event_loop_p99_ms: lateness of a 5 ms QTimer probe while training runs (how frozen the UI feels),
  - frame_ms_p50: one redraw of all panels (set_snapshot on each + a synchronous repaint),
  - live_vs_headless_steps_ratio: training steps/s with the window live vs the same session headless.
Prints the figures and a final JSON line. Targets: p99 < 50 ms, frame < 16 ms, ratio >= 0.7.
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

from rnnviz.engine.threads import pin_blas_threads  # noqa: E402
from rnnviz.session.config import SessionConfig  # noqa: E402
from rnnviz.session.session import Session  # noqa: E402
from rnnviz.ui.main_window import MainWindow  # noqa: E402

CONFIG = SessionConfig(task="adding", task_params={"seq_len": 200}, cell="lstm", hidden_size=64, batch_size=16)
SECONDS = float(os.environ.get("RNNVIZ_BENCH_SECONDS", "8"))


def headless_steps_per_second(seconds: float) -> float:
    session = Session(CONFIG)
    session.train(3)  # warm up
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        session.train_step()
        steps += 1
    return steps / (time.perf_counter() - start)


def live(app: QApplication, seconds: float) -> dict[str, float]:
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "benchmark")
    settings.clear()
    window = MainWindow(CONFIG, settings)
    window.resize(1440, 900)
    window.show()
    window.controller.wait_idle()
    frames: list[float] = []
    redraw = window.show_snapshot

    def timed_redraw(snapshot) -> None:
        started = time.perf_counter()
        redraw(snapshot)
        window.centralWidget().repaint()
        frames.append((time.perf_counter() - started) * 1000)

    window.controller.snapshot_ready.disconnect()
    window.controller.snapshot_ready.connect(timed_redraw)
    lateness: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(5)

    def tick() -> None:
        lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - 5.0))
        clock.restart()

    probe.timeout.connect(tick)
    session = window.controller.session
    window.controller.play()
    clock.start()
    probe.start()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        app.processEvents()
        time.sleep(0.001)
    steps = session.step
    elapsed = time.perf_counter() - start
    probe.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    lateness.sort()
    return {
        "live_steps_per_s": steps / elapsed,
        "event_loop_p50_ms": lateness[len(lateness) // 2],
        "event_loop_p99_ms": lateness[int(len(lateness) * 0.99)],
        "frame_ms_p50": statistics.median(frames),
        "frame_ms_p90": sorted(frames)[int(len(frames) * 0.9)],
        "frames": len(frames),
    }


def main() -> None:
    if "RNNVIZ_SWITCH_INTERVAL" in os.environ:
        sys.setswitchinterval(float(os.environ["RNNVIZ_SWITCH_INTERVAL"]))
    pin_blas_threads()
    app = QApplication.instance() or QApplication(["rnnviz-bench"])
    headless = headless_steps_per_second(SECONDS)
    figures = live(app, SECONDS)
    figures["headless_steps_per_s"] = headless
    figures["live_vs_headless_steps_ratio"] = figures["live_steps_per_s"] / headless
    print(f"LSTM H=64 T=200 B=16, {SECONDS:.0f} s each")
    print(f"  headless          {headless:8.1f} steps/s")
    print(f"  live window       {figures['live_steps_per_s']:8.1f} steps/s"
          f"  (ratio {figures['live_vs_headless_steps_ratio']:.2f}, target >= 0.7)")
    print(f"  event loop p50    {figures['event_loop_p50_ms']:8.1f} ms late,"
          f" p99 {figures['event_loop_p99_ms']:.1f} ms (target < 50)")
    print(f"  frame (all panels) p50 {figures['frame_ms_p50']:.1f} ms, p90 {figures['frame_ms_p90']:.1f} ms"
          f" over {figures['frames']} frames (target < 16)")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
