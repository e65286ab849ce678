"""Each task shows what it is meant to show; checked independently of the generators."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.tasks import make_task
from tests.tolerances import assert_same_maths


def tokens(task, batch, sample: int) -> list[str]:
    """The real (unpadded) tokens of one sample, read back from the one-hot inputs."""
    length = int(batch.mask[:, sample].sum())
    return task.timestep_labels(batch.inputs[:length, sample])


# --- sine -------------------------------------------------------------------------------------

def test_sine_target_is_the_next_input():
    batch = make_task("sine", seq_len=30, components=3, noise=0.1).batch(8, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.targets[:-1], batch.inputs[1:])


def test_sine_without_noise_is_a_smooth_bounded_wave():
    batch = make_task("sine", seq_len=200, components=2, noise=0.0).batch(16, np.random.default_rng(1))
    # |sum a_k sin(.)| <= sum a_k = 1 exactly; rounding (sin within 1 ulp, products, sums of values <= 1)
    # adds a few u = 1.1e-16: 1e-12 is ~10^4 u, on any CPU and libm
    assert np.abs(batch.inputs).max() <= 1.0 + 1e-12
    # the shortest period is 6 steps, so one step changes the signal by at most 2*pi/6 (times sum a_k = 1)
    # by the mean value theorem; rounding as above (1e-9 >> a few u)
    assert np.abs(np.diff(batch.inputs, axis=0)).max() <= 2 * np.pi / 6 + 1e-9
    noisy = make_task("sine", seq_len=200, components=2, noise=0.5).batch(16, np.random.default_rng(1))
    # seeded; noise of sd 0.5 gives a step difference beyond 1.05 in ~13% of the 3184 pairs
    assert np.abs(np.diff(noisy.inputs, axis=0)).max() > 2 * np.pi / 6


# --- adding -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seq_len", [2, 3, 50, 501])
def test_adding_target_is_sum_of_the_two_marked_values(seq_len):
    batch = make_task("adding", seq_len=seq_len).batch(64, np.random.default_rng(seq_len))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]  # (T, B)
    assert np.all((values >= 0) & (values < 1))
    assert np.all(markers.sum(axis=0) == 2)
    half = seq_len // 2
    assert np.all(markers[:half].sum(axis=0) == 1) and np.all(markers[half:].sum(axis=0) == 1)
    # only two of the products are non-zero: one rounded addition each side, 2 N u with N = 2
    assert_same_maths(batch.targets[:, 0], (values * markers).sum(axis=0), roundings=2, dtype=batch.inputs.dtype)


def test_adding_mean_prediction_mse_matches_baseline():
    task = make_task("adding", seq_len=20)
    targets = task.batch(4096, np.random.default_rng(7)).targets[:, 0]
    mse_of_predicting_one = np.mean((targets - 1.0) ** 2)
    # (y - 1)² for y = U1 + U2 has mean 1/6 and variance 1/15 - 1/36: the mean of 4096 is within 0.0031
    # (one sd) of 1/6; 0.015 is ~5 sd, and the batch is seeded (the same numbers on every CPU)
    assert abs(mse_of_predicting_one - 1 / 6) < 0.015
    assert_same_maths(task.info().extra["baseline_mse"], 1 / 6, roundings=2)


def test_adding_marks_are_spread_over_each_half():
    batch = make_task("adding", seq_len=40).batch(2000, np.random.default_rng(8))
    positions = np.argwhere(batch.inputs[..., 1] == 1)[:, 0]
    assert set(positions) == set(range(40))


# --- copy -------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_symbols, alphabet, delay", [(5, 8, 10), (1, 2, 0), (12, 26, 40)])
def test_copy_reproduces_the_stored_symbols_after_the_delay(n_symbols, alphabet, delay):
    task = make_task("copy", n_symbols=n_symbols, alphabet=alphabet, delay=delay)
    batch = task.batch(16, np.random.default_rng(0))
    info = task.info()
    assert batch.seq_len == 2 * n_symbols + delay + 1
    blank_out = info.output_names.index("_")
    for b in range(16):
        seen = tokens(task, batch, b)
        stored = seen[:n_symbols]
        assert all(s in info.output_names[:alphabet] for s in stored)
        assert seen[n_symbols:n_symbols + delay] == ["_"] * delay
        assert seen[n_symbols + delay] == "go"
        assert seen[n_symbols + delay + 1:] == ["_"] * n_symbols
        written = [info.output_names[i] for i in batch.targets[:, b]]
        assert written[n_symbols + delay + 1:] == stored
        assert all(i == blank_out for i in batch.targets[: n_symbols + delay + 1, b])
    assert np.all(batch.mask == 1.0)


# --- parity -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lengths", ["fixed", "variable"])
def test_parity_label_is_xor_of_the_real_bits(lengths):
    task = make_task("parity", seq_len=25, lengths=lengths)
    batch = task.batch(200, np.random.default_rng(5))
    for b in range(200):
        bits = [int(t) for t in tokens(task, batch, b)]
        xor = 0
        for bit in bits:
            xor ^= bit
        assert batch.targets[b] == xor
        assert task.info().output_names[batch.targets[b]] == ("odd" if sum(bits) % 2 else "even")
    assert 0.35 < batch.targets.mean() < 0.65  # fair parity of 200 seeded samples: sd 0.035, bounds at 4 sd


# --- dyck -------------------------------------------------------------------------------------

def stack_check(brackets: list[str]) -> bool:
    pairs = {")": "(", "]": "[", "}": "{", ">": "<"}
    stack = []
    for bracket in brackets:
        if bracket in pairs:
            if not stack or stack.pop() != pairs[bracket]:
                return False
        else:
            stack.append(bracket)
    return not stack


@pytest.mark.parametrize("bracket_types", [1, 2, 4])
def test_dyck_labels_agree_with_a_stack(bracket_types):
    task = make_task("dyck", seq_len=24, bracket_types=bracket_types)
    batch = task.batch(300, np.random.default_rng(bracket_types))
    for b in range(300):
        assert batch.targets[b] == int(stack_check(tokens(task, batch, b)))
    assert 0.4 < batch.targets.mean() < 0.6  # balanced labels, 300 seeded samples: sd 0.029, bounds at 3.4 sd


@pytest.mark.parametrize("bracket_types", [1, 3])
def test_dyck_negatives_are_near_misses(bracket_types):
    """Negatives have even length and the length distribution of positives: only the order differs."""
    task = make_task("dyck", seq_len=30, bracket_types=bracket_types)
    batch = task.batch(600, np.random.default_rng(9))
    lengths = batch.mask.sum(axis=0)
    assert np.all(lengths % 2 == 0)
    negative, positive = batch.targets == 0, batch.targets == 1
    # same length distribution by construction; seeded integer lengths: measured 0.83 and 0.87 apart
    assert abs(lengths[negative].mean() - lengths[positive].mean()) < 2.0
    # many negatives have as many opening as closing brackets (a count at the end is not enough)
    opening = batch.inputs[..., 0::2].sum(axis=(0, 2))
    closing = batch.inputs[..., 1::2].sum(axis=(0, 2))
    assert np.mean(opening[negative] == closing[negative]) > 0.3  # integer counts, seeded: 0.41 and 0.67


def test_dyck_depth_is_the_running_nesting_count():
    task = make_task("dyck", target="depth", seq_len=40, max_depth=4, bracket_types=2)
    batch = task.batch(100, np.random.default_rng(2))
    assert task.io == "many_to_many" and task.output_size == 5
    for b in range(100):
        seen = tokens(task, batch, b)
        assert stack_check(seen)
        depth, expected = 0, []
        for bracket in seen:
            depth += 1 if bracket in "([{<" else -1
            expected.append(depth)
        assert list(batch.targets[: len(seen), b]) == expected
        assert max(expected) <= 4
    assert batch.targets.max() == 4


def test_dyck_odd_seq_len_rounds_down_to_even():
    task = make_task("dyck", seq_len=21, lengths="fixed")
    assert task.batch(3, np.random.default_rng(0)).seq_len == 20


# --- sentiment --------------------------------------------------------------------------------

POSITIVE_WORDS = {"good", "great", "fun", "nice"}
NEGATIVE_WORDS = {"bad", "boring", "awful", "dull"}


def reference_label(words: list[str]) -> int:
    """The grammar's rule, written again here: the last clause decides; 'not' flips it."""
    clause = " ".join(words).split(" but ")[-1].split()
    adjective = [w for w in clause if w in POSITIVE_WORDS | NEGATIVE_WORDS][-1]
    return int(adjective in POSITIVE_WORDS) ^ int("not" in clause)


