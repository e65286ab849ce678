"""``make screenshot``: every page and view worth seeing, at every screen size, into a folder with an index.

    python -m rnnviz.ui.gallery [--out build/screenshots] [--only training,step-backward] [--sizes 1024x768]

Each *kind* of screenshot is one function registered with ``@shot("name", "what it shows")``; it gets a
``Gallery`` (the window, ``settle()``, ``save(label)``) and may save one or more pictures. Every kind runs
at every size in ``SIZES``: 1024×768 (a projector), 1024×640 (a short screen: a few kinds), 1280×720,
1920×1080, 2× scale (a 4K screen is 1920×1080 logical pixels at 2×; a 2560×1440 panel at 2× is 1280×720)
and presentation mode (F5, the kinds it shows). A kind added from outside runs at every size. The 2× sizes need
``QT_SCALE_FACTOR`` before Qt starts, so they run in a child process of this script. New pages in
``rnnviz.ui.pages.PAGES`` are picked up by themselves; lessons (or anything else) add a kind with
``@shot``. The pictures and ``index.html`` go to ``--out`` (not committed).
"""
from __future__ import annotations

import argparse
import html
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

DEFAULT_OUT = Path("build") / "screenshots"
TRAIN_STEPS = 300  # enough for curves and trained-looking heatmaps, quick on a shared machine


@dataclass(frozen=True)
class Size:
    name: str
    width: int  # logical pixels
    height: int
    scale: float = 1.0  # QT_SCALE_FACTOR: the PNG is width*scale × height*scale
    presentation: bool = False
    only: tuple[str, ...] = ()  # the built-in kinds worth seeing at this size (empty: all)


PRESENTATION_KINDS = ("training", "training-dark", "step-backward", "bidirectional", "diverged")  # what it shows
SIZES = (
    Size("1024x768", 1024, 768),
    Size("1024x640", 1024, 640, only=("training", "step-backward")),  # a short screen: Play/Step/Reset in view
    Size("1280x720", 1280, 720),
    Size("1920x1080", 1920, 1080),
    Size("4k-at-2x", 1920, 1080, 2.0),
    Size("1440p-at-2x", 1280, 720, 2.0),
    Size("presentation-1024x768", 1024, 768, presentation=True, only=PRESENTATION_KINDS),
    Size("presentation-1920x1080", 1920, 1080, presentation=True, only=PRESENTATION_KINDS),
)


@dataclass(frozen=True)
class ShotKind:
    name: str
    description: str
    take: Callable[["Gallery"], None]


SHOTS: dict[str, ShotKind] = {}


def shot(name: str, description: str) -> Callable[[Callable[["Gallery"], None]], Callable[["Gallery"], None]]:
    """Register a kind of screenshot: ``take(gallery)`` sets the window up and calls ``gallery.save``."""
    def register(take: Callable[["Gallery"], None]) -> Callable[["Gallery"], None]:
        SHOTS[name] = ShotKind(name, description, take)
        return take
    return register


class Gallery:
    """One window at one size; ``save(label)`` writes ``<out>/<size>/<kind>[-label].png``."""

    def __init__(self, out: Path, size: Size) -> None:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from rnnviz.session.config import SessionConfig
        from rnnviz.ui.main_window import MainWindow

        self.app = QApplication.instance() or QApplication(["rnnviz-gallery"])
        self.out, self.size = out, size
        self.folder = out / size.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self._settings_file = self.folder / ".settings.ini"
        self._settings_file.unlink(missing_ok=True)
        settings = QSettings(str(self._settings_file), QSettings.Format.IniFormat)
        self.window = MainWindow(SessionConfig(task="adding", cell="lstm"), settings)
        self.window.resize(size.width, size.height)
        self.window.show()
        self.window.controller.wait_idle(120_000)
        self.kind = ""
        self.saved: list[dict] = []

    def settle(self, seconds: float = 0.3) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or self.window.step_page.busy:
            self.app.processEvents()
            time.sleep(0.01)

    def train(self, steps: int = TRAIN_STEPS) -> None:
        self.window.controller.step(steps)
        self.window.controller.wait_idle(120_000)
        self.settle()

    def save(self, label: str = "", widget=None, note: str = "") -> Path:
        """Grab ``widget`` (the main window) as it is now."""
        self.window.training_page.flush()
        self.settle(0.2)
        name = self.kind + (f"-{label}" if label else "")
        path = self.folder / f"{name}.png"
        (widget or self.window).grab().save(str(path))
        self.saved.append({"size": self.size.name, "kind": self.kind, "label": label,
                           "file": f"{self.size.name}/{path.name}", "note": note})
        return path

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self.settle(0.2)
        self._settings_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------- the kinds

