"""Hover-to-explain and the "?" buttons, driven with real mouse moves over the window's panels."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt

from rnnviz.session.config import SessionConfig
from rnnviz.session.views.explain import number
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.panels.help_texts import HELP_TEXTS
from rnnviz.ui.panels.hover import hover_tip

CONFIG = dict(task="parity", task_params={"seq_len": 10}, cell="lstm", hidden_size=6, batch_size=8)


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    settings = QSettings(str(tmp_path_factory.mktemp("hover") / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(**CONFIG), settings)
    win.resize(1280, 720)
    win.show()
    yield win
    win.close()
    win.deleteLater()


@pytest.fixture
def ready(qtbot, window):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and not window.controller.busy, timeout=10000)
    window.show_page(0)
    window.training_page.flush()
    return window


def hover(qtbot, panel, scene_point: QPointF) -> str:
    """Move the mouse to ``scene_point`` of ``panel``'s current page; the tooltip's text (rich text)."""
    page = panel.stack.currentWidget()
    tip = hover_tip()
    tip.hide()  # the tooltip of the previous hover must not answer for this one
    # offscreen, the mouse goes to the first exposed window under it, and a hidden window stops being
    # exposed only once its expose event is processed: until then the old tip would take the move
    qtbot.waitUntil(lambda: tip.windowHandle() is None or not tip.windowHandle().isExposed(), timeout=3000)
    qtbot.mouseMove(page.viewport(), page.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: hover_tip().isVisible(), timeout=3000)
    return hover_tip().text()


def plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ")


def test_hovering_a_gate_cell_names_it_and_plugs_in_its_numbers(qtbot, ready):
    panel = ready.training_panels["gates"]
    snapshot = panel.snapshot
    group = next(g for g in panel.groups["lstm"] if "f" in g.names)
    image = group.images[group.names.index("f")]
    t, unit = 4, 2
    text = plain(hover(qtbot, panel, image.mapToScene(QPointF(t + 0.5, unit + 0.5))))
    assert f"forget gate ft = {number(snapshot.gates['f'][t, unit])}" in text
    assert f"unit {unit}" in text and f"t = {t} · token '{snapshot.timestep_labels[t]}'" in text
    assert "σ(Wif xt + bif + Whf ht−1 + bhf)" in text and f"= {number(snapshot.gates['f'][t, unit])}" in text


def test_hovering_the_hidden_state_the_inputs_and_a_gradient_point(qtbot, ready):
    panels = ready.training_panels
    snapshot = panels["hidden"].snapshot
    t, unit = 6, 3
    text = plain(hover(qtbot, panels["hidden"], panels["hidden"].image.mapToScene(QPointF(t + 0.5, unit + 0.5))))
    assert f"hidden state ht = {number(snapshot.hidden[t, unit])}" in text and "ot ⊙ tanh(ct)" in text
    one_hot = panels["hidden"].one_hot.image  # the token inputs, one row per vocabulary entry
    row = panels["hidden"].view.one_hot_names.index(snapshot.timestep_labels[2])
    text = plain(hover(qtbot, panels["hidden"], one_hot.mapToScene(QPointF(2 + 0.5, row + 0.5))))
    assert f"input token '{snapshot.timestep_labels[2]}'" in text and "double-click to edit" in text
    curve = panels["gradients"].curve
    x, y = curve.getData()
    text = plain(hover(qtbot, panels["gradients"], curve.getViewBox().mapViewToScene(QPointF(x[5], y[5]))))
    assert f"‖dL/dht‖ = {number(snapshot.grad_norm_per_step[5])}" in text and "t = 5" in text


def test_hovering_a_weight_names_its_gate_block_and_unit(qtbot, ready):
    panel = ready.training_panels["weights"]
    row, col = 2 * 6 + 4, 1  # block 2 (g), unit 4
    text = plain(hover(qtbot, panel, panel.views["W_hh"].image.mapToScene(QPointF(col + 0.5, row + 0.5))))
    value = panel.view.weights["W_hh"][row, col]
    assert f"Whh[{row}, {col}] = {number(value)}" in text and "candidate g, unit 4" in text


def test_every_panel_of_every_page_explains_something_under_the_mouse(qtbot, ready):
    """Each panel's first hover target answers a real mouse move with a tooltip."""
    from rnnviz.ui.panels.hover_targets import targets_of

    ready.show_page(1)
    step = ready.step_page
    qtbot.waitUntil(lambda: step.stepper is not None and not step.busy, timeout=10000)
    step.do("to_backward_end")
    qtbot.waitUntil(lambda: not step.busy and step.stepper.backward_done == step.stepper.seq_len, timeout=10000)
    step.set_timestep(3)
    step.ensure_drawn()
    vanishing = step.panels["vanishing"]
    qtbot.waitUntil(lambda: vanishing.view is not None, timeout=10000)
    checked = []
    for name in ("unrolled", "equations", "bptt", "vanishing"):
        panel = step.panels[name]
        if name == "vanishing":
            step.left_tabs.setCurrentWidget(panel)
        elif name == "equations":
            step.left_tabs.setCurrentWidget(panel)
        targets = targets_of(panel)
        assert targets, name
        hover_tip().hide()
        point = scene_point_of(targets[0])
        if name == "equations":  # the page scrolls: bring the heatmap under the text into view, as a person would
            page = panel.stack.currentWidget()
            inside = page.mapTo(panel.stack, page.mapFromScene(point))
            panel.scroll.ensureVisible(inside.x(), inside.y(), 20, 60)
        text = plain(hover(qtbot, panel, point))
        assert "=" in text, (name, text)
        checked.append(name)
    ready.show_page(2)
    scan = ready.scan_page
    scan.ensure_drawn()
    qtbot.waitUntil(lambda: scan.panel.view is not None, timeout=10000)
    qtbot.wait(100)  # laid out
    targets = targets_of(scan.panel)
    hover_tip().hide()
    text = plain(hover(qtbot, scan.panel, scene_point_of(targets[0])))
    assert "holds steps 0…0" in text  # position 0 before any level holds step 0 only
    ready.show_page(0)
    ready.controller.step(3)  # a loss curve to hover
    qtbot.waitUntil(lambda: ready.last_snapshot.step == 3 and not ready.controller.busy, timeout=10000)
    qtbot.wait(50)
    for name, panel in ready.training_panels.items():
        ready.training_page.flush()
        targets = [t for t in targets_of(panel) if scene_point_of(t) is not None]
        assert targets, name
        hover_tip().hide()
        assert "=" in plain(hover(qtbot, panel, scene_point_of(targets[0]))), name
    ready.show_page(1)  # the hovered panel goes out of sight: its tooltip with it (none is left behind)
    assert not hover_tip().isVisible()
    ready.show_page(0)


