"""The window never waits on background work, and closing it at any moment stops all of it:
training runs in a worker process, checks and comparisons in processes of their own."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.ui.controller import SessionController
from rnnviz.ui.main_window import STEP_TAB, MainWindow
from tests.ui import slow_worker

SMALL = dict(task="adding", task_params={"seq_len": 12}, cell="lstm", hidden_size=6, batch_size=4)


def make_window(qtbot, tmp_path, config=None) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(**(config or SMALL)), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None and win.controller.session is not None, timeout=20000)
    return win


@pytest.fixture
def slow(monkeypatch):
    """Windows built in this test train with a step that takes seconds and ignores cancellation."""
    monkeypatch.setattr(SessionController, "work_function", staticmethod(slow_worker.run_slow_training))


def messages(win, name="message"):
    return [b for b in win.findChildren(QMessageBox) if b.objectName() == name and b.isVisible()]


def press_play(qtbot, win) -> None:
    qtbot.mouseClick(win.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.controller.running, timeout=10000)


def test_closing_in_the_middle_of_a_long_step_stops_the_worker_without_an_abort(qtbot, tmp_path, slow, capfd):
    win = make_window(qtbot, tmp_path)
    press_play(qtbot, win)
    qtbot.wait(500)  # inside the first step, which takes seconds
    worker = win.controller.worker
    win.close()
    assert not worker.alive  # stopped (terminated after the grace period), not orphaned
    err = capfd.readouterr().err
    assert "Traceback" not in err and "QThread" not in err


def test_save_during_a_long_step_returns_at_once_and_runs_between_steps(qtbot, tmp_path, slow):
    win = make_window(qtbot, tmp_path)
    press_play(qtbot, win)
    qtbot.wait(300)
    folder = tmp_path / "saved"
    with qtbot.waitSignal(win.controller.saved, timeout=20000) as saved:
        win.save_session_to(folder)
        assert not folder.exists()  # the window did not wait for the step: the worker saves after it
    assert saved.args == [str(folder)]
    assert (folder / "session.json").is_file()
    win.close()


def test_weights_imported_during_a_long_step_are_not_overwritten_by_it(qtbot, tmp_path, slow):
    win = make_window(qtbot, tmp_path)
    core = Session(SessionConfig(**SMALL)).model.core.state_dict()
    imported = {name: np.full(value.shape, 0.01 * (k + 1), dtype=np.float32) for k, (name, value) in
                enumerate(core.items())}
    np.savez(tmp_path / "weights.npz", **imported)
    press_play(qtbot, win)
    qtbot.wait(300)  # a step is under way with the old weights
    win.import_weights(tmp_path / "weights.npz")
    win.controller.pause()  # applied right after the import: no step may follow it
    with qtbot.waitSignal(win.controller.imported, timeout=20000):
        pass
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=20000)
    weights = win.controller.session.model.core.state_dict()
    for name, value in imported.items():
        np.testing.assert_array_equal(weights[name], value)  # the step in flight did not land on them
    win.close()


def test_step_clicks_while_a_step_runs_all_count(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    for _ in range(3):  # faster than the steps: the later clicks arrive while the first one trains
        qtbot.mouseClick(win.training_controls.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=20000)
    assert win.controller.session.step == 3
    assert win.last_snapshot.step == 3
    win.close()


def test_closing_the_gradient_check_cancels_it_without_waiting(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, dict(SMALL, hidden_size=24))
    dialog = win.gradient_check()
    qtbot.waitUntil(lambda: dialog.job is not None, timeout=10000)
    dialog.start(win.controller.session, max_entries=10**6)  # every entry: tens of seconds of work
    job = dialog.job
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=20000)  # progress arrives while it runs
    dialog.reject()
    assert job.alive  # the window did not wait for the check to end
    qtbot.waitUntil(lambda: not job.alive, timeout=10000)  # and the check stops
    assert job.cancel_requested and dialog.rows is None
    win.close()


def test_closing_the_window_during_a_check_leaves_no_process(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, dict(SMALL, hidden_size=24))
    dialog = win.gradient_check()
    qtbot.waitUntil(lambda: dialog.job is not None, timeout=10000)
    dialog.start(win.controller.session, max_entries=10**6)
    job = dialog.job
    qtbot.waitUntil(lambda: job.alive, timeout=10000)
    win.close()
    assert not job.alive and not win.controller.worker.alive


def test_quitting_with_the_step_page_open_while_training_prints_nothing(qtbot, tmp_path, capfd):
    win = make_window(qtbot, tmp_path)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.controller.running and win.last_snapshot.step > 20, timeout=20000)
    worker = win.controller.worker
    win.quit_action.trigger()
    assert not win.isVisible() and not worker.alive
    err = capfd.readouterr().err
    assert "Traceback" not in err and "RuntimeError" not in err


def test_data_files_and_networks_are_built_by_the_worker_not_the_window(qtbot, tmp_path, monkeypatch):
    win = make_window(qtbot, tmp_path)

    def refuse(*_args, **_kwargs):
        raise AssertionError("built on the UI side")

    monkeypatch.setattr(Session, "__init__", refuse)  # in this process only: the worker builds its own
    from rnnviz.tasks import loaders

    monkeypatch.setattr(loaders, "_read_utf8", refuse)  # every data file is read through it
    data = tmp_path / "series.csv"
    data.write_text("value\n" + "\n".join(str(np.sin(k / 5)) for k in range(400)))
    busy_seen = []
    win.model.events.busy.connect(lambda text: busy_seen.append(text))
    win.task_controls.open_data_file(str(data))
    qtbot.waitUntil(lambda: win.controller.session.config.task == "series", timeout=20000)
    assert "Building the network…" in busy_seen and busy_seen[-1] is None  # the status bar said so
    win.network_controls.hidden.setValue(9)
    qtbot.waitUntil(lambda: win.controller.session.config.hidden_size == 9, timeout=20000)
    assert win.controller.session.model.config.hidden_size == 9
    win.close()


def test_switching_themes_does_not_restyle_every_widget(qtbot, tmp_path):
    """Re-applying an application stylesheet re-polishes every widget (~1 s for this window); the
    theme's colours travel in the palette instead."""
    win = make_window(qtbot, tmp_path)

    class StyleChanges(QObject):
        count = 0

        def eventFilter(self, _watched, event):  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.StyleChange:
                self.count += 1
            return False

    from rnnviz.ui.theme import THEMES

    changes = StyleChanges()
    label = win.status_labels["step"]
    label.installEventFilter(changes)
    for name in ("dark", "light"):
        win.set_theme(name)
        # every widget follows the palette: the label's text takes the theme's colour
        qtbot.waitUntil(lambda: label.palette().color(label.foregroundRole()).name() == THEMES[name].foreground,
                        timeout=3000)
    assert changes.count == 0
    win.close()


