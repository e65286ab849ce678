"""The explorer's main window: control docks on the left, status below, and three pages in the middle:
"Training" (the live panel grid), "Step through time" (rnnviz.ui.stepthrough) and "Parallel scan"
(rnnviz.ui.scan_page), Ctrl+1 / Ctrl+2 / Ctrl+3.

The window puts its parts together (rnnviz.ui.window: pages, docks, menus, files, status, layout,
messages) around one ``ExplorerModel`` (what is explored: config, selection, cursor, rewind, stepping)
and one ``SessionController`` (the training worker process). Background work of every kind goes through
one ``JobRunner``; closing the window stops all of it within two seconds.
"""
from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFrame, QMainWindow, QMessageBox, QScrollArea, QTabWidget, QVBoxLayout,
                               QWidget)

from rnnviz.session.config import SessionConfig
from rnnviz.session.snapshot import Snapshot
from rnnviz.ui.controller import SessionController
from rnnviz.ui.gradcheck import GradientCheckDialog
from rnnviz.ui import open_paths
from rnnviz.ui.jobs import JobRunner
from rnnviz.ui.lessons.panel import LessonPanel
from rnnviz.ui.pages import PAGES, PageSpec
from rnnviz.ui.rewind import RewindBar
from rnnviz.ui.scan_page import ScanPage
from rnnviz.ui.step_controls import available_presets
from rnnviz.ui.stepthrough import StepThroughPage
from rnnviz.ui.window.commands import SessionCommands
from rnnviz.ui.window.docks import ControlDocks
from rnnviz.ui.window.files import FileCommands, work_folder
from rnnviz.ui.window.layout import WindowLayout
from rnnviz.ui.window.menus import WindowMenus
from rnnviz.ui.window.messages import Messages
from rnnviz.ui.window.notices import Notices
from rnnviz.ui.window.status import StatusLine
from rnnviz.ui.window.training_bar import TrainingBar
from rnnviz.ui.window.training_page import TrainingPage
from rnnviz.ui.window.view_bar import ViewBar
from rnnviz.ui.whatif import WhatIf

__all__ = ["MainWindow", "SCAN_TAB", "STEP_TAB", "TRAINING_TAB", "available_presets", "work_folder"]
TRAINING_TAB, STEP_TAB, SCAN_TAB = 0, 1, 2
CLOSE_TIMEOUT_S = 1.5  # everything in the background is stopped within this when the window closes
STEP_PAGE_DELAY_MS = 1500  # after the window is shown, build the step-through page while nothing happens


