"""The status bar: step, loss, speed and clipping of what the training panels show, and a busy
indicator while the worker builds, opens or saves."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from rnnviz.session.snapshot import Snapshot


class StatusLine:
    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.busy_label = QLabel()
        self.busy_label.setObjectName("status_busy")
        self.progress = QProgressBar()
        self.progress.setObjectName("status_progress")
        self.progress.setRange(0, 0)  # indeterminate: the worker says what, not how far
        self.progress.setMaximumWidth(120)
        self.progress.setMaximumHeight(14)
        bar.addWidget(self.busy_label)
        bar.addWidget(self.progress)
        self.show_busy(None)
        self.labels: dict[str, QLabel] = {}
        for key in ("step", "loss", "speed", "clipping"):
            label = QLabel()
            label.setObjectName(f"status_{key}")
            label.setMinimumWidth(140)
            bar.addPermanentWidget(label)
            self.labels[key] = label

    def show_busy(self, text: str | None) -> None:
        self.busy_label.setText(text or "")
        self.busy_label.setVisible(bool(text))
        self.progress.setVisible(bool(text))

    def show_live(self, snapshot: Snapshot, running: bool) -> None:
        """The live session: its speed only while it trains (a paused or diverged run has none)."""
        self._show(snapshot, f"{snapshot.steps_per_second:.0f} steps/s" if running else "paused")
        self.labels["step"].setText(f"Step {snapshot.step:,}")

    def show_rewound(self, snapshot: Snapshot) -> None:
        """A recorded step: its own loss and clip count; no speed (it is not training)."""
        self._show(snapshot, "rewound")
        self.labels["step"].setText(f"Rewound to step {snapshot.step:,}")

    def _show(self, snapshot: Snapshot, speed: str) -> None:
        loss = "—" if snapshot.loss != snapshot.loss else f"{snapshot.loss:.4g}"
        self.labels["loss"].setText(f"Loss {loss}")
        self.labels["speed"].setText(speed)
        self.labels["clipping"].setText(f"Clipped {snapshot.clip_count:,}×")
