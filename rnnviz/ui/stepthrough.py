"""The "Step through time" page: the forward pass and BPTT one timestep at a time, on the real network.

    [preset ▾] [⏮] [◀] [▶] [⏭ forward] [⏭ BPTT] [Play ▾speed] [↻ latest weights] [Gradient check]
    ┌ unrolled network (click a box: the cursor) ─────────────────────────────────────────┐
    ├ equations with live numbers ─────────┬ BPTT at the cursor ───────────────────────────┤
    └──────────────────────────────────────┴ why gradients vanish or explode (live) ───────┘

The page owns a ``StepThrough`` (rnnviz.session.stepper) built from a *frozen copy* of the session
(its own model with the weights copied), so stepping never touches the model the training thread
updates. One shared cursor, ``timestep``, follows the step being taken and moves when a box in the
diagram is clicked; ``timestep_changed`` tells the rest of the window. The vanishing panel is live:
it recomputes from the controller's newest snapshot (immutable) in a background job, at most
``VANISHING_HZ`` times a second.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.presets import PRESETS, Preset
from rnnviz.session.session import Selection, Session
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.common import plural
from rnnviz.session.views.gradient_flow import GradientFlowView, gradient_flow_view
from rnnviz.session.views.step_through import StepViews, current_timestep, full_pass_views, step_views
from rnnviz.ui.cursor import CursorLines
from rnnviz.ui.jobs import BackgroundJob
from rnnviz.ui.panels.bptt import BpttPanel
from rnnviz.ui.panels.equations import EquationsPanel
from rnnviz.ui.panels.unrolled import UnrolledPanel
from rnnviz.ui.panels.vanishing import VanishingPanel

PLAY_SPEEDS = {"1 step/s": 1.0, "2 steps/s": 2.0, "5 steps/s": 5.0, "15 steps/s": 15.0}
VANISHING_HZ = 2.0


class StepThroughPage(QWidget):
    """Step the forward pass and BPTT of the controller's session one timestep at a time."""

    timestep_changed = Signal(int)
    stepped = Signal()  # the stepper moved or was rebuilt (views are up to date)
    preset_chosen = Signal(str)
    gradient_check_requested = Signal()
    selection_requested = Signal(int, int)  # layer, direction (a box in another row was clicked)

    def __init__(self, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("step_through_page")
        self.controller = controller
        self.stepper: StepThrough | None = None
        self.timestep = 0
        self.built_at_step: int | None = None
        self._stale = True
        self._frozen: Session | None = None
        self._last_vanishing = 0.0
        self.busy = False
        self.stepper_job = BackgroundJob(self)
        self.stepper_job.done.connect(self._stepper_ready)
        self.stepper_job.failed.connect(self._stepper_failed)
        self.job = BackgroundJob(self)
        self.job.done.connect(self._job_done)
        self.job.failed.connect(lambda tag, text: self.note.setText(f"{tag} failed: {text}"))
        self.panels = {"unrolled": UnrolledPanel(), "equations": EquationsPanel(), "bptt": BpttPanel(),
                       "vanishing": VanishingPanel()}
        for name, panel in self.panels.items():
            panel.setObjectName(f"panel_{name}")
            panel.setMinimumSize(260, 180)
        self.cursor_lines = CursorLines()
        self.cursor_lines.attach(self.panels["bptt"].norm_plot)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._play_tick)
        self._build_controls()
        self._build_layout()
        self.panels["unrolled"].cell_clicked.connect(self._cell_clicked)
        controller.session_replaced.connect(self._session_replaced)
        controller.steps_finished.connect(self._steps_finished)
        controller.running_changed.connect(self._running_changed)
        controller.snapshot_ready.connect(self._snapshot_arrived)

    # ------------------------------------------------------------------ building

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _build_controls(self) -> None:
        self.preset_box = QComboBox()
        self.preset_box.setObjectName("preset_box")
        self.preset_box.setToolTip("One-click demonstrations (replaces the network; asks first)")
        self.preset_box.addItem("Presets…", None)
        for name, preset in available_presets().items():
            self.preset_box.addItem(preset.title, name)
            self.preset_box.setItemData(self.preset_box.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset_box.activated.connect(self._preset_activated)
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_box.setMinimumContentsLength(10)
        self.start_button = self._button("◀◀", "step_start", "Back to before the first step (Home)", self.to_start)
        self.back_button = self._button("◀ Back", "step_back", "Undo one step (←)", self.step_previous)
        self.next_button = self._button("Step ▶", "step_next",
                                        "One timestep: forward until t = T, then back through time (→)",
                                        self.step_next)
        self.forward_end_button = self._button("Forward ▶▶", "step_forward_end",
                                               "Finish the forward pass (End)", self.to_forward_end)
        self.backward_end_button = self._button("BPTT ▶▶", "step_backward_end",
                                                "Finish the backward pass (Ctrl+End)", self.to_backward_end)
        self.play_button = self._button("▶ Play", "step_play", "Step automatically (P)", self.toggle_play)
        self.speed_box = QComboBox()
        self.speed_box.setObjectName("step_speed")
        self.speed_box.addItems(list(PLAY_SPEEDS))
        self.speed_box.setCurrentIndex(1)
        self.speed_box.setToolTip("Playing speed")
        self.speed_box.currentTextChanged.connect(lambda _t: self._apply_speed())
        self.refresh_button = self._button("↻ Latest", "step_refresh",
                                           "Step through the network as it is now (training moves the weights on)",
                                           lambda: self.rebuild(keep_position=True))
        self.check_button = self._button("Grad check…", "gradient_check",
                                         "Finite differences against BPTT for every weight matrix",
                                         self.gradient_check_requested.emit)
        self.position_label = QLabel()
        self.position_label.setObjectName("step_position")
        self.note = QLabel()
        self.note.setObjectName("step_note")
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(self.preset_box)
        bar.addSpacing(12)
        for button in (self.start_button, self.back_button, self.next_button, self.forward_end_button,
                       self.backward_end_button, self.play_button):
            bar.addWidget(button)
        bar.addWidget(self.speed_box)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.check_button)
        self.control_bar = bar
        self._actions = []
        for key, slot, text in (
            (Qt.Key.Key_Right, self.step_next, "Step through time: next timestep"),
            (Qt.Key.Key_Left, self.step_previous, "Step through time: back one timestep"),
            (Qt.Key.Key_Home, self.to_start, "Step through time: to the start"),
            (Qt.Key.Key_End, self.to_forward_end, "Step through time: finish the forward pass"),
            (QKeySequence("Ctrl+End"), self.to_backward_end, "Step through time: finish BPTT"),
            (Qt.Key.Key_P, self.toggle_play, "Step through time: play / pause"),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.addAction(action)
            self._actions.append(action)

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
        layout.addLayout(self.control_bar)
        status = QHBoxLayout()
        status.setContentsMargins(8, 0, 8, 0)
        status.addWidget(self.position_label)
        status.addWidget(self.note, 1)
        layout.addLayout(status)
        layout.addWidget(rows, 1)

    # ------------------------------------------------------------------ the stepper

    def _session_replaced(self, _session: Session) -> None:
        self.stop_playing()
        self.mark_stale()

    def _steps_finished(self, _step: int) -> None:
        self.mark_stale()

    def _running_changed(self, running: bool) -> None:
        if not running:
            self.mark_stale()

    def mark_stale(self) -> None:
        """The session or its weights changed: rebuild now when visible, else when next shown."""
        self._stale = True
        if self.isVisible() and not self.controller.running:
            self.rebuild(keep_position=True)
        elif self.isVisible():
            self._say_training()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale or self.stepper is None:
            self.rebuild(keep_position=True)
        self.request_vanishing()

    def ensure_drawn(self) -> None:
        """Draw every panel even if the page was never shown or stepped (for exporting all plots): a page
        not stepped yet shows the whole forward and backward pass until it is stepped."""
        if self.stepper is None or self._stale:
            self.rebuild(keep_position=True)
            self.stepper_job.wait()
        if self.stepper is not None and not self.busy and self.position == (0, 0):
            self.show_views(full_pass_views(self.stepper))
        if self.panels["vanishing"].data is None:
            self.panels["vanishing"].show_view(live_vanishing(self.controller.session, self.controller.selection))

    def rebuild(self, keep_position: bool = True) -> None:
        """A new stepper from a frozen copy of the session's current weights, built off the UI thread
        (it runs a full forward and backward pass: ~0.1 s for an LSTM with H = 64, T = 200)."""
        session = self.controller.session
        old = self.stepper
        position = (old.forward_done, old.backward_done) if old is not None and keep_position else (0, 0)
        frozen = session.frozen_copy()  # copied here, in the GUI thread, while the controller is idle
        self._stale = False
        self._set_busy(True)
        self.stepper_job.submit("build", build_stepper, frozen, self.controller.selection, position,
                                session.step)

    def _stepper_ready(self, tag: str, result: Any) -> None:
        if tag == "build":
            self.stepper, self.built_at_step = result
            self._frozen = self.stepper.session
            self.note.setText("")
        self._set_busy(self.stepper_job.busy)
        self._after_move()

    def _stepper_failed(self, tag: str, text: str) -> None:
        self._set_busy(self.stepper_job.busy)
        self.note.setText(f"  Could not {tag} the step-through: {text}")

    def _set_busy(self, busy: bool) -> None:
        """While a background job owns the stepper, the stepping buttons wait."""
        self.busy = busy
        for button in (self.start_button, self.back_button, self.next_button, self.forward_end_button,
                       self.backward_end_button):
            button.setEnabled(not busy)
        if busy:
            self.position_label.setText("<b>computing…</b>")
        elif self.stepper is not None:
            self._update_buttons()

    def _say_training(self) -> None:
        if self.built_at_step is not None:
            self.note.setText(f"  Stepping through the weights of training step {self.built_at_step:,}; "
                              "training has moved on — press ↻ Latest to catch up.")

    @property
    def position(self) -> tuple[int, int]:
        """(forward steps taken, backward steps taken)."""
        if self.stepper is None:
            return 0, 0
        return self.stepper.forward_done, self.stepper.backward_done

    def _ready(self) -> StepThrough | None:
        """The stepper when the UI may step it (built, and no background job holds it)."""
        return None if self.busy else self.stepper

    def step_next(self) -> bool:
        """One timestep: forward while the forward pass is incomplete, then backward. False at the end."""
        stepper = self._ready()
        if stepper is None:
            return False
        moved = (stepper.step_forward() if stepper.forward_done < stepper.seq_len else stepper.step_backward())
        self._after_move()
        return moved is not None

    def step_previous(self) -> None:
        stepper = self._ready()
        if stepper is None:
            return
        if stepper.backward_done:
            stepper.step_backward_back()
        else:
            stepper.step_forward_back()
        self._after_move()

    def to_start(self) -> None:
        stepper = self._ready()
        if stepper is not None:
            stepper.reset()
            self._after_move()

    def to_forward_end(self) -> None:
        self._seek(lambda stepper: stepper.seek_forward(stepper.seq_len))

    def to_backward_end(self) -> None:
        self._seek(lambda stepper: stepper.seek_backward(stepper.seq_len))

    def _seek(self, move: Callable[[StepThrough], None]) -> None:
        """Many steps at once run off the UI thread (T = 200 backward steps of an LSTM take ~0.3 s)."""
        stepper = self._ready()
        if stepper is None:
            return
        self._set_busy(True)
        self.stepper_job.submit("seek", move, stepper)

    def stop_playing(self) -> None:
        if self.play_timer.isActive():
            self.toggle_play()

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
        else:
            self._apply_speed()
            self.play_timer.start()
        self.play_button.setText("‖ Pause" if self.play_timer.isActive() else "▶ Play")

    def _apply_speed(self) -> None:
        self.play_timer.setInterval(int(1000 / PLAY_SPEEDS[self.speed_box.currentText()]))

    def _play_tick(self) -> None:
        if self.busy:
            return
        if not self.step_next():
            self.toggle_play()

    def _following_timestep(self) -> int:
        """The timestep of the step just taken (the first one to take at the start)."""
        current = current_timestep(self.stepper)
        return self.stepper.order[0] if current is None else current

    def _after_move(self) -> None:
        if self.stepper is not None:
            self.set_timestep(self._following_timestep())

    def set_timestep(self, timestep: int) -> None:
        """Move the shared cursor (clicking a box, or following the steps)."""
        if self.stepper is None or self.busy:
            return
        self.timestep = int(min(max(timestep, 0), self.stepper.seq_len - 1))
        self.refresh_views()
        self.timestep_changed.emit(self.timestep)

    def _cell_clicked(self, timestep: int, layer: int, direction: int) -> None:
        selection = self.controller.selection
        if (layer, direction) != (selection.layer, selection.direction):
            self.selection_requested.emit(layer, direction)
        self.set_timestep(timestep)

    def _preset_activated(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        self.preset_box.setCurrentIndex(0)
        if name:
            self.preset_chosen.emit(name)

    # ------------------------------------------------------------------ drawing

    def refresh_views(self) -> None:
        stepper = self.stepper
        if stepper is None or self.busy:  # a background job is moving the stepper
            return
        t = self.timestep
        self.show_views(step_views(stepper, t))
        self.cursor_lines.move(t)
        steps, (forward_done, backward_done) = stepper.seq_len, self.position
        where = (f"BPTT: {backward_done} of {plural(steps, 'step')} back" if backward_done else
                 f"Forward: {forward_done} of {plural(steps, 'timestep')}")
        self.position_label.setText(f"<b>{where}</b> · cursor t = {t} · → step, ← back, click a box to inspect it")
        self.position_label.setToolTip(f"Stepping through the weights of training step {self.built_at_step:,}")
        self._update_buttons()
        self.stepped.emit()

    def show_views(self, views: StepViews) -> None:
        """Draw the diagram, the equations and BPTT (view states built by the session)."""
        self.panels["unrolled"].show_view(views.diagram)
        self.panels["equations"].show_view(views.equations)
        self.panels["bptt"].show_view(views.bptt)

    def _update_buttons(self) -> None:
        forward_done, backward_done = self.position
        steps = self.stepper.seq_len
        self.start_button.setEnabled(forward_done > 0)
        self.back_button.setEnabled(forward_done > 0)
        self.next_button.setEnabled(backward_done < steps)
        self.forward_end_button.setEnabled(forward_done < steps)
        self.backward_end_button.setEnabled(backward_done < steps)

    # ------------------------------------------------------------------ the live vanishing panel

    def _snapshot_arrived(self, _snapshot: Snapshot) -> None:
        if not self.isVisible():
            return
        now = time.perf_counter()
        # at most VANISHING_HZ, and never more than a fifth of one core (0.35 s for LSTM H=64, T=200)
        interval = max(1.0 / VANISHING_HZ, 5.0 * self.job.seconds.get("vanishing", 0.0))
        if self.controller.running and (now - self._last_vanishing < interval or self.job.busy):
            return
        self._last_vanishing = now
        self.request_vanishing()

    def request_vanishing(self) -> None:
        """Recompute the vanishing panel from the session's current weights, off the UI thread."""
        self.job.submit("vanishing", live_vanishing, self.controller.session, self.controller.selection)

    def _job_done(self, tag: str, result: Any) -> None:
        if tag == "vanishing":
            self.panels["vanishing"].show_view(result)

    def shutdown(self) -> None:
        self.play_timer.stop()
        self.stepper_job.shutdown()
        self.job.shutdown()


def build_stepper(frozen: Session, selection: Selection, position: tuple[int, int],
                  step: int) -> tuple[StepThrough, int]:
    """A stepper over ``frozen`` moved to ``position`` (forward, backward steps) when it fits."""
    stepper = StepThrough(frozen, selection)
    forward, backward = (min(p, stepper.seq_len) for p in position)
    if backward:
        stepper.seek_backward(backward)
    else:
        stepper.seek_forward(forward)
    return stepper, step


def available_presets() -> dict[str, Preset]:
    """The session's one-click demonstrations, by name."""
    return dict(PRESETS)


def live_vanishing(session: Session, selection: Selection) -> GradientFlowView:
    """The vanishing/exploding view of the session's current weights, for a background thread.

    The weights are copied first (``Session.frozen_copy``); while training runs in another thread that copy
    can mix two consecutive steps' values, which a live picture can afford (stepping never can: the
    stepper is rebuilt only from a paused session or on request).
    """
    step = session.step
    return gradient_flow_view(session.frozen_copy(), selection, step=step)
