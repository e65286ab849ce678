"""The explorer's main window: control docks on the left, status below, and two pages in the middle:
"Training" (the live panel grid) and "Step through time" (rnnviz.ui.stepthrough), Ctrl+1 / Ctrl+2.

The step-through page's cursor (a timestep) is drawn as a vertical line on the training page's
hidden-state, gate and gradient plots too. Presets (Presets menu, or the page's combo box) replace
the session, asking first when training progress would be lost.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import platformdirs
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.rewind import attach_rewind, rewind_snapshot
from rnnviz.session.session import VIEW_BATCH, Selection, Session
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.storage import SessionFileError
from rnnviz.session.views.common import plural
from rnnviz.tasks import TaskError
from rnnviz.ui import theme as theming
from rnnviz.ui.controller import SessionController
from rnnviz.ui.controls.network import NetworkControls
from rnnviz.ui.controls.task import TaskControls
from rnnviz.ui.controls.training import TrainingControls
from rnnviz.ui.export import ExportError, export_all
from rnnviz.ui.gradcheck import GradientCheckDialog
from rnnviz.ui.panels import PANELS, Panel
from rnnviz.ui.rewind import RewindBar
from rnnviz.ui.cursor import CursorLines
from rnnviz.ui.jobs import BackgroundJob
from rnnviz.ui.stepthrough import StepThroughPage, available_presets

PANEL_GRID = (("loss", "hidden", "gates"), ("gradients", "weights", "predictions"))
TRAINING_TAB, STEP_TAB = 0, 1
MAX_RECENT = 8
HISTORY_PANELS = ("loss",)  # panels drawn from the training history alone


def work_folder() -> Path:
    """Where file dialogs start: the person's documents folder (platformdirs knows it per OS)."""
    documents = Path(platformdirs.user_documents_dir())
    return documents if documents.is_dir() else Path.home()
USER_ERRORS = (ConfigError, TaskError, SessionFileError, ExportError, ValueError, OSError)


def progress(steps: int) -> str:
    """"the training step so far" / "the 12 training steps so far": what a reset would lose."""
    return "the one training step so far" if steps == 1 else f"the {steps:,} training steps so far"


