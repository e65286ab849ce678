"""Qt-free work functions for tests/ui/test_jobs.py (a spawned process imports them by name)."""
from __future__ import annotations

import sys
import time


def square(work, value: int) -> int:
    return value * value


def qt_modules(work) -> list[str]:
    return sorted(name for name in sys.modules if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))


def count_quickly(work, n: int) -> int:
    for k in range(n):
        work.progress(k)
    time.sleep(0.05)
    return n


def fail(work, message: str) -> None:
    raise ValueError(message)


def loop_until_cancelled(work) -> None:
    while True:
        work.check()
        time.sleep(0.01)


def sleep_ignoring_cancel(work, seconds: float) -> None:
    time.sleep(seconds)  # like one long NumPy call: never looks at cancellation


def slow_echo(work, word: str) -> str:
    for _ in range(20):
        work.check()
        time.sleep(0.01)
    return word


def echo_messages(work) -> None:
    while not work.cancelled:
        for message in work.receive(timeout=0.05):
            work.emit(message)


def hit_a_bug(work, key: str) -> None:
    {}[key]  # a programming error, not a refused input
