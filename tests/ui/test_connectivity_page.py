"""The Connectivity page in the window: the live map built in the background, hovering a row chooses the
output whose inputs the strip colours, the comparison of cell kinds runs with progress, exports."""
from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from rnnviz.session.config import SessionConfig
from rnnviz.session.connectivity import LOG_FLOOR
from rnnviz.ui import export
from tests.ui.conftest import module_window
from tests.ui.test_export import distinct_colours

SMALL = dict(task="copy", task_params={"n_symbols": 2, "alphabet": 3, "delay": 3}, hidden_size=6, batch_size=4)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "connectivity_page") as state:
        yield state


def shown_page(qtbot, window):
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    page = window.show_page_named("connectivity")
    qtbot.waitUntil(lambda: page.live is not None and not window.jobs.busy("connectivity"), timeout=10000)
    return page


def test_hovering_a_row_colours_the_inputs_of_that_output(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    panel = page.panel
    live = page.live.maps[0]
    _page, columns, _bar = panel.layouts[1]
    column = columns[0]
    # the mouse over the matrix's row t = 4 (cells are centred on whole timesteps)
    scene_point = column.matrix.getViewBox().mapViewToScene(QPointF(2.0, 4.0))
    widget = panel.current_page()
    qtbot.mouseMove(widget.viewport(), widget.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: panel.output == 4, timeout=3000)
    strip = column.strip_image.image[:, 0]  # (T,) the strip's colours: row 4 of the map, nothing after t = 4
    np.testing.assert_array_equal(strip[:5], np.nan_to_num(live.relative_log[4, :5], nan=LOG_FLOOR))
    assert np.all(np.isnan(strip[5:]))
    assert "t = 4" in panel.keys[1].text
    window.model.timestep = 2  # the shared cursor chooses too
    assert panel.output == 2


def test_compare_trains_three_cell_kinds_and_exports_them(qtbot, shared, tmp_path, read_table):
    window = shared["window"]
    page = shown_page(qtbot, window)
    page.steps.setValue(3)
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    assert page.comparing and not page.compare_button.isEnabled() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not page.comparing, timeout=60000)
    view = page.panel.view
    assert [m.cell for m in view.maps] == [SMALL.get("cell", window.controller.config.cell), "rnn_tanh", "lstm", "gru"]
    assert all(m.step == 3 for m in view.maps[1:])
    assert "rnn_tanh" in page.status.text() and page.compare_button.isEnabled()
    written = export.export_all({"connectivity": page.panel}, tmp_path)
    assert sorted(p.name for p in written) == ["connectivity.csv", "connectivity.png", "connectivity.svg"]
    assert distinct_colours(QImage(str(tmp_path / "connectivity.png"))) > 10
    root = ElementTree.fromstring((tmp_path / "connectivity.svg").read_text(encoding="utf-8"))
    assert root.findall(".//{http://www.w3.org/2000/svg}path") or root.findall(".//{http://www.w3.org/2000/svg}image")
    header, rows = read_table(tmp_path / "connectivity.csv")
    assert header == ["network", "output_t", "input_t", "input_token", "norm", "share_of_row_max"]
    gru = [r for r in rows if r[0] == "gru"]
    steps = view.time.steps
    assert len(gru) == steps * (steps + 1) // 2  # every t' <= t
    t, source = int(gru[-1][1]), int(gru[-1][2])
    assert float(gru[-1][4]) == view.maps[3].norms[t, source]
