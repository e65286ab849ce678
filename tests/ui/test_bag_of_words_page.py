"""The "Bag of words" page driven like a person would: train both in the background and stop, read
the same-words pair, type a sentence (and a wrong word), type text for the character model, export;
and the weight-sharing line of the network summary."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.session.bag_of_words import SAME_WORDS_PAIR
from rnnviz.session.config import SessionConfig
from rnnviz.session.weight_sharing import weight_sharing
from rnnviz.tasks.sentiment import VOCABULARY
from tests.ui.conftest import module_window

SENTIMENT = dict(task="sentiment", cell="gru", hidden_size=8, batch_size=16)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**SENTIMENT), "bag_of_words_page") as state:
        yield state


def shown_page(qtbot, window):
    qtbot.waitUntil(lambda: window.controller.session is not None and not window.controller.busy, timeout=20000)
    return window.show_page_named("bag_of_words")


def type_text(qtbot, page, text: str) -> None:
    page.text.clear()
    qtbot.keyClicks(page.text, text)
    qtbot.keyClick(page.text, Qt.Key.Key_Return)


def test_training_both_fills_the_curves_and_the_pair_with_progress(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    page.steps.setValue(50)
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    assert page.training and not page.train_button.isEnabled() and page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not page.training, timeout=60000)
    curves = page.accuracy.view
    assert curves.steps[-1] == 50 and page.progress.value() == page.progress.maximum() == 50
    assert curves.order_sensitive_samples > 0 and np.isfinite(curves.bow_order_sensitive).all()
    np.testing.assert_array_equal(page.accuracy.curves["bow_order_sensitive"].yData, curves.bow_order_sensitive)
    assert "chance 0.5" in page.accuracy.key.text and f"{curves.rnn_overall[-1]:.0%}" in page.accuracy.key.text
    first, second = page.pair.view
    assert (first.sentence, second.sentence) == SAME_WORDS_PAIR
    np.testing.assert_array_equal(first.bow_probabilities, second.bow_probabilities)  # one input for both
    assert page.page_models is not None and page.train_button.isEnabled() and "50 steps" in page.status.text()


def test_stop_keeps_the_models_trained_so_far(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    page.steps.setValue(100_000)
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.state is not None and page.state.step > 0, timeout=60000)
    qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.training, timeout=20000)
    assert "Stopped at step" in page.status.text() and page.train_button.isEnabled()
    session, _bow = page.page_models
    assert 0 < session.step < 100_000


def test_typing_a_sentence_shows_each_words_hidden_state_and_both_verdicts(qtbot, shared):
    window = shared["window"]
    page = shown_page(qtbot, window)
    if page.page_models is None:
        page.steps.setValue(25)
        page.train()
        qtbot.waitUntil(lambda: not page.training, timeout=60000)
    page.source.setCurrentIndex(page.source.findData("page"))
    type_text(qtbot, page, "the food is not good")
    reading = page.reading.view
    assert reading.tokens == ("the", "food", "is", "not", "good") and reading.label == 0
    assert page.reading.token_axis.labels == reading.tokens
    assert reading.hidden.shape == (5, SENTIMENT["hidden_size"]) and reading.bow_probabilities is not None
    key = page.reading.verdict.text
    assert "RNN:" in key and "bag of words:" in key and "negative" in key
    type_text(qtbot, page, "the pizza is good")
    assert "pizza" in page.hint.text() and " ".join(VOCABULARY) in page.hint.text()
    assert page.reading.view is reading  # the last good reading stays


def test_the_main_windows_network_reads_too_and_exports(qtbot, shared, tmp_path):
    window = shared["window"]
    page = shown_page(qtbot, window)
    page.source.setCurrentIndex(page.source.findData("main"))
    type_text(qtbot, page, "the show was dull but fun")
    qtbot.waitUntil(lambda: page.reading.view is not None and page.reading.view.text == "the show was dull but fun",
                    timeout=10000)
    assert page.reading.view.label == 1
    written = page.export_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{name}.{kind}" for name in
                                                      ("bow_accuracy", "same_words", "type_your_own", "weight_sharing")
                                                      for kind in ("png", "svg", "csv"))
    svg = ElementTree.parse(tmp_path / "type_your_own.svg").getroot()
    assert any(element.tag.endswith("path") for element in svg.iter())
    header = (tmp_path / "weight_sharing.csv").read_text().splitlines()[0]
    assert header == "seq_len,recurrent_gru,feedforward_padded_one_hot"


def test_the_network_summary_compares_the_parameter_count_with_a_feedforward_net(qtbot, shared):
    window = shared["window"]
    shown_page(qtbot, window)
    label = window.network_controls.weight_sharing
    rnn, feedforward = weight_sharing(window.controller.session).at_task_length()
    assert f"{rnn:,}" in label.text() and f"{feedforward:,}" in label.text()
    assert "4 million" in label.toolTip()


def test_text_typed_for_the_character_model(qtbot, qapp, tmp_path_factory):
    config = SessionConfig(task="text", hidden_size=8, task_params={"seq_len": 16})
    with module_window(tmp_path_factory, config, "bag_of_words_text") as state:
        window = state["window"]
        page = shown_page(qtbot, window)
        assert page.source.currentData() == "main"  # nothing trained on the page: the main window's network
        type_text(qtbot, page, "twinkle")
        qtbot.waitUntil(lambda: page.reading.view is not None and page.reading.view.text == "twinkle",
                        timeout=10000)
        reading = page.reading.view
        assert reading.kind == "next" and len(reading.tokens) == 7
        assert len(page.reading.bar_labels) == 7 and reading.predicted()[-1] in page.reading.bar_labels[-1].textItem.toPlainText()


def test_a_linear_bag_of_words_is_chosen_and_trained_from_the_page(qtbot, shared):
    from rnnviz.session.bag_of_words import BOW_HIDDEN

    window = shared["window"]
    page = shown_page(qtbot, window)
    box = page.bow_hidden
    assert box.value() == BOW_HIDDEN and "not" in box.toolTip() and "linear" in box.toolTip().lower()
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "0")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == 0 and box.text() == "linear (word counts only)"
    page.steps.setValue(25)
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    assert "bag of words → linear" in page.status.text()
    qtbot.waitUntil(lambda: not page.training, timeout=60000)
    assert page.state.bow_config.hidden_size == 0 and page.page_models[1].linear
    assert "bag of words → linear: all" in page.accuracy.key.text
    box.setValue(BOW_HIDDEN)  # the module's window is shared with the other tests
