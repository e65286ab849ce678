"""The view bar: which sample, layer and direction the panels follow, bound to the explorer model."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSpinBox, QToolBar

from rnnviz.session.config import SessionConfig
from rnnviz.session.explorer import ExplorerModel
from rnnviz.session.session import VIEW_BATCH, Selection
from rnnviz.ui.controls.fields import set_quietly


class ViewBar(QToolBar):
    def __init__(self, model: ExplorerModel) -> None:
        super().__init__("View")
        self.setObjectName("view_bar")
        self.model = model
        self.sample_box = self._spin("sample", VIEW_BATCH - 1, "Which held-out sample the panels show")
        self.layer_box = self._spin("layer", 0, "Which layer the panels show")
        self.direction_box = self._spin("direction", 1, "0 = forward, 1 = reverse (bidirectional)")
        for label, box in (("Sample", self.sample_box), ("Layer", self.layer_box), ("Direction", self.direction_box)):
            self.addWidget(QLabel(f"  {label} "))
            self.addWidget(box)
        model.events.config.connect(self.show_config)
        model.events.selection.connect(self.show_selection)
        self.show_config(model.config)
        self.show_selection(model.selection)

    def _spin(self, name: str, maximum: int, tooltip: str) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(f"view_{name}")
        box.setRange(0, maximum)
        box.setToolTip(tooltip)
        box.valueChanged.connect(lambda value, key=name: self.model.select(**{key: int(value)}))
        return box

    def show_config(self, config: SessionConfig) -> None:
        """Only the layers and directions the network has can be picked."""
        for box, maximum in ((self.layer_box, config.num_layers - 1), (self.direction_box, int(config.bidirectional))):
            box.blockSignals(True)
            box.setMaximum(maximum)
            box.blockSignals(False)
            box.setEnabled(maximum > 0)

    def show_selection(self, selection: Selection) -> None:
        for box, value in ((self.sample_box, selection.sample), (self.layer_box, selection.layer),
                           (self.direction_box, selection.direction)):
            set_quietly(box, value)
