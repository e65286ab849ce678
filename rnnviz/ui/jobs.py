"""Background work for the window, one abstraction for all of it: training, the gradient check, the
comparison, step-through builds, rewinds.

    job = runner.start("gradient check", run_gradient_check, session, process=True)
    job.progress.connect(bar.setValue)       # newest value only (latest wins, never queued)
    job.done.connect(dialog.show_rows)       # every signal fires in the GUI thread
    job.cancel()                             # cooperative; a process is terminated after a grace period

A work function is Qt-free and takes a ``rnnviz.session.background.WorkContext`` first. It runs in a
thread of this process (short work on shared objects) or in a ``spawn`` process that imports no Qt
(training and long numeric work: it never shares the GIL with the UI, and it can always be stopped).
One GUI-thread timer polls every live job; nothing here ever blocks the UI, except ``shutdown`` at exit,
which waits at most its timeout and then terminates what is left.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import sys
import threading
import time
import types
from typing import Any, Iterator, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from rnnviz.session.background import (
    Envelope,
    decode,
    process_main,
    run_work,
    runtime_cells,
    thread_context,
    widen_pipe,
)

POLL_MS = 15
GRACE_S = 1.0  # a cancelled process gets this long to stop by itself before it is terminated
KILL_S = 0.4  # and this long after terminate() before kill()
MAX_MESSAGES_PER_POLL = 64  # events are small; a flood must not hold up the event loop


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a ``spawn`` process starts, show multiprocessing an empty ``__main__``.

    A spawned child normally re-runs the parent's main script (as ``__mp_main__``) before it unpickles
    its work; that script may import Qt (a benchmark) or even start the app again (an unguarded
    ``main.py``). Work functions live in rnnviz.session modules, so the child needs nothing from it.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to re-run
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class Job(QObject):
    """One piece of background work; its signals fire in the GUI thread."""

    progress = Signal(object)  # the newest progress value
    event = Signal(object)  # each event, in order
    done = Signal(object)  # the function's result
    failed = Signal(str)  # "Type: message"
    cancelled = Signal()
    ended = Signal()  # after done, failed or cancelled

    def __init__(self, tag: str, function: Callable[..., Any], args: tuple, process: bool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tag = tag
        self.function = function
        self.args = args
        self.process = process
        self.started_at: float | None = None
        self.seconds: float | None = None  # how long it ran, once it ended
        self.finished = False
        self.cancel_requested = False
        self._cancel_time = 0.0
        self._terminated = False
        self._runner: Any = None  # the thread or the process
        self._pipe_closed = False

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self.started_at = time.perf_counter()
        if self.process:
            self._start_process()
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        context, self._cancel, self._slot_free = thread_context(self._outbox, self._inbox)
        self._runner = threading.Thread(target=run_work, args=(self.function, self.args, context),
                                        name=f"rnnviz-{self.tag}", daemon=True)
        self._runner.start()

    def _start_process(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._outbox, writer = ctx.Pipe(duplex=False)  # messages come back as pickled bytes on a pipe
        widen_pipe(writer)
        self._inbox = ctx.Queue()
        self._inbox.cancel_join_thread()  # exiting never waits on a worker that stopped reading
        self._cancel, self._slot_free = ctx.Event(), ctx.Event()
        self._slot_free.set()
        self._runner = ctx.Process(
            target=process_main, name=f"rnnviz-{self.tag}", daemon=True,
            args=(pickle.dumps((self.function, self.args), protocol=pickle.HIGHEST_PROTOCOL), writer,
                  self._inbox, self._cancel, self._slot_free, runtime_cells()))
        with _main_module_hidden():
            self._runner.start()
        writer.close()  # the worker holds the only writing end: its exit is seen as end of file

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def running(self) -> bool:
        return self.started and not self.finished

    @property
    def alive(self) -> bool:
        """Its thread or process still exists (a cancelled one may outlive ``running`` briefly)."""
        return self._runner is not None and self._runner.is_alive()

    def send(self, message: Any) -> None:
        """A message for the work (it reads them with ``WorkContext.receive``); never blocks."""
        if self.running:
            self._inbox.put(message)

    def cancel(self) -> None:
        """Ask the work to stop. A process that has not stopped after ``GRACE_S`` is terminated."""
        if self.cancel_requested or self.finished:
            return
        self.cancel_requested = True
        self._cancel_time = time.monotonic()
        if self.started:
            self._cancel.set()

    # ------------------------------------------------------------------ polling (GUI thread)

    def poll(self) -> None:
        if not self.running:
            return
        latest, envelopes = self._take()
        for envelope in envelopes:
            if envelope.kind == "event":
                self.event.emit(envelope.payload)
            elif envelope.kind != "progress":
                self._end(envelope)
                return
        if latest is not None and not self.cancel_requested:
            self.progress.emit(latest.payload)
        self._check_alive()

    def _take(self) -> tuple[Envelope | None, list[Envelope]]:
        """What the work sent since the last poll; progress: only the newest (it frees the slot)."""
        latest, envelopes = None, []
        for _ in range(MAX_MESSAGES_PER_POLL):
            try:
                envelope = decode(self._receive())
            except (queue.Empty, OSError, EOFError, ValueError):
                break
            if envelope.kind == "progress":
                latest = envelope
                self._slot_free.set()
            else:
                envelopes.append(envelope)
        return latest, envelopes

    def _receive(self) -> Any:
        """The next message, or queue.Empty (a process's pipe; a thread's queue)."""
        if not self.process:
            return self._outbox.get_nowait()
        if self._pipe_closed or not self._outbox.poll():
            raise queue.Empty
        try:
            return self._outbox.recv_bytes()
        except (EOFError, OSError):  # the worker is gone and everything it wrote was read
            self._pipe_closed = True
            raise queue.Empty from None

    def _pending(self) -> bool:
        if not self.process:
            return not self._outbox.empty()
        try:
            return not self._pipe_closed and self._outbox.poll()
        except (OSError, EOFError, ValueError):
            return False

    def _check_alive(self) -> None:
        if not self.process:
            if not self._runner.is_alive() and not self._pending():
                self._end(Envelope("failed", "the background work stopped without a result"))
            return
        if self._runner.exitcode is not None and not self._pending():
            if self.cancel_requested:
                self._end(Envelope("cancelled"))
            else:
                self._end(Envelope("failed", f"the worker process stopped unexpectedly "
                                             f"(exit code {self._runner.exitcode})"))
            return
        if self.cancel_requested:
            self._escalate()

    def _escalate(self) -> None:
        waited = time.monotonic() - self._cancel_time
        if waited > GRACE_S + KILL_S:
            self._runner.kill()
        elif waited > GRACE_S and not self._terminated:
            self._terminated = True
            self._runner.terminate()

    def _end(self, envelope: Envelope) -> None:
        self.finished = True
        self.seconds = time.perf_counter() - (self.started_at or time.perf_counter())
        if self.process:
            self._runner.join(timeout=0.2)  # it has sent its last word: reap it (no zombie)
        if envelope.kind == "done" and not self.cancel_requested:
            self.done.emit(envelope.payload)
        elif envelope.kind == "failed" and not self.cancel_requested:
            self.failed.emit(str(envelope.payload))
        else:
            self.cancelled.emit()
        self.ended.emit()

    # ------------------------------------------------------------------ exit

    def stop_now(self, deadline: float) -> None:
        """At exit: cancel, wait for the work until ``deadline`` (time.monotonic), then terminate it."""
        self.cancel()
        if not self.started or self.finished:
            return
        if not self.process:
            self._runner.join(max(0.0, deadline - time.monotonic()))  # a daemon thread: never waited past it
            return
        self._runner.join(max(0.0, deadline - time.monotonic()))
        if self._runner.exitcode is None:
            self._runner.terminate()
            self._runner.join(KILL_S)
        if self._runner.exitcode is None:
            self._runner.kill()
            self._runner.join(KILL_S)


class JobRunner(QObject):
    """Starts jobs and polls them from one GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.jobs: list[Job] = []
        self._waiting: dict[str, Job] = {}  # per tag: the newest request waiting for the running one
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self.closed = False

    def start(self, tag: str, function: Callable[..., Any], *args: Any, process: bool = False) -> Job:
        """Run ``function(context, *args)`` in a thread (or a process) now."""
        job = Job(tag, function, args, process, self)
        if self.closed:
            job.finished = True
            return job
        self.jobs.append(job)
        job.start()
        self._timer.start()
        return job

    def start_latest(self, tag: str, function: Callable[..., Any], *args: Any, process: bool = False) -> Job:
        """Like ``start``, but one job per ``tag``: a running one is cancelled and this request waits for
        it to end; a request still waiting is replaced (only the newest matters to a view)."""
        running = self.running(tag)
        if running is None:
            return self.start(tag, function, *args, process=process)
        running.cancel()
        job = Job(tag, function, args, process, self)
        self._waiting[tag] = job
        self._timer.start()
        return job

    def running(self, tag: str) -> Job | None:
        return next((job for job in self.jobs if job.tag == tag and job.running), None)

    def busy(self, tag: str | None = None) -> bool:
        """True while a job (with ``tag``) runs or waits."""
        if tag is None:
            return bool(self._waiting) or any(job.running for job in self.jobs)
        return tag in self._waiting or self.running(tag) is not None

    def poll(self) -> None:
        for job in list(self.jobs):
            job.poll()
        self.jobs = [job for job in self.jobs if job.running]
        for tag, job in list(self._waiting.items()):
            if self.running(tag) is None:
                del self._waiting[tag]
                if not self.closed:
                    self.jobs.append(job)
                    job.start()
        if not self.jobs and not self._waiting:
            self._timer.stop()

    def wait(self, tag: str, timeout: float = 30.0) -> bool:
        """Block until the jobs with ``tag`` have ended and been delivered (exports only, never in
        normal use: it stops the event loop meanwhile). False on timeout."""
        deadline = time.monotonic() + timeout
        while self.busy(tag) and time.monotonic() < deadline:
            time.sleep(0.005)
            self.poll()
        return not self.busy(tag)

    def shutdown(self, timeout: float = 1.5) -> None:
        """Stop everything within ``timeout`` seconds (closing the window): cancel, wait, terminate."""
        self.closed = True
        self._timer.stop()
        self._waiting.clear()
        deadline = time.monotonic() + timeout
        for job in self.jobs:
            job.cancel()
        for job in self.jobs:
            job.stop_now(deadline)
        self.jobs = []
