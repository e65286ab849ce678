"""What a piece of background work sees of the world, the same in a thread and in a process. Qt-free.

    def count_to(work: WorkContext, n: int) -> int:
        for k in range(n):
            work.check()                  # raises Cancelled once cancel was asked for
            work.progress(k / n)          # the newest value wins; never queued behind older ones
        return n

A work function takes a ``WorkContext`` first. ``progress`` values are *latest wins*: at most one is
in flight to the UI; while it has not been taken, a newer value replaces the held one (so a busy UI
never makes the work queue frames). ``emit`` sends an event that is never dropped (in order). ``receive``
returns the messages the UI sent (commands). The UI side (rnnviz.ui.jobs) runs the function in a thread
or in a ``spawn`` process; in a process every message crosses as bytes pickled at the moment it is
sent, so later changes to an object never leak into what was sent.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import pickle
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from rnnviz import logs

USER_ERRORS = (ValueError, OSError, MemoryError)  # what a file or a setting can cause (ConfigError... are ValueErrors)
PARENT_CHECK_S = 0.5  # a worker process looks this often whether the app that started it still lives
RECEIVE_SLICE_S = 0.02  # while waiting for a command, flush held progress at least this often
WORKER_NICENESS = 5  # a worker process's lower scheduling priority (POSIX): the UI stays smooth on 2 cores
F_SETPIPE_SZ = 1031  # Linux fcntl: set a pipe's capacity
PIPE_BYTES = 1 << 20  # a frame of the benchmark's LSTM (H=64, T=200) is ~1 MB; Linux allows 1 MiB unprivileged


class Cancelled(Exception):
    """Raised by ``WorkContext.check`` when the work was asked to stop."""


@dataclass(frozen=True)
class Envelope:
    """One message from the work to the UI. kind: progress | event | done | failed | cancelled."""

    kind: str
    payload: Any = None


class _Flag(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def clear(self) -> None: ...


_NOTHING = object()


class WorkContext:
    """The work's side of the channels. ``send`` puts an Envelope (or its pickled bytes) on the outbox."""

    def __init__(self, send: Callable[[Envelope], None], inbox: Any, cancel: _Flag, slot_free: _Flag,
                 parent_alive: Callable[[], bool] | None = None) -> None:
        self._send = send
        self._inbox = inbox
        self._cancel = cancel
        self._slot_free = slot_free
        self._parent_alive = parent_alive
        self._parent_checked = 0.0
        self._held: Any = _NOTHING

    # ------------------------------------------------------------------ stopping

    @property
    def cancelled(self) -> bool:
        if self._cancel.is_set():
            return True
        if self._parent_alive is not None and time.monotonic() - self._parent_checked > PARENT_CHECK_S:
            self._parent_checked = time.monotonic()
            if not self._parent_alive():  # the app is gone: no orphan keeps running
                self._cancel.set()
                return True
        return False

    def check(self) -> None:
        """Raise ``Cancelled`` when the UI asked the work to stop."""
        if self.cancelled:
            raise Cancelled()

    # ------------------------------------------------------------------ to the UI

    def progress(self, value: Any) -> None:
        """Offer the newest progress value (a fraction, a frame...): sent now if the UI has taken the
        previous one, else held, replacing any value held before."""
        self._held = value
        self.flush()

    def flush(self) -> None:
        """Send the held progress value if the UI has taken the previous one."""
        if self._held is not _NOTHING and self._slot_free.is_set():
            self._slot_free.clear()
            value, self._held = self._held, _NOTHING
            self._send(Envelope("progress", value))

    def progress_wanted(self) -> bool:
        """True when a progress value offered now would be sent at once (worth building one)."""
        self.flush()
        return self._held is _NOTHING and self._slot_free.is_set()

    @property
    def holding(self) -> bool:
        """A progress value waits for the UI to take the previous one."""
        return self._held is not _NOTHING

    def discard_progress(self) -> None:
        """Forget a held progress value (it describes something that no longer exists)."""
        self._held = _NOTHING

    def emit(self, event: Any) -> None:
        """Send an event to the UI; events are never dropped and arrive in order."""
        self._send(Envelope("event", event))

    # ------------------------------------------------------------------ from the UI

    def receive(self, timeout: float = 0.0) -> list[Any]:
        """Every message the UI has sent so far; waits up to ``timeout`` seconds for the first one
        (flushing held progress meanwhile). Returns early, empty, once cancelled."""
        deadline = time.monotonic() + timeout
        messages: list[Any] = []
        while True:
            self.flush()
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0 and not messages:
                    messages.append(self._inbox.get(timeout=min(remaining, RECEIVE_SLICE_S)))
                else:
                    messages.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            if messages or remaining <= 0 or self.cancelled:
                return messages