@shot("training", "The Training page after a few hundred steps of an LSTM on the adding problem")
def _training(g: Gallery) -> None:
    g.window.show_page(0)
    g.save()


@shot("training-dark", "The Training page in the dark theme")
def _training_dark(g: Gallery) -> None:
    g.window.show_page(0)
    g.window.set_theme("dark")
    g.settle(0.5)
    g.save()
    g.window.set_theme("light")
    g.settle(0.5)


@shot("task-dock", "The Task dock with its one-sample preview, light and dark")
def _task_dock(g: Gallery) -> None:
    g.window.show_page(0)
    g.window.task_dock.raise_()
    g.settle(0.3)
    g.save("light")
    g.window.set_theme("dark")
    g.settle(0.5)
    g.save("dark")
    g.window.set_theme("light")
    g.window.network_dock.raise_()
    g.settle(0.3)


@shot("weights-gradients", "The weights panel showing dL/dW")
def _weights_gradients(g: Gallery) -> None:
    g.window.show_page(0)
    box = g.window.training_panels["weights"].show_gradients
    box.setChecked(True)
    g.save()
    box.setChecked(False)


@shot("step-forward", "Step through time: the forward pass run to the end")
def _step_forward(g: Gallery) -> None:
    g.window.show_page(1)
    g.settle(0.5)
    g.window.step_page.to_forward_end()
    g.settle(0.5)
    g.save()


@shot("step-backward", "Step through time: BPTT 10 steps back from the end, and why gradients vanish")
def _step_backward(g: Gallery) -> None:
    page = g.window.step_page
    g.window.show_page(1)
    g.settle(0.5)
    page.to_forward_end()
    g.settle(0.3)
    for _ in range(10):
        page.step_next()
    g.settle(0.5)
    g.save("bptt")
    page.left_tabs.setCurrentIndex(1)
    g.settle(1.5)  # the vanishing panel is computed in the background
    g.save("why")
    page.left_tabs.setCurrentIndex(0)


@shot("scan", "The parallel scan page, idle")
def _scan(g: Gallery) -> None:
    g.window.show_page(2)
    g.settle(0.5)
    g.save()


@shot("pages", "Every extra page (rnnviz.ui.pages.PAGES), as first shown")
def _pages(g: Gallery) -> None:
    from rnnviz.ui.pages import PAGES

    for spec in PAGES:
        g.window.show_page_named(spec.name)
        g.settle(1.0)
        g.save(spec.name)
    g.window.show_page(0)


@shot("compare", "The Compare window after a short side-by-side run")
def _compare(g: Gallery) -> None:
    window = g.window.open_compare()
    window.resize(min(g.size.width, 1280), min(g.size.height, 640))
    g.settle(0.5)
    window.toggle()
    end = time.perf_counter() + 8
    while time.perf_counter() < end and window.step_count < 60:
        g.settle(0.2)
    window.toggle()
    g.settle(0.5)
    g.save(widget=window)
    window.close()
    g.settle(0.3)


@shot("bidirectional", "A 2-layer bidirectional GRU: the panels of layer 1, backward")
def _bidirectional(g: Gallery) -> None:
    window = g.window
    config = window.controller.config.replace(cell="gru", num_layers=2, bidirectional=True)
    window.controller.new_session(config)
    window.controller.wait_idle(120_000)
    g.train(100)
    window.model.select(layer=1, direction=1)
    g.settle(0.5)
    window.show_page(0)
    g.save("training")
    window.show_page(1)
    g.settle(1.0)
    window.step_page.to_forward_end()
    g.settle(0.5)
    g.save("step")
    window.show_page(0)


@shot("diverged", "After a divergence (SGD, learning rate 10, no clipping): the panels say so")
def _diverged(g: Gallery) -> None:
    window = g.window
    window.controller.update_training(window.controller.config.replace(lr=10.0, clip_norm=0.0, optimizer="sgd"))
    window.controller.step(40)
    window.controller.wait_idle(120_000)
    g.settle(0.5)
    _close_message_boxes(g)
    window.show_page(0)
    g.save()


def _close_message_boxes(g: Gallery) -> None:
    from PySide6.QtWidgets import QMessageBox

    for box in g.window.findChildren(QMessageBox):
        box.done(0)
    g.settle(0.2)


# ---------------------------------------------------------------------------------------- running

ORDER_LAST = ("bidirectional", "diverged", "lessons")  # they change the session: after every kind that wants the LSTM


@shot("lessons", "Every step of every bundled lesson, as the learner sees it (resources/lessons)")
def _lessons(g: Gallery) -> None:
    from rnnviz.session.lessons import bundled_lessons
    from rnnviz.ui.lessons.names import lesson_names

    for lesson in bundled_lessons(lesson_names()):
        g.window.start_lesson(lesson)
        for index in range(len(lesson.steps)):
            g.window.lessons.go_to(index)
            _settle_lesson(g)
            g.save(f"{lesson.name}-{index + 1}")
    g.window.show_page(0)


