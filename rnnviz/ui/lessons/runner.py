"""What a lesson step does to the window: its ``do:`` actions (in order, each when the window is ready
for it), the outline around the widget it ``highlight``s, and the state its ``check`` looks at.

Actions that change the session go to the training worker at once (its command queue keeps their
order); actions on the step-through page (``move``, ``timestep``) wait until the page has built its
stepper for the session the earlier actions asked for.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from rnnviz.session.lessons import MOVES, Action
from rnnviz.session.presets import PRESETS
from rnnviz.ui.lessons.highlight import Highlighter
from rnnviz.ui.panels.base import Panel

POLL_MS = 50
GIVE_UP_S = 60.0  # an action still not possible after this long is dropped (said in the status bar)
STEP_PAGE_ACTIONS = ("move", "timestep")
BUILT_IN_PAGES = {0: "training", 1: "step", 2: "scan"}  # the window's first three tabs


class LessonRunner(QObject):
    """Runs lesson actions on ``window`` (a MainWindow) and outlines what a step talks about."""

    finished = Signal()  # every action asked for so far has run

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.pending: list[Action] = []
        self.highlighter = Highlighter(self)
        self._waiting_since: float | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._run_pending)

    @property
    def busy(self) -> bool:
        """Actions are still waiting to run."""
        return bool(self.pending)

    def run(self, actions: tuple[Action, ...] | list[Action]) -> None:
        self.pending.extend(actions)
        self._run_pending()

    def cancel(self) -> None:
        self.pending.clear()
        self._timer.stop()

    def _run_pending(self) -> None:
        while self.pending:
            action = self.pending[0]
            if not self._ready(action):
                self._waiting_since = self._waiting_since or time.monotonic()
                if time.monotonic() - self._waiting_since > GIVE_UP_S:
                    self.pending.pop(0)
                    self.window.status_message(f"The lesson could not do '{action.kind}' (line {action.line}): "
                                               "the window was busy for too long")
                    self._waiting_since = None
                    continue
                self._timer.start()
                return
            self._waiting_since = None
            self.pending.pop(0)
            self._do(action)
        self.finished.emit()

    # ------------------------------------------------------------------ actions

    def _ready(self, action: Action) -> bool:
        controller = self.window.controller
        if action.kind == "train":
            if controller.running:
                controller.pause()
                return False
            return True
        if action.kind in STEP_PAGE_ACTIONS:
            return self._step_page_ready()
        return True

    def _step_page_ready(self) -> bool:
        window, controller = self.window, self.window.controller
        if controller.busy:
            return False
        if window.tabs.currentIndex() != 1:
            window.show_page_named("step")
        page = window.step_page
        stepper = page.stepper
        return (stepper is not None and not page.busy and stepper.session.step == controller.model.step
                and stepper.session.config == controller.config)

    def _do(self, action: Action) -> None:
        window, controller = self.window, self.window.controller
        kind, value = action.kind, action.value
        if kind == "config":
            window.notices.hide_preset()
            controller.new_session(value)
        elif kind == "set":
            config = controller.config.replace(**value)
            if config.architecture() == controller.config.architecture():
                controller.update_training(config)
            else:
                controller.new_session(config)
        elif kind == "preset":
            controller.new_session(PRESETS[value].config, preset=value)
            window.notices.hide_preset()  # the lesson narrates it; the pages keep their height
        elif kind == "page":
            window.show_page_named(value)
        elif kind == "train":
            controller.step(value)
        elif kind == "play":
            controller.play()
        elif kind == "pause":
            controller.pause()
        elif kind == "select":
            window.model.select(**value)
        elif kind == "timestep":
            window.step_page.set_timestep(value)
        elif kind == "move":
            name, count = value
            for _ in range(count):
                window.step_page.do(MOVES[name])

    # ------------------------------------------------------------------ highlight

    def highlight(self, name: str | None) -> None:
        if name is None:
            self.highlighter.clear()
            return
        target = self.widget_for(name)
        if target is not None:
            self.highlighter.show(target)

    def widget_for(self, name: str) -> QWidget | None:
        """The widget a lesson calls ``name``: a panel (built with its page if need be) or a control."""
        window = self.window
        controls = {
            "play_controls": lambda: window.training_bar,
            "training_controls": lambda: window.training_dock,
            "network_controls": lambda: window.network_dock,
            "task_controls": lambda: window.task_dock,
            "step_controls": lambda: window.step_page.bar,
            "view_bar": lambda: window.view_bar,
        }
        if name in controls:
            return controls[name]()
        pages = {"training": lambda: window.training_page, "step": lambda: window.step_page,
                 "scan": lambda: window.scan_page}
        if name in pages:
            return pages[name]()
        if name in window._page_holders:  # a page (a panel of the same name may be hidden until used)
            return window.page(name)
        found = self._find_panel(name)
        if found is None:
            window.step_page  # noqa: B018 (builds the step-through page and its panels)
            found = self._find_panel(name)
        if found is None:
            from rnnviz.ui.pages import PAGES

            for spec in PAGES:
                window.page(spec.name)
                found = self._find_panel(name)
                if found is not None:
                    break
        return found

    def _find_panel(self, name: str) -> Panel | None:
        return next((panel for panel in self.window.findChildren(Panel) if panel.name == name), None)

    # ------------------------------------------------------------------ checks

    def current_page(self) -> str:
        window = self.window
        index = window.tabs.currentIndex()
        if index in BUILT_IN_PAGES:
            return BUILT_IN_PAGES[index]
        current = window.tabs.currentWidget()
        return next((name for name, holder in window._page_holders.items() if holder is current), "")

    def state(self, answered: bool) -> dict[str, Any]:
        """What a lesson's checks can look at (rnnviz.session.lessons.CHECK_QUANTITIES)."""
        model, config, snapshot = self.window.model, self.window.model.config, self.window.last_snapshot
        return {
            "step": model.step, "timestep": model.timestep, "direction": model.selection.direction,
            "layer": model.selection.layer, "sample": model.selection.sample,
            "forward_done": model.stepping.forward_done, "backward_done": model.stepping.backward_done,
            "clip_count": snapshot.clip_count if snapshot is not None else 0,
            "hidden": config.hidden_size, "layers": config.num_layers, "tbptt": config.tbptt,
            "clip_norm": config.clip_norm, "lr": config.lr, "running": model.running,
            "bidirectional": config.bidirectional, "answered": answered, "cell": config.cell,
            "task": config.task, "page": self.current_page(),
        }
