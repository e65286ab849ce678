import math

import numpy as np
import pytest

from rnnviz.engine.gradcheck import compare_gradients
from tests.tolerances import assert_same_maths
from rnnviz.engine.losses import (
    LOSSES,
    LossError,
    bce_with_logits_loss,
    cross_entropy_loss,
    get_loss,
    mse_loss,
    predict,
)

T, B, O = 5, 3, 4


def _mask():
    mask = np.ones((T, B))
    mask[3:, 1] = 0  # sample 1 has 3 real steps
    mask[4:, 2] = 0  # sample 2 has 4 real steps
    return mask


def _data(loss_name, rng):
    logits = rng.standard_normal((T, B, O))
    if loss_name == "cross_entropy":
        targets = rng.integers(0, O, (T, B))
    elif loss_name == "bce":
        targets = rng.uniform(0, 1, (T, B, O))
    else:
        targets = rng.standard_normal((T, B, O))
    return logits, targets


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("masked", [False, True])
def test_gradient_matches_finite_differences(name, masked):
    rng = np.random.default_rng(3)
    logits, targets = _data(name, rng)
    mask = _mask() if masked else None
    loss = get_loss(name)
    _, d_logits = loss(logits, targets, mask)
    result = compare_gradients({"logits": logits}, lambda: loss(logits, targets, mask)[0], {"logits": d_logits})
    # every entry within atol + rtol |numeric|: atol from eps and float64, see engine/gradcheck.py
    assert result.passed, str(result)


def _naive_values(name, logits, targets):
    """Per-position losses written out the long way (no shared code with the module)."""
    out = np.zeros(logits.shape[:-1] + ((1,) if name == "cross_entropy" else (logits.shape[-1],)))
    for index in np.ndindex(logits.shape[:-1]):
        y = logits[index]
        if name == "mse":
            out[index] = (y - targets[index]) ** 2
        elif name == "bce":
            s = 1 / (1 + np.exp(-y))
            t = targets[index]
            out[index] = -(t * np.log(s) + (1 - t) * np.log(1 - s))
        else:
            out[index] = -math.log(math.exp(y[targets[index]]) / sum(math.exp(v) for v in y))
    return out


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_masked_mean_matches_naive_formula(name):
    rng = np.random.default_rng(4)
    logits, targets = _data(name, rng)
    mask = _mask()
    values = _naive_values(name, logits, targets)
    expected = (values * mask[..., None]).sum() / (mask.sum() * values.shape[-1])
    # a mean of T B O = 60 terms of ~10 roundings each (exp and log 4 each); the naive log(1 - s) loses
    # up to 1 / (1 - s) ≈ e^|y| <= ~50 of its relative accuracy for these N(0, 1) logits:
    # N <= 60 + 10 * 50 < 2^10, 2 N u (tests/tolerances.py)
    assert_same_maths(get_loss(name)(logits, targets, mask)[0], expected, roundings=2**10)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_padding_does_not_matter(name):
    rng = np.random.default_rng(5)
    logits, targets = _data(name, rng)
    mask = _mask()
    loss, d_logits = get_loss(name)(logits, targets, mask)
    assert np.all(d_logits[mask == 0] == 0)
    changed_logits = logits.copy()
    changed_logits[mask == 0] = 1e3
    changed_targets = targets.copy()
    changed_targets[mask == 0] = -1 if name == "cross_entropy" else 7.0
    # padded entries are multiplied by 0: the same numbers through the same operations, 2 N u at most
    assert_same_maths(get_loss(name)(changed_logits, changed_targets, mask)[0], loss, roundings=2**7)


def test_many_to_one_shapes():
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((B, O))
    loss, d = cross_entropy_loss(logits, np.array([0, 3, 1]))
    assert d.shape == (B, O) and loss > 0
    loss, d = mse_loss(logits, np.zeros((B, O)))
    assert_same_maths(loss, np.mean(logits**2), roundings=2 * B * O + 4)  # two means of B O squares


