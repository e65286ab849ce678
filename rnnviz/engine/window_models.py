"""Models that see only a fixed window of the last k inputs: an n-gram (Markov) predictor and a
time-delay network. They are what a recurrent network is compared with: neither can use an input
more than k - 1 steps back, and what they store grows with k (the n-gram's table as V^k, the
time-delay network's first layer as k), while an RNN's hidden state has the same size for any lag.

    ngram = NgramModel(window=3, vocab=4, classes=5)
    ngram.fit(inputs, targets, mask)                  # counts; inputs one-hot (T, B, V)
    probabilities = ngram.predict(inputs)             # (T, B, classes)

    tdnn = TimeDelayNetwork(window=3, input_size=4, hidden_size=32, output_size=5)
    step = tdnn.loss_and_grads(inputs, targets, mask) # like SequenceModel: engine.training.Trainer trains it

Both read inputs in the engine's sequence-first layout (T, B, features); at the start of a sequence
the window reaches before t = 0, where the n-gram sees a start marker and the time-delay network zeros.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.head import LinearHead
from rnnviz.engine.losses import get_loss

COUNT_DTYPE = np.int32  # an n-gram count; 2^31 tokens per context are far beyond any run here
MAX_WINDOW = 1000


class WindowModelError(ValueError):
    """A bad window size or inputs that do not fit a window model: the message says how to fix it."""


def _positive(name: str, value: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 or (high and value > high):
        limit = f"between 1 and {high}" if high else "at least 1"
        raise WindowModelError(f"{name} must be a whole number {limit}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- windows


def stack_window(inputs: np.ndarray, window: int) -> np.ndarray:
    """x̃_t = [x_t; x_(t-1); …; x_(t-k+1)] for every t: (T, B, I) -> (T, B, k I), block j holding
    x_(t-j) and zeros where t - j < 0 (before the sequence starts)."""
    steps, batch, features = inputs.shape
    stacked = np.zeros((steps, batch, window * features), dtype=inputs.dtype)  # (T, B, k I)
    for j in range(min(window, steps)):
        stacked[j:, :, j * features:(j + 1) * features] = inputs[: steps - j]
    return stacked


def unstack_window(d_stacked: np.ndarray, window: int, features: int) -> np.ndarray:
    """The adjoint of ``stack_window``: dL/dx_t = sum_j dL/dx̃_(t+j) block j. (T, B, k I) -> (T, B, I)."""
    steps = d_stacked.shape[0]
    d_inputs = np.zeros(d_stacked.shape[:2] + (features,), dtype=d_stacked.dtype)  # (T, B, I)
    for j in range(min(window, steps)):
        d_inputs[: steps - j] += d_stacked[j:, :, j * features:(j + 1) * features]
    return d_inputs


def token_ids(inputs: np.ndarray) -> np.ndarray:
    """The token id of each one-hot row (T, B, V) -> (T, B) int64; an all-zero row (padding) is V."""
    ids = np.argmax(inputs, axis=-1).astype(np.int64)  # (T, B)
    ids[~np.any(inputs != 0, axis=-1)] = inputs.shape[-1]
    return ids


def context_ids(ids: np.ndarray, window: int, vocab: int) -> np.ndarray:
    """Each timestep's context as one number: c_t = sum_j id_(t-j) (V+1)^j over j = 0..k-1, with the
    start marker V where t - j < 0. (T, B) -> (T, B) int64, in [0, (V+1)^k)."""
    steps = ids.shape[0]
    base = vocab + 1
    context = np.zeros(ids.shape, dtype=np.int64)  # (T, B)
    for j in range(window):
        shifted = np.full(ids.shape, vocab, dtype=np.int64)  # the start marker before t = 0
        if j < steps:
            shifted[j:] = ids[: steps - j]
        context += shifted * base**j
    return context


# ----------------------------------------------------------------------------- n-gram


def ngram_table_entries(window: int, vocab: int, classes: int) -> int:
    """Counts an order-k n-gram keeps: (V+1)^k contexts (V symbols and the start marker) x classes.
    A Python int: it can exceed any machine integer long before it is refused."""
    return (int(vocab) + 1) ** int(window) * int(classes)


def ngram_table_bytes(window: int, vocab: int, classes: int) -> int:
    return ngram_table_entries(window, vocab, classes) * np.dtype(COUNT_DTYPE).itemsize


class NgramModel:
    """An order-k Markov predictor: a table of how often each class followed each context of the last
    k input tokens, with add-one (Laplace) smoothing,

        P(y_t = c | x_(t-k+1) .. x_t) = (N[ctx_t, c] + 1) / (sum_c' N[ctx_t, c'] + C)

    where N counts the training tokens, ctx_t is ``context_ids`` and C the number of classes. An unseen
    context predicts every class alike. Its "parameters" are the (V+1)^k C counts: the table grows
    exponentially with the window. Callers check the table fits in memory first
    (rnnviz.session.budget.check_ngram_memory).
    """

    def __init__(self, window: int, vocab: int, classes: int) -> None:
        self.window = _positive("the window", window, MAX_WINDOW)
        self.vocab = _positive("the vocabulary size", vocab)
        self.classes = _positive("the number of classes", classes)
        self.counts = np.zeros(((self.vocab + 1) ** self.window, self.classes), dtype=COUNT_DTYPE)  # (V+1)^k, C
        self.tokens_seen = 0

    @property
    def table_entries(self) -> int:
        return int(self.counts.size)

    def _contexts(self, inputs: np.ndarray) -> np.ndarray:
        if inputs.ndim != 3 or inputs.shape[-1] != self.vocab:
            raise WindowModelError(f"the n-gram reads one-hot tokens of {self.vocab} symbols, shape (T, B, "
                                   f"{self.vocab}); got inputs of shape {inputs.shape}")
        return context_ids(token_ids(inputs), self.window, self.vocab)  # (T, B)

    def fit(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add the (context, target) pairs of a batch to the counts: N[ctx_t, y_t] += 1 where mask = 1."""
        contexts = self._contexts(inputs)  # (T, B)
        real = np.ones(contexts.shape, dtype=bool) if mask is None else np.asarray(mask) != 0
        classes = np.asarray(targets)[real].astype(np.int64)
        if classes.size and (classes.min() < 0 or classes.max() >= self.classes):
            raise WindowModelError(f"target class ids must be between 0 and {self.classes - 1}")
        np.add.at(self.counts, (contexts[real], classes), 1)
        self.tokens_seen += int(classes.size)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Smoothed class probabilities (T, B, C) for every timestep."""
        counts = self.counts[self._contexts(inputs)].astype(np.float64)  # (T, B, C)
        return (counts + 1.0) / (counts.sum(axis=-1, keepdims=True) + self.classes)

    def loss(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        """Cross-entropy -sum_p m_p log P(y_p) / sum_p m_p of the smoothed probabilities."""
        probabilities = self.predict(inputs)  # (T, B, C)
        picked = np.take_along_axis(probabilities, np.clip(np.asarray(targets), 0, self.classes - 1)[..., None],
                                    axis=-1)[..., 0]  # (T, B)
        weights = np.ones(picked.shape) if mask is None else np.asarray(mask, dtype=np.float64)
        return float(-np.sum(np.log(picked) * weights) / max(weights.sum(), 1.0))


# ----------------------------------------------------------------------------- time-delay network


@dataclass
class WindowForward:
    stacked: np.ndarray  # (T, B, k I) x̃_t
    hidden: np.ndarray  # (T, B, H) h_t = tanh(W_1 x̃_t + b_1)
    logits: np.ndarray  # (T, B, O) y_t
    predictions: np.ndarray  # (T, B, O) what the loss's predict makes of y_t (class probabilities)


@dataclass
class WindowStep:
    """What ``loss_and_grads`` returns; the fields Trainer reads have SequenceModel's names."""

    loss: float
    grads: dict[str, np.ndarray]  # by parameter name
    forward: WindowForward
    d_inputs: np.ndarray  # (T, B, I) dL/dx_t

    @property
    def predictions(self) -> np.ndarray:
        return self.forward.predictions


