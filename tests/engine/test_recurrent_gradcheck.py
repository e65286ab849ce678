"""Finite-difference gradient checks (float64) of Recurrent.backward, independent of PyTorch."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.engine.conftest import MODE_LIST, assert_core_gradients_match_finite_differences, lengths_mask, make_core

T, B, I, H = 4, 2, 2, 3


@pytest.mark.parametrize("mode,num_layers,bidirectional,masked",
                         list(itertools.product(MODE_LIST, (1, 2), (False, True), (False, True))))
def test_backward_matches_finite_differences(mode, num_layers, bidirectional, masked):
    rng = np.random.default_rng(5)
    core = make_core(mode, I, H, num_layers, bidirectional, seed=9)
    D = 2 if bidirectional else 1
    states = (num_layers * D, B, H)
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal(states)
    c0 = rng.standard_normal(states) if mode == "lstm" else None
    mask = lengths_mask([4, 2], T) if masked else None
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal(states)
    d_c_n = rng.standard_normal(states) if mode == "lstm" else None
    assert_core_gradients_match_finite_differences(core, x, h0, c0, mask, d_output, d_h_n, d_c_n, rng)
