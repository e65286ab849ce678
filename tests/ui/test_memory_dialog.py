"""The window refuses settings that would not fit in memory with a dialog, and keeps working."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from rnnviz.engine.memory import BUDGET_ENV
from rnnviz.session.config import SessionConfig
from rnnviz.ui.main_window import MainWindow
from tests.ui.test_window import SMALL, click_answer, message_box


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "96M")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(**SMALL), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None and not win.controller.busy, timeout=10000)
    yield win
    win.controller.shutdown()


@pytest.mark.parametrize("control, value", [("network_controls.hidden", 1024), ("training_controls.batch", 4096)])
def test_a_setting_too_big_for_memory_gets_a_dialog_and_nothing_changes(qtbot, window, control, value):
    session, config = window.controller.session, window.controller.config
    group, name = control.split(".")
    getattr(getattr(window, group), name).setValue(value)
    qtbot.waitUntil(lambda: message_box(window) is not None, timeout=10000)  # the worker builds, then refuses
    box = message_box(window)
    assert "needs about" in box.text() and "96.0 MiB" in box.text()
    click_answer(qtbot, box, QMessageBox.StandardButton.Ok)
    assert window.controller.session is session and window.controller.config == config
    window.controller.step(1)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=5000)
