"""``rnnviz train --arch seq2seq`` and ``rnnviz check --arch seq2seq``: the files, the metrics, the refusals."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine.seq2seq import Seq2Seq, Seq2SeqConfig
from tests.test_cli import assert_one_error_line, assert_plots, final_loss, run

SMALL = ["--hidden", "8", "--batch", "8"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, str]:
    """One short run with its plots, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("cli") / "reverse"
    from rnnviz.app import main

    with pytest.raises(SystemExit) as info:
        main(["train", "--arch", "seq2seq", "--attention", "additive", "--task", "reverse", "--seq-len", "4",
              "--cell", "gru", "--bidirectional", *SMALL, "--steps", "40", "--out", str(out)])
    assert info.value.code == 0
    return out


def test_train_writes_metrics_weights_history_and_plots(trained):
    metrics = json.loads((trained / "metrics.json").read_text(encoding="utf-8"))
    for key in ("final_loss", "heldout_accuracy", "heldout_sequence_accuracy", "heldout_loss", "seed", "steps",
                "arch", "attention"):
        assert key in metrics, key
    assert metrics["arch"] == "seq2seq" and metrics["attention"] == "additive" and metrics["steps"] == 40
    assert 0 <= metrics["heldout_sequence_accuracy"] <= metrics["heldout_accuracy"] <= 1
    assert 0 <= metrics["attention_anti_diagonal"] <= 1
    with np.load(trained / "model.npz", allow_pickle=False) as saved:
        arrays = {k: saved[k] for k in saved.files}
    settings = json.loads(str(arrays.pop("settings")))
    assert settings["encoder_cell"] == "gru" and settings["bidirectional"] is True
    net = Seq2Seq(Seq2SeqConfig("gru", "gru", 8, 9, hidden_size=8, bidirectional=True, attention="additive"))
    net.load_state_dict(arrays)  # every name and shape fits the network the settings describe
    history = (trained / "history.csv").read_text(encoding="utf-8").splitlines()
    assert history[0] == "step,loss" and len(history) == 41
    assert float(history[-1].split(",")[1]) == metrics["final_loss"]  # both written with repr: exact
    assert_plots(trained / "plots", ("attention", "attention_greedy", "seq2seq_training"))
    rows = (trained / "plots" / "attention.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "rows,decoder_step,row_token,source_position,source_token,weight"


def test_no_plots_and_the_last_line(tmp_path, capsys):
    code, out, _ = run(["train", "--arch", "seq2seq", "--task", "sort_digits", "--seq-len", "3", "--cell", "lstm",
                        "--decoder-cell", "rnn_tanh", *SMALL, "--steps", "3", "--no-plots", "--out",
                        str(tmp_path / "run")], capsys)
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["attention"] == "none" and metrics["decoder_cell"] == "rnn_tanh"
    assert metrics["attention_anti_diagonal"] is None
    assert final_loss(out) == pytest.approx(metrics["final_loss"], rel=1e-5)  # printed with 6 digits
    assert not (tmp_path / "run" / "plots").exists()


@pytest.mark.parametrize("argv, fragments", [
    (["--arch", "rnn", "--attention", "dot", "--task", "reverse"], ("--attention", "--arch seq2seq")),
    (["--task", "reverse"], ("encoder–decoder task", "--arch seq2seq --task reverse")),
    (["--arch", "seq2seq", "--task", "adding"], ("not an encoder–decoder task", "reverse")),
    (["--arch", "seq2seq", "--task", "reverse", "--layers", "2"], ("--layers", "does not apply")),
    (["--arch", "seq2seq", "--task", "reverse", "--tbptt", "3", "--optimizer", "sgd"], ("--tbptt, --optimizer",)),
    (["--arch", "seq2seq", "--task", "reverse", "--hidden", "0"], ("--hidden",)),
    (["--arch", "seq2seq", "--task", "number_words", "--seq-len", "5"], ("no sequence-length",)),
])
def test_bad_combinations_give_one_error_line(argv, fragments, tmp_path, capsys):
    code, _, err = run(["train", *argv, "--steps", "1", "--out", str(tmp_path / "run")], capsys)
    assert_one_error_line(code, err, *fragments)
    assert not (tmp_path / "run").exists()


def test_check_prints_the_table_and_passes(capsys):
    code, out, _ = run(["check", "--arch", "seq2seq", "--attention", "dot", "--task", "reverse", "--seq-len", "3",
                        "--cell", "lstm", "--bidirectional", *SMALL, "--entries", "6"], capsys)
    assert code == 0, out
    for name in ("encoder.weight_ih_l0_reverse", "decoder.weight_hh_l0", "output.weight"):
        assert name in out
    assert "PASS" in out.splitlines()[-1]


def test_check_refuses_attention_without_seq2seq(capsys):
    code, _, err = run(["check", "--attention", "additive", "--task", "adding"], capsys)
    assert_one_error_line(code, err, "--attention")


def test_a_wrong_encoder_gradient_fails_with_exit_code_1(register_cell, capsys):
    """The toy cell whose BPTT is 1 % too large, as the encoder: its rows fail, the decoder's pass."""
    from tests.test_cli_check import WrongKernel, table
    from tests.toy_cell import LEAKY

    register_cell(dataclasses.replace(LEAKY, name="wrong_leaky", kernel=WrongKernel()))
    code, out, err = run(["check", "--arch", "seq2seq", "--attention", "additive", "--task", "reverse", "--seq-len",
                          "3", "--cell", "wrong_leaky", "--decoder-cell", "gru", *SMALL, "--entries", "6"], capsys)
    assert code == 1, out + err
    rows = table(out)
    assert rows["encoder.weight_ih_l0"][-1] == "FAIL" and rows["decoder.weight_ih_l0"][-1] == "PASS"
    assert "FAIL:" in out.splitlines()[-1] and "Traceback" not in err
