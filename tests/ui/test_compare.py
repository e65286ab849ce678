"""The compare window: RNN, LSTM and GRU trained side by side, Play/Pause, closing stops cleanly."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
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
    assert [title for title, _colour in window.legend_entries()] == ["RNN (tanh)", "LSTM", "GRU"]
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    assert not window.running
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)  # the process ends (no orphan)
    assert curves is not None
    # same task, seed and data: each cell trained on exactly the batches a lone session with the shared
    # seed draws: its losses are those of that lone session, batch for batch (the curves come from the
    # comparison's process between whole steps, so every cell has the same number of steps).
    assert set(curves) == set(cells) and all(curves[c].cell == c for c in cells)
    steps = {len(curves[c].steps) for c in cells}
    assert len(steps) == 1 and steps.pop() >= 5  # one comparison step trains all three
    for cell in cells:
        alone = Session(SMALL.replace(cell=cell))
        alone.train(len(curves[cell].steps))
        # Same code, weights and batches in another process: the same bits are expected. The tolerance only
        # forgives last-bit differences, should a kernel's summation order depend on buffer alignment; it
        # cannot hide other data: another batch changes a loss by > 1e-2 relative (checked below, measured
        # 0.2-0.86), a thousand times the 1e-5 allowed (the floor 1e-7 matters only for losses below 0.01).
        np.testing.assert_allclose(curves[cell].loss, alone.history.train[:, 1], rtol=1e-5, atol=1e-7)
        other = Session(SMALL.replace(cell=cell, seed=SMALL.seed + 1))
        other.train(3)
        assert np.all(np.abs(other.history.train[:, 1] / alone.history.train[:3, 1] - 1) > 1e-2)


def test_closing_while_training_stops_the_worker(qtbot):
    window = CompareWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    window.toggle()
    qtbot.waitUntil(lambda: window.step_count >= 2, timeout=10000)
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)  # nothing trains after closing
    assert window.job.finished


def check(window, cell: str, checked: bool) -> None:
    """Tick or untick ``cell`` in the list, as a click on its box does."""
    items = [window.cell_list.item(row) for row in range(window.cell_list.count())]
    item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == cell)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)


def test_a_chosen_set_of_cells_trains_those_cells_on_the_same_data(qtbot):
    from rnnviz.session.compare import cell_config

    config = SMALL.replace(task="selective_copy", task_params={"region": 6, "n_tokens": 2}, scan=False)
    window = CompareWindow(config)
    qtbot.addWidget(window)
    window.show()
    check(window, "rnn_tanh", False)
    check(window, "gru", False)
    check(window, "lru", True)
    check(window, "selective", True)
    assert window.cells == ("lstm", "lru", "selective")  # the registry's order
    assert "LSTM, LRU and Selective SSM (S6)" in window.windowTitle()
    assert window.grad_plot.getAxis("left").labelText == "||dL/dh_t|| or ||dL/dc_t||"
    assert "||dL/dc_t|| for LRU, Selective SSM (S6)" in window.note.text()
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.curves_shown is not None
                    and all(len(window.curves_shown[c].steps) >= 3 for c in window.cells), timeout=20000)
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    curves = window.curves_shown
    assert set(curves) == {"lstm", "lru", "selective"}
    assert [curves[c].state_symbol for c in window.cells] == ["h", "c", "c"]
    for cell in window.cells:
        x, y = window.lines[cell]["loss"].getData()
        np.testing.assert_array_equal(y, curves[cell].loss[np.isfinite(curves[cell].loss)])
        alone = Session(cell_config(config, cell))
        alone.train(len(curves[cell].steps))
        # the same batches as a lone session with the shared seed (same bits expected; see above)
        np.testing.assert_allclose(curves[cell].loss, alone.history.train[:, 1], rtol=1e-5, atol=1e-7)
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)


def test_every_registered_cell_gets_its_own_colour_and_key_entry(qtbot):
    from rnnviz.engine.cells import cell_names, cell_spec

    window = CompareWindow(SMALL, cells=cell_names())
    qtbot.addWidget(window)
    window.show()
    entries = window.legend_entries()
    assert [title for title, _ in entries] == [cell_spec(c).title for c in cell_names()]
    assert len({colour for _, colour in entries}) == len(entries) == 8  # eight distinct colours
    for title, colour in entries:
        assert title in window.key.text and colour in window.key.text  # the key names each in its colour
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)


def test_a_cell_the_settings_do_not_fit_is_greyed_out_with_the_reason(qtbot):
    window = CompareWindow(SMALL.replace(init="orthogonal"), cells=("lstm", "mingru", "gru"))
    qtbot.addWidget(window)
    window.show()
    assert window.cells == ("lstm", "gru")  # minGRU has no W_hh to make orthogonal
    items = {window.cell_list.item(r).data(Qt.ItemDataRole.UserRole): window.cell_list.item(r)
             for r in range(window.cell_list.count())}
    assert not items["mingru"].flags() & Qt.ItemFlag.ItemIsEnabled
    assert "orthogonal initialisation does not fit a minGRU" in items["mingru"].toolTip()
    assert items["lstm"].flags() & Qt.ItemFlag.ItemIsEnabled
    window.close()
    qtbot.waitUntil(lambda: not window.job.alive, timeout=5000)
