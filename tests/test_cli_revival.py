"""The command line with the new cells and tasks: train (and its metrics.json), --scan, export."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rnnviz.session.evaluation import evaluate
from rnnviz.session.files import load_session
from tests.test_cli import assert_one_error_line, assert_plots, final_loss, run

TINY = ["--hidden", "4", "--batch", "4", "--steps", "3"]


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "lru", "selective"])
def test_train_each_new_cell_writes_metrics_with_per_token_accuracy(cell, tmp_path, capsys):
    folder = tmp_path / cell
    code, out, err = run(["train", "--task", "selective_copy", "--param", "region=6", "--cell", cell, *TINY,
                          "--out", str(folder), "--no-plots"], capsys)
    assert code == 0, err
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["cell"] == cell and metrics["steps"] == 3 and metrics["task"] == "selective_copy"
    assert metrics["final_loss"] == pytest.approx(final_loss(out), rel=1e-5)  # printed with 6 digits
    session = load_session(folder)
    again = evaluate(session)  # the same held-out batch and the same weights give the same numbers
    assert metrics["heldout_accuracy"] == again.accuracy and metrics["heldout_tokens"] == 512 * 4
    # the loss is written with json's 17 digits; the reloaded float32 weights are the same bits
    assert metrics["heldout_loss"] == pytest.approx(again.loss, rel=1e-12)
    assert f"held-out accuracy: {metrics['heldout_accuracy']:.4f}" in out


def test_metrics_of_a_regression_task_have_no_accuracy(tmp_path, capsys):
    folder = tmp_path / "sine"
    code, _, err = run(["train", "--task", "sine", "--cell", "lru", *TINY, "--out", str(folder), "--no-plots"], capsys)
    assert code == 0, err
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["heldout_accuracy"] is None and np.isfinite(metrics["heldout_loss"])


def test_scan_trains_the_linear_cells_and_is_refused_for_the_others(tmp_path, capsys):
    folder = tmp_path / "scan"
    code, _, err = run(["train", "--task", "associative_recall", "--cell", "minlstm", "--scan", *TINY,
                        "--out", str(folder), "--no-plots"], capsys)
    assert code == 0, err
    assert load_session(folder).config.scan
    code, _, err = run(["train", "--task", "adding", "--cell", "gru", "--scan", "--out", str(tmp_path / "no")],
                       capsys)
    assert_one_error_line(code, err, "--scan", "linear recurrence", "gru")


def test_export_draws_a_saved_lru_session(tmp_path, capsys):
    trained, exported = tmp_path / "run", tmp_path / "plots"
    code, _, err = run(["train", "--task", "associative_recall", "--cell", "lru", *TINY, "--out", str(trained),
                        "--no-plots"], capsys)
    assert code == 0, err
    code, _, err = run(["export", str(trained), "--out", str(exported)], capsys)
    assert code == 0, err
    from rnnviz.ui.render import panel_names

    assert "gates" in panel_names("lru")  # its input drive and state have strips
    assert_plots(exported / "plots", tuple(panel_names("lru")))


def test_pytorch_weights_are_refused_for_a_cell_pytorch_does_not_have(tmp_path, capsys):
    weights = tmp_path / "w.npz"
    np.savez(weights, weight_ih_l0=np.zeros((8, 1)))
    code, _, err = run(["train", "--task", "adding", "--cell", "mingru", "--init-weights", str(weights),
                        "--out", str(tmp_path / "run")], capsys)
    assert_one_error_line(code, err, "minGRU has no PyTorch module")
