"""The explorer model: one place for what is explored, with change events."""
from __future__ import annotations

from rnnviz.session.config import SessionConfig
from rnnviz.session.explorer import ExplorerModel, StepPosition
from rnnviz.session.session import VIEW_BATCH, Selection


def test_selection_is_clamped_to_the_network_and_the_view_batch():
    model = ExplorerModel(SessionConfig(num_layers=2, bidirectional=True))
    assert model.select(sample=99, layer=5, direction=3) == Selection(VIEW_BATCH - 1, 1, 1)
    assert model.select(sample=-4) == Selection(0, 1, 1)


def test_a_smaller_network_moves_the_selection_inside_it_and_says_so():
    model = ExplorerModel(SessionConfig(num_layers=3, bidirectional=True))
    model.select(layer=2, direction=1)
    seen = []
    model.events.selection.connect(lambda new, old: seen.append((new, old)))
    model.set_config(SessionConfig(num_layers=1))
    assert model.selection == Selection(0, 0, 0)
    assert seen == [(Selection(0, 0, 0), Selection(0, 2, 1))]


def test_events_fire_on_real_changes_only():
    model = ExplorerModel()
    changes = []
    model.events.timestep.connect(changes.append)
    model.events.stepping.connect(changes.append)
    model.timestep = 3
    model.timestep = 3
    model.stepping = StepPosition(2, 0, 0)
    model.stepping = StepPosition(2, 0, 0)
    assert changes == [3, StepPosition(2, 0, 0)]


def test_resync_tells_bound_widgets_to_show_the_model_again():
    model = ExplorerModel(SessionConfig(hidden_size=8))
    shown = []
    model.events.config.connect(lambda config: shown.append(config.hidden_size))
    model.resync()  # e.g. a refused edit left a spin box at another value
    assert shown == [8]


def test_step_position_phase():
    assert StepPosition(3, 0).phase == "forward"
    assert StepPosition(9, 2).phase == "backward"