def test_the_step_page_says_when_training_moved_on_and_catches_up(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    win.tabs.setCurrentIndex(STEP_TAB)
    page = win.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and not page.busy, timeout=10000)
    assert page.built_at_step == 0
    win.controller.play()
    qtbot.waitUntil(lambda: win.last_snapshot.step > 10, timeout=20000)
    qtbot.waitUntil(lambda: "training is at step" in page.note.text(), timeout=5000)
    assert "step 0" in page.note.text() and "↻ Latest" in page.note.text()
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.built_at_step is not None and page.built_at_step > 10 and not page.busy,
                    timeout=20000)
    assert win.controller.running  # caught up while training goes on
    win.close()


def test_status_bar_shows_the_rewound_step_not_the_live_one(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, dict(SMALL, cell="rnn_tanh"))
    win.controller.step(12)
    qtbot.waitUntil(lambda: win.last_snapshot.step == 12 and not win.controller.busy, timeout=20000)
    history = win.last_snapshot.history
    win.rewind_bar.scrub_to(5)
    qtbot.waitUntil(lambda: win.rewound_snapshot is not None and win.rewound_snapshot.step == 5, timeout=10000)
    win.controller.play()
    qtbot.waitUntil(lambda: win.last_snapshot.step > 20, timeout=20000)
    labels = win.status_labels
    assert labels["step"].text() == "Rewound to step 5"
    loss_at_5 = float(history.train_loss[list(history.steps).index(5)])
    assert labels["loss"].text() == f"Loss {loss_at_5:.4g}"
    assert "steps/s" not in labels["speed"].text()
    win.close()


def test_after_divergence_the_message_gives_the_last_finite_norm_and_play_says_why_not(qtbot, tmp_path):
    # one finite step with an enormous gradient, then NaN
    config = dict(task="adding", task_params={"seq_len": 60}, cell="rnn_relu", init="identity", init_scale=2.0,
                  optimizer="sgd", lr=0.01, clip_norm=0.0, hidden_size=8)
    win = make_window(qtbot, tmp_path, config)
    win.controller.play()
    qtbot.waitUntil(lambda: len(messages(win)) == 1, timeout=20000)
    text = messages(win)[0].text()
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=10000)
    last_norm = win.controller.session.history.train[-1, 2]  # the last finite step's gradient norm
    assert "nan" not in text.lower() and f"last finite gradient norm was {last_norm:.3g}" in text
    qtbot.mouseClick(messages(win)[0].button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert "steps/s" not in win.status_labels["speed"].text()  # no stale speed
    qtbot.mouseClick(win.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(messages(win)) == 1, timeout=10000)  # Play says why it does nothing
    assert "clipping" in messages(win)[0].text() and not win.controller.running
    win.close()
