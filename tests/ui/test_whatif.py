"""What-if edits driven like a person would: double-click a timestep or a weight, type, OK; every panel
recomputes to what an independent forward pass gives; Ctrl+Z brings back exactly what was there."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.ui.main_window import MainWindow
from tests.tolerances import assert_same_maths

TOKENS = dict(task="parity", task_params={"seq_len": 10}, cell="gru", hidden_size=6, batch_size=8)
VALUES = dict(task="adding", task_params={"seq_len": 12}, cell="lstm", hidden_size=5, batch_size=8)


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    # The worker process prepares its compiled kernels in the background and uses the NumPy path until
    # they are ready; the two differ in the last float bits (rnnviz.engine.kernels), so which path drew a
    # frame depends on timing. Comparing frames bit for bit needs one path in the worker: NumPy's.
    monkeypatch.setenv("RNNVIZ_NO_NUMBA", "1")
    windows = []

    def make(**config):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(SessionConfig(**config), settings)
        qtbot.addWidget(win)
        win.resize(1280, 720)
        win.show()
        qtbot.waitUntil(lambda: win.last_snapshot is not None and win.controller.session is not None, timeout=10000)
        qtbot.waitUntil(lambda: not win.controller.busy, timeout=10000)
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.controller.shutdown()


def double_click(qtbot, panel, item, x: float, y: float) -> None:
    """A real double-click on the view, at data cell (x, y) of ``item`` (an image: its pixel coordinates)."""
    page = panel.stack.currentWidget()
    panel.window().training_page.flush()
    position = page.mapFromScene(item.mapToScene(QPointF(x + 0.5, y + 0.5)))
    qtbot.mouseDClick(page.viewport(), Qt.MouseButton.LeftButton, pos=position)


def drawn(win) -> dict[str, np.ndarray]:
    """What the training panels show now (copies of their items' data)."""
    win.training_page.flush()
    panels = win.training_panels
    return {
        "hidden": np.array(panels["hidden"].image.image, copy=True),
        "gradients": np.array(panels["gradients"].curve.yData, copy=True),
        "predictions": np.array(panels["predictions"].view.predictions, copy=True),
        "weights": np.array(panels["weights"].views["W_hh"].image.image, copy=True),
    }


def wait_for_frame(qtbot, win, condition):
    qtbot.waitUntil(lambda: condition(win.last_snapshot), timeout=10000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=10000)
    win.training_page.flush()


def independent_pass(config: dict, inputs_edit=None, weight_edit=None):
    """The view batch's forward and backward pass of a fresh session with the same settings, edited by
    hand (not through rnnviz's what-if code)."""
    session = Session(SessionConfig(**config))
    batch = session.view_batch
    inputs = batch.inputs.copy()
    if inputs_edit is not None:
        t, sample, values = inputs_edit
        inputs[t, sample] = values
    if weight_edit is not None:
        name, index, value = weight_edit
        session.model.parameters()[name][index] = value
    result = session.model.loss_and_grads(inputs, batch.targets, batch.mask)
    return result


def test_edit_a_token_recomputes_every_panel_and_ctrl_z_restores_it_bit_for_bit(qtbot, make_window):
    win = make_window(**TOKENS)
    before = drawn(win)
    snapshot = win.last_snapshot
    t = 3
    old_token = snapshot.timestep_labels[t]
    double_click(qtbot, win.training_panels["hidden"], win.training_panels["hidden"].image, t, 1)
    qtbot.waitUntil(lambda: win.whatif.dialog is not None and win.whatif.dialog.isVisible(), timeout=3000)
    editor = win.whatif.dialog
    assert editor.objectName() == "input_editor"
    new_token = "1" if old_token == "0" else "0"
    editor.token_box.setCurrentText(new_token)
    qtbot.mouseClick(editor.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    wait_for_frame(qtbot, win, lambda s: s.timestep_labels[t] == new_token)
    assert win.whatif.undo_action.text().replace("&", "") == f"Undo set x[{t}] = '{new_token}'"

    names = win.last_snapshot.input_names
    one_hot = np.eye(len(names))[names.index(new_token)]
    result = independent_pass(TOKENS, inputs_edit=(t, 0, one_hot))
    after = drawn(win)
    expected_hidden = result.trace.layer(0, 0).hidden[:, 0].astype(np.float64)
    assert_same_maths(after["hidden"], expected_hidden, dtype=np.float32)
    assert not np.array_equal(after["hidden"], before["hidden"])  # the edit changed what is drawn
    assert_same_maths(after["predictions"], np.asarray(result.predictions[0], dtype=np.float64).ravel()
                      .reshape(after["predictions"].shape), dtype=np.float32)
    hidden_panel = win.training_panels["hidden"]
    row = hidden_panel.view.one_hot_names.index(new_token)  # the token inputs' one-hot rows
    assert "edited (what-if)" in hidden_panel.explain_at(
        hidden_panel.stack.currentWidget(), hidden_panel.one_hot.image.mapToScene(QPointF(t + 0.5, row + 0.5))).text()

    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_for_frame(qtbot, win, lambda s: s.timestep_labels[t] == old_token)
    restored = drawn(win)
    for name in before:
        assert np.array_equal(restored[name], before[name]), name
    assert win.controller.session.input_edits.values == {}

    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    wait_for_frame(qtbot, win, lambda s: s.timestep_labels[t] == new_token)
    assert np.array_equal(drawn(win)["hidden"], after["hidden"])  # redo: the same edit again


def test_edit_a_weight_recomputes_and_undo_restores_it_bit_for_bit(qtbot, make_window):
    win = make_window(**VALUES)
    before = drawn(win)
    panel = win.training_panels["weights"]
    row, col = 5 + 2, 3  # the forget gate's block, unit 2, reading h_(t-1)[3]
    double_click(qtbot, panel, panel.views["W_hh"].image, col, row)
    qtbot.waitUntil(lambda: win.whatif.dialog is not None and win.whatif.dialog.isVisible(), timeout=3000)
    editor = win.whatif.dialog
    assert editor.objectName() == "weight_editor"
    editor.field.setText("1.75")
    qtbot.mouseClick(editor.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    wait_for_frame(qtbot, win, lambda s: s.weights["W_hh"][row, col] == 1.75)
    assert win.whatif.undo_action.text().replace("&", "") == f"Undo set weight_hh_l0[{row}, {col}] = 1.75"

    result = independent_pass(VALUES, weight_edit=("weight_hh_l0", (row, col), 1.75))
    after = drawn(win)
    assert_same_maths(after["hidden"], result.trace.layer(0, 0).hidden[:, 0].astype(np.float64), dtype=np.float32)
    assert after["weights"][col, row] == 1.75  # the heatmap is drawn transposed (x = column)
    assert not np.array_equal(after["hidden"], before["hidden"])

    win.whatif.undo_action.trigger()  # Edit ▸ Undo
    wait_for_frame(qtbot, win, lambda s: s.weights["W_hh"][row, col] != 1.75)
    restored = drawn(win)
    for name in before:
        assert np.array_equal(restored[name], before[name]), name


def test_absurd_and_non_finite_values_are_refused_in_the_editor(qtbot, make_window):
    win = make_window(**VALUES)
    dialog = win.whatif.ask_input(0, 2)
    for text, says in (("1e9", "too large"), ("nan", "not a finite number"), ("two", "not a number")):
        dialog.fields[0].setText(text)
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        assert dialog.isVisible() and not dialog.error.isHidden()
        assert says in dialog.error.text()
    assert win.whatif.stack.count() == 0
    dialog.close()
    padded = np.flatnonzero(win.controller.session.original_view_batch.mask[:, 0] == 0)
    if padded.size:  # a padded timestep cannot be edited: a message says why
        assert win.whatif.ask_input(0, int(padded[0])) is None


def test_training_after_a_weight_edit_keeps_it_and_ends_its_undo(qtbot, make_window):
    win = make_window(**VALUES)
    entry_value = 0.5
    from rnnviz.session.whatif import WeightEntry

    win.whatif.edit_weight(WeightEntry("bias_hh_l0", (6,)), entry_value)
    wait_for_frame(qtbot, win, lambda s: s.weights["b_hh"][6] == entry_value)
    assert win.whatif.stack.count() == 1
    win.whatif.ask_weight(WeightEntry("bias_hh_l0", (6,)), "b_hh[6]").close()
    win.controller.step(1)
    wait_for_frame(qtbot, win, lambda s: s.step == 1)
    assert win.whatif.stack.count() == 0 and not win.whatif.undo_action.isEnabled()
    assert "can no longer be undone" in win.statusBar().currentMessage()
    assert abs(win.last_snapshot.weights["b_hh"][6] - entry_value) < 0.1  # trained from 0.5, not reset


def test_weights_are_not_edited_while_training_runs(qtbot, make_window):
    from rnnviz.session.whatif import WeightEntry

    win = make_window(**VALUES)
    win.controller.play()
    qtbot.waitUntil(lambda: win.controller.running, timeout=5000)
    assert win.whatif.ask_weight(WeightEntry("weight_hh_l0", (0, 0)), "W_hh[0, 0]") is None
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "Pause training first" in boxes[-1].text()
    win.controller.pause()
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=5000)


def test_double_click_in_the_unrolled_diagram_edits_the_input_and_the_step_through_follows(qtbot, make_window):
    win = make_window(**TOKENS)
    win.show_page(1)
    page = win.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and not page.busy, timeout=10000)
    diagram = page.panels["unrolled"]
    t = 2
    scene = diagram.slot_center(t, 0, 0)
    view = diagram.stack.currentWidget()
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene))
    qtbot.waitUntil(lambda: win.whatif.dialog is not None and win.whatif.dialog.isVisible(), timeout=3000)
    editor = win.whatif.dialog
    assert (editor.sample, editor.timestep) == (win.model.selection.sample, t)
    old = diagram.state.labels[t]
    new = "1" if old == "0" else "0"
    editor.token_box.setCurrentText(new)
    qtbot.mouseClick(editor.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy and page.stepper is not None
                    and page.stepper.session.view_batch.inputs[t, win.model.selection.sample].argmax()
                    == page.stepper.session.task.info().input_names.index(new), timeout=10000)
    qtbot.waitUntil(lambda: diagram.state is not None and diagram.state.labels[t] == new, timeout=10000)


