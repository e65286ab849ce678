"""Each panel draws snapshots of every cell kind and io pattern, in place, and survives edge cases."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QFileDialog, QGraphicsTextItem

from rnnviz.ui import theme
from rnnviz.ui.panels import PANELS
from rnnviz.ui.panels.gates import NO_GATES_PAGE, GatesPanel
from rnnviz.ui.panels.gradients import GradientsPanel
from rnnviz.ui.panels.hidden import HiddenPanel
from rnnviz.ui.panels.loss import LossPanel
from rnnviz.ui.panels.predictions import PredictionsPanel
from rnnviz.ui.panels.weights import WeightsPanel


LIVE_PANELS = ("loss", "hidden", "gates", "gradients", "weights", "predictions")  # this file's panels
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
    assert {"loss", "hidden", "gates", "gradients", "weights", "predictions"} <= set(PANELS)
    assert all(cls.name == name for name, cls in PANELS.items())


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", LIVE_PANELS)
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


@pytest.mark.parametrize("name", LIVE_PANELS)
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
    assert panel.current_page() is panel.pages[NO_GATES_PAGE]
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
    low, high = groups["cell"].bar.levels()
    # symmetric, a round number just above the data: consecutive round numbers (1, 1.2, 1.5, 2, 2.5, 3, 4,
    # 5, 6, 8, 10) are at most 1.25 apart, so high < 1.25 largest; comparisons of exact floats
    assert low == -high and largest <= high < 1.3 * largest
    assert high in {f * 10.0**e for f in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) for e in range(-3, 4)}
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
    assert "4 timesteps with zero gradient" in panel.note
    panel.set_snapshot(make_snapshot(T=5, zero_grads=5))  # all zero: still a valid log range
    assert np.isfinite(panel.plot.viewRange()[1]).all()


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1920, 1080), (520, 320)])
def test_gradient_panel_zero_note_stays_off_the_plot(qtbot, make_snapshot, size):
    """The note about zero gradients is written where it covers neither the curve area nor another
    label: wherever it is drawn, its text lies outside the plot's view box and the axes."""
    panel: GradientsPanel = make_panel(qtbot, "gradients")
    panel.resize(*size)
    panel.set_snapshot(make_snapshot(T=20, zero_grads=4))
    qtbot.wait(50)  # the layout settles on the next event-loop turn
    texts = [item for item in panel.current_page().scene().items()
             if isinstance(item, QGraphicsTextItem) and "zero gradient" in item.toPlainText()]
    assert len(texts) == 1 and texts[0].isVisible()
    note = texts[0].sceneBoundingRect()
    occupied = [panel.plot.getViewBox()] + [panel.plot.getAxis(side) for side in ("left", "bottom")]
    for item in occupied:
        assert not note.intersects(item.sceneBoundingRect()), (item, note, item.sceneBoundingRect())
    assert 0 <= note.left() and note.right() <= panel.current_page().width()  # not cut off at a side


def test_hidden_panel_token_labels_and_padding(qtbot, make_snapshot):
    panel: HiddenPanel = make_panel(qtbot, "hidden")
    snapshot = make_snapshot(tokens=True, padding=4, T=12)
    panel.set_snapshot(snapshot)
    axis = panel.input_plot.getAxis("bottom")
    assert axis.labels == snapshot.timestep_labels
    values = axis.tickValues(-0.5, 11.5, 2000)[0][1]  # a wide axis: room for every token
    assert axis.tickStrings(values, 1, 1) == list(snapshot.timestep_labels)
    assert all(shade.region.isVisible() for shade in panel.shades)
    assert panel.shades[0].region.getRegion() == (7.5, 11.5)
    np.testing.assert_array_equal(panel.image.image, snapshot.hidden)
    panel.set_snapshot(make_snapshot(T=12))
    assert not any(shade.region.isVisible() for shade in panel.shades)


