"""``rnnviz PATH`` and paths dropped on the window: sessions, data files and weights open; anything
else gets a clear message (a dialog in the window, one ``error:`` line and exit 2 on the command line)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file as save_safetensors
from PySide6.QtCore import QMimeData, QPoint, QSettings, QStandardPaths, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from rnnviz.app import gui_main, main
from rnnviz.session.config import SessionConfig
from rnnviz.session.files import save_session
from rnnviz.session.session import Session
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.open_paths import DATA, SESSION, WEIGHTS, OpenPathError, classify

SMALL = dict(task="adding", task_params={"seq_len": 8}, cell="gru", batch_size=4)  # default hidden size


# --- files of each kind ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A saved session (trained 3 steps), a CSV series, a text file and PyTorch-named weights that
    fit both SMALL's network and the default GRU's (random numbers, so an import is visible)."""
    root = tmp_path_factory.mktemp("open")
    session = Session(SessionConfig(**{**SMALL, "cell": "lstm", "hidden_size": 5}))
    session.train(3)
    save_session(session, root / "saved")
    (root / "series.csv").write_text("t,a,b\n" + "".join(f"{i},{np.sin(i / 3):.4f},{i % 7}\n" for i in range(80)),
                                     encoding="utf-8")
    (root / "story.txt").write_text("the cat sat on the mat and the dog sat on the log. " * 20, encoding="utf-8")
    shapes = Session(SessionConfig(**SMALL)).model.core.param_shapes()
    assert shapes == Session(SessionConfig(task="adding", cell="gru")).model.core.param_shapes()
    rng = np.random.default_rng(7)
    weights = {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}
    np.savez(root / "weights.npz", **weights)
    save_safetensors(weights, str(root / "weights.safetensors"))
    (root / "notes.docx").write_bytes(b"PK\x03\x04")
    (root / "empty_folder").mkdir()
    return {"session": root / "saved", "csv": root / "series.csv", "txt": root / "story.txt",
            "npz": root / "weights.npz", "safetensors": root / "weights.safetensors", "unknown": root / "notes.docx", "folder": root / "empty_folder",
            "missing": root / "nothing_here.csv"}


def test_classify_names_each_kind(files):
    assert classify(files["session"]).kind == SESSION
    assert classify(files["session"] / "session.json").path == files["session"]  # the file names its folder
    assert classify(files["csv"]).kind == DATA and classify(files["txt"]).kind == DATA
    assert classify(files["npz"]).kind == WEIGHTS and classify(files["safetensors"]).kind == WEIGHTS


def test_classify_expands_the_home_folder(files, monkeypatch):
    monkeypatch.setenv("HOME", str(files["csv"].parent))
    assert classify("~/series.csv").path == files["csv"]


@pytest.mark.parametrize("name, fragment", [
    ("missing", "does not exist"),
    ("unknown", "does not open .docx files"),
    ("folder", "without session.json"),
])
def test_classify_refuses_what_it_cannot_open_and_says_what_would_do(files, name, fragment):
    with pytest.raises(OpenPathError) as info:
        classify(files[name])
    message = str(info.value)
    assert fragment in message and str(files[name].name) in message
    assert "session folder" in message and ".csv" in message and ".npz" in message


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc: a file that cannot be read even by root")
def test_classify_refuses_a_file_it_cannot_read(tmp_path):
    unreadable = tmp_path / "data.csv"
    unreadable.symlink_to("/proc/self/mem")  # a regular file whose first byte cannot be read
    with pytest.raises(OpenPathError, match="cannot read"):
        classify(unreadable)


# --- the command line --------------------------------------------------------------------------


def run_cli(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("name", ["missing", "unknown", "folder"])
def test_a_wrong_path_on_the_command_line_is_one_error_line_and_exit_2(files, name, capsys):
    code, err = run_cli([str(files[name])], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and files[name].name in lines[0], err
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]  # no window opened


def test_rnnviz_gui_shows_a_wrong_path_in_a_dialog(qapp, files, capsys):
    """rnnviz-gui has no terminal on Windows: the same message appears in a dialog."""
    seen = []
    tries = iter(range(250))  # 5 s, then give up (the assertion below says what was missing)

    def read_and_close_dialog() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if next(tries, None) is not None:
                QTimer.singleShot(20, read_and_close_dialog)
            return
        seen.append(box.text())
        box.close()

    QTimer.singleShot(0, read_and_close_dialog)
    with pytest.raises(SystemExit) as info:
        gui_main([str(files["missing"])])
    assert info.value.code == 2
    assert len(seen) == 1 and "nothing_here.csv does not exist" in seen[0]
    assert capsys.readouterr().err.startswith("error: ")


def test_every_subcommand_is_still_a_command(capsys):
    from rnnviz.cli import command_names

    assert {"tasks", "train", "export"} <= set(command_names())
    for name in command_names():
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: rnnviz {name}")


def test_subcommands_still_parse_with_paths_supported(files, capsys):
    code, _ = run_cli(["tasks", "adding"], capsys)
    assert code == 0
    code, err = run_cli(["export", str(files["missing"]), "--out", str(files["folder"] / "x")], capsys)
    assert code == 2 and "nothing_here.csv" in err


@pytest.fixture
def private_settings(tmp_path):
    """``rnnviz PATH`` builds its window with the default QSettings: keep them in tmp_path."""
    formats = (QSettings.Format.NativeFormat, QSettings.Format.IniFormat)
    default = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    for settings_format in formats:
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield
    for settings_format in formats:
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, default)


