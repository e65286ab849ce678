"""The "Parallel scan" page: the scan panel (rnnviz.ui.panels.scan) for the controller's session, and
the measurement of loop and scan times against sequence length, run in the background with a progress
bar and a Cancel button.

The view state (the tree, the float64 difference of the session's network run both ways) is built in
a background thread from the controller's copy of the session whenever that copy changes while the
page is shown. The times run in a process of their own (``rnnviz.session.scan.measure_scan_times``),
so the window never shares a GIL with what is timed; they depend only on the cell kind, the sizes and
the dtype and are kept until one of those changes; the newest partial result is drawn as it comes in.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.session.scan import TIMING_LENGTHS, ScanTiming, build_scan_view, measure_scan_times
from rnnviz.session.session import Session
from rnnviz.session.views.scan import ScanView, with_timing
from rnnviz.ui.jobs import Job, JobRunner
from rnnviz.ui.panels.scan import ScanPanel

VIEW, TIMING = "scan view", "scan timing"  # the page's job tags


def timing_key(session: Session) -> tuple:
    """What the times depend on: the cell kind, its sizes and the dtype."""
    config = session.config
    return config.cell, config.hidden_size, session.model.config.input_size, config.dtype


class ScanPage(QWidget):
    def __init__(self, controller, jobs: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scan_page")
        self.controller = controller
        self.jobs = jobs or controller.jobs
        self.panel = ScanPanel()
        self.panel.setObjectName("panel_scan")
        self.panel.setMinimumSize(300, 240)
        self._build_controls()
        self.lengths = TIMING_LENGTHS  # the sequence lengths a measurement times
        self.view: ScanView | None = None
        self.timing: ScanTiming | None = None
        self._timing_key: tuple | None = None
        self.timing_job: Job | None = None
        self._stale = True
        controller.session_replaced.connect(lambda _session: self.mark_stale())
        controller.session_updated.connect(lambda _session: self.mark_stale())

    def _build_controls(self) -> None:
        self.measure_button = QPushButton("Measure loop and scan times")
        self.measure_button.setObjectName("scan_measure")
        self.measure_button.setToolTip(f"Time one layer's forward pass and BPTT with the loop and with the scan "
                                       f"at T = {TIMING_LENGTHS[0]} … {TIMING_LENGTHS[-1]} (a few seconds)")
        self.measure_button.clicked.connect(self.measure)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("scan_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("scan_progress")
        self.progress.setRange(0, len(TIMING_LENGTHS))
        self.progress.setFormat("%v of %m lengths")
        self.progress.setMaximumWidth(220)
        self.progress.hide()  # only while measuring: an empty bar reads as "stuck"
        self.status = QLabel()
        self.status.setObjectName("scan_status")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        for widget in (self.measure_button, self.cancel_button, self.progress):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.panel, 1)

    # ------------------------------------------------------------------ the view

    @property
    def measuring(self) -> bool:
        return self.timing_job is not None and not self.timing_job.finished

    @property
    def building(self) -> bool:
        return self.jobs.busy(VIEW)

    def mark_stale(self) -> None:
        self._stale = True
        if self.isVisible():
            self.rebuild()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale or self.view is None:
            self.rebuild()

    def rebuild(self) -> None:
        """A new view state of the controller's session copy, built off the UI thread."""
        session = self.controller.session
        if session is None:
            return
        self._stale = False
        key = timing_key(session)
        if key != self._timing_key:  # another cell or size: the old times no longer apply
            self.cancel()
            self.timing, self._timing_key = None, key
        job = self.jobs.start_latest(VIEW, build_scan_view, session)
        job.done.connect(self._view_ready)
        job.failed.connect(lambda text: self.status.setText(f"Could not build the view: {text}"))

    def ensure_drawn(self) -> None:
        """Draw the panel now if it never was, or is out of date (exporting every plot)."""
        if self.view is None or self._stale:
            self.rebuild()
            self.jobs.wait(VIEW)

    def _view_ready(self, view: ScanView) -> None:
        self.view = view
        self._draw()

    def _draw(self) -> None:
        if self.view is not None:
            self.panel.show_view(with_timing(self.view, self.timing))

    # ------------------------------------------------------------------ measuring

    def measure(self) -> None:
        """Time the loop and the scan at every length, in a process of its own."""
        session = self.controller.session
        if self.measuring or session is None:
            return
        cell, hidden, inputs, dtype = self._timing_key = timing_key(session)
        self.timing = None
        job = self.jobs.start(TIMING, measure_scan_times, cell, hidden, inputs, dtype, tuple(self.lengths),
                              process=True)
        job.progress.connect(self._show_timing)
        job.done.connect(self._timing_done)
        job.failed.connect(self._timing_failed)
        job.cancelled.connect(self._timing_cancelled)
        self.timing_job = job
        self.measure_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, len(self.lengths))
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText("Measuring: the loop and the scan take turns at each length…")

    def cancel(self) -> None:
        """Stop the measurement (at its next run, or the process is terminated after a grace period)."""
        if self.measuring:
            self.timing_job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def _show_timing(self, timing: ScanTiming) -> None:
        if self.timing_job is None or self.timing_job.cancel_requested:
            return  # cancelled (perhaps for another cell): what it still sends is not drawn
        self.timing = timing
        self.progress.setValue(len(timing.lengths))
        self._draw()

    def _timing_done(self, timing: ScanTiming) -> None:
        self._show_timing(timing)
        self._idle(f"Measured at {len(timing.lengths)} lengths.")

    def _timing_failed(self, text: str) -> None:
        self._idle(f"The measurement failed: {text}")

    def _timing_cancelled(self) -> None:
        self._idle("Cancelled; the lengths measured before are kept." if self.timing else "Cancelled.")

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.progress.hide()
        self.measure_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        """Closing the window: stop the measurement (the runner stops the rest)."""
        self.cancel()
