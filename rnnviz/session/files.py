"""Save and open whole sessions (settings, weights, optimizer state, history, random state).

Opening reads session.json first, builds the Session it describes (which checks the memory budget)
and only then reads model.npz, refusing any array beyond what that Session holds: so the size limit
of model.npz is derived from the settings, and every session rnnviz writes is one it opens.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine.memory import format_bytes, memory_budget
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.history import HistoryError, HistoryLog
from rnnviz.session.session import Session
from rnnviz.session.storage import MODEL_FILE, SessionFileError, read_document, read_npz, write_folder
from rnnviz.tasks import TaskError, make_task

MAX_STEPS = 10**9
PARAM, OPTIM, HISTORY = "param/", "optim/", "history/"
HISTORY_VALUES_PER_STEP = 6  # a training row (4 columns) and at most one held-out row (2), float64
SMALL_ENTRIES_BYTES = 64 << 10  # the optimizer's name, learning rate, step and hyper-parameters
NONNEGATIVE_BUFFERS = ("exp_avg_sq", "square_avg")  # running averages of squared gradients
RNG = "PCG64"


def save_session(session: Session, folder: str | os.PathLike) -> Path:
    document = {
        "config": session.config.to_dict(),
        "step": session.step,
        "rng_state": session.trainer.rng.bit_generator.state,
    }
    arrays = {PARAM + name: value for name, value in session.model.state_dict().items()}
    arrays.update({OPTIM + name: np.asarray(value) for name, value in session.trainer.optimizer.state_dict().items()})
    arrays.update({HISTORY + name: value for name, value in session.history.arrays().items()})
    return write_folder(Path(folder).expanduser(), document, arrays)


def load_session(path: str | os.PathLike) -> Session:
    """Open a saved session folder; any problem raises SessionFileError saying what and where."""
    folder, document = read_document(path)
    config = _config(document)
    step = _step(document)
    rng_state = _rng_state(document.get("rng_state"))
    try:
        session = Session(config, task=make_task(config.task, **config.task_params))
    except (TaskError, ValueError) as exc:  # MemoryBudgetError included: it says what to lower
        raise SessionFileError(f"the saved settings cannot be used: {exc}") from None
    arrays = read_npz(folder / MODEL_FILE, npz_bytes(session, step), text_arrays=True)
    _restore(session, step, rng_state, arrays)
    return session


def npz_bytes(session: Session, step: int) -> int:
    """The most model.npz can hold for ``session`` after ``step`` steps: its weights, the optimizer's
    buffers, the history, and a few small entries. Refuses a history too big for memory."""
    params = session.model.num_params() * session.model.dtype.itemsize
    buffers = len(session.trainer.optimizer.buffers) * params
    history = HISTORY_VALUES_PER_STEP * 8 * (step + 1)
    if history > memory_budget():
        raise SessionFileError(
            f"session.json says {step:,} steps were trained; their history needs {format_bytes(history)}, more "
            "than rnnviz may use"
        )
    return params + buffers + history + SMALL_ENTRIES_BYTES


def _config(document: dict[str, Any]) -> SessionConfig:
    try:
        return SessionConfig.from_dict(document.get("config"))
    except (ConfigError, TypeError) as exc:
        raise SessionFileError(f"session.json has a bad setting: {exc}") from None


def _step(document: dict[str, Any]) -> int:
    step = document.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEPS:
        raise SessionFileError(f"session.json has a bad step count {str(step)[:30]!r}; it must be 0 to {MAX_STEPS:,}")
    return step


def _rng_state(state: Any) -> dict[str, Any]:
    """The saved random generator state, checked field by field (NumPy's setter trusts it)."""
    def whole(value: Any, bits: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**bits

    inner = state.get("state") if isinstance(state, dict) else None
    valid = (
        isinstance(state, dict) and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"}
        and state["bit_generator"] == RNG and isinstance(inner, dict) and set(inner) == {"state", "inc"}
        and whole(inner["state"], 128) and whole(inner["inc"], 128)
        and state["has_uint32"] in (0, 1) and whole(state["uinteger"], 32)
    )
    if not valid:
        raise SessionFileError(
            f"session.json has a damaged random state (rng_state must be NumPy's {RNG} state with 128-bit "
            "state and inc); the session cannot continue its random stream"
        )
    return state


def _restore(session: Session, step: int, rng_state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    params = _with_prefix(arrays, PARAM)
    for name, value in params.items():
        if not np.isfinite(value).all():
            raise SessionFileError(f"model.npz holds non-finite weights (NaN or infinity) in {name}")
    optimizer_state = _optimizer_state(_with_prefix(arrays, OPTIM), step)
    try:
        session.model.load_state_dict(params)
        session.trainer.optimizer.load_state_dict(optimizer_state)
        session.trainer.rng.bit_generator.state = rng_state
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise SessionFileError(f"model.npz does not match session.json: {exc}") from None
    with np.errstate(over="ignore", invalid="ignore"):  # a cast that overflows is refused just below
        finite = all(np.isfinite(v).all() for v in session.model.parameters().values())
    if not finite:
        raise SessionFileError(f"model.npz holds weights too large for {session.config.dtype}")
    try:
        session.history = HistoryLog.from_arrays(arrays[HISTORY + "train"], arrays[HISTORY + "heldout"], last_step=step)
    except KeyError as exc:
        raise SessionFileError(f"model.npz has no training history ({exc} is missing)") from None
    except HistoryError as exc:
        raise SessionFileError(f"model.npz has a damaged training history: {exc}") from None
    session.trainer.steps = step


def _optimizer_state(state: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    """The saved optimizer state, refused when a number in it could not come from training."""
    def scalar(name: str) -> float:
        value = state.get(name)
        if value is None or value.shape != () or value.dtype.kind not in "fiub":
            raise SessionFileError(f"model.npz: the optimizer's {name} is missing or not a number")
        number = float(value)
        if not math.isfinite(number):
            raise SessionFileError(f"model.npz: the optimizer's {name} is {number}, not a finite number")
        return number

    optimizer_step = scalar("step")
    if optimizer_step < 0 or optimizer_step != int(optimizer_step) or optimizer_step > MAX_STEPS:
        raise SessionFileError(f"model.npz: the optimizer's step count {optimizer_step:g} is not a whole number "
                               f"from 0 to {MAX_STEPS:,}")
    scalar("lr")
    for name, value in state.items():
        if value.dtype.kind == "U":
            continue
        if not np.isfinite(value).all():
            raise SessionFileError(f"model.npz: the optimizer state {name} holds NaN or infinity")
        if name.split("/")[0] in NONNEGATIVE_BUFFERS and (value < 0).any():
            raise SessionFileError(f"model.npz: the optimizer state {name} holds negative values; "
                                   "it is an average of squares and cannot be negative")
    return state


def _with_prefix(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