class TimeDelayNetwork:
    """A feed-forward network over the last k inputs (Waibel et al.'s time-delay network, one hidden layer):

        x̃_t = [x_t; x_(t-1); …; x_(t-k+1)]          (zeros for t - j < 0)            (T, B, k I)
        h_t = tanh(W_1 x̃_t + b_1)                    W_1 (H, k I), b_1 (H,)           (T, B, H)
        y_t = W_2 h_t + b_2                          W_2 (O, H),   b_2 (O,)           (T, B, O)

    and BPTT's counterpart, which needs no recurrence (each step's gradient stays at that step):

        dW_2 = sum_t dy_t h_tᵀ,  db_2 = sum_t dy_t,  dh_t = W_2ᵀ dy_t,  da_t = dh_t ⊙ (1 - h_t²),
        dW_1 = sum_t da_t x̃_tᵀ,  db_1 = sum_t da_t,  dx_t = sum_j (W_1ᵀ da_(t+j)) block j.

    Both linear layers are nn.Linear's (rnnviz.engine.head.LinearHead, its initialisation too);
    parameter names ``hidden.weight``, ``hidden.bias``, ``head.weight``, ``head.bias`` match a PyTorch
    module with attributes ``hidden = nn.Linear(k I, H)`` and ``head = nn.Linear(H, O)``. Its weight
    count, H (k I + 1) + O (H + 1), grows linearly with the window.
    """

    def __init__(self, window: int, input_size: int, hidden_size: int, output_size: int,
                 loss: str = "cross_entropy", dtype: str | type = np.float32, seed: int = 0) -> None:
        self.window = _positive("the window", window, MAX_WINDOW)
        self.input_size = _positive("the input size", input_size)
        self.hidden_size = _positive("the hidden size", hidden_size)
        self.output_size = _positive("the output size", output_size)
        self.loss_kind = get_loss(loss)
        rng = np.random.default_rng(seed)
        self.hidden_layer = LinearHead(self.window * self.input_size, self.hidden_size, dtype, rng)
        self.head = LinearHead(self.hidden_size, self.output_size, dtype, rng)
        self.dtype = self.head.dtype

    def parameters(self) -> dict[str, np.ndarray]:
        """The live arrays (an optimizer updates them in place)."""
        return {"hidden.weight": self.hidden_layer.weight, "hidden.bias": self.hidden_layer.bias,
                "head.weight": self.head.weight, "head.bias": self.head.bias}

    def parameter_count(self) -> int:
        return int(sum(p.size for p in self.parameters().values()))

    def forward(self, inputs: np.ndarray) -> WindowForward:
        if inputs.ndim != 3 or inputs.shape[-1] != self.input_size:
            raise WindowModelError(f"the time-delay network reads inputs of shape (T, B, {self.input_size}); "
                                   f"got {inputs.shape}")
        stacked = stack_window(np.asarray(inputs, dtype=self.dtype), self.window)  # (T, B, k I)
        hidden = np.tanh(self.hidden_layer.forward(stacked))  # (T, B, H)
        logits = self.head.forward(hidden)  # (T, B, O)
        return WindowForward(stacked, hidden, logits, self.loss_kind.predict(logits))

    def backward(self, forward: WindowForward, d_logits: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The parameter gradients and dL/dx (T, B, I), given dL/dy (T, B, O) (see the class docstring)."""
        head = self.head.backward(forward.hidden, d_logits)
        d_pre = head.d_hidden * (1 - forward.hidden * forward.hidden)  # (T, B, H) da_t
        first = self.hidden_layer.backward(forward.stacked, d_pre)
        grads = {"hidden.weight": first.weight, "hidden.bias": first.bias,
                 "head.weight": head.weight, "head.bias": head.bias}
        return grads, unstack_window(first.d_hidden, self.window, self.input_size)

    def loss_and_grads(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None,
                       tbptt: int | None = None) -> WindowStep:
        """The loss over real timesteps and its gradients (``tbptt`` is ignored: nothing is recurrent)."""
        forward = self.forward(inputs)
        loss, d_logits = self.loss_kind(forward.logits, targets, mask)
        grads, d_inputs = self.backward(forward, d_logits)
        return WindowStep(loss, grads, forward, d_inputs)

    def loss(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> float:
        return self.loss_kind(self.forward(inputs).logits, targets, mask)[0]

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        return self.forward(inputs).predictions


def time_delay_parameter_count(window: int, input_size: int, hidden_size: int, output_size: int) -> int:
    """H (k I + 1) + O (H + 1): the weights of ``TimeDelayNetwork`` with these sizes, without building it."""
    return hidden_size * (window * input_size + 1) + output_size * (hidden_size + 1)


__all__ = ["NgramModel", "TimeDelayNetwork", "WindowModelError", "context_ids", "ngram_table_bytes",
           "ngram_table_entries", "stack_window", "time_delay_parameter_count", "token_ids", "unstack_window"]
