"""Regenerate the README's screenshots (``make readme-screenshots``), offscreen, from the real window.

    window.png              an LSTM learning the adding problem (Training tab)
    vanishing.png           the "vanishing" preset, BPTT stepped 30 steps back from the end
    lstm_survives.png       the "lstm_fixed" preset, BPTT stepped to t = 0, "why gradients vanish" shown
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnnviz.engine.threads import pin_blas_threads  # noqa: E402
from rnnviz.session.config import SessionConfig  # noqa: E402
from rnnviz.ui.main_window import MainWindow  # noqa: E402
from rnnviz.ui.screenshot import take_screenshot  # noqa: E402

SIZE = (1440, 900)


def settle(app: QApplication, window: MainWindow, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or window.step_page.busy:
        app.processEvents()
        time.sleep(0.01)


def step_through(app: QApplication, preset: str, backward_steps: int | None, path: Path, why: bool) -> None:
    settings = QSettings(str(HERE / ".screenshots.ini"), QSettings.Format.IniFormat)
    settings.clear()
    settings.setValue("welcome/dismissed", True)
    window = MainWindow(SessionConfig(), settings)
    window.resize(*SIZE)
    window.show()
    window.controller.wait_idle()
    window.apply_preset(preset)
    window.controller.wait_idle()
    window.tabs.setCurrentIndex(1)
    settle(app, window)
    if backward_steps is None:
        window.step_page.to_backward_end()
    else:
        window.step_page.to_forward_end()
        settle(app, window)
        for _ in range(backward_steps):
            window.step_page.step_next()
    settle(app, window, 0.5)
    window.step_page.left_tabs.setCurrentIndex(1 if why else 0)
    settle(app, window, 1.5)  # the vanishing panel is computed in the background
    window.grab().save(str(path))
    window.close()
    window.deleteLater()
    app.processEvents()
    (HERE / ".screenshots.ini").unlink(missing_ok=True)


def main() -> None:
    pin_blas_threads()
    app = QApplication.instance() or QApplication(["rnnviz-screenshots"])
    take_screenshot(HERE / "window.png", SessionConfig(task="adding", cell="lstm"), train_steps=800)
    step_through(app, "vanishing", 30, HERE / "vanishing.png", why=False)
    step_through(app, "lstm_fixed", None, HERE / "lstm_survives.png", why=True)
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.png"))))


if __name__ == "__main__":
    main()