def test_double_click_a_gate_in_the_equations_heatmap_edits_its_bias(qtbot, make_window):
    win = make_window(**VALUES)
    win.show_page(1)
    page = win.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and not page.busy, timeout=10000)
    page.do("to_forward_end")
    qtbot.waitUntil(lambda: not page.busy and page.stepper.forward_done == page.stepper.seq_len, timeout=10000)
    equations = page.panels["equations"]
    rows = [name for name, _ in equations._rows_shown]
    unit, row = 1, rows.index("f")
    view = equations.stack.currentWidget()
    scene = equations.image.mapToScene(QPointF(unit + 0.5, row + 0.5))
    inside = view.mapTo(equations.stack, view.mapFromScene(scene))
    equations.scroll.ensureVisible(inside.x(), inside.y(), 20, 60)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene))
    qtbot.waitUntil(lambda: win.whatif.dialog is not None and win.whatif.dialog.isVisible(), timeout=3000)
    editor = win.whatif.dialog
    assert editor.entry.name == "bias_hh_l0" and editor.entry.index == (5 + unit,)  # the forget block, unit 1
    editor.field.setText("4")
    qtbot.mouseClick(editor.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.last_snapshot.weights["b_hh"][5 + unit] == 4.0, timeout=10000)
    qtbot.waitUntil(lambda: not page.busy and page.stepper is not None
                    and page.stepper.session.model.parameters()["bias_hh_l0"][5 + unit] == 4.0, timeout=10000)
