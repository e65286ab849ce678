"""The window on small screens and projectors: it fits 1024×768 (and 640 px of height) with the training
buttons in view, colour-bar labels never overlap or get cut, titles name the layer and direction, a
diverged run says so, the loss axis survives a spike, presentation mode (F5) restores the layout
exactly, and the Compare window exports."""
from __future__ import annotations

import dataclasses
from itertools import combinations
from xml.dom import minidom

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF, QSettings
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QDockWidget

from rnnviz.session.config import SessionConfig
from rnnviz.session.snapshot import History
from rnnviz.ui import theme as theming
from rnnviz.ui.compare import CompareWindow, compact_number
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.pages import PAGES
from rnnviz.ui.panels import PANELS
from rnnviz.ui.window.training_page import TrainingPage, layer_suffix
from tests.ui.conftest import build_snapshot, module_window

SMALL = dict(task="adding", task_params={"seq_len": 16}, cell="lstm", hidden_size=8, batch_size=8,
             num_layers=2, bidirectional=True)


@pytest.fixture(scope="module")
def window_state(tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "screens") as state:
        yield state


@pytest.fixture
def window(qtbot, window_state) -> MainWindow:
    win = window_state["window"]
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=10000)
    return win


def settle(qtbot, ms: int = 150) -> None:
    qtbot.wait(ms)
    QApplication.processEvents()


