"""The feed-forward baseline network: gradients against finite differences and PyTorch, training with
the recurrent network's optimizer code, and its refusals."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.feedforward import FeedForward, FeedForwardConfig, FeedForwardError, FeedForwardTrainer
from rnnviz.engine.gradcheck import compare_gradients
from rnnviz.engine.optim import Adam
from rnnviz.engine.training import TrainConfig
from tests.tolerances import assert_same_maths


def _data(loss: str, samples: int = 7, features: int = 5, outputs: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, features))
    if loss == "cross_entropy":
        return x, rng.integers(0, outputs, samples)
    if loss == "bce":
        return x, (rng.random((samples, outputs)) < 0.5).astype(np.float64)
    return x, rng.standard_normal((samples, outputs))


@pytest.mark.parametrize("hidden", [4, 0])
@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_gradients_match_finite_differences(loss, hidden):
    mlp = FeedForward(FeedForwardConfig(input_size=5, hidden_size=hidden, output_size=3, loss=loss, seed=1))
    x, targets = _data(loss)
    result = mlp.loss_and_grads(x, targets)
    check = compare_gradients(mlp.parameters(), lambda: mlp.loss(x, targets), result.grads)
    # every entry within atol + rtol |numeric|: the float64 analysis of engine/gradcheck.py
    assert check.passed, str(check)


@pytest.mark.parametrize("hidden", [4, 0])
def test_matches_pytorch_sequential(hidden):
    """hidden 4: Linear, Tanh, Linear; hidden 0: one Linear (logistic regression), named "2" alike."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layers = [torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)] if hidden else \
        [torch.nn.Identity(), torch.nn.Identity(), torch.nn.Linear(5, 3)]
    net = torch.nn.Sequential(*layers).double()
    mlp = FeedForward(FeedForwardConfig(input_size=5, hidden_size=hidden, output_size=3))
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    mlp.load_state_dict({"hidden.weight": state.get("0.weight"), "hidden.bias": state.get("0.bias"),
                         "output.weight": state["2.weight"], "output.bias": state["2.bias"]})
    assert sorted(mlp.parameters()) == sorted(k for k in ("hidden.weight", "hidden.bias", "output.weight",
                                                           "output.bias") if hidden or k.startswith("output"))
    x, targets = _data("cross_entropy")
    result = mlp.loss_and_grads(x, targets)
    logits = net(torch.tensor(x))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
    loss.backward()
    # float64 both ways; a 5-term dot product, tanh, a 4-term dot product, log-softmax and a mean
    # over 7 samples, and their transposes: well under 64 roundings per number (tests/tolerances.py)
    assert_same_maths(result.output.logits, logits.detach().numpy(), roundings=64)
    assert_same_maths(result.loss, loss.item(), roundings=64)
    for ours, theirs in (("hidden.weight", "0"), ("hidden.bias", "0"), ("output.weight", "2"),
                         ("output.bias", "2")):
        if ours not in result.grads:
            continue  # hidden 0 has no hidden layer (checked above)
        kind = ours.split(".")[1]
        assert_same_maths(result.grads[ours], getattr(net[int(theirs)], kind).grad.numpy(), roundings=64,
                          err_msg=ours)


def test_trainer_takes_the_same_adam_step_as_the_optimizer_itself():
    """One step of the trainer equals the gradients handed to engine.optim.Adam by hand."""
    config = FeedForwardConfig(input_size=5, hidden_size=4, output_size=3, seed=3)
    trained, by_hand = FeedForward(config), FeedForward(config)
    x, targets = _data("cross_entropy")
    FeedForwardTrainer(trained, TrainConfig(optimizer="adam", lr=0.05)).step(x, targets)
    Adam(by_hand.parameters(), lr=0.05).step(by_hand.loss_and_grads(x, targets).grads)
    for name, array in trained.parameters().items():
        np.testing.assert_array_equal(array, by_hand.parameters()[name], err_msg=name)
    assert not np.array_equal(trained.parameters()["hidden.weight"],
                              FeedForward(config).parameters()["hidden.weight"])


