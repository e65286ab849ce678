"""The bridge between a Qt-free Session and the window: training off the UI thread, snapshots in.

    controls --(edit)--> SessionController --(worker thread)--> Session.train_step / snapshot
                               ^                                        |
                               +---- 30 Hz GUI-thread timer <- latest --+

The worker never emits Qt signals: it only stores the newest snapshot (an immutable copy) in an
attribute. A GUI-thread timer picks it up at most 30 times a second and emits ``snapshot_ready``;
older snapshots are dropped, so the UI never queues frames and never waits on the worker.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session, StepOutcome
from rnnviz.session.snapshot import Snapshot

FRAME_INTERVAL_MS = 33  # <= 30 redraws per second
REFRESH_INTERVAL_MS = 100  # loss curve and counters between inspections: 10 Hz reads as live
SNAPSHOT_BUDGET = 0.1  # at most this share of the worker's time goes to inspecting the view batch


@dataclass
class _Frame:
    generation: int
    snapshot: Snapshot


class TrainingWorker(QThread):
    """Runs ``steps`` training steps (None: until stopped) on one session, keeping the newest snapshot."""

    def __init__(self, controller: "SessionController", session: Session, generation: int,
                 steps: int | None) -> None:
        super().__init__()
        self.controller = controller
        self.session = session
        self.generation = generation
        self.steps = steps
        self.stop_requested = threading.Event()
        self.diverged: StepOutcome | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._train()
        except Exception as exc:  # a bug must not kill the app silently: the UI shows it
            self.error = f"{type(exc).__name__}: {exc}"

    def _train(self) -> None:
        """Train, and keep a fresh snapshot for the UI: the inspection of the view batch (a forward
        and backward pass) at up to 30 Hz but only as often as ``SNAPSHOT_BUDGET`` of the worker's
        time allows; in between, the loss curve and counters (cheap: the history) at 10 Hz."""
        done, last_frame, last_full, full_cost = 0, 0.0, 0.0, 0.0
        full: Snapshot | None = None
        while not self.stop_requested.is_set() and (self.steps is None or done < self.steps):
            started = time.perf_counter()
            outcome = self.session.train_step()
            if not outcome.finite:
                self.diverged = outcome
                break
            done += 1
            now = time.perf_counter()
            if now - last_frame >= FRAME_INTERVAL_MS / 1000 and (
                    full is None or now - last_full >= full_cost / SNAPSHOT_BUDGET):
                last_full = time.perf_counter()
                full = self._publish()
                full_cost = time.perf_counter() - last_full
                last_frame = time.perf_counter()
            elif now - last_frame >= REFRESH_INTERVAL_MS / 1000:
                self._offer(self.session.refresh_snapshot(full))
                last_frame = time.perf_counter()
            self._throttle(started)
        self._publish()

    def _throttle(self, started: float) -> None:
        rate = self.controller.speed
        if rate > 0:
            remaining = 1.0 / rate - (time.perf_counter() - started)
            if remaining > 0:
                self.stop_requested.wait(remaining)

    def _publish(self) -> Snapshot:
        snapshot = self.session.snapshot(self.controller.selection)
        self._offer(snapshot)
        return snapshot

    def _offer(self, snapshot: Snapshot) -> None:
        self.controller._offer(_Frame(self.generation, snapshot))


class SessionController(QObject):
    """Owns the current Session and the training worker; all its signals fire in the GUI thread."""

    snapshot_ready = Signal(object)  # Snapshot
    running_changed = Signal(bool)
    session_replaced = Signal(object)  # the new Session
    diverged = Signal(str)  # what happened and what to try
    failed = Signal(str)
    steps_finished = Signal(int)  # the step count when a finite run of steps ended

    def __init__(self, config: SessionConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = Session(config or SessionConfig())
        self.selection = Selection()
        self.speed = 0.0  # steps per second; 0 = full speed
        self._generation = 0
        self._worker: TrainingWorker | None = None
        self._retired: list[TrainingWorker] = []  # abandoned workers, kept alive until they finish
        self._latest: _Frame | None = None
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.steps is None and not self._worker.isFinished()

    @property
    def busy(self) -> bool:
        return self._worker is not None and not self._worker.isFinished()

    @property
    def config(self) -> SessionConfig:
        return self.session.config

    # ------------------------------------------------------------------ commands

    def play(self) -> None:
        if not self.running and not self.session.diverged:
            self._start(steps=None)

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.stop_requested.set()

    def toggle(self) -> None:
        self.pause() if self.running else self.play()

    def step(self, count: int = 1) -> None:
        if not self.busy:
            self._start(steps=count)

    def refresh(self) -> None:
        """Recompute the snapshot (e.g. the selection changed) without training."""
        if not self.busy:
            self._start(steps=0)

    def set_selection(self, selection: Selection) -> None:
        self.selection = self.session.clamp(selection)
        self.refresh()

    def replace_session(self, session: Session) -> None:
        """Swap in a new session (reset, new architecture, opened file); the old worker is abandoned."""
        was_running = self.running
        self._abandon_worker()
        self.session = session
        self.selection = session.clamp(self.selection)
        self.session_replaced.emit(session)
        if was_running:
            self.running_changed.emit(False)
        self.refresh()

    def reset(self, config: SessionConfig | None = None) -> None:
        self.replace_session(Session(config or self.session.config))

    def update_training(self, config: SessionConfig) -> None:
        """Learning rate, clipping, optimizer...: applied from the next step, weights kept."""
        self.session.update_training(config)

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Stop training and wait for the worker (for saving or closing)."""
        if self._worker is None:
            return True
        self._worker.stop_requested.set()
        finished = self._worker.wait(timeout_ms)
        self._tick()
        return finished

    def shutdown(self) -> None:
        self._timer.stop()
        self.wait_idle(3000)
        for worker in self._retired:
            worker.stop_requested.set()
            worker.wait(3000)
        self._retired.clear()

    # ------------------------------------------------------------------ internals

    def _start(self, steps: int | None) -> None:
        self._abandon_worker()
        self._generation += 1
        self._worker = TrainingWorker(self, self.session, self._generation, steps)
        self._worker.start()
        if steps is None:
            self.running_changed.emit(True)

    def _abandon_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop_requested.set()
            self._retired.append(worker)
        self._generation += 1

    def _offer(self, frame: _Frame) -> None:  # worker thread
        with self._lock:
            self._latest = frame

    def _tick(self) -> None:  # GUI thread, <= 30 Hz
        with self._lock:
            frame, self._latest = self._latest, None
        if frame is not None and frame.generation == self._generation:
            self.snapshot_ready.emit(frame.snapshot)
        self._retired = [w for w in self._retired if not w.isFinished()]
        worker = self._worker
        if worker is not None and worker.isFinished():
            self._worker = None
            self._report_end(worker)

    def _report_end(self, worker: TrainingWorker) -> None:
        if worker.steps is None:
            self.running_changed.emit(False)
        if worker.error is not None:
            self.failed.emit(worker.error)
        elif worker.diverged is not None:
            outcome = worker.diverged
            self.diverged.emit(
                f"Training diverged at step {outcome.step + 1}: the loss or a gradient became "
                f"{'infinite' if outcome.loss == float('inf') else 'non-finite'} "
                f"(gradient norm {outcome.grad_norm:.3g}). Training paused and the last finite weights "
                "were kept. Try gradient clipping or a smaller learning rate."
            )
        elif worker.steps:
            self.steps_finished.emit(self.session.step)
