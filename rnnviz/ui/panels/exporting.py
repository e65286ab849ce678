"""Exporting a panel: PNG, SVG and CSV of what it shows, from code or from its right-click menu."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QStackedWidget, QWidget

from rnnviz.ui import export

Rows = list[list[Any]]  # header row of column names, then one row per data point
AskPath = Callable[[QWidget, str, str, str], str]  # (parent, caption, suggested file, filter) -> path or ""


def ask_save_path(parent: QWidget, caption: str, suggested: str, file_filter: str) -> str:
    """Ask where to save with the platform's file dialog; "" when the person cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, file_filter)
    return path


def export_with_dialog(parent: QWidget, ask: AskPath, what: str, stem: str, kind: str,
                       writers: dict[str, Callable[[Any], Any]]) -> Any:
    """Ask for a file name and write ``what`` as ``kind`` ("PNG", "SVG" or "CSV") with ``writers[kind]``;
    None if cancelled, or after saying in a dialog why the file could not be written."""
    suffix = kind.lower()
    path = ask(parent, f"Export {what} as {kind}", f"{stem}.{suffix}", f"{kind} files (*.{suffix})")
    if not path:
        return None
    try:
        return writers[kind](path)
    except export.ExportError as exc:
        QMessageBox.warning(parent, "Export failed", str(exc))
        return None


class PanelExport:
    """The export half of a Panel (mixed into it): writers for each format, the menu, the file dialog."""

    name: str
    title: str
    stack: QStackedWidget
    ask_save_path: AskPath
    csv_rows: Callable[[], Rows]  # the panel's: header row, then exactly the data shown

    def current_page(self) -> pg.GraphicsLayoutWidget:
        return self.stack.currentWidget()

    def to_csv(self, path: str | Path) -> Path:
        return export.write_csv(self.csv_rows(), path)

    def export_png(self, path: str | Path) -> Path:
        self._ensure_laid_out()
        return export.export_png(self.current_page(), path)

    def export_svg(self, path: str | Path) -> Path:
        self._ensure_laid_out()
        return export.export_svg(self.current_page(), path)

    def _ensure_laid_out(self) -> None:
        """Give a never-shown panel a real size so exports are not 0 x 0."""
        if self.current_page().width() < 200 or self.current_page().height() < 150:
            self.resize(max(self.width(), 900), max(self.height(), 560))
            self.layout().activate()
            self.current_page().resize(self.stack.size())

    def _build_menu(self) -> QMenu:
        menu = QMenu(self)
        self.export_actions: dict[str, QAction] = {}
        for kind in ("PNG", "SVG", "CSV"):
            action = menu.addAction(f"Export {kind}…")
            action.triggered.connect(lambda _checked=False, k=kind: self.export_with_dialog(k))
            self.export_actions[kind] = action
        return menu

    def _show_menu(self, page: pg.GraphicsLayoutWidget, pos: QPoint) -> None:
        self.menu.popup(page.mapToGlobal(pos))

    def export_with_dialog(self, kind: str) -> Path | None:
        """Ask for a file name and export as ``kind`` ("PNG", "SVG" or "CSV"); None if cancelled."""
        return export_with_dialog(self, self.ask_save_path, self.title, self.name, kind,
                                  {"PNG": self.export_png, "SVG": self.export_svg, "CSV": self.to_csv})
