"""Entry point: the window when no command is given, otherwise the headless CLI."""
from __future__ import annotations

import sys
from collections.abc import Sequence

from rnnviz import cli


def run_window() -> int:
    from PySide6.QtWidgets import QApplication

    from rnnviz.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    app.setOrganizationName("rnnviz")
    window = MainWindow()
    window.show()
    code = app.exec()
    window.deleteLater()
    app.processEvents()
    return code


def main(argv: Sequence[str] | None = None) -> None:
    args = cli.parse(argv)
    if args.command is None:
        sys.exit(run_window())
    try:
        sys.exit(cli.run_command(args))
    except cli.UserError as exc:
        sys.exit(cli.error_exit(str(exc)))
