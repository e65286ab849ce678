"""Connectivity view states (rnnviz.session.connectivity): the live network's map, the relative log scale,
and the comparison of cell kinds trained on the same task."""
from __future__ import annotations

import dataclasses

import numpy as np

from rnnviz.engine.connectivity import output_input_jacobian_norms, reach
from rnnviz.session.config import SessionConfig
from rnnviz.session.connectivity import (
    LOG_FLOOR,
    MAX_OUTPUT_ROWS,
    REACH_FRACTION,
    compare_cells,
    connectivity_view,
    output_rows,
    relative_log,
)
from rnnviz.session.session import Session

SMALL = SessionConfig(task="copy", task_params={"n_symbols": 2, "alphabet": 3, "delay": 2}, hidden_size=5,
                      batch_size=4)


class Work:
    """A WorkContext's two calls compare_cells uses, recording the progress it reports."""

    def __init__(self) -> None:
        self.reported: list = []

    def check(self) -> None:
        pass

    def progress(self, value) -> None:
        self.reported.append(value)


def test_relative_log_divides_each_row_by_its_largest_past_value():
    norms = np.array([[2.0, 0.0, 0.0],
                      [1.0, 4.0, 0.0],
                      [0.0, 0.5, 5.0]])
    logged = relative_log(norms)
    expected = np.array([[0.0, LOG_FLOOR, LOG_FLOOR],
                         [np.log10(0.25), 0.0, LOG_FLOOR],
                         [LOG_FLOOR, np.log10(0.1), 0.0]])
    np.testing.assert_allclose(logged, expected, rtol=1e-15, atol=1e-15)  # one division and one log10 each
    padded = norms.copy()
    padded[2, :] = np.nan
    assert np.all(np.isnan(relative_log(padded)[2]))


def test_live_map_is_the_engines_connectivity_of_the_shown_sample():
    session = Session(SMALL)
    session.train(3)
    view = connectivity_view(session, sample=2)
    live = view.maps[0]
    batch = session.view_batch
    direct = output_input_jacobian_norms(session.model, batch.inputs[:, 2], batch.mask[:, 2])
    np.testing.assert_array_equal(live.norms, direct)  # the same computation, nothing else
    np.testing.assert_array_equal(live.reach, reach(direct, REACH_FRACTION))
    assert live.live and live.cell == SMALL.cell and live.step == 3
    assert view.sample == 2 and view.time.labels == tuple(session.task.timestep_labels(batch.inputs[:, 2]))
    assert live.last_output == batch.mask[:, 2].sum() - 1 and live.last_reach == live.reach[-1]
    assert f"reach {live.reach[-1]:.0f} of {live.last_output} steps" in live.short_title
    assert f"{live.mean_reach:.1f}" in live.title


def test_long_sequences_get_evenly_spaced_output_rows_ending_at_the_last_real_step():
    mask = np.ones(1000)
    mask[900:] = 0
    rows = output_rows(mask)
    assert len(rows) == MAX_OUTPUT_ROWS and rows[0] == 0 and rows[-1] == 899
    assert np.all(np.diff(rows) > 0) and np.ptp(np.diff(rows)) <= 1  # evenly spaced, to rounding
    np.testing.assert_array_equal(output_rows(np.ones(12)), np.arange(12))


def test_compare_cells_trains_each_kind_on_the_same_task():
    work = Work()
    maps = compare_cells(work, SMALL, ("rnn_tanh", "gru"), steps=4, sample=1)
    assert [m.cell for m in maps] == ["rnn_tanh", "gru"]
    assert all(m.step == 4 and not m.live for m in maps)
    steps = Session(SMALL).view_batch.seq_len
    assert all(m.norms.shape == (steps, steps) for m in maps)
    # the GRU's map is the connectivity of a GRU trained here: rebuilt by hand, it gives the same numbers
    gru = Session(dataclasses.replace(SMALL, cell="gru"))
    gru.train(4)
    batch = gru.view_batch
    np.testing.assert_array_equal(maps[1].norms,
                                  output_input_jacobian_norms(gru.model, batch.inputs[:, 1], batch.mask[:, 1]))
    done = [value[1] for value in work.reported]
    assert done == sorted(done) and done[-1] == 2.0  # progress only goes forward, and ends at both cells done
    assert [len(value[0]) for value in work.reported][-1] == 2


def test_a_diverged_network_gives_nan_connectivity_not_an_error():
    session = Session(SMALL)
    for array in session.model.parameters().values():
        array[...] = np.nan
    view = connectivity_view(session)
    assert np.all(np.isnan(view.maps[0].norms)) and np.isnan(view.maps[0].last_reach)
