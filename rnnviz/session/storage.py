"""Session folders: ``session.json`` (settings, step, random state) + ``model.npz`` (weights, optimizer
state, history).

Loading treats the files as untrusted and bounds every read before it happens:

- session.json: at most ``MAX_JSON_BYTES``, nested at most ``MAX_JSON_DEPTH`` deep, integers of at
  most ``MAX_INT_DIGITS`` digits, no NaN or infinity;
- model.npz (and weights files): each member's ``.npy`` header is parsed here, and its dtype (real
  numbers only), shape and size are checked against the caller's byte limit and against the bytes
  the archive really holds, before any array is allocated; arrays are never unpickled.

Saving is atomic at every crash point. The new session is written into ``.DIR.saving-PID`` next to
the folder and swapped in with renames; the last good copy is never deleted before the new one is
in place:

    1. a folder missing while ``DIR.previous`` exists (a save died between its renames) is renamed back
    2. write and fsync ``.DIR.saving-PID``
    3. a leftover ``DIR.previous`` is renamed to ``.DIR.deleting-PID`` and removed (DIR is intact)
    4. DIR -> DIR.previous;  5. .DIR.saving-PID -> DIR;  6. DIR.previous -> .DIR.deleting-PID, removed

Between 4 and 5 only DIR.previous exists, and ``read_document`` falls back to it. Staging and
deleting folders whose process is gone are removed by the next save.

``FolderLock`` keeps two processes from writing one folder: ``.DIR.lock`` holds the writer's PID and
is created with O_EXCL; a lock whose process is gone is taken over.
"""
from __future__ import annotations

import ast
import errno
import json
import math
import os
import shutil
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

FORMAT = "rnnviz-session"
VERSION = 1
SESSION_FILE = "session.json"
MODEL_FILE = "model.npz"
MAX_JSON_BYTES = 1 << 20  # 1 MiB
MAX_JSON_DEPTH = 16
MAX_INT_DIGITS = 64  # a PCG64 state is 39 digits
MAX_NPZ_MEMBERS = 4096
MAX_NPY_HEADER = 16 << 10
MAX_NDIM = 8
MAX_TEXT_CHARS = 64  # a text array (an optimizer's name) holds one short string
REAL_KINDS = "fiub"  # float, signed and unsigned integer, bool
# other things rnnviz itself writes into a session folder (the CLI's history, metrics and plots): kept on re-save
CARRIED_OVER = ("history.csv", "metrics.json", "plots")
_SAVING, _DELETING, _PREVIOUS, _LOCK = ".saving-", ".deleting-", ".previous", ".lock"


class SessionFileError(ValueError):
    """A session folder that cannot be used; the message says what is wrong and what to do."""


# --- writing -----------------------------------------------------------------------------------

_saving_now: dict[Path, threading.Lock] = {}
_saving_guard = threading.Lock()


