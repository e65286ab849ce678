"""rnnviz: watch recurrent neural networks learn."""
from __future__ import annotations


def __getattr__(name: str) -> str:
    """``rnnviz.__version__``: the installed package's version (pyproject.toml's, the only one), looked
    up on first use: importlib.metadata takes ~30 ms to import, which every ``import rnnviz`` would pay."""
    if name != "__version__":
        raise AttributeError(f"module 'rnnviz' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rnnviz")
    except PackageNotFoundError:  # a source folder that was never installed (pip install . / make run)
        return "0+unknown"