def in_view(widget) -> bool:
    """Visible and not scrolled or clipped out of sight (some of it can be seen)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def test_the_window_fits_a_1024_by_768_projector_and_640_px_of_height(qtbot, window):
    window.step_page  # noqa: B018 (the widest page too)
    for spec in PAGES:  # and every extra page: a page wider than the screen scrolls, the window stays
        window.page(spec.name)
    settle(qtbot)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    buttons = window.training_controls.play_button, window.training_controls.step_button, \
        window.training_controls.reset_button
    for width, height in ((1024, 768), (1024, 640)):
        window.resize(width, height)
        settle(qtbot, 300)
        assert (window.width(), window.height()) == (width, height)
        for button in buttons:  # Play/Step/Reset never scroll out of view nor get cut off
            assert in_view(button), (width, height, button.text())
            assert button.visibleRegion().boundingRect().width() == button.width(), button.text()
        for name, panel in window.training_panels.items():
            assert in_view(panel) and panel.width() >= panel.minimumWidth(), name
    window.resize(1440, 900)
    settle(qtbot)


def label_rects(bar: pg.ColorBarItem) -> list[QRectF]:
    """The scene rectangles of the tick labels a colour bar draws (what its axis paints)."""
    axis = bar.axis
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    if axis.style["tickFont"] is not None:
        painter.setFont(axis.style["tickFont"])
    try:
        _axis_spec, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [axis.mapRectToScene(rect) for rect, _flags, _text in texts]


def bars_of(panel) -> list[pg.ColorBarItem]:
    scene = panel.current_page().scene()
    return [item for item in scene.items() if isinstance(item, pg.ColorBarItem) and item.isVisible()]


@pytest.mark.parametrize("name, size", [("gates", (260, 300)), ("gates", (320, 600)), ("weights", (240, 280)),
                                        ("hidden", (240, 260))])
def test_colour_bar_labels_never_overlap_and_are_never_cut(qtbot, name, size):
    panel = PANELS[name]()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    panel.set_snapshot(build_snapshot("lstm", T=30, H=16))
    settle(qtbot, 200)
    bars = bars_of(panel)
    assert bars
    rects = [rect for bar in bars for rect in label_rects(bar)]
    assert len(rects) >= 2 * len(bars)  # each bar keeps at least its two ends
    for first, second in combinations(rects, 2):
        assert not first.intersects(second), (first, second)
    page = panel.current_page().scene().sceneRect()
    for bar in bars:
        axis_rect = bar.axis.mapRectToScene(bar.axis.boundingRect())
        bar_rect = bar.mapRectToScene(bar.boundingRect())
        title = bar.axis.label.mapRectToScene(bar.axis.label.boundingRect()) if bar.axis.labelText else None
        for rect in label_rects(bar):
            assert page.contains(rect), (rect, page)
            assert title is None or not rect.intersects(title), "the bar's title runs over its numbers"
            assert rect.right() <= axis_rect.right() + 0.5, "a label wider than its axis is cut"
            assert bar_rect.top() - 0.5 <= rect.top() and rect.bottom() <= bar_rect.bottom() + 0.5


def test_titles_name_the_layer_and_direction_and_the_view_bar_says_forward_or_backward(qtbot, window):
    assert window.view_bar.direction_box.currentText().endswith("forward")
    window.view_bar.layer_box.setValue(1)
    window.view_bar.direction_box.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.last_snapshot.layer == 1 and window.last_snapshot.direction == 1, timeout=5000)
    window.training_page.flush()
    hidden_title = window.training_panels["hidden"]._titles[0].text
    assert "layer 1" in hidden_title and "backward" in hidden_title
    assert "layer" not in window.training_panels["loss"]._titles[0].text  # the loss is the whole network's
    assert layer_suffix(0, 0, 1, False) == ""  # a plain network: nothing to say
    window.view_bar.direction_box.setCurrentIndex(0)
    window.view_bar.layer_box.setValue(0)


def test_a_diverged_run_says_so_on_the_panels(qtbot):
    page = TrainingPage()
    qtbot.addWidget(page)
    snapshot = build_snapshot("lstm", T=10, H=6)
    page.draw(snapshot, now=True)
    assert all(panel.notice.isHidden() for panel in page.panels.values())
    page.set_diverged("Training diverged at step 41: try a smaller learning rate.")
    page.draw(snapshot, now=True)
    for name, panel in page.panels.items():
        if name == "loss":
            assert panel.notice.isHidden()  # the history is still drawn
        else:
            assert not panel.notice.isHidden() and "smaller learning rate" in panel.notice.text(), name
            assert panel.stack.isHidden()
    later = dataclasses.replace(snapshot, step=snapshot.step + 1)  # training went on from finite weights
    page.draw(later, now=True)
    assert all(panel.notice.isHidden() for panel in page.panels.values())
    huge = dict(snapshot.weights, W_hh=np.full_like(snapshot.weights["W_hh"], 3.1e38))
    page.draw(dataclasses.replace(later, weights=huge), now=True)
    assert "too large" in page.panels["weights"].notice.text() or "infinite" in page.panels["weights"].notice.text()


def test_the_loss_axis_turns_to_log_after_a_huge_spike(qtbot):
    panel = PANELS["loss"]()
    qtbot.addWidget(panel)
    snapshot = build_snapshot(history_steps=60)
    panel.set_snapshot(snapshot)
    assert not panel.log_scale.isChecked()
    history = snapshot.history
    spiked = history.train_loss.copy()
    spiked[-1] = 3e24
    panel.set_snapshot(dataclasses.replace(snapshot, history=History(
        history.steps, spiked, history.grad_norm, history.heldout_steps, history.heldout_loss)))
    assert panel.log_scale.isChecked()
    low, high = panel.plot.getViewBox().viewRange()[1]
    assert high >= 24 and low <= np.log10(np.nanmin(history.train_loss))
    panel.log_scale.setChecked(False)  # a person's choice: linear, cut, and the axis says so
    assert not panel.log_scale.isChecked()
    assert "peak" in panel.plot.getAxis("left").labelText
    assert panel.plot.getViewBox().viewRange()[1][1] < 1e3


def test_presentation_mode_shows_fewer_larger_things_and_restores_the_layout_exactly(qtbot, window):
    window.resize(1280, 720)
    settle(qtbot)
    docks = window.findChildren(QDockWidget)
    before = (bytes(window.saveState()), [bytes(s.saveState()) for s in window.splitters],
              {n: p.isVisible() for n, p in window.training_panels.items()}, [d.isVisible() for d in docks],
              QApplication.font().pointSizeF(), theming.current_theme())
    window.menus.presentation_action.trigger()  # F5
    settle(qtbot)
    assert window.presenting
    assert not any(d.isVisible() for d in docks)
    shown = {n for n, p in window.training_panels.items() if p.isVisible()}
    assert shown == {"loss", "hidden", "gradients"}
    assert QApplication.font().pointSizeF() > before[4] and theming.current_theme().large
    window.menus.leave_presentation_action.trigger()  # Esc
    settle(qtbot)
    assert not window.presenting
    after = (bytes(window.saveState()), [bytes(s.saveState()) for s in window.splitters],
             {n: p.isVisible() for n, p in window.training_panels.items()}, [d.isVisible() for d in docks],
             QApplication.font().pointSizeF(), theming.current_theme())
    assert after == before
    assert not window.menus.leave_presentation_action.isEnabled()  # Esc does nothing outside it


def test_compare_exports_png_svg_and_csv_with_one_number_format(qtbot, tmp_path):
    window = CompareWindow(SessionConfig(task="adding", task_params={"seq_len": 8}, hidden_size=4, batch_size=4))
    qtbot.addWidget(window)
    window.resize(1024, 600)
    window.show()
    window.toggle()
    qtbot.waitUntil(lambda: window.curves_shown is not None
                    and all(len(window.curves_shown[c].steps) >= 3 for c in window.cells), timeout=15000)
    window.toggle()
    answers = iter([str(tmp_path / "c.png"), str(tmp_path / "c.svg"), str(tmp_path / "c.csv")])
    window.ask_save_path = lambda *_args: next(answers)
    menu = window.export_button.menu()
    for action in menu.actions():
        action.trigger()
    assert not QImage(str(tmp_path / "c.png")).isNull()
    assert minidom.parse(str(tmp_path / "c.svg")).getElementsByTagName("path")
    rows = (tmp_path / "c.csv").read_text().splitlines()
    assert rows[0] == "cell,series,x,value"
    assert {row.split(",")[0] for row in rows[1:]} == set(window.cells)
    series = {row.split(",")[1] for row in rows[1:]}
    assert {"train_loss", "grad_norm"} <= series <= {"train_loss", "heldout_loss", "grad_norm"}
    # coinciding curves stay visible: every cell's loss line differs from the others in width or colour
    pens = [(window.lines[c]["loss"].opts["pen"].color().name(), window.lines[c]["loss"].opts["pen"].width())
            for c in window.cells]
    assert len(set(pens)) == len(pens)
    assert [compact_number(v) for v in (1e-4, 2.5e-5, 0.25, 12.0, 3e6)] == ["1e-4", "2.5e-5", "0.25", "12", "3e6"]
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)


def test_presentation_mode_is_left_before_the_layout_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(task="parity", hidden_size=4, batch_size=4), settings)
    qtbot.addWidget(win)
    win.show()
    state = bytes(win.saveState())
    win.set_presentation(True)
    win.close()
    assert bytes(settings.value("window_state")) == state
    assert not theming.current_theme().large


def test_make_screenshot_picks_up_every_page_and_new_kinds_of_picture(qtbot, tmp_path):
    from PySide6.QtWidgets import QLabel

    from rnnviz.ui import gallery, pages

    spec = pages.PageSpec("demo_gallery", "Demo", "A page for the test", lambda window: QLabel("demo page"))
    pages.PAGES.append(spec)
    taken = []

    @gallery.shot("lesson-demo", "A kind added from outside (as a lesson would)")
    def _lesson(g: gallery.Gallery) -> None:
        taken.append(g.size.name)
        g.save("step-1")

    try:
        assert gallery.main(["--out", str(tmp_path), "--sizes", "1024x768", "--only", "pages,lesson-demo",
                             "--steps", "2"]) == 0
    finally:
        pages.PAGES.remove(spec)
        gallery.SHOTS.pop("lesson-demo")
    folder = tmp_path / "1024x768"
    every_page = [f"pages-{spec.name}.png" for spec in pages.PAGES]  # the window never grows past the screen
    for name in every_page + ["pages-demo_gallery.png", "lesson-demo-step-1.png"]:
        image = QImage(str(folder / name))
        assert (image.width(), image.height()) == (1024, 768), name
    index = (tmp_path / "index.html").read_text()
    assert "1024x768/pages-demo_gallery.png" in index and "1024x768/lesson-demo-step-1.png" in index
    assert taken == ["1024x768"]
    assert gallery.main(["--only", "no-such-kind"]) == 2
