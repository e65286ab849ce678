"""The log file and crash log (rnnviz.logs), from the command line as a person runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz import cli, logs
from rnnviz.app import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def log_folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield logs.log_folder()
    logs.stop_logging()


def rnnviz_process(*argv: str, state: Path, code: str | None = None) -> subprocess.CompletedProcess:
    """``rnnviz argv`` (or ``python -c code``) in its own process, its log folder under ``state``."""
    env = {**os.environ, "XDG_STATE_HOME": str(state), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONFAULTHANDLER", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "rnnviz", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


def test_the_log_folder_is_the_platforms_per_user_log_folder(log_folder, tmp_path):
    assert log_folder.is_relative_to(tmp_path / "state")  # $XDG_STATE_HOME/rnnviz/log on Linux


def test_a_command_logs_that_it_ran_and_how_it_ended(log_folder, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tasks", "adding"])
    assert info.value.code == 0
    text = (log_folder / logs.LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "rnnviz started (rnnviz " in text and "exit code 0" in text


def test_a_mistake_is_one_error_line_and_a_warning_in_the_log(log_folder, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tasks", "no-such-task"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    text = (log_folder / logs.LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "WARNING" in text and "no-such-task" in text and "Traceback" not in text


def test_a_bug_in_a_command_is_one_line_naming_the_log_which_has_the_traceback(log_folder, capsys, monkeypatch):
    def broken_command(args):  # stands in for any programming error inside a command
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "command_tasks", broken_command)
    with pytest.raises(SystemExit) as info:
        main(["tasks"])
    err = capsys.readouterr().err
    log_file = log_folder / logs.LOG_FILE_NAME
    assert info.value.code == 1
    assert err.count("\n") == 1 and err.startswith("error: Unexpected error in rnnviz tasks") and str(log_file) in err
    assert "Traceback" not in err
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken_command" in text


def test_the_log_rotates_and_keeps_a_few_old_files(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 2000)
    path = logs.start_logging(tmp_path)
    try:
        for index in range(200):
            logs.logger.info("line %d %s", index, "x" * 60)
    finally:
        logs.stop_logging()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [logs.LOG_FILE_NAME] + [f"{logs.LOG_FILE_NAME}.{i}" for i in range(1, logs.LOG_BACKUPS + 1)]
    assert all(p.stat().st_size <= 2000 for p in tmp_path.iterdir())
    assert "line 199" in path.read_text(encoding="utf-8")


def test_an_unwritable_log_folder_is_said_once_and_the_program_goes_on(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert logs.start_logging(blocker / "logs") is None
    assert logs.log_file() is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "running without one" in err
    message = logs.report_unexpected(RuntimeError("x"), "testing")
    assert "No log file could be written" in message
    assert capsys.readouterr().err == ""  # nothing printed when no log file is running


def test_a_hard_crash_leaves_the_stacks_in_crash_log(tmp_path):
    code = ("from rnnviz import logs; import faulthandler\n"
            "logs.enable_crash_log()\n"
            "def deep_in_rnnviz(): faulthandler._sigsegv()\n"
            "deep_in_rnnviz()\n")
    done = rnnviz_process(state=tmp_path, code=code)
    assert done.returncode != 0
    crash = (tmp_path / "rnnviz" / "log" / logs.CRASH_FILE_NAME).read_text(encoding="utf-8")
    assert crash.startswith("--- rnnviz ") and "Segmentation fault" in crash and "deep_in_rnnviz" in crash


def test_the_crash_log_starts_over_past_its_size_keeping_one_old_file(tmp_path):
    folder = tmp_path / "rnnviz" / "log"
    folder.mkdir(parents=True)
    (folder / logs.CRASH_FILE_NAME).write_text("x" * 101, encoding="utf-8")
    code = "from rnnviz import logs; logs.MAX_LOG_BYTES = 100; logs.enable_crash_log()"
    done = rnnviz_process(state=tmp_path, code=code)  # its own process: faulthandler is process-wide
    assert done.returncode == 0, done.stderr
    assert (folder / logs.CRASH_FILE_NAME).read_text(encoding="utf-8").startswith("--- rnnviz ")
    assert (folder / (logs.CRASH_FILE_NAME + ".1")).read_text(encoding="utf-8") == "x" * 101


def test_the_program_writes_its_log_and_crash_log_in_the_log_folder(tmp_path):
    done = rnnviz_process("tasks", state=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "rnnviz" / "log"
    assert "exit code 0" in (folder / logs.LOG_FILE_NAME).read_text(encoding="utf-8")
    assert (folder / logs.CRASH_FILE_NAME).read_text(encoding="utf-8").startswith("--- rnnviz ")
