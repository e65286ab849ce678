"""The new cells (minGRU, minLSTM, LRU, selective) in the window: the Network dock offers them, the
panels draw them, step-through ends with the full BPTT gradients, the gradient check passes."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.stepping import weight_labels
from rnnviz.session.config import SessionConfig
from rnnviz.ui.gradcheck import GradientCheckDialog
from rnnviz.ui.main_window import STEP_TAB, TRAINING_TAB
from tests.ui.conftest import module_window

CELLS = ("mingru", "minlstm", "lru", "selective")
SMALL = dict(task="associative_recall", task_params={"n_pairs": 2}, cell="lstm", hidden_size=4, batch_size=4,
             dtype="float64")


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "linear_cells") as state:
        yield state


def pick(qtbot, window, cell):
    controls = window.network_controls
    index = controls.cell.findData(cell)
    assert index >= 0 and controls.cell.itemText(index) == cell_spec(cell).title
    controls.cell.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.last_snapshot is not None and window.last_snapshot.cell == cell
                    and not window.controller.busy, timeout=5000)
    # a frame is drawn one panel per event-loop turn: wait until every training panel shows it
    qtbot.waitUntil(lambda: window.tabs.currentIndex() != TRAINING_TAB or all(
        panel.snapshot is window.last_snapshot for panel in window.training_panels.values()), timeout=5000)


@pytest.mark.parametrize("cell", CELLS)
def test_the_dock_offers_it_and_the_panels_draw_it(qtbot, shared, cell):
    window = shared["window"]
    pick(qtbot, window, cell)
    spec = cell_spec(cell)
    assert spec.equations[0] in window.network_controls.equations.text()
    snapshot = window.last_snapshot
    assert set(snapshot.weights) == set(weight_labels(cell).values()) | {"W_out", "b_out"}
    gates = window.panels["gates"]
    assert gates.current_page() is gates.pages[cell]
    assert set(gates.shown_gates()) == set(spec.gate_names) | ({"cell_state"} if spec.has_cell_state else set())


@pytest.mark.parametrize("cell", ["minlstm", "selective"])
def test_step_through_ends_with_the_full_bptt_gradients(qtbot, shared, cell):
    window = shared["window"]
    pick(qtbot, window, cell)
    window.tabs.setCurrentIndex(STEP_TAB)
    page = window.step_page
    qtbot.waitUntil(lambda: page.stepper is not None and page.stepper.mode == cell and not page.busy, timeout=5000)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)  # the page keeps its place between cells
    qtbot.waitUntil(lambda: page.stepper.forward_done == 0 and not page.busy, timeout=5000)
    result = window.controller.session.inspect()
    full = result.trace.layer(0, 0).hidden[:, 0]  # (T, H) the engine's kernel, sample 0
    for _ in range(full.shape[0]):
        qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    equations = page.panels["equations"]
    # float64 session and float64 textbook steps: the same sums in another order, a few ulp apart
    np.testing.assert_allclose(equations.cell.h, full[-1], rtol=1e-12, atol=1e-14)
    assert f"{cell_spec(cell).title} cell at t = " in equations._titles[0].text
    qtbot.mouseClick(page.backward_end_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=10000)
    assert "matches full BPTT ✓" in page.panels["bptt"].match_label.text()
    accumulated = page.stepper.current_backward.accumulated
    for kind, label in weight_labels(cell).items():
        expected = result.grads[f"{kind}_l0"]
        # float64 both ways; sums over T = 6 steps and B = 8 samples differ by rounding only
        np.testing.assert_allclose(accumulated[label], expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())
    window.tabs.setCurrentIndex(0)


def test_the_gradient_check_button_passes_for_the_lru(qtbot, shared):
    window = shared["window"]
    pick(qtbot, window, "lru")
    window.tabs.setCurrentIndex(STEP_TAB)
    qtbot.mouseClick(window.step_page.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(GradientCheckDialog)), timeout=3000)
    dialog = [d for d in window.findChildren(GradientCheckDialog) if d.isVisible()][0]
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=10000)
    assert dialog.all_passed() and dialog.table.rowCount() == len(weight_labels("lru")) + 2
    dialog.reject()
    window.tabs.setCurrentIndex(0)


@pytest.mark.parametrize("cell", ["lru", "minlstm"])
def test_the_gradient_flow_panel_follows_training_live(qtbot, shared, cell):
    """The LRU's λ on the unit circle, minLSTM's decay f′_t as a heatmap: redrawn while the network trains."""
    window = shared["window"]
    pick(qtbot, window, cell)
    window.tabs.setCurrentIndex(STEP_TAB)
    page = window.step_page
    page.left_tabs.setCurrentWidget(page.panels["vanishing"])
    panel = page.panels["vanishing"]
    qtbot.waitUntil(lambda: panel.data is not None and panel.data.state_symbol == cell_spec(cell).memory_state
                    and (panel.data.decay is None) == (cell == "lru"), timeout=10000)
    first = panel.data
    qtbot.mouseClick(window.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.data.step is not None and panel.data.step >= (first.step or 0) + 20, timeout=30000)
    qtbot.mouseClick(window.training_controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    later = panel.data
    if cell == "lru":  # λ is a parameter: training moves it, and the dots follow
        assert panel.current_page() is panel.graphics
        assert not np.array_equal(later.eigenvalues["λ"], first.eigenvalues["λ"])
        np.testing.assert_array_equal(panel.scatters["λ"].xData, later.eigenvalues["λ"].real)
        assert np.all(np.abs(later.eigenvalues["λ"]) < 1)
    else:  # the decay of the selected sample follows the input weights
        assert panel.current_page() is panel.decay_page
        assert not np.array_equal(later.decay.values, first.decay.values)
        np.testing.assert_array_equal(panel.decay_image.image, later.decay.values)
    window.tabs.setCurrentIndex(TRAINING_TAB)
    window.controller.reset()  # step 0 again: the next test picks a cell without being asked
    qtbot.waitUntil(lambda: window.controller.session.step == 0 and not window.controller.busy, timeout=10000)
