"""Drawing every panel of a session off screen and exporting it (what ``rnnviz train`` writes)."""
from __future__ import annotations

import csv
from xml.dom import minidom

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.ui.panels import PANELS
from rnnviz.ui.render import ensure_application, panel_names, render_plots
from tests.tolerances import assert_same_maths


@pytest.fixture(scope="module")
def lstm_session() -> Session:
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 12}, cell="lstm", hidden_size=6,
                                    num_layers=2, bidirectional=True, batch_size=4))
    session.train(30)
    return session


SELECTION = Selection(sample=2, layer=1, direction=1)


@pytest.fixture(scope="module")
def rendered(qapp, lstm_session, tmp_path_factory):
    """(folder, files written, top-level widgets before, after) of one render_plots call."""
    folder = tmp_path_factory.mktemp("render") / "plots"
    live_before = len(QApplication.topLevelWidgets())
    written = render_plots(lstm_session, folder, SELECTION)
    return folder, written, live_before, len(QApplication.topLevelWidgets())


def test_every_panel_is_written_as_png_svg_and_csv(rendered):
    folder, written, live_before, live_after = rendered

    assert sorted(p.name for p in written) == sorted(f"{n}.{s}" for n in PANELS for s in ("png", "svg", "csv"))
    # Pixel counts, not float tolerances: a drawn panel has hundreds of colours (antialiased curves, heatmaps)
    # and reaches its edges with thousands of pixels, so the bounds below only tell drawn from blank; Qt's
    # raster engine does not depend on the CPU beyond antialiasing's last bits.
    for name in PANELS:
        pixels = png_pixels(folder / f"{name}.png")  # (height, width)
        assert pixels.shape[1] >= 1200 and pixels.shape[0] >= 700, name  # drawn at 900x600, exported at 2x
        assert len(np.unique(pixels)) > 20, f"{name}.png is (nearly) blank"
        background = pixels[-1, -1]
        right, bottom = pixels[:, -pixels.shape[1] // 6:], pixels[-pixels.shape[0] // 5:, :]
        assert (right != background).mean() > 0.005, f"{name}.png: the plots do not reach the right edge"
        assert (bottom != background).mean() > 0.005, f"{name}.png: the plots do not reach the bottom"
        svg = minidom.parse(str(folder / f"{name}.svg"))
        assert svg.getElementsByTagName("path"), f"{name}.svg has no <path>"
        with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) >= 2 and rows[0], f"{name}.csv has no data"
    # every panel widget was closed and deleted again
    assert live_after == live_before


def test_plots_show_the_selected_layer_and_direction(rendered, lstm_session):
    """hidden.csv holds exactly the hidden states of the selection, from the session's own trace."""
    folder = rendered[0]
    snapshot = lstm_session.snapshot(SELECTION)
    other = lstm_session.snapshot(Selection(sample=2, layer=0, direction=0))
    with open(folder / "hidden.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    numbers = np.array([[float(cell) for cell in row if _is_number(cell)] for row in rows[1:]])
    hidden = snapshot.hidden  # (T, H)
    assert numbers.size >= hidden.size
    assert np.isin(np.round(hidden, 6), np.round(numbers, 6)).all()
    assert not np.isin(np.round(other.hidden, 6), np.round(numbers, 6)).all()  # not layer 0's states


def png_pixels(path) -> np.ndarray:
    """The PNG's pixels as packed 0xAARRGGBB integers, (height, width)."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_ARGB32)
    assert not image.isNull(), f"{path} is not a readable PNG"
    rows = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), image.bytesPerLine() // 4)
    return rows[:, : image.width()].copy()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_gates_panel_only_for_gated_cells():
    assert "gates" in panel_names("lstm") and "gates" in panel_names("gru")
    assert "gates" not in panel_names("rnn_tanh") and "gates" not in panel_names("rnn_relu")
    assert set(panel_names("rnn_tanh")) == set(PANELS) - {"gates"}


def test_ensure_application_reuses_the_running_one(qapp):
    assert ensure_application() is qapp


def read_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_equations_are_those_of_the_selected_layer_and_direction(rendered, lstm_session):
    """``rnnviz export --layer 1 --direction 1``: the equations' numbers are that cell's own (its input is
    layer 0's output, its previous state h_(t+1)), as the engine computed them, not a recomputation."""
    rows = read_rows(rendered[0] / "equations.csv")
    assert rows[0][:2] == ["vector", "timestep"]
    values = {row[0]: np.array(row[2:], dtype=float) for row in rows[1:]}
    t = int(rows[1][1])
    trace = lstm_session.inspect().trace.layer(SELECTION.layer, SELECTION.direction)
    s, H = SELECTION.sample, trace.hidden.shape[2]
    assert t == 0  # the reverse direction's last step: the one that makes h_n
    # the float32 engine against the stepper's float64 textbook steps of the same numbers: two layers of
    # T = 12 steps with fan-in <= 2 H = 12, N <= L T (fan-in + 6 + 16) < 2^10 roundings (tests/tolerances.py)
    close = dict(roundings=2**10, dtype=np.float32)
    assert_same_maths(values["h_t+1"], trace.prev_hidden[t, s], **close)  # reverse: reads h_(t+1)
    assert_same_maths(values["h_t"], trace.hidden[t, s], **close)
    for k, gate in enumerate(("i", "f", "g", "o")):
        assert_same_maths(values[f"preact_{gate}"], trace.preact[t, s, k * H:(k + 1) * H], **close)
        terms = sum(values[name] for name in (f"W_i{gate} x_t", f"b_i{gate}", f"W_h{gate} h_t+1", f"b_h{gate}"))
        assert_same_maths(terms, values[f"preact_{gate}"], **close)


def test_step_through_exports_hold_the_whole_pass(rendered, lstm_session):
    folder = rendered[0]
    trace = lstm_session.inspect().trace.layer(SELECTION.layer, SELECTION.direction)
    rows = read_rows(folder / "unrolled.csv")
    hidden = np.array([[float(v) for v in row[4:]] for row in rows[1:]])
    assert_same_maths(hidden, trace.hidden[:, SELECTION.sample], roundings=2**10, dtype=np.float32)  # as above
    norms = np.array([float(row[1]) for row in read_rows(folder / "bptt.csv")[1:]])
    assert np.isfinite(norms).all()
