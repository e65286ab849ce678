"""What the pages drawn from the live network share: rebuild their view state off the GUI thread when
shown, when marked stale (a new session, another sample), and, while shown, every ``refresh_ms`` when
training has moved on, from a copy of the session taken between two steps (``controller.request_state``).

A page mixes ``LiveRebuild`` into its QWidget, calls ``start_live(refresh_ms, job)`` in ``__init__``,
implements ``rebuild(session=None)`` (which starts the job) and sets ``built_step`` when a view is drawn;
``has_view()`` says whether it has one.
"""
from __future__ import annotations

from PySide6.QtCore import QTimer


class LiveRebuild:
    controller: object
    model: object
    jobs: object

    def start_live(self, refresh_ms: int, job: str) -> None:
        self.live_job = job
        self.built_step: int | None = None
        self._stale = True
        self.timer = QTimer(self)  # type: ignore[arg-type]
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self._tick)

    def has_view(self) -> bool:
        raise NotImplementedError

    def rebuild(self, session=None) -> None:
        raise NotImplementedError

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)  # type: ignore[misc]
        self.timer.start()
        if self._stale or not self.has_view():
            self.rebuild()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.timer.stop()
        super().hideEvent(event)  # type: ignore[misc]

    def _mark_stale(self) -> None:
        self._stale = True
        if self.isVisible():  # type: ignore[attr-defined]
            self.rebuild()

    def _tick(self) -> None:
        """While shown: a new picture when training has moved on and none is being built."""
        if self.model.step != self.built_step and not self.jobs.busy(self.live_job):  # type: ignore[attr-defined]
            self.controller.request_state(self.live_job, self.rebuild)  # type: ignore[attr-defined]
