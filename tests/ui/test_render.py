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
