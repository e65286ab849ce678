"""The "Step through time" page driven like a person: keys, buttons, clicks on the unrolled network."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from rnnviz.session import presets
from rnnviz.session.config import SessionConfig
from tests.tolerances import assert_same_maths
from tests.ui.conftest import module_window
from rnnviz.ui.main_window import STEP_TAB, TRAINING_TAB

SMALL = dict(task="adding", task_params={"seq_len": 9}, cell="lstm", hidden_size=6, batch_size=8)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    """One window for the module; each test starts from SMALL."""
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "step") as state:
        yield state


@pytest.fixture
def fresh(qtbot, shared):
    """The shared window, reset; tests take it out of the dict (a fixture value would keep it alive)."""
    win = shared["window"]
    qtbot.waitUntil(lambda: win.controller.session is not None, timeout=10000)
    if win.controller.config != SessionConfig(**SMALL) or win.controller.session.step:
        win.controller.new_session(SessionConfig(**SMALL))
    qtbot.waitUntil(lambda: win.last_snapshot is not None and not win.controller.busy
                    and win.controller.session.config == SessionConfig(**SMALL), timeout=10000)
    win.tabs.setCurrentIndex(TRAINING_TAB)
    del win
    yield shared
    win = shared["window"]
    win.step_page.stop_playing()
    if win.step_page.stepper is not None:
        win.step_page.to_start()


def open_page(qtbot, win):
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentIndex() == STEP_TAB
    page = win.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and not page.busy, timeout=5000)
    return page


def settle(qtbot, page):
    """Jumps (▶▶ buttons) run off the UI thread: wait for them like a person waits for the screen."""
    qtbot.waitUntil(lambda: not page.busy, timeout=10000)


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def reference(win):
    """The full forward and backward pass of the live session (the engine's fast path)."""
    return win.controller.session.inspect()


def test_ctrl_1_and_ctrl_2_switch_pages(qtbot, fresh):
    window = fresh["window"]
    open_page(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == TRAINING_TAB


def test_stepping_forward_fills_the_diagram_column_by_column_until_it_equals_the_full_trace(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)
    diagram = page.panels["unrolled"]
    full = reference(window).trace.layer(0, 0).hidden[:, 0].astype(float)  # (T, H)
    steps = full.shape[0]
    assert np.isnan(diagram.state.hidden).all()
    for k in range(1, steps + 1):
        click(qtbot, page.next_button)
        shown = diagram.state.hidden
        assert np.isfinite(shown[:k]).all() and np.isnan(shown[k:]).all()
        assert diagram.state.current == k - 1 and page.timestep == k - 1
    # the stepper's per-sample steps against the batched float32 engine: the same maths by another route,
    # each through N <= T (fan-in + 16) = 9 (2 + 6 + 16) < 2^8 roundings: 2 N u32 (tests/tolerances.py)
    forward = dict(roundings=2**8, dtype=np.float32)
    assert_same_maths(diagram.state.hidden, full, **forward)
    strip = diagram.strips[0].image  # (columns, H): the filled columns of each box hold h_t
    assert_same_maths(strip[2::10], full, **forward)
    assert f"Forward: {steps} of {steps}" in page.position_label.text()
    equations = page.panels["equations"]
    assert equations.cell is not None and equations.cell.t == steps - 1
    assert_same_maths(equations.cell.h, full[-1], **forward)


def test_keys_step_and_step_back(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)
    page.panels["unrolled"].setFocus()
    for _ in range(3):
        qtbot.keyClick(page.panels["unrolled"], Qt.Key.Key_Right)
    assert page.position == (3, 0)
    qtbot.keyClick(page.panels["unrolled"], Qt.Key.Key_Left)
    assert page.position == (2, 0)
    qtbot.keyClick(page.panels["unrolled"], Qt.Key.Key_End)
    settle(qtbot, page)
    assert page.position == (9, 0)
    qtbot.keyClick(page.panels["unrolled"], Qt.Key.Key_Home)
    assert page.position == (0, 0)


def test_stepping_back_through_time_ends_with_exactly_the_full_bptt_gradients(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)
    bptt = page.panels["bptt"]
    click(qtbot, page.forward_end_button)
    settle(qtbot, page)
    steps = page.stepper.seq_len
    assert page.position == (steps, 0)
    norms_seen = []
    for k in range(1, steps + 1):
        click(qtbot, page.next_button)
        norms = bptt.state.grad_norm
        assert np.isfinite(norms).sum() == k  # the norm plot fills in one timestep per step
        assert bptt.state.t == steps - k
        norms_seen.append(norms[steps - k])
        if k < steps:
            assert "matches" not in bptt.match_label.text()
    assert "matches full BPTT ✓" in bptt.match_label.text()
    result = reference(window)
    grads = page.stepper.current_backward.accumulated
    # float32 forward and backward, then sums over T B = 72 terms: N <= 2 * 2^8 + 72 < 2^10, 2 N u32
    backward = dict(roundings=2**10, dtype=np.float32)
    for label, name in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                        ("b_hh", "bias_hh_l0")):
        assert_same_maths(grads[label], result.grads[name], err_msg=label, **backward)
    expected_norms = np.linalg.norm(result.core_grads.layer(0, 0).d_hidden[:, 0].astype(float), axis=1)
    assert_same_maths(bptt.state.grad_norm, expected_norms, **backward)
    # the split adds up: dL/dh_t = from the output + from t+1 (one addition)
    state = bptt.state
    step = page.stepper.grad_step(state.t)
    assert_same_maths(state.d_hidden_from_output + state.d_hidden_from_next, step.d_hidden, roundings=1,
                      dtype=np.float32)


def test_clicking_a_box_in_the_unrolled_network_moves_the_cursor_in_every_panel(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)
    click(qtbot, page.backward_end_button)
    settle(qtbot, page)
    diagram = page.panels["unrolled"]
    view = diagram.current_page()
    target = view.mapFromScene(diagram.slot_center(3))
    with qtbot.waitSignal(page.timestep_changed, timeout=3000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(target.x(), target.y()))
    assert blocker.args == [3]
    assert page.timestep == 3 and diagram.state.cursor == 3
    assert page.panels["equations"].cell.t == 3
    assert page.panels["bptt"].state.t == 3
    assert page.cursor_lines.positions() == [3.0]
    training_lines = window.cursor_lines.positions()
    assert len(training_lines) >= 3 and set(training_lines) == {3.0}


def test_play_steps_on_its_own_and_pauses(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)
    page.speed_box.setCurrentText("15 steps/s")
    click(qtbot, page.play_button)
    qtbot.waitUntil(lambda: page.position[0] >= 3, timeout=5000)
    click(qtbot, page.play_button)
    stopped = page.position
    qtbot.wait(300)
    assert page.position == stopped
    assert "Play" in page.play_button.text()


def test_vanishing_preset_shrinks_the_gradient_and_lstm_keeps_it(qtbot, fresh):
    window = fresh["window"]
    page = open_page(qtbot, window)

    def ratio_after_bptt() -> float:
        click(qtbot, page.backward_end_button)
        settle(qtbot, page)
        norms = page.panels["bptt"].state.grad_norm  # what the gradient-norm plot shows
        assert np.isfinite(norms).all()
        return float(norms[0] / norms[-1])

    window.apply_preset("vanishing")
    qtbot.waitUntil(lambda: window.controller.config == presets.PRESETS["vanishing"].config
                    and not window.controller.busy, timeout=20000)
    qtbot.waitUntil(lambda: not page.busy and page.stepper.session.config == window.controller.config,
                    timeout=5000)
    vanishing = ratio_after_bptt()
    # ||dL/dh_1|| / ||dL/dh_T||: 8e-14 .. 4e-10 measured over seeds (session/presets.py); rounding
    # (float32, any BLAS kernel) moves it by a relative ~1e-5, so 1e-3 holds with 6 decades to spare
    assert vanishing < 1e-3
    window.apply_preset("lstm_fixed")  # nothing trained yet: no question asked
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    qtbot.waitUntil(lambda: window.controller.config == presets.PRESETS["lstm_fixed"].config
                    and not window.controller.busy, timeout=20000)
    qtbot.waitUntil(lambda: not page.busy and page.stepper.session.config == window.controller.config,
                    timeout=5000)
    lstm = ratio_after_bptt()
    assert lstm > 100 * vanishing  # 0.07 .. 0.87 measured: >= 1e8 times the vanishing ratio
