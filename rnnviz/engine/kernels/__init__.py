"""Optional compiled time loops (numba) for the cells' recurrences.

At the sizes people explore, a NumPy time loop spends its time in call overhead (~0.3 µs a call,
~15 calls a step), not arithmetic. With the ``fast`` extra installed (``pip install
'rnnviz[fast]'``, numba), each cell kind that has a module here runs its recurrence as one
compiled loop where that is faster (``faster_than_numpy`` in the module, measured); everything
else, and everything without numba, runs the NumPy path. Both give the same traces.

The kernels are prepared in a background thread (numba's import ~0.5 s, loading cached machine
code ~0.2-0.5 s, a first compile a few seconds; cached in the per-user cache folder), started by
``start()`` or by the first cell that asks. Until they are ready the NumPy path serves, so results
can depend on timing in the last float bits: call ``start(wait=True)`` first where a run must be
reproducible (the CLI and the tests do). ``RNNVIZ_NO_NUMBA=1`` turns the kernels off.

Adding a kernel for a cell kind: a module here with ``forward``/``backward`` (the NumPy kernel's
signatures, with that kernel first) and ``faster_than_numpy(batch, hidden, dtype)``, one line in
``KERNEL_MODULES``, and ``compiled_kernel=CompiledKernel(<its NumPy kernel>)`` in the cell's
``CellSpec``.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Iterator

DISABLE_VARIABLE = "RNNVIZ_NO_NUMBA"
KERNEL_MODULES = {"rnn_tanh": "rnn", "rnn_relu": "rnn", "lstm": "lstm", "gru": "gru"}  # cell -> module

log = logging.getLogger(__name__)


class Kernels:
    """The compiled kernels of one process: prepared once in a background thread, then looked up
    per call. ``status``: idle, preparing, ready, disabled (RNNVIZ_NO_NUMBA), unavailable (no
    numba) or failed (no kernel compiled)."""

    def __init__(self, modules: dict[str, str] = KERNEL_MODULES, package: str = __name__) -> None:
        self.modules, self.package = dict(modules), package
        self.ready: dict[str, ModuleType] = {}  # cell -> compiled module; replaced whole, never mutated
        self.status = "idle"
        self._lock = threading.Lock()
        self._done = threading.Event()

    def kernel_for(self, cell: str, batch: int, hidden: int, dtype) -> ModuleType | None:
        """The compiled kernel module for this cell at this size, or None: use the NumPy path."""
        module = self.ready.get(cell)
        if module is None:
            if self.status == "idle":
                self.start()
            return None
        return module if module.faster_than_numpy(batch, hidden, dtype) else None

    def start(self, wait: bool = False, timeout: float | None = None) -> str:
        """Begin preparing in a background thread (once); with ``wait``, return when ready or
        failed (or after ``timeout`` seconds). Returns the status."""
        with self._lock:
            if self.status == "idle":
                if os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
                    self._finish("disabled", f"{DISABLE_VARIABLE} is set: the NumPy path runs")
                else:
                    self.status = "preparing"
                    threading.Thread(target=self._prepare, name="rnnviz-kernels", daemon=True).start()
        if wait:
            self._done.wait(timeout)
        return self.status

    @contextlib.contextmanager
    def numpy_path(self) -> Iterator[None]:
        """Inside the block every cell runs its NumPy path (to compare the two; not thread-safe)."""
        kept, self.ready = self.ready, {}
        try:
            yield
        finally:
            self.ready = kept

    def _finish(self, status: str, message: str | None = None, level: int = logging.INFO) -> None:
        self.status = status
        if message:
            log.log(level, message)
        self._done.set()

    def _prepare(self) -> None:
        """Import numba (cache folder and heap settings first), then compile or load each kernel
        module; one that fails leaves its cells on the NumPy path, with one log line."""
        keep_heap()
        use_cache_folder()
        try:
            import numba  # noqa: F401
        except ImportError:
            self._finish("unavailable", "numba is not installed: the NumPy path runs "
                                        "(pip install 'rnnviz[fast]' for compiled time loops)")
            return
        failed = []
        for name in sorted(set(self.modules.values())):
            cells = [cell for cell, module_name in self.modules.items() if module_name == name]
            try:
                module = importlib.import_module(f"{self.package}.{name}")
                _warm_up(module, cells)
            except Exception as exc:  # a kernel that does not build must never stop the app
                failed.append(f"{name} ({type(exc).__name__}: {exc})")
                continue
            self.ready = {**self.ready, **{cell: module for cell in cells}}
        if failed:
            self._finish("ready" if self.ready else "failed",
                         f"compiled kernels failed for {', '.join(failed)}: the NumPy path runs "
                         "for those", logging.WARNING)
        else:
            self._finish("ready")


_kernels = Kernels()  # the process's


class CompiledKernel:
    """A ``CellSpec.compiled_kernel``: the cell's compiled loops where they are ready and faster
    (``kernel_for``), its NumPy kernel otherwise (and for any option, e.g. ``scan``)."""

    def __init__(self, numpy_kernel) -> None:
        self.numpy_kernel = numpy_kernel
        self.name = numpy_kernel.name

    def forward(self, inputs, weights, h0, c0, layout, padded, **options):
        module = None if options else kernel_for(self.name, inputs.shape[1], h0.shape[-1],
                                                 inputs.dtype)
        if module is None:
            return self.numpy_kernel.forward(inputs, weights, h0, c0, layout, padded, **options)
        return module.forward(self.numpy_kernel, inputs, weights, h0, c0, layout, padded)

    def backward(self, trace, W_hh, d_from_output, d_h_last, d_c_last, cut, **options):
        _, B, H = trace.hidden.shape
        module = None if options else kernel_for(self.name, B, H, trace.hidden.dtype)
        if module is None:
            return self.numpy_kernel.backward(trace, W_hh, d_from_output, d_h_last, d_c_last, cut,
                                              **options)
        return module.backward(self.numpy_kernel, trace, W_hh, d_from_output, d_h_last, d_c_last,
                               cut)


def kernel_for(cell: str, batch: int, hidden: int, dtype) -> ModuleType | None:
    """The compiled kernel module for this cell at this size, or None: use the NumPy path."""
    return _kernels.kernel_for(cell, batch, hidden, dtype)


def start(wait: bool = False, timeout: float | None = None) -> str:
    """Begin preparing the kernels in a background thread (once per process); with ``wait``,
    return when they are ready (or have failed). Returns the status."""
    return _kernels.start(wait, timeout)


def status() -> str:
    """idle, preparing, ready, disabled (RNNVIZ_NO_NUMBA), unavailable (no numba) or failed."""
    return _kernels.status


def numpy_path():
    """``with kernels.numpy_path():`` runs every cell's NumPy path inside the block."""
    return _kernels.numpy_path()


