"""The parallel scan in the window: the scan panel shows what its view state holds and exports it; the
page measures loop and scan times in the background (progress, Cancel); the Network dock's "Use
parallel scan" box switches the scan for the cells that can, keeping the weights, and is greyed out
with the reason for the others."""
from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from rnnviz.session.config import SessionConfig
from rnnviz.session.scan import TIMING_LENGTHS, measure_scan_times
from rnnviz.session.session import Session
from rnnviz.session.views.scan import scan_view, with_timing
from rnnviz.ui import export
from rnnviz.ui.main_window import SCAN_TAB
from rnnviz.ui.panels.scan import PHASE_PENS, ScanPanel
from tests.ui.conftest import module_window
from tests.ui.test_export import distinct_colours
from tests.ui.test_window import click_answer, message_box

SMALL = dict(task="selective_copy", task_params={"region": 8}, cell="selective", hidden_size=8, batch_size=4)


class Quiet:
    def check(self) -> None:
        pass

    def progress(self, value) -> None:
        pass


def drawn_panel(qtbot, cell: str) -> tuple[ScanPanel, object]:
    session = Session(SessionConfig(**{**SMALL, "cell": cell}))
    view = with_timing(scan_view(session), measure_scan_times(Quiet(), cell, 8, 4, lengths=(16, 32, 64), repeats=1))
    panel = ScanPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 620)
    panel.show()
    panel.show_view(view)
    return panel, view


@pytest.mark.parametrize("cell", ["mingru", "lstm"])
def test_the_panel_draws_the_tree_the_times_and_the_words_of_its_view(qtbot, cell):
    panel, view = drawn_panel(qtbot, cell)
    tree = view.tree
    assert len(panel.nodes.data) == tree.steps * (tree.levels + 1)
    for phase in PHASE_PENS:
        drawn = list(zip(panel.edges[phase].xData[::2], panel.edges[phase].xData[1::2]))
        expected = [pair for p, pairs in zip(tree.phases, tree.pairs) if p == phase for pair in pairs]
        assert drawn == [tuple(map(float, pair)) for pair in expected]
    assert len(panel.span_labels) == tree.combines
    np.testing.assert_array_equal(panel.loop_curve.xData, view.timing.lengths)
    np.testing.assert_array_equal(panel.loop_curve.yData, view.timing.loop_seconds)
    np.testing.assert_array_equal(panel.scan_curve.yData, view.timing.scan_seconds)
    words = panel.text.plain_text
    assert "cannot" in words and "tanh(W₂ tanh(W₁ h + b₁) + b₂)" in words  # why the others cannot be scanned
    assert view.timing.what in words
    if view.scannable:
        assert "T = 8 in 5 levels" in panel._titles[0].text
        assert f"{view.difference.states:.1e}" in words and "equal to 1e-12" in words
    else:
        assert "LSTM cannot be scanned" in panel._titles[0].text and view.nonlinear in words


def test_the_panel_exports_png_svg_and_the_csv_of_what_it_shows(qtbot, tmp_path, read_table):
    panel, view = drawn_panel(qtbot, "lru")
    written = export.export_all({"scan": panel}, tmp_path)
    assert sorted(p.name for p in written) == ["scan.csv", "scan.png", "scan.svg"]
    assert distinct_colours(QImage(str(tmp_path / "scan.png"))) > 10
    root = ElementTree.fromstring((tmp_path / "scan.svg").read_text(encoding="utf-8"))
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    header, rows = read_table(tmp_path / "scan.csv")
    combines = [(int(r[3]), int(r[4])) for r in rows if r[0] == "combine"]
    assert combines == [pair for pairs in view.tree.pairs for pair in pairs]
    times = [r for r in rows if r[0] == "time"]
    assert [int(r[header.index("T")]) for r in times] == list(view.timing.lengths)
    assert [float(r[header.index("scan_seconds")]) for r in times] == list(view.timing.scan_seconds)
    difference = [float(r[-1]) for r in rows if r[0] == "difference_states"]
    assert difference == [view.difference.states]


# ---------------------------------------------------------------------- in the window


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "scan_page") as state:
        yield state


