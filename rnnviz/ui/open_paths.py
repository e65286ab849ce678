"""Opening what a person names: ``rnnviz PATH...`` on the command line, or files dropped on the window.

A path is one of
    a saved session     its folder (or the session.json in it): replaces the session
    a data file         .txt / .md / .text (the text task) or .csv (the series task): trains on it
    weights             .npz or .safetensors of a PyTorch nn.RNN / LSTM / GRU state_dict: loaded
                        into the current network
    a lesson            .lesson (rnnviz.session.lessons): started in the Lessons dock
``classify`` decides which (a path that does not exist, cannot be read or is none of these raises
``OpenPathError`` with what to give instead); ``open_target`` hands it to the window's own
open/import actions, which report bad contents in their dialogs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from PySide6.QtCore import QTimer

from rnnviz.session.lessons import SUFFIX as LESSON_SUFFIX
from rnnviz.session.pytorch import SUFFIXES as WEIGHTS_SUFFIXES
from rnnviz.session.storage import SESSION_FILE
from rnnviz.ui.controls.task import TEXT_SUFFIXES

if TYPE_CHECKING:
    from rnnviz.ui.main_window import MainWindow

SESSION, DATA, WEIGHTS, LESSON = "session", "data", "weights", "lesson"
DATA_SUFFIXES = (*sorted(TEXT_SUFFIXES), ".csv")
WHAT_OPENS = (f"give a saved session folder, a data file ({', '.join(DATA_SUFFIXES)}), PyTorch weights "
              f"({', '.join(WEIGHTS_SUFFIXES)}) or a lesson ({LESSON_SUFFIX})")


class OpenPathError(ValueError):
    """A path rnnviz cannot open: the message names it, says why and what to give instead."""


@dataclass(frozen=True)
class OpenTarget:
    path: Path
    kind: str  # SESSION, DATA, WEIGHTS or LESSON


def classify(path: str | os.PathLike[str]) -> OpenTarget:
    """What ``path`` is (``~`` expanded); OpenPathError if it is missing, unreadable or unknown."""
    path = Path(path).expanduser()
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as exc:  # e.g. a name too long, a symlink loop
        raise OpenPathError(f"cannot open {path}: {exc.strerror or exc}; {WHAT_OPENS}") from None
    if not (is_dir or is_file):
        what = "is not a file or folder" if path.exists() else "does not exist"
        raise OpenPathError(f"{path} {what}; check the path, or {WHAT_OPENS}")
    if is_file and path.name == SESSION_FILE:
        path, is_dir = path.parent, True
    if is_dir:
        if not (path / SESSION_FILE).is_file():
            raise OpenPathError(f"{path} is a folder without {SESSION_FILE}, so not a saved rnnviz session; {WHAT_OPENS}")
        _check_readable(path / SESSION_FILE)
        return OpenTarget(path, SESSION)
    suffix = path.suffix.lower()
    if suffix in DATA_SUFFIXES:
        kind = DATA
    elif suffix in WEIGHTS_SUFFIXES:
        kind = WEIGHTS
    elif suffix == LESSON_SUFFIX:
        kind = LESSON
    else:
        raise OpenPathError(f"rnnviz does not open {suffix or 'suffix-less'} files like {path.name}; {WHAT_OPENS}")
    _check_readable(path)
    return OpenTarget(path, kind)


def _check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise OpenPathError(f"cannot read {path}: {exc.strerror or exc}; check its permissions") from None


def open_target(window: "MainWindow", target: OpenTarget) -> None:
    """Open ``target`` with the window's own action (each reports bad contents in a dialog)."""
    if target.kind == SESSION:
        window.open_session(target.path)
    elif target.kind == DATA:
        window.task_controls.open_data_file(str(target.path))
    elif target.kind == LESSON:
        window.open_lesson(target.path)
    else:
        window.import_weights(target.path)


def open_in_window(window: "MainWindow", paths: Iterable[str | os.PathLike[str]]) -> None:
    """Open each path in turn; one that cannot be opened gets a dialog and the rest still open."""
    for path in paths:
        try:
            target = classify(path)
        except OpenPathError as exc:
            window.messages.warn("Cannot open that", str(exc))
            continue
        open_target(window, target)


# --- drag and drop (the window's dragEnterEvent / dragMoveEvent / dropEvent delegate here) --------


def dropped_paths(event: Any) -> list[str]:
    """The local files and folders a drag carries (URLs of other kinds are left out)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def accept_drag(event: Any) -> None:
    """Accept a drag that carries local files or folders; what they are is checked on the drop."""
    if dropped_paths(event):
        event.acceptProposedAction()
    else:
        event.ignore()


def drop(window: "MainWindow", event: Any) -> None:
    """Open what was dropped, after the drop returns: the program the drag came from is not kept
    waiting while a session loads or a dialog shows."""
    paths = dropped_paths(event)
    if not paths:
        event.ignore()
        return
    event.acceptProposedAction()
    QTimer.singleShot(0, window, lambda: open_in_window(window, paths))

