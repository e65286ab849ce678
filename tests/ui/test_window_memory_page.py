"""The "Window vs memory" page: the sweep runs in the background with progress and Cancel, each model's
accuracy against lag is drawn with the chance line and the window's edge, the size plot follows the
window spin box, and both plots export PNG, SVG and CSV."""
from __future__ import annotations

from xml.dom import minidom

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from rnnviz.session.config import SessionConfig
from rnnviz.session.window_memory import MODELS
from rnnviz.ui.pages.window_memory import SIZE_WINDOWS, WindowMemoryPage
from tests.ui.conftest import module_window
from tests.ui.test_export import distinct_colours
from tests.ui.test_window import message_box

SMALL = dict(task="lag_recall", cell="gru", hidden_size=4, batch_size=4)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SMALL), "window_memory") as state:
        yield state


def page_of(window) -> WindowMemoryPage:
    page = window.show_page_named("window_memory")
    assert isinstance(page, WindowMemoryPage)
    return page


def settle(qtbot, page, window_k: int, lags: tuple[int, int], hidden: int, steps: int) -> None:
    page.window_box.setValue(window_k)
    page.lag_to.setValue(lags[1])
    page.lag_from.setValue(lags[0])
    page.hidden_box.setValue(hidden)
    page.steps_box.setValue(steps)


def test_the_sweep_runs_in_the_background_and_draws_every_model(qtbot, shared, tmp_path):
    window = shared["window"]
    page = page_of(window)
    assert page.cell_box.currentText() == "gru"  # the window's cell
    settle(qtbot, page, 2, (0, 3), hidden=8, steps=10)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.running and not page.run_button.isEnabled() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not page.running, timeout=60000)
    sweep = page.lag_panel.view
    assert sweep.complete and sweep.lags == (0, 1, 2, 3) and sweep.config.window == 2
    assert page.progress.value() == page.progress.maximum() == 12
    for model in MODELS:
        curve = page.lag_panel.curves[model]
        np.testing.assert_array_equal(curve.xData, sweep.lags)
        np.testing.assert_array_equal(curve.yData, sweep.accuracy[model])
    assert page.lag_panel.window_line.value() == 2 and page.lag_panel.outside.getRegion()[0] == 2
    assert page.lag_panel.chance_line.value() == 0.25 and "0.25" in page.lag_panel.chance_text.toPlainText()
    assert "Measured 12 models" in page.status.text() and page.run_button.isEnabled()
    _exports(page.lag_panel, tmp_path, rows=1 + 4)
    # the CSV holds what is drawn: one row per lag, the model accuracies in the header's order
    rows = (tmp_path / "window_accuracy_vs_lag.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "lag,window,ngram_accuracy,window_mlp_accuracy,rnn_accuracy,chance"
    assert [float(v) for v in rows[1].split(",")[2:5]] == [sweep.accuracy[m][0] for m in MODELS]


def test_cancel_stops_the_sweep_and_keeps_the_models_measured(qtbot, shared):
    page = page_of(shared["window"])
    settle(qtbot, page, 3, (0, 6), hidden=8, steps=5000)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.sweep is not None and page.sweep.measured >= 1, timeout=60000)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=20000)
    qtbot.waitUntil(lambda: not page.job.alive, timeout=5000)  # the process has ended
    assert "Cancelled" in page.status.text() and page.run_button.isEnabled()
    assert 1 <= page.sweep.measured < page.sweep.planned
    assert page.lag_panel.curves["ngram"].xData is not None and len(page.lag_panel.curves["ngram"].xData) >= 1


def test_the_size_plot_follows_the_window_and_the_cell(qtbot, shared, tmp_path):
    page = page_of(shared["window"])
    page.window_box.setValue(5)
    page.hidden_box.setValue(16)
    page.cell_box.setCurrentText("lstm")
    view = page.size_panel.view
    assert view.window == 5 and view.cell == "lstm" and view.windows == tuple(SIZE_WINDOWS)
    assert page.size_panel.window_line.value() == 5
    np.testing.assert_array_equal(page.size_panel.curves["ngram"].yData, view.ngram_counts)
    np.testing.assert_array_equal(page.size_panel.curves["rnn"].yData, [view.rnn_weights] * len(SIZE_WINDOWS))
    assert f"{view.ngram_counts[4]:,} n-gram counts" in page.size_panel.numbers.toPlainText()
    if page.sweep is not None:
        assert "run the sweep again for k = 5" in page.status.text()
    _exports(page.size_panel, tmp_path, rows=1 + len(SIZE_WINDOWS))


def _exports(panel, folder, rows: int) -> None:
    png = panel.export_png(folder / f"{panel.name}.png")
    assert distinct_colours(QImage(str(png))) > 10
    svg = minidom.parse(str(panel.export_svg(folder / f"{panel.name}.svg")))
    assert svg.getElementsByTagName("path")
    assert len(panel.to_csv(folder / f"{panel.name}.csv").read_text(encoding="utf-8").splitlines()) == rows


def test_a_window_whose_n_gram_does_not_fit_is_refused_in_a_dialog(qtbot, shared, monkeypatch):
    window = shared["window"]
    page = page_of(window)
    monkeypatch.setenv("RNNVIZ_MEMORY_BUDGET", "1M")  # 5^7 x 4 counts of 4 bytes = 1.25 MB > 1 MiB >= 5^6 x 16
    page.window_box.setValue(7)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    box = message_box(window, "message")
    assert box is not None and "lower the window k to 6 or less" in box.text()
    assert not page.running and page.run_button.isEnabled()
    box.close()
