"""What a forward and a backward pass leave behind for the views: traces, as plain dataclasses.

Shapes: T timesteps, B batch, H hidden size, I_l the input size of layer l (input_size for layer 0,
D*H above it), G gate blocks per cell (CellSpec.num_gates: RNN 1, LSTM 4, GRU 3), L layers,
D directions (1 or 2), S the values in a cell state (CellSpec.cell_state_size(H): H for the LSTM,
2H for the LRU's complex state, H*N for the selective layer).
Every array is in timestep order (index t is timestep t) for both directions, and in the core's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class TimeLayout:
    """Where the states of one direction live in a ``(T + 1, ...)`` state buffer.

    The forward direction keeps its initial state in slot 0 and h_t in slot t + 1; the reverse
    direction keeps its initial state in slot T and h_t in slot t. So the state a step reads
    (its previous state, in processing order) is slot ``previous_slot(t)`` and the one it writes is
    ``state_slot(t)``; ``states(buf)`` and ``previous(buf)`` are the (T, ...) views of both.
    """

    seq_len: int
    reverse: bool

    @property
    def initial_slot(self) -> int:
        return self.seq_len if self.reverse else 0

    @property
    def final_slot(self) -> int:
        return 0 if self.reverse else self.seq_len

    def steps(self) -> range:
        """Timesteps in processing order."""
        return range(self.seq_len - 1, -1, -1) if self.reverse else range(self.seq_len)

    def state_slot(self, t: int) -> int:
        return t if self.reverse else t + 1

    def previous_slot(self, t: int) -> int:
        return t + 1 if self.reverse else t

    def states(self, buffer: np.ndarray) -> np.ndarray:
        return buffer[: self.seq_len] if self.reverse else buffer[1:]

    def previous(self, buffer: np.ndarray) -> np.ndarray:
        return buffer[1:] if self.reverse else buffer[: self.seq_len]

    def recurrence_cut(self, tbptt: int | None) -> np.ndarray:
        """(T,) bool: True at t when the gradient from h_t to the state step t read is cut.

        Chunks are timesteps [0, k), [k, 2k), ...; a cut sits between timesteps a and a + 1 when
        (a + 1) % k == 0, for both directions.
        """
        cut = np.zeros(self.seq_len, dtype=bool)
        if tbptt is None:
            return cut
        t = np.arange(self.seq_len)
        if self.reverse:  # step t read h_{t+1}
            cut[:] = (t + 1) % tbptt == 0
            cut[-1:] = False  # the last timestep reads the initial state
        else:  # step t read h_{t-1}
            cut[:] = t % tbptt == 0
            cut[:1] = False
        return cut


@dataclass
class LayerTrace:
    """One layer and direction of a forward pass.

    ``preact`` holds the pre-activations in PyTorch's gate order (``CellSpec.block_names``; a block
    with ``hidden_scaled_by``, like the GRU's n, holds the argument of its activation,
    W_in x + b_in + r * (W_hn h + b_hn)). ``gates`` are named (T, B, H) views (a vanilla RNN: none). ``prev_hidden[t]`` is the state step t read
    (h_{t-1} forward, h_{t+1} reverse; the initial state at the first processed step).
    """

    layer: int
    direction: int
    mode: str
    inputs: np.ndarray  # (T, B, I_l) what this layer saw (padded steps zeroed)
    preact: np.ndarray  # (T, B, G*H)
    gates: dict[str, np.ndarray]  # name -> (T, B, H)
    hidden: np.ndarray  # (T, B, H) h_t
    prev_hidden: np.ndarray  # (T, B, H)
    h0: np.ndarray  # (B, H)
    cell_state: np.ndarray | None = None  # (T, B, S) c_t of cells with a cell state
    prev_cell_state: np.ndarray | None = None  # (T, B, S) c_(t-1)
    c0: np.ndarray | None = None  # (B, S) initial cell state
    mask: np.ndarray | None = None  # (T, B)
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # cell-specific extras

    @property
    def reverse(self) -> bool:
        return self.direction == 1

    @property
    def seq_len(self) -> int:
        return self.hidden.shape[0]

    @property
    def final_hidden(self) -> np.ndarray:
        """(B, H) the state after the last processed step (h_n of this layer and direction)."""
        return self.hidden[0] if self.reverse else self.hidden[-1]

    @property
    def final_cell_state(self) -> np.ndarray | None:
        if self.cell_state is None:
            return None
        return self.cell_state[0] if self.reverse else self.cell_state[-1]


@dataclass
class RecurrentTrace:
    """A whole forward pass: ``output`` (T, B, D*H), ``h_n`` (L*D, B, H), ``c_n`` (cells with a cell state) and
    ``layers[l][d]`` the LayerTrace of layer l, direction d (0 forward, 1 reverse)."""

    mode: str
    output: np.ndarray  # (T, B, D*H), zero at padded steps
    h_n: np.ndarray  # (L*D, B, H)
    c_n: np.ndarray | None  # (L*D, B, S) cells with a cell state
    layers: list[list[LayerTrace]]
    mask: np.ndarray | None  # (T, B) or None
    weights: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # as used

    def layer(self, layer: int, direction: int = 0) -> LayerTrace:
        return self.layers[layer][direction]

    @property
    def seq_len(self) -> int:
        return self.output.shape[0]

    @property
    def batch_size(self) -> int:
        return self.output.shape[1]

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def num_directions(self) -> int:
        return len(self.layers[0])


WEIGHT_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# What each weight's per-timestep gradient contribution is made of: (the gradient at the projection the
# weight feeds, the activation it multiplies; None for a bias). See ``weight_contribution``.
CONTRIBUTION_FACTORS: dict[str, tuple[str, str | None]] = {
    "weight_ih": ("d_preact", "inputs"),
    "weight_hh": ("d_hidden_preact", "prev_hidden"),
    "bias_ih": ("d_preact", None),
    "bias_hh": ("d_hidden_preact", None),
}


def weight_contribution(gradient: np.ndarray, activation: np.ndarray | None) -> np.ndarray:
    """One timestep's share of a weight gradient, summed over the batch (the one place it is written):

        dW_ih(t) = d_preact_t^T x_t           db_ih(t) = sum_b d_preact_t
        dW_hh(t) = d_hidden_preact_t^T h_prev  db_hh(t) = sum_b d_hidden_preact_t

    ``gradient`` (B, G*H) is dL/d(projection) at t; ``activation`` (B, N) is what the weight multiplies
    (the input x_t, or the state h_prev the step read), None for a bias. Returns (G*H, N) or (G*H,)."""
    if activation is None:
        return gradient.sum(axis=0)
    return gradient.T @ activation


def grad_norm_per_step(d_hidden: np.ndarray) -> np.ndarray:
    """(T,) ||dL/dh_t|| over everything but the time axis, in float64: ``d_hidden`` (T, H) for one
    sample, (T, B, H) for a batch. The one definition the views, the stepper and compare share."""
    flat = np.asarray(d_hidden, dtype=np.float64).reshape(np.shape(d_hidden)[0], -1)
    return np.sqrt(np.einsum("tk,tk->t", flat, flat))


@dataclass
class LayerGradTrace:
    """One layer and direction of a backward pass (BPTT).

    d_hidden[t] = dL/dh_t in total = d_hidden_from_output[t] (the layer's output gradient at t,
    what arrives from above) + d_hidden_from_next[t] (what flows back through the recurrence from
    the step that read h_t: t + 1 forward, t - 1 reverse; after any tbptt cut; at the last processed
    step it is d_h_n). ``d_preact`` (T, B, G*H) is dL/d(pre-activation), the local derivatives
    applied; ``d_hidden_preact`` is the gradient at the hidden projection W_hh h_{t-1} + b_hh (equal
    to d_preact except for a block with ``hidden_scaled_by``, e.g. the GRU's n: d_preact_n * r).

    Weight gradient contributions of timestep t:
        dW_ih(t) = d_preact[t]^T @ inputs[t]          db_ih(t) = sum_b d_preact[t]
        dW_hh(t) = d_hidden_preact[t]^T @ h_{t-1}    db_hh(t) = sum_b d_hidden_preact[t]
    """

    layer: int
    direction: int
    d_hidden: np.ndarray  # (T, B, H)
    d_hidden_from_output: np.ndarray  # (T, B, H)
    d_hidden_from_next: np.ndarray  # (T, B, H)
    d_preact: np.ndarray  # (T, B, G*H)
    d_hidden_preact: np.ndarray  # (T, B, G*H)
    inputs: np.ndarray = field(repr=False)  # (T, B, I_l) the forward inputs
    prev_hidden: np.ndarray = field(repr=False)  # (T, B, H) the forward h_{t-1}
    d_cell_state: np.ndarray | None = None  # (T, B, S) dL/dc_t of cells with a cell state
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def grad_norm_per_step(self) -> np.ndarray:
        """(T,) ||dL/dh_t|| over the batch and hidden units (float64)."""
        return grad_norm_per_step(self.d_hidden)

    def contribution(self, name: str, t: int) -> np.ndarray:
        """Timestep t's full contribution to the gradient of ``name`` (one of WEIGHT_KINDS)."""
        if name not in CONTRIBUTION_FACTORS:
            raise ValueError(f"unknown weight {name!r}; use one of {', '.join(WEIGHT_KINDS)}")
        gradient, activation = CONTRIBUTION_FACTORS[name]
        return weight_contribution(getattr(self, gradient)[t],
                                   None if activation is None else getattr(self, activation)[t])

    @cached_property
    def weight_grad_norm_per_step(self) -> dict[str, np.ndarray]:
        """name -> (T,) Frobenius norm of each timestep's contribution, computed on first use."""
        norms = {}
        for name, (gradient, activation) in CONTRIBUTION_FACTORS.items():
            left = getattr(self, gradient)  # (T, B, G*H)
            norms[name] = (np.linalg.norm(left.sum(axis=1), axis=1) if activation is None
                           else _outer_norms(left, getattr(self, activation)))
        return norms


def _outer_norms(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(T,) ||left[t]^T @ right[t]||_F for left (T, B, M), right (T, B, N) without forming T matrices
    when the batch is small: ||A^T X||_F^2 = sum((A A^T) * (X X^T)) with B x B Gram matrices."""
    batch, m, n = left.shape[1], left.shape[2], right.shape[2]
    if batch * batch <= m * n:
        gram_left = np.matmul(left, left.transpose(0, 2, 1))  # (T, B, B)
        gram_right = np.matmul(right, right.transpose(0, 2, 1))  # (T, B, B)
        squared = np.einsum("tab,tab->t", gram_left, gram_right)
    else:
        products = np.matmul(left.transpose(0, 2, 1), right)  # (T, M, N)
        squared = np.einsum("tmn,tmn->t", products, products)
    return np.sqrt(np.maximum(squared, 0))


@dataclass
class RecurrentGrads:
    """A whole backward pass: ``params`` (keyed like state_dict), ``d_input`` (T, B, I),
    ``d_h0`` (L*D, B, H), ``d_c0`` (cells with a cell state) and ``layers[l][d]`` the
    LayerGradTrace. ``d_input`` is computed on first use (``input_gradient()``)."""

    params: dict[str, np.ndarray]
    d_h0: np.ndarray  # (L*D, B, H)
    d_c0: np.ndarray | None  # (L*D, B, S) cells with a cell state
    layers: list[list[LayerGradTrace]]
    input_gradient: Callable[[], np.ndarray] = field(repr=False)

    @cached_property
    def d_input(self) -> np.ndarray:
        """(T, B, I) dL/d inputs of the first layer."""
        return self.input_gradient()

    def layer(self, layer: int, direction: int = 0) -> LayerGradTrace:
        return self.layers[layer][direction]
