import math

import numpy as np
import pytest

from rnnviz.engine.clipping import global_norm
from rnnviz.engine.model import ModelConfig, SequenceModel
from rnnviz.engine.threads import blas_threads
from rnnviz.engine.training import TrainConfig, TrainConfigError, Trainer
from tests.tolerances import assert_same_maths, unit_roundoff

T, B, I, H, O = 6, 4, 2, 5, 1


def assert_sgd_move(after, before, expected_move):
    """w <- w - lr g rounds lr g and w - lr g once each, and after - before at most once more:
    the move is within 2 u |lr g| + u |w| of -lr g."""
    u = unit_roundoff()
    np.testing.assert_allclose(after - before, expected_move, rtol=2 * u, atol=u * np.max(np.abs(after)))


def _model(mode="gru", dtype="float64", seed=0, **kw):
    return SequenceModel(ModelConfig(mode, I, H, O, dtype=dtype, seed=seed, **kw))


def _batch(seed=0, steps=T):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, B, I)), rng.standard_normal((B, O)), np.ones((steps, B))


def _params(model):
    return {k: v.copy() for k, v in model.parameters().items()}


def test_sgd_step_moves_parameters_by_minus_lr_times_gradient():
    model = _model()
    trainer = Trainer(model, TrainConfig(optimizer="sgd", lr=0.1))
    x, y, mask = _batch()
    before = _params(model)
    report = trainer.step(x, y, mask)
    assert report.finite and not report.clipped and report.step == trainer.steps == 1
    for name, array in model.parameters().items():
        assert_sgd_move(array, before[name], -0.1 * report.result.grads[name])
    assert_same_maths(report.grad_norm, global_norm(report.result.grads))  # 2 N u (tests/tolerances.py)


def test_learning_rate_and_tbptt_changes_apply_at_the_next_step():
    model = _model()
    trainer = Trainer(model, TrainConfig(optimizer="sgd", lr=0.1))
    x, y, mask = _batch()
    trainer.step(x, y, mask)
    trainer.config.lr = 0.01
    trainer.config.tbptt = 2
    expected = model.loss_and_grads(x, y, mask, tbptt=2).grads
    before = _params(model)
    trainer.step(x, y, mask)
    for name, array in model.parameters().items():
        assert_sgd_move(array, before[name], -0.01 * expected[name])


def test_clip_norm_reports_norm_before_and_limits_the_update():
    model = _model()
    trainer = Trainer(model, TrainConfig(optimizer="sgd", lr=1.0, clip_norm=1e-3))
    x, y, mask = _batch()
    unclipped_norm = global_norm(model.loss_and_grads(x, y, mask).grads)
    before = _params(model)
    report = trainer.step(x, y, mask)
    assert report.clipped
    assert_same_maths(report.grad_norm, unclipped_norm)  # the same sums twice: 2 N u (tests/tolerances.py)
    moved = math.sqrt(sum(np.sum((model.parameters()[k] - v) ** 2) for k, v in before.items()))
    # PyTorch's rule scales by max_norm / (norm + 1e-6): the move is 1e-3 norm / (norm + 1e-6). Each
    # entry's move is off by <= u |w| (rounding w - lr g, |w| < 1): far below 1e-9 of the move here.
    assert moved == pytest.approx(1e-3 * unclipped_norm / (unclipped_norm + 1e-6), rel=1e-9, abs=1e-15)
    trainer.config.clip_norm = None  # switched off between steps
    assert not trainer.step(x, y, mask).clipped


def test_clip_value():
    model = _model()
    trainer = Trainer(model, TrainConfig(optimizer="sgd", lr=1.0, clip_value=1e-4))
    x, y, mask = _batch()
    before = _params(model)
    report = trainer.step(x, y, mask)
    assert report.clipped
    largest_move = max(np.max(np.abs(model.parameters()[k] - v)) for k, v in before.items())
    # w - 1.0 * (+-1e-4) rounds once, by <= u |w|: the move is 1e-4 to within 2 u max|w| (+ the rounding of 1e-4)
    largest_weight = max(np.max(np.abs(v)) for v in before.values())
    assert largest_move == pytest.approx(1e-4, rel=unit_roundoff(), abs=2 * unit_roundoff() * largest_weight)


def test_non_finite_input_changes_nothing():
    model = _model(dtype="float32")
    trainer = Trainer(model, TrainConfig(optimizer="adam", lr=1e-2))
    x, y, mask = _batch()
    trainer.step(x, y, mask)
    params, state = _params(model), trainer.optimizer.state_dict()
    bad = x.copy()
    bad[2, 1, 0] = np.inf
    report = trainer.step(bad, y, mask)
    assert not report.finite and trainer.steps == 1
    for name, array in model.parameters().items():
        np.testing.assert_array_equal(array, params[name])
    after = trainer.optimizer.state_dict()
    assert after["step"] == state["step"] == 1
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value)
    assert trainer.step(x, y, mask).finite  # and training can carry on from the last finite state


