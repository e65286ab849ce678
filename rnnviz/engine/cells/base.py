"""What a cell kind is: its ``CellSpec``, the one record that names it, its gates and its equations.

A cell kind is one module in ``rnnviz/engine/cells/`` that builds a ``CellSpec``, plus one line in the
registry (``rnnviz/engine/cells/__init__.py``). Everything else (config validation, the CLI's choices,
the UI's combo boxes, the equations panel, the gates and weights panels, initialisation, compare and
PyTorch import) reads the spec and lists no cell or gate names of its own.

Equations are plain text in one notation that the views render: ``x_t``, ``h_(t-1)`` and ``W_ii`` are
subscripts, ``⊙`` is the elementwise product, ``σ`` the logistic sigmoid.

A spec carries two implementations of the same maths:
- ``kernel``: the fast forward and backward over a whole padded batch of one layer and direction
  (``CellKernel``), what training uses;
- ``step_forward`` / ``step_backward``: one timestep written like a textbook (``StepState`` /
  ``StepGrads``), what the step-through view shows and what the kernel is tested against.
A new cell can start with ``rnnviz.engine.cells.textbook.StepKernel``, a kernel that runs the textbook
step over time, and get a fast kernel later.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import TYPE_CHECKING, Callable, Mapping, Protocol

import numpy as np

from rnnviz.engine.errors import EngineError

if TYPE_CHECKING:
    from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

Weights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # W_ih (GH, I), W_hh (GH, H), b_ih, b_hh (GH,)
ParamLayout = dict[str, tuple[int, ...]]  # parameter kind ("weight_ih", ...) -> shape, one layer and direction
GATE_KINDS = ("gate", "candidate", "hidden")
STATE_NAMES = ("h_prev", "c_prev", "c", "h")  # the state values a StateUpdate template may name


class CellSpecError(ValueError):
    """A cell spec that contradicts itself (a programming error in a cell module)."""


@dataclass(frozen=True)
class GateSpec:
    """One H-row block of the stacked parameters (PyTorch's gate order) and what its activation is.

    ``kind``: "gate", a sigmoid in [0, 1] that scales something; "candidate", a tanh in [-1, 1], a new
    value to mix in; "hidden", the block's activation is h_t itself (a vanilla RNN, which has no gates).
    ``hidden_scaled_by``: the gate that multiplies this block's hidden projection (GRU's n:
    r_t ⊙ (W_hn h_(t-1) + b_hn)); None when the block is the plain sum of its four terms."""

    name: str  # the symbol and the key in traces and step states, e.g. "f"
    word: str  # what it is called, e.g. "forget gate"
    activation: str  # the function as the equations write it: "σ", "tanh", "ReLU"
    kind: str
    equation: str  # e.g. "f_t = σ(W_if x_t + b_if + W_hf h_(t-1) + b_hf)"
    hidden_scaled_by: str | None = None

    @property
    def output(self) -> str:
        """The name of the value the activation writes: the gate itself, or h for kind "hidden"."""
        return "h" if self.kind == "hidden" else self.name

    @property
    def short_word(self) -> str:
        """The word without "gate": "forget", "candidate"."""
        return self.word.removesuffix(" gate")


@dataclass(frozen=True)
class StateUpdate:
    """An equation that mixes gates into a state (LSTM c_t and h_t, GRU h_t).

    ``numbers`` is the right-hand side as a ``str.format`` template over one unit's values, named like
    the gates and ``h_prev``, ``c_prev``, ``c``, ``h``: the equations panel prints
    "= <numbers filled in> = <result>"."""

    equation: str  # e.g. "c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t"
    numbers: str  # e.g. "{f} · {c_prev} + {i} · {g}"
    result: str  # "c" or "h"


@dataclass(frozen=True)
class StepState:
    """One forward timestep over a batch. ``preact`` and ``gates`` by gate name, each (B, H);
    a vanilla RNN has ``preact = {"a": ...}`` and no gates. A block with ``hidden_scaled_by`` (GRU n)
    keeps the argument of its activation in ``preact``, W_in x + b_in + r ⊙ (W_hn h + b_hn), and its
    hidden projection W_hn h + b_hn in ``hidden_n``."""

    mode: str
    x: np.ndarray  # (B, I)
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray | None  # (B, H) cells with a cell state
    preact: dict[str, np.ndarray]  # gate -> (B, H)
    gates: dict[str, np.ndarray]  # gate -> (B, H)
    h: np.ndarray  # (B, H)
    c: np.ndarray | None = None  # (B, H) cells with a cell state
    hidden_n: np.ndarray | None = None  # (B, H) the hidden projection of a block with hidden_scaled_by


@dataclass(frozen=True)
class StepGrads:
    """One backward timestep over a batch.

    ``local`` are the local derivative factors by name (e.g. "tanh'(a)" = 1 - h², "σ'(f)" = f(1-f));
    ``d_preact`` is dL/d(pre-activation) by gate; ``d_hidden_preact`` (B, G*H) is the gradient at the
    hidden projection W_hh h_(t-1) + b_hh (GRU's n block is d_preact_n ⊙ r); ``contribution`` is this
    timestep's share of each weight gradient, summed over the batch."""

    d_h: np.ndarray  # (B, H) total dL/dh_t that came in
    d_c: np.ndarray | None  # (B, H) cells with a cell state: total dL/dc_t
    local: dict[str, np.ndarray]  # name -> (B, H)
    d_preact: dict[str, np.ndarray]  # gate -> (B, H)
    d_hidden_preact: np.ndarray  # (B, G*H)
    contribution: dict[str, np.ndarray] = field(default_factory=dict)  # W_ih (GH, I), W_hh (GH, H), b_ih, b_hh
    d_h_prev: np.ndarray | None = None  # (B, H) dL/dh_(t-1) through this step
    d_c_prev: np.ndarray | None = None  # (B, H) dL/dc_(t-1) through this step
    d_x: np.ndarray | None = None  # (B, I) dL/dx_t


StepForward = Callable[[Weights, np.ndarray, np.ndarray, "np.ndarray | None"], StepState]
StepBackward = Callable[[Weights, StepState, np.ndarray, "np.ndarray | None"], StepGrads]
InitFunction = Callable[[Mapping[str, np.ndarray], int, np.random.Generator], None]


class CellKernel(Protocol):
    """The fast maths of one layer and direction over a whole padded batch (see cells/rnn.py)."""

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: np.ndarray | None,
                layout: "TimeLayout", padded: np.ndarray | None) -> "LayerTrace":
        """inputs (T, B, I), h0 and c0 (B, H), padded (T, B, 1) bool True at padding."""

    def backward(self, trace: "LayerTrace", W_hh: np.ndarray, d_from_output: np.ndarray,
                 d_h_last: np.ndarray | None, d_c_last: np.ndarray | None,
                 cut: np.ndarray) -> "tuple[LayerGradTrace, np.ndarray, np.ndarray | None]":
        """d_from_output (T, B, H); d_h_last, d_c_last (B, H) or None; cut (T,) bool (tbptt).
        Returns the gradient trace, dL/dh0 and dL/dc0 (None without a cell state)."""


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2 (the second form cannot overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def split_blocks(array: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split the last axis (G*H) into G named (…, H) gate blocks."""
    H = array.shape[-1] // len(names)
    return {name: array[..., k * H:(k + 1) * H] for k, name in enumerate(names)}


def stacked_gate_layout(num_blocks: int) -> Callable[[int, int], ParamLayout]:
    """PyTorch's layout for nn.RNN / nn.LSTM / nn.GRU: every gate block stacked in one matrix,
    W_ih (G*H, I), W_hh (G*H, H), b_ih and b_hh (G*H,)."""

    def layout(layer_input: int, hidden_size: int) -> ParamLayout:
        rows = num_blocks * hidden_size
        return {"weight_ih": (rows, layer_input), "weight_hh": (rows, hidden_size),
                "bias_ih": (rows,), "bias_hh": (rows,)}

    return layout


def pytorch_uniform_init(params: Mapping[str, np.ndarray], hidden_size: int, rng: np.random.Generator) -> None:
    """PyTorch's default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), drawn in the parameters' order."""
    bound = 1.0 / np.sqrt(hidden_size)
    for array in params.values():
        array[...] = rng.uniform(-bound, bound, size=array.shape)


@dataclass(frozen=True)
class CellSpec:
    """Everything the program knows about one cell kind; see the module docstring."""

    name: str  # the key in configs, session files and the CLI, e.g. "lstm"
    title: str  # in combo boxes and panel titles, e.g. "LSTM"
    noun: str  # in sentences, e.g. "an LSTM"
    gates: tuple[GateSpec, ...]  # the parameter blocks in PyTorch's order
    updates: tuple[StateUpdate, ...]  # the state equations after the gate equations
    has_cell_state: bool  # a second state c_t besides h_t (the LSTM)
    carry_gate: str | None  # the gate that carries memory (its bias can start it open); None: none
    kernel: CellKernel  # the fast forward/backward (NumPy)
    step_forward: StepForward  # the textbook timestep
    step_backward: StepBackward
    layout: Callable[[int, int], ParamLayout]  # (layer input size, hidden size) -> kind -> shape
    default_init: InitFunction = pytorch_uniform_init
    hidden_range: tuple[float, float] | None = (-1.0, 1.0)  # where h_t lies; None: unbounded
    pytorch_module: str | None = None  # e.g. "nn.LSTM": its state_dict loads one to one
    compare_by_default: bool = False  # one of the cells the Compare window trains at first
    # An optional faster kernel with the same forward/backward (e.g. compiled, rnnviz/engine/kernels/);
    # when set the engine calls it instead of ``kernel``; it may hand calls it does not cover to ``kernel``.
    compiled_kernel: CellKernel | None = None

    def __post_init__(self) -> None:
        names = self.block_names
        if not self.name or not self.name.isidentifier() or self.name != self.name.lower():
            raise CellSpecError(f"a cell name is a lower-case identifier, got {self.name!r}")
        if not names or len(set(names)) != len(names):
            raise CellSpecError(f"{self.name}: gate names must be distinct and at least one, got {names}")
        for gate in self.gates:
            if gate.kind not in GATE_KINDS:
                raise CellSpecError(f"{self.name}: gate {gate.name} has kind {gate.kind!r}; use one of {GATE_KINDS}")
            if gate.hidden_scaled_by is not None and gate.hidden_scaled_by not in names:
                raise CellSpecError(f"{self.name}: gate {gate.name} is scaled by unknown gate {gate.hidden_scaled_by}")
        if self.carry_gate is not None and self.carry_gate not in self.gate_names:
            raise CellSpecError(f"{self.name}: carry gate {self.carry_gate!r} is not one of {self.gate_names}")
        clash = set(names) & set(STATE_NAMES)
        if clash:
            raise CellSpecError(f"{self.name}: gate names {sorted(clash)} are taken by the states {STATE_NAMES}")
        known = set(self.gate_names) | set(STATE_NAMES)
        for update in self.updates:
            if update.result not in ("c", "h"):
                raise CellSpecError(f"{self.name}: a state update writes c or h, not {update.result!r}")
            used = {field_name for _, field_name, _, _ in Formatter().parse(update.numbers) if field_name}
            if used - known:
                raise CellSpecError(f"{self.name}: {update.numbers!r} names {sorted(used - known)}; "
                                    f"use gate names and {', '.join(STATE_NAMES)}")

    def __reduce__(self):
        """Pickled by name (e.g. to a worker process): unpickling gives the spec registered there."""
        from rnnviz.engine.cells import cell_spec

        return cell_spec, (self.name,)

    @property
    def num_gates(self) -> int:
        """G, the number of H-row blocks in the stacked parameters (a vanilla RNN has 1)."""
        return len(self.gates)

    @property
    def block_names(self) -> tuple[str, ...]:
        """Every parameter block's name in order (a vanilla RNN: its pre-activation "a")."""
        return tuple(gate.name for gate in self.gates)

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gates and candidates a trace holds activations of (a vanilla RNN: none)."""
        return tuple(gate.name for gate in self.gates if gate.kind != "hidden")

    @property
    def equations(self) -> tuple[str, ...]:
        """Every equation of one timestep, in order, as in the PyTorch documentation."""
        return tuple(gate.equation for gate in self.gates) + tuple(update.equation for update in self.updates)

    def gate(self, name: str) -> GateSpec:
        for gate in self.gates:
            if gate.name == name:
                return gate
        raise EngineError(f"{self.title} has no gate {name!r}; its gates are {', '.join(self.block_names)}")

    @property
    def carry_block(self) -> int | None:
        """The index of the carry gate's block in the stacked parameters."""
        return None if self.carry_gate is None else self.block_names.index(self.carry_gate)

    @property
    def active_kernel(self) -> CellKernel:
        return self.compiled_kernel if self.compiled_kernel is not None else self.kernel
