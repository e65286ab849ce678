"""rnnviz's log file and crash file, for the window and the command line alike (Qt-free).

    <log folder>/rnnviz.log   what rnnviz did and every unexpected error with its traceback
                              (rotating: at most 1 MiB, with 3 older files rnnviz.log.1 .. .3)
    <log folder>/crash.log    what faulthandler writes when the interpreter itself dies
                              (segmentation fault, abort): the Python stack of every thread, after
                              a line per run (past 1 MiB it becomes crash.log.1)

The log folder is platformdirs' per-user log folder for "rnnviz" (on Linux
``$XDG_STATE_HOME/rnnviz/log``, by default ``~/.local/state/rnnviz/log``). Logging never stops the
program: when the folder cannot be written, rnnviz runs without a log file and says so once.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import platform
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

LOGGER_NAME = "rnnviz"
LOG_FILE_NAME = "rnnviz.log"
CRASH_FILE_NAME = "crash.log"
MAX_LOG_BYTES = 1 << 20
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d, %(threadName)s] %(message)s"

logger = logging.getLogger(LOGGER_NAME)


class _State:
    handler: RotatingFileHandler | None = None
    crash_descriptor: int | None = None


def log_folder() -> Path:
    """The per-user folder rnnviz writes its logs into (it may not exist yet)."""
    return Path(platformdirs.user_log_dir("rnnviz", appauthor=False))


def log_file() -> Path | None:
    """The log file in use, or None when logging to a file is not running."""
    handler = _State.handler
    return Path(handler.baseFilename) if handler is not None else None


def start_logging(folder: Path | None = None, role: str = "rnnviz") -> Path | None:
    """Send rnnviz's log records (INFO and up) to ``folder/rnnviz.log``; returns its path, or None
    (with one line on stderr) when the folder cannot be written. Replaces an earlier start. ``role``
    names the process in the first record ("rnnviz", "worker process rnnviz-training")."""
    stop_logging()
    folder = log_folder() if folder is None else Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / LOG_FILE_NAME, maxBytes=MAX_LOG_BYTES,
                                      backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        _say(f"rnnviz: cannot write a log file in {folder} ({exc.strerror or exc}); running without one")
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _State.handler = handler
    logger.info("%s started (rnnviz %s): Python %s on %s; command line %s", role, _version(),
                platform.python_version(), platform.platform(), sys.argv)
    return log_file()


def enable_crash_log(folder: Path | None = None) -> Path | None:
    """Have faulthandler write the stacks of all threads to ``folder/crash.log`` if the interpreter
    dies (segmentation fault, abort, fatal error). Returns the file's path, or None if it cannot be
    opened. The file stays open for the life of the process, as a bare descriptor (a file object would
    warn about being left open at exit): faulthandler writes to it at a crash, even during shutdown."""
    folder = log_folder() if folder is None else Path(folder)
    path = folder / CRASH_FILE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > MAX_LOG_BYTES:  # one line per run adds up: keep one old file
            path.replace(path.with_name(CRASH_FILE_NAME + ".1"))
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        header = f"--- rnnviz {_version()}, pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        os.write(descriptor, header.encode("utf-8"))
    except OSError as exc:
        _say(f"rnnviz: cannot write {path} ({exc.strerror or exc}); crashes will not be recorded")
        return None
    faulthandler.enable(file=descriptor, all_threads=True)
    previous, _State.crash_descriptor = _State.crash_descriptor, descriptor
    if previous is not None:
        os.close(previous)
    return path


def stop_logging() -> None:
    """Close the log file (the crash log stays: faulthandler may still need it)."""
    handler, _State.handler = _State.handler, None
    if handler is not None:
        logger.removeHandler(handler)
        handler.close()


def report_unexpected(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback as an unexpected error (a bug) in ``where`` ("training", "the
    window"), and return what to tell the person: what failed, the error, and where the log file is."""
    logger.error("unexpected error in %s", where, exc_info=(type(exc), exc, exc.__traceback__))
    return unexpected_message(exc, where)


def unexpected_message(exc: BaseException, where: str) -> str:
    path = log_file()
    log = (f"The details are in the log file {path}; please include it when you report the problem."
           if path is not None else "No log file could be written, so the details are lost.")
    return f"Unexpected error in {where} (a bug in rnnviz): {type(exc).__name__}: {exc}\n\n{log}"


def _version() -> str:
    import rnnviz

    return rnnviz.__version__


def _say(line: str) -> None:
    if sys.stderr is not None:  # None in a GUI-script process on Windows (no console)
        print(line, file=sys.stderr)