def test_hidden_panel_thins_many_token_labels(qtbot, make_snapshot):
    panel: HiddenPanel = make_panel(qtbot, "hidden")
    snapshot = make_snapshot(tokens=True, T=200, H=4)
    panel.set_snapshot(snapshot)
    axis = panel.input_plot.getAxis("bottom")
    values = axis.tickValues(-0.5, 199.5, 600)[0][1]
    # single characters sit side by side like text (their width plus a small gap, >= 6 px each): thinned,
    # at most 100 of the 200 over 600 px, and never all of them
    assert 5 <= len(values) <= 100
    strings = axis.tickStrings(values, 1, 1)
    assert all(snapshot.timestep_labels[int(t)] == label for t, label in zip(values, strings))


def test_weights_panel_toggles_gradients_with_symmetric_levels(qtbot, make_snapshot):
    panel: WeightsPanel = make_panel(qtbot, "weights")
    snapshot = make_snapshot(cell="gru", H=6)
    panel.set_snapshot(snapshot)
    view = panel.views["W_hh"]
    recurrent = ("W_ih", "W_hh", "b_ih", "b_hh")
    largest = max(np.abs(snapshot.weights[k]).max() for k in recurrent)
    low, high = view.bar.levels()
    assert low == -high and largest <= high < 1.3 * largest  # one symmetric scale for the whole row (1.25 apart)
    assert view.bar is panel.views["W_ih"].bar is panel.views["biases"].bar
    assert panel.views["W_out"].bar is not view.bar
    assert [label for _, label in view.plot.getAxis("left")._tickLevels[0]] == ["r", "z", "n"]
    items = scene_items(panel)
    panel.show_gradients.setChecked(True)
    assert panel.csv_rows()[0][-1] == "gradient"
    np.testing.assert_array_equal(view.image.image, snapshot.weight_grads["W_hh"].T)
    largest = max(np.abs(snapshot.weight_grads[k]).max() for k in recurrent)
    low, high = view.bar.levels()
    assert low == -high and largest <= high < 1.3 * largest
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
    np.testing.assert_array_equal(p_target, snapshot.predictions[t, snapshot.targets.argmax(axis=1)])  # copied
    snapshot = make_snapshot(io="many_to_one", classification=True)
    panel.set_snapshot(snapshot)
    assert panel.mode == "bars"
    np.testing.assert_array_equal(panel.prediction_bars.opts["height"], snapshot.predictions)  # copied


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
    panels = [make_panel(qtbot, name) for name in LIVE_PANELS]
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


# --- legibility: ticks that never collide, legends outside the data, few colour-bar labels ------------


