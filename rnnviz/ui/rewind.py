"""Rewind: a slider over the training steps the session recorded, and "Back to live".

The session keeps snapshots of the weights every N training steps in bounded memory
(rnnviz.session.rewind). Moving the slider asks for the panels at that step; the window computes
that snapshot off the UI thread (``rewind_snapshot`` evaluates a copy of the model with the
recorded weights on the view batch) and shows it until "Back to live" is pressed.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSlider, QToolBar, QWidget

from rnnviz.session.views.common import plural


def live_text(steps: Sequence[int]) -> str:
    """What the bar says while live: how many steps it can rewind to, and which."""
    if not steps:
        return "no steps recorded yet"
    span = f"step {steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}–{steps[-1]:,}"
    return f"live — {plural(len(steps), 'recorded step')} ({span})"


class RewindBar(QToolBar):
    """``scrubbed(step)`` when the slider moves to a recorded step; ``live_requested`` for Back to live."""

    scrubbed = Signal(int)
    live_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Rewind", parent)
        self.setObjectName("rewind_bar")
        self.steps: list[int] = []
        self.rewound_to: int | None = None
        title = QLabel("  Rewind training  ")
        title.setToolTip("Scrub back through the recorded training steps")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("rewind_slider")
        self.slider.setMinimumWidth(200)  # the bar fits a 1024-px-wide window
        self.slider.setEnabled(False)
        self.slider.setToolTip("Drag to see the panels at an earlier training step")
        self.slider.valueChanged.connect(self._moved)
        self.label = QLabel("no steps recorded yet")
        self.label.setObjectName("rewind_label")
        self.label.setMinimumWidth(260)
        self.label.setIndent(14)  # clear of the slider's handle at the newest step
        self.live_button = QPushButton("Back to live")
        self.live_button.setObjectName("rewind_live")
        self.live_button.setEnabled(False)
        self.live_button.clicked.connect(self.back_to_live)
        self.addWidget(title)
        self.addWidget(self.slider)
        self.addWidget(self.label)
        self.addWidget(self.live_button)

    def set_steps(self, steps: Sequence[int]) -> None:
        """The recorded steps (ascending). While live the slider sits at the newest one."""
        steps = [int(s) for s in steps]
        if steps == self.steps:
            return
        self.steps = steps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(steps) - 1, 0))
        if self.rewound_to is None:
            self.slider.setValue(len(steps) - 1)
        elif self.rewound_to in steps:
            self.slider.setValue(steps.index(self.rewound_to))
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(steps) > 1)
        if self.rewound_to is None:
            self.label.setText(live_text(steps))

    def scrub_to(self, step: int) -> None:
        """Move the slider to the recorded step nearest ``step`` (as a person dragging it would)."""
        if not self.steps:
            return
        nearest = min(range(len(self.steps)), key=lambda k: abs(self.steps[k] - step))
        if self.slider.value() == nearest:
            self._moved(nearest)
        else:
            self.slider.setValue(nearest)

    def _moved(self, index: int) -> None:
        if not 0 <= index < len(self.steps):
            return
        step = self.steps[index]
        self.rewound_to = step
        self.live_button.setEnabled(True)
        self.label.setText(f"<b>rewound to step {step:,}</b> (of {self.steps[-1]:,})")
        self.scrubbed.emit(step)

    def back_to_live(self) -> None:
        self.rewound_to = None
        self.live_button.setEnabled(False)
        self.slider.blockSignals(True)
        self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        steps, self.steps = self.steps, []
        self.set_steps(steps)
        self.live_requested.emit()
