"""The window's actions (with their shortcuts) and the menu bar: File, Training, Presets, View, Help."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from rnnviz.ui import theme as theming
from rnnviz.ui.desktop import open_log_folder
from rnnviz.ui.pages import PAGES
from rnnviz.ui.step_controls import available_presets


def action(window: QMainWindow, text: str, slot: Callable[[], Any], shortcut: Any = None, tip: str = "") -> QAction:
    result = QAction(text, window)
    if shortcut is not None:
        result.setShortcut(QKeySequence(shortcut))
    result.setStatusTip(tip)
    result.setToolTip(tip or text)
    result.triggered.connect(lambda checked=False: slot())
    window.addAction(result)
    return result


class WindowMenus:
    """Builds every action of ``window`` (a MainWindow: the slots are its methods) and the menus."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self._file_actions(window)
        self._training_actions(window)
        self._view_actions(window)
        self.preset_actions = {
            name: action(window, preset.title, lambda n=name: window.apply_preset(n), tip=preset.description)
            for name, preset in available_presets().items()
        }
        self.shortcuts_action = action(window, "Keyboard shortcuts", window.show_shortcuts,
                                       QKeySequence.StandardKey.HelpContents)
        self.lessons_action = action(window, "&Lessons", window.show_lessons, "Ctrl+L",
                                     "Guided lessons: each sets the app up and walks you through one idea")
        self.open_lesson_action = action(window, "Open lesson &file…", window.open_lesson_dialog,
                                         tip="A lesson you or a teacher wrote (.lesson, see docs/LESSONS.md)")
        self.welcome_action = action(window, "&Welcome", window.show_welcome,
                                     tip="The first-start card: start the first lesson or explore freely")
        self.log_folder_action = action(window, "Open &log folder", open_log_folder,
                                        tip="The log file (rnnviz.log) and crash log, for reporting a problem")
        self._menus(window.menuBar())

    def _file_actions(self, w: Any) -> None:
        key = QKeySequence.StandardKey
        self.open_action = action(w, "&Open session…", w.open_session_dialog, key.Open, "Open a saved session folder")
        self.save_action = action(w, "&Save session", w.save_session, key.Save, "Save weights, settings and history")
        self.save_as_action = action(w, "Save session &as…", w.save_session_as, key.SaveAs)
        self.open_data_action = action(w, "Open &data file…", w.open_data_file, "Ctrl+D",
                                       "Train on your own .txt or .csv file")
        self.import_action = action(w, "&Import PyTorch weights…", w.import_weights_dialog, "Ctrl+I",
                                    "Load an .npz of a PyTorch nn.RNN/LSTM/GRU state_dict")
        self.export_action = action(w, "&Export all plots…", w.export_all_dialog, "Ctrl+E",
                                    "PNG, SVG and CSV of every panel into a folder")
        self.quit_action = action(w, "&Quit", w.close, key.Quit)

    def _training_actions(self, w: Any) -> None:
        controller = w.controller
        self.play_action = action(w, "Play / Pause", controller.toggle, Qt.Key.Key_Space, "Train until paused")
        self.step_action = action(w, "One training step", lambda: controller.step(1), Qt.Key.Key_S)
        self.reset_action = action(w, "Reset weights", w.commands.confirm_reset, "Ctrl+R", "New weights, empty history")
        self.gradcheck_action = action(w, "&Gradient check…", w.gradient_check, "Ctrl+G",
                                       "Finite differences against BPTT for every weight matrix")
        self.compare_action = action(w, "&Compare cells…", w.open_compare, "Ctrl+K",
                                     "Train cell kinds of your choice (at first RNN, LSTM and GRU) side by side "
                                     "on the same task and data")

    def _view_actions(self, w: Any) -> None:
        self.theme_actions = {
            name: action(w, f"{name.title()} theme", lambda n=name: w.set_theme(n)) for name in theming.THEMES
        }
        self.reset_layout_action = action(w, "Reset window layout", w.reset_layout)
        self.presentation_action = action(w, "&Presentation mode", w.toggle_presentation, Qt.Key.Key_F5,
                                          "Large text and fewer panels for a projector (F5 or Esc leaves it)")
        self.presentation_action.setCheckable(True)
        self.leave_presentation_action = action(w, "Leave presentation mode", lambda: w.set_presentation(False),
                                                Qt.Key.Key_Escape)
        self.leave_presentation_action.setEnabled(False)
        self.training_tab_action = action(w, "&Training page", lambda: w.show_page(0), "Ctrl+1", "The live panels")
        self.scan_tab_action = action(w, "&Parallel scan page", lambda: w.show_page(2), "Ctrl+3",
                                     "The parallel scan beside the sequential loop")
        self.page_actions = {  # the extra pages (rnnviz.ui.pages): Ctrl+4, Ctrl+5, …
            spec.name: action(w, f"{spec.title} page", lambda n=spec.name: w.show_page_named(n),
                              f"Ctrl+{4 + k}" if 4 + k <= 9 else None, spec.tooltip)
            for k, spec in enumerate(PAGES)
        }
        self.step_tab_action = action(w, "&Step through time page", lambda: w.show_page(1), "Ctrl+2",
                                      "The forward pass and BPTT one timestep at a time")

    def _menus(self, bar: Any) -> None:
        w = self.window
        file_menu = bar.addMenu("&File")
        self._add(file_menu, self.open_action, self.save_action, self.save_as_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addSeparator()
        self._add(file_menu, self.open_data_action, self.import_action, self.export_action, None, self.quit_action)
        self._edit_menu(bar.addMenu("&Edit"), w)
        train_menu = bar.addMenu("&Training")
        self._add(train_menu, self.play_action, self.step_action, self.reset_action, None, self.gradcheck_action,
                  self.compare_action, w.rewind_bar.toggleViewAction())
        self.preset_menu = bar.addMenu("&Presets")
        self.preset_menu.setToolTipsVisible(True)
        self._add(self.preset_menu, *self.preset_actions.values())
        self.preset_menu.setEnabled(bool(self.preset_actions))
        view_menu = bar.addMenu("&View")
        self._add(view_menu, self.training_tab_action, self.step_tab_action, self.scan_tab_action,
                  *self.page_actions.values(), None, *self.theme_actions.values(), None,
                  *(dock.toggleViewAction() for dock in w.docks.docks), self.reset_layout_action, None,
                  self.presentation_action)
        self.help_menu = bar.addMenu("&Help")
        self._add(self.help_menu, self.lessons_action, self.open_lesson_action, self.welcome_action, None,
                  self.shortcuts_action, self.log_folder_action)

    def _edit_menu(self, menu: QMenu, w: Any) -> None:
        """Undo/Redo of the what-if edits (rnnviz.ui.whatif), named after the edit."""
        whatif = w.whatif
        self.edit_input_action = action(w, "Edit &input at the cursor…", whatif.ask_input_at_cursor, "Ctrl+Shift+E",
                                        "What-if: change x_t at the cursor (or double-click a timestep or a weight)")
        self.restore_inputs_action = action(w, "Restore the original &inputs", whatif.restore_inputs,
                                            tip="Undo every what-if input edit at once")
        self._add(menu, whatif.undo_action, whatif.redo_action, None, self.edit_input_action,
                  self.restore_inputs_action)

    @staticmethod
    def _add(menu: QMenu, *actions: QAction | None) -> None:
        for item in actions:
            if item is None:
                menu.addSeparator()
            else:
                menu.addAction(item)
