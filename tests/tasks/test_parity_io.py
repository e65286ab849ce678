"""Parity as many-to-one (the answer after the last bit) or many-to-many (the running parity)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.step_through import full_pass_views
from rnnviz.tasks import TaskError, make_task


def test_many_to_many_targets_are_the_running_parity_and_end_in_the_many_to_one_answer():
    at_end = make_task("parity", lengths="variable", seq_len=15)
    running = make_task("parity", lengths="variable", seq_len=15, io="many_to_many")
    assert (at_end.io, running.io) == ("many_to_one", "many_to_many")
    one = at_end.batch(32, np.random.default_rng(4))
    many = running.batch(32, np.random.default_rng(4))
    np.testing.assert_array_equal(one.inputs, many.inputs)  # the same bits for the same seed
    bits = many.inputs[:, :, 1]  # (T, B) 1 where the bit is a one
    for b in range(32):
        length = int(many.mask[:, b].sum())
        xor_so_far = [int(bits[: t + 1, b].sum()) % 2 for t in range(length)]  # counted, not cumsum'd
        assert list(many.targets[:length, b]) == xor_so_far
        assert many.targets[length - 1, b] == one.targets[b]


def test_io_must_be_one_of_the_two():
    with pytest.raises(TaskError, match="many_to_one, many_to_many"):
        make_task("parity", io="one_to_many")


@pytest.mark.parametrize(("io", "outputs"), [("many_to_one", "last"), ("many_to_many", "every")])
def test_the_session_and_its_diagram_follow_the_io_parameter(io, outputs):
    session = Session(SessionConfig(task="parity", task_params={"io": io, "lengths": "variable"}, hidden_size=4,
                                    dtype="float64"))
    assert session.model.config.io == io
    session.train(3)  # trains with targets of the shape the io gives
    s = int(np.argmin(session.view_batch.mask.sum(axis=0)))
    real = session.view_batch.mask[:, s] == 1
    diagram = full_pass_views(StepThrough(session, Selection(sample=s))).diagram
    expected = real if outputs == "every" else np.arange(len(real)) == np.flatnonzero(real)[-1]
    np.testing.assert_array_equal(diagram.has_output, expected)
