"""The window's side of the training worker: commands out, newest frames and events in.

    controls --(edit)--> ExplorerModel / SessionController --(command queue)--> worker process
                               ^                                                     |
                               +--- 15 ms GUI-thread poll <- newest Frame, events ---+

The live Session lives in the worker process (rnnviz.session.worker); it trains there and never shares
the GIL with the UI. ``session`` here is a private copy, rebuilt from the state the worker sends when
it pauses, finishes a run of steps, opens or builds a session (or when asked: ``request_state``). Code
that needs a Session in the window (step-through builds, the gradient check, the comparison, exports)
reads it; it never trains. Every signal fires in the GUI thread; nothing here waits on the worker.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from rnnviz.session import worker_messages as w
from rnnviz.session.worker import run_training
from rnnviz.session.config import SessionConfig
from rnnviz.session.explorer import ExplorerModel
from rnnviz.session.session import Selection, Session
from rnnviz.session.snapshot import Snapshot
from rnnviz.ui.jobs import Job, JobRunner

MAX_RESTARTS = 2  # a worker process that dies again and again is not restarted for ever
RESTART_WINDOW_S = 30.0


def _commands_done(received: int) -> int:
    """The worker's count of commands applied, in the window's numbering, where the session the worker
    builds at start counts as command 1 (``_sent`` starts at 1)."""
    return received + 1


class SessionController(QObject):
    # the worker process's function (rnnviz.session.worker.run_training); a test may swap in a variant
    work_function: Callable[..., Any] = staticmethod(run_training)

    snapshot_ready = Signal(object)  # Snapshot of the live session (newest only)
    vanishing_ready = Signal(object)  # GradientFlowView of the live weights (labelled with its step)
    running_changed = Signal(bool)
    session_replaced = Signal(object)  # a copy of the new Session (new settings, preset, opened)
    session_updated = Signal(object)  # a copy of the same Session with newer weights or settings
    steps_finished = Signal(int)  # the step count when a finite run of steps ended
    diverged = Signal(str)  # what happened and what to try
    refused = Signal(str, str)  # (title, message): a command a person gave could not be carried out
    failed = Signal(str)  # a bug in the worker: the message (training paused, the app carries on)
    saved = Signal(str)  # the folder written
    opened = Signal(str)  # the session folder opened
    imported = Signal(str)  # the weights file imported
    rewound = Signal(object)  # Snapshot at a recorded step, or None: back to live
    idle = Signal()  # every command sent so far is done

    def __init__(self, config: SessionConfig | None = None, parent: QObject | None = None,
                 jobs: JobRunner | None = None, model: ExplorerModel | None = None) -> None:
        super().__init__(parent)
        self.model = model or ExplorerModel(config or SessionConfig())
        self.jobs = jobs or JobRunner(self)
        self.session: Session | None = None  # a private copy of the live session's newest state
        self.session_id = 0
        self.rewind_steps: tuple[int, ...] = ()
        self.speed = 0.0
        self._sent = 0  # commands sent to the worker
        self._done = 0  # commands the worker reported done (Idle)
        self._config_sent = 0  # number of the newest command that changes the settings
        self._state_callbacks: dict[str, Callable[[Session], None]] = {}
        self._last_state: w.SessionState | None = None
        self._full: Snapshot | None = None  # the newest full snapshot (Refresh messages update it)
        self._restarts: list[float] = []  # when the worker process was restarted after dying
        self.worker: Job | None = None
        self._start_worker(self.model.config)
        self.model.events.selection.connect(self._selection_changed)

    # ------------------------------------------------------------------ the worker process

    def _start_worker(self, start: SessionConfig | w.SessionState, preset: str | None = None) -> None:
        self._sent = self._done = self._config_sent = 0
        self.worker = self.jobs.start("training", self.work_function, start, self.model.selection, preset,
                                      process=True)
        self.worker.progress.connect(self._frame)
        self.worker.event.connect(self._event)
        self.worker.failed.connect(self._worker_failed)
        self._sent = 1  # the session it builds first counts as a command (busy until it is there)

    def _send(self, command: object, changes_config: bool = False) -> None:
        if self.worker is None or not self.worker.running:
            return
        self.worker.send(command)
        self._sent += 1
        if changes_config:
            self._config_sent = self._sent

    def _worker_failed(self, message: str) -> None:
        """The worker process died (a crash, or the OS killed it): say so and start a new one from the
        newest state the window has."""
        if self.jobs.closed:
            return
        self.model.running = False
        self.running_changed.emit(False)
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
        if len(self._restarts) > MAX_RESTARTS:
            self.failed.emit(f"The training process stopped: {message}. It stopped again right after "
                             "restarting, so it was not restarted; save your work and restart rnnviz.")
            return
        kept = "the last state the window received" if self._last_state else "the settings"
        self.failed.emit(f"The training process stopped: {message}. It was restarted from {kept}.")
        self._start_worker(self._last_state or self.model.config)

    # ------------------------------------------------------------------ state

    @property
    def config(self) -> SessionConfig:
        return self.model.config

    @property
    def selection(self) -> Selection:
        return self.model.selection

    @property
    def running(self) -> bool:
        return self.model.running

    @property
    def busy(self) -> bool:
        """Training, or a command sent is not done yet."""
        return self.model.running or self._done < self._sent

    # ------------------------------------------------------------------ commands

    def play(self) -> None:
        self._send(w.Play())

    def pause(self) -> None:
        self._send(w.Pause())

    def toggle(self) -> None:
        self.pause() if self.running else self.play()

    def step(self, count: int = 1) -> None:
        """``count`` more training steps; clicks while a step runs add up, none is dropped."""
        if not self.running:
            self._send(w.Step(int(count)))

    def refresh(self) -> None:
        """A new frame of the live session (without training)."""
        self._send(w.Select(self.model.selection))

    def set_selection(self, selection: Selection) -> None:
        self.model.select(selection.sample, selection.layer, selection.direction)

    def set_speed(self, steps_per_second: float) -> None:
        self.speed = float(steps_per_second)
        self._send(w.SetSpeed(self.speed))

    def new_session(self, config: SessionConfig, preset: str | None = None) -> None:
        """Replace the live session: new weights for ``config`` (a preset's own when named)."""
        self.model.set_config(config)
        self._send(w.NewSession(config, preset), changes_config=True)

    def reset(self, config: SessionConfig | None = None) -> None:
        self.new_session(config or (self.session.config if self.session is not None else self.config))

    def update_training(self, config: SessionConfig) -> None:
        """Learning rate, clipping, optimizer...: applied from the next step, weights kept."""
        self.model.set_config(config)
        self._send(w.Settings(config), changes_config=True)

    def open_session(self, path: str | Path) -> None:
        self._send(w.OpenSession(str(path)), changes_config=True)

    def save_session(self, path: str | Path) -> None:
        self._send(w.SaveSession(str(path)))

    def import_weights(self, path: str | Path) -> None:
        self._send(w.ImportWeights(str(path)))

    def edit_input(self, sample: int, timestep: int, values: tuple[float, ...] | None) -> None:
        """A what-if input of the view batch (None: the original); the next frame shows it."""
        if self.session is not None:  # the window's copy follows at once (step-through builds read it)
            self.session.edit_input(sample, timestep, None if values is None else list(values))
        self._send(w.EditInput(int(sample), int(timestep), None if values is None else tuple(map(float, values))))

    def edit_weight(self, name: str, index: tuple[int, ...], value: float) -> None:
        """A what-if weight entry, written between two steps; training continues from it."""
        if self.session is not None:
            from rnnviz.session.whatif import WeightEntry

            self.session.edit_weight(WeightEntry(name, tuple(index)), value)
        self._send(w.EditWeight(name, tuple(int(i) for i in index), float(value)))

    def rewind(self, step: int | None) -> None:
        """Show recorded training step ``step`` (the answer comes as ``rewound``); None: back to live."""
        self.model.rewound_to = step
        self._send(w.Rewind(step))

    def watch_vanishing(self, watching: bool) -> None:
        self._send(w.Watch(watching))

    def request_state(self, tag: str, callback: Callable[[Session], None]) -> None:
        """Call ``callback(session copy)`` with the live session as it is now (between two steps)."""
        if not self.busy and self.session is not None:
            callback(self.session)
            return
        self._state_callbacks[tag] = callback
        self._send(w.WantState(tag))

    def _selection_changed(self, selection: Selection) -> None:
        self._send(w.Select(selection))

    # ------------------------------------------------------------------ from the worker

    def _frame(self, frame: w.Frame | w.Refresh) -> None:
        if frame.session_id != self.session_id:
            return  # painted before the session was replaced
        if isinstance(frame, w.Refresh):
            if self._full is None:
                return
            snapshot = frame.applied_to(self._full)
        else:
            snapshot = self._full = frame.snapshot
        self.rewind_steps = frame.rewind_steps
        self.model.step = snapshot.step
        self.snapshot_ready.emit(snapshot)
        if isinstance(frame, w.Frame) and frame.vanishing is not None:
            self.vanishing_ready.emit(frame.vanishing)

    def _event(self, event: Any) -> None:
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is not None:
            handler(event)

    def _adopt(self, state: w.SessionState) -> Session:
        self._last_state = state
        self.session = state.session()
        self.model.step = state.step
        if _commands_done(state.received) >= self._config_sent:  # no newer settings are on their way
            self.model.set_config(state.config)
        return self.session

    def _on_SessionReady(self, event: w.SessionReady) -> None:
        self.session_id = event.state.session_id
        self._full = None
        self.rewind_steps = ()
        self.model.diverged = False
        self.model.rewound_to = None
        self.model.running = False
        session = self._adopt(event.state)
        self.session_replaced.emit(session)
        if event.opened_from is not None:
            self.opened.emit(event.opened_from)

    def _on_StateUpdate(self, event: w.StateUpdate) -> None:
        if event.state.session_id != self.session_id:
            return
        session = self._adopt(event.state)
        self.session_updated.emit(session)
        callback = self._state_callbacks.pop(event.tag, None)
        if callback is not None:
            callback(session)

    def _on_Running(self, event: w.Running) -> None:
        if self.model.running != event.running:
            self.model.running = event.running
            self.running_changed.emit(event.running)

    def _on_StepsDone(self, event: w.StepsDone) -> None:
        self.steps_finished.emit(event.step)

    def _on_Diverged(self, event: w.Diverged) -> None:
        self.model.diverged = True
        self.diverged.emit(event.message)

    def _on_Refused(self, event: w.Refused) -> None:
        if event.config is not None:
            self.model.set_config(event.config)
        self.model.resync()
        self.refused.emit(event.title, event.message)

    def _on_Failed(self, event: w.Failed) -> None:
        self.failed.emit(event.message)

    def _on_Busy(self, event: w.Busy) -> None:
        self.model.busy = event.text

    def _on_Saved(self, event: w.Saved) -> None:
        self.saved.emit(event.folder)

    def _on_Imported(self, event: w.Imported) -> None:
        self.model.diverged = False
        self.imported.emit(event.path)

    def _on_Rewound(self, event: w.Rewound) -> None:
        if self.model.rewound_to is not None or event.snapshot is None:
            self.rewound.emit(event.snapshot)

    def _on_Idle(self, event: w.Idle) -> None:
        self._done = max(self._done, _commands_done(event.received))
        if not self.busy:
            self.idle.emit()

    # ------------------------------------------------------------------ waiting (scripts, benchmarks)

    def wait_idle(self, timeout_ms: int = 10000) -> bool:
        """Process events until every command sent is done (screenshots and benchmarks only; the
        window never calls it)."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(timeout_ms)
        while self.busy and not deadline.hasExpired():
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
            self.jobs.poll()
        return not self.busy

    def shutdown(self, timeout: float = 1.5) -> None:
        """Stop the worker (and every other job of this runner) within ``timeout`` seconds."""
        self.jobs.shutdown(timeout)
