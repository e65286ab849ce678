"""The main window driven like a person would: pick settings, press Play, watch, export, recover."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from rnnviz.session.config import SessionConfig
from rnnviz.ui.main_window import MainWindow
from tests.tolerances import assert_same_maths

SMALL = dict(task="adding", task_params={"seq_len": 16}, cell="lstm", hidden_size=8, batch_size=8)


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(**SMALL), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=5000)
    yield win
    win.controller.shutdown()


def message_box(win, name="message"):
    boxes = [b for b in win.findChildren(QMessageBox) if b.objectName() == name and b.isVisible()]
    return boxes[-1] if boxes else None


def click_answer(qtbot, box, button):
    qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)


def test_build_a_gru_press_play_and_watch_the_panels_change(qtbot, window):
    window.network_controls.cell.setCurrentIndex(window.network_controls.cell.findData("gru"))
    assert window.controller.config.cell == "gru"
    qtbot.waitUntil(lambda: window.last_snapshot.cell == "gru", timeout=5000)
    first = window.last_snapshot
    qtbot.mouseClick(window.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.last_snapshot.step >= 15, timeout=20000)
    assert window.controller.running
    assert "Pause" in window.training_controls.play_button.text()
    qtbot.mouseClick(window.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=5000)
    later = window.last_snapshot
    assert set(later.gates) == {"r", "z", "n"}
    assert not np.array_equal(first.hidden, later.hidden)
    assert len(later.history.train_loss) == later.step
    assert window.status_labels["step"].text() == f"Step {later.step:,}"


def test_pick_a_task_and_its_parameters(qtbot, window):
    box = window.task_controls.task_box
    box.setCurrentIndex(box.findData("parity"))
    assert window.controller.config.task == "parity"
    qtbot.waitUntil(lambda: window.last_snapshot.task_name == "parity", timeout=5000)
    assert window.controller.session.task.name == "parity"
    assert "parity" in window.task_controls.description.text().lower()
    seq_len = window.task_controls.findChild(type(window.training_controls.batch), "param_seq_len")
    seq_len.setValue(7)
    qtbot.waitUntil(lambda: len(window.last_snapshot.hidden) == 7, timeout=5000)
    assert window.controller.session.task.values["seq_len"] == 7


def test_one_step_shortcut_and_space_to_play_and_pause(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.controller.running, timeout=3000)
    qtbot.waitUntil(lambda: window.last_snapshot.step > 3, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=5000)


def test_learning_rate_change_applies_without_resetting(qtbot, window):
    window.controller.step(3)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 3, timeout=5000)
    window.training_controls.lr.setValue(0.0005)
    assert window.controller.config.lr == pytest.approx(0.0005)
    # decimal rounding in the spin box (and at most a log/exp round trip): a few ulps of 0.0005
    qtbot.waitUntil(lambda: window.controller.session.trainer.config.lr == pytest.approx(0.0005, rel=1e-9, abs=1e-15),
                    timeout=5000)
    assert window.controller.session.step == 3


def test_architecture_change_asks_first_and_no_keeps_everything(qtbot, window):
    window.controller.step(2)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 2, timeout=5000)
    session = window.controller.session
    window.network_controls.hidden.setValue(12)
    box = message_box(window, "confirm")
    assert box is not None and "2 training steps" in box.text()
    click_answer(qtbot, box, QMessageBox.StandardButton.No)
    assert window.controller.session is session
    assert window.network_controls.hidden.value() == 8
    window.network_controls.hidden.setValue(12)
    click_answer(qtbot, message_box(window, "confirm"), QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: window.controller.session.config.hidden_size == 12, timeout=5000)
    assert window.controller.session.step == 0


def test_export_all_plots_from_the_menu(qtbot, window, tmp_path, monkeypatch):
    window.controller.step(3)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 3, timeout=5000)
    out = tmp_path / "plots"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    window.export_action.trigger()
    for name in window.panels:
        for suffix in ("png", "svg", "csv"):
            path = out / f"{name}.{suffix}"
            assert path.is_file() and path.stat().st_size > 50, path


def test_a_bad_session_file_gets_a_dialog_and_the_app_carries_on(qtbot, window, tmp_path, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "session.json").write_text("{ this is not json")
    session = window.controller.session
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(bad))
    window.open_action.trigger()
    qtbot.waitUntil(lambda: message_box(window) is not None, timeout=5000)
    box = message_box(window)
    assert "not valid JSON" in box.text()
    click_answer(qtbot, box, QMessageBox.StandardButton.Ok)
    assert window.controller.session is session
    window.controller.step(1)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=5000)


def test_a_bad_data_file_gets_a_dialog_and_keeps_the_task(qtbot, window, tmp_path):
    binary = tmp_path / "data.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    window.task_controls.open_data_file(str(binary))
    qtbot.waitUntil(lambda: message_box(window) is not None, timeout=5000)
    assert window.controller.session.task.name == "adding"
    assert window.controller.config.task == "adding"
    assert window.task_controls.task_box.currentData() == "adding"


def test_save_and_reopen_a_session(qtbot, window, tmp_path):
    window.controller.step(4)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 4 and not window.controller.busy, timeout=5000)
    trained = window.controller.session.model.state_dict()
    with qtbot.waitSignal(window.controller.saved, timeout=5000):
        window.save_session_to(tmp_path / "saved")
    window.controller.reset()
    qtbot.waitUntil(lambda: window.last_snapshot.step == 0, timeout=5000)
    window.open_session(tmp_path / "saved")
    qtbot.waitUntil(lambda: window.last_snapshot.step == 4, timeout=5000)
    for name, value in window.controller.session.model.parameters().items():  # the trained weights, exactly
        np.testing.assert_array_equal(value, trained[name], err_msg=name)
    assert str(tmp_path / "saved") in window.files.recent()


def test_a_diverging_run_pauses_and_says_what_to_do(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    config = SessionConfig(task="adding", task_params={"seq_len": 60}, cell="rnn_relu", init="identity",
                           init_scale=3.0, optimizer="sgd", lr=10.0, clip_norm=0.0, hidden_size=8)
    win = MainWindow(config, settings)
    qtbot.addWidget(win)
    win.show()
    win.controller.play()
    qtbot.waitUntil(lambda: message_box(win) is not None, timeout=20000)
    assert "clipping" in message_box(win).text()
    assert not win.controller.running
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=5000)
    params = win.controller.session.model.parameters()
    assert all(np.isfinite(v).all() for v in params.values())
    win.controller.shutdown()


def test_closing_during_training_is_immediate(qtbot, window):
    window.controller.play()
    qtbot.waitUntil(lambda: window.last_snapshot.step > 2, timeout=10000)
    window.close()  # returns once the worker process has stopped (asked first, terminated if need be)
    assert not window.controller.worker.alive


def test_layout_and_theme_are_remembered(qtbot, tmp_path):
    path = str(tmp_path / "layout.ini")
    win = MainWindow(SessionConfig(**SMALL), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.training_dock.isVisible()
    win.training_dock.toggleViewAction().trigger()
    assert not win.training_dock.isVisible()
    win.set_theme("dark")
    win.close()
    again = MainWindow(SessionConfig(**SMALL), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert not again.training_dock.isVisible()
    from rnnviz.ui import theme

    assert theme.current_theme().name == "dark"
    again.reset_layout_action.trigger()
    assert again.training_dock.isVisible()
    again.set_theme("light")
    again.controller.shutdown()


def test_presets_menu_lists_the_presets_and_asks_before_losing_training(qtbot, window):
    from rnnviz.session.presets import PRESETS

    titles = [a.text() for a in window.preset_menu.actions()]
    assert titles == [p.title for p in PRESETS.values()]
    assert window.preset_actions["vanishing"].statusTip() == PRESETS["vanishing"].description
    window.controller.step(2)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 2, timeout=5000)
    session = window.controller.session
    window.preset_actions["vanishing"].trigger()
    box = message_box(window, "confirm")
    assert box is not None and "2 training steps" in box.text()
    click_answer(qtbot, box, QMessageBox.StandardButton.No)
    assert window.controller.session is session
    window.preset_actions["gru_fixed"].trigger()
    click_answer(qtbot, message_box(window, "confirm"), QMessageBox.StandardButton.Yes)
    assert window.controller.config == PRESETS["gru_fixed"].config
    qtbot.waitUntil(lambda: window.last_snapshot.cell == "gru", timeout=5000)
    assert window.network_controls.cell.currentData() == "gru"
    # the preset's update-gate bias (σ(4) ≈ 0.98) is in the weights, not only the settings
    H = PRESETS["gru_fixed"].config.hidden_size
    assert np.all(window.controller.session.model.parameters()["bias_ih_l0"][H:2 * H] == 4.0)  # 4 is exact


def test_the_step_page_preset_box_applies_a_preset(qtbot, window):
    page = window.step_page
    box = page.preset_box
    index = box.findData("lstm_fixed")
    assert index > 0 and "forget gate" in box.itemData(index, Qt.ItemDataRole.ToolTipRole)
    from rnnviz.session.presets import PRESETS

    preset = PRESETS["lstm_fixed"].config
    assert (preset.hidden_size, preset.carry_bias) != (SMALL["hidden_size"], 0.0)  # only the preset changes these
    box.setCurrentIndex(index)
    box.activated.emit(index)  # what choosing it with the mouse does
    qtbot.waitUntil(lambda: window.controller.config == preset, timeout=5000)
    assert box.currentIndex() == 0  # back to the "Presets…" prompt
    # a new network of the preset's size, its forget-gate bias open (rows H..2H of i, f, g, o) in the weights
    qtbot.waitUntil(lambda: window.controller.session.config == preset, timeout=10000)  # built by the worker
    H = preset.hidden_size
    params = window.controller.session.model.parameters()
    assert params["weight_hh_l0"].shape == (4 * H, H)
    assert np.all(params["bias_ih_l0"][H:2 * H] == preset.carry_bias)
    qtbot.waitUntil(lambda: window.last_snapshot.hidden.shape[-1] == H, timeout=5000)


def test_compare_window_opens_from_the_training_menu_and_closes_with_the_window(qtbot, window):
    window.compare_action.trigger()
    compare = window.compare_window
    assert compare is not None and compare.isVisible()
    assert compare.base_config.task == window.controller.config.task
    window.compare_action.trigger()  # a second time: the same window comes forward
    assert window.compare_window is compare
    compare.toggle()
    qtbot.waitUntil(lambda: compare.step_count >= 1, timeout=10000)
    window.close()
    assert not compare.job.alive


def test_the_head_rows_follow_the_task(qtbot, window):
    """adding -> sine kept "sum" on W_out; sentiment -> dyck kept negative/positive."""
    weights = window.panels["weights"]
    for task in ("adding", "sine", "sentiment", "dyck"):
        window.change_architecture({"task": task, "task_params": {}})
        qtbot.waitUntil(lambda t=task: window.last_snapshot.task_name == t, timeout=5000)
        qtbot.waitUntil(lambda: weights.snapshot is window.last_snapshot, timeout=5000)  # drawn panel by panel
        names = tuple(window.controller.session.task.info().output_names)
        rows = window.controller.session.model.parameters()["head.weight"].shape[0]
        shown = weights.views["W_out"].plot.getAxis("left").labels
        assert shown == (names if len(names) == rows else None), task


def test_learning_rates_below_1e5_survive_the_spin_box(qtbot, window):
    box = window.training_controls.lr
    box.setValue(3e-7)
    qtbot.waitUntil(lambda: window.controller.session.trainer.config.lr == pytest.approx(3e-7, rel=1e-9),
                    timeout=5000)
    assert box.text() == "3e-07"
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "2e-6")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.controller.session.trainer.config.lr == pytest.approx(2e-6, rel=1e-9),
                    timeout=5000)
    box.stepBy(1)  # 1, 2, 5 x 10^k
    assert box.value() == pytest.approx(5e-6)


def test_one_step_is_one_step(qtbot, window):
    window.controller.step(1)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=5000)
    window.network_controls.hidden.setValue(12)
    box = message_box(window, "confirm")
    assert box is not None and "the one training step so far" in box.text() and "steps" not in box.text()
    click_answer(qtbot, box, QMessageBox.StandardButton.No)
    window.rewind_bar.set_steps([1])
    assert window.rewind_bar.label.text() == "live — 1 recorded step (step 1)"


def test_export_all_before_stepping_writes_the_whole_pass(qtbot, window, tmp_path):
    """The step-through page was never opened or stepped: its exports still show the network."""
    import csv

    window.controller.step(2)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 2 and not window.controller.busy, timeout=5000)
    assert window.export_all_to(tmp_path)
    with open(tmp_path / "unrolled.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    trace = window.controller.session.inspect().trace.layer(0, 0)
    hidden = np.array([[float(v) for v in row[4:]] for row in rows])
    # the float32 engine against the stepper's float64 steps: T = 16 steps of fan-in 2 + 8, N <= T (10 + 6 + 16)
    # < 2^9 roundings each (tests/tolerances.py)
    assert_same_maths(hidden, trace.hidden[:, 0], roundings=2**9, dtype=np.float32)
    assert np.isfinite([float(row[3]) for row in rows]).all()  # ||dL/dh_t|| of the whole backward pass
    with open(tmp_path / "equations.csv", newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle))[:2] == ["vector", "timestep"]  # numbers, not the bare equations
    assert np.isnan(window.step_page.panels["unrolled"].state.hidden).all()  # the page itself is not moved
