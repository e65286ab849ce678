"""Render every step of every bundled lesson, offscreen, at the sizes people use (1024x768, 1280x720,
1920x1080), to look at: ``python resources/screenshots/make_lesson_screenshots.py [--out DIR]
[--lesson NAME] [--size 1280x720]``. Writes DIR/<size>/<lesson>_<step>.png (default DIR: a temporary
folder, printed at the end); nothing is committed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnnviz.engine.threads import pin_blas_threads  # noqa: E402
from rnnviz.session.config import SessionConfig  # noqa: E402
from rnnviz.session.lessons import bundled_lessons  # noqa: E402
from rnnviz.ui.lessons.names import lesson_names  # noqa: E402
from rnnviz.ui.main_window import MainWindow  # noqa: E402
from rnnviz.ui.window.notices import WELCOME_KEY  # noqa: E402

SIZES = ((1024, 768), (1280, 720), (1920, 1080))


def settle(app: QApplication, window: MainWindow, seconds: float = 0.4, limit: float = 60.0) -> None:
    """Process events for ``seconds`` and until the lesson's actions, the worker and the pages are done."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        app.processEvents()
        time.sleep(0.01)
        step_busy = window._step_page is not None and window._step_page.busy
        if (time.perf_counter() - start > seconds and not window.lessons.runner.busy
                and not window.controller.busy and not step_busy):
            break
    window.training_page.flush()


def render(app: QApplication, lesson, size: tuple[int, int], out: Path) -> list[Path]:
    settings = QSettings(str(out / ".settings.ini"), QSettings.Format.IniFormat)
    settings.clear()
    settings.setValue(WELCOME_KEY, True)
    window = MainWindow(SessionConfig(), settings)
    written = []
    try:
        window.resize(*size)
        window.show()
        window.controller.wait_idle()
        window.start_lesson(lesson)
        for index in range(len(lesson.steps)):
            window.lessons.go_to(index)
            settle(app, window, 1.0)
            path = out / f"{lesson.name}_{index + 1}.png"
            window.grab().save(str(path))
            written.append(path)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--lesson", action="append", default=[])
    parser.add_argument("--size", action="append", default=[])
    args = parser.parse_args()
    pin_blas_threads()
    app = QApplication.instance() or QApplication(["rnnviz-lesson-screenshots"])
    out = args.out or Path(tempfile.mkdtemp(prefix="rnnviz-lessons-"))
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.size] or SIZES
    lessons = [l for l in bundled_lessons(lesson_names()) if not args.lesson or l.name in args.lesson]
    count = 0
    for width, height in sizes:
        folder = out / f"{width}x{height}"
        folder.mkdir(parents=True, exist_ok=True)
        for lesson in lessons:
            count += len(render(app, lesson, (width, height), folder))
    print(f"wrote {count} pictures into {out}")


if __name__ == "__main__":
    main()