class MainWindow(QMainWindow):
    def __init__(self, config: SessionConfig | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("rnnviz — recurrent networks, made visible")
        self.settings = settings or QSettings("rnnviz", "rnnviz")
        self.controller = SessionController(config or SessionConfig(), self)
        self.session_path: Path | None = None
        self.last_snapshot: Snapshot | None = None
        self.panels: dict[str, Panel] = {}
        self.compare_window = None
        self.rewound_snapshot: Snapshot | None = None
        self.jobs = BackgroundJob(self)
        self.jobs.done.connect(self._job_done)
        self.jobs.failed.connect(lambda tag, text: self.show_message(f"The {tag} failed", text,
                                                                     QMessageBox.Icon.Warning))
        self._build_panels()
        self._build_docks()
        self._build_view_bar()
        self._build_rewind_bar()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._restore_layout()
        self._show_session(self.controller.session)
        self.controller.refresh()

    # ------------------------------------------------------------------ building

    def _build_panels(self) -> None:
        rows = QSplitter(Qt.Orientation.Vertical)
        rows.setObjectName("panel_rows")
        self._splitters = [rows]
        for row_names in PANEL_GRID:
            row = QSplitter(Qt.Orientation.Horizontal)
            row.setObjectName("panel_row_" + "_".join(row_names))
            for name in row_names:
                panel = PANELS[name]()
                panel.setObjectName(f"panel_{name}")
                panel.setMinimumSize(220, 200)
                self.panels[name] = panel
                row.addWidget(panel)
            rows.addWidget(row)
            self._splitters.append(row)
        self.step_page = StepThroughPage(self.controller)
        self._splitters += self.step_page.splitters
        self.panels.update(self.step_page.panels)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pages")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(rows, "Training")
        self.tabs.addTab(self.step_page, "Step through time")
        self.tabs.setTabToolTip(TRAINING_TAB, "Live panels while the network trains (Ctrl+1)")
        self.tabs.setTabToolTip(STEP_TAB, "The forward pass and BPTT one timestep at a time (Ctrl+2)")
        self.tabs.currentChanged.connect(self._page_changed)
        self.training_panels = {name: self.panels[name] for row in PANEL_GRID for name in row}
        self.cursor_lines = CursorLines()
        self._attach_cursor_lines()
        self.setCentralWidget(self.tabs)

    def _page_changed(self, index: int) -> None:
        if index == TRAINING_TAB and self.last_snapshot is not None:
            self.show_snapshot(self.rewound_snapshot or self.last_snapshot)

    def _attach_cursor_lines(self) -> None:
        """The shared timestep cursor on the training page's time-axis plots (added from outside)."""
        hidden, gates, gradients = (self.panels[n] for n in ("hidden", "gates", "gradients"))
        plots = [hidden.heat_plot, hidden.input_plot, gradients.plot]
        plots += [plot for kind_plots in gates.plots.values() for plot in kind_plots]
        for plot in plots:
            self.cursor_lines.attach(plot)

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(widget)
        scroll.setMinimumWidth(300)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap, never scroll sideways
        dock.setWidget(scroll)
        feature = QDockWidget.DockWidgetFeature
        dock.setFeatures(feature.DockWidgetMovable | feature.DockWidgetClosable | feature.DockWidgetFloatable)
        return dock

    def _build_docks(self) -> None:
        session = self.controller.session
        self.network_controls = NetworkControls(session.config)
        self.task_controls = TaskControls(session.task)
        self.training_controls = TrainingControls(session.config)
        self.network_dock = self._dock("Network", self.network_controls, "network_dock")
        self.task_dock = self._dock("Task", self.task_controls, "task_dock")
        self.training_dock = self._dock("Training", self.training_controls, "training_dock")
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.addDockWidget(left, self.training_dock)
        self.addDockWidget(left, self.network_dock)
        self.tabifyDockWidget(self.network_dock, self.task_dock)
        self.network_dock.raise_()
        self.resizeDocks([self.training_dock, self.network_dock], [330, 420], Qt.Orientation.Vertical)

    def _build_view_bar(self) -> None:
        bar = QToolBar("View")
        bar.setObjectName("view_bar")
        self.sample_box = self._view_spin("sample", VIEW_BATCH - 1, "Which held-out sample the panels show")
        self.layer_box = self._view_spin("layer", 0, "Which layer the panels show")
        self.direction_box = self._view_spin("direction", 1, "0 = forward, 1 = reverse (bidirectional)")
        for label, box in (("Sample", self.sample_box), ("Layer", self.layer_box), ("Direction", self.direction_box)):
            bar.addWidget(QLabel(f"  {label} "))
            bar.addWidget(box)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.view_bar = bar

    def _build_rewind_bar(self) -> None:
        self.rewind_bar = RewindBar(self)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.rewind_bar)

    def _view_spin(self, name: str, maximum: int, tooltip: str) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(f"view_{name}")
        box.setRange(0, maximum)
        box.setToolTip(tooltip)
        box.valueChanged.connect(self._selection_edited)
        return box

    def _build_status_bar(self) -> None:
        self.status_labels = {}
        for key in ("step", "loss", "speed", "clipping"):
            label = QLabel()
            label.setObjectName(f"status_{key}")
            label.setMinimumWidth(140)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        action.triggered.connect(lambda checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_action = self._action("&Open session…", self.open_session_dialog, key.Open, "Open a saved session folder")
        self.save_action = self._action("&Save session", self.save_session, key.Save, "Save weights, settings and history")
        self.save_as_action = self._action("Save session &as…", self.save_session_as, key.SaveAs)
        self.open_data_action = self._action("Open &data file…", self.task_controls.open_data_file, "Ctrl+D",
                                             "Train on your own .txt or .csv file")
        self.import_action = self._action("&Import PyTorch weights…", self.import_weights_dialog, "Ctrl+I",
                                          "Load an .npz of a PyTorch nn.RNN/LSTM/GRU state_dict")
        self.export_action = self._action("&Export all plots…", self.export_all_dialog, "Ctrl+E",
                                          "PNG, SVG and CSV of every panel into a folder")
        self.quit_action = self._action("&Quit", self.close, key.Quit)
        self.play_action = self._action("Play / Pause", self.controller.toggle, Qt.Key.Key_Space, "Train until paused")
        self.step_action = self._action("One training step", lambda: self.controller.step(1), Qt.Key.Key_S)
        self.reset_action = self._action("Reset weights", self.confirm_reset, "Ctrl+R", "New weights, empty history")
        self.theme_actions = {
            name: self._action(f"{name.title()} theme", lambda n=name: self.set_theme(n)) for name in theming.THEMES
        }
        self.reset_layout_action = self._action("Reset window layout", self.reset_layout)
        self.training_tab_action = self._action("&Training page", lambda: self.tabs.setCurrentIndex(TRAINING_TAB),
                                                "Ctrl+1", "The live panels")
        self.step_tab_action = self._action("&Step through time page", lambda: self.tabs.setCurrentIndex(STEP_TAB),
                                            "Ctrl+2", "The forward pass and BPTT one timestep at a time")
        self.gradcheck_action = self._action("&Gradient check…", self.gradient_check, "Ctrl+G",
                                             "Finite differences against BPTT for every weight matrix")
        self.compare_action = self._action("&Compare RNN, LSTM and GRU…", self.open_compare, "Ctrl+K",
                                           "Train the three cell kinds side by side on the same task and data")
        self.preset_actions = {
            name: self._action(preset.title, lambda n=name: self.apply_preset(n), tip=preset.description)
            for name, preset in available_presets().items()
        }
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.open_action, self.save_action, self.save_as_action):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addSeparator()
        for action in (self.open_data_action, self.import_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = menu.addMenu("&Training")
        for action in (self.play_action, self.step_action, self.reset_action):
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(self.gradcheck_action)
        train_menu.addAction(self.compare_action)
        train_menu.addAction(self.rewind_bar.toggleViewAction())
        preset_menu = menu.addMenu("&Presets")
        preset_menu.setToolTipsVisible(True)
        for action in self.preset_actions.values():
            preset_menu.addAction(action)
        preset_menu.setEnabled(bool(self.preset_actions))
        self.preset_menu = preset_menu
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.training_tab_action)
        view_menu.addAction(self.step_tab_action)
        view_menu.addSeparator()
        for action in self.theme_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        for dock in (self.network_dock, self.task_dock, self.training_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.reset_layout_action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", self.show_shortcuts, key.HelpContents))
        self._refresh_recent_menu()

    def _connect(self) -> None:
        c = self.controller
        c.snapshot_ready.connect(self.show_snapshot)
        c.running_changed.connect(self.training_controls.show_running)
        c.session_replaced.connect(self._show_session)
        c.diverged.connect(lambda text: self.show_message("Training diverged", text, QMessageBox.Icon.Warning))
        c.failed.connect(lambda text: self.show_message("Something went wrong", text, QMessageBox.Icon.Critical))
        t = self.training_controls
        t.play_button.clicked.connect(c.toggle)
        t.step_button.clicked.connect(lambda: c.step(1))
        t.reset_button.clicked.connect(self.confirm_reset)
        t.changed.connect(self.change_training)
        t.reseed.connect(lambda seed: self.change_architecture({"seed": seed}))
        t.speed_changed.connect(lambda rate: setattr(c, "speed", rate))
        self.network_controls.changed.connect(self.change_architecture)
        page = self.step_page
        page.timestep_changed.connect(self.cursor_lines.move)
        page.preset_chosen.connect(self.apply_preset)
        page.gradient_check_requested.connect(self.gradient_check)
        page.selection_requested.connect(self._select_row)
        self.rewind_bar.scrubbed.connect(self.rewind_to)
        self.rewind_bar.live_requested.connect(self.back_to_live)
        self.task_controls.changed.connect(
            lambda name, params: self.change_architecture({"task": name, "task_params": params}))

    # ------------------------------------------------------------------ session changes

    def _show_session(self, session: Session) -> None:
        if getattr(session, "rewind", None) is None:  # record weights for the rewind slider
            attach_rewind(session)
        if self.rewind_bar.rewound_to is not None:
            self.rewind_bar.back_to_live()
        config = session.config
        self.network_controls.show_config(config, session.model.num_params())
        self.training_controls.show_config(config)
        self.task_controls.show_task(session.task)
        self.layer_box.setMaximum(config.num_layers - 1)
        self.direction_box.setMaximum(1 if config.bidirectional else 0)
        self.layer_box.setEnabled(config.num_layers > 1)
        self.direction_box.setEnabled(config.bidirectional)

    def change_architecture(self, changes: dict[str, Any]) -> None:
        """Network, task or seed changes need new weights: ask first when training has happened."""
        current = self.controller.config
        try:
            config = current.replace(**changes)
            if config == current:
                return
            session = Session(config)
        except USER_ERRORS as exc:
            self._show_session(self.controller.session)  # put the controls back
            self.show_message("That setting cannot be used", str(exc), QMessageBox.Icon.Warning)
            return
        if self.controller.session.step == 0:
            self.controller.replace_session(session)
            return
        self.confirm(
            "Reset the weights?",
            f"This change needs a new network: {progress(self.controller.session.step)} "
            "will be lost (save the session first to keep them).",
            on_yes=lambda: self.controller.replace_session(session),
            on_no=lambda: self._show_session(self.controller.session),
        )

    def change_training(self, changes: dict[str, Any]) -> None:
        try:
            self.controller.update_training(self.controller.config.replace(**changes))
        except USER_ERRORS as exc:
            self.training_controls.show_config(self.controller.config)
            self.show_message("That setting cannot be used", str(exc), QMessageBox.Icon.Warning)

    def confirm_reset(self) -> None:
        if self.controller.session.step == 0:
            self.controller.reset()
            return
        self.confirm("Reset the weights?", "Start again from new weights and an empty history?",
                     on_yes=self.controller.reset)

    def _selection_edited(self) -> None:
        self.controller.set_selection(
            Selection(self.sample_box.value(), self.layer_box.value(), self.direction_box.value()))
        self.step_page.mark_stale()

    def _select_row(self, layer: int, direction: int) -> None:
        """A box of another layer or direction was clicked in the unrolled diagram."""
        for box, value in ((self.layer_box, layer), (self.direction_box, direction)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._selection_edited()

    def apply_preset(self, name: str) -> None:
        """Replace the session with preset ``name`` (asks first when training progress would be lost)."""
        preset = available_presets()[name]

        def go() -> None:
            self.controller.replace_session(preset.build())  # build() sets the preset's gate biases
            self.statusBar().showMessage(f"Preset: {preset.title} — {preset.description}", 15000)

        if self.controller.session.step == 0:
            go()
            return
        self.confirm("Open the preset?",
                     f"“{preset.title}” builds a new network: {progress(self.controller.session.step)} "
                     "will be lost (save the session first to keep them).", on_yes=go)

    def gradient_check(self) -> GradientCheckDialog:
        dialog = GradientCheckDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.start(self.controller.session.frozen_copy())
        dialog.open()
        self.gradcheck_dialog = dialog
        return dialog

    def open_compare(self):
        from rnnviz.ui.compare import CompareWindow

        if self.compare_window is not None:
            self.compare_window.raise_()
            return self.compare_window
        window = CompareWindow(self.controller.config)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.closed.connect(lambda: setattr(self, "compare_window", None))
        window.show()
        self.compare_window = window
        return window

    # ------------------------------------------------------------------ rewind

    def rewind_to(self, step: int) -> None:
        """Show the panels at recorded training step ``step`` (computed off the UI thread)."""
        self.jobs.submit("rewind", rewind_snapshot, self.controller.session, step, self.controller.selection)

    def back_to_live(self) -> None:
        self.rewound_snapshot = None
        if self.last_snapshot is not None:
            self.show_snapshot(self.last_snapshot)
        self.controller.refresh()

    def _job_done(self, tag: str, result) -> None:
        if tag == "rewind" and self.rewind_bar.rewound_to is not None:
            self.rewound_snapshot = result
            for panel in self.training_panels.values():
                panel.set_snapshot(result)
            self.status_labels["step"].setText(f"Rewound to step {result.step:,}")

    def _update_rewind(self) -> None:
        rewind = getattr(self.controller.session, "rewind", None)
        self.rewind_bar.set_steps(list(rewind.steps()) if rewind is not None else [])

    # ------------------------------------------------------------------ drawing

    def show_snapshot(self, snapshot: Snapshot) -> None:
        previous, self.last_snapshot = self.last_snapshot, snapshot
        self._update_rewind()
        if self.rewind_bar.rewound_to is not None:  # scrubbed back: the training panels keep that step
            return
        # a refreshed snapshot shares the inspection's arrays: only the history-based panels change
        refreshed = previous is not None and snapshot.hidden is previous.hidden
        if self.tabs.currentIndex() == TRAINING_TAB or not self.isVisible():
            for name, panel in self.training_panels.items():
                if not refreshed or name in HISTORY_PANELS:
                    panel.set_snapshot(snapshot)
        loss = "—" if snapshot.loss != snapshot.loss else f"{snapshot.loss:.4g}"
        self.status_labels["step"].setText(f"Step {snapshot.step:,}")
        self.status_labels["loss"].setText(f"Loss {loss}")
        self.status_labels["speed"].setText(f"{snapshot.steps_per_second:.0f} steps/s")
        self.status_labels["clipping"].setText(f"Clipped {snapshot.clip_count:,}×")

    # ------------------------------------------------------------------ files

    def open_session_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open session folder", str(work_folder()))
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path) -> bool:
        try:
            session = load_session(path)
        except USER_ERRORS as exc:
            self.show_message("Could not open the session", str(exc), QMessageBox.Icon.Warning)
            return False
        self.controller.replace_session(session)
        self.session_path = Path(path)
        self._remember_recent(str(path))
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save_session(self) -> bool:
        if self.session_path is None:
            return self.save_session_as()
        return self.save_session_to(self.session_path)

    def save_session_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save session as folder",
                                              str(work_folder() / "rnnviz-session"))
        return bool(path) and self.save_session_to(path)

    def save_session_to(self, path: str | Path) -> bool:
        self.controller.wait_idle()
        try:
            folder = save_session(self.controller.session, path)
        except USER_ERRORS as exc:
            self.show_message("Could not save the session", str(exc), QMessageBox.Icon.Warning)
            return False
        self.session_path = folder
        self._remember_recent(str(folder))
        self.statusBar().showMessage(f"Saved {folder}", 5000)
        return True

    def import_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import PyTorch weights", "", "PyTorch weights (*.safetensors *.npz)")
        if path:
            self.import_weights(path)

    def import_weights(self, path: str | Path) -> bool:
        from rnnviz.session.pytorch import load_pytorch_weights

        self.controller.wait_idle()
        try:
            load_pytorch_weights(self.controller.session, path)
        except USER_ERRORS as exc:
            self.show_message("Could not import the weights", str(exc), QMessageBox.Icon.Warning)
            return False
        self.controller.refresh()
        self.statusBar().showMessage(f"Imported weights from {path}", 5000)
        return True

    def export_all_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export all plots to folder", str(work_folder()))
        if folder:
            self.export_all_to(folder)

    def export_all_to(self, folder: str | Path) -> bool:
        self.step_page.ensure_drawn()
        try:
            written = export_all(self.panels, folder)
        except USER_ERRORS as exc:
            self.show_message("Could not export the plots", str(exc), QMessageBox.Icon.Warning)
            return False
        finally:
            self.step_page.refresh_views()  # back to where the stepping is (exports show the full pass)
        self.statusBar().showMessage(f"Exported {plural(len(written), 'file')} to {folder}", 5000)
        return True

    def _remember_recent(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        self.settings.setValue("recent_sessions", [path, *recent][:MAX_RECENT])
        self._refresh_recent_menu()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_sessions", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            self.recent_menu.addAction(path, lambda p=path: self.open_session(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    # ------------------------------------------------------------------ messages

    def show_message(self, title: str, text: str, icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
        """A window-modal message that does not block the event loop (training and tests carry on)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("message")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(f"{title}: {text}", 10000)
        return box

    def confirm(self, title: str, text: str, on_yes: Callable[[], None],
                on_no: Callable[[], None] | None = None) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("confirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes:
                on_yes()
            elif on_no is not None:
                on_no()

        box.finished.connect(done)
        box.open()
        return box

    def show_shortcuts(self) -> None:
        actions = [*self.actions(), *self.step_page.actions()]
        lines = [f"{a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}: {a.text().replace('&', '')}"
                 for a in actions if not a.shortcut().isEmpty()]
        self.show_message("Keyboard shortcuts", "\n".join(lines))

    # ------------------------------------------------------------------ theme, layout, closing

    def set_theme(self, name: str) -> None:
        theming.apply_theme(name)
        self.settings.setValue("theme", name)
        if self.last_snapshot is not None:
            self.show_snapshot(self.last_snapshot)

    def _restore_layout(self) -> None:
        self.resize(1440, 900)
        self._default_state = self.saveState()
        self._default_splitters = [s.saveState() for s in self._splitters]
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        for splitter in self._splitters:
            saved = self.settings.value(f"splitter/{splitter.objectName()}")
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)
        theme = self.settings.value("theme", "light")
        theming.apply_theme(theme if theme in theming.THEMES else "light")

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for splitter, state in zip(self._splitters, self._default_splitters):
            splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.compare_window is not None:
            self.compare_window.close()
        self.step_page.shutdown()
        self.jobs.shutdown()
        self.controller.shutdown()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        for splitter in self._splitters:
            self.settings.setValue(f"splitter/{splitter.objectName()}", splitter.saveState())
        self.settings.sync()
        super().closeEvent(event)
