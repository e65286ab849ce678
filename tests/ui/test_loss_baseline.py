"""The loss panel's reference line: the task's chance / memoryless loss, labelled, in the exports."""
from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ElementTree

import numpy as np

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.ui.panels.loss import LossPanel


def test_parity_session_draws_chance_as_a_labelled_dashed_line(qtbot, tmp_path, read_table):
    session = Session(SessionConfig(task="parity", hidden_size=4, batch_size=4))
    session.train(3)
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 450)
    panel.show()
    panel.set_snapshot(session.snapshot())
    line = panel.baseline_line
    assert line.isVisible() and line.value() == math.log(2.0)
    assert line.label.format == "chance: ln 2 = 0.693"
    assert line.pen.style() != 1  # Qt.SolidLine: the line is dashed
    low, high = panel.plot.viewRange()[1]
    assert low <= math.log(2.0) <= high  # in view even when the curve is far below it

    header, rows = read_table(panel.to_csv(tmp_path / "loss.csv"))
    assert header[-1] == "baseline_loss (chance: ln 2 = 0.693)"
    assert {float(row[-1]) for row in rows} == {math.log(2.0)}
    svg = panel.export_svg(tmp_path / "loss.svg").read_text(encoding="utf-8")
    ElementTree.fromstring(svg)  # parses
    assert "chance: ln 2 = 0.693" in svg

    panel.log_scale.setChecked(True)  # a log axis plots log10 of the value
    assert line.isVisible() and abs(line.value() - math.log10(math.log(2.0))) < 1e-12


def test_no_baseline_no_line_and_no_column(qtbot, make_snapshot):
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.set_snapshot(make_snapshot())
    assert not panel.baseline_line.isVisible()
    assert panel.csv_rows()[0] == ["step", "train_loss", "heldout_loss"]
    zero = dataclasses.replace(make_snapshot(), loss_baseline=(0.0, "noise floor: σ² = 0"))
    panel.set_snapshot(zero)
    assert panel.baseline_line.isVisible()
    panel.log_scale.setChecked(True)  # 0 has no place on a log axis
    assert not panel.baseline_line.isVisible()
    assert np.isfinite(panel.plot.viewRange()[1]).all()