def test_sentiment_labels_follow_negation_and_but():
    task = make_task("sentiment", max_intensifiers=2)
    batch = task.batch(400, np.random.default_rng(0))
    kinds = set()
    for b in range(400):
        words = tokens(task, batch, b)
        assert batch.targets[b] == reference_label(words), words
        kinds.add(("but" in words, "not" in words))
    assert kinds == {(False, False), (False, True), (True, False), (True, True)}
    assert 0.4 < batch.targets.mean() < 0.6  # balanced labels, 400 seeded samples: sd 0.025, bounds at 4 sd


def test_sentiment_negation_flips_the_label():
    task = make_task("sentiment")
    positive, negative = task.info().output_names.index("positive"), task.info().output_names.index("negative")
    batch = task.encode_sentences(["the food is good", "the food is not good", "the movie was bad",
                                   "the movie was not bad", "the show is good but not great",
                                   "the show is not great but good"])
    assert list(batch.targets) == [positive, negative, negative, positive, negative, positive]


def test_sentiment_but_sentences_repeat_bags_with_both_labels():
    """The same multiset of words occurs with both labels: the order alone decides."""
    task = make_task("sentiment", contrast=1.0, negation=0.5, max_intensifiers=0)
    batch = task.batch(3000, np.random.default_rng(1))
    labels_per_bag: dict[tuple, set] = {}
    for b in range(3000):
        bag = tuple(sorted(tokens(task, batch, b)))
        labels_per_bag.setdefault(bag, set()).add(int(batch.targets[b]))
    repeated = [labels for labels in labels_per_bag.values() if len(labels) == 2]
    assert len(repeated) > 0.2 * len(labels_per_bag)  # integer counts of seeded samples


