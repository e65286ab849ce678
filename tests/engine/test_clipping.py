import math

import numpy as np
import pytest

from rnnviz.engine.clipping import ClippingError, clip_grad_norm, clip_grad_value, global_norm
from tests.tolerances import assert_same_maths


def _grads(dtype=np.float64):
    return {"a": np.array([3.0, 0.0], dtype=dtype), "b": np.array([[0.0, -4.0]], dtype=dtype)}  # norm 5


def test_global_norm():
    # small integers: every sum is exact and IEEE 754 sqrt is correctly rounded, so sqrt(25) is 5 exactly
    assert global_norm(_grads()) == 5.0
    assert global_norm([np.ones((2, 2)), np.ones(5)]) == 3.0


def test_clip_by_norm_scales_in_place():
    grads = _grads(np.float32)
    result = clip_grad_norm(grads, 1.0)
    assert result.clipped and result.norm_before == 5.0  # exact, as in test_global_norm
    # scaled by max_norm / (norm + 1e-6) (PyTorch's rule), in float32: a division and a product per
    # entry, then the norm of two squares: 2 N u32 with N = 8 (tests/tolerances.py)
    coefficient = 1.0 / (5.0 + 1e-6)
    assert_same_maths(global_norm(grads), 5.0 * coefficient, roundings=8, dtype=np.float32)
    assert_same_maths(grads["a"], [3.0 * coefficient, 0.0], roundings=8, dtype=np.float32)
    assert grads["a"].dtype == np.float32


def test_clip_by_norm_leaves_small_gradients_alone():
    grads = _grads()
    result = clip_grad_norm(grads, 10.0)
    assert not result.clipped and result.norm_before == 5.0  # exact, as in test_global_norm
    np.testing.assert_array_equal(grads["b"], [[0.0, -4.0]])


def test_clip_by_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = {k: rng.standard_normal(s) for k, s in {"w": (4, 3), "b": (4,)}.items()}
    tensors = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    norm = torch.nn.utils.clip_grad_norm_(tensors, 0.5)
    result = clip_grad_norm(grads, 0.5)
    # float64 both: a norm of 16 squares and one scaling per entry, N <= 2^5 roundings: 2 N u
    assert_same_maths(result.norm_before, norm.item(), roundings=2**5)
    for t, g in zip(tensors, grads.values()):
        assert_same_maths(g, t.grad.numpy(), roundings=2**5)


def test_clip_by_value():
    grads = _grads()
    result = clip_grad_value(grads, 3.5)
    assert result.clipped and result.norm_before == 5.0  # exact, as in test_global_norm
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])
    np.testing.assert_array_equal(grads["b"], [[0.0, -3.5]])
    assert not clip_grad_value(grads, 10.0).clipped


def test_non_finite_norm_is_reported_not_applied():
    grads = {"a": np.array([np.inf, 1.0])}
    result = clip_grad_norm(grads, 1.0)
    assert math.isinf(result.norm_before) and not result.clipped
    assert grads["a"][1] == 1.0


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), None])
def test_bad_threshold(bad):
    with pytest.raises(ClippingError, match="positive finite|number"):
        clip_grad_norm(_grads(), bad)
    with pytest.raises(ClippingError):
        clip_grad_value(_grads(), bad)
