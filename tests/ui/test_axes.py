"""Time axes of words and characters: all of them when they fit, upright when they do not fit side by
side, thinned only past that, padding named once, the whole label on hover."""
from __future__ import annotations

import itertools

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFont

from rnnviz.tasks.base import PAD_LABEL
from rnnviz.ui.panels.axes import IndexAxis
from tests.ui.test_panels import drawn_tick_labels

SENTENCE = ("the", "service", "was", "not", "really", "good", "but", "extraordinarily", "fun")


def axis_plot(qtbot, labels, width: int, upright: bool = True) -> tuple[pg.PlotWidget, IndexAxis]:
    axis = IndexAxis("bottom")
    font = QFont()
    font.setPointSize(9)  # the panels' tick size
    axis.setTickFont(font)
    widget = pg.PlotWidget(axisItems={"bottom": axis})
    qtbot.addWidget(widget)
    widget.resize(width, 260)
    widget.show()
    qtbot.waitExposed(widget)
    axis.set_labels(labels, upright=upright)
    widget.getPlotItem().setXRange(-0.5, len(labels) - 0.5, padding=0)
    widget.grab()
    qtbot.wait(20)  # the axis grows for upright labels after the first paint
    widget.grab()
    return widget, axis


def assert_apart(labels) -> None:
    for (a, text_a), (b, text_b) in itertools.combinations(labels, 2):
        assert not a.intersects(b), (text_a, text_b)


def test_every_word_side_by_side_when_they_fit(qtbot):
    _, axis = axis_plot(qtbot, SENTENCE, 1400)
    labels = drawn_tick_labels(axis)
    assert [text for _, text in labels] == list(SENTENCE) and not axis.upright
    assert_apart(labels)


@pytest.mark.parametrize("width", [330, 420])
def test_words_turn_upright_rather_than_hiding_the_not(qtbot, width):
    _, axis = axis_plot(qtbot, SENTENCE, width)
    labels = drawn_tick_labels(axis)
    texts = [text for _, text in labels]
    assert axis.upright
    assert "not" in texts and texts[:7] == list(SENTENCE[:7])  # every word, none skipped
    assert texts[7].startswith("extraord") and texts[7].endswith("…")  # very long words are cut short...
    assert axis.label_at_index(7) == "7: extraordinarily"  # ...and whole on hover
    assert_apart(labels)
    assert all(rect.height() > rect.width() for rect, _ in labels)  # upright boxes
    # the axis grew to hold them: the longest upright label lies inside the axis
    assert max(rect.bottom() for rect, _ in labels) <= axis.boundingRect().bottom() + 1


def test_without_permission_words_are_thinned_not_turned(qtbot):
    _, axis = axis_plot(qtbot, SENTENCE, 330, upright=False)
    labels = drawn_tick_labels(axis)
    assert not axis.upright and len(labels) < len(SENTENCE)
    assert_apart(labels)


def test_characters_stay_side_by_side_like_text(qtbot):
    text = tuple("the cat sat on the mat and the dog sat on the log")
    _, axis = axis_plot(qtbot, text, 760)  # about 14 px a character
    labels = drawn_tick_labels(axis)
    assert not axis.upright and [t for _, t in labels] == list(text)
    assert_apart(labels)


def test_padding_is_named_once_where_it_starts(qtbot):
    words = ("the", "food", "is", "not", "good") + (PAD_LABEL,) * 8
    _, axis = axis_plot(qtbot, words, 900)
    texts = [text for _, text in drawn_tick_labels(axis)]
    assert texts == ["the", "food", "is", "not", "good", PAD_LABEL]


def test_hovering_a_label_names_it_whole(qtbot):
    widget, axis = axis_plot(qtbot, SENTENCE, 330)
    view = widget.getPlotItem().getViewBox()
    for index in (3, 7):
        scene = view.mapViewToScene(QPointF(index, 0))
        assert axis.label_at(QPointF(scene.x(), axis.sceneBoundingRect().center().y())) == f"{index}: {SENTENCE[index]}"
    assert axis.label_at(view.mapViewToScene(QPointF(len(SENTENCE) + 3, 0))) == ""


def test_one_word_among_characters_does_not_thin_the_characters(qtbot):
    labels = tuple("ABCDEF") + ("_",) * 5 + ("go",) + ("_",) * 6
    _, axis = axis_plot(qtbot, labels, 330)  # about 15 px a position: a letter each, not a "go" each
    texts = [text for _, text in drawn_tick_labels(axis)]
    assert texts == list(labels)
    assert_apart(drawn_tick_labels(axis))


def test_when_words_must_be_thinned_the_rare_ones_stay(qtbot):
    labels = ("_",) * 9 + ("go",) + ("_",) * 10
    _, axis = axis_plot(qtbot, labels, 170)  # a few pixels a position: not every blank fits
    texts = [text for _, text in drawn_tick_labels(axis)]
    assert "go" in texts and len(texts) < len(labels)
    assert_apart(drawn_tick_labels(axis))
    sentence = ("the", "food", "the", "the", "the", "not", "the", "the", "the", "good", "the", "the")
    _, axis = axis_plot(qtbot, sentence, 200, upright=False)
    texts = [text for _, text in drawn_tick_labels(axis)]
    assert {"not", "good", "food"} <= set(texts) and len(texts) < len(sentence)
