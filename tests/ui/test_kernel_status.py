"""The status-bar note while the compiled kernels are prepared."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from rnnviz.engine import kernels
from rnnviz.ui.kernel_status import MESSAGE, show_kernel_preparation


def _labels(window: QMainWindow) -> list[str]:
    return [label.text() for label in window.statusBar().findChildren(QLabel)
            if label.isVisibleTo(window)]


def test_the_note_shows_while_preparing_and_goes_when_ready(qtbot):
    window = QMainWindow()
    window.statusBar().showMessage("ready")  # as the main window: a status bar from the start
    qtbot.addWidget(window)
    window.show()
    states = iter(["preparing", "preparing", "preparing"])

    def status() -> str:  # three answers of "preparing", then the kernels are ready
        return next(states, "ready")

    assert show_kernel_preparation(window, status) is not None
    assert MESSAGE in _labels(window)
    qtbot.waitUntil(lambda: MESSAGE not in _labels(window), timeout=5000)


def test_no_note_once_the_kernels_are_settled(qtbot):
    window = QMainWindow()
    window.statusBar().showMessage("ready")  # as the main window: a status bar from the start
    qtbot.addWidget(window)
    window.show()
    assert kernels.status() != "preparing"  # tests/conftest.py waited for them
    assert show_kernel_preparation(window) is None
    assert MESSAGE not in _labels(window)
