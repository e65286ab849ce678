import numpy as np
import pytest

from rnnviz.engine.gradcheck import compare_gradients
from tests.tolerances import assert_same_maths
from rnnviz.engine.head import HeadError, LinearHead


def test_shapes_and_default_init_like_nn_linear():
    head = LinearHead(16, 3, seed=0)
    assert head.weight.shape == (3, 16) and head.bias.shape == (3,)
    assert head.weight.dtype == np.float32
    bound = 1 / np.sqrt(16)
    assert np.all(np.abs(head.weight) <= bound) and np.all(np.abs(head.bias) <= bound)
    assert head.weight.std() > bound / 3  # actually spread over the interval, not all zero
    assert not np.array_equal(LinearHead(16, 3, seed=1).weight, head.weight)
    np.testing.assert_array_equal(LinearHead(16, 3, seed=0).weight, head.weight)


@pytest.mark.parametrize("leading", [(4,), (5, 3)])
def test_gradients_match_finite_differences(leading):
    rng = np.random.default_rng(1)
    head = LinearHead(6, 3, dtype=np.float64, seed=2)
    hidden = rng.standard_normal(leading + (6,))
    weights = rng.standard_normal(leading + (3,))  # L = sum(logits * weights)

    def loss():
        return float(np.sum(head.forward(hidden) * weights))

    grads = head.backward(hidden, weights)
    params = {"weight": head.weight, "bias": head.bias, "hidden": hidden}
    analytic = {"weight": grads.weight, "bias": grads.bias, "hidden": grads.d_hidden}
    result = compare_gradients(params, loss, analytic)
    # every entry within atol + rtol |numeric|: atol from eps and float64, see engine/gradcheck.py
    assert result.passed, str(result)


def test_forward_is_affine_map():
    head = LinearHead(2, 2, dtype=np.float64)
    head.load_state_dict({"weight": np.array([[1.0, 2.0], [3.0, 4.0]]), "bias": np.array([0.5, -0.5])})
    # small integers and halves: every product and sum is exact in binary floating point
    np.testing.assert_array_equal(head.forward(np.array([[1.0, 1.0], [0.0, 2.0]])), [[3.5, 6.5], [4.5, 7.5]])


def test_matches_torch_linear():
    torch = pytest.importorskip("torch")
    linear = torch.nn.Linear(5, 2).double()
    head = LinearHead(5, 2, dtype=np.float64)
    head.load_state_dict({k: v.detach().numpy() for k, v in linear.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    # float64 both: a dot product of 5 terms plus a bias, N = 8 roundings: 2 N u (tests/tolerances.py)
    assert_same_maths(head.forward(x), linear(torch.tensor(x)).detach().numpy(), roundings=8)


def test_bad_sizes_and_inputs():
    with pytest.raises(HeadError, match="at least one"):
        LinearHead(0, 2)
    head = LinearHead(4, 2)
    with pytest.raises(HeadError, match="expects 4 features"):
        head.forward(np.zeros((3, 5)))
    with pytest.raises(HeadError, match="shape"):
        head.load_state_dict({"weight": np.zeros((2, 5)), "bias": np.zeros(2)})
