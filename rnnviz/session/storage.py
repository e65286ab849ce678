"""Session folders: ``session.json`` (settings, step, random state) + ``model.npz`` (weights, optimizer
state, history).

Loading treats the files as untrusted: sizes are checked before anything is read, the JSON is
validated against the schema and the limits in ``config.LIMITS``, arrays are loaded with
``allow_pickle=False`` and checked against the shapes the configuration implies.

Saving is atomic: the new session is written into a sibling folder and swapped in with two renames,
so an interrupted save leaves the previous session loadable (from ``<folder>.previous`` in the
window between the renames, which ``load`` falls back to).
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "rnnviz-session"
VERSION = 1
SESSION_FILE = "session.json"
MODEL_FILE = "model.npz"
MAX_JSON_BYTES = 1 << 20  # 1 MiB
MAX_NPZ_BYTES = 256 << 20  # uncompressed, summed over members
MAX_NPZ_MEMBERS = 4096
# other things rnnviz itself writes into a session folder (the CLI's history and plots): kept on re-save
CARRIED_OVER = ("history.csv", "plots")


class SessionFileError(ValueError):
    """A session folder that cannot be used; the message says what is wrong and what to do."""


def write_folder(folder: str | os.PathLike, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Atomically write ``document`` as session.json and ``arrays`` as model.npz into ``folder``."""
    folder = Path(folder)
    if folder.exists():
        _check_replaceable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.saving-{os.getpid()}")
    previous = folder.with_name(folder.name + ".previous")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _carry_over(folder, staging)
        _write_synced(staging / MODEL_FILE, lambda f: np.savez(f, **arrays))
        text = json.dumps({"format": FORMAT, "version": VERSION, **document}, indent=2)
        _write_synced(staging / SESSION_FILE, lambda f: f.write(text.encode()))
        shutil.rmtree(previous, ignore_errors=True)
        if folder.exists():
            os.replace(folder, previous)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return folder


def read_folder(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a session folder (or its session.json); returns the JSON document and the arrays."""
    folder = _resolve(Path(path))
    document = _read_json(folder / SESSION_FILE)
    arrays = read_npz(folder / MODEL_FILE)
    return document, arrays


def read_npz(path: Path, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Load every array of an .npz after checking its declared sizes; never unpickles."""
    max_bytes = MAX_NPZ_BYTES if max_bytes is None else max_bytes
    if not path.is_file():
        raise SessionFileError(f"{path} is missing; a session folder holds {SESSION_FILE} and {MODEL_FILE}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SessionFileError(f"{path.name} is not a valid .npz archive ({exc})") from None
    if len(members) > MAX_NPZ_MEMBERS or total > max_bytes:
        raise SessionFileError(
            f"{path.name} holds {len(members)} arrays, {total / 2**20:.0f} MiB: more than rnnviz loads "
            f"({MAX_NPZ_MEMBERS} arrays, {max_bytes / 2**20:.0f} MiB)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise SessionFileError(f"{path.name} could not be read: {exc}") from None


def _resolve(path: Path) -> Path:
    if path.name == SESSION_FILE:
        path = path.parent
    if not path.exists():
        previous = path.with_name(path.name + ".previous")
        if (previous / SESSION_FILE).is_file():
            return previous  # a save was interrupted between its two renames
        raise SessionFileError(f"{path} does not exist")
    if not (path / SESSION_FILE).is_file():
        raise SessionFileError(f"{path} is not an rnnviz session: it has no {SESSION_FILE}")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise SessionFileError(f"{path.name} is {size} bytes; session files are at most {MAX_JSON_BYTES}")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SessionFileError(f"{path.name} is not valid JSON ({exc}); it may be damaged") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionFileError(f"{path.name} is not an rnnviz session file (no \"format\": \"{FORMAT}\")")
    version = document.get("version")
    if version != VERSION:
        raise SessionFileError(
            f"{path.name} has format version {version!r}; this rnnviz reads version {VERSION}. "
            "Open it with the rnnviz that wrote it, or update rnnviz"
        )
    return document


def _check_replaceable(folder: Path) -> None:
    """Only an empty folder or an rnnviz session folder (nothing but what rnnviz writes) is replaced."""
    if not folder.is_dir():
        raise SessionFileError(f"{folder} is a file; choose a folder to save the session in")
    entries = {entry.name for entry in folder.iterdir()}
    if entries and SESSION_FILE not in entries:
        raise SessionFileError(f"{folder} exists and is not an rnnviz session folder; choose a new or empty folder")
    foreign = sorted(entries - {SESSION_FILE, MODEL_FILE, *CARRIED_OVER})
    if foreign:
        raise SessionFileError(
            f"{folder} also holds {', '.join(foreign[:3])}{' …' if len(foreign) > 3 else ''}, which saving "
            "would delete; move them out or choose another folder"
        )


def _carry_over(folder: Path, staging: Path) -> None:
    for name in CARRIED_OVER:
        source = folder / name
        if source.is_dir():
            shutil.copytree(source, staging / name)
        elif source.is_file():
            shutil.copy2(source, staging / name)


def _write_synced(path: Path, write) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts of arrays/numbers -> flat ``{"a/b": array}`` (for optimizer state in an .npz)."""
    flat: dict[str, np.ndarray] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "/"))
        else:
            flat[name] = np.asarray(value)
    return flat


def unflatten(flat: dict[str, np.ndarray]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value.item() if value.ndim == 0 else value
    return tree