def scan_page_shown(qtbot, window):
    window.tabs.setCurrentIndex(SCAN_TAB)
    page = window.scan_page
    qtbot.waitUntil(lambda: not window.controller.busy and page.view is not None
                    and page.view.cell == window.controller.config.cell and not page.building, timeout=10000)
    return page


def pick(qtbot, window, cell):
    """Choose ``cell`` in the Network dock, saying yes to new weights when training would be lost."""
    controls = window.network_controls
    controls.cell.setCurrentIndex(controls.cell.findData(cell))
    box = message_box(window, "confirm")
    if box is not None:
        click_answer(qtbot, box, QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: window.controller.session.config.cell == cell and not window.controller.busy,
                    timeout=10000)


def test_measuring_fills_in_the_times_with_progress(qtbot, shared):
    window = shared["window"]
    page = scan_page_shown(qtbot, window)
    assert page.panel.view.cell == "selective" and page.panel.view.agrees
    page.lengths = (16, 32, 64)
    qtbot.mouseClick(page.measure_button, Qt.MouseButton.LeftButton)
    assert page.measuring and not page.measure_button.isEnabled() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not page.measuring, timeout=30000)
    timing = page.panel.view.timing
    assert timing.lengths == (16, 32, 64) and timing.complete and "Selective SSM (S6) layer" in timing.what
    assert page.progress.value() == page.progress.maximum() == 3
    np.testing.assert_array_equal(page.panel.scan_curve.xData, timing.lengths)
    assert page.measure_button.isEnabled() and not page.cancel_button.isEnabled()


def test_cancel_stops_the_measurement_and_keeps_what_was_measured(qtbot, shared):
    window = shared["window"]
    page = scan_page_shown(qtbot, window)
    page.lengths = TIMING_LENGTHS  # 16 .. 4096: seconds for the selective layer
    qtbot.mouseClick(page.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.timing is not None and len(page.timing.lengths) >= 1, timeout=30000)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.measuring, timeout=20000)
    qtbot.waitUntil(lambda: not page.timing_job.alive, timeout=5000)  # the process has ended
    assert "Cancelled" in page.status.text()
    kept = page.panel.view.timing
    assert 1 <= len(kept.lengths) < len(TIMING_LENGTHS) and not kept.complete
    assert page.measure_button.isEnabled()


def test_the_scan_box_switches_the_scan_and_keeps_the_weights(qtbot, shared):
    window = shared["window"]
    window.tabs.setCurrentIndex(0)
    controller, box = window.controller, window.network_controls.scan
    assert box.isEnabled() and not box.isChecked() and "parallel) scan" in box.toolTip()
    controller.step(2)
    qtbot.waitUntil(lambda: controller.session.step == 2 and not controller.busy, timeout=10000)
    session_id, weights = controller.session_id, controller.session.model.state_dict()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert controller.config.scan
    qtbot.waitUntil(lambda: controller.session.model.core.scan and not controller.busy, timeout=10000)
    # the live session computes with the scan now: the same network (no new one, no question asked)
    assert controller.session_id == session_id and controller.session.step == 2 and controller.session.config.scan
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    for name, value in controller.session.model.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])
    controller.step(1)
    qtbot.waitUntil(lambda: controller.session.step == 3 and not controller.busy, timeout=10000)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.session.model.core.scan and not controller.busy, timeout=10000)
    assert not controller.config.scan and controller.session_id == session_id


def test_a_cell_that_cannot_scan_greys_the_box_out_and_says_why(qtbot, shared):
    window = shared["window"]
    box = window.network_controls.scan
    pick(qtbot, window, "mingru")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.session.config.scan and not window.controller.busy, timeout=10000)
    pick(qtbot, window, "gru")  # the scan goes off with a cell that cannot
    assert not window.controller.config.scan and not box.isEnabled() and not box.isChecked()
    assert "GRU cannot use the parallel scan" in box.toolTip()
    page = scan_page_shown(qtbot, window)
    assert page.panel.view.cell == "gru" and "GRU cannot be scanned" in page.panel._titles[0].text
    assert page.timing is None  # the times of another cell are not shown
    pick(qtbot, window, "minlstm")
    assert box.isEnabled() and "h_t = f′_t ⊙ h_(t−1) + i′_t ⊙ h̃_t" in box.toolTip()
    window.tabs.setCurrentIndex(0)
