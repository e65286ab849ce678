"""The compare window: RNN, LSTM and GRU trained side by side, Play/Pause, closing stops cleanly."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from rnnviz.session.config import SessionConfig
from rnnviz.ui.compare import CompareWindow

SMALL = SessionConfig(task="adding", task_params={"seq_len": 8}, hidden_size=4, batch_size=4)


def test_trains_all_three_on_the_same_data_and_closes_cleanly(qtbot):
    window = CompareWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    cells = window.cells
    assert not window.running
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    assert window.running and "Pause" in window.play_button.text()
    qtbot.waitUntil(lambda: window.curves_shown is not None
                    and all(len(window.curves_shown[c].steps) >= 5 for c in cells), timeout=15000)
    curves = window.curves_shown
    for index, cell in enumerate(cells):
        x, y = window.lines[cell]["loss"].getData()
        assert len(x) >= 5 and np.all(np.isfinite(y))
        gx, gy = window.lines[cell]["grad"].getData()
        assert len(gx) == 8  # one point per timestep of the view sequence
        assert window.lines[cell]["loss"].opts["pen"].color().name() == window.theme.pen(index)
    # same task, seed and data: the three sessions saw identical batches, so their step counts agree
    sessions = window.comparison.sessions
    assert len({s.step for s in sessions.values()}) <= 2  # at most one step apart mid-update
    assert {s.config.cell for s in sessions.values()} == set(cells)
    legend_names = [label.text for _sample, label in window.legends[0].items]
    assert legend_names == ["RNN (tanh)", "LSTM", "GRU"]
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    assert not window.running
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 2.0
    assert not window.worker.is_alive()
    assert curves is not None


def test_closing_while_training_stops_the_worker(qtbot):
    window = CompareWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    window.toggle()
    qtbot.waitUntil(lambda: window.comparison.step_count >= 2, timeout=10000)
    window.close()
    assert not window.worker.is_alive()
    step = window.comparison.step_count
    time.sleep(0.2)
    assert window.comparison.step_count == step  # nothing trains after closing
