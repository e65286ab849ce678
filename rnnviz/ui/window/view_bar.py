"""The view bar: which sample, layer and direction the panels follow, bound to the explorer model."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolBar

from rnnviz.session.config import SessionConfig
from rnnviz.session.explorer import ExplorerModel
from rnnviz.session.session import VIEW_BATCH, Selection
from rnnviz.ui.controls.fields import set_quietly

DIRECTIONS = ("→ forward", "← backward")  # index = the direction's number (PyTorch's "_reverse" is 1)


class ViewBar(QToolBar):
    def __init__(self, model: ExplorerModel) -> None:
        super().__init__("View")
        self.setObjectName("view_bar")
        self.model = model
        self.sample_box = self._spin("sample", VIEW_BATCH - 1, "Which held-out sample the panels show")
        self.layer_box = self._spin("layer", 0, "Which layer the panels show (0 = the one next to the input)")
        self.direction_box = QComboBox()
        self.direction_box.setObjectName("view_direction")
        self.direction_box.addItems(list(DIRECTIONS))
        self.direction_box.setToolTip("Which direction of a bidirectional network the panels show: forward "
                                      "reads the sequence from the start, backward from the end")
        self.direction_box.currentIndexChanged.connect(lambda index: self.model.select(direction=int(index)))
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
        self.layer_box.blockSignals(True)
        self.layer_box.setMaximum(config.num_layers - 1)
        self.layer_box.blockSignals(False)
        self.layer_box.setEnabled(config.num_layers > 1)
        self.direction_box.setEnabled(config.bidirectional)

    def show_selection(self, selection: Selection) -> None:
        for box, value in ((self.sample_box, selection.sample), (self.layer_box, selection.layer)):
            set_quietly(box, value)
        if self.direction_box.currentIndex() != selection.direction:
            self.direction_box.blockSignals(True)
            self.direction_box.setCurrentIndex(selection.direction)
            self.direction_box.blockSignals(False)
