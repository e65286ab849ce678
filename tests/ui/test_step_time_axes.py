"""The BPTT and gradient-flow panels of the step-through page name their timesteps like the other
panels: by the sample's tokens, "<pad>" where it has ended."""
from __future__ import annotations

import gc

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.tasks.base import PAD_LABEL
from rnnviz.ui.panels import PANELS
from rnnviz.ui.render import step_through_views


@pytest.fixture(scope="module")
def padded_session() -> tuple[Session, Selection, tuple[str, ...]]:
    """A bracket task with variable lengths, and a sample of its view batch that has padding."""
    session = Session(SessionConfig(task="dyck", task_params={"seq_len": 12, "lengths": "variable"}, cell="gru",
                                    hidden_size=4, batch_size=8, seed=3))
    batch = session.view_batch
    padded = [s for s in range(batch.mask.shape[1]) if not batch.mask[:, s].all()]
    assert padded, "the view batch should hold a sample shorter than seq_len"
    sample = padded[0]
    labels = tuple(session.task.timestep_labels(batch.inputs[:, sample], batch.mask[:, sample]))
    assert PAD_LABEL in labels and set(labels) - {PAD_LABEL} <= {"(", ")"}  # the tokens, then padding
    return session, Selection(sample=sample), labels


@pytest.fixture
def panels(qapp):
    """Panels made by a test, closed and deleted at its end (later tests count the top-level widgets)."""
    made: list = []
    yield made
    for panel in made:
        panel.close()
        panel.deleteLater()
    made.clear()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def shown(panels: list, name: str, view):
    panel = PANELS[name]()
    panels.append(panel)
    panel.resize(900, 600)
    panel.show()
    panel.show_view(view)
    return panel


def test_bptt_norms_are_plotted_over_the_samples_tokens(panels, padded_session):
    session, selection, labels = padded_session
    panel = shown(panels, "bptt", step_through_views(session, selection)["bptt"])
    axis = panel.norm_plot.getAxis("bottom")
    assert axis.labels == labels
    assert axis.allow_upright  # long labels turn upright as on the other time axes
    assert axis.labelText == "input token"


def test_lag_curve_names_the_timestep_of_each_lag(panels, padded_session):
    session, selection, labels = padded_session
    view = step_through_views(session, selection)["vanishing"]
    # the forward direction: lag 0 is the last timestep, lag T-1 the first; padding (first in lag order)
    # is called "pad", as "<pad>" on an axis hides every label after it
    expected = tuple("pad" if label == PAD_LABEL else label for label in labels[::-1])
    assert view.lag_labels == expected
    panel = shown(panels, "vanishing", view)
    axis = panel.eigen_lags.plot.getAxis("bottom")
    assert axis.labels == expected and axis.allow_upright
    values = axis.tickValues(-0.5, len(labels) - 0.5, 4000)[0][1]  # a wide axis: room for every label
    assert axis.tickStrings(values, 1, 1) == list(expected)  # the tokens are shown, not hidden as padding
    assert "input token" in axis.labelText and "steps back" in axis.labelText


def test_numbered_timesteps_keep_their_numbers(panels):
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 8}, hidden_size=4, batch_size=2))
    views = step_through_views(session, Selection())
    assert views["vanishing"].lag_labels is None
    bptt = shown(panels, "bptt", views["bptt"]).norm_plot.getAxis("bottom")
    assert bptt.labels is None and bptt.labelText == "timestep"
    lags = shown(panels, "vanishing", views["vanishing"]).eigen_lags.plot.getAxis("bottom")
    assert lags.labels is None and lags.labelText == "lag T − t (steps back)"
    assert np.array_equal(views["vanishing"].lags, np.arange(8))
