"""Weights trained in PyTorch, in and out of a model's recurrent core.

A weights file is an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` state dict, as ``.safetensors`` (the
format the field uses now) or as an ``.npz``:

    safetensors.torch.save_file(module.state_dict(), "weights.safetensors")
    np.savez("weights.npz", **{name: tensor.numpy() for name, tensor in module.state_dict().items()})

The core uses PyTorch's names and shapes (``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H),
``bias_ih_l0`` / ``bias_hh_l0`` (G*H,), ``..._reverse`` for the second direction, with G = 1 for an
RNN, 3 for a GRU and 4 for an LSTM), so the arrays copy over one to one. The output head is not
touched: PyTorch's recurrent modules have none. A state dict of a whole model (``rnn.*`` next to
``fc.*``) loads its one recurrent module and names what it ignored. ``save_pytorch_weights`` writes the
core the other way, in a file ``torch.nn.LSTM(...).load_state_dict`` accepts.

The file is untrusted: an .npz is read with ``storage.read_npz`` and a .safetensors file's header is
parsed and checked (size, dtypes, shapes, offsets within the file) before the ``safetensors``
package loads it; nothing is ever unpickled. Every array must be a finite real number array, and
nothing is changed unless every name and shape fits. A mismatch is reported in one message that
lists the missing, unexpected and wrongly shaped arrays and, where the shapes tell, what the file was
saved from (cell kind, hidden size, projection, layers, directions, input size).
"""
from __future__ import annotations

import math
import os
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine.cells import cell_spec, cell_specs, pytorch_modules
from rnnviz.engine.model import SequenceModel
from rnnviz.session.storage import SessionFileError, describe_os_error, parse_json, read_npz

MAX_WEIGHTS_BYTES = 1 << 30  # uncompressed; a 4-layer bidirectional float64 LSTM of hidden 1024 is ~0.7 GiB
MAX_SAFETENSORS_HEADER = 1 << 20
SAFETENSORS_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
                      "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}