class MainWindow(QMainWindow):
    def __init__(self, config: SessionConfig | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("rnnviz — recurrent networks, made visible")
        self.settings = settings or QSettings("rnnviz", "rnnviz")
        self.jobs = JobRunner(self)
        self.controller = SessionController(config or SessionConfig(), self, jobs=self.jobs)
        self.model = self.controller.model
        self.last_snapshot: Snapshot | None = None
        self.rewound_snapshot: Snapshot | None = None
        self.compare_window = None
        self.messages = Messages(self)
        self.commands = SessionCommands(self.controller, self.messages, self.status_message)
        self._build_pages()
        self.docks = ControlDocks(self, self.controller, self.commands)
        self.view_bar = ViewBar(self.model)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.view_bar)
        self.rewind_bar = RewindBar(self)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.rewind_bar)
        self.status = StatusLine(self.statusBar())
        self.files = FileCommands(self, self.controller, self.messages, self.settings, self.status_message)
        self.files.before_export = self._draw_everything
        self.files.after_export = lambda: self.step_page.refresh_views()  # back to where the stepping is
        self.files.panels = lambda: self.panels
        self.whatif = WhatIf(self)  # what-if edits of inputs and weights, and their undo history
        self.menus = WindowMenus(self)
        self.files.recent_menu = self.menus.recent_menu
        self.files.refresh_recent_menu()
        self._expose_parts()
        self._build_lessons()
        self._connect()
        self.layout_keeper = WindowLayout(self, self.settings, self.splitters)
        self.layout_keeper.restore()
        self.setAcceptDrops(True)  # session folders, data files and weights (rnnviz.ui.open_paths)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        open_paths.accept_drag(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        open_paths.accept_drag(event)

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        open_paths.drop(self, event)

    # ------------------------------------------------------------------ building

    def _build_pages(self) -> None:
        """The training page now; the step-through page when it is first needed (shown, exported,
        asked for) or once the window is idle after start-up: it is a third of the build time."""
        self.training_page = TrainingPage()
        self._step_page: StepThroughPage | None = None
        self._step_holder = QWidget()
        self._step_holder.setObjectName("step_page_holder")
        QVBoxLayout(self._step_holder).setContentsMargins(0, 0, 0, 0)
        self.training_panels = self.training_page.panels
        self.cursor_lines = self.training_page.cursor_lines
        self.splitters = list(self.training_page.splitters)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pages")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.training_page, "Training")
        self.tabs.addTab(self._step_holder, "Step through time")
        self.scan_page = ScanPage(self.controller, self.jobs)
        self.tabs.addTab(self.scan_page, "Parallel scan")
        self.tabs.setTabToolTip(TRAINING_TAB, "Live panels while the network trains (Ctrl+1)")
        self.tabs.setTabToolTip(STEP_TAB, "The forward pass and BPTT one timestep at a time (Ctrl+2)")
        self.tabs.setTabToolTip(SCAN_TAB, "The parallel scan beside the loop: its tree, equality and times (Ctrl+3)")
        self.extra_pages: dict[str, QWidget] = {}  # built the first time each is shown (rnnviz.ui.pages)
        self._page_holders: dict[str, QScrollArea] = {}
        for spec in PAGES:
            self._add_page_holder(spec)
        self.tabs.currentChanged.connect(self._page_changed)
        central = QWidget()
        central.setObjectName("central")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.notices = Notices(self.tabs, self.settings, self.start_first_lesson)
        column.addWidget(self.notices.preset_card)  # a preset's explanation, above the pages until closed
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _add_page_holder(self, spec: PageSpec) -> None:
        """A tab for the page, built later; it scrolls when the page is wider or taller than the window
        can be (the window keeps fitting a 1024×768 screen whatever a page needs)."""
        holder = QScrollArea()
        holder.setObjectName(f"{spec.name}_page_holder")
        holder.setWidgetResizable(True)
        holder.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        QVBoxLayout(inner).setContentsMargins(0, 0, 0, 0)
        holder.setWidget(inner)
        index = self.tabs.addTab(holder, spec.title)
        self.tabs.setTabToolTip(index, f"{spec.tooltip} (Ctrl+{index + 1})" if index < 9 else spec.tooltip)
        self._page_holders[spec.name] = holder

    def page(self, name: str) -> QWidget:
        """The extra page called ``name`` (rnnviz.ui.pages), built now if it was not yet."""
        if name not in self.extra_pages:
            spec = next((s for s in PAGES if s.name == name), None)
            if spec is None:
                raise KeyError(f"no page called {name!r}; pages: {', '.join(s.name for s in PAGES)}")
            page = spec.factory(self)
            self._page_holders[name].widget().layout().addWidget(page)
            self.extra_pages[name] = page
        return self.extra_pages[name]

    def show_page_named(self, name: str) -> QWidget | None:
        """Show a page by name: "training", "step", "scan" or an extra page's name."""
        built_in = {"training": TRAINING_TAB, "step": STEP_TAB, "scan": SCAN_TAB}
        if name in built_in:
            self.show_page(built_in[name])
            return None
        page = self.page(name)
        self.tabs.setCurrentWidget(self._page_holders[name])
        return page

    @property
    def step_page(self) -> StepThroughPage:
        if self._step_page is None:
            page = StepThroughPage(self.controller)
            page.preset_chosen.connect(self.apply_preset)
            page.gradient_check_requested.connect(self.gradient_check)
            self._step_holder.layout().addWidget(page)
            self._step_page = page
            if hasattr(self, "layout_keeper"):
                self.layout_keeper.adopt(page.splitters)
        return self._step_page

    def _draw_everything(self) -> None:
        """Every panel up to date (exports and screenshots), the step-through page's too."""
        self.training_page.flush()
        self.step_page.ensure_drawn()
        self.scan_page.ensure_drawn()
        for page in self.extra_pages.values():  # the extra pages already opened
            getattr(page, "ensure_drawn", lambda: None)()

    @property
    def panels(self) -> dict:
        extra = {name: page.panel for name, page in self.extra_pages.items()  # opened pages that drew a view
                 if getattr(getattr(page, "panel", None), "view", None) is not None}
        return {**self.training_panels, **self.step_page.panels, "scan": self.scan_page.panel, **extra}

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if hasattr(self, "layout_keeper"):
            self.layout_keeper.fit_docks(event.size().width())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._step_page is None:
            QTimer.singleShot(STEP_PAGE_DELAY_MS, self._build_step_page_when_idle)

    def _build_step_page_when_idle(self) -> None:
        if self.isVisible() and self._step_page is None:
            self.step_page  # noqa: B018 (the property builds it)

    def _expose_parts(self) -> None:
        """Short names for the parts people (and tests) reach for."""
        docks, menus = self.docks, self.menus
        self.network_controls, self.task_controls, self.training_controls = docks.network, docks.task, docks.training
        self.network_dock, self.task_dock, self.training_dock = docks.network_dock, docks.task_dock, docks.training_dock
        self.status_labels = self.status.labels
        for name in ("open_action", "save_action", "save_as_action", "open_data_action", "import_action",
                     "export_action", "quit_action", "play_action", "step_action", "reset_action",
                     "gradcheck_action", "compare_action", "theme_actions", "reset_layout_action",
                     "training_tab_action", "step_tab_action", "preset_actions", "preset_menu", "recent_menu"):
            setattr(self, name, getattr(menus, name))

    def _build_lessons(self) -> None:
        """The Lessons dock (tabbed with Network and Task), the Play/Step/Reset toolbar and the
        welcome card of the first start."""
        self.lessons = LessonPanel(self, self.settings)
        self.lessons_dock = QDockWidget("Lessons", self)
        self.lessons_dock.setObjectName("lessons_dock")
        self.lessons_dock.setWidget(self.lessons)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.lessons_dock)
        self.tabifyDockWidget(self.network_dock, self.lessons_dock)
        self.network_dock.raise_()
        self.training_bar = TrainingBar(self.play_action, self.step_action, self.reset_action)
        self.insertToolBar(self.view_bar, self.training_bar)
        self.commands.preset_applied = self.notices.show_preset
        self.commands.architecture_changed = self.notices.hide_preset

    def welcome_if_first_start(self) -> bool:
        """The welcome card, on the first start only (the app calls this; a window built by a script or a
        test starts without it). True if it is shown."""
        if self.notices.first_start:
            self.notices.show_welcome()
            return True
        return False

    def show_lessons(self) -> LessonPanel:
        """The Lessons dock in front, with most of the left column's height (its text needs it)."""
        self.lessons_dock.show()
        self.lessons_dock.raise_()
        if not self.lessons_dock.isFloating() and not self.training_dock.isFloating():
            height = max(self.height(), 400)
            self.resizeDocks([self.training_dock, self.lessons_dock], [height // 4, height * 3 // 4],
                             Qt.Orientation.Vertical)
        return self.lessons

    def start_lesson(self, lesson, step: int = 0) -> None:
        """Open ``lesson`` (a rnnviz.session.lessons.Lesson) in the Lessons dock, at ``step``."""
        self.show_lessons().start(lesson, step)

    def start_first_lesson(self) -> None:
        if self.lessons.lessons:
            self.start_lesson(self.lessons.lessons[0])

    def open_lesson(self, path: str | Path) -> bool:
        """Start the lesson file at ``path``; a mistake in it gets a dialog with the file and line."""
        self.show_lessons()
        return self.lessons.open_file(str(path))

    def open_lesson_dialog(self) -> None:
        self.show_lessons()
        self.lessons.open_dialog()

    def show_welcome(self) -> None:
        self.notices.show_welcome()

    def _connect(self) -> None:
        c, model = self.controller, self.model
        model.events.running.connect(self.training_bar.show_running)
        c.snapshot_ready.connect(self.show_snapshot)
        c.diverged.connect(self._diverged)
        c.refused.connect(self.messages.warn)
        c.failed.connect(lambda text: self.messages.show("Something went wrong", text, QMessageBox.Icon.Critical))
        c.rewound.connect(self._rewound)
        c.session_replaced.connect(self._session_replaced)
        model.events.running.connect(self._running_changed)
        model.events.timestep.connect(self.cursor_lines.move)
        model.events.busy.connect(self.status.show_busy)
        model.events.config.connect(lambda config, *_: self.training_page.set_network(
            config.num_layers, config.bidirectional))
        self.training_page.set_network(model.config.num_layers, model.config.bidirectional)
        self.rewind_bar.scrubbed.connect(self.rewind_to)
        self.rewind_bar.live_requested.connect(self.back_to_live)

    def show_page(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def _page_changed(self, index: int) -> None:
        for name, holder in self._page_holders.items():
            if self.tabs.widget(index) is holder:
                self.page(name)
        if index == STEP_TAB:
            self.step_page  # noqa: B018 (the property builds it)
        if index == TRAINING_TAB and self.last_snapshot is not None:
            self.training_page.draw(self.rewound_snapshot or self.last_snapshot, now=True)

    # ------------------------------------------------------------------ drawing

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """A new frame of the live session: the training page draws it unless rewound (then only the
        rewind slider learns of the new steps)."""
        previous, self.last_snapshot = self.last_snapshot, snapshot
        self.rewind_bar.set_steps(list(self.controller.rewind_steps))
        if self.rewind_bar.rewound_to is not None:
            return
        # a refreshed snapshot shares the inspection's arrays: only the history-based panels change
        refreshed = previous is not None and snapshot.hidden is previous.hidden
        if self.tabs.currentIndex() == TRAINING_TAB or not self.isVisible():
            self.training_page.draw(snapshot, history_only=refreshed)
        self.status.show_live(snapshot, self.controller.running)

    def _running_changed(self, running: bool) -> None:
        if self.last_snapshot is not None and self.rewind_bar.rewound_to is None:
            self.status.show_live(self.last_snapshot, running)

    def status_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # ------------------------------------------------------------------ rewind

    def rewind_to(self, step: int) -> None:
        """Show the panels at recorded training step ``step`` (computed by the worker between steps)."""
        self.controller.rewind(step)

    def back_to_live(self) -> None:
        self.rewound_snapshot = None
        self.training_page.rewound = False
        self.controller.rewind(None)
        if self.last_snapshot is not None:
            self.training_page.draw(self.last_snapshot, now=True)
            self.status.show_live(self.last_snapshot, self.controller.running)

    def _diverged(self, text: str) -> None:
        """The panels say it in place (the dialog too): a diverged run's heatmaps would look empty."""
        self.training_page.set_diverged(text)  # drawn with the worker's next frame (its last finite step)
        self.messages.warn("Training diverged", text)

    def _session_replaced(self, _session) -> None:
        self.training_page.set_diverged(None)
        if self.rewind_bar.rewound_to is not None:
            self.rewind_bar.back_to_live()

    def _rewound(self, snapshot: Snapshot | None) -> None:
        if snapshot is None or self.rewind_bar.rewound_to is None:
            return
        self.rewound_snapshot = snapshot
        self.training_page.rewound = True
        self.training_page.draw(snapshot, now=True)
        self.status.show_rewound(snapshot)

    # ------------------------------------------------------------------ commands (menus, pages)

    def apply_preset(self, name: str) -> None:
        self.commands.apply_preset(name)

    def change_architecture(self, changes: dict) -> None:
        """Network, task or seed changes (new weights; asks first when training would be lost)."""
        self.commands.change_architecture(changes)

    def gradient_check(self) -> GradientCheckDialog:
        """The gradient check of the live weights (asked of the worker; runs in a process of its own)."""
        dialog = GradientCheckDialog(self, jobs=self.jobs)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.controller.request_state(
            "gradient check", lambda session: dialog.start(session) if shiboken6.isValid(dialog) else None)
        self.gradcheck_dialog = dialog
        return dialog

    def open_compare(self):
        from rnnviz.ui.compare import CompareWindow

        if self.compare_window is not None:
            self.compare_window.raise_()
            return self.compare_window
        window = CompareWindow(self.controller.config, jobs=self.jobs)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.closed.connect(lambda: setattr(self, "compare_window", None))
        window.show()
        self.compare_window = window
        return window

    def open_data_file(self) -> None:
        self.task_controls.open_data_file()

    def show_shortcuts(self) -> None:
        actions = [*self.actions(), *self.step_page.actions()]
        lines = [f"{a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}: {a.text().replace('&', '')}"
                 for a in actions if not a.shortcut().isEmpty()]
        self.messages.show("Keyboard shortcuts", "\n".join(lines))

    # ------------------------------------------------------------------ files

    def open_session_dialog(self) -> None:
        self.files.open_dialog()

    def open_session(self, path: str | Path) -> None:
        self.files.open(path)

    def save_session(self) -> None:
        self.files.save()

    def save_session_as(self) -> None:
        self.files.save_as()

    def save_session_to(self, path: str | Path) -> None:
        self.files.save_to(path)

    def import_weights_dialog(self) -> None:
        self.files.import_dialog()

    def import_weights(self, path: str | Path) -> None:
        self.files.import_weights(path)

    def export_all_dialog(self) -> None:
        self.files.export_dialog()

    def export_all_to(self, folder: str | Path) -> bool:
        return self.files.export_to(folder)

    # ------------------------------------------------------------------ theme, layout, closing

    def set_theme(self, name: str) -> None:
        self.layout_keeper.set_theme(name)
        if self.last_snapshot is not None:
            self.training_page.draw(self.rewound_snapshot or self.last_snapshot, now=True)

    def reset_layout(self) -> None:
        self.set_presentation(False)
        self.layout_keeper.reset()

    @property
    def presenting(self) -> bool:
        return self.layout_keeper.presenting is not None

    def set_presentation(self, on: bool) -> None:
        """Presentation mode (F5): large text, loss, hidden state and gradient norms only, no docks;
        off (F5 or Esc) restores the window exactly."""
        self.layout_keeper.set_presentation(on, self.training_panels)
        self.menus.presentation_action.setChecked(on)
        self.menus.leave_presentation_action.setEnabled(on)
        if on:
            self.show_page(TRAINING_TAB)
        if self.last_snapshot is not None:
            self.training_page.draw(self.rewound_snapshot or self.last_snapshot, now=True)

    def toggle_presentation(self) -> None:
        self.set_presentation(not self.presenting)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.compare_window is not None:
            self.compare_window.close()
        self.lessons.runner.cancel()
        if self._step_page is not None:
            self._step_page.shutdown()
        self.scan_page.shutdown()
        for page in self.extra_pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()
        self.jobs.shutdown(CLOSE_TIMEOUT_S)  # the worker, checks, comparisons: stopped, none left over
        self.layout_keeper.save()
        super().closeEvent(event)
