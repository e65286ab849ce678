"""Pin BLAS to one thread.

At the sizes rnnviz works with (hidden 8-128, batch 1-32) every matmul is tiny; a second BLAS
thread only adds synchronisation (on 2 cores single matmuls were measured 10x slower). The app and
the benchmarks call ``pin_blas_threads()`` once at start-up; importing the engine changes nothing.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

_limiter = None  # keeps the process-wide limit alive


def pin_blas_threads(threads: int = 1) -> bool:
    """Limit every loaded BLAS library to ``threads`` threads for the rest of the process.

    Returns False (and changes nothing) when threadpoolctl is not installed.
    """
    global _limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    _limiter = threadpool_limits(limits=int(threads), user_api="blas")
    return True


@contextlib.contextmanager
def blas_threads(threads: int = 1) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads inside a ``with`` block only."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


def blas_info() -> list[dict]:
    """What threadpoolctl sees: one dict per loaded BLAS (internal_api, num_threads, ...)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]
