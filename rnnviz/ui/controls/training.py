"""Training dock: optimizer and its settings, Play/Pause, one step, Reset and the speed."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QStyle, QVBoxLayout, QWidget

from rnnviz.session.config import SessionConfig
from rnnviz.ui.controls.fields import combo, log_spin, real_spin, select, set_quietly, spin

OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam", "rmsprop": "RMSprop"}
SPEEDS = {"Full speed": 0.0, "100 steps/s": 100.0, "20 steps/s": 20.0, "5 steps/s": 5.0, "1 step/s": 1.0}


class TrainingControls(QWidget):
    changed = Signal(dict)  # training settings (apply from the next step)
    reseed = Signal(int)  # the seed changed: new data and weights (asks first)
    speed_changed = Signal(float)

    def __init__(self, config: SessionConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_fields(config)
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(self._button_row())  # first: in a short window the dock scrolls, Play stays in view
        layout.addLayout(self._form())
        layout.addStretch(1)
        self.show_running(False)
        self.step_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self._connect()

    def _build_fields(self, config: SessionConfig) -> None:
        self.optimizer = combo("optimizer", OPTIMIZER_TITLES, config.optimizer, "How gradients update the weights")
        self.lr = log_spin("lr", config.lr, "Learning rate (applies from the next step); ↑/↓ step 1, 2, 5 × 10^k")
        self.batch = spin("batch_size", config.batch_size, "Sequences per training step")
        self.clip_norm = real_spin("clip_norm", config.clip_norm,
                                   "Rescale the gradient when its global norm exceeds this (0 = off)",
                                   decimals=2, step=0.5, special_zero="off")
        self.clip_value = real_spin("clip_value", config.clip_value,
                                    "Clamp every gradient entry to ±this (0 = off)", decimals=3, step=0.1,
                                    special_zero="off")
        self.tbptt = spin("tbptt", config.tbptt,
                          "Truncated BPTT: cut the gradient every k timesteps (0 = full BPTT)",
                          special_zero="full BPTT")
        self.seed = spin("seed", config.seed, "Random seed for the weights and the data")
        self.speed = QComboBox()
        self.speed.setObjectName("speed")
        self.speed.addItems(list(SPEEDS))
        self.speed.setToolTip("How fast to train: slow it down to watch each step")

    def _build_buttons(self) -> None:
        self.play_button = _button("Play", "play", "Train until paused (Space)")
        self.step_button = _button("Step", "step", "One training step (S)")
        self.reset_button = _button("Reset", "reset", "New weights from the seed, empty history (Ctrl+R)")

    def _button_row(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        for button in (self.play_button, self.step_button, self.reset_button):
            buttons.addWidget(button)
        return buttons

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch)
        form.addRow("Clip grad norm", self.clip_norm)
        form.addRow("Clip grad value", self.clip_value)
        form.addRow("Truncated BPTT", self.tbptt)
        form.addRow("Seed", self.seed)
        form.addRow("Speed", self.speed)
        return form

    def _connect(self) -> None:
        self.optimizer.currentIndexChanged.connect(lambda: self.changed.emit({"optimizer": self.optimizer.currentData()}))
        self.lr.valueChanged.connect(lambda v: self.changed.emit({"lr": float(v)}))
        self.batch.valueChanged.connect(lambda v: self.changed.emit({"batch_size": int(v)}))
        self.clip_norm.valueChanged.connect(lambda v: self.changed.emit({"clip_norm": float(v)}))
        self.clip_value.valueChanged.connect(lambda v: self.changed.emit({"clip_value": float(v)}))
        self.tbptt.valueChanged.connect(lambda v: self.changed.emit({"tbptt": int(v)}))
        self.seed.valueChanged.connect(lambda v: self.reseed.emit(int(v)))
        self.speed.currentTextChanged.connect(lambda text: self.speed_changed.emit(SPEEDS[text]))

    def show_config(self, config: SessionConfig) -> None:
        select(self.optimizer, config.optimizer)
        for box, value in ((self.lr, config.lr), (self.batch, config.batch_size), (self.clip_norm, config.clip_norm),
                           (self.clip_value, config.clip_value), (self.tbptt, config.tbptt), (self.seed, config.seed)):
            set_quietly(box, value)

    def show_running(self, running: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if running else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if running else "Play")
        self.play_button.setToolTip(("Pause training" if running else "Train until paused") + " (Space)")
        self.step_button.setEnabled(not running)


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button