def write_folder(folder: str | os.PathLike, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Atomically write ``document`` as session.json and ``arrays`` as model.npz into ``folder``.

    Any failure raises SessionFileError naming the folder (never the staging folder) and saying
    whether the session that was there before is still there."""
    folder = absolute_path(folder)
    with _saving_guard:
        lock = _saving_now.setdefault(folder, threading.Lock())
    with lock:
        existed = folder.exists() or _previous(folder).exists()
        try:
            _write_folder(folder, document, arrays)
        except OSError as exc:
            kept = "the session saved there before is unchanged" if existed else "nothing was saved"
            raise SessionFileError(f"could not save the session to {folder}: {describe_os_error(exc)}; {kept}") from None
    return folder


def _write_folder(folder: Path, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    FolderLock(folder).check_not_held_by_another()
    remove_orphans(folder)
    previous = _previous(folder)
    if not folder.exists() and (previous / SESSION_FILE).is_file():
        os.replace(previous, folder)  # step 1: a save died between its renames; its old copy comes back
    if folder.exists():
        _check_replaceable(folder)
    staging = _sibling(folder, _SAVING)
    _remove_tree(staging)
    staging.mkdir()
    try:
        _carry_over(folder, staging)
        _write_synced(staging / MODEL_FILE, lambda f: np.savez(f, **arrays))
        text = json.dumps({"format": FORMAT, "version": VERSION, **document}, indent=2)
        _write_synced(staging / SESSION_FILE, lambda f: f.write(text.encode()))
        _sync_folder(staging)
        if previous.exists():
            _delete_by_renaming(previous, folder)  # step 3: the folder itself is intact
        if folder.exists():
            os.replace(folder, previous)  # step 4
        try:
            os.replace(staging, folder)  # step 5
        except BaseException:
            if previous.exists() and not folder.exists():
                os.replace(previous, folder)  # put the old copy back where it was
            raise
    except BaseException:
        _remove_tree(staging)
        raise
    try:
        _sync_folder(folder.parent)  # make the renames durable
        if previous.exists():
            _delete_by_renaming(previous, folder)  # step 6
    except OSError:
        pass  # the new session is in place; the next save removes what is left of the old one


def absolute_path(path: str | os.PathLike) -> Path:
    """``path`` with ``~`` expanded, made absolute and with ``.`` and ``..`` resolved (not symlinks):
    the folder a save renames has to be named by its own last component."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _previous(folder: Path) -> Path:
    return folder.with_name(folder.name + _PREVIOUS)


def _sibling(folder: Path, kind: str, pid: int | None = None) -> Path:
    return folder.with_name(f".{folder.name}{kind}{os.getpid() if pid is None else pid}")


def _delete_by_renaming(path: Path, folder: Path) -> None:
    """Rename first (atomic), then delete: no half-deleted folder ever has a name rnnviz opens."""
    trash = _sibling(folder, _DELETING)
    _remove_tree(trash)
    os.replace(path, trash)
    _remove_tree(trash)


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def remove_orphans(folder: str | os.PathLike) -> list[Path]:
    """Remove ``.DIR.saving-PID`` and ``.DIR.deleting-PID`` left by saves of ``folder`` whose
    process is gone (or that are this process's own leftovers); returns what was removed."""
    folder = absolute_path(folder)
    removed = []
    if not folder.parent.is_dir():
        return removed
    for kind in (_SAVING, _DELETING):
        prefix = f".{folder.name}{kind}"
        for entry in folder.parent.iterdir():
            pid = _pid_suffix(entry.name, prefix)
            if pid is not None and (pid == os.getpid() or not pid_alive(pid)):
                _remove_tree(entry)
                removed.append(entry)
    return removed


def _pid_suffix(name: str, prefix: str) -> int | None:
    if not name.startswith(prefix):
        return None
    digits = name[len(prefix):]
    return int(digits) if digits.isdigit() and len(digits) < 12 else None


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


def _write_synced(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    """Make renames inside ``folder`` durable (POSIX; Windows has no directory handles to sync)."""
    if sys.platform == "win32":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def describe_os_error(exc: OSError) -> str:
    """An OSError as a sentence a person can act on, without internal paths."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        reason = str(exc.args[0][0][-1])  # copytree's list of (source, destination, reason)
        return "copying the earlier plots and history failed: " + reason.split(": '")[0]
    reasons = {
        errno.ENOSPC: "the disk is full (no space left on the device); free some space and save again",
        errno.EDQUOT: "the disk quota is exceeded; free some space and save again",
        errno.EROFS: "the disk is read-only; choose a folder on a writable disk",
        errno.EACCES: "permission denied; choose a folder you can write to",
        errno.EPERM: "permission denied; choose a folder you can write to",
        errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
        errno.EEXIST: "a file is in the way (a part of the path is a file, not a folder); choose another path",
        errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
        errno.ELOOP: "the path contains a symbolic link loop; choose another path",
    }
    return reasons.get(exc.errno, exc.strerror or type(exc).__name__)


# --- the folder lock ---------------------------------------------------------------------------


class FolderLock:
    """``.DIR.lock`` next to ``DIR``, holding the PID of the one process writing ``DIR``.

        with FolderLock(out):     # SessionFileError if another live process holds it
            ...train and write...
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        folder = absolute_path(folder)
        self.folder = folder
        self.path = folder.with_name(f".{folder.name}{_LOCK}")
        self.held = False

    def acquire(self) -> None:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(50):
            try:
                handle = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            with os.fdopen(handle, "w", encoding="ascii") as lock_file:
                lock_file.write(f"{os.getpid()}\n")
            self.held = True
            return
        raise SessionFileError(f"could not lock {self.folder}: {self.path} keeps changing; try again")

    def release(self) -> None:
        if self.held and self.holder() == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def holder(self) -> int | None:
        """The PID in the lock file (None: no lock file or no PID in it)."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")[:32].strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def check_not_held_by_another(self) -> None:
        pid = self.holder()
        if pid is not None and pid != os.getpid() and pid_alive(pid):
            raise SessionFileError(
                f"another rnnviz (process {pid}) is writing to {self.folder}; wait for it to finish or choose "
                f"another folder (if no rnnviz is running, delete {self.path})"
            )

    def _take_over_if_stale(self) -> None:
        self.check_not_held_by_another()
        pid = self.holder()
        if pid == os.getpid():
            raise SessionFileError(f"{self.folder} is already being written by this rnnviz")
        if pid is None and _age_seconds(self.path) < 2:
            time.sleep(0.05)  # just created: its writer has not written its PID yet
            return
        stale = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}")
        try:
            os.replace(self.path, stale)  # atomic: of two processes taking over, one gets it
        except FileNotFoundError:
            return
        if _read_pid(stale) == pid or _read_pid(stale) is None or not pid_alive(_read_pid(stale)):
            stale.unlink(missing_ok=True)
        elif not self.path.exists():  # it was a fresh lock of another process: put it back
            os.replace(stale, self.path)


def _age_seconds(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace")[:32].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (signals nothing, kills nothing)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only the existence and permission checks
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    query_limited_information, still_active = 0x1000, 259
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


# --- reading -----------------------------------------------------------------------------------


def read_document(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The session folder ``path`` names (or its session.json), and its validated JSON document."""
    folder = _resolve(Path(path).expanduser())
    return folder, _read_json(folder / SESSION_FILE)


def read_folder(path: str | os.PathLike, max_npz_bytes: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a session folder (or its session.json); returns the JSON document and the arrays."""
    folder, document = read_document(path)
    return document, read_npz(folder / MODEL_FILE, max_npz_bytes, text_arrays=True)


def read_npz(path: str | os.PathLike, max_bytes: int, text_arrays: bool = False) -> dict[str, np.ndarray]:
    """Every array of an .npz, each header checked (real-number dtype, shape, size against
    ``max_bytes`` in total and against the bytes present) before its array is allocated.
    ``text_arrays`` also allows single short strings (an optimizer's name). Never unpickles."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise SessionFileError(f"{path} is missing or not a file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise SessionFileError(f"{path.name} holds {len(members)} arrays, more than the {MAX_NPZ_MEMBERS} rnnviz reads")
            arrays: dict[str, np.ndarray] = {}
            total = 0
            for info in members:
                name, array_bytes = _check_member(path, info, archive, text_arrays)
                total += array_bytes
                if total > max_bytes:
                    raise SessionFileError(
                        f"{path.name} declares at least {_mib(total)} of arrays, more than the {_mib(max_bytes)} "
                        "rnnviz expects for it; it is damaged or not the file you meant"
                    )
                arrays[name] = _read_member(path, info, archive)
            return arrays
    except SessionFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            zlib.error) as exc:
        raise SessionFileError(f"{path.name} is not a valid .npz archive ({_one_line(exc)})") from None
    except OSError as exc:
        raise SessionFileError(f"{path.name} could not be read: {describe_os_error(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _check_member(path: Path, info: zipfile.ZipInfo, archive: zipfile.ZipFile, text_arrays: bool) -> tuple[str, int]:
    """The member's array name and the bytes its header declares (shape x itemsize)."""
    if not info.filename.endswith(".npy") or info.is_dir():
        raise SessionFileError(f"{path.name} holds {info.filename[:80]!r}, which is not a NumPy array (.npy)")
    with archive.open(info) as member:
        dtype, shape, _, header_bytes = _read_npy_header(member, path.name, info.filename)
    _check_dtype(dtype, shape, path.name, info.filename[:-4], text_arrays)
    declared = math.prod(shape) * dtype.itemsize
    if info.file_size != header_bytes + declared:
        raise SessionFileError(
            f"{path.name}: {info.filename} declares {declared:,} bytes of data but holds "
            f"{max(info.file_size - header_bytes, 0):,}; the file is damaged"
        )
    return info.filename[:-4], declared


def _read_member(path: Path, info: zipfile.ZipInfo, archive: zipfile.ZipFile) -> np.ndarray:
    """The member's array (its header was checked by ``_check_member``)."""
    with archive.open(info) as member:
        dtype, shape, fortran, _ = _read_npy_header(member, path.name, info.filename)
        nbytes = math.prod(shape) * dtype.itemsize
        data = member.read(nbytes)
    if len(data) != nbytes:
        raise SessionFileError(f"{path.name}: {info.filename} is cut short; the file is damaged")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.astype(dtype.newbyteorder("="), order="C", copy=True)


def _read_npy_header(member: BinaryIO, file_name: str, member_name: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """(dtype, shape, fortran_order, header length) of one .npy stream, without trusting it."""
    def bad(why: str) -> SessionFileError:
        return SessionFileError(f"{file_name}: {member_name} is not a valid .npy array ({why})")

    magic = member.read(8)
    if len(magic) != 8 or magic[:6] != b"\x93NUMPY":
        raise bad("no .npy header")
    major = magic[6]
    if major == 1:
        size_field = member.read(2)
    elif major in (2, 3):
        size_field = member.read(4)
    else:
        raise bad(f"format version {major}")
    header_len = int.from_bytes(size_field, "little")
    if len(size_field) not in (2, 4) or header_len > MAX_NPY_HEADER:
        raise bad("header too long")
    raw = member.read(header_len)
    if len(raw) != header_len:
        raise bad("header cut short")
    try:
        header = ast.literal_eval(raw.decode("utf-8" if major == 3 else "latin-1"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        raise bad("unreadable header") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise bad("unexpected header fields")
    shape, descr, fortran = header["shape"], header["descr"], header["fortran_order"]
    if not isinstance(shape, tuple) or len(shape) > MAX_NDIM or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**48 for n in shape):
        raise bad(f"shape {str(shape)[:60]}")
    if not isinstance(descr, str) or not isinstance(fortran, bool):
        raise bad("a structured or unknown dtype")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise bad(f"unknown dtype {descr[:40]!r}") from None
    return dtype, shape, fortran, 6 + 2 + len(size_field) + header_len


def _check_dtype(dtype: np.dtype, shape: tuple[int, ...], file_name: str, name: str, text_arrays: bool) -> None:
    if dtype.kind in REAL_KINDS and dtype.fields is None and dtype.subdtype is None:
        return
    if text_arrays and dtype.kind == "U" and math.prod(shape) <= 1 and dtype.itemsize <= 4 * MAX_TEXT_CHARS:
        return
    kinds = {"c": "complex numbers", "M": "dates and times", "m": "time spans", "O": "Python objects",
             "S": "bytes", "U": "text", "V": "raw records"}
    what = kinds.get(dtype.kind, f"{dtype} values")
    raise SessionFileError(
        f"{file_name}: {name} holds {what} ({dtype}), not real numbers; save the arrays as float or integer numbers"
    )


def _resolve(path: Path) -> Path:
    if path.name == SESSION_FILE:
        path = path.parent
    try:
        exists = path.exists()
    except OSError as exc:
        raise SessionFileError(f"{path} cannot be opened: {describe_os_error(exc)}") from None
    if not exists:
        previous = _previous(path)
        if (previous / SESSION_FILE).is_file():
            return previous  # a save was interrupted between its two renames
        raise SessionFileError(f"{path} does not exist")
    if not (path / SESSION_FILE).is_file():
        raise SessionFileError(f"{path} is not an rnnviz session: it has no {SESSION_FILE}")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise SessionFileError(f"{path.name} is {size:,} bytes; session files are at most {MAX_JSON_BYTES:,}")
        raw = path.read_bytes()[: MAX_JSON_BYTES + 1]
    except OSError as exc:
        raise SessionFileError(f"{path} could not be read: {describe_os_error(exc)}") from None
    document = parse_json(raw, path.name)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionFileError(f"{path.name} is not an rnnviz session file (no \"format\": \"{FORMAT}\")")
    version = document.get("version")
    if version != VERSION:
        raise SessionFileError(
            f"{path.name} has format version {str(version)[:20]!r}; this rnnviz reads version {VERSION}. "
            "Open it with the rnnviz that wrote it, or update rnnviz"
        )
    return document


def parse_json(raw: bytes, name: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON from untrusted bytes: UTF-8, at most ``max_depth`` deep, integers of at most
    ``MAX_INT_DIGITS`` digits, finite numbers only; anything else is a SessionFileError."""
    def whole(text: str) -> int:
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise _Refused(f"it holds a {len(text.lstrip('-'))}-digit number")
        return int(text)

    def real(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise _Refused(f"it holds the out-of-range number {text[:20]}")
        return value

    def constant(text: str) -> None:
        raise _Refused(f"it holds {text}, which is not a number JSON allows")

    try:
        document = json.loads(raw.decode("utf-8"), parse_int=whole, parse_float=real, parse_constant=constant)
    except _Refused as exc:
        raise SessionFileError(f"{name} cannot be used: {exc}; it may be damaged") from None
    except RecursionError:
        raise SessionFileError(f"{name} is nested too deeply to be a session file; it may be damaged") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SessionFileError(f"{name} is not valid JSON ({exc}); it may be damaged") from None
    if _depth(document, max_depth) > max_depth:
        raise SessionFileError(f"{name} is nested more than {max_depth} levels deep; it is not a session file")
    return document


class _Refused(ValueError):
    pass


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of lists and dicts, counting no further than ``limit + 1``."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


# --- optimizer state in an .npz ----------------------------------------------------------------


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
