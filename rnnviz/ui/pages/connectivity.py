"""The "Connectivity" page: how far back each output of the shown sample listens (rnnviz.ui.panels.connectivity),
for the live network and, after "Compare cell kinds", for a tanh RNN, an LSTM and a GRU trained briefly on
the same task with the same settings, side by side.

The live network's map is built in a background thread from the controller's session copy (when shown,
on a new session or sample, and at most every REFRESH_MS while training moves on); the comparison trains
in a process of its own (``rnnviz.session.connectivity.compare_cells``) with progress and Cancel, and
is kept until the session is replaced. The GUI thread only draws.
"""
from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.connectivity import (
    COMPARE_CELLS,
    COMPARE_STEPS,
    ConnectivityMap,
    ConnectivityView,
    build_connectivity_view,
    compare_cells,
)
from rnnviz.session.session import Session
from rnnviz.ui.jobs import Job
from rnnviz.ui.pages.live import LiveRebuild
from rnnviz.ui.panels.connectivity import ConnectivityPanel

LIVE_JOB, COMPARE_JOB = "connectivity", "connectivity comparison"
REFRESH_MS = 4000  # while training: the live map at most this often (it costs T x r backward passes)


class ConnectivityPage(LiveRebuild, QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.setObjectName("connectivity_page")
        self.controller, self.model, self.jobs = window.controller, window.model, window.jobs
        self.panel = ConnectivityPanel()
        self.panel.setObjectName("panel_connectivity")
        self.panel.setMinimumSize(300, 240)
        self._build_controls()
        self.live: ConnectivityView | None = None
        self.compared: tuple[ConnectivityMap, ...] = ()
        self.compare_job: Job | None = None
        self.start_live(REFRESH_MS, LIVE_JOB)
        self.controller.session_replaced.connect(self._session_replaced)
        self.model.events.selection.connect(lambda _new, _old: self._mark_stale())
        self.model.events.timestep.connect(lambda timestep, _old=None: self.panel.set_output(timestep))

    def _build_controls(self) -> None:
        self.compare_button = QPushButton("Compare cell kinds")
        self.compare_button.setObjectName("connectivity_compare")
        self.compare_button.setToolTip(f"Train a {', '.join(COMPARE_CELLS)} on this task with these settings and "
                                       "show their connectivity beside this network's")
        self.compare_button.clicked.connect(self.compare)
        self.steps = QSpinBox()
        self.steps.setObjectName("connectivity_steps")
        self.steps.setRange(1, 100_000)
        self.steps.setValue(COMPARE_STEPS)
        self.steps.setSuffix(" steps")
        self.steps.setToolTip("Training steps for each compared cell kind")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("connectivity_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("connectivity_progress")
        self.progress.setRange(0, 100 * len(COMPARE_CELLS))
        self.progress.setFormat("training the comparison…")
        self.progress.setMaximumWidth(200)
        self.progress.setVisible(False)
        self.status = QLabel("Hover a token (or a row of the matrix) to see which inputs its output depends on.")
        self.status.setObjectName("connectivity_status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        for widget in (self.compare_button, self.steps, self.cancel_button, self.progress):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.panel, 1)

    # ------------------------------------------------------------------ the live network

    def has_view(self) -> bool:
        return self.live is not None

    def _session_replaced(self, _session: Session) -> None:
        self.cancel()
        self.compared = ()  # another task or network: the comparison no longer applies
        self._mark_stale()

    def rebuild(self, session: Session | None = None) -> None:
        session = session or self.controller.session
        if session is None:
            return
        self._stale = False
        job = self.jobs.start_latest(LIVE_JOB, build_connectivity_view, session, self.model.selection.sample)
        job.done.connect(self._live_ready)
        job.failed.connect(lambda text: self.status.setText(f"Could not compute the connectivity: {text}"))

    def _live_ready(self, view: ConnectivityView) -> None:
        self.live = view
        self.built_step = view.maps[0].step
        self._draw()

    def _draw(self) -> None:
        if self.live is None:
            return
        compared = self.compared if self._compared_fits() else ()
        self.panel.show_view(self.live.with_maps(self.live.maps[:1] + compared))
        self.panel.set_output(self.model.timestep)

    def _compared_fits(self) -> bool:
        """The comparison was made for the sample shown (its maps have the same number of timesteps)."""
        return all(m.norms.shape == self.live.maps[0].norms.shape for m in self.compared)

    # ------------------------------------------------------------------ the comparison

    @property
    def comparing(self) -> bool:
        return self.compare_job is not None and not self.compare_job.finished

    def compare(self) -> None:
        """Train each cell kind of COMPARE_CELLS in a process of its own and draw their maps as they come."""
        session = self.controller.session
        if self.comparing or session is None:
            return
        self.compared = ()
        job = self.jobs.start(COMPARE_JOB, compare_cells, session.config, COMPARE_CELLS, self.steps.value(),
                              self.model.selection.sample, process=True)
        job.progress.connect(self._compare_progress)
        job.done.connect(self._compare_done)
        job.failed.connect(lambda text: self._idle(f"The comparison failed: {text}"))
        job.cancelled.connect(lambda: self._idle("Cancelled; the cell kinds finished before are kept."))
        self.compare_job = job
        self.compare_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self.status.setText(f"Training {', '.join(COMPARE_CELLS)} for {self.steps.value():,} steps each…")

    def _compare_progress(self, progress) -> None:
        maps, done = progress
        self.progress.setValue(int(100 * done))
        if len(maps) != len(self.compared):
            self.compared = tuple(maps)
            self._draw()

    def _compare_done(self, maps) -> None:
        self.compared = tuple(maps)
        self._draw()
        reaches = ", ".join(f"{m.cell} {m.last_reach:.0f}" for m in maps)
        last = maps[-1].last_output if maps else 0
        self._idle(f"How many of its {last} steps back the last output still hears (above 1% of its strongest "
                   f"input): {reaches}.")

    def cancel(self) -> None:
        if self.comparing:
            self.compare_job.cancel()
            self.cancel_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.compare_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)

    def ensure_drawn(self) -> None:
        """Draw now if never drawn or out of date (exports and tests)."""
        if self.live is None or self._stale:
            self.rebuild()
        self.jobs.wait(LIVE_JOB)

    def shutdown(self) -> None:
        self.timer.stop()
        self.cancel()
