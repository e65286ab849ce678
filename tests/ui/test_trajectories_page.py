"""The Trajectories page in the window: built in the background, follows the cursor and the selection,
updates while training, exports PNG, SVG and CSV."""
from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtGui import QImage

from rnnviz.session.config import SessionConfig
from rnnviz.ui import export
from tests.ui.conftest import module_window
from tests.ui.test_export import distinct_colours

SMALL = dict(task="parity", task_params={"seq_len": 6}, hidden_size=6, batch_size=8)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "trajectories_page") as state:
        yield state


def shown_page(qtbot, window):
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    page = window.show_page_named("trajectories")
    qtbot.waitUntil(lambda: page.view is not None and not window.jobs.busy("trajectories"), timeout=10000)
    return page


def test_page_draws_the_states_and_rings_the_cursor(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    panel, view = page.panel, page.view
    assert panel.view is view and view.class_names == ("even", "odd")
    drawn = sum(len(cloud.data) for cloud in panel.clouds)
    assert drawn == len(view.points)  # every state, in the scatter of its class
    np.testing.assert_array_equal(panel.path.xData, view.path[:, 0])
    assert "% of the variance" in panel.plot.getAxis("bottom").labelText
    assert "even" in panel.key.text and "odd" in panel.key.text
    window.model.timestep = 2
    ring = panel.cursor.data
    assert len(ring) == 1 and (ring[0]["x"], ring[0]["y"]) == tuple(view.path[2])
    window.model.timestep = None
    assert len(panel.cursor.data) == 0


def test_selection_and_training_rebuild_it(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    window.model.select(sample=3)
    qtbot.waitUntil(lambda: page.view.sample == 3 and not window.jobs.busy("trajectories"), timeout=10000)
    before = page.view
    window.controller.step(20)
    qtbot.waitUntil(lambda: window.model.step >= before.step + 20, timeout=20000)
    page._tick()  # the timer's work, without waiting for it
    qtbot.waitUntil(lambda: page.view.step >= before.step + 20, timeout=20000)
    assert not np.array_equal(page.view.points, before.points)  # new weights, new states
    # the orientation follows the previous picture: each component points the same way as before
    assert np.all(np.sum(page.view.components * before.components, axis=1) > 0)


def test_exports_png_svg_and_the_csv_of_what_it_shows(qtbot, shared, tmp_path, read_table):
    window = shared["window"]
    page = shown_page(qtbot, window)
    written = export.export_all({"trajectories": page.panel}, tmp_path)
    assert sorted(p.name for p in written) == ["trajectories.csv", "trajectories.png", "trajectories.svg"]
    assert distinct_colours(QImage(str(tmp_path / "trajectories.png"))) > 10
    root = ElementTree.fromstring((tmp_path / "trajectories.svg").read_text(encoding="utf-8"))
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    header, rows = read_table(tmp_path / "trajectories.csv")
    assert header == ["set", "timestep", "token", "pc1", "pc2", "class"]
    path = [r for r in rows if r[0] == "shown sample"]
    np.testing.assert_array_equal(np.array([[float(r[3]), float(r[4])] for r in path]), page.view.path)
    assert [r[2] for r in path] == list(page.view.path_labels)
    assert sum(r[0] == "held-out" for r in rows) == len(page.view.points)
    assert window.export_all_to(tmp_path / "all")  # Ctrl+E: an opened page's plot is among every plot
    assert (tmp_path / "all" / "trajectories.png").exists() and (tmp_path / "all" / "trajectories.csv").exists()
