"""The "Trajectories" page: the hidden state's path in the plane of its two principal components
(rnnviz.ui.panels.trajectory), live while the network trains.

The view state is built in a background thread (``window.jobs``, one job at a time, the newest request
wins) from a copy of the live session: when the page is shown, when the session is replaced or the
selection changes, and, while the page is visible, at most every REFRESH_MS when the training step has
moved on (the copy comes from ``controller.request_state``, taken between two steps). The GUI thread
only draws. The timestep cursor rings the state at that timestep without any recomputation.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.session.session import Session
from rnnviz.session.views.trajectory import TrajectoryView, build_trajectory_view
from rnnviz.ui.pages.live import LiveRebuild
from rnnviz.ui.panels.trajectory import TrajectoryPanel

JOB = "trajectories"
REFRESH_MS = 1500  # while training: a new picture at most this often (a forward pass of 256 samples + an SVD)


class TrajectoriesPage(LiveRebuild, QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.setObjectName("trajectories_page")
        self.controller = window.controller
        self.model = window.model
        self.jobs = window.jobs
        self.panel = TrajectoryPanel()
        self.panel.setObjectName("panel_trajectories")
        self.panel.setMinimumSize(300, 240)
        self.status = QLabel("The hidden states of held-out samples appear here.")
        self.status.setObjectName("trajectories_status")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.panel, 1)
        self.view: TrajectoryView | None = None
        self.start_live(REFRESH_MS, JOB)
        self.controller.session_replaced.connect(self._session_replaced)
        self.model.events.selection.connect(self._selection_changed)
        self.model.events.timestep.connect(self._timestep_changed)
        self.panel.set_cursor(self.model.timestep)

    # ------------------------------------------------------------------ when to rebuild

    def has_view(self) -> bool:
        return self.view is not None

    def _session_replaced(self, _session: Session) -> None:
        self.view = None  # another network: the previous orientation means nothing
        self._mark_stale()

    def _selection_changed(self, _new, _old) -> None:
        self._mark_stale()

    def _timestep_changed(self, timestep, _old=None) -> None:
        self.panel.set_cursor(timestep)

    # ------------------------------------------------------------------ building and drawing

    def rebuild(self, session: Session | None = None) -> None:
        """A new view state of ``session`` (default: the controller's copy), built off the GUI thread."""
        session = session or self.controller.session
        if session is None:
            return
        self._stale = False
        reference = self._reference(session)
        job = self.jobs.start_latest(JOB, build_trajectory_view, session, self.model.selection, reference)
        job.done.connect(self._view_ready)
        job.failed.connect(lambda text: self.status.setText(f"Could not build the trajectories: {text}"))

    def _reference(self, session: Session):
        """The last picture's components, when they are of the same states (keeps the plot's orientation)."""
        view, selection = self.view, self.model.selection
        if view is None or view.cell != session.config.cell or view.components.shape[1] != session.config.hidden_size:
            return None
        if (view.layer, view.direction) != (selection.layer, selection.direction):
            return None
        return view.components

    def _view_ready(self, view: TrajectoryView) -> None:
        self.view = view
        self.built_step = view.step
        self.panel.show_view(view)
        shown = 100 * float(view.explained.sum())
        self.status.setText(f"Hidden states of {view.samples} held-out samples at step {view.step:,}; this plane "
                            f"holds {shown:.0f}% of their variance. Line: sample {view.sample}; ring: the cursor.")

    def ensure_drawn(self) -> None:
        """Draw now if never drawn or out of date (exports and tests)."""
        if self.view is None or self._stale:
            self.rebuild()
        self.jobs.wait(JOB)

    def shutdown(self) -> None:
        self.timer.stop()
