"""The gradient check dialog: finite differences against BPTT, one row per weight matrix.

``checks.gradient_check`` runs in float64 on a frozen copy of the session, off the UI thread; the
table shows each parameter's shape, how many entries were checked, the largest absolute error, the
relative error and pass (green) or fail (red).
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.checks import gradient_check
from rnnviz.session.session import Session
from rnnviz.ui.jobs import BackgroundJob

COLUMNS = ("parameter", "shape", "entries checked", "max abs error", "relative error", "result")
PASS_COLOUR, FAIL_COLOUR = "#009e73", "#d55e00"


class GradientCheckDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradient_check_dialog")
        self.setWindowTitle("Gradient check: finite differences vs BPTT")
        self.resize(760, 420)
        self.summary = QLabel("Checking…")
        self.summary.setObjectName("gradient_check_summary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gradient_check_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.rows: list[Any] | None = None
        self.job = BackgroundJob(self)
        self.job.done.connect(lambda _tag, rows: self.show_rows(rows))
        self.job.failed.connect(lambda _tag, text: self.summary.setText(f"The check failed: {text}"))
        self.finished.connect(lambda _result: self.job.shutdown())

    def start(self, session: Session, max_entries: int = 40, seed: int = 0) -> None:
        """Run the check on ``session`` (pass a frozen copy: it must not train meanwhile)."""
        self.summary.setText(f"Checking up to {max_entries} entries of every parameter in float64…")
        self.job.submit("gradient check", gradient_check, session, max_entries, seed)

    def show_rows(self, rows: list[Any]) -> None:
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            shape = "×".join(str(n) for n in row.shape)
            values = (row.name, shape, str(row.checked), f"{row.max_abs_error:.2e}", f"{row.rel_error:.2e}",
                      "pass ✓" if row.passed else "FAIL ✗")
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == len(values) - 1:
                    colour = QColor(PASS_COLOUR if row.passed else FAIL_COLOUR)
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(colour))
                self.table.setItem(r, c, item)
        passed = sum(bool(row.passed) for row in self.rows)
        self.summary.setText(
            f"<b>{passed} of {len(self.rows)} parameters pass.</b> The relative error compares the BPTT gradient "
            "with central finite differences (L(w+ε) − L(w−ε)) / 2ε on the view batch, in float64.")
        took = self.job.seconds.get("gradient check")
        if took is not None:
            self.summary.setToolTip(f"took {took:.2f} s")

    def all_passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)
