"""The step-through page's control bar and keys:

    [◀◀] [◀ Back] [Step ▶] [Forward ▶▶] [BPTT ▶▶] [▶ Play] [speed ▾]
    Forward: 3 of 9 timesteps · cursor t = 2               [preset ▾] [↻ Latest] [Grad check…]
    (a note, only when there is one: the weights stepped are behind training...)
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.session.presets import PRESETS, Preset

PLAY_SPEEDS = {"1 step/s": 1.0, "2 steps/s": 2.0, "5 steps/s": 5.0, "15 steps/s": 15.0}
MOVES = ("to_start", "step_previous", "step_next", "to_forward_end", "to_backward_end", "toggle_play")


def available_presets() -> dict[str, Preset]:
    """The session's one-click demonstrations, by name."""
    return dict(PRESETS)


class StepControls(QWidget):
    """Buttons and keys; ``move(name)`` when one is used (a name in ``MOVES``)."""

    move = Signal(str)
    preset_chosen = Signal(str)
    refresh_requested = Signal()
    gradient_check_requested = Signal()
    speed_changed = Signal(float)  # steps per second of Play

    def __init__(self, shortcut_owner: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset_box = self._preset_box()
        self.start_button = self._button("◀◀", "step_start", "Back to before the first step (Home)", "to_start")
        self.back_button = self._button("◀ Back", "step_back", "Undo one step (←)", "step_previous")
        self.next_button = self._button("Step ▶", "step_next",
                                        "One timestep: forward until t = T, then back through time (→)", "step_next")
        self.forward_end_button = self._button("Forward ▶▶", "step_forward_end", "Finish the forward pass (End)",
                                               "to_forward_end")
        self.backward_end_button = self._button("BPTT ▶▶", "step_backward_end",
                                                "Finish the backward pass (Ctrl+End)", "to_backward_end")
        self.play_button = self._button("▶ Play", "step_play", "Step automatically (P)", "toggle_play")
        self.speed_box = self._speed_box()
        self.refresh_button = QPushButton("↻ Latest")
        self.refresh_button.setObjectName("step_refresh")
        self.refresh_button.setToolTip("Step through the network as it is now (training moves the weights on)")
        self.refresh_button.clicked.connect(lambda _checked=False: self.refresh_requested.emit())
        self.check_button = QPushButton("Grad check…")
        self.check_button.setObjectName("gradient_check")
        self.check_button.setToolTip("Finite differences against BPTT for every weight matrix")
        self.check_button.clicked.connect(lambda _checked=False: self.gradient_check_requested.emit())
        self.position_label = QLabel()
        self.position_label.setObjectName("step_position")
        self.position_label.setToolTip("→ step, ← back, click a box in the diagram to inspect it")
        self.note = QLabel()
        self.note.setObjectName("step_note")
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.hide()
        self._lay_out()
        self.shortcuts = self._shortcuts(shortcut_owner)

    @property
    def stepping_buttons(self) -> tuple[QPushButton, ...]:
        return (self.start_button, self.back_button, self.next_button, self.forward_end_button,
                self.backward_end_button)

    def _button(self, text: str, name: str, tip: str, move: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: self.move.emit(move))
        return button

    def _preset_box(self) -> QComboBox:
        box = QComboBox()
        box.setObjectName("preset_box")
        box.setToolTip("One-click demonstrations (replaces the network; asks first)")
        box.addItem("Presets…", None)
        for name, preset in available_presets().items():
            box.addItem(preset.title, name)
            box.setItemData(box.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        box.activated.connect(self._preset_activated)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(10)
        return box

    def _speed_box(self) -> QComboBox:
        box = QComboBox()
        box.setObjectName("step_speed")
        box.addItems(list(PLAY_SPEEDS))
        box.setCurrentIndex(1)
        box.setToolTip("Playing speed")
        box.currentTextChanged.connect(lambda text: self.speed_changed.emit(PLAY_SPEEDS[text]))
        return box

    @property
    def play_speed(self) -> float:
        return PLAY_SPEEDS[self.speed_box.currentText()]

    def _lay_out(self) -> None:
        """Two rows, so the page fits next to the docks in a 1024 px wide window."""
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        for button in (*self.stepping_buttons, self.play_button):
            bar.addWidget(button)
        bar.addWidget(self.speed_box)
        bar.addStretch(1)
        status = QHBoxLayout()
        status.setContentsMargins(8, 0, 6, 0)
        status.addWidget(self.position_label, 1)
        status.addWidget(self.preset_box)
        status.addWidget(self.refresh_button)
        status.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addLayout(status)
        layout.addWidget(self.note)

    def say(self, text: str) -> None:
        """A note under the bar (hidden when there is nothing to say)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _shortcuts(self, owner: QWidget) -> list[QAction]:
        """The page's keys, active while focus is inside the page."""
        actions = []
        for key, move, text in (
            (Qt.Key.Key_Right, "step_next", "Step through time: next timestep"),
            (Qt.Key.Key_Left, "step_previous", "Step through time: back one timestep"),
            (Qt.Key.Key_Home, "to_start", "Step through time: to the start"),
            (Qt.Key.Key_End, "to_forward_end", "Step through time: finish the forward pass"),
            (QKeySequence("Ctrl+End"), "to_backward_end", "Step through time: finish BPTT"),
            (Qt.Key.Key_P, "toggle_play", "Step through time: play / pause"),
        ):
            action = QAction(text, owner)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(self._emitter(move))
            owner.addAction(action)
            actions.append(action)
        return actions

    def _emitter(self, move: str) -> Callable[..., None]:
        return lambda _checked=False: self.move.emit(move)

    def _preset_activated(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        self.preset_box.setCurrentIndex(0)
        if name:
            self.preset_chosen.emit(name)

    def show_playing(self, playing: bool) -> None:
        self.play_button.setText("‖ Pause" if playing else "▶ Play")

    def show_busy(self) -> None:
        """A build or a jump runs: the buttons stay usable (their moves wait for it, none is lost)."""
        self.position_label.setText("<b>computing…</b>")

    def show_position(self, forward_done: int, backward_done: int, steps: int) -> None:
        """Enable what can be done from here."""
        self.start_button.setEnabled(forward_done > 0)
        self.back_button.setEnabled(forward_done > 0)
        self.next_button.setEnabled(backward_done < steps)
        self.forward_end_button.setEnabled(forward_done < steps)
        self.backward_end_button.setEnabled(backward_done < steps)
