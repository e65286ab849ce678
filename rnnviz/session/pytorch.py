"""Load weights trained in PyTorch into a model's recurrent core.

The file is an ``.npz`` of an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` state dict, written with

    np.savez(path, **{name: tensor.numpy() for name, tensor in module.state_dict().items()})

The core uses PyTorch's names and shapes (``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H),
``bias_ih_l0`` / ``bias_hh_l0`` (G*H,), ``..._reverse`` for the second direction, with G = 1 for an
RNN, 3 for a GRU and 4 for an LSTM), so the arrays copy over one to one. The output head is not
touched: PyTorch's recurrent modules have none.

The file is untrusted: it is read with ``storage.read_npz`` (sizes checked first, never unpickled),
every array must be a finite real number array, and nothing is changed unless every name and shape
fits. A mismatch is reported in one message that lists the missing, unexpected and wrongly shaped
arrays and, where the shapes tell, what the file was saved from (cell kind, hidden size, layers,
directions, input size).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine.cells import cell_spec, cell_specs
from rnnviz.engine.model import SequenceModel
from rnnviz.session.storage import SessionFileError, read_npz

MAX_WEIGHTS_BYTES = 256 << 20  # uncompressed
_PARAM_NAME = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")


class WeightsFileError(ValueError):
    """A weights file that cannot be loaded into this model: the message says what and what to do."""


@dataclass(frozen=True)
class SavedShape:
    """What a state dict's shapes say about the module it came from (None where they do not tell)."""

    gates: int | None  # rows of weight_hh_l0 / hidden size: CellSpec.num_gates (1 RNN, 3 GRU, 4 LSTM)
    hidden_size: int | None
    input_size: int | None
    num_layers: int
    bidirectional: bool


def load_pytorch_weights(model_or_session: Any, path: str | os.PathLike) -> list[str]:
    """Copy the recurrent weights in the ``.npz`` at ``path`` into the model's core.

    ``model_or_session`` is a ``SequenceModel`` or anything with a ``.model`` that is one (a Session).
    Returns the names loaded. Raises WeightsFileError (and changes nothing) when the file cannot be
    read, holds non-finite or non-numeric arrays, or does not fit the core.
    """
    model = _model_of(model_or_session)
    arrays = _strip_common_prefix(read_weights(path), model)
    expected = model.core.param_shapes()
    problems = _mismatches(arrays, expected)
    if problems:
        hints = _hints(arrays, model)
        raise WeightsFileError(
            f"{Path(path).name} does not fit this {model.core.describe()}: {'; '.join(problems)}"
            + (f". {' '.join(hints)}" if hints else ".")
            + " Build the network with the settings the weights were trained with"
        )
    model.core.load_state_dict(arrays)
    return list(expected)


def read_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, checked to be finite real numbers."""
    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"{path} does not exist or is not a file; give the .npz the weights were saved to")
    try:
        arrays = read_npz(path, max_bytes=MAX_WEIGHTS_BYTES)
    except SessionFileError as exc:
        raise WeightsFileError(f"cannot load weights from {path}: {exc}") from None
    if not arrays:
        raise WeightsFileError(f"{path.name} holds no arrays; save the module's state_dict into it")
    for name, array in arrays.items():
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise WeightsFileError(
                f"{path.name}: {name} holds {array.dtype} values, not real numbers; "
                "save the tensors with tensor.numpy()"
            )
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise WeightsFileError(
                f"{path.name}: {name} has {bad} non-finite value(s) (NaN or infinity); "
                "these weights come from a diverged run, save them from an earlier checkpoint"
            )
    return arrays


def describe_saved(arrays: dict[str, np.ndarray]) -> SavedShape:
    """Read the cell kind, sizes, layers and directions off a state dict's names and shapes."""
    hh = arrays.get("weight_hh_l0")
    ih = arrays.get("weight_ih_l0")
    gates = hidden = inputs = None
    if hh is not None and hh.ndim == 2 and hh.shape[1] > 0 and hh.shape[0] % hh.shape[1] == 0:
        hidden = hh.shape[1]
        gates = hh.shape[0] // hidden
    if ih is not None and ih.ndim == 2:
        inputs = ih.shape[1]
    layers = {int(m.group(2)) for m in map(_PARAM_NAME.match, arrays) if m}
    return SavedShape(
        gates=gates, hidden_size=hidden, input_size=inputs,
        num_layers=max(layers) + 1 if layers else 0,
        bidirectional=any(name.endswith("_reverse") for name in arrays),
    )


