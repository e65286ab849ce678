"""The command line attacked: every bad input is refused before any work with one `error:` line and
exit code 2, output folders are checked and locked before training, saves survive Ctrl-C and a full
disk, weights export to PyTorch."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnviz.app import main
from rnnviz.engine.memory import BUDGET_ENV
from rnnviz.session.files import load_session
from tests.test_cli import REPO, SMALL, assert_one_error_line, run

TRAIN = ["train", "--task", "parity", "--seq-len", "4", *SMALL, "--no-plots"]


def rnnviz(*argv: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", **env}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *argv], capture_output=True, text=True,
                          env=environment, timeout=120, cwd=REPO)


# --- argument errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--task", "adding", "--cell", "transformer", "--out", "x"], "transformer"),
    (["train", "--task", "adding"], "--out"),
    (["train", "--task", "adding", "--steps", "many", "--out", "x"], "many"),
    (["frobnicate"], "frobnicate"),
    (["train", "--task", "adding", "--out", "x", "--bogus"], "--bogus"),
])
def test_argparse_errors_are_one_line(argv, fragment, capsys):
    code, out, err = run(argv, capsys)
    assert_one_error_line(code, err, fragment, "--help")
    assert out == ""


def test_help_still_prints_the_usage(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0 and "usage: rnnviz train" in out and "--batch" in out


# --- settings that do not fit in memory --------------------------------------------------------


def test_a_network_too_big_for_memory_is_refused_before_training(tmp_path):
    done = rnnviz("train", "--task", "adding", "--seq-len", "1000", "--hidden", "256", "--batch", "256",
                  "--out", str(tmp_path / "out"), **{BUDGET_ENV: "1G"})
    assert_one_error_line(done.returncode, done.stderr, "needs about", "lower --batch to", "--seq-len to")
    assert done.stdout == "" and not (tmp_path / "out").exists()


def test_steps_whose_history_does_not_fit_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "200M")
    code, out, err = run([*TRAIN, "--steps", "10000000", "--out", str(tmp_path / "out")], capsys)
    assert_one_error_line(code, err, "needs about")
    assert "training" not in out


# --- the output folder -------------------------------------------------------------------------


def test_an_out_folder_that_cannot_be_written_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, out, err = run([*TRAIN, "--steps", "5", "--out", str(tmp_path / "file" / "run")], capsys)
    assert_one_error_line(code, err, "--out", "cannot be written")
    assert out == ""  # nothing was trained


def test_a_folder_another_live_run_is_writing_is_refused(tmp_path, capsys):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".run.lock").write_text(f"{sleeper.pid}\n")
        code, out, err = run([*TRAIN, "--steps", "5", "--out", str(tmp_path / "run")], capsys)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert_one_error_line(code, err, f"process {sleeper.pid}", "is writing to")
    assert out == "" and not (tmp_path / "run").exists()


def test_a_stale_lock_of_a_dead_run_is_taken_over_and_released(tmp_path, capsys):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".run.lock").write_text(dead.stdout)
    code, _, err = run([*TRAIN, "--steps", "3", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert load_session(tmp_path / "run").step == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # lock released, nothing left over


def test_two_runs_into_one_folder_never_mix(tmp_path):
    out = tmp_path / "shared"
    first = subprocess.Popen([sys.executable, str(REPO / "main.py"), *TRAIN, "--steps", "100000", "--out", str(out)],
                             env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = first.stdout.readline()  # "training ...": the lock is held and training runs
        assert started.startswith("training"), started + first.stderr.read()
        second = rnnviz(*TRAIN, "--steps", "3", "--out", str(out))
        assert_one_error_line(second.returncode, second.stderr, f"process {first.pid}")
    finally:
        first.send_signal(signal.SIGINT)
        stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    session = load_session(out)  # the first run's, whole
    assert 0 < session.step < 100000 and not (tmp_path / ".shared.lock").exists()


def test_a_tilde_in_out_and_data_is_the_home_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 20, encoding="utf-8")
    code, _, err = run(["train", "--task", "text", "--data", "~/corpus.txt", "--seq-len", "8", *SMALL,
                        "--steps", "2", "--no-plots", "--out", "~/run"], capsys)
    assert code == 0, err
    assert (tmp_path / "run" / "session.json").is_file()
    assert load_session(tmp_path / "run").config.task_params["path"] == str(tmp_path / "corpus.txt")


def test_a_symbolic_link_loop_as_data_is_one_line(tmp_path, capsys):
    os.symlink(tmp_path / "b.txt", tmp_path / "a.txt")
    os.symlink(tmp_path / "a.txt", tmp_path / "b.txt")
    code, out, err = run(["train", "--task", "text", "--data", str(tmp_path / "a.txt"), "--steps", "2",
                          "--out", str(tmp_path / "run")], capsys)
    assert_one_error_line(code, err, "loop of symbolic links")


# --- saving --------------------------------------------------------------------------------------


def test_ctrl_c_while_saving_finishes_the_save(tmp_path, capsys, monkeypatch):
    import rnnviz.session.files as files

    real_save = files.save_session

    def ctrl_c_then_save(session, folder):
        os.kill(os.getpid(), signal.SIGINT)  # pressed while the files are being written
        return real_save(session, folder)

    monkeypatch.setattr(files, "save_session", ctrl_c_then_save)
    code, _, err = run([*TRAIN, "--steps", "3", "--out", str(tmp_path / "run")], capsys)
    assert code == 130, err
    assert "Traceback" not in err and "saving the run" in err and "every file was written" in err
    assert load_session(tmp_path / "run").step == 3


def test_a_full_disk_is_a_sentence_that_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    code, _, err = run([*TRAIN, "--steps", "3", "--out", str(tmp_path / "run")], capsys)
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert code == 2 and "Traceback" not in err and errors == [err.strip().splitlines()[-1]], err
    assert "disk is full" in errors[0] and "nothing was saved" in errors[0]
    assert ".saving-" not in err and "[" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_diverging_run_prints_no_numpy_warning(tmp_path):
    done = rnnviz("train", "--task", "series", "--cell", "rnn_relu", "--init", "identity", "--init-scale", "4",
                  "--lr", "10", "--clip", "0", "--optimizer", "momentum", "--dtype", "float64", "--steps", "30",
                  "--out", str(tmp_path / "run"), PYTHONWARNINGS="error")
    assert done.returncode == 3, done.stderr
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr


# --- weights for PyTorch -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_export_weights_that_torch_loads(tmp_path, capsys, suffix):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    code, _, err = run(["train", "--task", "adding", "--seq-len", "6", "--cell", "lstm", "--hidden", "5",
                        "--layers", "2", "--steps", "3", "--no-plots", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    weights = tmp_path / f"weights{suffix}"
    code, out, err = run(["export", str(tmp_path / "run"), "--weights", str(weights)], capsys)
    assert code == 0, err
    assert "torch.nn.LSTM" in out
    module = torch.nn.LSTM(2, 5, num_layers=2)
    state = load_file(weights) if suffix == ".safetensors" else {
        k: torch.from_numpy(v) for k, v in np.load(weights, allow_pickle=False).items()}
    module.load_state_dict(state)
    np.testing.assert_array_equal(module.weight_hh_l1.detach().numpy(),
                                  load_session(tmp_path / "run").model.parameters()["weight_hh_l1"])
    code, _, err = run(["train", "--task", "adding", "--seq-len", "6", "--cell", "lstm", "--hidden", "5",
                        "--layers", "2", "--steps", "1", "--no-plots", "--init-weights", str(weights),
                        "--out", str(tmp_path / "again")], capsys)
    assert code == 0, err


def test_export_needs_out_or_weights(tmp_path, capsys):
    code, _, err = run(["export", str(tmp_path)], capsys)
    assert_one_error_line(code, err, "--out", "--weights")


@pytest.mark.parametrize("out", [".", "sub/..", "./"])
def test_the_folder_you_are_in_is_never_replaced(tmp_path, capsys, monkeypatch, out):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run([*TRAIN, "--steps", "2", "--out", out], capsys)
    assert_one_error_line(code, err, "the folder you are working in")
    assert stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["sub"]
