"""File commands: open, save and import run in the training worker between two steps (nothing
waits, nothing races a step); exports draw from the window; the recent-sessions menu."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import platformdirs
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from rnnviz.session.views.common import plural
from rnnviz.ui.controller import SessionController
from rnnviz.ui.export import export_all
from rnnviz.ui.window.messages import Messages

MAX_RECENT = 8
USER_ERRORS = (ValueError, OSError)


def work_folder() -> Path:
    """Where file dialogs start: the person's documents folder (platformdirs knows it per OS)."""
    documents = Path(platformdirs.user_documents_dir())
    return documents if documents.is_dir() else Path.home()


class FileCommands:
    def __init__(self, window: QMainWindow, controller: SessionController, messages: Messages,
                 settings: QSettings, status_message: Callable[[str], None]) -> None:
        self.window = window
        self.controller = controller
        self.messages = messages
        self.settings = settings
        self.status_message = status_message
        self.session_path: Path | None = None
        self.recent_menu: QMenu | None = None
        self.before_export: Callable[[], None] = lambda: None  # draw everything (exports show the full pass)
        self.after_export: Callable[[], None] = lambda: None  # back to what the pages showed
        self.panels: Callable[[], dict] = dict
        controller.opened.connect(self._opened)
        controller.saved.connect(self._saved)
        controller.imported.connect(lambda path: self.status_message(f"Imported weights from {path}"))

    # ------------------------------------------------------------------ sessions

    def open_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open session folder", str(work_folder()))
        if path:
            self.open(path)

    def open(self, path: str | Path) -> None:
        """Open a session folder (read by the worker; a bad one gets a dialog, the session stays)."""
        self.controller.open_session(path)

    def _opened(self, path: str) -> None:
        self.session_path = Path(path)
        self.remember(path)
        self.status_message(f"Opened {path}")

    def save(self) -> None:
        if self.session_path is None:
            self.save_as()
        else:
            self.save_to(self.session_path)

    def save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session as folder",
                                              str(work_folder() / "rnnviz-session"))
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> None:
        """Save between two training steps (the worker writes; ``controller.saved`` says where)."""
        self.controller.save_session(path)

    def _saved(self, folder: str) -> None:
        self.session_path = Path(folder)
        self.remember(folder)
        self.status_message(f"Saved {folder}")

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import PyTorch weights", "",
                                              "PyTorch weights (*.safetensors *.npz)")
        if path:
            self.import_weights(path)

    def import_weights(self, path: str | Path) -> None:
        self.controller.import_weights(path)

    # ------------------------------------------------------------------ exports

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export all plots to folder", str(work_folder()))
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path) -> bool:
        self.before_export()
        try:
            written = export_all(self.panels(), folder)
        except USER_ERRORS as exc:
            self.messages.warn("Could not export the plots", str(exc))
            return False
        finally:
            self.after_export()
        self.status_message(f"Exported {plural(len(written), 'file')} to {folder}")
        return True

    # ------------------------------------------------------------------ recent sessions

    def remember(self, path: str) -> None:
        recent = [p for p in self.recent() if p != path]
        self.settings.setValue("recent_sessions", [path, *recent][:MAX_RECENT])
        self.refresh_recent_menu()

    def recent(self) -> list[str]:
        value = self.settings.value("recent_sessions", [])
        return [value] if isinstance(value, str) else list(value or [])

    def refresh_recent_menu(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for path in self.recent():
            self.recent_menu.addAction(path, lambda p=path: self.open(p))
        self.recent_menu.setEnabled(bool(self.recent()))
