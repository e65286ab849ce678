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

Parameters: ``layout`` names the parameter kinds of one layer and direction and their shapes, in
order (the ``Weights`` tuple the kernel and the step functions receive follows it); the model's
parameter names are ``<kind>_l<layer>[_reverse]``. The PyTorch cells use the stacked layout
(``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``, G gate blocks of H rows each) and get their
parameter gradients from the gradient trace with ``stacked_accumulate``; a cell with other parameters
(the LRU's complex diagonal, the selective layer's A and Δ) brings its own ``accumulate``.

States: h_t is what a layer outputs (to the layer above and to the head). A cell with a cell state
c_t (``has_cell_state``) keeps a second state of ``state_size(H)`` values per sample: the LSTM's
memory cell, or the state of a linear recurrence whose output h_t is read off it (the LRU, the
selective layer). ``memory_state`` says which of the two carries information from step to step, and
so which gradient shows how far back the loss reaches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import TYPE_CHECKING, Callable, Mapping, Protocol

import numpy as np

from rnnviz.engine.errors import EngineError

if TYPE_CHECKING:
    from rnnviz.engine.trace import LayerGradTrace, LayerTrace, TimeLayout

Weights = tuple[np.ndarray, ...]  # one layer and direction's parameters in ``CellSpec.layout`` order
# (stacked cells: W_ih (GH, I), W_hh (GH, H), b_ih, b_hh (GH,))
ParamLayout = dict[str, tuple[int, ...]]  # parameter kind ("weight_ih", ...) -> shape, one layer and direction
STACKED_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
STACKED_LABELS = {"weight_ih": "W_ih", "weight_hh": "W_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}
# What each kind of activation is and where its values lie (None: unbounded). "gate": a sigmoid that
# scales something; "candidate": a tanh, a new value to mix in; "linear": no activation (minGRU's and
# minLSTM's candidate h̃, the LRU's input drive); "positive": a positive step size (softplus);
# "hidden": the block's activation is h_t itself (a vanilla RNN, which has no gates).
KIND_RANGES: dict[str, tuple[float, float] | None] = {
    "gate": (0.0, 1.0), "candidate": (-1.0, 1.0), "linear": None, "positive": None, "hidden": None,
}
GATE_KINDS = tuple(KIND_RANGES)
STATE_NAMES = ("h_prev", "c_prev", "c", "h")  # the state values a StateUpdate template may name


def param_label(kind: str) -> str:
    """How views print a parameter kind: W_ih, W_hh, b_ih, b_hh for the stacked ones, else the kind."""
    return STACKED_LABELS.get(kind, kind)


def param_kind(name: str) -> str:
    """The kind of a parameter name: ``weight_hh_l1_reverse`` -> ``weight_hh``, ``A_log_l0`` -> ``A_log``."""
    kind, separator, _ = name.rpartition("_l")
    if not separator:
        raise ValueError(f"{name!r} is not a recurrent parameter name (<kind>_l<layer>[_reverse])")
    return kind


class CellSpecError(ValueError):
    """A cell spec that contradicts itself (a programming error in a cell module)."""


@dataclass(frozen=True)
class GateSpec:
    """One H-wide block of the pre-activations (for the stacked cells: H rows of the stacked parameters,
    in PyTorch's gate order) and what its activation is; or, in ``CellSpec.derived``, a value the step
    computes from the gates (minLSTM's normalised gates).

    ``kind``: one of ``KIND_RANGES`` ("gate" in [0, 1], "candidate" in [-1, 1], "linear", "positive",
    "hidden"); ``value_range`` is where its values lie. ``hidden_scaled_by``: the gate that multiplies this block's hidden projection (GRU's n:
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

    @property
    def value_range(self) -> tuple[float, float] | None:
        return KIND_RANGES.get(self.kind)


@dataclass(frozen=True)
class StateUpdate:
    """An equation that mixes gates into a state (LSTM c_t and h_t, GRU h_t).

    ``numbers`` is the right-hand side as a ``str.format`` template over one unit's values, named like
    the gates and ``h_prev``, ``c_prev``, ``c``, ``h`` (and the spec's ``display_values``): the
    equations panel prints "= <numbers filled in> = <result>". An empty template means one unit's
    state is a vector (the selective layer's N numbers per channel): the equation has no single number.
    ``result`` is "c", "h", a derived value or a display value."""

    equation: str  # e.g. "c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t"
    numbers: str  # e.g. "{f} · {c_prev} + {i} · {g}"
    result: str  # "c", "h", or a name of CellSpec.derived / display_values


@dataclass(frozen=True)
class StepState:
    """One forward timestep over a batch. ``preact`` and ``gates`` by gate name, each (B, H);
    a vanilla RNN has ``preact = {"a": ...}`` and no gates. A block with ``hidden_scaled_by`` (GRU n)
    keeps the argument of its activation in ``preact``, W_in x + b_in + r ⊙ (W_hn h + b_hn), and its
    hidden projection W_hn h + b_hn in ``hidden_n``. ``gates`` also holds the spec's derived values
    and its display values (per-unit numbers the equations print, e.g. the LRU's Re λ). ``c_prev`` and
    ``c`` are (B, S), S = ``CellSpec.state_size(H)``."""

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
    hidden projection W_hh h_(t-1) + b_hh (GRU's n block is d_preact_n ⊙ r; (B, 0) for a cell without
    one); ``contribution`` is this timestep's share of each parameter's gradient, summed over the
    batch, by ``param_label``: a cell outside the stacked layout fills it itself, for the others
    ``rnnviz.engine.stepping.step_backward`` does."""

    d_h: np.ndarray  # (B, H) total dL/dh_t that came in
    d_c: np.ndarray | None  # (B, H) cells with a cell state: total dL/dc_t
    local: dict[str, np.ndarray]  # name -> (B, H)
    d_preact: dict[str, np.ndarray]  # gate -> (B, H)
    d_hidden_preact: np.ndarray  # (B, G*H)
    contribution: dict[str, np.ndarray] = field(default_factory=dict)  # label -> like the parameter
    d_h_prev: np.ndarray | None = None  # (B, H) dL/dh_(t-1) through this step
    d_c_prev: np.ndarray | None = None  # (B, H) dL/dc_(t-1) through this step
    d_x: np.ndarray | None = None  # (B, I) dL/dx_t


StepForward = Callable[[Weights, np.ndarray, np.ndarray, "np.ndarray | None"], StepState]
StepBackward = Callable[[Weights, StepState, np.ndarray, "np.ndarray | None"], StepGrads]
InitFunction = Callable[[Mapping[str, np.ndarray], int, np.random.Generator], None]
# (forward trace, gradient trace, weights by kind, gradients by kind to write, dL/d inputs to add to)
Accumulate = Callable[["LayerTrace", "LayerGradTrace", Mapping[str, np.ndarray], Mapping[str, np.ndarray],
                       np.ndarray], None]


@dataclass(frozen=True)
class StepDecay:
    """The multiplier a_t of the memory state in state_t = a_t ⊙ state_(t-1) + b_t of a cell whose decay
    depends on the input (minGRU's 1 - z_t, minLSTM's f′_t, the selective layer's Ā_t): how much of its
    memory each unit keeps at each step. ``values(trace, weights)`` gives (T, B, R) from one layer and
    direction's forward trace and weights (``CellSpec.layout`` order); R is H, or the state size S."""

    label: str  # its symbol, e.g. "1 − z_t", "Ā_t"
    values: Callable[["LayerTrace", Weights], np.ndarray]
    rows: str = "hidden unit"  # what the R rows are
    equation: str = ""  # what the symbol stands for, when it is not plain, e.g. "Ā_t = exp(Δ_t A)"


class CellKernel(Protocol):
    """The fast maths of one layer and direction over a whole padded batch (see cells/rnn.py)."""

    def forward(self, inputs: np.ndarray, weights: Weights, h0: np.ndarray, c0: np.ndarray | None,
                layout: "TimeLayout", padded: np.ndarray | None) -> "LayerTrace":
        """inputs (T, B, I), h0 and c0 (B, H), padded (T, B, 1) bool True at padding."""

    def backward(self, trace: "LayerTrace", W_hh: np.ndarray | None, d_from_output: np.ndarray,
                 d_h_last: np.ndarray | None, d_c_last: np.ndarray | None,
                 cut: np.ndarray) -> "tuple[LayerGradTrace, np.ndarray, np.ndarray | None]":
        """W_hh: the layout's weight_hh (None when it has none); d_from_output (T, B, H); d_h_last (B, H),
        d_c_last (B, S) or None; cut (T,) bool (tbptt).
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


def stacked_accumulate(forward: "LayerTrace", grads: "LayerGradTrace", weights: Mapping[str, np.ndarray],
                       out: Mapping[str, np.ndarray], d_input: np.ndarray | None) -> None:
    """The stacked layout's gradients as one matmul over time x batch each (the kinds the layout has):
    dW_ih = Σ_t d_preact_t^T x_t, db_ih = Σ d_preact_t, dW_hh = Σ_t d_hidden_preact_t^T h_(t-1),
    db_hh = Σ d_hidden_preact_t; and d_input += d_preact @ W_ih (None: not wanted, see
    ``Recurrent.backward``). The bias sums are ones @ d_preact: BLAS, ~4x np.sum(axis=0) here."""
    T, B, GH = grads.d_preact.shape
    d_pre = grads.d_preact.reshape(T * B, GH)
    ones = np.ones(T * B, dtype=d_pre.dtype)
    if "weight_ih" in out:
        np.dot(d_pre.T, grads.inputs.reshape(T * B, -1), out=out["weight_ih"])
    if "bias_ih" in out:
        np.dot(ones, d_pre, out=out["bias_ih"])
    if "weight_hh" in out or "bias_hh" in out:
        d_hid = grads.d_hidden_preact.reshape(T * B, -1)
        if "weight_hh" in out:
            np.dot(d_hid.T, grads.prev_hidden.reshape(T * B, -1), out=out["weight_hh"])
        if "bias_hh" in out and "bias_ih" in out and grads.d_hidden_preact is grads.d_preact:
            out["bias_hh"][...] = out["bias_ih"]  # LSTM, RNN: one sum serves both biases
        elif "bias_hh" in out:
            np.dot(ones, d_hid, out=out["bias_hh"])
    if d_input is not None:
        d_input += (d_pre @ weights["weight_ih"]).reshape(d_input.shape)


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
    accumulate: Accumulate = stacked_accumulate  # parameter gradients and dL/d inputs from a gradient trace
    derived: tuple[GateSpec, ...] = ()  # values computed from the gates, kept in traces (minLSTM f′, i′)
    display_values: tuple[str, ...] = ()  # further per-unit values the step states hold for the equations
    state_size: Callable[[int], int] | None = None  # S(H), values in c_t; None: H (the LSTM)
    state_word: str = "cell state"  # what c_t is called in the views
    memory_state: str = "h"  # "h" or "c": the state that carries information from one step to the next
    # h_t = a_t ⊙ h_(t-1) + b_t with a_t, b_t free of the state: the kernel can run an associative scan
    # (``Recurrent(..., scan=True)``, rnnviz/engine/scan.py)
    scannable: bool = False
    # a scannable cell's state update written as one linear recurrence, e.g. "c_t = λ ⊙ c_(t-1) + γ ⊙ (B x_t)"
    recurrence: str = ""
    # the trace's size per hidden unit, timestep and sample in gate blocks, for the memory estimate
    # (rnnviz/engine/memory.py); None: num_gates. Measured for each cell in tests/engine/test_memory.py
    memory_blocks: int | None = None
    # The eigenvalues of the recurrence that do not depend on the input, by name (the LRU: its λ);
    # None: each H x H gate block of W_hh (none for a cell without W_hh: its decay is input-dependent)
    eigenvalues: Callable[[Weights], dict[str, np.ndarray]] | None = None
    # The input-dependent decay of the memory state per timestep (``StepDecay``); None: the cell has none
    # (its decay is W_hh's, or a constant λ: see ``eigenvalues``)
    decay: StepDecay | None = None
    notes: str = ""  # what a person should know about the cell (README-level, shown in tooltips)
    # what the columns of each parameter kind are (the weights panel's axis); the stacked kinds are known
    column_words: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

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
        for value in self.derived:
            if value.kind not in GATE_KINDS or value.kind == "hidden":
                raise CellSpecError(f"{self.name}: derived value {value.name} has kind {value.kind!r}")
        if len(set(self.gate_names) | set(self.display_values)) != len(self.gate_names) + len(self.display_values):
            raise CellSpecError(f"{self.name}: gate, derived and display names must be distinct")
        if self.memory_state not in ("h", "c") or (self.memory_state == "c" and not self.has_cell_state):
            raise CellSpecError(f"{self.name}: memory_state is 'h', or 'c' for a cell with a cell state")
        if self.scannable and not self.recurrence:
            raise CellSpecError(f"{self.name}: a scannable cell writes its update as one linear recurrence "
                                "(recurrence = 'h_t = a_t ⊙ h_(t-1) + b_t' in its own symbols)")
        if self.carry_gate is not None and self.carry_gate not in self.gate_names:
            raise CellSpecError(f"{self.name}: carry gate {self.carry_gate!r} is not one of {self.gate_names}")
        clash = (set(names) | set(self.gate_names) | set(self.display_values)) & set(STATE_NAMES)
        if clash:
            raise CellSpecError(f"{self.name}: gate names {sorted(clash)} are taken by the states {STATE_NAMES}")
        known = set(self.gate_names) | set(STATE_NAMES) | set(self.display_values)
        for update in self.updates:
            if update.result not in known - {"h_prev", "c_prev"} - set(self.block_names):
                raise CellSpecError(f"{self.name}: a state update writes c, h, a derived or a display value, "
                                    f"not {update.result!r}")
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
        """The gates, candidates and derived values a trace holds (a vanilla RNN: none)."""
        return tuple(gate.name for gate in self.gates if gate.kind != "hidden") + tuple(v.name for v in self.derived)

    @property
    def shown_values(self) -> tuple[GateSpec, ...]:
        """Every GateSpec whose values a trace holds: the non-hidden blocks, then the derived values."""
        return tuple(gate for gate in self.gates if gate.kind != "hidden") + self.derived

    def param_kinds(self) -> tuple[str, ...]:
        """The parameter kinds of one layer and direction, in layout order."""
        return tuple(self.layout(1, 1))

    def cell_state_size(self, hidden_size: int) -> int:
        """S, the values in c_t (cells with a cell state)."""
        return hidden_size if self.state_size is None else int(self.state_size(hidden_size))

    @property
    def stacked(self) -> bool:
        """Parameters in PyTorch's stacked layout (W_ih first): the stacked initialisations apply."""
        return self.param_kinds()[:1] == ("weight_ih",) and set(self.param_kinds()) <= set(STACKED_KINDS)

    def memory_gradient(self, grads: "LayerGradTrace") -> np.ndarray:
        """(T, B, ·) dL/d(the state that carries memory): dL/dh_t, or dL/dc_t when ``memory_state`` is "c"."""
        return grads.d_cell_state if self.memory_state == "c" else grads.d_hidden

    @property
    def equations(self) -> tuple[str, ...]:
        """Every equation of one timestep, in order, as in the PyTorch documentation."""
        return tuple(gate.equation for gate in self.gates) + tuple(update.equation for update in self.updates)

    def gate(self, name: str) -> GateSpec:
        for gate in self.gates + self.derived:
            if gate.name == name:
                return gate
        raise EngineError(f"{self.title} has no gate {name!r}; its gates are {', '.join(self.block_names)}")

    @property
    def trace_blocks(self) -> int:
        """Gate blocks' worth of trace per hidden unit (``memory_blocks``, else ``num_gates``)."""
        return self.num_gates if self.memory_blocks is None else self.memory_blocks

    @property
    def carry_block(self) -> int | None:
        """The index of the carry gate's block in the stacked parameters."""
        return None if self.carry_gate is None else self.block_names.index(self.carry_gate)

    @property
    def active_kernel(self) -> CellKernel:
        return self.compiled_kernel if self.compiled_kernel is not None else self.kernel
