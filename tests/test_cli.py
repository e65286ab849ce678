"""The headless command line: rnnviz tasks / train / export, its files and its exit codes."""
from __future__ import annotations

import csv
import io
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from xml.dom import minidom

import numpy as np
import pytest

from rnnviz.app import main
from rnnviz.cli import Progress, describe_task, parse
from rnnviz.session.files import load_session
from rnnviz.tasks import TASKS
from rnnviz.ui.panels import PANELS

REPO = Path(__file__).resolve().parents[1]
ALL_PANELS = tuple(PANELS)
SMALL = ["--hidden", "4", "--batch", "4"]
HISTORY_COLUMNS = ["step", "loss", "grad_norm", "clipped", "heldout_loss"]
# The final loss is printed with 6 significant digits (relative rounding <= 5e-6) and history.csv keeps 9
# (<= 5e-10): the same number read back from both agrees to 1e-5; the floor covers a loss printed as 0.
PRINTED = dict(rel=1e-5, abs=1e-12)
DIVERGING = ["--task", "adding", "--seq-len", "30", "--cell", "rnn_relu", "--init", "identity",
             "--init-scale", "2", "--optimizer", "sgd", "--lr", "1", "--clip", "0", "--hidden", "8",
             "--batch", "4", "--steps", "50"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``rnnviz argv`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def read_history(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(folder / "history.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def final_loss(stdout: str) -> float:
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("final loss: "), f"the last stdout line is {last!r}"
    return float(last.removeprefix("final loss: "))


def assert_plots(folder: Path, panels: tuple[str, ...]) -> None:
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(f"{n}.{s}" for n in panels for s in ("csv", "png", "svg"))
    for name in panels:
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = minidom.parse(str(folder / f"{name}.svg"))
        assert svg.documentElement.tagName == "svg" and svg.getElementsByTagName("path"), name
        assert (folder / f"{name}.csv").read_text(encoding="utf-8").count("\n") >= 2, name


def assert_one_error_line(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One short LSTM run on the adding task, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("cli") / "adding"
    with pytest.raises(SystemExit) as info:
        main(["train", "--task", "adding", "--seq-len", "8", "--cell", "lstm", *SMALL, "--steps", "30",
              "--out", str(out)])
    assert info.value.code == 0
    return out


# --- tasks -------------------------------------------------------------------------------------


def test_tasks_lists_every_task_with_its_parameters(capsys):
    code, out, _ = run(["tasks"], capsys)
    assert code == 0
    for task in TASKS.values():
        assert f"{task.name}: {task.title}" in out
        for param in task.params:
            assert param.name in out and param.help in out
    assert "io: many-to-one, loss: mse" in out  # adding
    assert "int 2..1000" in out and "one of balanced|depth" in out


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_task_parameter_columns_line_up_whatever_their_lengths(task):
    """name, default, allowed values and help: four columns, each starting in the same place on every row
    (a long default or list of choices widens its column instead of pushing its row's help out of line)."""
    rows = describe_task(task).splitlines()[4:]  # after name, summary, io and "parameters:"
    if not task.params:
        return
    assert len(rows) == len(task.params)
    starts = []
    for row, param in zip(rows, task.params):
        cells = list(re.finditer(r"\S+(?: \S+)*", row))  # runs of words, cells apart by two or more spaces
        assert [cell.group() for cell in cells][::3] == [param.name, param.help], row
        assert cells[1].group().startswith("default ")
        starts.append([cell.start() for cell in cells])
    assert all(row_starts == starts[0] for row_starts in starts), "\n".join(rows)


def test_tasks_with_a_name_prints_the_whole_description(capsys):
    code, out, _ = run(["tasks", "copy"], capsys)
    assert code == 0 and TASKS["copy"].description in out
    code, _, err = run(["tasks", "nope"], capsys)
    assert_one_error_line(code, err, "nope", "adding")


# --- train -------------------------------------------------------------------------------------


def test_train_writes_session_history_and_every_plot(trained, capsys):
    for name in ("session.json", "model.npz", "history.csv"):
        assert (trained / name).is_file()
    columns, rows = read_history(trained)
    assert columns == HISTORY_COLUMNS
    assert [int(r["step"]) for r in rows] == list(range(1, 31))
    assert rows[-1]["heldout_loss"] != "" and rows[0]["heldout_loss"] == ""
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    assert_plots(trained / "plots", ALL_PANELS)
    session = load_session(trained)
    assert session.step == 30 and session.config.task_params == {"seq_len": 8}
    assert session.config.cell == "lstm" and session.config.hidden_size == 4


def test_train_rnn_on_own_text_file_leaves_out_the_gates_panel(tmp_path, capsys):
    text = tmp_path / "poem.txt"
    text.write_text("the cat sat on the mat and the rat sat on the hat\n" * 20, encoding="utf-8")
    out = tmp_path / "run"
    code, stdout, err = run(["train", "--task", "text", "--data", str(text), "--seq-len", "12", "--cell",
                             "rnn_tanh", *SMALL, "--steps", "12", "--out", str(out)], capsys)
    assert code == 0, err
    assert_plots(out / "plots", tuple(p for p in ALL_PANELS if p != "gates"))
    _, rows = read_history(out)
    assert final_loss(stdout) == pytest.approx(float(rows[-1]["loss"]), **PRINTED)
    session = load_session(out)
    assert session.config.task_params["path"] == str(text.resolve())
    # progress went to stderr as a few plain lines (not a terminal: no carriage returns)
    assert "\r" not in err and 1 <= err.count("step ") <= 5


def test_train_series_with_params_and_seq_len(tmp_path, capsys):
    table = tmp_path / "table.csv"
    t = np.arange(80)
    table.write_text("time,a,b\n" + "".join(f"{i},{np.sin(i / 5):.4f},{np.cos(i / 7):.4f}\n" for i in t),
                     encoding="utf-8")
    out = tmp_path / "series"
    code, stdout, err = run(["train", "--task", "series", "--data", str(table), "--param", "target=b",
                             "--param", "inputs=a", "--seq-len", "10", "--cell", "gru", *SMALL, "--steps", "5",
                             "--no-plots", "--out", str(out)], capsys)
    assert code == 0, err
    assert math.isfinite(final_loss(stdout))
    assert not (out / "plots").exists()
    config = load_session(out).config
    assert config.task_params == {"path": str(table.resolve()), "target": "b", "inputs": "a", "seq_len": 10}
    assert config.cell == "gru"


def test_init_weights_from_a_pytorch_style_npz(tmp_path, capsys):
    rng = np.random.default_rng(5)
    state = {"weight_ih_l0": rng.normal(size=(12, 2)), "weight_hh_l0": rng.normal(size=(12, 4)),
             "bias_ih_l0": rng.normal(size=12), "bias_hh_l0": rng.normal(size=12)}  # GRU, H=4, adding: I=2
    np.savez(tmp_path / "gru.npz", **state)
    out = tmp_path / "run"
    code, stdout, err = run(["train", "--task", "adding", "--seq-len", "6", "--cell", "gru", *SMALL,
                             "--dtype", "float64", "--steps", "0", "--no-plots", "--init-weights",
                             str(tmp_path / "gru.npz"), "--out", str(out)], capsys)
    assert code == 0, err
    weights = load_session(out).model.parameters()
    for name, value in state.items():
        np.testing.assert_array_equal(weights[name], value)
    assert math.isfinite(final_loss(stdout))  # no step taken: the held-out loss of the loaded weights


def test_rerun_into_own_output_folder_is_allowed(trained, tmp_path, capsys):
    out = tmp_path / "again"
    argv = ["train", "--task", "parity", "--seq-len", "4", "--cell", "gru", *SMALL, "--steps", "3",
            "--no-plots", "--out", str(out)]
    assert run(argv, capsys)[0] == 0
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert load_session(out).step == 3


def test_divergence_in_process_keeps_last_finite_weights(tmp_path, capsys):
    out = tmp_path / "diverged"
    code, stdout, err = run(["train", *DIVERGING, "--no-plots", "--out", str(out)], capsys)
    assert code == 3
    assert "diverged" in err and "--clip" in err and "Traceback" not in err
    session = load_session(out)  # refuses non-finite weights, so loading proves they are finite
    assert all(np.isfinite(v).all() for v in session.model.parameters().values())
    _, rows = read_history(out)
    assert session.step == len(rows) < 50
    assert final_loss(stdout) == pytest.approx(float(rows[-1]["loss"]), **PRINTED)


def test_ctrl_c_stops_after_a_whole_step_and_writes_the_run(tmp_path, capsys):
    out = tmp_path / "interrupted"
    before = signal.getsignal(signal.SIGINT)

    def press_ctrl_c_once_training_runs() -> None:
        deadline = time.monotonic() + 30
        while signal.getsignal(signal.SIGINT) is before:
            if time.monotonic() > deadline:
                return  # train never installed its handler: the assertions below fail, pytest lives on
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c_once_training_runs)
    presser.start()
    code, stdout, err = run(["train", "--task", "parity", "--seq-len", "4", *SMALL, "--steps", "100000",
                             "--no-plots", "--out", str(out)], capsys)
    presser.join()
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is before  # the handler was put back
    session = load_session(out)
    _, rows = read_history(out)
    assert 0 < session.step == len(rows) < 100000
    assert final_loss(stdout) == pytest.approx(float(rows[-1]["loss"]), **PRINTED)


# --- export ------------------------------------------------------------------------------------


def test_export_redraws_the_saved_session(trained, tmp_path, capsys):
    out = tmp_path / "exported"
    code, stdout, err = run(["export", str(trained), "--out", str(out)], capsys)
    assert code == 0, err
    assert_plots(out / "plots", ALL_PANELS)
    assert (out / "history.csv").read_text() == (trained / "history.csv").read_text()
    for name in PANELS:  # the same weights and history draw the same data
        assert (out / "plots" / f"{name}.csv").read_text() == (trained / "plots" / f"{name}.csv").read_text()


# --- user errors: exit 2, one line, no traceback -----------------------------------------------


def _bad_files(tmp: Path) -> dict[str, Path]:
    binary = tmp / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    hostile = tmp / "hostile.npz"
    np.savez(hostile, weight_ih_l0=np.array([{"code": "os.system"}], dtype=object))
    wrong = tmp / "wrong.npz"
    np.savez(wrong, weight_ih_l0=np.zeros((16, 2)), weight_hh_l0=np.zeros((16, 4)), bias_ih_l0=np.zeros(16),
             bias_hh_l0=np.zeros(16))  # an LSTM's shapes, given to a GRU
    broken = tmp / "broken_session"
    broken.mkdir()
    (broken / "session.json").write_text('{"format": "rnnviz-session", "version": 1, "config": {', encoding="utf-8")
    np.savez(broken / "model.npz", x=np.zeros(1))
    foreign = tmp / "holiday_photos"
    foreign.mkdir()
    (foreign / "beach.jpg").write_bytes(b"precious")
    return {"binary": binary, "hostile": hostile, "wrong": wrong, "broken": broken, "foreign": foreign}


ERROR_CASES = {
    "unknown task": (["train", "--task", "nope"], ["nope", "adding"]),
    "hidden 0": (["train", "--task", "adding", "--hidden", "0"], ["hidden_size", "0"]),
    "missing data": (["train", "--task", "text", "--data", "{tmp}/nowhere.txt"], ["nowhere.txt", "does not exist"]),
    "binary data": (["train", "--task", "text", "--data", "{binary}"], ["binary.txt"]),
    "data for a task without files": (["train", "--task", "adding", "--data", "{binary}"], ["text", "series"]),
    "seq-len for copy": (["train", "--task", "copy", "--seq-len", "9"], ["delay"]),
    "unknown param": (["train", "--task", "adding", "--param", "speed=3"], ["speed", "seq_len"]),
    "param out of range": (["train", "--task", "adding", "--param", "seq_len=1"], ["seq_len", "at least 2"]),
    "param without value": (["train", "--task", "adding", "--param", "seq_len"], ["NAME=VALUE"]),
    "bad learning rate": (["train", "--task", "adding", "--lr", "nan"], ["lr"]),
    "hostile init weights": (["train", "--task", "adding", "--cell", "gru", "--hidden", "4",
                              "--init-weights", "{hostile}"], ["hostile.npz"]),
    "wrong init weights": (["train", "--task", "adding", "--cell", "gru", "--hidden", "4",
                            "--init-weights", "{wrong}"], ["weight_hh_l0 is (16, 4), needs (12, 4)", "LSTM"]),
    "foreign out folder": (["train", "--task", "adding"], ["beach.jpg"]),
    "malformed session.json": (["export", "{broken}"], ["session.json", "not valid JSON"]),
    "missing session": (["export", "{tmp}/no_session"], ["no_session"]),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors_exit_2_with_one_line(case, tmp_path, capsys):
    files = _bad_files(tmp_path)
    argv, fragments = ERROR_CASES[case]
    places = {"tmp": tmp_path, **files}
    argv = [a.format(**places) for a in argv]
    out = files["foreign"] if case == "foreign out folder" else tmp_path / "out"
    code, _, err = run([*argv, "--out", str(out), "--steps", "2"] if argv[0] == "train"
                       else [*argv, "--out", str(out)], capsys)
    assert_one_error_line(code, err, *fragments)
    assert (files["foreign"] / "beach.jpg").read_bytes() == b"precious"
    assert sorted(p.name for p in files["foreign"].iterdir()) == ["beach.jpg"]


def test_hostile_session_model_is_refused(trained, tmp_path, capsys):
    session = tmp_path / "session"
    session.mkdir()
    (session / "session.json").write_text((trained / "session.json").read_text())
    np.savez(session / "model.npz", **{"param/weight_ih_l0": np.array([None, {"x": 1}], dtype=object)})
    code, _, err = run(["export", str(session), "--out", str(tmp_path / "out")], capsys)
    assert_one_error_line(code, err, "model.npz")


def test_argparse_errors_exit_2(capsys):
    code, _, err = run(["train", "--task", "adding", "--cell", "transformer", "--out", "x"], capsys)
    assert code == 2 and "transformer" in err and "Traceback" not in err
    code, _, err = run(["train", "--task", "adding"], capsys)  # --out is required
    assert code == 2 and "--out" in err


# --- window options ----------------------------------------------------------------------------


def test_window_options_are_parsed_for_the_window():
    args = parse(["--screenshot", "shot.png", "--task", "copy", "--cell", "gru", "--train-steps", "40",
                  "--session", "saved"])
    assert args.command is None
    assert (args.screenshot, args.task, args.cell, args.train_steps, args.session) == (
        "shot.png", "copy", "gru", 40, "saved")


def test_window_only_option_with_a_command_is_an_error(capsys):
    code, _, err = run(["--screenshot", "x.png", "tasks"], capsys)
    assert_one_error_line(code, err, "--screenshot")


# --- progress ----------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line():
    stream = _Terminal()
    progress = Progress(200, stream)
    progress.REDRAW_SECONDS = 0.0
    for step in range(1, 201):
        progress.update(step, 1.0 / step, 0.5)
    progress.finish(200)
    text = stream.getvalue()
    assert text.count("\r") == 200 and text.count("\n") == 2
    assert "step 200/200" in text


def test_progress_elsewhere_prints_a_few_plain_lines():
    stream = io.StringIO()
    progress = Progress(1000, stream)
    for step in range(1, 1001):
        progress.update(step, 0.1, 0.5)
    progress.finish(1000)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 5
    assert lines[-2].startswith("step 1000/1000")


# --- real processes: the exit-code contract ----------------------------------------------------


def _rnnviz(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *argv], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)


def test_process_diverging_run_exits_3_and_still_writes_everything(tmp_path):
    out = tmp_path / "diverged"
    done = _rnnviz("train", *DIVERGING, "--out", str(out))
    assert done.returncode == 3, done.stderr
    assert "diverged" in done.stderr and "Traceback" not in done.stderr
    assert math.isfinite(final_loss(done.stdout))
    assert_plots(out / "plots", tuple(p for p in ALL_PANELS if p != "gates"))
    assert all(np.isfinite(v).all() for v in load_session(out).model.parameters().values())


def test_process_user_error_exits_2_with_one_line(tmp_path):
    done = _rnnviz("train", "--task", "adding", "--hidden", "0", "--out", str(tmp_path / "x"))
    assert_one_error_line(done.returncode, done.stderr, "hidden_size")
    assert done.stdout == ""
