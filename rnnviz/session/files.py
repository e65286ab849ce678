"""Save and open whole sessions (settings, weights, optimizer state, history, random state)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.history import HistoryLog
from rnnviz.session.session import Session
from rnnviz.session.storage import SessionFileError, read_folder, write_folder
from rnnviz.tasks import TaskError

MAX_STEPS = 10**9
PARAM, OPTIM, HISTORY = "param/", "optim/", "history/"


def save_session(session: Session, folder: str | os.PathLike) -> Path:
    document = {
        "config": session.config.to_dict(),
        "step": session.step,
        "rng_state": session.trainer.rng.bit_generator.state,
    }
    arrays = {PARAM + name: value for name, value in session.model.state_dict().items()}
    arrays.update({OPTIM + name: np.asarray(value) for name, value in session.trainer.optimizer.state_dict().items()})
    arrays.update({HISTORY + name: value for name, value in session.history.arrays().items()})
    return write_folder(folder, document, arrays)


def load_session(path: str | os.PathLike) -> Session:
    """Open a saved session folder; any problem raises SessionFileError saying what and where."""
    document, arrays = read_folder(path)
    config = _config(document)
    try:
        session = Session(config)
    except (TaskError, ValueError) as exc:
        raise SessionFileError(f"the saved settings cannot be used: {exc}") from None
    _restore(session, document, arrays)
    return session


def _config(document: dict[str, Any]) -> SessionConfig:
    try:
        return SessionConfig.from_dict(document.get("config"))
    except (ConfigError, TypeError) as exc:
        raise SessionFileError(f"session.json has a bad setting: {exc}") from None


def _restore(session: Session, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    step = document.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEPS:
        raise SessionFileError(f"session.json has a bad step count {step!r}")
    params = _with_prefix(arrays, PARAM)
    try:
        session.model.load_state_dict(params)
        session.trainer.optimizer.load_state_dict(_with_prefix(arrays, OPTIM))
        session.trainer.rng.bit_generator.state = document.get("rng_state")
    except (ValueError, KeyError, TypeError) as exc:
        raise SessionFileError(f"model.npz does not match session.json: {exc}") from None
    if not all(np.isfinite(v).all() for v in session.model.parameters().values()):
        raise SessionFileError("model.npz holds non-finite weights (NaN or infinity)")
    try:
        session.history = HistoryLog.from_arrays(arrays[HISTORY + "train"], arrays[HISTORY + "heldout"])
    except (KeyError, ValueError) as exc:
        raise SessionFileError(f"model.npz has no usable training history ({exc})") from None
    session.trainer.steps = step


def _with_prefix(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
