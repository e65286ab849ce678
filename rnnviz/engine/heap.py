"""Keep freed memory in the process instead of returning it to the system after every step.

A training step allocates and frees a few MB of arrays. glibc's malloc serves large blocks with
mmap and gives them back on free (and trims the heap top), so the next step takes a page fault
for every 4 kB page it touches again: measured here ~770 minor faults per step of the window's
default LSTM on the NumPy path, ~820 once numba was imported (whose start-up moves glibc's
adaptive thresholds; another session measured up to ~4,400 and 1.8x slower training in the main
thread), 0 with these settings. Fixed thresholds keep the memory instead: blocks up to 32 MiB come
from the heap, and the heap is trimmed only past 256 MiB of free top. Applied before numba is
imported (``rnnviz.engine.kernels``). Linux/glibc only; elsewhere nothing changes."""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc malloc.h
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 256 * 2**20
TOP_PAD = 16 * 2**20

_kept = False


def keep_heap() -> bool:
    """Set glibc's malloc thresholds once per process; False where there is no glibc."""
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _kept = all(mallopt(option, value) == 1 for option, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD)))
    return _kept