# --- internals ---------------------------------------------------------------------------------


def _model_of(target: Any) -> SequenceModel:
    model = getattr(target, "model", target)
    if not isinstance(model, SequenceModel):
        raise TypeError(f"load_pytorch_weights needs a SequenceModel or a Session, got {type(target).__name__}")
    return model


def _strip_common_prefix(arrays: dict[str, np.ndarray], model: SequenceModel) -> dict[str, np.ndarray]:
    """``rnn.weight_ih_l0`` -> ``weight_ih_l0`` when every name carries the same ``module.`` prefix
    (a state dict saved from a model that holds the recurrent module as an attribute)."""
    expected = model.core.param_shapes()
    if any(name in expected for name in arrays):
        return arrays
    prefixes = {name.rpartition(".")[0] for name in arrays}
    if len(prefixes) != 1 or not next(iter(prefixes)):
        return arrays
    cut = len(next(iter(prefixes))) + 1
    return {name[cut:]: array for name, array in arrays.items()}


def _mismatches(arrays: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> list[str]:
    missing = [name for name in expected if name not in arrays]
    extra = sorted(name for name in arrays if name not in expected)
    wrong = [
        f"{name} is {_shape(arrays[name].shape)}, needs {_shape(shape)}"
        for name, shape in expected.items()
        if name in arrays and arrays[name].shape != shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected {', '.join(extra)}")
    if wrong:
        problems.append(f"wrong shapes: {', '.join(wrong)}")
    return problems


def _hints(arrays: dict[str, np.ndarray], model: SequenceModel) -> list[str]:
    """Sentences saying which settings the file's shapes point to, where they differ from the model."""
    saved = describe_saved(arrays)
    core = model.core
    hints = []
    if saved.gates is not None and saved.gates != core.cell.num_gates:
        kind = cells_with_gate_blocks(saved.gates) or f"a cell with {saved.gates} gates"
        hints.append(
            f"The file's weight_hh_l0 has {saved.gates} x {saved.hidden_size} = {saved.gates * saved.hidden_size} "
            f"rows, so it comes from {kind}; "
            f"this network is {cell_spec(core.mode).title} ({core.cell.num_gates} gate block"
            f"{'s' if core.cell.num_gates > 1 else ''})."
        )
    if saved.hidden_size is not None and saved.hidden_size != core.hidden_size:
        hints.append(f"The file was saved with hidden size {saved.hidden_size}; this network has {core.hidden_size}.")
    if saved.num_layers and saved.num_layers != core.num_layers:
        hints.append(f"The file has {saved.num_layers} layer(s); this network has {core.num_layers}.")
    if saved.num_layers and saved.bidirectional != core.bidirectional:
        hints.append(
            "The file is from a bidirectional module; this network is not."
            if saved.bidirectional else "The file is from a one-direction module; this network is bidirectional."
        )
    if saved.input_size is not None and saved.input_size != core.input_size:
        hints.append(
            f"The file's layer 0 reads {saved.input_size} input feature(s); this task feeds {core.input_size}."
        )
    if any(name.startswith("weight_hr_l") for name in arrays):
        hints.append("LSTM projections (proj_size) are not supported; train without proj_size.")
    return hints


def cells_with_gate_blocks(count: int) -> str:
    """The PyTorch-compatible cells with ``count`` gate blocks as a phrase, their nouns with their
    names in brackets; "" when there are none."""
    names_by_noun: dict[str, list[str]] = {}
    for spec in cell_specs():
        if spec.pytorch_module and spec.num_gates == count:
            names_by_noun.setdefault(spec.noun, []).append(spec.name)
    return " or ".join(f"{noun} ({' or '.join(names)})" for noun, names in names_by_noun.items())


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))
