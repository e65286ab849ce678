"""The parallel scan for a session: its tree, the float64 difference of the session's network run with
the loop and with the scan, the background timing (progress, cancellation), and switching the scan on
and off without losing the weights."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnviz.engine.cells import cell_names, cell_spec, mingru
from rnnviz.session.config import SessionConfig
from rnnviz.session.scan import AGREEMENT, ScanTiming, measure_scan_times, scan_difference
from rnnviz.session.session import Session
from rnnviz.session.views.scan import scan_view, tree_view

SCANNABLE = [name for name in cell_names() if cell_spec(name).scannable]


class Recorder:
    """A Work that keeps every progress value and raises after ``stop_after`` of them (None: never)."""

    class Stop(Exception):
        pass

    def __init__(self, stop_after: int | None = None) -> None:
        self.values: list[ScanTiming] = []
        self.stop_after = stop_after

    def check(self) -> None:
        if self.stop_after is not None and len(self.values) >= self.stop_after:
            raise Recorder.Stop()

    def progress(self, value: ScanTiming) -> None:
        self.values.append(value)


@pytest.mark.parametrize("steps", [1, 2, 5, 8, 13, 16])
def test_the_tree_ends_with_every_prefix_and_never_writes_a_step_twice_in_a_level(steps):
    tree = tree_view(steps)
    held = [(t, t) for t in range(steps)]  # what each position holds, composed here from the pairs
    assert tree.spans[0] == tuple(held)
    for level, pairs in enumerate(tree.pairs, start=1):
        targets = [target for _, target in pairs]
        sources = {source for source, _ in pairs}
        assert len(set(targets)) == len(targets) and not sources & set(targets)  # one level runs at once
        for source, target in pairs:
            assert held[source][1] + 1 == held[target][0]  # adjacent blocks: (a_t, b_t) ∘ (a_s, b_s) is a longer block
            held[target] = (held[source][0], held[target][1])
        assert tree.spans[level] == tuple(held)
    assert held == [(0, t) for t in range(steps)]  # the scan: every position holds its prefix
    if steps > 1:
        assert tree.levels == 2 * int(np.ceil(np.log2(steps))) - 1
    assert tree.combines < 2 * steps


@pytest.mark.parametrize("cell", SCANNABLE)
def test_scan_and_loop_agree_in_float64_on_the_session_s_network(cell):
    session = Session(SessionConfig(task="selective_copy", task_params={"region": 8}, cell=cell, hidden_size=4,
                                    num_layers=2, bidirectional=True, batch_size=4, seed=3))
    session.train(3)
    difference = scan_difference(session)
    # rnnviz/engine/scan.py bounds the two by (4 ceil(log2 T) + 1) u β / (1 − ρ) + 2 u β / (1 − ρ)² < 3e-13
    # for these states (β, ρ < 1); measured ~1e-16
    assert difference.states <= AGREEMENT and difference.gradients <= AGREEMENT
    assert difference.largest_state > 0.01 and difference.largest_gradient > 0  # real numbers were compared
    view = scan_view(session)
    assert view.scannable and view.agrees and view.recurrence == cell_spec(cell).recurrence


class OffByAlittle(mingru.MinGRUCell):
    """minGRU whose scan path is wrong by 1e-9: what the difference must catch."""

    def forward(self, inputs, weights, h0, c0, layout, padded, scan=False):
        trace = super().forward(inputs, weights, h0, c0, layout, padded, scan)
        if scan:
            trace.hidden[...] += 1e-9
        return trace


def test_a_scan_that_differs_from_the_loop_is_reported(register_cell):
    register_cell(dataclasses.replace(mingru.SPEC, name="off_mingru", kernel=OffByAlittle()))
    session = Session(SessionConfig(task="selective_copy", cell="off_mingru", hidden_size=3, batch_size=4))
    difference = scan_difference(session)
    assert difference.states == pytest.approx(1e-9, rel=1e-3)
    assert scan_view(session).agrees is False


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_a_cell_that_cannot_scan_says_why(cell):
    view = scan_view(Session(SessionConfig(task="adding", cell=cell, hidden_size=3)))
    assert not view.scannable and view.difference is None and view.agrees is None
    assert "h_(t-1)" in view.nonlinear and view.nonlinear in cell_spec(cell).equations
    assert "cannot" in view.why_not and "tanh" in view.why_not
    assert set(view.scannable_cells) == {cell_spec(name).title for name in SCANNABLE}


@pytest.mark.parametrize("cell, what", [("selective", "Selective SSM (S6) layer"), ("lstm", "cannot scan")])
def test_timing_reports_every_length_as_it_goes(cell, what):
    work = Recorder()
    lengths = (16, 32, 64)
    timing = measure_scan_times(work, cell, hidden_size=100, input_size=20, lengths=lengths, repeats=2)
    assert [value.lengths for value in work.values] == [(), (16,), (16, 32), (16, 32, 64)]
    assert timing == work.values[-1] and timing.complete and timing.planned == lengths
    assert what in timing.what
    assert ("H = 64" if cell_spec(cell).scannable else "64 values") in timing.what  # the size is capped
    assert all(t > 0 for t in timing.loop_seconds + timing.scan_seconds) and timing.repeats == 2


def test_timing_stops_when_cancelled():
    work = Recorder(stop_after=2)  # the check after the second progress value raises
    with pytest.raises(Recorder.Stop):
        measure_scan_times(work, "mingru", 8, 4, lengths=(16, 32, 64, 128))
    assert [value.lengths for value in work.values] == [(), (16,)]
    assert not work.values[-1].complete and work.values[-1].fraction == 0.25


def test_switching_the_scan_keeps_the_weights_and_the_numbers():
    config = SessionConfig(task="selective_copy", cell="lru", hidden_size=4, batch_size=4, dtype="float64")
    session, alone = Session(config), Session(config)
    session.train(2)
    alone.train(2)
    weights = {k: v.copy() for k, v in session.model.parameters().items()}
    session.update_training(session.config.replace(scan=True))
    assert session.config.scan and session.model.core.scan and session.model.config.scan and session.step == 2
    for name, value in session.model.parameters().items():
        np.testing.assert_array_equal(value, weights[name])
    session.train(3)
    alone.train(3)
    # the same batches in float64, loop against scan: the states differ by ~1e-16 relative (engine/scan.py
    # bounds them far below 1e-12); three Adam steps carry that into the weights at about the same relative
    # size (the update m/√v is a ratio of the gradients' own moments), so the losses agree far within 1e-12
    np.testing.assert_allclose(session.history.train[:, 1], alone.history.train[:, 1], rtol=1e-12, atol=1e-15)
    session.update_training(session.config.replace(scan=False))
    assert not session.model.core.scan
