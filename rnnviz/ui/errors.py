"""Unexpected errors in the window: logged with their traceback, shown in a dialog that names the log.

``install_excepthook`` catches what nothing else did (in a slot, an event handler or a Python thread)
and shows it in a dialog instead of leaving a blank panel behind. Background work reports its own
errors the same way (rnnviz.session.background.describe: the message names the log file).
"""
from __future__ import annotations

import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QSizePolicy, QSpacerItem

from rnnviz import logs
from rnnviz.ui.desktop import open_log_folder

DIALOG_WIDTH = 560  # px


class ErrorDialogs(QObject):
    """Shows unexpected errors in one dialog at a time, from any thread (the signal is queued to the
    GUI thread). Errors arriving while it is open are counted in it instead of stacking dialogs."""

    unexpected = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.box: QMessageBox | None = None
        self.more = 0
        self.unexpected.connect(self.show_error)

    @Slot(str)
    def show_error(self, message: str) -> QMessageBox:
        if self.box is not None and self.box.isVisible():
            self.more += 1
            self.box.setInformativeText(f"{self.more} more unexpected error(s) since; they are in the log too.")
            return self.box
        self.more = 0
        box = QMessageBox(QMessageBox.Icon.Critical, "rnnviz: unexpected error", message,
                          QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        box.setObjectName("unexpected_error")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the log path can be copied
        grid = box.layout()  # wide enough that the log path is not broken over lines
        grid.addItem(QSpacerItem(DIALOG_WIDTH, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed),
                     grid.rowCount(), 0, 1, grid.columnCount())
        open_folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        box.setEscapeButton(QMessageBox.StandardButton.Ok)  # Esc and the title bar's close button close it
        open_folder.clicked.connect(open_log_folder)
        box.finished.connect(lambda _result: setattr(self, "box", None))
        box.show()
        self.box = box
        return box


def install_excepthook(app: QApplication) -> ErrorDialogs:
    """Route uncaught exceptions (sys.excepthook, threading.excepthook) to the log and a dialog.

    Ctrl-C keeps Python's behaviour; the traceback is still printed on stderr for whoever started
    rnnviz from a terminal.
    """
    dialogs = ErrorDialogs(app)
    previous = sys.excepthook

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if sys.stderr is not None or issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
        if issubclass(exc_type, KeyboardInterrupt):
            return
        dialogs.unexpected.emit(logs.report_unexpected(exc.with_traceback(tb), "the window"))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        where = f"the thread {args.thread.name!r}" if args.thread is not None else "a background thread"
        dialogs.unexpected.emit(logs.report_unexpected(args.exc_value, where))

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return dialogs
