"""The associative scan against the loop and against exact arithmetic; the scan tree's shape."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from rnnviz.engine.scan import linear_recurrence, parallel_scan, scan_tree, sequential_scan

LENGTHS = (1, 2, 3, 16, 37, 1000, 4096)


def exact_states(a, b, initial, reverse=False):
    """h_t = a_t h_(t-1) + b_t in exact rational arithmetic (one unit, one sample)."""
    order = range(len(b) - 1, -1, -1) if reverse else range(len(b))
    h, states = Fraction(initial), [None] * len(b)
    for t in order:
        h = Fraction(a[t]) * h + Fraction(b[t])
        states[t] = h
    return states


@pytest.mark.parametrize("reverse", [False, True])
def test_both_give_the_exact_states_where_the_arithmetic_is_exact(reverse):
    """Small integers and halves: every product and sum is exactly representable, so both must equal the
    rational result exactly, whatever order they combine in."""
    rng = np.random.default_rng(0)
    a = rng.integers(-1, 2, size=21) * 0.5  # -0.5, 0, 0.5
    b = rng.integers(-3, 4, size=21).astype(float)
    expected = np.array([float(s) for s in exact_states(a, b, 2.0, reverse)])
    for scan in (sequential_scan, parallel_scan):
        np.testing.assert_array_equal(scan(a, b, np.array(2.0), reverse=reverse), expected)


@pytest.mark.parametrize("steps", LENGTHS)
@pytest.mark.parametrize("reverse", [False, True])
def test_the_scan_equals_the_loop_to_1e_12(steps, reverse):
    """|a| <= 0.95, |b| <= 1: by the bound in scan.py the two differ by at most
    u (2 β / (1 - ρ)² + (4 ceil(log2 T) + 1) β / (1 - ρ)) <= 1.1e-16 (800 + 49 · 20) ≈ 2e-13 here."""
    rng = np.random.default_rng(steps)
    a = rng.uniform(0, 0.95, size=(steps, 3, 5))
    b = rng.uniform(-1, 1, size=(steps, 3, 5))
    initial = rng.uniform(-1, 1, size=(3, 5))
    loop = sequential_scan(a, b, initial, reverse)
    scan = parallel_scan(a, b, initial, reverse)
    assert np.max(np.abs(scan - loop)) <= 1e-12


def test_complex_and_shared_multipliers():
    """The LRU's case: one complex λ per unit shared by every step (|λ| <= 0.95)."""
    rng = np.random.default_rng(1)
    lam = 0.95 * rng.uniform(0, 1, size=(1, 1, 4)) * np.exp(1j * rng.uniform(0, np.pi, size=(1, 1, 4)))
    b = rng.uniform(-1, 1, size=(500, 2, 4)) + 1j * rng.uniform(-1, 1, size=(500, 2, 4))
    initial = np.zeros((2, 4), dtype=complex)
    loop, scan = sequential_scan(lam, b, initial), parallel_scan(lam, b, initial)
    # a complex product is 4 real products and 2 sums: the bound of scan.py times a small constant
    # (|b| <= sqrt 2): 1e-12 still holds with a margin of about 2 here
    assert np.max(np.abs(scan - loop)) <= 1e-12
    assert linear_recurrence(lam, b, initial, parallel=True) is not None


def test_the_loop_s_answer_is_the_closed_form():
    """h_t = (Π a) h_0 + Σ_s (Π_(r>s) a_r) b_s, computed term by term."""
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 0.9, size=12), rng.uniform(-1, 1, size=12)
    states = sequential_scan(a, b, np.array(0.7))
    closed = [np.prod(a[: t + 1]) * 0.7 + sum(np.prod(a[s + 1: t + 1]) * b[s] for s in range(t + 1))
              for t in range(12)]
    # 12 steps of products and sums of numbers below 1: a few dozen roundings, 1e-15 absolute
    np.testing.assert_allclose(states, closed, rtol=0, atol=1e-15)


@pytest.mark.parametrize("steps", (1, 2, 5, 8, 13, 64))
def test_the_scan_tree_has_2_log2_levels_linear_work_and_covers_every_prefix(steps):
    tree = scan_tree(steps)
    levels = math.ceil(math.log2(steps))
    assert tree.depth == max(2 * levels - 1, 0)
    assert tree.phases == ("up",) * levels + ("down",) * max(levels - 1, 0)
    for pairs in tree.levels:
        targets = [t for _, t in pairs]
        assert len(set(targets)) == len(targets) and not set(targets) & {s for s, _ in pairs}
        offsets = {t - s for s, t in pairs}
        assert len(offsets) <= 1 and all(o & (o - 1) == 0 for o in offsets)  # one power of two per level
    for k, pairs in enumerate(tree.levels[:levels]):  # the up-sweep builds blocks of 2^(k+1) steps
        assert all(tree.span(k, t) == (t - 2 ** (k + 1) + 1, t) for _, t in pairs)
    assert all(tree.span(tree.depth - 1, t) == (0, t) for t in range(steps))  # each pair holds steps 0 .. t
    assert tree.combines < 2 * steps  # O(T) work, against the loop's T - 1


def test_bad_shapes_say_what_is_wrong():
    with pytest.raises(ValueError, match="T >= 1"):
        parallel_scan(np.ones((0, 2)), np.ones((0, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="timesteps"):
        sequential_scan(np.ones((3, 2)), np.ones((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="whole number"):
        scan_tree(0)