def run_work(function: Callable[..., Any], args: tuple, context: WorkContext) -> None:
    """Run ``function(context, *args)`` and report how it ended on the context's outbox."""
    try:
        result = function(context, *args)
    except Cancelled:
        context._send(Envelope("cancelled"))
    except Exception as exc:  # a bug or a refused input: the UI shows the message, the app carries on
        context._send(Envelope("failed", describe(exc)))
    else:
        context._send(Envelope("done", result))


def describe(exc: BaseException, where: str = "background work") -> str:
    """What a person is told. A refused input (``USER_ERRORS``) is ``Type: message``; anything else is
    a bug: its traceback goes to the log file (rnnviz.logs) and the message says where that file is."""
    if isinstance(exc, USER_ERRORS):
        logging.getLogger(__name__).warning("%s refused: %s: %s", where, type(exc).__name__, exc)
        return f"{type(exc).__name__}: {exc}"
    return logs.report_unexpected(exc, where)


# ---------------------------------------------------------------------- in a worker process


def runtime_cells() -> tuple[tuple[str, str], ...]:
    """(module, name) of every cell kind registered at run time from outside rnnviz: a worker process
    registers them too (a spawned process starts with the built-in ones only)."""
    from rnnviz.engine.cells import cell_specs

    return tuple((spec.step_forward.__module__, spec.name) for spec in cell_specs()
                 if not spec.step_forward.__module__.startswith("rnnviz."))


def register_cells(cells: tuple[tuple[str, str], ...]) -> None:
    """Register, in this process, the cells ``runtime_cells`` named in the parent (by importing the
    module that defines each ``CellSpec``)."""
    import importlib

    from rnnviz.engine.cells import CELLS, CellSpec, register

    for module_name, name in cells:
        if name not in CELLS:
            module = importlib.import_module(module_name)
            register(next(v for v in vars(module).values() if isinstance(v, CellSpec) and v.name == name))


def widen_pipe(connection: Any) -> None:
    """Let the pipe behind ``connection`` hold ``PIPE_BYTES`` (Linux; elsewhere nothing changes), so a
    frame is written in one go: the worker never waits for the window to read, and the window's read
    never waits for the worker to be scheduled again."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, OSError, ValueError):  # not Linux, or the system allows less: default size
        pass


def process_main(work: bytes, outbox: Any, inbox: Any, cancel: Any, slot_free: Any,
                 cells: tuple[tuple[str, str], ...] = ()) -> None:
    """Entry point of a ``spawn`` worker process (it imports no Qt): run one work function.

    ``work`` is the pickled (function, args); it is unpickled only after ``cells`` (the parent's
    run-time cell kinds, ``runtime_cells``) are registered here, since cell specs pickle by name.
    Ctrl+C in a terminal reaches every process of the group; the app decides when its workers stop,
    so the worker ignores it (no KeyboardInterrupt traceback). Messages go out as pickled bytes on
    ``outbox``, the writing end of a pipe, from this thread (no feeder thread competing for the GIL).
    """
    import multiprocessing

    logs.start_logging(role=f"worker process {multiprocessing.current_process().name}")  # the same log file
    if not faulthandler.is_enabled():
        logs.enable_crash_log()  # a crash in the numeric code leaves its stack in crash.log
    register_cells(cells)
    function, args = pickle.loads(work)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)  # background work yields the CPU to the window when both want it
    from rnnviz.engine.threads import pin_blas_threads

    pin_blas_threads()
    widen_pipe(outbox)
    parent = multiprocessing.parent_process()

    def send(envelope: Envelope) -> None:
        outbox.send_bytes(pickle.dumps(envelope, protocol=pickle.HIGHEST_PROTOCOL))

    def parent_alive() -> bool:
        return parent is None or parent.is_alive()

    run_work(function, args, WorkContext(send, inbox, cancel, slot_free, parent_alive))
    sys.stdout.flush()


def decode(message: Any) -> Envelope:
    """An Envelope from what a worker sent (pickled bytes from a process, the object from a thread)."""
    return pickle.loads(message) if isinstance(message, bytes) else message


def thread_context(outbox: "queue.SimpleQueue[Any]", inbox: "queue.SimpleQueue[Any]") -> tuple[
        WorkContext, threading.Event, threading.Event]:
    """A context for work in a thread of this process, with its cancel and slot-free flags."""
    cancel, slot_free = threading.Event(), threading.Event()
    slot_free.set()
    return WorkContext(outbox.put, inbox, cancel, slot_free), cancel, slot_free
