import contextlib
import os

import pytest

# Headless Qt: must be set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from rnnviz.engine.cells import registered  # noqa: E402
from rnnviz.engine.threads import pin_blas_threads  # noqa: E402

# As in the app: at these sizes a second BLAS thread only adds synchronisation.
pin_blas_threads()

from rnnviz.engine import kernels  # noqa: E402

# With numba installed (the ``fast`` extra) the compiled kernels serve from the first test on, so
# which path a test runs depends on sizes only, never on timing; RNNVIZ_NO_NUMBA=1 runs NumPy only.
kernels.start(wait=True)


@pytest.fixture
def register_cell():
    """``register_cell(spec)`` registers a cell kind (a CellSpec) until the test ends; returns the spec."""
    with contextlib.ExitStack() as stack:
        yield lambda spec: stack.enter_context(registered(spec))


@pytest.fixture
def leaky_cell(register_cell) -> str:
    """The toy cell of tests/toy_cell.py, registered for this test; its name."""
    from tests.toy_cell import LEAKY

    return register_cell(LEAKY).name


@pytest.fixture(autouse=True, scope="session")
def _private_log_folder(tmp_path_factory):
    """rnnviz logs into platformdirs' per-user state folder (rnnviz.logs): the tests' runs of the app
    log into a folder of their own, never into the person's."""
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if previous is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = previous
