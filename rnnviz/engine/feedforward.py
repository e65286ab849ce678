"""A feed-forward network on one feature vector per sample: the baseline the recurrent network is
compared with (a bag of words, a window of the last k inputs, a padded one-hot sentence).

    mlp = FeedForward(FeedForwardConfig(input_size=V, hidden_size=16, output_size=2))
    out = mlp.forward(features)                    # features (N, F) -> logits, predictions (N, O)
    result = mlp.loss_and_grads(features, targets) # loss, grads named like parameters()
    trainer = FeedForwardTrainer(mlp, TrainConfig(optimizer="adam", lr=0.01, clip_norm=1.0))
    trainer.step(features, targets)                # the same optimizer and clipping code as the RNN's

The maths, with PyTorch's ``nn.Sequential(nn.Linear(F, H), nn.Tanh(), nn.Linear(H, O))`` layout
(``hidden.weight`` (H, F), ``output.weight`` (O, H)):

    a = x W1^T + b1        h = tanh(a)        y = h W2^T + b2        L = loss(y, t)

    dL/dy from the loss (rnnviz.engine.losses);  dL/dW2 = dy^T h,  dL/db2 = sum dy
    dL/dh = dy W2;  dL/da = dL/dh (1 - h^2);     dL/dW1 = da^T x,  dL/db1 = sum da

Both layers are ``LinearHead``s (nn.Linear's initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))).

With ``hidden_size=0`` there is no hidden layer: the network is linear in its features, PyTorch's
``nn.Linear(F, O)`` (logistic regression for cross_entropy), parameters ``output.weight`` (O, F) and
``output.bias`` only:

    y = x W^T + b        dL/dW = dy^T x,  dL/db = sum dy

On word counts each word then adds its own fixed amount to each class's score, whatever else the
sentence says: a linear bag of words cannot represent negation ("not" would have to lower "good"'s
score and raise "bad"'s with one weight).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.engine.clipping import clip_grad_norm, clip_grad_value, global_norm
from rnnviz.engine.head import LinearHead
from rnnviz.engine.losses import get_loss
from rnnviz.engine.optim import Optimizer, make_optimizer
from rnnviz.engine.training import TrainConfig

DTYPES = ("float32", "float64")


class FeedForwardError(ValueError):
    """A bad size or input shape for the feed-forward network: the message says what fits."""


@dataclass(frozen=True)
class FeedForwardConfig:
    input_size: int  # F: features per sample (the vocabulary size for a bag of words)
    hidden_size: int = 16  # H: tanh units in the one hidden layer; 0: no hidden layer (linear in x)
    output_size: int = 2  # O: classes (cross_entropy) or outputs (mse, bce)
    loss: str = "cross_entropy"
    dtype: str = "float64"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, least in (("input_size", 1), ("hidden_size", 0), ("output_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise FeedForwardError(f"{name} must be a whole number of at least {least}, got {value!r}")
        if self.dtype not in DTYPES:
            raise FeedForwardError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        get_loss(self.loss)  # raises LossError naming the known losses


@dataclass(frozen=True)
class FeedForwardOutput:
    hidden: np.ndarray  # (N, H) h = tanh(a); (N, 0) without a hidden layer
    logits: np.ndarray  # (N, O)
    predictions: np.ndarray  # (N, O) probabilities (cross_entropy, bce) or values (mse)


@dataclass(frozen=True)
class FeedForwardResult:
    loss: float
    grads: dict[str, np.ndarray]  # same names and shapes as FeedForward.parameters()
    output: FeedForwardOutput


class FeedForward:
    """One hidden tanh layer between a feature vector and a linear output, with a loss; with
    ``hidden_size=0`` only the linear output layer (a linear model of the features)."""

    def __init__(self, config: FeedForwardConfig) -> None:
        self.config = config
        self.dtype = np.dtype(config.dtype)
        rng = np.random.default_rng([config.seed, 2])  # not the recurrent model's streams
        self.hidden_layer: LinearHead | None = None
        if config.hidden_size > 0:
            self.hidden_layer = LinearHead(config.input_size, config.hidden_size, self.dtype, rng)
        self.output_layer = LinearHead(config.hidden_size or config.input_size, config.output_size, self.dtype, rng)
        self.loss_fn = get_loss(config.loss)

    @property
    def linear(self) -> bool:
        """No hidden layer: the logits are a linear function of the features."""
        return self.hidden_layer is None

    def parameters(self) -> dict[str, np.ndarray]:
        """The live arrays (an optimizer updates them in place)."""
        hidden = {} if self.hidden_layer is None else {
            "hidden.weight": self.hidden_layer.weight, "hidden.bias": self.hidden_layer.bias}
        return {**hidden, "output.weight": self.output_layer.weight, "output.bias": self.output_layer.bias}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: array.copy() for name, array in self.parameters().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name, live in self.parameters().items():
            if name not in state:
                raise FeedForwardError(f"the saved network has no {name!r}; it needs {', '.join(self.parameters())}")
            value = np.asarray(state[name])
            if value.shape != live.shape:
                raise FeedForwardError(f"saved {name} has shape {value.shape}, this network needs {live.shape}")
        for name, live in self.parameters().items():
            live[...] = np.asarray(state[name])

    def num_params(self) -> int:
        return int(sum(array.size for array in self.parameters().values()))

    def _check(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != self.config.input_size:
            raise FeedForwardError(f"features must have shape (samples, {self.config.input_size}), "
                                   f"got {features.shape}")
        return features.astype(self.dtype, copy=False)

    def forward(self, features: np.ndarray) -> FeedForwardOutput:
        """``h = tanh(x W1^T + b1)``, ``y = h W2^T + b2`` for features x (N, F); without a hidden
        layer ``y = x W^T + b``."""
        features = self._check(features)
        if self.hidden_layer is None:
            logits = self.output_layer.forward(features)  # (N, O)
            hidden = np.zeros((features.shape[0], 0), dtype=self.dtype)  # (N, 0)
        else:
            hidden = np.tanh(self.hidden_layer.forward(features))  # (N, H)
            logits = self.output_layer.forward(hidden)  # (N, O)
        return FeedForwardOutput(hidden, logits, self.loss_fn.predict(logits))

    def loss(self, features: np.ndarray, targets: np.ndarray) -> float:
        return self.loss_fn(self.forward(features).logits, targets)[0]

    def loss_and_grads(self, features: np.ndarray, targets: np.ndarray) -> FeedForwardResult:
        """The loss and every parameter's gradient (the module docstring's backward equations)."""
        features = self._check(features)
        output = self.forward(features)
        loss, d_logits = self.loss_fn(output.logits, targets)  # (N, O)
        if self.hidden_layer is None:
            out_grads = self.output_layer.backward(features, d_logits)
            grads = {"output.weight": out_grads.weight, "output.bias": out_grads.bias}
            return FeedForwardResult(float(loss), grads, output)
        out_grads = self.output_layer.backward(output.hidden, d_logits)
        d_pre = out_grads.d_hidden * (1.0 - output.hidden * output.hidden)  # (N, H) dL/da
        hidden_grads = self.hidden_layer.backward(features, d_pre)
        grads = {"hidden.weight": hidden_grads.weight, "hidden.bias": hidden_grads.bias,
                 "output.weight": out_grads.weight, "output.bias": out_grads.bias}
        return FeedForwardResult(float(loss), grads, output)


@dataclass(frozen=True)
class FeedForwardStep:
    loss: float
    grad_norm: float  # before clipping
    clipped: bool
    finite: bool  # False: nothing was changed


class FeedForwardTrainer:
    """One optimizer step at a time with the recurrent Trainer's settings (``TrainConfig``: optimizer,
    lr, gradient clipping) and the same optimizer and clipping code (engine.optim, engine.clipping)."""

    def __init__(self, model: FeedForward, config: TrainConfig | None = None) -> None:
        self.model = model
        self.config = config if config is not None else TrainConfig()
        self.steps = 0
        options = self.config.optimizer_options or {}
        self.optimizer: Optimizer = make_optimizer(self.config.optimizer, model.parameters(), self.config.lr,
                                                   **options)

    def step(self, features: np.ndarray, targets: np.ndarray) -> FeedForwardStep:
        """Loss, gradients, clipping and one update; a non-finite loss or gradient changes nothing."""
        self.optimizer.lr = self.config.lr
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = self.model.loss_and_grads(features, targets)
            norm = global_norm(result.grads)
            if not (math.isfinite(result.loss) and math.isfinite(norm)):
                return FeedForwardStep(result.loss, norm, False, False)
            clipped = False
            if self.config.clip_norm is not None:
                clipped |= clip_grad_norm(result.grads, self.config.clip_norm).clipped
            if self.config.clip_value is not None:
                clipped |= clip_grad_value(result.grads, self.config.clip_value).clipped
            self.optimizer.step(result.grads)
        self.steps += 1
        return FeedForwardStep(result.loss, norm, clipped, True)
