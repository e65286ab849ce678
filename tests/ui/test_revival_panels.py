"""The panels for the revival cells show what their view states hold: the LRU's λ on the unit circle,
the decay heatmap of minGRU, minLSTM and the selective layer, the gradient norm named after the state
that carries memory; and they export PNG, SVG and CSV."""
from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtGui import QImage

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.session.views.gradient_flow import gradient_flow_view
from rnnviz.ui import export
from rnnviz.ui.panels.gradients import GradientsPanel
from rnnviz.ui.panels.vanishing import VanishingPanel
from tests.ui.test_export import distinct_colours


def session_of(cell: str) -> Session:
    session = Session(SessionConfig(task="selective_copy", task_params={"n_tokens": 2, "region": 6}, cell=cell,
                                    hidden_size=4, batch_size=4, seed=1))
    session.train(2)
    return session


def shown(panel, qtbot, size=(760, 460)):
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    return panel


def test_the_lru_lambda_sits_on_the_complex_plane_with_the_unit_circle(qtbot):
    view = gradient_flow_view(session_of("lru"))
    panel = shown(VanishingPanel(), qtbot)
    panel.show_view(view)
    assert panel.current_page() is panel.graphics  # the eigenvalue page
    scatter = panel.scatters["λ"]
    np.testing.assert_array_equal(scatter.xData, view.eigenvalues["λ"].real)
    np.testing.assert_array_equal(scatter.yData, view.eigenvalues["λ"].imag)
    radius = np.hypot(panel.circle.xData, panel.circle.yData)
    np.testing.assert_allclose(radius, 1.0, rtol=1e-12)  # the unit circle
    assert panel.eig_plot.titleLabel.text == view.eigen_title
    assert "dL/dc" in panel._titles[0].text  # the ratio names the LRU's memory, its state c
    assert panel.eigen_lags.plot.getAxis("left").labelText == "||∂c_T/∂c_t||"


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "selective"])
def test_the_decay_heatmap_shows_the_view_s_decay(qtbot, cell):
    view = gradient_flow_view(session_of(cell))
    panel = shown(VanishingPanel(), qtbot)
    panel.show_view(view)
    assert panel.current_page() is panel.decay_page
    np.testing.assert_array_equal(panel.decay_image.image, view.decay.values)
    assert panel.decay_plot.getAxis("left").labelText == view.decay.rows
    assert view.decay.label in panel.decay_plot.titleLabel.text
    # back to a cell with eigenvalues: the eigenvalue page again, with W_hh's gate blocks
    lstm = gradient_flow_view(session_of("lstm"))
    panel.show_view(lstm)
    assert panel.current_page() is panel.graphics and set(panel.scatters) == set(lstm.eigenvalues)


def test_the_vanishing_panel_exports_the_decay(qtbot, tmp_path, read_table):
    view = gradient_flow_view(session_of("selective"))
    panel = shown(VanishingPanel(), qtbot)
    panel.show_view(view)
    written = export.export_all({"vanishing": panel}, tmp_path)
    assert sorted(p.name for p in written) == ["vanishing.csv", "vanishing.png", "vanishing.svg"]
    assert distinct_colours(QImage(str(tmp_path / "vanishing.png"))) > 10
    root = ElementTree.fromstring((tmp_path / "vanishing.svg").read_text(encoding="utf-8"))
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    header, rows = read_table(tmp_path / "vanishing.csv")
    decay = [row for row in rows if row[0] == "decay"]
    T, R = view.decay.values.shape
    assert len(decay) == T * R
    values = np.array([float(row[header.index("value_or_real")]) for row in decay]).reshape(T, R)
    np.testing.assert_array_equal(values, view.decay.values)  # full precision
    lags = [row for row in rows if row[0] == "lag_norm"]
    np.testing.assert_array_equal([float(row[3]) for row in lags], view.lag_norms)


@pytest.mark.parametrize("cell, norm", [("lru", "||dL/dc_t||"), ("selective", "||dL/dc_t||"),
                                        ("minlstm", "||dL/dh_t||")])
def test_the_gradient_norm_panel_names_the_memory_state(qtbot, cell, norm):
    panel = shown(GradientsPanel(), qtbot)
    snapshot = session_of(cell).snapshot()
    panel.set_snapshot(snapshot)
    assert norm in panel._titles[0].text
    assert panel.plot.getAxis("left").labelText == f"{norm} (log scale)"
    header = panel.csv_rows()[0]
    assert header[2] == f"grad_norm_dL_d{norm[6]}"
    np.testing.assert_array_equal([row[2] for row in panel.csv_rows()[1:]], snapshot.grad_norm_per_step)


@pytest.mark.parametrize("cell, symbol", [("lru", "c"), ("gru", "h")])
def test_the_bptt_panel_names_the_memory_state(qtbot, cell, symbol):
    from rnnviz.session.stepper import StepThrough
    from rnnviz.session.views.step_through import full_pass_views
    from rnnviz.ui.panels.bptt import BpttPanel

    view = full_pass_views(StepThrough(session_of(cell))).bptt
    panel = shown(BpttPanel(), qtbot)
    panel.show_view(view)
    assert panel.norm_plot.getAxis("left").labelText == f"||dL/d{symbol}_t||"
    assert f"||dL/d{symbol}_" in panel._titles[0].text
