"""`rnnviz train --arch bow-mlp`: metrics.json and plots of the bag of words beside the RNN, the
order-sensitive figure in the rnn arch's metrics, and the refusal of a task without a bag of words."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rnnviz.app import main
from rnnviz.session.bag_of_words import BOW_HIDDEN, BagOfWordsComparison
from rnnviz.session.config import SessionConfig

TRAIN = ["train", "--task", "sentiment", "--cell", "gru", "--hidden", "8", "--batch", "16", "--steps", "30",
         "--seed", "3"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_bow_mlp_writes_its_metrics_and_the_accuracy_plot(tmp_path, capsys):
    code, out, err = run([*TRAIN, "--arch", "bow-mlp", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    same = BagOfWordsComparison(SessionConfig(task="sentiment", cell="gru", hidden_size=8, batch_size=16, seed=3),
                                bow_hidden=BOW_HIDDEN)  # the default, as on the page
    same.train(30)  # the same run in this process: the CLI reports exactly its figures
    last = same.curves().last()
    assert metrics["arch"] == "bow-mlp" and metrics["steps"] == 30 and metrics["seed"] == 3
    assert metrics["bow_hidden"] == BOW_HIDDEN
    negation = same.verdicts(["the food is not good"])[0]
    assert metrics["negation_example"]["bow_p_positive"] == float(negation.bow_probabilities[1])
    assert metrics["final_loss"] == same.bow_loss
    assert metrics["heldout_accuracy"] == last["bow_overall"]
    assert metrics["order_sensitive_accuracy"] == last["bow_order_sensitive"]
    assert metrics["rnn"]["order_sensitive_accuracy"] == last["rnn_order_sensitive"]
    assert [row["sentence"] for row in metrics["same_words_pair"]] == ["the movie was good but not great",
                                                                       "the movie was not great but good"]
    plots = tmp_path / "run" / "plots"
    assert sorted(p.name for p in plots.iterdir()) == sorted(
        f"{name}.{kind}" for name in ("bow_accuracy", "same_words") for kind in ("png", "svg", "csv"))
    rows = (plots / "bow_accuracy.csv").read_text().splitlines()
    assert rows[0] == "step,rnn_overall,rnn_order_sensitive,bow_overall,bow_order_sensitive"
    assert float(rows[-1].split(",")[3]) == last["bow_overall"]
    assert out.strip().splitlines()[-1] == f"final loss: {same.bow_loss:.6g}"


@pytest.mark.parametrize("task", ["adding", "text"])
def test_bow_mlp_on_a_task_without_words_to_count_is_one_error_line(tmp_path, capsys, task):
    code, out, err = run(["train", "--task", task, "--arch", "bow-mlp", "--steps", "1", "--out",
                          str(tmp_path / "run")], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and "sentiment" in err
    assert not (tmp_path / "run").exists()


def test_the_rnn_arch_reports_its_order_sensitive_accuracy(tmp_path, capsys):
    code, out, err = run([*TRAIN, "--no-plots", "--out", str(tmp_path / "rnn")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "rnn" / "metrics.json").read_text())
    assert 0.0 <= metrics["order_sensitive_accuracy"] <= 1.0 and metrics["order_sensitive_samples"] > 0
    assert "heldout_sequence_accuracy" not in metrics  # many-to-one
    assert "order-sensitive" in out
    assert np.isfinite(metrics["final_loss"])


def test_bow_hidden_0_trains_a_linear_bag_of_words(tmp_path, capsys):
    code, out, err = run([*TRAIN, "--arch", "bow-mlp", "--bow-hidden", "0", "--no-plots", "--out",
                          str(tmp_path / "run")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    same = BagOfWordsComparison(SessionConfig(task="sentiment", cell="gru", hidden_size=8, batch_size=16, seed=3),
                                bow_hidden=0)
    same.train(30)
    assert metrics["bow_hidden"] == 0 and metrics["parameters"] == same.bow.num_params()
    assert metrics["heldout_accuracy"] == same.curves().last()["bow_overall"]
    assert "bag of words → linear" in out


@pytest.mark.parametrize(("extra", "words"), [
    (["--arch", "bow-mlp", "--bow-hidden", "-1"], "--bow-hidden"),
    (["--arch", "bow-mlp", "--bow-hidden", "many"], "--bow-hidden"),
    (["--arch", "bow-mlp", "--bow-hidden", "100000"], "--bow-hidden"),
    (["--bow-hidden", "4"], "--arch bow-mlp"),
])
def test_bad_bow_hidden_is_one_error_line(tmp_path, capsys, extra, words):
    code, out, err = run([*TRAIN, *extra, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert not (tmp_path / "run").exists()


def test_the_help_names_the_default_bow_hidden(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert f"(default {BOW_HIDDEN}," in " ".join(capsys.readouterr().out.split())
