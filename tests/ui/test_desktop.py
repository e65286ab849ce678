"""The app on the desktop: its icon on every window, Help ▸ Open log folder, and unexpected errors
shown in a dialog that names the log file (which holds the traceback)."""
from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QObject, QSettings, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from rnnviz import logs
from rnnviz.session.config import SessionConfig
from rnnviz.ui.desktop import ICON_SIZES, app_icon, install_identity
from rnnviz.ui.errors import install_excepthook
from rnnviz.ui.jobs import JobRunner
from rnnviz.ui.main_window import MainWindow
from tests.ui import work_functions

SMALL = dict(task="adding", task_params={"seq_len": 8}, cell="gru", hidden_size=6, batch_size=4)


@pytest.fixture
def window(qtbot, qapp, tmp_path):
    install_identity(qapp)
    win = MainWindow(SessionConfig(**SMALL), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=5000)
    yield win
    win.controller.shutdown()


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """The log file in this test's own per-user log folder (worker processes inherit the setting)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = logs.start_logging()
    assert path.is_relative_to(tmp_path / "state")
    yield path
    logs.stop_logging()


def sizes(icon) -> set[int]:
    return {size.width() for size in icon.availableSizes()}


def test_the_icon_has_every_size_and_each_is_drawn():
    icon = app_icon()
    assert sizes(icon) == set(ICON_SIZES)
    for size in ICON_SIZES:
        image = icon.pixmap(size, size).toImage()
        assert image.width() == size
        corner, centre = image.pixelColor(0, 0), image.pixelColor(size // 2, size // 2)
        assert corner.alpha() == 0 and centre.alpha() == 255  # a rounded tile, not a blank square


def test_every_window_shows_the_rnnviz_icon(qtbot, window):
    assert sizes(window.windowIcon()) == set(ICON_SIZES)
    box = window.messages.show("Hello", "a message")
    assert sizes(box.windowIcon()) == set(ICON_SIZES)
    compare = window.open_compare()
    qtbot.addWidget(compare)
    assert sizes(compare.windowIcon()) == set(ICON_SIZES)
    dialog = window.gradient_check()
    assert sizes(dialog.windowIcon()) == set(ICON_SIZES)
    dialog.close()
    compare.close()


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_open_log_folder_shows_the_log_folder(qtbot, window, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "catch")  # Qt's own hook for where URLs go
    try:
        help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
        action = next(a for a in help_menu.actions() if a.text() == "Open &log folder")
        action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [url.toLocalFile() for url in catcher.urls] == [str(logs.log_folder())]
    assert logs.log_folder().is_relative_to(tmp_path / "state") and logs.log_folder().is_dir()


def visible_error_box(qapp):
    from PySide6.QtWidgets import QApplication

    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
             and w.objectName() == "unexpected_error" and w.isVisible()]
    return boxes[-1] if boxes else None


def broken_slot() -> None:
    raise ZeroDivisionError("a bug in a slot")


@pytest.mark.qt_no_exception_capture
def test_an_uncaught_exception_shows_a_dialog_naming_the_log_file(qtbot, qapp, log_file):
    hooks = sys.excepthook, threading.excepthook
    try:
        install_excepthook(qapp)
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: visible_error_box(qapp) is not None, timeout=5000)
        box = visible_error_box(qapp)
        assert str(log_file) in box.text() and "ZeroDivisionError: a bug in a slot" in box.text()
        assert any(b.text() == "Open log folder" for b in box.buttons())
        worker = threading.Thread(target=broken_slot, name="a worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: "1 more" in box.informativeText(), timeout=5000)  # one dialog, counted
        box.close()  # as the title bar's close button does
        assert not box.isVisible()
    finally:
        sys.excepthook, threading.excepthook = hooks
    text = log_file.read_text(encoding="utf-8")
    assert text.count("Traceback (most recent call last)") == 2
    assert "in broken_slot" in text and "in the thread 'a worker'" in text


@pytest.mark.parametrize("process", [False, True], ids=["thread", "process"])
def test_background_work_that_hits_a_bug_names_the_log_file_which_has_the_traceback(qtbot, log_file, process):
    runner = JobRunner()
    job = runner.start("rewind", work_functions.hit_a_bug, "weight_hh_l9", process=process)
    with qtbot.waitSignal(job.failed, timeout=30000) as failed:
        pass
    message = failed.args[0]
    assert "Unexpected error in background work" in message and "KeyError: 'weight_hh_l9'" in message
    assert str(log_file) in message
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in hit_a_bug" in text
    if process:  # the worker process wrote into the same log file
        assert "worker process rnnviz-rewind started" in text
    runner.shutdown()


def test_background_work_refused_for_a_persons_reason_keeps_its_message(qtbot, log_file):
    runner = JobRunner()
    job = runner.start("build", work_functions.fail, "seq_len 5 is too short; choose at least 8")
    with qtbot.waitSignal(job.failed, timeout=10000) as failed:
        pass
    assert failed.args[0] == "ValueError: seq_len 5 is too short; choose at least 8"
    assert "Traceback" not in log_file.read_text(encoding="utf-8")
    runner.shutdown()
