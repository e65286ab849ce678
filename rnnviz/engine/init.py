"""Weight initialisations applied to a Recurrent in place, seeded.

    initialise(core, "orthogonal", seed=0)
    initialise(core, "identity", seed=0, scale=1.2)   # IRNN; scale > 1 shows exploding gradients

Each works per gate block: the (G*H, ·) weight matrices are G stacked (H, ·) blocks, one per gate.
They apply to the cells with PyTorch's stacked layout (``CellSpec.stacked``; minGRU and minLSTM have
only its input half, so only the ones that leave W_hh alone fit them); the LRU and the selective layer
have their own initialisation, the "default".
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from rnnviz.engine.cells import cell_spec, cell_specs
from rnnviz.engine.errors import EngineError
from rnnviz.engine.recurrent import Recurrent, param_name


class InitError(EngineError):
    """An unknown initialisation or a bad argument for one."""


def _needs(core: Recurrent, name: str, kinds: tuple[str, ...]) -> None:
    """InitError unless the core's cell has the stacked parameters ``kinds`` this initialisation sets."""
    missing = [kind for kind in kinds if kind not in core.cell.param_kinds()]
    if not core.cell.stacked or missing:
        what = f"has no {' or '.join(missing)}" if core.cell.stacked else "does not have PyTorch's stacked weights"
        fits = [spec.name for spec in cell_specs()
                if spec.stacked and all(kind in spec.param_kinds() for kind in kinds)]
        raise InitError(f"the {name} initialisation does not fit {core.cell.noun}, which {what}; "
                        f"use it with {', '.join(fits)}, or use the default initialisation")


def _blocks(core: Recurrent, kind: str):
    """Yield (layer, direction, list of (H, ·) gate-block views) of every ``kind`` matrix."""
    H, G = core.hidden_size, core.cell.num_gates
    params = core.parameters()
    for layer in range(core.num_layers):
        for direction in range(core.num_directions):
            matrix = params[param_name(kind, layer, direction)]
            yield [matrix[g * H:(g + 1) * H] for g in range(G)]


def _zero_biases(core: Recurrent) -> None:
    for name, array in core.parameters().items():
        if name.startswith("bias"):
            array[...] = 0


def _glorot(block: np.ndarray, rng: np.random.Generator) -> None:
    """U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_out, fan_in = block.shape
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    block[...] = rng.uniform(-bound, bound, size=block.shape)


def _orthogonal(block: np.ndarray, rng: np.random.Generator) -> None:
    """A uniformly random orthogonal matrix (QR of a Gaussian with the sign of diag(R) fixed)."""
    rows, cols = block.shape
    gaussian = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))
    block[...] = q if rows >= cols else q.T


def init_default(core: Recurrent, seed: int | None = None) -> None:
    """PyTorch's default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    core.reset_parameters(seed)


def init_xavier(core: Recurrent, seed: int | None = None) -> None:
    """Glorot uniform on each gate block of W_ih and W_hh (cells without W_hh: W_ih), zero biases."""
    _needs(core, "xavier", ("weight_ih",))
    rng = np.random.default_rng(seed)
    for kind in [k for k in ("weight_ih", "weight_hh") if k in core.cell.param_kinds()]:
        for blocks in _blocks(core, kind):
            for block in blocks:
                _glorot(block, rng)
    _zero_biases(core)


def init_orthogonal(core: Recurrent, seed: int | None = None) -> None:
    """Orthogonal W_hh per gate block (Saxe et al. 2014), Glorot W_ih, zero biases."""
    _needs(core, "orthogonal", ("weight_ih", "weight_hh"))
    rng = np.random.default_rng(seed)
    for blocks in _blocks(core, "weight_ih"):
        for block in blocks:
            _glorot(block, rng)
    for blocks in _blocks(core, "weight_hh"):
        for block in blocks:
            _orthogonal(block, rng)
    _zero_biases(core)


def init_identity(core: Recurrent, seed: int | None = None, scale: float = 1.0,
                  input_std: float = 0.001) -> None:
    """IRNN (Le, Jaitly & Hinton 2015): W_hh = scale * I, W_ih ~ N(0, input_std²), zero biases.

    Made for relu RNNs; on gated cells every gate block of W_hh gets scale * I.
    """
    if not np.isfinite(scale) or scale <= 0:
        raise InitError(f"identity init scale must be a positive number, got {scale!r}")
    if not np.isfinite(input_std) or input_std < 0:
        raise InitError(f"identity init input_std must be >= 0, got {input_std!r}")
    _needs(core, "identity", ("weight_ih", "weight_hh"))
    rng = np.random.default_rng(seed)
    for blocks in _blocks(core, "weight_ih"):
        for block in blocks:
            block[...] = rng.normal(0.0, input_std, size=block.shape)
    for blocks in _blocks(core, "weight_hh"):
        for block in blocks:
            block[...] = scale * np.eye(core.hidden_size)
    _zero_biases(core)


INITS: dict[str, Callable[..., None]] = {
    "default": init_default,
    "xavier": init_xavier,
    "orthogonal": init_orthogonal,
    "identity": init_identity,
}


def initialise(core: Recurrent, name: str, seed: int | None = None, **kwargs) -> None:
    """Apply the initialisation ``name`` (one of INITS) to ``core`` in place."""
    if name not in INITS:
        raise InitError(f"unknown initialisation {name!r}; use one of {', '.join(INITS)}")
    try:
        INITS[name](core, seed, **kwargs)
    except TypeError as error:
        raise InitError(f"initialisation {name!r} got a bad argument: {error}") from None


def has_carry_gate(mode: str) -> bool:
    """Whether the cell ``mode`` has a gate that carries memory (``CellSpec.carry_gate``)."""
    return cell_spec(mode).carry_gate is not None


def set_carry_gate_bias(core: Recurrent, value: float) -> None:
    """Start the carry gate (``CellSpec.carry_gate``, e.g. the LSTM's forget gate) open: its
    pre-activation bias becomes ``value`` in every layer and direction (b_ih block = value, b_hh
    block = 0). σ(4) ≈ 0.98 lets a gated cell carry its state and its gradient across many steps
    (Gers et al. 2000; Jozefowicz et al. 2015)."""
    k = core.cell.carry_block
    if k is None:
        with_carry = [spec.name for spec in cell_specs() if spec.carry_gate is not None]
        raise InitError(f"only {' and '.join(with_carry)} have a carry gate; this core is {core.mode}")
    H = core.hidden_size
    for name, array in core.parameters().items():
        if name.startswith("bias_ih"):
            array[k * H:(k + 1) * H] = value
        elif name.startswith("bias_hh"):
            array[k * H:(k + 1) * H] = 0