def test_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0], [-1000.0, 0.0]], dtype=np.float32)
    loss, d = cross_entropy_loss(logits, np.array([1, 0]))
    # exactly 1000 + log(1 + e^-1000) in real numbers; float32 rounding of ~16 operations: 2 N u32
    assert_same_maths(loss, 1000.0, roundings=16, dtype=np.float32)
    assert np.all(np.isfinite(d))
    assert d.dtype == np.float32
    loss, d = bce_with_logits_loss(logits, np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32))
    # elements: 1000 (t=0), log 2 (y=0,t=1), 1000 (y=-1000, t=1), log 2
    assert_same_maths(loss, (2000 + 2 * math.log(2)) / 4, roundings=16, dtype=np.float32)
    assert np.all(np.isfinite(d))


def test_predictions_for_display():
    logits = np.array([[0.0, 0.0, 800.0], [1.0, 2.0, 3.0]])
    probs = predict("cross_entropy", logits)
    # softmax of 3 logits: 3 exps (4 roundings each), a sum, a division, here or in the reference: N <= 16
    assert_same_maths(probs.sum(axis=-1), [1.0, 1.0], roundings=16)
    assert_same_maths(probs[0, 2], 1.0, roundings=16)
    e = np.exp([1.0, 2.0, 3.0])
    assert_same_maths(probs[1], e / e.sum(), roundings=16)
    sig = predict("bce", np.array([-800.0, 0.0, 800.0, 2.0]))
    assert_same_maths(sig, [0.0, 0.5, 1.0, 1 / (1 + math.exp(-2.0))], roundings=16)
    values = predict("mse", logits)
    np.testing.assert_array_equal(values, logits)
    assert values is not logits


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((T, B, O)).astype(np.float32)
    for name in LOSSES:
        _, targets = _data(name, rng)
        _, d = get_loss(name)(logits, targets, _mask())
        assert d.dtype == np.float32, name


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((B, O))
    y = torch.tensor(logits, requires_grad=True)
    ids = np.array([2, 0, 3])
    F.cross_entropy(y, torch.tensor(ids)).backward()
    loss, d = cross_entropy_loss(logits, ids)
    # float64 both: log-softmax over O = 4 logits (4 exps, a log: ~24 roundings) averaged over B = 3, with
    # intermediates up to ~3x the values compared: N = 2^7 covers it, 2 N u (tests/tolerances.py)
    assert_same_maths(loss, F.cross_entropy(y, torch.tensor(ids)).item(), roundings=2**7)
    assert_same_maths(d, y.grad.numpy(), roundings=2**7)
    targets = rng.uniform(0, 1, (B, O))
    y.grad = None
    F.binary_cross_entropy_with_logits(y, torch.tensor(targets)).backward()
    loss, d = bce_with_logits_loss(logits, targets)
    assert_same_maths(loss, F.binary_cross_entropy_with_logits(y, torch.tensor(targets)).item(), roundings=2**7)
    assert_same_maths(d, y.grad.numpy(), roundings=2**7)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: get_loss("hinge"), "unknown loss 'hinge'"),
        (lambda: mse_loss(np.zeros((T, B, O)), np.zeros((T, B, O)), np.ones((B, T))), "mask"),
        (lambda: mse_loss(np.zeros((T, B, O)), np.zeros((T, B, O)), np.zeros((T, B))), "no real"),
        (lambda: mse_loss(np.zeros((T, B, O)), np.zeros((T, B))), "targets shaped like"),
        (lambda: cross_entropy_loss(np.zeros((B, O)), np.array([0, 1, O])), "between 0 and"),
        (lambda: cross_entropy_loss(np.zeros((B, O)), np.zeros((B, O))), "class id"),
    ],
)
def test_person_errors_are_value_errors(call, message):
    with pytest.raises(LossError, match=message):
        call()
    assert issubclass(LossError, ValueError)
