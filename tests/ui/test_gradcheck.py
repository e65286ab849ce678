"""The gradient check, opened like a person would: the button on the step-through page, the menu."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from rnnviz.session.config import SessionConfig
from tests.ui.conftest import module_window
from rnnviz.ui.gradcheck import FAIL_COLOUR, PASS_COLOUR, GradientCheckDialog
from rnnviz.ui.main_window import STEP_TAB

SMALL = dict(task="adding", task_params={"seq_len": 7}, cell="gru", hidden_size=4, batch_size=4)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    """One window for the module; each test starts from SMALL."""
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "gradcheck") as state:
        yield state


def open_dialogs(win) -> list[GradientCheckDialog]:
    return [d for d in win.findChildren(GradientCheckDialog) if d.isVisible()]


def test_the_button_on_the_step_page_shows_every_parameter_passing_in_green(qtbot, shared):
    window = shared["window"]
    window.tabs.setCurrentIndex(STEP_TAB)
    qtbot.mouseClick(window.step_page.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(open_dialogs(window)) == 1, timeout=3000)
    dialog = open_dialogs(window)[0]
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=10000)
    table = dialog.table
    names = {table.item(r, 0).text() for r in range(table.rowCount())}
    assert {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "head.weight", "head.bias"} <= names
    for r in range(table.rowCount()):
        assert table.item(r, 7).text() == "pass ✓"
        assert table.item(r, 7).background().color() == QColor(PASS_COLOUR)
        # error <= allowed at the worst entry (both shown), ratio <= 1: the float analysis of engine/gradcheck.py
        assert float(table.item(r, 4).text()) <= float(table.item(r, 5).text())
        assert float(table.item(r, 6).text()) <= 1.0
        assert int(table.item(r, 2).text()) >= 1  # entries checked
    assert dialog.all_passed()
    assert f"PASS: {table.rowCount()} of {table.rowCount()} parameters pass" in dialog.summary.text()
    assert "atol = 2.3e-07" in dialog.summary.text()  # 2^10 ulp(1) / 1e-6 in float64
    dialog.reject()


def test_a_failing_row_is_shown_red(qtbot):
    from rnnviz.session.checks import CheckRow

    dialog = GradientCheckDialog()
    qtbot.addWidget(dialog)
    dialog.show_rows([CheckRow("weight_hh_l0", (4, 4), 16, (2, 3), 0.75, 0.25, 2.5e-7, 2e6, 2.3e-7, 1e-6),
                      CheckRow("bias_hh_l0", (4,), 4, (1,), 1e-4 + 1e-12, 1e-4, 2.3e-7, 4e-6, 2.3e-7, 1e-6)])
    assert [dialog.table.item(0, c).text() for c in range(7)] == [
        "weight_hh_l0", "4×4", "16", "[2, 3]", "5.00e-01", "2.50e-07", "2e+06"]
    assert dialog.table.item(0, 7).text() == "FAIL ✗"
    assert dialog.table.item(0, 7).background().color() == QColor(FAIL_COLOUR)
    assert dialog.table.item(1, 7).text() == "pass ✓"
    assert not dialog.all_passed()
    assert "FAIL: 1 of 2 parameters pass" in dialog.summary.text()


def test_the_training_menu_opens_it_too(qtbot, shared):
    window = shared["window"]
    window.gradcheck_action.trigger()
    qtbot.waitUntil(lambda: len(open_dialogs(window)) == 1, timeout=3000)
    dialog = open_dialogs(window)[0]
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=10000)
    assert dialog.all_passed()
    dialog.reject()