def scene_point_of(target) -> QPointF | None:
    """The middle of a target's first data point, in scene coordinates."""
    from rnnviz.ui.panels.hover import ColumnTarget, CurveTarget, ImageTarget

    if isinstance(target, ImageTarget):
        return target.item.mapToScene(QPointF(0.5, 0.5))
    if isinstance(target, CurveTarget):
        x, y = target.item.getData()
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y)) if x is not None else []
        if not len(finite):
            return None
        k = int(finite[0])
        return target.item.getViewBox().mapViewToScene(QPointF(float(x[k]), float(y[k])))
    if isinstance(target, ColumnTarget):
        return target.plot.getViewBox().mapViewToScene(QPointF(0.0, 0.0))
    box = target.panel.viewbox  # the unrolled diagram: the first box
    return target.panel.slot_center(target.panel._start, target.panel.state.layer, target.panel.state.direction) \
        if box is not None else None


def test_every_panel_has_a_question_mark_with_its_own_two_sentences(qtbot, ready):
    panels = {**ready.training_panels, **ready.step_page.panels, "scan": ready.scan_page.panel}
    assert set(panels) <= set(HELP_TEXTS)
    for name, panel in panels.items():
        button = panel.help_button
        assert button.text() == "?" and button.toolTip() == HELP_TEXTS[name]
        sentences = [s for s in HELP_TEXTS[name].split(". ") if s]
        assert 2 <= len(sentences) <= 3, name
    panel = ready.training_panels["gates"]
    hover_tip().hide()
    qtbot.mouseClick(panel.help_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hover_tip().isVisible(), timeout=3000)
    assert plain(hover_tip().text()).endswith(HELP_TEXTS["gates"].replace("'", "&#x27;")) or \
        HELP_TEXTS["gates"][:40] in plain(hover_tip().text())
    assert button_in_top_right(panel)


def button_in_top_right(panel) -> bool:
    geometry = panel.help_button.geometry()
    return geometry.right() > panel.width() - 12 and geometry.top() < 60


def test_a_new_panel_without_hover_code_explains_its_curve_points_by_its_axes(qtbot):
    """A panel no one wrote hover targets for (a new page's) still answers: its curves' points by the
    plot's axis labels and the curve's name."""
    from rnnviz.ui.panels.base import Panel

    class Sweep(Panel):
        name = "test_sweep"
        title = "A sweep"

        def build(self) -> None:
            self.plot = self.add_plot(self.graphics, 1, 0, {"left": "accuracy", "bottom": "lag"})
            self.curve = self.plot.plot(name="rnn", symbol="o")

    panel = Sweep()
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    panel.move(1400, 0)  # beside the module's main window (the mouse goes to the window under it)
    panel.curve.setData([1.0, 2.0, 3.0], [0.9, 0.7, 0.4])
    panel.set_ranges(panel.plot, (0.0, 4.0), (0.0, 1.0))
    qtbot.wait(20)
    text = plain(hover(qtbot, panel, panel.plot.getViewBox().mapViewToScene(QPointF(2.0, 0.7))))
    assert "rnn = 0.7" in text and "lag = 2" in text
    assert panel.help_button.toolTip()  # the fallback sentences until it has its own
    panel.close()
