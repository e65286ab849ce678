"""Background work for views: one function at a time off the GUI thread, results back in it."""
from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal


class BackgroundJob(QObject):
    """One function at a time on a worker thread; the result comes back through ``done`` in the GUI thread.

    The worker never touches Qt: a GUI-thread timer polls the future. A request made while one runs
    replaces any request still waiting (only the newest matters for a view).
    """

    done = Signal(str, object)  # (tag, result)
    failed = Signal(str, str)  # (tag, message)

    def __init__(self, parent: QObject | None = None, poll_ms: int = 15) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rnnviz-job")
        self._running: tuple[str, Future] | None = None
        self._waiting: tuple[str, Callable[..., Any], tuple] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)
        self.seconds: dict[str, float] = {}  # last run time per tag (measured in the worker)

    @property
    def busy(self) -> bool:
        return self._running is not None or self._waiting is not None

    def submit(self, tag: str, function: Callable[..., Any], *args: Any) -> None:
        if self._running is not None:
            self._waiting = (tag, function, args)
            return
        self._start(tag, function, args)

    def _start(self, tag: str, function: Callable[..., Any], args: tuple) -> None:
        def timed() -> Any:
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds[tag] = time.perf_counter() - started

        self._running = (tag, self._executor.submit(timed))
        self._timer.start()

    def _poll(self) -> None:
        if self._running is None:
            self._timer.stop()
            return
        tag, future = self._running
        if not future.done():
            return
        self._running = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._start(*waiting)
        else:
            self._timer.stop()
        try:
            result = future.result()
        except Exception as exc:  # shown to the person; the app carries on
            self.failed.emit(tag, f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(tag, result)

    def wait(self) -> None:
        """Block until the queued work is done and delivered (for exports; never in normal use)."""
        while self.busy:
            if self._running is not None:
                wait_for([self._running[1]])
            self._poll()

    def shutdown(self) -> None:
        self._timer.stop()
        self._waiting = None
        self._executor.shutdown(wait=True, cancel_futures=True)
