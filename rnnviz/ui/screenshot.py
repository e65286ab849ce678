"""``rnnviz --screenshot FILE.png``: render the main window with every panel after training, and exit."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from rnnviz.session.config import SessionConfig
from rnnviz.session.storage import SessionFileError
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.window.notices import WELCOME_KEY

SIZE = (1440, 900)
WAIT_MS = 120_000  # building, opening and training are done by the worker process


def take_screenshot(path: str | Path, config: SessionConfig | None = None, session_path: str | None = None,
                    train_steps: int = 0, settings_file: str | None = None,
                    size: tuple[int, int] = SIZE) -> Path:
    """Build the window (from a saved session or a config), train ``train_steps`` steps, save a PNG."""
    app = QApplication.instance() or QApplication(["rnnviz"])
    settings = QSettings(settings_file, QSettings.Format.IniFormat) if settings_file else _scratch_settings()
    window = MainWindow(config or SessionConfig(), settings)
    refused: list[str] = []
    window.controller.refused.connect(lambda title, text: refused.append(f"{title}: {text}"))
    try:
        window.resize(*size)
        window.show()
        window.controller.wait_idle(WAIT_MS)
        if session_path is not None:
            window.open_session(session_path)
            window.controller.wait_idle(WAIT_MS)
        if refused:
            raise SessionFileError(refused[0])
        if train_steps:
            window.controller.step(train_steps)
            window.controller.wait_idle(WAIT_MS)
        window.training_page.flush()
        _settle(app)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(target)):
            raise OSError(f"could not write {target}")
        return target
    finally:
        window.close()
        window.deleteLater()
        _settle(app)


def _scratch_settings() -> QSettings:
    """Screenshots never read or change a person's remembered layout."""
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "rnnviz", "screenshot")
    settings.clear()
    settings.setValue(WELCOME_KEY, True)  # a picture of the window at work, not of the first start
    return settings


def _settle(app: QApplication, seconds: float = 0.2) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
