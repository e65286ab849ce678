"""The registry of cell kinds: name -> CellSpec (see ``rnnviz.engine.cells.base``).

Adding a cell kind is one module in this package that builds a ``CellSpec`` and one entry in
``_BUILT_IN`` below. Nothing else in rnnviz lists cell or gate names: configs, the CLI, the UI's combo
boxes and panels, initialisation, compare and PyTorch import all ask this registry.

    spec = cell_spec("lstm")             # CellSpec; EngineError naming the known cells otherwise
    cell_names()                         # ("rnn_tanh", "rnn_relu", "lstm", "gru", "mingru", ...)
    with registered(my_spec): ...        # a cell that exists inside the block only (tests)

Cells registered at run time exist in this process only; a cell that the training worker process
must know is registered here, at import.
"""
from __future__ import annotations

from contextlib import contextmanager
from types import MappingProxyType
from typing import Iterator

from rnnviz.engine.cells import gru, lru, lstm, mingru, minlstm, rnn, selective
from rnnviz.engine.cells.base import CellSpec, GateSpec, StateUpdate, StepGrads, StepState
from rnnviz.engine.cells.gru import GRUCell
from rnnviz.engine.cells.lstm import LSTMCell
from rnnviz.engine.cells.rnn import RNNCell
from rnnviz.engine.errors import EngineError

_BUILT_IN = (rnn.RNN_TANH, rnn.RNN_RELU, lstm.SPEC, gru.SPEC, mingru.SPEC, minlstm.SPEC, lru.SPEC,
             selective.SPEC)
DEFAULT_CELL = lstm.SPEC.name  # what a new session starts with

_registry: dict[str, CellSpec] = {spec.name: spec for spec in _BUILT_IN}
CELLS = MappingProxyType(_registry)  # live, read-only: name -> CellSpec


def cell_names() -> tuple[str, ...]:
    """The registered cell names, in registration order."""
    return tuple(_registry)


def cell_specs() -> tuple[CellSpec, ...]:
    return tuple(_registry.values())


def cell_spec(name: str) -> CellSpec:
    """The spec of ``name``; an EngineError that lists the known cells when there is none."""
    spec = _registry.get(name) if isinstance(name, str) else None
    if spec is None:
        raise EngineError(f"unknown cell mode {name!r}; use one of {', '.join(_registry)}")
    return spec


def comparison_cells() -> tuple[str, ...]:
    """The cells the Compare window trains side by side at first."""
    return tuple(spec.name for spec in _registry.values() if spec.compare_by_default)


def carry_gates() -> str:
    """The carry gate of every cell that has one, e.g. "LSTM forget / GRU update gate"."""
    gates = [f"{spec.title} {spec.gate(spec.carry_gate).short_word}" for spec in _registry.values() if spec.carry_gate]
    return " / ".join(gates) + " gate"


def pytorch_modules() -> str:
    """The PyTorch modules whose state dicts load one to one, e.g. "nn.RNN/nn.LSTM/nn.GRU"."""
    return "/".join(dict.fromkeys(spec.pytorch_module for spec in _registry.values() if spec.pytorch_module))


def register(spec: CellSpec) -> None:
    """Add a cell kind; its name must be new."""
    if not isinstance(spec, CellSpec):
        raise TypeError(f"register takes a CellSpec, got {type(spec).__name__}")
    if spec.name in _registry:
        raise ValueError(f"a cell named {spec.name!r} is already registered")
    _registry[spec.name] = spec


def unregister(name: str) -> None:
    """Remove a cell kind registered with ``register`` (the built-in ones stay)."""
    if any(spec.name == name for spec in _BUILT_IN):
        raise ValueError(f"{name!r} is a built-in cell and cannot be unregistered")
    cell_spec(name)
    del _registry[name]


@contextmanager
def registered(spec: CellSpec) -> Iterator[CellSpec]:
    """Register ``spec`` for the duration of a ``with`` block (e.g. a test's own cell)."""
    register(spec)
    try:
        yield spec
    finally:
        unregister(spec.name)


__all__ = [
    "CELLS",
    "DEFAULT_CELL",
    "CellSpec",
    "GRUCell",
    "GateSpec",
    "LSTMCell",
    "RNNCell",
    "StateUpdate",
    "StepGrads",
    "StepState",
    "carry_gates",
    "cell_names",
    "cell_spec",
    "cell_specs",
    "comparison_cells",
    "pytorch_modules",
    "register",
    "registered",
    "unregister",
]