SUFFIXES = (".safetensors", ".npz")
_PARAM_NAME = re.compile(r"^(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
_SESSION_PREFIXES = ("param/", "optim/", "history/")


class WeightsFileError(ValueError):
    """A weights file that cannot be loaded into this model: the message says what and what to do."""


class LoadedWeights(list):
    """The names loaded (a list), and ``ignored``: arrays of the file outside the recurrent module."""

    def __init__(self, names: list[str], ignored: list[str]) -> None:
        super().__init__(names)
        self.ignored = ignored


@dataclass(frozen=True)
class SavedShape:
    """What a state dict's shapes say about the module it came from (None where they do not tell)."""

    gates: int | None  # rows of weight_hh_l0 / hidden size: CellSpec.num_gates (1 RNN, 3 GRU, 4 LSTM)
    hidden_size: int | None
    input_size: int | None
    num_layers: int
    bidirectional: bool
    proj_size: int | None = None  # an LSTM with proj_size (weight_hr_l0 is (proj_size, hidden))


def load_pytorch_weights(model_or_session: Any, path: str | os.PathLike) -> LoadedWeights:
    """Copy the recurrent weights in the file at ``path`` into the model's core.

    ``model_or_session`` is a ``SequenceModel`` or anything with a ``.model`` that is one (a Session).
    Returns the names loaded (and ``.ignored``, the file's arrays of other modules). Raises
    WeightsFileError (and changes nothing) when the file cannot be read, holds non-finite or
    non-numeric arrays, or does not fit the core.
    """
    model = _model_of(model_or_session)
    _require_pytorch_module(model, "import", "train it here, or choose one of those cells to import weights")
    path = Path(path).expanduser()
    arrays, ignored = recurrent_arrays(read_weights(path), path.name)
    expected = model.core.param_shapes()
    problems = _mismatches(arrays, expected)
    if problems:
        hints = _hints(arrays, model)
        raise WeightsFileError(
            f"{path.name} does not fit this {model.core.describe()}: {'; '.join(problems)}"
            + (f". {' '.join(hints)}" if hints else ".")
            + " Build the network with the settings the weights were trained with"
        )
    model.core.load_state_dict(arrays)
    return LoadedWeights(list(expected), ignored)


def save_pytorch_weights(model_or_session: Any, path: str | os.PathLike) -> Path:
    """Write the core's weights under PyTorch's names to ``path`` (.safetensors or .npz), atomically;
    ``torch.nn.RNN/LSTM/GRU(...).load_state_dict`` of the same settings accepts the file."""
    model = _model_of(model_or_session)
    _require_pytorch_module(model, "export", "its parameters are in the session's model.npz, named as the "
                            "README's table of the cells lists them")
    path = Path(path).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise WeightsFileError(f"{path.name}: give a file name ending in .safetensors or .npz")
    if path.is_dir():
        raise WeightsFileError(f"{path} is a folder; give a file name ending in {path.suffix}")
    arrays = {name: np.ascontiguousarray(array) for name, array in model.core.parameters().items()}
    staging = path.with_name(f".{path.name}.saving-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(staging, "wb") as handle:
            if path.suffix.lower() == ".safetensors":
                from safetensors.numpy import save

                handle.write(save(arrays, metadata={"format": "pt", "written_by": "rnnviz"}))
            else:
                np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise WeightsFileError(f"could not write {path}: {describe_os_error(exc)}") from None
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return path


def _require_pytorch_module(model: SequenceModel, action: str, what_to_do: str) -> None:
    """WeightsFileError for a cell PyTorch has no module for (minGRU, minLSTM, LRU, selective)."""
    cell = model.core.cell
    if cell.pytorch_module is None:
        raise WeightsFileError(f"{cell.title} has no PyTorch module to {action} weights for (only "
                               f"{pytorch_modules()} have one); {what_to_do}")


def read_weights(path: str | os.PathLike, max_bytes: int = MAX_WEIGHTS_BYTES) -> dict[str, np.ndarray]:
    """Every array of the .safetensors or .npz file at ``path``, checked to be finite real numbers."""
    path = Path(path).expanduser()
    try:
        is_file = path.is_file()
    except OSError as exc:
        raise WeightsFileError(f"{path} cannot be opened: {describe_os_error(exc)}") from None
    if not is_file:
        raise WeightsFileError(f"{path} does not exist or is not a file; give the .safetensors or .npz "
                               "the weights were saved to")
    kind = _file_kind(path)
    try:
        arrays = read_safetensors(path, max_bytes) if kind == "safetensors" else read_npz(path, max_bytes,
                                                                                          text_arrays=True)
    except SessionFileError as exc:
        raise WeightsFileError(f"cannot load weights from {path}: {exc}") from None
    if any(name.startswith(_SESSION_PREFIXES) for name in arrays) and not any(_PARAM_NAME.match(n) for n in arrays):
        raise WeightsFileError(
            f"{path.name} is the model.npz of an rnnviz session, not a PyTorch state_dict: open its session "
            "folder instead (Open session, or rnnviz export FOLDER --weights FILE.safetensors for PyTorch)"
        )
    if not arrays:
        raise WeightsFileError(f"{path.name} holds no arrays; save the module's state_dict into it")
    for name, array in arrays.items():
        if array.dtype.kind not in "fiub":
            raise WeightsFileError(f"{path.name}: {name} holds {array.dtype} values, not real numbers; "
                                   "save the tensors with tensor.numpy()")
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise WeightsFileError(
                f"{path.name}: {name} has {bad} non-finite value(s) (NaN or infinity); "
                "these weights come from a diverged run, save them from an earlier checkpoint"
            )
    return arrays


def read_safetensors(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    """A .safetensors file's arrays, after checking its header: its length, every dtype, shape and
    offset, and the total size against ``max_bytes`` and the file's real size."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        length_field = handle.read(8)
        header_len = int.from_bytes(length_field, "little") if len(length_field) == 8 else -1
        if not 2 <= header_len <= min(MAX_SAFETENSORS_HEADER, size - 8):
            raise SessionFileError(f"{path.name} is not a .safetensors file (its header length is "
                                   f"{header_len:,}, the file has {size:,} bytes)")
        header = parse_json(handle.read(header_len), path.name, max_depth=3)
    if not isinstance(header, dict):
        raise SessionFileError(f"{path.name} has a damaged header (not a JSON object)")
    data_bytes, total = size - 8 - header_len, 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        total += _check_tensor_entry(path.name, name, entry, data_bytes)
        if total > max_bytes:
            raise SessionFileError(f"{path.name} holds more than {max_bytes / 2**20:,.0f} MiB of tensors, more than "
                                   "rnnviz loads")
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(path)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise SessionFileError(f"{path.name} could not be read: {' '.join(str(exc).split())[:200]}") from None


def _check_tensor_entry(file_name: str, name: str, entry: Any, data_bytes: int) -> int:
    def bad(why: str) -> SessionFileError:
        return SessionFileError(f"{file_name}: tensor {str(name)[:60]!r} {why}")

    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise bad("has no dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype == "BF16":
        raise bad("is bfloat16, which NumPy cannot hold; save it as float32 (tensor.float())")
    if dtype not in SAFETENSORS_DTYPES:
        raise bad(f"holds {str(dtype)[:20]} values, not real numbers")
    if not isinstance(shape, list) or len(shape) > 8 or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise bad(f"has the shape {str(shape)[:60]}")
    nbytes = math.prod(shape) * np.dtype(SAFETENSORS_DTYPES[dtype]).itemsize
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(n, int) for n in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_bytes or offsets[1] - offsets[0] != nbytes):
        raise bad(f"declares {nbytes:,} bytes that the file does not hold where it says; the file is damaged")
    return nbytes


def _file_kind(path: Path) -> str:
    """'safetensors' or 'npz', by the name, else by the first bytes; refuses what rnnviz cannot read."""
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return "safetensors"
    try:
        with open(path, "rb") as handle:
            start = handle.read(16)
    except OSError as exc:
        raise WeightsFileError(f"{path} cannot be read: {describe_os_error(exc)}") from None
    if start[:2] == b"PK":
        if _is_torch_pickle(path):
            raise WeightsFileError(
                f"{path.name} was written by torch.save, which rnnviz never loads (unpickling can run any code); "
                "save the state_dict with safetensors.torch.save_file(module.state_dict(), 'weights.safetensors')"
            )
        return "npz"
    if len(start) > 8 and start[8:9] == b"{":
        return "safetensors"
    if suffix == ".npz":
        return "npz"
    raise WeightsFileError(f"{path.name} is neither a .safetensors nor an .npz file; save the state_dict with "
                           "safetensors.torch.save_file(module.state_dict(), 'weights.safetensors')")


def _is_torch_pickle(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist()[:64])
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def recurrent_arrays(arrays: dict[str, np.ndarray], file_name: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """The state dict of the file's one recurrent module, its ``module.`` prefix stripped, and the
    names of the other arrays (e.g. ``fc.weight``: a whole model's other layers), which are ignored."""
    groups: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for name, array in arrays.items():
        prefix, _, leaf = name.rpartition(".")
        groups[prefix][leaf] = array
    recurrent = [p for p, group in groups.items() if any(_PARAM_NAME.match(leaf) for leaf in group)]
    if len(recurrent) > 1:
        shown = ", ".join(f"{p}.*" if p else "unprefixed names" for p in sorted(recurrent)[:4])
        raise WeightsFileError(
            f"{file_name} holds the weights of {len(recurrent)} recurrent modules ({shown}); save the state_dict "
            "of the one to load (e.g. model.encoder.state_dict())"
        )
    if not recurrent:
        return arrays, []
    prefix = recurrent[0]
    ignored = sorted(name for name in arrays if name.rpartition(".")[0] != prefix)
    return groups[prefix], ignored


def describe_saved(arrays: dict[str, np.ndarray]) -> SavedShape:
    """Read the cell kind, sizes, projection, layers and directions off a state dict's names and shapes."""
    hh, ih, hr = arrays.get("weight_hh_l0"), arrays.get("weight_ih_l0"), arrays.get("weight_hr_l0")
    gates = hidden = inputs = proj = None
    if hr is not None and hr.ndim == 2:  # an LSTM with proj_size: weight_hh is (4H, proj), weight_hr (proj, H)
        proj, hidden = hr.shape
    elif hh is not None and hh.ndim == 2:
        hidden = hh.shape[1]
    if hidden and hh is not None and hh.ndim == 2 and hh.shape[0] % hidden == 0:
        gates = hh.shape[0] // hidden
    if ih is not None and ih.ndim == 2:
        inputs = ih.shape[1]
    layers = {int(m.group(2)) for m in map(_PARAM_NAME.match, arrays) if m}
    return SavedShape(
        gates=gates, hidden_size=hidden, input_size=inputs,
        num_layers=max(layers) + 1 if layers else 0,
        bidirectional=any(name.endswith("_reverse") for name in arrays), proj_size=proj,
    )


# --- internals ---------------------------------------------------------------------------------


def _model_of(target: Any) -> SequenceModel:
    model = getattr(target, "model", target)
    if not isinstance(model, SequenceModel):
        raise TypeError(f"pytorch weights need a SequenceModel or a Session, got {type(target).__name__}")
    return model


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
        problems.append(f"unexpected {', '.join(extra[:12])}{', ...' if len(extra) > 12 else ''}")
    if wrong:
        problems.append(f"wrong shapes: {', '.join(wrong)}")
    return problems


def _hints(arrays: dict[str, np.ndarray], model: SequenceModel) -> list[str]:
    """Sentences saying which settings the file's shapes point to, where they differ from the model."""
    saved = describe_saved(arrays)
    core = model.core
    hints = []
    if saved.proj_size is not None:
        hints.append(
            f"The file is from an LSTM with proj_size={saved.proj_size} (weight_hr_l0 is "
            f"{_shape(arrays['weight_hr_l0'].shape)}, hidden size {saved.hidden_size}); rnnviz's LSTM has no "
            "projection: train the PyTorch LSTM without proj_size."
        )
    elif any(_PARAM_NAME.match(n) and n.startswith("weight_hr_l") for n in arrays):
        hints.append("LSTM projections (proj_size) are not supported; train without proj_size.")
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
