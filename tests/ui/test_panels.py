"""Each panel draws snapshots of every cell kind and io pattern, in place, and survives edge cases."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QFileDialog

from rnnviz.ui import theme
from rnnviz.ui.panels import PANELS
from rnnviz.ui.panels.gates import GatesPanel
from rnnviz.ui.panels.gradients import GradientsPanel
from rnnviz.ui.panels.hidden import HiddenPanel
from rnnviz.ui.panels.loss import LossPanel
from rnnviz.ui.panels.predictions import PredictionsPanel
from rnnviz.ui.panels.weights import WeightsPanel


VARIANTS = {
    "lstm-m2m": dict(cell="lstm", io="many_to_many"),
    "gru-m2m-classes-tokens": dict(cell="gru", io="many_to_many", classification=True, tokens=True, padding=3),
    "rnn_tanh-m2o": dict(cell="rnn_tanh", io="many_to_one"),
    "rnn_relu-m2o-classes": dict(cell="rnn_relu", io="many_to_one", classification=True),
}


def make_panel(qtbot, name: str):
    panel = PANELS[name]()
    qtbot.addWidget(panel)
    panel.resize(700, 450)
    panel.show()
    return panel


def scene_items(panel) -> set[int]:
    return {id(item) for item in panel.current_page().scene().items()}


def is_blank(image) -> bool:
    """True when every pixel has the same colour."""
    small = image.scaled(64, 64)
    colours = {small.pixel(x, y) for x in range(64) for y in range(64)}
    return len(colours) <= 1


def test_registry_names_match_classes():
    assert set(PANELS) == {"loss", "hidden", "gates", "gradients", "weights", "predictions"}
    assert all(cls.name == name for name, cls in PANELS.items())


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(PANELS))
def test_panel_updates_in_place(qtbot, name, variant, make_snapshot):
    panel = make_panel(qtbot, name)
    panel.set_snapshot(make_snapshot(seed=1, **VARIANTS[variant]))
    before_items, before_rows = scene_items(panel), panel.csv_rows()
    panel.set_snapshot(make_snapshot(seed=2, **VARIANTS[variant]))
    assert scene_items(panel) == before_items  # same pyqtgraph items, updated, not rebuilt
    rows = panel.csv_rows()
    assert rows[0] == before_rows[0]
    if len(rows) > 1:  # the vanilla-RNN gates panel shows (and exports) no data
        assert rows[1:] != before_rows[1:]
    assert not is_blank(panel.grab().toImage())


@pytest.mark.parametrize("name", list(PANELS))
@pytest.mark.parametrize(
    "edge",
    [dict(nan_loss=True), dict(history_steps=0), dict(T=1, H=1), dict(T=1, H=1, cell="gru", history_steps=1)],
    ids=["nan-loss", "empty-history", "T1-H1", "T1-H1-gru-one-step"],
)
def test_panel_handles_edge_cases(qtbot, name, edge, make_snapshot):
    panel = make_panel(qtbot, name)
    snapshot = make_snapshot(**edge)
    panel.set_snapshot(snapshot)
    rows = panel.csv_rows()
    assert all(len(row) == len(rows[0]) for row in rows)
    assert not is_blank(panel.grab().toImage())


def test_loss_panel_shows_history_and_log_scale_tolerates_nan_and_zero(qtbot, make_snapshot):
    panel = make_panel(qtbot, "loss")
    snapshot = make_snapshot(nan_loss=True)
    snapshot.history.train_loss[0] = 0.0  # a zero cannot sit on a log axis
    panel.set_snapshot(snapshot)
    x, y = panel.train_curve.getData()
    np.testing.assert_array_equal(x, snapshot.history.steps)
    panel.log_scale.setChecked(True)
    assert panel.plot.getAxis("left").logMode
    assert panel.log_action.isChecked()
    view_y = panel.plot.viewRange()[1]
    assert np.isfinite(view_y).all()
    panel.log_action.setChecked(False)
    assert not panel.log_scale.isChecked()


def test_gates_panel_follows_the_cell_kind(qtbot, make_snapshot):
    panel: GatesPanel = make_panel(qtbot, "gates")
    panel.set_snapshot(make_snapshot(cell="lstm"))
    assert panel.current_page() is panel.pages["lstm"]
    assert panel.shown_gates() == ("i", "f", "o", "g", "cell_state")
    panel.set_snapshot(make_snapshot(cell="rnn_tanh"))
    assert panel.current_page() is panel.pages["rnn"]
    assert "vanilla RNN has no gates" in panel.message.text
    assert panel.csv_rows() == [["timestep"]]
    panel.set_snapshot(make_snapshot(cell="gru", H=5))
    assert panel.current_page() is panel.pages["gru"]
    assert panel.csv_rows()[0][1:] == [f"{g}[{u}]" for g in ("r", "z", "n") for u in range(5)]


def test_gates_share_fixed_levels_and_cell_state_is_symmetric(qtbot, make_snapshot):
    panel: GatesPanel = make_panel(qtbot, "gates")
    snapshot = make_snapshot(cell="lstm")
    panel.set_snapshot(snapshot)
    groups = {g.kind: g for g in panel.groups["lstm"]}
    assert tuple(groups["gate"].bar.levels()) == (0.0, 1.0)
    assert tuple(groups["candidate"].bar.levels()) == (-1.0, 1.0)
    largest = np.abs(snapshot.gates["cell_state"]).max()
    np.testing.assert_allclose(groups["cell"].bar.levels(), (-largest, largest))
    np.testing.assert_array_equal(groups["gate"].images[1].image, snapshot.gates["f"])


def test_gradient_panel_log_scale_survives_zero_norms(qtbot, make_snapshot):
    panel: GradientsPanel = make_panel(qtbot, "gradients")
    snapshot = make_snapshot(T=20, zero_grads=4)
    panel.set_snapshot(snapshot)
    assert panel.plot.getAxis("left").logMode
    zero_x, _ = panel.zeros.getData()
    np.testing.assert_array_equal(zero_x, [0, 1, 2, 3])
    low, high = panel.plot.viewRange()[1]
    positive = snapshot.grad_norm_per_step[snapshot.grad_norm_per_step > 0]
    assert low <= np.log10(positive.min()) and high >= np.log10(positive.max())
    assert "4 timestep(s) with zero gradient" in panel.note.toPlainText()
    panel.set_snapshot(make_snapshot(T=5, zero_grads=5))  # all zero: still a valid log range
    assert np.isfinite(panel.plot.viewRange()[1]).all()


def test_hidden_panel_token_labels_and_padding(qtbot, make_snapshot):
    panel: HiddenPanel = make_panel(qtbot, "hidden")
    snapshot = make_snapshot(tokens=True, padding=4, T=12)
    panel.set_snapshot(snapshot)
    ticks = panel.input_plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == list(snapshot.timestep_labels)
    assert all(shade.region.isVisible() for shade in panel.shades)
    assert panel.shades[0].region.getRegion() == (7.5, 11.5)
    np.testing.assert_array_equal(panel.image.image, snapshot.hidden)
    panel.set_snapshot(make_snapshot(T=12))
    assert not any(shade.region.isVisible() for shade in panel.shades)


def test_hidden_panel_thins_many_token_labels(qtbot, make_snapshot):
    panel: HiddenPanel = make_panel(qtbot, "hidden")
    snapshot = make_snapshot(tokens=True, T=200, H=4)
    panel.set_snapshot(snapshot)
    ticks = panel.input_plot.getAxis("bottom")._tickLevels[0]
    assert 10 <= len(ticks) <= 30
    assert all(snapshot.timestep_labels[int(t)] == label for t, label in ticks)


def test_weights_panel_toggles_gradients_with_symmetric_levels(qtbot, make_snapshot):
    panel: WeightsPanel = make_panel(qtbot, "weights")
    snapshot = make_snapshot(cell="gru", H=6)
    panel.set_snapshot(snapshot)
    view = panel.views["W_hh"]
    largest = np.abs(snapshot.weights["W_hh"]).max()
    np.testing.assert_allclose(view.bar.levels(), (-largest, largest))
    assert [label for _, label in view.plot.getAxis("left")._tickLevels[0]] == ["r", "z", "n"]
    items = scene_items(panel)
    panel.show_gradients.setChecked(True)
    assert panel.csv_rows()[0][-1] == "gradient"
    np.testing.assert_array_equal(view.image.image, snapshot.weight_grads["W_hh"].T)
    largest = np.abs(snapshot.weight_grads["W_hh"]).max()
    np.testing.assert_allclose(view.bar.levels(), (-largest, largest))
    assert scene_items(panel) == items


def test_predictions_panel_picks_the_view_for_the_task(qtbot, make_snapshot):
    panel: PredictionsPanel = make_panel(qtbot, "predictions")
    panel.set_snapshot(make_snapshot(io="many_to_many"))
    assert panel.mode == "series"
    snapshot = make_snapshot(io="many_to_many", classification=True)
    panel.set_snapshot(snapshot)
    assert panel.mode == "classes"
    t = np.arange(snapshot.targets.shape[0])
    _, p_target = panel.target_prob_curve.getData()
    np.testing.assert_allclose(p_target, snapshot.predictions[t, snapshot.targets.argmax(axis=1)])
    snapshot = make_snapshot(io="many_to_one", classification=True)
    panel.set_snapshot(snapshot)
    assert panel.mode == "bars"
    np.testing.assert_allclose(panel.prediction_bars.opts["height"], snapshot.predictions)


def test_context_menu_exports_through_the_file_dialog(qtbot, tmp_path, monkeypatch, make_snapshot, read_column):
    panel = make_panel(qtbot, "gradients")
    panel.set_snapshot(make_snapshot())
    texts = [action.text() for action in panel.menu.actions()]
    assert texts[:3] == ["Export PNG…", "Export SVG…", "Export CSV…"]
    target = tmp_path / "from-menu.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(target), "")))
    panel.export_actions["CSV"].trigger()
    np.testing.assert_array_equal(read_column(target, "grad_norm_dL_dh"), panel.snapshot.grad_norm_per_step)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: ("", "")))
    assert panel.export_with_dialog("PNG") is None  # cancelled: nothing written


def test_right_click_opens_the_menu(qtbot):
    panel = make_panel(qtbot, "loss")
    shown = []
    panel.menu.popup = lambda pos: shown.append(pos)  # do not block on a real popup
    page = panel.current_page()
    page.customContextMenuRequested.emit(page.rect().center())
    assert len(shown) == 1


def test_themes_switch_every_live_panel(qtbot, make_snapshot):
    panels = [make_panel(qtbot, name) for name in PANELS]
    for panel in panels:
        panel.set_snapshot(make_snapshot())
    try:
        dark = theme.apply_theme("dark")
        assert pg.getConfigOption("background") == dark.background
        for panel in panels:
            assert panel.theme is dark
            assert panel.current_page().backgroundBrush().color().name() == dark.background
        loss: LossPanel = panels[0]
        assert loss.train_curve.opts["pen"].color().name() == dark.pens[0]
        hidden = panels[2]
        hidden.hide()
        theme.apply_theme("light")
        assert hidden.theme is dark  # not re-styled while hidden...
        hidden.show()
        assert hidden.theme.name == "light"  # ...but as soon as it is shown
    finally:
        light = theme.apply_theme("light")
    assert panels[1].current_page().backgroundBrush().color().name() == light.background
    with pytest.raises(theme.ThemeError, match="light, dark"):
        theme.apply_theme("solarized")
