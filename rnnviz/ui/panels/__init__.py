"""One file per panel; each draws a snapshot."""
from __future__ import annotations

from rnnviz.ui.panels.base import Panel
from rnnviz.ui.panels.gates import GatesPanel
from rnnviz.ui.panels.gradients import GradientsPanel
from rnnviz.ui.panels.hidden import HiddenPanel
from rnnviz.ui.panels.loss import LossPanel
from rnnviz.ui.panels.predictions import PredictionsPanel
from rnnviz.ui.panels.weights import WeightsPanel

PANELS: dict[str, type[Panel]] = {
    panel.name: panel
    for panel in (LossPanel, HiddenPanel, GatesPanel, GradientsPanel, WeightsPanel, PredictionsPanel)
}

__all__ = ["PANELS", "Panel"]
