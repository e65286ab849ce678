"""One file per panel; each draws a snapshot."""
from __future__ import annotations

from rnnviz.ui.panels.base import Panel
from rnnviz.ui.panels.bptt import BpttPanel
from rnnviz.ui.panels.connectivity import ConnectivityPanel
from rnnviz.ui.panels.equations import EquationsPanel
from rnnviz.ui.panels.gates import GatesPanel
from rnnviz.ui.panels.gradients import GradientsPanel
from rnnviz.ui.panels.hidden import HiddenPanel
from rnnviz.ui.panels.loss import LossPanel
from rnnviz.ui.panels.predictions import PredictionsPanel
from rnnviz.ui.panels.scan import ScanPanel
from rnnviz.ui.panels.trajectory import TrajectoryPanel
from rnnviz.ui.panels.unrolled import UnrolledPanel
from rnnviz.ui.panels.vanishing import VanishingPanel
from rnnviz.ui.panels.weights import WeightsPanel

PANELS: dict[str, type[Panel]] = {
    panel.name: panel
    for panel in (LossPanel, HiddenPanel, GatesPanel, GradientsPanel, WeightsPanel, PredictionsPanel)
}
# the "Step through time" page's panels (drawn from a snapshot too: the full pass)
PANELS.update({panel.name: panel for panel in (UnrolledPanel, EquationsPanel, BpttPanel, VanishingPanel)})
PANELS[ScanPanel.name] = ScanPanel  # the "Parallel scan" page (drawn from a session's scan view)
# the Trajectories and Connectivity pages' panels (drawn from a session's views: rnnviz.ui.render.analysis_views)
PANELS.update({panel.name: panel for panel in (TrajectoryPanel, ConnectivityPanel)})

__all__ = ["PANELS", "Panel"]