def _settle_lesson(g: Gallery, seconds: float = 1.0, limit: float = 60.0) -> None:
    """Until the step's actions (training, stepping, pages) are done, at least ``seconds``."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        g.settle(0.05)
        if time.perf_counter() - start > seconds and not g.window.lessons.runner.busy \
                and not g.window.controller.busy:
            break


BUILT_IN_KINDS = frozenset(SHOTS)  # the kinds above (others, e.g. lessons', run in presentation mode too)


def run_size(out: Path, size: Size, kinds: list[str], steps: int = TRAIN_STEPS) -> list[dict]:
    from rnnviz.engine.threads import pin_blas_threads

    pin_blas_threads()
    gallery = Gallery(out, size)
    try:
        gallery.train(steps)
        if size.presentation:
            gallery.window.set_presentation(True)
            gallery.settle(0.5)
        if size.only:
            kinds = [k for k in kinds if k in size.only or k not in BUILT_IN_KINDS]
        ordered = [k for k in kinds if k not in ORDER_LAST] + [k for k in ORDER_LAST if k in kinds]
        for name in ordered:
            gallery.kind = name
            try:
                SHOTS[name].take(gallery)
            except Exception as error:  # noqa: BLE001 (one broken kind must not lose the others)
                print(f"{size.name}/{name}: {type(error).__name__}: {error}", file=sys.stderr)
            _close_message_boxes(gallery)
    finally:
        gallery.close()
    return gallery.saved


def write_index(out: Path, saved: list[dict]) -> Path:
    """index.html: one section per kind, one picture per size (click for full size)."""
    rows = []
    for name, kind in SHOTS.items():
        shots = [s for s in saved if s["kind"] == name]
        if not shots:
            continue
        cells = "".join(
            f"<figure><a href='{html.escape(s['file'])}'><img src='{html.escape(s['file'])}' loading='lazy'></a>"
            f"<figcaption>{html.escape(s['size'])} {html.escape(s['label'])}</figcaption></figure>" for s in shots)
        rows.append(f"<h2>{html.escape(name)}</h2><p>{html.escape(kind.description)}</p><div>{cells}</div>")
    page = ("<!doctype html><meta charset='utf-8'><title>rnnviz screenshots</title>"
            "<style>body{font-family:sans-serif}div{display:flex;flex-wrap:wrap;gap:8px}"
            "img{width:320px;border:1px solid #ccc}figure{margin:0}</style>"
            f"<h1>rnnviz screenshots</h1><p>{len(saved)} pictures.</p>" + "".join(rows))
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default="", help="comma-separated kinds (default: all): " + ", ".join(SHOTS))
    parser.add_argument("--sizes", default="", help="comma-separated sizes (default: all): "
                        + ", ".join(s.name for s in SIZES))
    parser.add_argument("--steps", type=int, default=TRAIN_STEPS, help="training steps before the pictures")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kinds = [k for k in args.only.split(",") if k] or list(SHOTS)
    unknown = [k for k in kinds if k not in SHOTS]
    if unknown:
        print(f"error: unknown kind {', '.join(unknown)}; kinds: {', '.join(SHOTS)}", file=sys.stderr)
        return 2
    names = [s for s in args.sizes.split(",") if s] or [s.name for s in SIZES]
    sizes = [s for s in SIZES if s.name in names]
    if len(sizes) != len(names):
        print(f"error: unknown size; sizes: {', '.join(s.name for s in SIZES)}", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    saved: list[dict] = []
    for size in sizes:
        if args.child or size.scale == 1.0:
            saved += run_size(args.out, size, kinds, args.steps)
        else:
            saved += _in_child(args.out, size, kinds, args.steps)
    if args.child:
        print("GALLERY " + json.dumps(saved))
        return 0
    index = write_index(args.out, saved)
    print(f"wrote {len(saved)} screenshots; index: {index}")
    return 0


def _in_child(out: Path, size: Size, kinds: list[str], steps: int) -> list[dict]:
    """A size with another scale factor: Qt reads QT_SCALE_FACTOR once, at start-up."""
    env = {**os.environ, "QT_SCALE_FACTOR": f"{size.scale:g}", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "rnnviz.ui.gallery", "--child", "--out", str(out),
                           "--sizes", size.name, "--only", ",".join(kinds), "--steps", str(steps)],
                          env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr[-4000:] if done.returncode else "")
    lines = [line for line in done.stdout.splitlines() if line.startswith("GALLERY ")]
    return json.loads(lines[-1][len("GALLERY "):]) if lines else []


if __name__ == "__main__":
    sys.exit(main())
