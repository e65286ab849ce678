"""The Generation page driven like a person: type a seed, press Generate, read the text; a non-text
session says what to do; a character the network never saw is refused in a dialog; exports work."""
from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from rnnviz.session.config import SessionConfig
from rnnviz.session.generation import generate
from tests.ui.conftest import module_window

TEXT = dict(task="text", task_params={"seq_len": 16}, cell="gru", hidden_size=8, batch_size=4)


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory):
    with module_window(tmp_path_factory, SessionConfig(**TEXT), "generation") as state:
        yield state


def open_page(qtbot, win):
    qtbot.waitUntil(lambda: win.controller.session is not None and not win.controller.busy, timeout=20000)
    page = win.show_page_named("generation")
    qtbot.waitUntil(lambda: page.generate_button.isEnabled(), timeout=5000)
    return page


def test_generate_writes_the_sessions_text_and_draws_each_character_fed_back(qtbot, shared):
    win = shared["window"]
    page = open_page(qtbot, win)
    page.seed_text.clear()
    qtbot.keyClicks(page.seed_text, "The ")
    page.length.setValue(25)
    page.temperature.setValue(0.7)
    page.seed.setValue(3)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.panel.view is not None and not page.busy, timeout=20000)
    view = page.panel.view
    expected = generate(win.controller.session, "The ", 25, 0.7, seed=3).text  # the same weights, seed, settings
    assert view.text == expected and page.output.toPlainText() == "The " + expected
    assert view.seq_len == 4 + 25 - 1 and list(view.inputs[1:]) == list(view.outputs[:-1])
    # the strip labels each input, the fed-back ones say so on hover
    below, above = page.panel.texts[10]
    assert view.inputs[10] in below.textItem.toPlainText() and "fed back" in below.toolTip()
    assert view.outputs[10] in above.textItem.toPlainText()
    # the heatmap: one column per timestep, a row per top-k character
    assert page.panel.image.image.shape == (view.seq_len, len(view.row_names))


def test_exports_png_svg_csv(qtbot, shared, tmp_path):
    win = shared["window"]
    page = open_page(qtbot, win)
    page.generate()
    qtbot.waitUntil(lambda: page.panel.view is not None and not page.busy, timeout=20000)
    panel = page.panel
    assert panel.export_png(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in panel.export_svg(tmp_path / "g.svg").read_bytes()[:400]
    with open(panel.to_csv(tmp_path / "g.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:5] == ["timestep", "input", "output", "sampled", "probability"]
    assert len(rows) == 1 + panel.view.seq_len
    sums = [sum(float(v) for v in row[5:]) for row in rows[1:]]
    assert all(0 < s <= 1 + 1e-9 for s in sums)  # the rows are some of the characters: at most all of p


def test_an_unknown_character_is_refused_and_the_page_keeps_working(qtbot, shared):
    win = shared["window"]
    page = open_page(qtbot, win)
    errors = []
    page.show_error = lambda title, text: errors.append(text)
    page.seed_text.setText("☃")
    page.generate()
    assert errors and "'☃'" in errors[0]
    page.seed_text.setText("a")
    page.generate()
    qtbot.waitUntil(lambda: page.panel.view is not None and page.panel.view.seed_text == "a" and not page.busy,
                    timeout=20000)


def test_a_session_of_another_task_says_choose_the_text_task(qtbot, shared):
    win = shared["window"]
    page = open_page(qtbot, win)
    win.controller.new_session(SessionConfig(task="parity", hidden_size=4))
    qtbot.waitUntil(lambda: not page.generate_button.isEnabled(), timeout=20000)
    assert "text" in page.message.text() and "parity" in page.message.text()
    win.controller.new_session(SessionConfig(**TEXT))
    qtbot.waitUntil(lambda: page.generate_button.isEnabled(), timeout=20000)
