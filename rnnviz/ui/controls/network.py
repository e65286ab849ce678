"""Network dock: cell kind, size, depth, direction and initialisation, with a one-line summary; and,
for the cells with a linear recurrence, whether to compute it with the parallel scan."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from rnnviz.engine.cells import CellSpec, carry_gates, cell_spec, cell_specs
from rnnviz.session.config import SessionConfig
from rnnviz.session.weight_sharing import WeightSharing
from rnnviz.ui.controls.fields import combo, real_spin, select, set_quietly, spin

INIT_TITLES = {
    "default": "PyTorch default U(±1/√H)",
    "xavier": "Xavier / Glorot",
    "orthogonal": "Orthogonal",
    "identity": "Identity × scale (IRNN)",
}


def scan_tooltip(spec: CellSpec) -> str:
    """Why the scan box is there, or why it is greyed out, for ``spec``."""
    if spec.scannable:
        return (f"Compute {spec.recurrence} with the associative (parallel) scan instead of the loop over time: "
                "the same numbers, in 2⌈log₂ T⌉ − 1 levels (see the Parallel scan page). Keeps the weights.")
    scannable = ", ".join(s.title for s in cell_specs() if s.scannable)
    return (f"{spec.title} cannot use the parallel scan: h_(t−1) goes through a nonlinearity, so two steps do "
            f"not compose into one of the same form. Only the linear recurrences can: {scannable}.")


class NetworkControls(QWidget):
    changed = Signal(dict)  # architecture settings a person changed: name -> value
    training_changed = Signal(dict)  # settings that keep the weights (the parallel scan): name -> value

    def __init__(self, config: SessionConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_fields(config)
        self._build_labels()
        self._lay_out()
        self._connect()
        self._update_scale_enabled()

    def _build_fields(self, config: SessionConfig) -> None:
        titles = {spec.name: spec.title for spec in cell_specs()}
        self.cell = combo("cell", titles, config.cell, f"Which recurrent cell: {', '.join(titles.values())}")
        self.hidden = spin("hidden_size", config.hidden_size, "Hidden units per layer and direction (H)")
        self.layers = spin("num_layers", config.num_layers, "Stacked recurrent layers")
        self.bidirectional = QCheckBox("Bidirectional")
        self.bidirectional.setObjectName("bidirectional")
        self.bidirectional.setChecked(config.bidirectional)
        self.bidirectional.setToolTip("A second layer reads the sequence backwards; outputs are concatenated")
        self.init = combo("init", INIT_TITLES, config.init, "How the weights start")
        self.init_scale = real_spin("init_scale", config.init_scale,
                                    "Scale of the identity initialisation (above 1 makes gradients explode)",
                                    decimals=2, step=0.1)
        self.carry_bias = real_spin("carry_bias", config.carry_bias,
                                    f"{carry_gates()} bias at the start (0 = as initialised). "
                                    "About 4 opens the gate, so state and gradient survive many steps",
                                    decimals=1, step=0.5, special_zero="off")
        self.scan = QCheckBox("Use parallel scan")
        self.scan.setObjectName("scan")
        self.scan.setChecked(config.scan)

    def _build_labels(self) -> None:
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("summary")
        self.weight_sharing = QLabel()  # the parameter count against a feed-forward net's (weight sharing)
        self.weight_sharing.setWordWrap(True)
        self.weight_sharing.setObjectName("weight_sharing")
        self.equations = QLabel()
        self.equations.setWordWrap(True)
        self.equations.setObjectName("equations")
        self.equations.setToolTip("The equations of the selected cell, as in the PyTorch documentation")

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Cell", self.cell)
        form.addRow("Hidden size", self.hidden)
        form.addRow("Layers", self.layers)
        form.addRow("", self.bidirectional)
        form.addRow("Initialisation", self.init)
        form.addRow("Init scale", self.init_scale)
        form.addRow("Carry-gate bias", self.carry_bias)
        form.addRow("", self.scan)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.weight_sharing)
        layout.addWidget(self.equations)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.cell.currentIndexChanged.connect(self._cell_changed)
        self.scan.toggled.connect(lambda v: self.training_changed.emit({"scan": bool(v)}))
        self.hidden.valueChanged.connect(lambda v: self._emit("hidden_size", v))
        self.layers.valueChanged.connect(lambda v: self._emit("num_layers", v))
        self.bidirectional.toggled.connect(lambda v: self._emit("bidirectional", bool(v)))
        self.init.currentIndexChanged.connect(lambda: self._emit("init", self.init.currentData()))
        self.init_scale.valueChanged.connect(lambda v: self._emit("init_scale", float(v)))
        self.carry_bias.valueChanged.connect(lambda v: self._emit("carry_bias", float(v)))

    def _emit(self, name: str, value) -> None:
        self._update_scale_enabled()
        self.changed.emit({name: value})

    def _cell_changed(self) -> None:
        """A new cell kind; the scan goes off with it when the new cell cannot scan."""
        cell = self.cell.currentData()
        changes = {"cell": cell}
        if self.scan.isChecked() and not cell_spec(cell).scannable:
            changes["scan"] = False
        self._update_scale_enabled()
        self.changed.emit(changes)

    def _update_scale_enabled(self) -> None:
        self.init_scale.setEnabled(self.init.currentData() == "identity")
        spec = cell_spec(self.cell.currentData())
        self.carry_bias.setEnabled(spec.carry_gate is not None)
        self.scan.setEnabled(spec.scannable)
        self.scan.setToolTip(scan_tooltip(spec))

    def show_weight_sharing(self, table: WeightSharing | None) -> None:
        """One line: the network's parameters against a feed-forward net's over the padded sequence."""
        self.weight_sharing.setText("" if table is None else f"Weight sharing: {table.summary()}")
        self.weight_sharing.setToolTip("" if table is None else table.tooltip())

    def show_config(self, config: SessionConfig, num_params: int | None) -> None:
        """Reflect ``config`` without emitting (after a reset, an opened session or a refused change);
        ``num_params`` None: the network is still being built."""
        select(self.cell, config.cell)
        select(self.init, config.init)
        set_quietly(self.hidden, config.hidden_size)
        set_quietly(self.layers, config.num_layers)
        set_quietly(self.init_scale, config.init_scale)
        set_quietly(self.carry_bias, config.carry_bias)
        for box, checked in ((self.bidirectional, config.bidirectional), (self.scan, config.scan)):
            box.blockSignals(True)
            box.setChecked(checked)
            box.blockSignals(False)
        self._update_scale_enabled()
        layers = f"{config.num_layers} layer{'s' if config.num_layers > 1 else ''}"
        direction = "bidirectional" if config.bidirectional else "unidirectional"
        params = "building…" if num_params is None else f"<b>{num_params:,}</b> parameters"
        self.summary.setText(f"<b>{cell_spec(config.cell).title}</b> · {layers} · {direction} · {params}")
        self.equations.setText("<br>".join(cell_spec(config.cell).equations))
