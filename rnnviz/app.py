"""Entry point: the window when no command is given, otherwise the headless CLI."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rnnviz import cli

# A worker thread running many small NumPy calls keeps the GIL between Python's thread switches;
# 1 ms (instead of 5 ms) lets the UI thread in sooner, so the window stays smooth while it trains.
SWITCH_INTERVAL_S = 0.001


def window_config(args: argparse.Namespace):
    """The SessionConfig the window starts with (``--task``/``--cell``)."""
    from rnnviz.session.config import SessionConfig

    changes = {k: v for k, v in (("task", args.task), ("cell", args.cell)) if v is not None}
    config = SessionConfig(**changes)
    if args.task is not None:
        from rnnviz.tasks import make_task

        make_task(config.task)  # an unknown task is a user error before any window appears
    return config


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about every window it cannot resize natively; nobody can act on it."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


def run_window(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    from rnnviz.engine.threads import pin_blas_threads

    pin_blas_threads()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _quiet_offscreen_warnings()
    config = window_config(args)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    app.setOrganizationName("rnnviz")
    if args.screenshot:
        from rnnviz.engine import kernels
        from rnnviz.ui.screenshot import take_screenshot

        kernels.start(wait=True)  # the same pictures whether the kernels were cached or not

        path = take_screenshot(args.screenshot, config, args.session, args.train_steps or 0)
        print(f"screenshot: {path}")
        return 0
    from rnnviz.ui.kernel_status import show_kernel_preparation
    from rnnviz.ui.main_window import MainWindow

    window = MainWindow(config)
    window.show()
    show_kernel_preparation(window)
    if args.session:
        window.open_session(args.session)
    if args.train_steps:
        window.controller.step(args.train_steps)
    code = app.exec()
    window.deleteLater()
    app.processEvents()
    return code


def main(argv: Sequence[str] | None = None) -> None:
    args = cli.parse(argv)
    if args.command is not None:
        try:
            sys.exit(cli.run_command(args))
        except cli.UserError as exc:
            sys.exit(cli.error_exit(str(exc)))
    try:
        sys.exit(run_window(args))
    except cli.UserError as exc:
        sys.exit(cli.error_exit(str(exc)))
    except (*cli._user_errors(), OSError) as exc:
        sys.exit(cli.error_exit(" ".join(str(exc).split())))