def _warm_up(module: ModuleType, cells: list[str]) -> None:
    """Compile (or load from numba's cache) a module's kernels for float32 and float64, through the
    same calls as a real forward and backward pass, so that training never compiles."""
    import numpy as np

    from rnnviz.engine.cells import CELLS
    from rnnviz.engine.trace import TimeLayout

    T, B, I, H = 3, 2, 1, 2
    for name in cells:
        spec = CELLS[name]
        cell = spec.kernel  # the NumPy kernel: name, activation
        for dtype in (np.float32, np.float64):
            rows = spec.num_gates * H
            weights = (np.zeros((rows, I), dtype), np.zeros((rows, H), dtype), np.zeros(rows, dtype),
                       np.zeros(rows, dtype))
            state = np.zeros((B, H), dtype)
            cell_state = state if spec.has_cell_state else None
            layout = TimeLayout(T, False)
            trace = module.forward(cell, np.zeros((T, B, I), dtype), weights, state, cell_state,
                                   layout, np.zeros((T, B, 1), bool))
            trace.layer, trace.mask = 0, np.ones((T, B), dtype)
            module.backward(cell, trace, weights[1], np.zeros((T, B, H), dtype), state, cell_state,
                            layout.recurrence_cut(None))


def use_cache_folder() -> None:
    """numba's cache in the per-user cache folder (its default, next to the sources, may not be
    writable), unless NUMBA_CACHE_DIR is set already. Must run before numba is imported.

    The folder is named after a hash of this package's sources: numba checks only the file of a
    cached function itself, so a kernel would otherwise keep stale machine code of a helper it
    calls from another file (seen here: a changed activations.py, an unchanged rnn.py)."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    import platformdirs

    folder = os.path.join(platformdirs.user_cache_dir("rnnviz", appauthor=False), "numba",
                          sources_hash())
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # imported by someone before us: tell its config too
        sys.modules["numba"].config.CACHE_DIR = folder


def sources_hash() -> str:
    """A short hash of the kernels' source files (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def keep_heap() -> None:
    """See rnnviz.engine.heap."""
    from rnnviz.engine.heap import keep_heap as keep

    keep()
