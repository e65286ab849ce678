import io

import numpy as np
import pytest

from rnnviz.engine.optim import OPTIMIZERS, OptimizerError, make_optimizer
from tests.tolerances import assert_same_maths

CASES = [
    ("sgd", 0.1, {}),
    ("sgd", 0.1, {"momentum": 0.9}),
    ("sgd", 0.1, {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd", 0.1, {"momentum": 0.9, "nesterov": True}),
    ("sgd_momentum", 0.05, {}),
    ("adam", 0.01, {}),
    ("adam", 0.01, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ("rmsprop", 0.01, {}),
    ("rmsprop", 0.01, {"momentum": 0.5, "centered": True, "alpha": 0.9, "weight_decay": 0.01}),
]


def _torch_optimizer(torch, name, tensors, lr, kw):
    kw = dict(kw)
    if "beta1" in kw or "beta2" in kw:
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    if name == "sgd_momentum":
        return torch.optim.SGD(tensors, lr=lr, momentum=0.9)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[name]
    return cls(tensors, lr=lr, **kw)


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 4)).astype(dtype), "b": rng.standard_normal(3).astype(dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()} for _ in range(6)]
    return params, grads


@pytest.mark.parametrize("name, lr, kw", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_optim(name, lr, kw, dtype):
    torch = pytest.importorskip("torch")
    params, grads = _problem(dtype)
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    ours = make_optimizer(name, params, lr, **kw)
    theirs = _torch_optimizer(torch, name, list(tensors.values()), lr, kw)
    for step, grad in enumerate(grads):
        if step == 3:  # the UI changes the learning rate between steps
            ours.lr = lr / 2
            for group in theirs.param_groups:
                group["lr"] = lr / 2
        ours.step(grad)
        for key, tensor in tensors.items():
            tensor.grad = torch.tensor(grad[key])
        theirs.step()
        for key, tensor in tensors.items():
            # The same update rules in the same dtype: <= 30 roundings per step and entry (moments, sqrt,
            # bias corrections, nesterov or centred terms), 6 steps; the gradients are given, and the
            # moment recursions contract (beta < 1), so errors add up linearly: N <= 180 < 2^8, 2 N u.
            assert_same_maths(params[key], tensor.detach().numpy(), roundings=2**8, dtype=dtype)
    assert params["w"].dtype == dtype


def test_plain_sgd_by_hand():
    params = {"w": np.array([1.0, -2.0])}
    opt = make_optimizer("sgd", params, 0.5)
    opt.step({"w": np.array([0.2, 0.4])})
    assert_same_maths(params["w"], [0.9, -2.2], roundings=4)  # w - lr g: a product and a difference each


def test_defaults_are_pytorchs():
    params = {"w": np.zeros(2)}
    assert make_optimizer("adam", params).lr == 1e-3
    assert make_optimizer("rmsprop", params).lr == 1e-2
    assert make_optimizer("sgd_momentum", params).hyper["momentum"] == 0.9
    adam = make_optimizer("adam", params)
    assert (adam.hyper["beta1"], adam.hyper["beta2"], adam.hyper["eps"]) == (0.9, 0.999, 1e-8)
    assert make_optimizer("rmsprop", params).hyper["alpha"] == 0.99


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_through_npz(name):
    params, grads = _problem(np.float64, seed=1)
    opt = make_optimizer(name, params, 0.01, **({"momentum": 0.5} if name == "rmsprop" else {}))
    for grad in grads[:3]:
        opt.step(grad)
    buffer = io.BytesIO()
    np.savez(buffer, **opt.state_dict())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as saved:
        state = {k: saved[k] for k in saved.files}
    params_copy = {k: v.copy() for k, v in params.items()}
    restored = make_optimizer(name, params_copy, 1.0)
    restored.load_state_dict(state)
    assert restored.lr == 0.01 and restored.step_count == 3
    for grad in grads[3:]:
        opt.step(grad)
        restored.step(grad)
    for key in params:
        np.testing.assert_array_equal(params[key], params_copy[key])


def test_state_dict_is_a_copy():
    params, grads = _problem(np.float64)
    opt = make_optimizer("adam", params, 0.01)
    opt.step(grads[0])
    state = opt.state_dict()
    before = state["exp_avg/w"].copy()
    opt.step(grads[1])
    np.testing.assert_array_equal(state["exp_avg/w"], before)


@pytest.mark.parametrize("lr", [0, -1e-3, float("nan"), float("inf"), "fast"])
def test_bad_learning_rate(lr):
    with pytest.raises(OptimizerError, match="learning rate"):
        make_optimizer("adam", {"w": np.zeros(2)}, lr)
    opt = make_optimizer("adam", {"w": np.zeros(2)}, 1e-3)
    with pytest.raises(OptimizerError, match="learning rate"):
        opt.lr = lr
    assert opt.lr == 1e-3


def test_bad_names_and_options():
    with pytest.raises(OptimizerError, match="unknown optimizer 'adamw'.*adam"):
        make_optimizer("adamw", {"w": np.zeros(2)}, 1e-3)
    with pytest.raises(OptimizerError, match="no option betas"):
        make_optimizer("adam", {"w": np.zeros(2)}, 1e-3, betas=(0.9, 0.99))
    with pytest.raises(OptimizerError, match="beta1"):
        make_optimizer("adam", {"w": np.zeros(2)}, 1e-3, beta1=1.0)
    with pytest.raises(OptimizerError, match="nesterov"):
        make_optimizer("sgd", {"w": np.zeros(2)}, 1e-3, nesterov=True)
    opt = make_optimizer("sgd", {"w": np.zeros(2)}, 1e-3)
    with pytest.raises(OptimizerError, match="no gradient for w"):
        opt.step({})
    with pytest.raises(OptimizerError, match="for 'sgd', not 'adam'|is for"):
        make_optimizer("adam", {"w": np.zeros(2)}).load_state_dict(opt.state_dict())
    assert issubclass(OptimizerError, ValueError)
