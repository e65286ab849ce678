"""`rnnviz check`: the gradient check without a window, for every registered cell; exit 1 on a wrong
gradient, 2 on a mistake a person can fix."""
from __future__ import annotations

import dataclasses

import pytest

from rnnviz.engine.cells import cell_names
from tests.test_cli import assert_one_error_line, run
from tests.toy_cell import LEAKY, LeakyKernel

TINY = ["--hidden", "3", "--batch", "4", "--entries", "6"]
COLUMNS = ["parameter", "shape", "checked", "worst |BPTT − FD|", "allowed", "ratio", "result"]


def table(out: str) -> dict[str, list[str]]:
    """The printed rows by parameter name: the cells after the name, split on runs of spaces."""
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("parameter"))
    assert lines[start].split("  ")[0] == "parameter"
    assert [c for c in (part.strip() for part in lines[start].split("  ")) if c] == COLUMNS
    rows = {}
    for line in lines[start + 2:]:
        if not line or line.startswith(("PASS", "FAIL")):
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize("cell", cell_names())
def test_every_registered_cell_passes(cell, capsys):
    code, out, err = run(["check", "--task", "selective_copy", "--param", "region=4", "--param", "n_tokens=2",
                          "--cell", cell, "--layers", "2", "--bidirectional", "--steps", "2", *TINY], capsys)
    assert code == 0, out + err
    rows = table(out)
    from rnnviz.session.config import SessionConfig
    from rnnviz.session.session import Session

    names = Session(SessionConfig(task="selective_copy", task_params={"region": 4, "n_tokens": 2}, cell=cell,
                                  hidden_size=3, num_layers=2, bidirectional=True)).model.parameters()
    assert list(rows) == list(names)  # one row per parameter, in the model's order
    for name, cells in rows.items():
        shape, checked, error, allowed, ratio, result = cells
        assert result == "PASS" and float(ratio) <= 1 and float(error) <= float(allowed)
        assert shape == "×".join(str(n) for n in names[name].shape)
        assert int(checked) == min(6, names[name].size)
    assert f"PASS: {len(rows)} of {len(rows)} parameters pass" in out
    assert "at training step 2" in out


class WrongKernel(LeakyKernel):
    """The toy cell's kernel with a BPTT 1 % too large at the pre-activations: every W gradient is off."""

    def backward(self, trace, W_hh, d_from_output, d_h_last, d_c_last, cut):
        grads, d_h0, d_c0 = super().backward(trace, W_hh, d_from_output, d_h_last, d_c_last, cut)
        scaled = grads.d_preact * 1.01
        return dataclasses.replace(grads, d_preact=scaled, d_hidden_preact=scaled), d_h0, d_c0


def test_a_wrong_gradient_fails_with_exit_code_1(register_cell, capsys):
    register_cell(dataclasses.replace(LEAKY, name="wrong_leaky", kernel=WrongKernel()))
    code, out, err = run(["check", "--task", "adding", "--seq-len", "5", "--cell", "wrong_leaky", *TINY], capsys)
    assert code == 1, out + err
    rows = table(out)
    assert rows["weight_ih_l0"][-1] == "FAIL" and float(rows["weight_ih_l0"][-2]) > 1
    assert rows["head.weight"][-1] == "PASS"  # the head's gradient does not go through the cell
    assert "FAIL:" in out and "Traceback" not in err
    # the same toy cell with its own backward passes
    register_cell(dataclasses.replace(LEAKY, name="right_leaky"))
    code, out, _ = run(["check", "--task", "adding", "--seq-len", "5", "--cell", "right_leaky", *TINY], capsys)
    assert code == 0 and "FAIL" not in out


@pytest.mark.parametrize("argv, fragment", [
    (["check", "--task", "adding", "--hidden", "0"], "--hidden"),
    (["check", "--task", "nosuch"], "no task 'nosuch'"),
    (["check", "--task", "adding", "--cell", "lstm", "--scan"], "scan works only"),
    (["check", "--task", "adding", "--entries", "0"], "--entries"),
    (["check"], "--task"),
])
def test_mistakes_are_one_error_line(argv, fragment, capsys):
    code, _, err = run(argv, capsys)
    assert_one_error_line(code, err, fragment)
