import numpy as np

from rnnviz.engine.scratch import Scratch


def test_buffers_are_reused_per_name_and_shape_and_bounded():
    scratch = Scratch()
    a = scratch.get("x", (4, 3), np.float64)
    b = scratch.get("x", (2, 3), np.float64)
    assert scratch.get("x", (4, 3), np.float64) is a  # two shapes alternate without reallocating
    assert scratch.get("x", (2, 3), np.float64) is b
    assert scratch.get("x", (2, 3), np.float32) is not b  # a third kind evicts the least recent (a)
    assert scratch.get("x", (4, 3), np.float64) is not a
    assert sum(len(kept) for kept in scratch.buffers.values()) == 2


def test_huge_buffers_are_not_kept():
    scratch = Scratch()
    scratch.keep_bytes = 1000
    big = scratch.get("y", (1000,), np.float64)
    assert scratch.get("y", (1000,), np.float64) is not big
