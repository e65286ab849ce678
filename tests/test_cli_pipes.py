"""A reader that stops early (`rnnviz tasks | head -1`, `rnnviz sample ... | head -c 10`) ends the
command quietly: exit code 141 (128 + SIGPIPE, what a shell reports for a program a closed pipe
stopped), nothing on stderr about it, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz.cli import EXIT_OUTPUT_CLOSED
from rnnviz.session.config import SessionConfig
from rnnviz.session.files import save_session
from rnnviz.session.session import Session

REPO = Path(__file__).resolve().parents[1]
PIPE_BUFFER_BYTES = 65536  # Linux's default pipe capacity: a writer of more than this blocks until read


def start_rnnviz(*argv: str, state: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": str(state)}
    env.pop("PYTHONUNBUFFERED", None)  # stdout buffered as a person's is: what is left is written at exit
    return subprocess.Popen([sys.executable, "-m", "rnnviz", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=REPO)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Wait for a process whose stdout the test has closed: (exit code, stderr)."""
    err = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    return process.wait(timeout=120), err


def assert_quiet_stop(code: int, err: str) -> None:
    assert code == EXIT_OUTPUT_CLOSED, err
    for noise in ("error", "Broken pipe", "BrokenPipeError", "Traceback", "Exception ignored"):
        assert noise not in err, err


@pytest.fixture(scope="module")
def text_session(tmp_path_factory) -> Path:
    session = Session(SessionConfig(task="text", task_params={"seq_len": 16}, cell="rnn_tanh", hidden_size=4,
                                    batch_size=2, seed=1))
    return save_session(session, tmp_path_factory.mktemp("pipes") / "text")


def test_sample_into_a_reader_that_takes_ten_bytes_and_closes(text_session, tmp_path):
    length = PIPE_BUFFER_BYTES + 10_000  # more than the pipe holds: the writer is still writing when it closes
    process = start_rnnviz("sample", str(text_session), "--seed-text", "The", "--length", str(length),
                           state=tmp_path)
    assert len(process.stdout.read(10)) == 10  # what `head -c 10` does: read 10 bytes and go
    process.stdout.close()
    assert_quiet_stop(*finish(process))


@pytest.mark.parametrize("argv", [
    ["tasks"],
    ["train", "--task", "adding", "--seq-len", "5", "--hidden", "4", "--batch", "2", "--steps", "3", "--no-plots"],
], ids=["tasks", "train"])
def test_a_command_whose_reader_has_gone_before_it_writes(argv, tmp_path):
    if argv[0] == "train":
        argv = [*argv, "--out", str(tmp_path / "run")]
    process = start_rnnviz(*argv, state=tmp_path)
    process.stdout.close()  # `| head -1` that has already read its line and gone: nothing can be written
    assert_quiet_stop(*finish(process))
