"""Play / Step / Reset in a toolbar at the top of the window (the Training dock has them too, but a
dock can be closed or scrolled away): the menu's own actions, so keys, menus and buttons agree."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QToolBar, QWidget


class TrainingBar(QToolBar):
    def __init__(self, play, step, reset, parent: QWidget | None = None) -> None:
        super().__init__("Play, Step, Reset", parent)
        self.setObjectName("training_bar")
        self.play_action, self.step_action, self.reset_action = play, step, reset
        style = self.style()
        step.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        reset.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name, action in (("play", play), ("step", step), ("reset", reset)):
            self.addAction(action)
            self.widgetForAction(action).setObjectName(f"toolbar_{name}")
        self.show_running(False)

    def show_running(self, running: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if running else QStyle.StandardPixmap.SP_MediaPlay
        self.play_action.setIcon(self.style().standardIcon(icon))
        self.play_action.setIconText("Pause" if running else "Play")
        self.play_action.setToolTip(("Pause training" if running else "Train until paused") + " (Space)")
        self.step_action.setIconText("Step")
        self.step_action.setToolTip("One training step (S)")
        self.reset_action.setIconText("Reset")
        self.reset_action.setToolTip("New weights from the seed, empty history (Ctrl+R)")
        self.step_action.setEnabled(not running)