def test_trainer_clips_like_the_recurrent_trainer():
    mlp = FeedForward(FeedForwardConfig(input_size=5, hidden_size=4, output_size=3, seed=3))
    x, targets = _data("cross_entropy")
    norm = FeedForward(mlp.config).loss_and_grads(x, targets)
    step = FeedForwardTrainer(mlp, TrainConfig(optimizer="sgd", lr=1.0, clip_norm=1e-3)).step(x, targets)
    assert step.clipped and step.finite and step.grad_norm > 1e-3
    moved = np.sqrt(sum(np.sum((mlp.parameters()[k] - FeedForward(mlp.config).parameters()[k]) ** 2)
                        for k in mlp.parameters()))
    # plain SGD with lr 1 moves the weights by exactly the clipped gradient, norm 1e-3 (+ PyTorch's 1e-6 guard)
    assert moved == pytest.approx(1e-3, rel=1e-3)
    assert norm.loss > 0


def test_learns_xor_which_a_linear_model_cannot():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    targets = np.array([0, 1, 1, 0])
    mlp = FeedForward(FeedForwardConfig(input_size=2, hidden_size=8, output_size=2, seed=0))
    trainer = FeedForwardTrainer(mlp, TrainConfig(optimizer="adam", lr=0.05))
    for _ in range(400):
        trainer.step(x, targets)
    np.testing.assert_array_equal(mlp.forward(x).predictions.argmax(axis=1), targets)


def test_without_a_hidden_layer_the_logits_are_linear_in_the_features():
    """hidden 0: f(x + z) - f(x) = f(z) - f(0) for the logits, for any x, z (a linear map plus a bias)."""
    mlp = FeedForward(FeedForwardConfig(input_size=5, hidden_size=0, output_size=3, seed=2))
    assert mlp.linear and mlp.num_params() == 5 * 3 + 3
    rng = np.random.default_rng(4)
    x, z = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))

    def logits(a):
        return mlp.forward(a).logits

    # float64 sums of 5 products of O(1) numbers: a few 1e-16 each; 1e-12 leaves orders of room
    np.testing.assert_allclose(logits(x + z) - logits(x), logits(z) - logits(np.zeros_like(z)), atol=1e-12)
    assert mlp.forward(x).hidden.shape == (6, 0)
    tanh_net = FeedForward(FeedForwardConfig(input_size=5, hidden_size=4, output_size=3, seed=2))
    assert not tanh_net.linear
    assert not np.allclose(tanh_net.forward(x + z).logits - tanh_net.forward(x).logits,
                           tanh_net.forward(z).logits - tanh_net.forward(np.zeros_like(z)).logits, atol=1e-6)


def test_linear_model_cannot_learn_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    targets = np.array([0, 1, 1, 0])
    linear = FeedForward(FeedForwardConfig(input_size=2, hidden_size=0, output_size=2, seed=0))
    trainer = FeedForwardTrainer(linear, TrainConfig(optimizer="adam", lr=0.05))
    for _ in range(400):
        trainer.step(x, targets)
    # no line separates XOR's classes: at most 3 of the 4 points can be right
    assert np.count_nonzero(linear.forward(x).predictions.argmax(axis=1) == targets) <= 3


def test_bad_sizes_and_inputs():
    with pytest.raises(FeedForwardError, match="hidden_size"):
        FeedForwardConfig(input_size=3, hidden_size=-1)
    with pytest.raises(FeedForwardError, match="input_size"):
        FeedForwardConfig(input_size=0)
    with pytest.raises(FeedForwardError, match="dtype"):
        FeedForwardConfig(input_size=3, dtype="int8")
    mlp = FeedForward(FeedForwardConfig(input_size=3))
    with pytest.raises(FeedForwardError, match=r"\(samples, 3\)"):
        mlp.forward(np.zeros((2, 4)))
    with pytest.raises(FeedForwardError, match="shape"):
        mlp.load_state_dict({**mlp.state_dict(), "output.bias": np.zeros(5)})
