"""rnnviz's place on the desktop: the application icon on every window, the name and .desktop file
the window manager matches it with, and opening the log folder in the file manager."""
from __future__ import annotations

from PySide6.QtCore import QSize, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon

from rnnviz import logs
from rnnviz.bundled import bundled_path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # resources/icons/rnnviz-<size>.png (make_icons.py)
DESKTOP_FILE = "rnnviz"  # resources/rnnviz.desktop, without the suffix (as Qt wants it)


def app_icon() -> QIcon:
    """The rnnviz icon at every bundled size (pre-rendered: the small sizes stay sharp)."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(bundled_path("icons", f"rnnviz-{size}.png")), QSize(size, size))
    return icon


def install_identity(app: QGuiApplication) -> None:
    """Name, version, desktop file and icon of the application: every window and dialog without an
    icon of its own (the main window, messages, the compare window) shows the rnnviz icon."""
    import rnnviz

    app.setApplicationName("rnnviz")
    app.setOrganizationName("rnnviz")
    app.setApplicationVersion(rnnviz.__version__)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())


def open_log_folder() -> bool:
    """Show the log folder (rnnviz.log, crash.log) in the file manager; False if none could open it."""
    folder = logs.log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