def test_huge_learning_rate_stops_with_the_last_finite_parameters():
    model = _model(mode="rnn_relu", dtype="float32")
    trainer = Trainer(model, TrainConfig(optimizer="sgd", lr=1e30))
    x, y, mask = _batch()
    for _ in range(10):
        before = _params(model)
        report = trainer.step(x * 100, y, mask)
        if not report.finite:
            break
    assert not report.finite, "a learning rate of 1e30 should blow up within a few steps"
    for name, array in model.parameters().items():
        assert np.all(np.isfinite(array))
        np.testing.assert_array_equal(array, before[name])


def test_changing_the_optimizer_between_steps():
    model = _model()
    trainer = Trainer(model, TrainConfig(optimizer="adam", lr=1e-2))
    x, y, mask = _batch()
    trainer.step(x, y, mask)
    trainer.config.optimizer = "rmsprop"
    trainer.step(x, y, mask)
    assert trainer.optimizer.name == "rmsprop" and trainer.optimizer.step_count == 1


def test_evaluate_changes_nothing():
    model = _model()
    trainer = Trainer(model, TrainConfig())
    x, y, mask = _batch()
    before = _params(model)
    assert_same_maths(trainer.evaluate(x, y, mask), model.loss_and_grads(x, y, mask).loss)  # 2 N u
    for name, array in model.parameters().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("optimizer", "lbfgs", "optimizer must be one of"),
        ("lr", 0.0, "learning rate must be a positive"),
        ("lr", float("nan"), "learning rate must be a positive"),
        ("clip_norm", -1.0, "clip_norm must be a positive number"),
        ("clip_value", float("inf"), "clip_value must be a positive"),
        ("tbptt", 2.5, "whole number of timesteps"),
        ("batch_size", 0, "batch_size must be between 1 and 4096"),
        ("seed", "one", "seed must be a whole number"),
    ],
)
def test_config_validation_on_creation_and_assignment(field, value, message):
    with pytest.raises(TrainConfigError, match=message):
        TrainConfig(**{field: value})
    config = TrainConfig()
    old = getattr(config, field)
    with pytest.raises(TrainConfigError, match=message):
        setattr(config, field, value)
    assert getattr(config, field) == old


def test_zero_means_off():
    config = TrainConfig(clip_norm=0, tbptt=0, clip_value=0)
    assert config.clip_norm is None and config.tbptt is None and config.clip_value is None
    assert TrainConfig.from_dict(config.to_dict()) == config


def _adding_batch(steps, batch, rng):
    """The adding problem: a value channel U(0, 1) and a marker channel with two 1s (one in each
    half); the target is the sum of the two marked values. Predicting the mean (1.0) scores MSE 1/6."""
    values = rng.uniform(0, 1, (steps, batch))
    marker = np.zeros((steps, batch))
    columns = np.arange(batch)
    marker[rng.integers(0, steps // 2, batch), columns] = 1
    marker[rng.integers(steps // 2, steps, batch), columns] = 1
    return np.stack([values, marker], axis=-1), (values * marker).sum(axis=0)[:, None]


def test_lstm_learns_the_adding_problem():
    """LSTM, hidden 32, Adam 1e-2, batch 32, T = 50: measured breakthrough after ~450-1000 steps
    for seeds 0-6 (seed 2: ~480, ~6 s here); stop once the recent training loss is low.

    Why it holds on any CPU: rounding that differs (FMA, another BLAS kernel) perturbs the float32
    trajectory by ~1e-7 relative a step, far less than another seed does, and every seed measured
    broke through by ~1000 of the 1500 steps allowed. The start is the model predicting ~0 for
    targets of mean 1: MSE ~1.2, above 0.1 at any rounding; once the last 25 training losses average
    < 0.01 the held-out MSE is of the same order, 5x below the 0.05 asserted."""
    steps, seed = 50, 2
    model = SequenceModel(ModelConfig("lstm", 2, 32, 1, dtype="float32", seed=seed))
    trainer = Trainer(model, TrainConfig(optimizer="adam", lr=1e-2, clip_norm=1.0, seed=seed))
    heldout_x, heldout_y = _adding_batch(steps, 500, np.random.default_rng(12345))
    with blas_threads(1):
        assert trainer.evaluate(heldout_x, heldout_y) > 0.1  # it starts at (or above) the baseline
        recent = []
        for _ in range(1500):
            x, y = _adding_batch(steps, 32, trainer.rng)
            report = trainer.step(x, y, None)
            assert report.finite
            recent = (recent + [report.loss])[-25:]
            if len(recent) == 25 and np.mean(recent) < 0.01:
                break
        heldout_mse = trainer.evaluate(heldout_x, heldout_y)
    assert heldout_mse < 0.05, f"held-out MSE {heldout_mse:.3f} after {trainer.steps} steps"
