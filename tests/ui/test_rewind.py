"""Rewind: scrub the training panels back through the recorded steps, then return to live."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from tests.tolerances import assert_same_maths
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.ui.main_window import MainWindow

SMALL = dict(task="adding", task_params={"seq_len": 10}, cell="rnn_tanh", hidden_size=6, batch_size=8, lr=0.05)


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(SessionConfig(**SMALL), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=5000)
    yield win
    win.close()


def test_scrub_back_shows_that_step_and_back_to_live_returns(qtbot, window):
    window.controller.step(40)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 40 and not window.controller.busy, timeout=20000)
    bar = window.rewind_bar
    qtbot.waitUntil(lambda: len(bar.steps) > 2 and bar.steps[-1] == 40, timeout=5000)
    assert bar.steps[0] == 0 and bar.slider.isEnabled()
    assert f"live — {len(bar.steps)} recorded steps (0–40)" in bar.label.text()
    hidden = window.panels["hidden"]
    live_hidden = hidden.snapshot.hidden.copy()

    bar.slider.setFocus()
    qtbot.keyClick(bar.slider, Qt.Key.Key_Home)  # drag to the start, as a person would
    qtbot.waitUntil(lambda: window.rewound_snapshot is not None and window.rewound_snapshot.step == 0,
                    timeout=5000)
    assert hidden.snapshot.step == 0
    assert window.panels["loss"].snapshot.history.steps.size == 0  # no history at step 0
    fresh = Session(SessionConfig(**SMALL))  # untrained, same seed: the weights at step 0
    expected = fresh.snapshot(window.controller.selection).hidden
    # the same float32 forward pass on the same weights, in the worker and here: 2 N u32 at most, N < 2^8
    # roundings (T = 10 steps of a dot product over 2 + 6 inputs and ~16 elementwise operations)
    assert_same_maths(hidden.snapshot.hidden, expected, roundings=2**8, dtype=np.float32)
    assert "rewound to step 0" in bar.label.text()

    middle = bar.steps[len(bar.steps) // 2]
    bar.scrub_to(middle)
    qtbot.waitUntil(lambda: window.rewound_snapshot.step == middle, timeout=5000)
    assert len(window.panels["loss"].snapshot.history.steps) == middle

    window.controller.step(1)  # live snapshots keep arriving but do not replace the rewound picture
    qtbot.waitUntil(lambda: window.last_snapshot.step == 41, timeout=5000)
    assert hidden.snapshot.step == middle

    qtbot.mouseClick(bar.live_button, Qt.MouseButton.LeftButton)
    assert bar.rewound_to is None and not bar.live_button.isEnabled()
    qtbot.waitUntil(lambda: hidden.snapshot.step == 41, timeout=5000)
    # trained weights again, not step 0's: 41 Adam steps of lr 0.05 move states by >> any rounding
    assert np.max(np.abs(hidden.snapshot.hidden - expected)) > 1e-3
    assert not np.array_equal(hidden.snapshot.hidden, live_hidden)  # and one step further than before


def test_a_fresh_session_has_one_recorded_step_in_the_singular(qtbot, window):
    qtbot.waitUntil(lambda: window.rewind_bar.steps == [0], timeout=5000)
    assert window.rewind_bar.label.text() == "live — 1 recorded step (step 0)"
