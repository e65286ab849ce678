"""The Encoder–decoder page, driven like a person would: pick settings, train live in the background,
pause, step through the decoder steps, export, run the length experiment; and the main task list
leaves the encoder–decoder tasks out."""
from __future__ import annotations

from xml.dom import minidom

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from rnnviz.session.config import SessionConfig
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.panels.attention import NO_ATTENTION


@pytest.fixture
def window(qtbot, tmp_path):
    window = MainWindow(SessionConfig(task="parity", hidden_size=4, batch_size=4),
                        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    yield window
    window.close()


@pytest.fixture
def page(qtbot, window):
    page = window.show_page_named("seq2seq")
    page.hidden_spin.setValue(8)
    page.length_spin.setValue(4)
    qtbot.waitUntil(lambda: page.session is not None and page.session.settings.hidden_size == 8
                    and page.session.settings.task_params == {"seq_len": 4}, timeout=10_000)
    return page


def test_the_window_offers_the_page_and_keeps_encoder_decoder_tasks_off_the_rnn_list(window):
    box = window.task_controls.task_box
    names = [box.itemData(i) for i in range(box.count())]
    assert "parity" in names and not {"reverse", "sort_digits", "number_words"} & set(names)
    page = window.show_page_named("seq2seq")
    tasks = [page.task_box.itemData(i) for i in range(page.task_box.count())]
    assert tasks == ["reverse", "sort_digits", "number_words"]


def test_train_live_pause_and_step_through_the_decoder(qtbot, page, tmp_path):
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    assert page.training and page.train_button.text() == "Pause"
    qtbot.waitUntil(lambda: page.frame is not None and page.frame.step > 20, timeout=30_000)
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)  # pause
    qtbot.waitUntil(lambda: not page.training, timeout=15_000)
    assert page.session is not None and page.session.step == page.frame.step
    assert page.train_button.text() == "Train" and page.status.text().startswith(f"step {page.frame.step:,}")
    view = page.current_view()
    assert page.attention_panel.view is view and page.curves_panel.view is view
    assert page.step_slider.maximum() == len(view.target) - 1  # one step per target token, the end token too
    qtbot.mouseClick(page.forward_button, Qt.MouseButton.LeftButton)
    assert page.step_slider.value() == 1 and page.attention_panel.step == 1
    heights = page.attention_panel.step_bars.opts["height"]
    np.testing.assert_array_equal(heights, view.forced_attention[1])
    assert "<b>greedy</b>" in page.output_label.text()
    page.sample_spin.setValue(3)
    assert page.attention_panel.view is page.frame.views[3]
    page.attention_panel.rows_box.setCurrentIndex(page.attention_panel.rows_box.findData("greedy"))
    assert page.attention_panel.rows == "greedy"
    assert page.step_slider.maximum() == len(page.frame.views[3].decoded) - 1
    written = page.export_all(tmp_path / "plots")
    assert sorted(p.name for p in written) == sorted(f"{n}.{s}" for n in ("attention", "seq2seq_training")
                                                     for s in ("png", "svg", "csv"))
    assert minidom.parse(str(tmp_path / "plots" / "attention.svg")).getElementsByTagName("path")
    # training resumes from where it paused
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    paused_at = page.session is None and page.frame.step
    qtbot.waitUntil(lambda: page.frame.step > paused_at + 5, timeout=30_000)
    page.pause()
    qtbot.waitUntil(lambda: not page.training, timeout=15_000)


def test_no_attention_says_so(qtbot, page):
    page.attention_box.setCurrentIndex(page.attention_box.findData("none"))
    qtbot.waitUntil(lambda: page.session is not None and page.session.settings.attention == "none", timeout=10_000)
    qtbot.waitUntil(lambda: page.frame.views[0].attention_kind == "none", timeout=10_000)
    assert page.attention_panel.message.isVisible() and page.attention_panel.message.toPlainText() == NO_ATTENTION


def test_the_length_experiment_runs_in_the_background_and_can_be_cancelled(qtbot, page):
    page.run_experiment(lengths=(2, 3), steps=4)
    assert page.experimenting and not page.experiment_button.isEnabled()
    qtbot.waitUntil(lambda: not page.experimenting, timeout=60_000)
    assert len(page.experiment.runs) == 6 and page.length_panel.view is page.experiment
    assert page.experiment_progress.value() == 6
    page.run_experiment(lengths=(2, 3, 4, 5), steps=2000)
    qtbot.waitUntil(lambda: page.experiment_progress.value() >= 0 and page.experimenting, timeout=5_000)
    qtbot.mouseClick(page.experiment_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.experimenting, timeout=15_000)
    assert page.experiment_button.isEnabled()


def test_a_task_without_a_length_refuses_the_experiment_in_a_dialog(qtbot, page):
    page.task_box.setCurrentIndex(page.task_box.findData("number_words"))
    assert not page.length_spin.isEnabled()
    page.run_experiment()
    box = page.findChild(type(page.show_error("x", "y")), "seq2seq_error")
    assert box is not None and not page.experimenting