def run_window_and_wait_for(qapp, argv, opened) -> int:
    """Run ``rnnviz argv`` with its real event loop until ``opened(window)`` holds (the worker process
    opens files asynchronously), then close the window. After 20 s the event loop is ended instead and
    the test fails saying so."""
    # the event loop ends when the last window closes: another test's open window would keep it going
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    seen = {}
    tries = iter(range(400))

    def look() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        try:
            seen["opened"] = bool(windows) and not windows[0].controller.busy and opened(windows[0])
        except Exception as exc:  # reported below: an exception here would leave the window open
            seen["error"] = exc
        if seen["opened"] or "error" in seen:
            windows[0].close()
        elif next(tries, None) is None:
            qapp.exit(1)
        else:
            QTimer.singleShot(50, look)

    QTimer.singleShot(0, look)
    with pytest.raises(SystemExit) as info:
        main(argv)
    if "error" in seen:
        raise seen["error"]
    assert seen["opened"], "the window did not open it within 20 s"
    return info.value.code


def same_weights(window, saved: dict[str, np.ndarray]) -> bool:
    loaded = window.controller.session.model.core.state_dict()
    return all(np.array_equal(loaded[name], array) for name, array in saved.items())  # float32 both


def test_rnnviz_path_opens_a_session_folder(qapp, files, private_settings):
    def opened(window):
        return (window.files.session_path == files["session"] and window.controller.session.step == 3
                and window.controller.session.config.cell == "lstm")

    assert run_window_and_wait_for(qapp, [str(files["session"])], opened) == 0


def test_rnnviz_path_opens_a_data_file_in_its_task(qapp, files, private_settings):
    def opened(window):
        task = window.controller.session.task
        return task.name == "series" and Path(task.values["path"]) == files["csv"]

    assert run_window_and_wait_for(qapp, ["--task", "adding", str(files["csv"])], opened) == 0


def test_rnnviz_path_imports_weights_into_the_network(qapp, files, private_settings):
    saved = dict(np.load(files["npz"]))
    argv = ["--task", "adding", "--cell", "gru", str(files["npz"])]
    assert run_window_and_wait_for(qapp, argv, lambda window: same_weights(window, saved)) == 0


# --- dropping on the window --------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(SessionConfig(**SMALL), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=5000)
    yield win
    win.controller.shutdown()


def drag_and_drop(window, paths, target=None) -> tuple[bool, bool]:
    """Drag local files onto ``target`` (default the window's centre widget) and drop them, as Qt
    delivers it; returns whether the drag was accepted and whether the drop was."""
    target = target or window.centralWidget()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = target.rect().center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    dropped = QDropEvent(where.toPointF(), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    if enter.isAccepted():
        QApplication.sendEvent(target, dropped)
    return enter.isAccepted(), dropped.isAccepted()


def test_dropping_a_session_folder_opens_it(qtbot, window, files):
    assert drag_and_drop(window, [files["session"]]) == (True, True)
    qtbot.waitUntil(lambda: window.files.session_path == files["session"], timeout=10000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    assert window.controller.session.step == 3 and window.controller.session.config.cell == "lstm"
    # the window shows the opened session's settings, not the ones it had before (gru)
    assert window.controller.model.config.cell == "lstm"
    assert window.docks.network.cell.currentData() == "lstm"


def test_dropping_a_data_file_on_a_plot_trains_on_it(qtbot, window, files):
    plot = window.training_panels["loss"]
    assert drag_and_drop(window, [files["txt"]], target=plot) == (True, True)
    qtbot.waitUntil(lambda: window.controller.session.task.name == "text", timeout=10000)
    assert Path(window.controller.session.task.values["path"]) == files["txt"]


@pytest.mark.parametrize("kind", ["npz", "safetensors"])
def test_dropping_weights_imports_them(qtbot, window, files, kind):
    saved = dict(np.load(files["npz"]))  # the same arrays in both files
    drag_and_drop(window, [files[kind]])
    qtbot.waitUntil(lambda: same_weights(window, saved), timeout=10000)


def test_dropping_something_else_shows_what_would_open(qtbot, window, files):
    before = window.controller.session_id
    assert drag_and_drop(window, [files["unknown"]]) == (True, True)
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)), timeout=5000)
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert "notes.docx" in box.text() and "session folder" in box.text()
    assert window.controller.session_id == before


def test_a_drag_without_files_is_refused(window):
    mime = QMimeData()
    mime.setText("just some text")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
