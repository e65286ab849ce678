"""A note in the status bar while the compiled kernels are prepared in the background.

The first start after installing compiles them (seconds); later starts load them from the cache
(~1 s). The window is usable meanwhile: the NumPy path trains until they are ready.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMainWindow

from rnnviz.engine import kernels

MESSAGE = "preparing fast kernels…"
POLL_MS = 250


class PreparingNote(QLabel):
    """MESSAGE in a status bar until ``status()`` is no longer "preparing"; then it removes itself."""

    def __init__(self, window: QMainWindow, status: Callable[[], str]) -> None:
        super().__init__(MESSAGE)
        self.setObjectName("status_kernels")
        self.setToolTip("Compiling the cells' time loops (numba); until then the NumPy path trains.")
        self._status = status
        self._status_bar = window.statusBar()
        self._status_bar.addPermanentWidget(self)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def _check(self) -> None:
        if self._status() == "preparing":
            return
        self._timer.stop()
        self._status_bar.removeWidget(self)
        self.deleteLater()


def show_kernel_preparation(window: QMainWindow,
                            status: Callable[[], str] = kernels.start) -> PreparingNote | None:
    """Start preparing the kernels (``status()`` starts them once and returns their state) and show
    the note in ``window``'s status bar while that goes on; None when there is nothing to wait for."""
    if status() != "preparing":
        return None
    return PreparingNote(window, status)
