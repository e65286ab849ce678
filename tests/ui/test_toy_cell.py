"""A cell registered from outside rnnviz (the leaky RNN of tests/toy_cell.py) in the window: the
Network dock offers it, the gates panel and the step-through page show it, the gradient check passes."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.engine.cells import registered
from rnnviz.session.config import SessionConfig
from rnnviz.ui.gradcheck import GradientCheckDialog
from rnnviz.ui.main_window import STEP_TAB, TRAINING_TAB
from tests.toy_cell import LEAK, LEAKY
from tests.ui.conftest import module_window

SMALL = dict(task="adding", task_params={"seq_len": 7}, cell="lstm", hidden_size=4, batch_size=4, dtype="float64")


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    """One window for the module, built while the toy cell is registered."""
    with registered(LEAKY), module_window(tmp_path_factory, SessionConfig(**SMALL), "toy_cell") as state:
        yield state


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settle(qtbot, page):
    qtbot.waitUntil(lambda: not page.busy, timeout=10000)


def pick_the_toy_cell(qtbot, window):
    controls = window.network_controls
    index = controls.cell.findData(LEAKY.name)
    assert index >= 0 and controls.cell.itemText(index) == "Leaky RNN"
    controls.cell.setCurrentIndex(index)
    assert window.controller.config.cell == LEAKY.name
    qtbot.waitUntil(lambda: window.last_snapshot is not None and window.last_snapshot.cell == LEAKY.name
                    and not window.controller.busy, timeout=5000)
    # a frame is drawn one panel per event-loop turn: wait until every training panel shows it
    qtbot.waitUntil(lambda: window.tabs.currentIndex() != TRAINING_TAB or all(
        panel.snapshot is window.last_snapshot for panel in window.training_panels.values()), timeout=5000)


def test_the_network_dock_offers_it_and_the_panels_draw_it(qtbot, shared):
    window = shared["window"]
    pick_the_toy_cell(qtbot, window)
    controls = window.network_controls
    assert "n_t = tanh(W_in x_t + b_in + W_hn h_(t-1) + b_hn)" in controls.equations.text()
    assert "Leaky RNN" in controls.summary.text()
    assert not controls.carry_bias.isEnabled()  # it has no carry gate
    snapshot = window.last_snapshot
    assert set(snapshot.gates) == {"n"}
    gates = window.panels["gates"]
    assert gates.current_page() is gates.pages[LEAKY.name] and gates.shown_gates() == ("n",)


def test_step_through_shows_its_equations_and_ends_with_the_full_bptt_gradients(qtbot, shared):
    window = shared["window"]
    pick_the_toy_cell(qtbot, window)
    window.tabs.setCurrentIndex(STEP_TAB)
    page = window.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and page.stepper.mode == LEAKY.name and not page.busy,
                    timeout=5000)
    result = window.controller.session.inspect()
    full = result.trace.layer(0, 0).hidden[:, 0]  # (T, H) the engine's own kernel, sample 0
    steps = full.shape[0]
    for _ in range(steps):
        click(qtbot, page.next_button)
    equations = page.panels["equations"]
    # float64 session and float64 textbook steps: the same sums in another order, a few ulp apart
    np.testing.assert_allclose(equations.cell.h, full[-1], rtol=1e-12, atol=1e-14)
    html = equations.text.html
    assert "n<sub>t</sub> = tanh(W<sub>in</sub> x<sub>t</sub>" in html and "(candidate)" in html
    assert f"(1 − {LEAK}) · " in html  # the state update with this unit's numbers
    assert "Leaky RNN cell at t = " in equations._titles[0].text
    click(qtbot, page.backward_end_button)
    settle(qtbot, page)
    assert "matches full BPTT ✓" in page.panels["bptt"].match_label.text()
    grads = page.stepper.current_backward.accumulated
    for label, name in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                        ("b_hh", "bias_hh_l0")):
        expected = result.grads[name]
        # float64 both ways; the sums over T = 7 steps and B = 4 samples differ by rounding only
        np.testing.assert_allclose(grads[label], expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_the_gradient_check_button_passes(qtbot, shared):
    window = shared["window"]
    pick_the_toy_cell(qtbot, window)
    window.tabs.setCurrentIndex(STEP_TAB)
    click(qtbot, window.step_page.check_button)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(GradientCheckDialog)), timeout=3000)
    dialog = [d for d in window.findChildren(GradientCheckDialog) if d.isVisible()][0]
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=10000)
    assert dialog.all_passed() and dialog.table.rowCount() == 6
    dialog.reject()
