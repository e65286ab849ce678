"""Window-modal messages and yes/no questions that never block the event loop."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox


class Messages:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window

    def show(self, title: str, text: str, icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
        """A window-modal message that does not block the event loop (training and tests carry on)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("message")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.window.statusBar().showMessage(f"{title}: {text}", 10000)
        return box

    def warn(self, title: str, text: str) -> QMessageBox:
        return self.show(title, text, QMessageBox.Icon.Warning)

    def confirm(self, title: str, text: str, on_yes: Callable[[], None],
                on_no: Callable[[], None] | None = None) -> QMessageBox:
        """Ask; ``on_yes`` or ``on_no`` runs when the person answers (the event loop keeps running)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
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
