"""The gradient check dialog: finite differences against BPTT, one row per weight matrix.

The check (``rnnviz.session.work.run_gradient_check``: ``checks.gradient_check`` in float64) runs in a
process of its own on a copy of the session, with a progress bar; closing the dialog cancels it at
once (the process stops at its next loss evaluation, or is terminated). Each checked entry passes when
|BPTT − FD| ≤ atol + rtol·|FD|; the table shows per parameter its shape, how many entries were checked,
and its worst entry: the error there, what is allowed there, their ratio (≤ 1 passes) and pass (green)
or fail (red).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.session import Session
from rnnviz.session.work import run_gradient_check
from rnnviz.ui.jobs import Job, JobRunner

COLUMNS = ("parameter", "shape", "checked", "worst entry", "|BPTT − FD|", "allowed", "ratio", "result")
COLUMN_TIPS = {
    "checked": "entries compared (a random subset of big matrices)",
    "worst entry": "the entry with the largest ratio of error to allowance",
    "|BPTT − FD|": "the error at the worst entry",
    "allowed": "atol + rtol·|FD| at the worst entry",
    "ratio": "|BPTT − FD| / allowed at the worst entry: at most 1 passes",
}
PASS_COLOUR, FAIL_COLOUR = "#009e73", "#d55e00"


class GradientCheckDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, jobs: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradient_check_dialog")
        self.setWindowTitle("Gradient check: finite differences vs BPTT")
        self.resize(860, 440)
        self.summary = QLabel("Checking…")
        self.summary.setObjectName("gradient_check_summary")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("gradient_check_progress")
        self.progress.setRange(0, 1000)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gradient_check_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for column, name in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(column).setToolTip(COLUMN_TIPS.get(name, ""))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.rows: list[Any] | None = None
        self.jobs = jobs or JobRunner(self)
        self.job: Job | None = None
        self.closed = False
        self.finished.connect(lambda _result: self.cancel())

    def start(self, session: Session, max_entries: int = 40, seed: int = 0) -> None:
        """Run the check on a copy of ``session`` in its own process (nothing here waits for it)."""
        if self.closed:
            return  # closed before the weights arrived
        if self.job is not None:
            self.job.cancel()  # a new check replaces the one running
        self.summary.setText(f"Checking up to {max_entries} entries of every parameter in float64…")
        self.job = self.jobs.start("gradient check", run_gradient_check, session, max_entries, seed, process=True)
        self.job.progress.connect(self._progress)  # bound methods: never called once the dialog is gone
        self.job.done.connect(self.show_rows)
        self.job.failed.connect(self._failed)

    def _progress(self, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    def _failed(self, text: str) -> None:
        self.summary.setText(f"The check failed: {text}")

    def cancel(self) -> None:
        """Closing the dialog stops the check (it never makes the window wait)."""
        self.closed = True
        if self.job is not None and self.job.running:
            self.job.cancel()

    def show_rows(self, rows: list[Any]) -> None:
        self.rows = list(rows)
        self.progress.setValue(self.progress.maximum())
        self.progress.hide()
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row_texts(row)):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == len(COLUMNS) - 1:
                    colour = QColor(PASS_COLOUR if row.passed else FAIL_COLOUR)
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(colour))
                self.table.setItem(r, c, item)
        self.summary.setText(summary_text(self.rows))
        if self.job is not None and self.job.seconds is not None:
            self.summary.setToolTip(f"took {self.job.seconds:.2f} s")

    def all_passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)


def row_texts(row: Any) -> tuple[str, ...]:
    """The table cells of one ``CheckRow``, in the order of ``COLUMNS``."""
    shape = "×".join(str(n) for n in row.shape)
    where = "[" + ", ".join(str(i) for i in row.worst_index) + "]"
    return (row.name, shape, str(row.checked), where, f"{row.error:.2e}", f"{row.allowed:.2e}",
            f"{row.ratio:.2g}", "pass ✓" if row.passed else "FAIL ✗")


def summary_text(rows: list[Any]) -> str:
    passed = sum(bool(row.passed) for row in rows)
    verdict = "PASS" if rows and passed == len(rows) else "FAIL"
    tolerances = ""
    if rows:
        tolerances = (f"; atol = {rows[0].atol:.1e} bounds the finite difference's round-off, "
                      f"rtol = {rows[0].rtol:g} its truncation")
    return (f"<b>{verdict}: {passed} of {len(rows)} parameters pass.</b> An entry passes when "
            "|BPTT − FD| ≤ atol + rtol·|FD|, FD the central difference (L(w+ε) − L(w−ε)) / 2ε on the view "
            f"batch in float64{tolerances}. Each row shows its worst entry.")
