"""The files that ship with rnnviz: corpora, example data, stylesheets, icons, the .desktop file.

They live in the repository's top-level ``resources/`` folder, which pyproject.toml installs as the
package ``rnnviz.resources``; they are read through ``importlib.resources``, so they are found
wherever rnnviz is installed (a wheel, an editable checkout), never through paths relative to this
source file. Qt-free: the tasks read their bundled data through it too.
"""
from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE = "rnnviz.resources"

# Files of an install that is not a folder on disk (a zip) are extracted once, removed at exit.
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class BundledFileMissing(RuntimeError):
    """A file rnnviz ships is not where it should be: the install is incomplete (a bug, not a user error)."""


def bundled(*parts: str) -> "Traversable":
    """The bundled file ``resources/<parts...>`` as an importlib.resources Traversable."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise BundledFileMissing(
            f"rnnviz's bundled files (the package {PACKAGE}) are not installed; install rnnviz with "
            "`pip install .` (or `make run` in a checkout) instead of running the source folder directly"
        ) from None
    resource = root.joinpath(*parts)
    if not resource.is_file():
        raise BundledFileMissing(
            f"the bundled file resources/{'/'.join(parts)} is missing from this rnnviz install; reinstall rnnviz"
        )
    return resource


def bundled_path(*parts: str) -> Path:
    """A real file-system path to the bundled file ``resources/<parts...>`` (for code that opens paths)."""
    resource = bundled(*parts)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))


def bundled_text(*parts: str) -> str:
    """The UTF-8 text of the bundled file ``resources/<parts...>``."""
    return bundled(*parts).read_text(encoding="utf-8")