def drawn_tick_labels(axis) -> list:
    """The (rect, text) of every tick label the axis would paint at its current size."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"])
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [(rect, text) for rect, _, text in specs[2]]


def assert_apart(labels) -> None:
    rects = [rect for rect, _ in labels]
    for a in range(len(rects)):
        for b in range(a + 1, len(rects)):
            assert not rects[a].intersects(rects[b]), (labels[a][1], labels[b][1])


@pytest.mark.parametrize("size", [(330, 360), (370, 410), (700, 450)], ids=["1280x800", "1440x900", "alone"])
@pytest.mark.parametrize("variant", ["lstm-m2m", "gru-m2m-classes-tokens"])
def test_no_tick_labels_collide_at_grid_sizes(qtbot, make_snapshot, size, variant):
    from rnnviz.ui.panels.base import IndexAxis

    checked = 0
    for name in LIVE_PANELS:
        panel = make_panel(qtbot, name)
        panel.resize(*size)
        panel.set_snapshot(make_snapshot(T=200, H=64, **VARIANTS[variant]))
        qtbot.wait(1)
        panel.grab()  # lay out and paint once, as on screen
        for item in panel.current_page().scene().items():
            if isinstance(item, IndexAxis) and item.isVisible() and item.style["showValues"]:
                labels = drawn_tick_labels(item)
                assert_apart(labels)
                checked += 1
    assert checked >= 6


def test_index_axis_stride_grows_as_the_axis_shrinks(qtbot):
    from rnnviz.ui.panels.base import IndexAxis, nice_stride

    assert [nice_stride(v) for v in (0.2, 1, 1.5, 3, 7, 12, 22, 40, 130)] == [1, 1, 2, 5, 10, 20, 25, 50, 200]
    axis = IndexAxis("bottom")
    strides = [axis.tickValues(-0.5, 199.5, px)[0][0] for px in (2000, 600, 300, 120)]
    assert strides == sorted(strides) and strides[0] < strides[-1]
    axis.set_labels(["alpha", "b", "c"])
    values = axis.tickValues(-0.5, 2.5, 1000)[0][1]
    assert values == [0.0, 1.0, 2.0]  # never past the last label
    assert axis.tickStrings(values, 1, 1) == ["alpha", "b", "c"]


def key_is_outside_plots(panel, key) -> bool:
    key_rect = key.sceneBoundingRect()
    views = [item for item in panel.current_page().scene().items() if isinstance(item, pg.ViewBox)]
    return key.isVisible() and all(not key_rect.intersects(view.sceneBoundingRect()) for view in views)


def test_legends_sit_outside_the_data(qtbot, make_snapshot):
    loss: LossPanel = make_panel(qtbot, "loss")
    loss.set_snapshot(make_snapshot())
    loss.grab()
    assert "train" in loss.key.text and "held-out" in loss.key.text
    assert "latest" in loss._titles[0].text  # the latest loss sits in the title: the key stays one short line
    assert key_is_outside_plots(loss, loss.key)
    hidden: HiddenPanel = make_panel(qtbot, "hidden")
    hidden.set_snapshot(make_snapshot())
    hidden.grab()
    assert "value" in hidden.input_key.text and "marker" in hidden.input_key.text
    assert key_is_outside_plots(hidden, hidden.input_key)
    predictions: PredictionsPanel = make_panel(qtbot, "predictions")
    for variant, key in ((dict(), "series_key"), (dict(classification=True), "class_key"),
                         (dict(io="many_to_one"), "bar_key")):
        predictions.set_snapshot(make_snapshot(**variant))
        predictions.grab()
        assert key_is_outside_plots(predictions, getattr(predictions, key)), key


def test_class_heatmap_names_classes_without_an_overlapping_axis_label(qtbot, make_snapshot):
    panel: PredictionsPanel = make_panel(qtbot, "predictions")
    snapshot = make_snapshot(classification=True)
    panel.set_snapshot(snapshot)
    left = panel.class_plot.getAxis("left")
    assert left.labels == snapshot.output_names
    assert not left.label.isVisible()  # the class names say what the rows are


def test_predictions_follow_loss_kind_not_the_numbers(qtbot, make_snapshot):
    panel: PredictionsPanel = make_panel(qtbot, "predictions")
    one_hot_but_regression = make_snapshot(classification=True, loss_kind="mse")
    panel.set_snapshot(one_hot_but_regression)
    assert panel.mode == "series"
    assert panel.series_plot.getAxis("left").labelText == "value"
    panel.set_snapshot(make_snapshot(loss_kind="bce"))
    assert panel.mode == "series"
    assert panel.series_plot.getAxis("left").labelText == "probability"
    # a fixed range, through a few float64 operations of pyqtgraph's range arithmetic (no data involved)
    assert panel.series_plot.viewRange()[1] == pytest.approx([-0.05, 1.05], rel=1e-9, abs=1e-12)


def test_short_colour_bars_label_only_their_ends(qtbot, make_snapshot):
    panel: GatesPanel = make_panel(qtbot, "gates")
    panel.set_snapshot(make_snapshot(cell="lstm"))
    groups = {g.kind: g for g in panel.groups["lstm"]}
    gate_ticks = [v for v, _ in groups["gate"].bar.axis._tickLevels[0]]
    assert gate_ticks == [0.0, 0.5, 1.0]
    cell_ticks = [v for v, _ in groups["cell"].bar.axis._tickLevels[0]]
    assert cell_ticks == list(groups["cell"].bar.levels())  # one strip high: only the two ends
    for group in panel.groups["lstm"]:
        assert group.bar.axis.labelText  # every colour bar says what it shows


def test_gate_strips_share_one_time_axis_lined_up_with_the_data(qtbot, make_snapshot):
    panel: GatesPanel = make_panel(qtbot, "gates")
    panel.resize(370, 410)
    panel.set_snapshot(make_snapshot(cell="lstm", T=50, H=16))
    panel.grab()
    plots = panel.plots["lstm"]
    heights = [plot.getViewBox().sceneBoundingRect().height() for plot in plots]
    assert max(heights) - min(heights) <= 1.5  # every gate strip equally tall (layout rounds to whole pixels)
    axis = panel.time_axes["lstm"]
    view = plots[-1].getViewBox().sceneBoundingRect()
    line = axis.sceneBoundingRect()
    assert abs(line.left() - view.left()) <= 1.5 and abs(line.right() - view.right()) <= 1.5  # whole pixels
    assert all(not plot.getAxis("bottom").isVisible() for plot in plots)


def test_long_curves_drop_their_markers(qtbot, make_snapshot):
    panel: GradientsPanel = make_panel(qtbot, "gradients")
    panel.set_snapshot(make_snapshot(T=20))
    assert panel.curve.opts["symbol"] == "o"
    panel.set_snapshot(make_snapshot(T=200))
    assert panel.curve.opts["symbol"] is None
    panel.set_snapshot(make_snapshot(T=20))
    assert panel.curve.opts["symbol"] == "o"


def test_loss_curve_decimation_keeps_spikes_and_gaps():
    from rnnviz.ui.panels.loss import decimate_peaks

    rng = np.random.default_rng(0)
    steps = np.arange(50_000, dtype=float)
    loss = 1.0 + 0.01 * rng.random(steps.size)
    loss[12_345] = 9.0  # one spike
    loss[30_000:30_010] = np.nan  # a diverged stretch
    x, y = decimate_peaks(steps, loss, most=1000)
    assert y.size <= 1100
    assert np.nanmax(y) == 9.0 and x[np.nanargmax(y)] == 12_345
    assert np.isnan(y[(x >= 29_900) & (x <= 30_100)]).any()
    assert np.all(np.diff(x) >= 0)  # still in step order
    short = np.arange(10.0)
    assert decimate_peaks(short, short)[1] is short


def test_weight_rows_name_gates_and_inputs(qtbot, make_snapshot):
    panel: WeightsPanel = make_panel(qtbot, "weights")
    snapshot = make_snapshot(cell="lstm", H=64, tokens=True)
    panel.resize(330, 360)
    panel.set_snapshot(snapshot)
    panel.grab()
    left = panel.views["W_ih"].plot.getAxis("left")
    assert [label for _, label in left._tickLevels[0]] == ["i", "f", "g", "o"]
    assert_apart(drawn_tick_labels(left))
    assert panel.views["W_ih"].plot.getAxis("bottom").labels == snapshot.input_names
    assert panel.views["biases"].plot.getAxis("bottom").labels == ("ih", "hh")


def test_the_head_rows_are_named_by_the_current_tasks_outputs(qtbot, make_snapshot):
    """adding -> sine kept "sum" on W_out: the names must follow every new snapshot, not only new shapes."""
    from dataclasses import replace

    panel: WeightsPanel = make_panel(qtbot, "weights")
    snapshot = make_snapshot(cell="gru")
    panel.set_snapshot(replace(snapshot, output_names=("sum",)))
    head = panel.views["W_out"].plot.getAxis("left")
    assert head.labels == ("sum",)
    panel.set_snapshot(replace(snapshot, output_names=("value",)))  # another task, same shapes
    assert head.labels == ("value",)
    assert panel.views["b_out"].plot.getAxis("left").labels == ("value",)
    panel.set_snapshot(replace(snapshot, output_names=("negative", "positive")))  # names that do not fit
    assert head.labels is None


def test_padded_gate_steps_are_shaded(qtbot, make_snapshot):
    panel: GatesPanel = make_panel(qtbot, "gates")
    panel.set_snapshot(make_snapshot(cell="lstm", T=12, padding=4))
    assert all(shade.region.isVisible() and shade.region.getRegion() == (7.5, 11.5)
               for shade in panel.shades["lstm"])
    panel.set_snapshot(make_snapshot(cell="lstm", T=12))
    assert not any(shade.region.isVisible() for shade in panel.shades["lstm"])
