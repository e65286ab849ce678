"""The linear output head that turns hidden states into logits, like PyTorch's ``nn.Linear``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class HeadError(ValueError):
    """Bad head sizes or inputs that do not fit the head: the message says how to fix it."""


@dataclass
class HeadGrads:
    weight: np.ndarray  # (O, F) dL/dW
    bias: np.ndarray  # (O,) dL/db
    d_hidden: np.ndarray  # (..., F) dL/dh


class LinearHead:
    """``y = h W^T + b`` applied to the last axis of ``h``.

    Shapes follow ``nn.Linear(in_features=F, out_features=O)``: ``weight`` (O, F), ``bias`` (O,).
    The default initialisation is nn.Linear's: both drawn from U(-1/sqrt(F), 1/sqrt(F)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        dtype: np.dtype | type | str = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if int(in_features) < 1 or int(out_features) < 1:
            raise HeadError(
                f"the output head needs at least one input and one output feature, got "
                f"in_features={in_features}, out_features={out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.dtype = np.dtype(dtype)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.in_features)
        self.weight = rng.uniform(-bound, bound, (self.out_features, self.in_features)).astype(self.dtype)
        self.bias = rng.uniform(-bound, bound, self.out_features).astype(self.dtype)

    def parameters(self) -> dict[str, np.ndarray]:
        """The live arrays (an optimizer updates them in place)."""
        return {"weight": self.weight, "bias": self.bias}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight.copy(), "bias": self.bias.copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``weight`` and ``bias`` into the live arrays (cast to this head's dtype)."""
        for name, live in self.parameters().items():
            if name not in state:
                raise HeadError(f"the saved head has no {name!r}; it needs 'weight' and 'bias'")
            value = np.asarray(state[name])
            if value.shape != live.shape:
                raise HeadError(f"saved head.{name} has shape {value.shape}, this head needs {live.shape}")
            live[...] = value

    def forward(self, hidden: np.ndarray) -> np.ndarray:
        """``logits = hidden W^T + b``: hidden (..., F) -> logits (..., O)."""
        self._check(hidden)
        return hidden @ self.weight.T + self.bias

    def backward(self, hidden: np.ndarray, d_logits: np.ndarray) -> HeadGrads:
        """Given dL/dlogits (..., O): dL/dW = sum dy^T h, dL/db = sum dy, dL/dh = dy W."""
        self._check(hidden)
        flat_hidden = hidden.reshape(-1, self.in_features)  # (N, F)
        flat_d = d_logits.reshape(-1, self.out_features)  # (N, O)
        return HeadGrads(
            weight=flat_d.T @ flat_hidden,
            bias=flat_d.sum(axis=0),
            d_hidden=d_logits @ self.weight,
        )

    def _check(self, hidden: np.ndarray) -> None:
        if hidden.shape[-1:] != (self.in_features,):
            raise HeadError(
                f"the head expects {self.in_features} features on the last axis, got shape {hidden.shape}"
            )
