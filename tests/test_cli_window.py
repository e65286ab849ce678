"""`rnnviz train --arch ngram|window-mlp --window K`: metrics.json, history.csv and the accuracy plot, and
one `error:` line (exit 2) for a missing or misplaced --window and for tasks or windows that cannot work."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from rnnviz.session.window_memory import heldout_batch
from rnnviz.tasks import make_task
from tests.test_cli import assert_one_error_line, assert_plots, final_loss, run

LAG_TASK = ["--task", "lag_recall", "--param", "vocab=4"]


def read_metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_ngram_inside_its_window_is_right_and_writes_metrics_history_and_plot(tmp_path, capsys):
    out = tmp_path / "ngram"
    code, stdout, err = run(["train", "--arch", "ngram", "--window", "3", *LAG_TASK, "--param", "lag=2",
                             "--steps", "40", "--batch", "16", "--seed", "3", "--out", str(out)], capsys)
    assert code == 0, err
    metrics = read_metrics(out)
    assert {"final_loss", "heldout_accuracy", "window", "seed", "steps", "arch"} <= set(metrics)
    assert (metrics["window"], metrics["seed"], metrics["steps"], metrics["arch"]) == (3, 3, 40, "ngram")
    assert metrics["heldout_accuracy"] == 1.0  # every context of 3 symbols of 4 was counted (40 x 16 x 24 tokens)
    assert metrics["table_entries"] == 5**3 * 4 and metrics["chance_accuracy"] == 0.25
    assert final_loss(stdout) == pytest.approx(metrics["final_loss"], rel=1e-5)
    assert metrics["final_loss"] == metrics["heldout_loss"]  # the n-gram's loss is its held-out cross-entropy
    with open(out / "history.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == [25, 40]
    assert float(rows[-1]["heldout_accuracy"]) == metrics["heldout_accuracy"]
    assert_plots(out / "plots", ("window_accuracy",))


def test_window_mlp_beyond_its_window_is_at_chance_and_saves_its_weights(tmp_path, capsys):
    out = tmp_path / "tdnn"
    code, stdout, err = run(["train", "--arch", "window-mlp", "--window", "2", *LAG_TASK, "--param", "lag=4",
                             "--hidden", "8", "--steps", "30", "--batch", "8", "--no-plots", "--out", str(out)],
                            capsys)
    assert code == 0, err
    metrics = read_metrics(out)
    assert (metrics["arch"], metrics["window"], metrics["hidden"]) == ("window-mlp", 2, 8)
    assert metrics["parameter_count"] == 8 * (2 * 4 + 1) + 4 * 9
    # 512 x 20 held-out tokens, each right with probability 1/4 whatever it predicts: sd < 0.005
    assert abs(metrics["heldout_accuracy"] - 0.25) < 0.05
    assert not (out / "plots").exists()
    weights = np.load(out / "model.npz", allow_pickle=False)
    assert sorted(weights.files) == ["head.bias", "head.weight", "hidden.bias", "hidden.weight"]
    # the written weights give the written accuracy on the held-out batch (same seed convention)
    from rnnviz.engine.window_models import TimeDelayNetwork

    net = TimeDelayNetwork(2, 4, 8, 4)
    for name, array in net.parameters().items():
        array[...] = weights[name]
    task = make_task("lag_recall", vocab=4, lag=4)
    batch = heldout_batch(task, 0)
    assert task.accuracy(net.predict(batch.inputs), batch) == metrics["heldout_accuracy"]


@pytest.mark.parametrize("argv, fragments", [
    (["--arch", "ngram"], ("--arch ngram needs --window",)),
    (["--arch", "window-mlp"], ("--arch window-mlp needs --window",)),
    (["--window", "3"], ("--window is for --arch window-mlp or ngram", "--arch rnn")),
    (["--arch", "ngram", "--window", "30"], ("--window to", "n-gram table")),
    (["--arch", "ngram", "--window", "3", "--task", "parity"], ("'parity' is many-to-one", "lag_recall")),
    (["--arch", "window-mlp", "--window", "3", "--bidirectional"], ("--bidirectional is for the recurrent",)),
    (["--arch", "window-mlp", "--window", "0"], ("--window",)),
])
def test_window_mistakes_exit_2_with_one_line(argv, fragments, tmp_path, capsys):
    task = [] if "--task" in argv else LAG_TASK
    out = tmp_path / "out"
    code, _, err = run(["train", *task, *argv, "--steps", "1", "--out", str(out)], capsys)
    assert_one_error_line(code, err, *fragments)
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("argv, fragment", [
    (["--arch", "ngram", "--window", "3"], "--arch ngram has no recurrence"),
    (["--window", "3"], "--window is for --arch window-mlp or ngram"),
])
def test_check_refuses_the_window_options(argv, fragment, capsys):
    code, _, err = run(["check", *LAG_TASK, *argv], capsys)
    assert_one_error_line(code, err, fragment)
