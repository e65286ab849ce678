"""The "Step through time" page: the forward pass and BPTT one timestep at a time, on the real network.

    [controls: rnnviz.ui.step_controls]
    ┌ unrolled network (click a box: the cursor) ─────────────────────────────────────────┐
    ├ equations with live numbers ─────────┬ BPTT at the cursor ───────────────────────────┤
    └ why gradients vanish or explode ─────┴──────────────────────────────────────────────┘

The page steps a ``StepThrough`` (rnnviz.session.stepper) built, off the UI thread, from the controller's
copy of the session (training runs in another process and never touches it). Jumps of many steps run
off the UI thread too; moves asked for meanwhile wait in order and run after it (none is dropped). The
position and the shared cursor go to the explorer model, which the rest of the window follows. The
vanishing panel is drawn from what the training worker computes while this page is shown.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from rnnviz.session.explorer import StepPosition
from rnnviz.session.session import Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.common import plural
from rnnviz.session.views.gradient_flow import GradientFlowView, gradient_flow_view
from rnnviz.session.views.step_through import StepViews, current_timestep, full_pass_views, step_views
from rnnviz.session.work import build_stepper, move_stepper, seek_backward_end, seek_forward_end
from rnnviz.ui.cursor import CursorLines
from rnnviz.ui.panels.bptt import BpttPanel
from rnnviz.ui.panels.equations import EquationsPanel
from rnnviz.ui.panels.unrolled import UnrolledPanel
from rnnviz.ui.panels.vanishing import VanishingPanel
from rnnviz.ui.step_controls import PLAY_SPEEDS, StepControls, available_presets

__all__ = ["PLAY_SPEEDS", "StepThroughPage", "available_presets"]
BUILD, SEEK = "step-through build", "step-through jump"
MAX_QUEUED_MOVES = 256


class StepThroughPage(QWidget):
    """Step the forward pass and BPTT of the controller's session one timestep at a time."""

    timestep_changed = Signal(int)
    stepped = Signal()  # the stepper moved or was rebuilt (views are up to date)
    preset_chosen = Signal(str)
    gradient_check_requested = Signal()

    def __init__(self, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("step_through_page")
        self.controller, self.model, self.jobs = controller, controller.model, controller.jobs
        self.stepper: StepThrough | None = None
        self.timestep = 0
        self.built_at_step: int | None = None
        self._stale = True
        self._queued: list[str] = []  # moves asked for while a build or a jump ran
        self.panels = {"unrolled": UnrolledPanel(), "equations": EquationsPanel(), "bptt": BpttPanel(),
                       "vanishing": VanishingPanel()}
        for name, panel in self.panels.items():
            panel.setObjectName(f"panel_{name}")
            panel.setMinimumSize(260, 180)
        self.cursor_lines = CursorLines()
        for plot in self.panels["bptt"].time_plots():
            self.cursor_lines.attach(plot)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._play_tick)
        self.bar = StepControls(self)
        self._expose_controls()
        self._build_layout()
        self._connect()

    # ------------------------------------------------------------------ building

    def _expose_controls(self) -> None:
        bar = self.bar
        for name in ("preset_box", "start_button", "back_button", "next_button", "forward_end_button",
                     "backward_end_button", "play_button", "speed_box", "refresh_button", "check_button",
                     "position_label", "note"):
            setattr(self, name, getattr(bar, name))

    def _build_layout(self) -> None:
        self.left_tabs = QTabWidget()
        self.left_tabs.setObjectName("step_left_tabs")
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.addTab(self.panels["equations"], "Equations (forward)")
        self.left_tabs.addTab(self.panels["vanishing"], "Why gradients vanish or explode")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setObjectName("step_lower")
        lower.addWidget(self.left_tabs)
        lower.addWidget(self.panels["bptt"])
        lower.setSizes([500, 600])
        rows = QSplitter(Qt.Orientation.Vertical)
        rows.setObjectName("step_rows")
        rows.addWidget(self.panels["unrolled"])
        rows.addWidget(lower)
        rows.setSizes([320, 480])
        self.splitters = [rows, lower]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.bar)
        layout.addWidget(rows, 1)

    def _connect(self) -> None:
        bar, controller = self.bar, self.controller
        bar.move.connect(self.do)
        bar.preset_chosen.connect(self.preset_chosen)
        bar.gradient_check_requested.connect(self.gradient_check_requested)
        bar.refresh_requested.connect(self.catch_up)
        bar.speed_changed.connect(lambda rate: self.play_timer.setInterval(int(1000 / rate)))
        self.panels["unrolled"].cell_clicked.connect(self._cell_clicked)
        controller.session_replaced.connect(self._session_replaced)
        controller.session_updated.connect(lambda _session: self.mark_stale())
        controller.snapshot_ready.connect(self._snapshot_arrived)
        controller.vanishing_ready.connect(self.show_vanishing)
        self.model.events.selection.connect(self._selection_changed)

    # ------------------------------------------------------------------ when to rebuild

    def _session_replaced(self, _session: Session) -> None:
        self.stop_playing()
        self.mark_stale()

    def _selection_changed(self, _selection) -> None:
        self.mark_stale()

    def mark_stale(self) -> None:
        """The session, its weights or the selection changed: rebuild now when visible (unless training
        moves the weights on: then say so), else when next shown."""
        self._stale = True
        if self.isVisible() and not self.controller.running:
            self.rebuild(keep_position=True)
        elif self.isVisible():
            self._say_training(self.model.step)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.controller.watch_vanishing(True)
        if self._stale or self.stepper is None:
            self.rebuild(keep_position=True)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self.controller.watch_vanishing(False)

    def catch_up(self) -> None:
        """↻ Latest: step through the live weights, even while training runs (asked of the worker)."""
        self.bar.show_busy()
        self.controller.request_state("step-through", lambda session: self.rebuild(True, session))

    def _snapshot_arrived(self, snapshot) -> None:
        if self.isVisible() and self.controller.running:
            self._say_training(snapshot.step)

    def _say_training(self, live_step: int) -> None:
        if self.built_at_step is not None and live_step != self.built_at_step:
            self.bar.say(f"Stepping through the weights of training step {self.built_at_step:,}; "
                         f"training is at step {live_step:,} — press ↻ Latest to catch up.")

    # ------------------------------------------------------------------ building the stepper

    @property
    def busy(self) -> bool:
        """A build or a jump holds the stepper."""
        return self.jobs.busy(BUILD) or self.jobs.busy(SEEK)

    def rebuild(self, keep_position: bool = True, session: Session | None = None) -> None:
        """A new stepper over ``session`` (default: the controller's copy), built off the UI thread (a full
        forward and backward pass: ~0.1 s for an LSTM with H = 64, T = 200)."""
        session = session or self.controller.session
        if session is None:
            return
        position = self.position if keep_position else (0, 0)
        self._stale = False
        job = self.jobs.start_latest(BUILD, build_stepper, session, self.model.selection, position)
        job.done.connect(self._stepper_ready)
        job.failed.connect(lambda text: self._job_failed("build", text))
        self.bar.show_busy()

    def _stepper_ready(self, stepper: StepThrough) -> None:
        self.stepper = stepper
        self.built_at_step = stepper.session.step
        self.bar.say("")
        self._moved()

    def _job_failed(self, what: str, text: str) -> None:
        self.bar.say(f"Could not {what} the step-through: {text}")
        self._run_queued()

    @property
    def position(self) -> tuple[int, int]:
        """(forward steps taken, backward steps taken)."""
        if self.stepper is None:
            return 0, 0
        return self.stepper.forward_done, self.stepper.backward_done

    # ------------------------------------------------------------------ moving

    def do(self, move: str) -> None:
        """One of the moves of ``step_controls.MOVES``; while a build or jump runs it waits its turn."""
        if move == "toggle_play":
            self.toggle_play()
        elif self.busy or self.stepper is None:
            if len(self._queued) < MAX_QUEUED_MOVES:
                self._queued.append(move)
        else:
            getattr(self, move)()

    def _run_queued(self) -> None:
        while self._queued and not self.busy and self.stepper is not None:
            getattr(self, self._queued.pop(0))()

    def step_next(self) -> bool:
        """One timestep: forward while the forward pass is incomplete, then backward. False at the end."""
        stepper = self.stepper
        if stepper is None or self.busy:
            return False
        moved = stepper.step_forward() if stepper.forward_done < stepper.seq_len else stepper.step_backward()
        self._moved()
        return moved is not None

    def step_previous(self) -> None:
        if self.stepper is not None and not self.busy:
            if self.stepper.backward_done:
                self.stepper.step_backward_back()
            else:
                self.stepper.step_forward_back()
            self._moved()

    def to_start(self) -> None:
        if self.stepper is not None and not self.busy:
            self.stepper.reset()
            self._moved()

    def to_forward_end(self) -> None:
        self._jump(seek_forward_end)

    def to_backward_end(self) -> None:
        self._jump(seek_backward_end)

    def _jump(self, move: Callable[[StepThrough], None]) -> None:
        """Many steps at once run off the UI thread (T = 200 backward steps of an LSTM take ~0.3 s)."""
        if self.stepper is None or self.busy:
            return
        job = self.jobs.start(SEEK, move_stepper, self.stepper, move)
        job.done.connect(self._stepper_ready)
        job.failed.connect(lambda text: self._job_failed("move", text))
        self.bar.show_busy()

    def stop_playing(self) -> None:
        if self.play_timer.isActive():
            self.toggle_play()

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
        else:
            self.play_timer.setInterval(int(1000 / self.bar.play_speed))
            self.play_timer.start()
        self.bar.show_playing(self.play_timer.isActive())

    def _play_tick(self) -> None:
        if not self.busy and not self.step_next():
            self.toggle_play()

    def _moved(self) -> None:
        stepper = self.stepper
        self.model.stepping = StepPosition(stepper.forward_done, stepper.backward_done, self.built_at_step)
        current = current_timestep(stepper)
        self.set_timestep(stepper.order[0] if current is None else current)
        self._run_queued()

    def set_timestep(self, timestep: int) -> None:
        """Move the shared cursor (clicking a box, or following the steps)."""
        if self.stepper is None or self.busy:
            return
        self.timestep = int(min(max(timestep, 0), self.stepper.seq_len - 1))
        self.refresh_views()
        self.model.timestep = self.timestep
        self.timestep_changed.emit(self.timestep)

    def _cell_clicked(self, timestep: int, layer: int, direction: int) -> None:
        selection = self.model.selection
        if (layer, direction) != (selection.layer, selection.direction):
            self.model.select(layer=layer, direction=direction)
        self.set_timestep(timestep)

    # ------------------------------------------------------------------ drawing

    def refresh_views(self) -> None:
        stepper, t = self.stepper, self.timestep
        if stepper is None or self.busy:  # a background job is moving the stepper
            return
        self.show_views(step_views(stepper, t))
        self.cursor_lines.move(t)
        steps, (forward_done, backward_done) = stepper.seq_len, self.position
        where = (f"BPTT: {backward_done} of {plural(steps, 'step')} back" if backward_done else
                 f"Forward: {forward_done} of {plural(steps, 'timestep')}")
        self.position_label.setText(f"<b>{where}</b> · cursor t = {t}")
        self.bar.show_position(forward_done, backward_done, steps)
        self.stepped.emit()

    def show_views(self, views: StepViews) -> None:
        """Draw the diagram, the equations and BPTT (view states built by the session)."""
        self.panels["unrolled"].show_view(views.diagram)
        self.panels["equations"].show_view(views.equations)
        self.panels["bptt"].show_view(views.bptt)

    def show_vanishing(self, view: GradientFlowView) -> None:
        self.panels["vanishing"].show_view(view)

    def ensure_drawn(self) -> None:
        """Draw every panel even if the page was never shown or stepped (for exporting all plots;
        blocks): a page not stepped yet shows the whole forward and backward pass until it is stepped."""
        if self.stepper is None or self._stale:
            self.rebuild(keep_position=True)
        self.jobs.wait(BUILD)
        self.jobs.wait(SEEK)
        if self.stepper is not None and not self.busy and self.position == (0, 0):
            self.show_views(full_pass_views(self.stepper))
        session = self.controller.session
        if self.panels["vanishing"].data is None and session is not None:
            self.show_vanishing(gradient_flow_view(session, self.model.selection))

    def shutdown(self) -> None:
        self.play_timer.stop()