def test_sentiment_unknown_word_is_refused_with_the_vocabulary():
    with pytest.raises(ValueError, match="unknown word.*tasty.*use only"):
        make_task("sentiment").encode_sentences(["the food is tasty"])


# --- series -----------------------------------------------------------------------------------

def test_series_windows_are_consecutive_normalised_rows(tmp_path):
    rng = np.random.default_rng(0)
    table = np.column_stack([np.arange(200.0), rng.normal(5, 3, 200), np.sin(np.arange(200) / 7)])
    path = tmp_path / "table.csv"
    path.write_text("step,noise,wave\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in table))
    task = make_task("series", path=str(path), inputs="wave, step", target="noise", seq_len=12)
    normalized = (table - table.mean(axis=0)) / table.std(axis=0)
    batch = task.batch(20, np.random.default_rng(1))
    assert task.info().input_names == ("wave", "step")
    # (x - mean) / std of 200 rows, here and in the task: the mean and std are pairwise sums (<= 2^7
    # roundings each worst case), then a difference and a division, of values up to twice the normalised
    # ones (|x| <= 199, std 58): N = 2^9 covers it, 2 N u (tests/tolerances.py)
    for b in range(20):
        start = int(round(batch.inputs[0, b, 1] * table[:, 0].std() + table[:, 0].mean()))
        assert_same_maths(batch.inputs[:, b, 0], normalized[start:start + 12, 2], roundings=2**9)
        assert_same_maths(batch.inputs[:, b, 1], normalized[start:start + 12, 0], roundings=2**9)
        assert_same_maths(batch.targets[:, b, 0], normalized[start + 1:start + 13, 1], roundings=2**9)
    stats = task.info().extra
    assert_same_maths(stats["mean"]["noise"], table[:, 1].mean(), roundings=2**9)
    assert_same_maths(stats["std"]["noise"], table[:, 1].std(), roundings=2**9)


def test_series_bundled_example_by_default():
    task = make_task("series")
    info = task.info()
    assert info.input_names == ("humidity_pct", "pressure_hpa", "temperature_c")
    assert info.extra["target_column"] == "temperature_c" and info.extra["rows"] > 1000
    batch = task.batch(4, np.random.default_rng(0))
    # the input's own temperature column, one row later, is the target (normalised alike: 2 N u, N = 4)
    assert_same_maths(batch.targets[:-1, :, 0], batch.inputs[1:, :, 2], roundings=4, dtype=batch.inputs.dtype)


def test_series_column_choice_errors_name_the_columns():
    with pytest.raises(ValueError, match="no numeric column 'rain'.*temperature_c"):
        make_task("series", inputs="rain")
    with pytest.raises(ValueError, match="one column"):
        make_task("series", target="0,1")
    with pytest.raises(ValueError, match="no numeric column '7'"):
        make_task("series", target="7")
