"""Entry points: the window when no command is given, otherwise the headless CLI.

``rnnviz`` (a console script) and ``rnnviz-gui`` (a GUI script: no console window on Windows, and a
mistake on its command line is shown in a dialog, since there is no terminal to print it to) run the
same program. Both keep a log file (rnnviz.logs); a mistake a person can fix is one ``error:`` line
and exit code 2, a bug is one ``error:`` line naming the log file (which has the traceback) and exit
code 1.
"""
from __future__ import annotations

import argparse
import faulthandler
import os
import sys
from collections.abc import Sequence

from rnnviz import cli, logs

# A worker thread running many small NumPy calls keeps the GIL between Python's thread switches;
# 1 ms (instead of 5 ms) lets the UI thread in sooner, so the window stays smooth while it trains.
SWITCH_INTERVAL_S = 0.001
EXIT_BUG = 1


def window_config(args: argparse.Namespace):
    """The SessionConfig the window starts with (``--task``/``--cell``)."""
    from rnnviz.session.config import SessionConfig

    changes = {k: v for k, v in (("task", args.task), ("cell", args.cell)) if v is not None}
    config = SessionConfig(**changes)
    if args.task is not None:
        from rnnviz.tasks import make_task

        make_task(config.task)  # an unknown task is a user error before any window appears
    return config


def window_lesson(args: argparse.Namespace):
    """The lesson ``--lesson NAME|FILE`` names, read and checked before any window appears (a mistake
    in it is one error line with the file and the line)."""
    if not args.lesson:
        return None
    from rnnviz.session.lessons import LessonError, find_lesson
    from rnnviz.ui.lessons.names import lesson_names

    try:
        return find_lesson(args.lesson, lesson_names())
    except LessonError as exc:
        raise cli.UserError(str(exc)) from None


def window_targets(args: argparse.Namespace) -> list:
    """What ``rnnviz PATH...`` names, checked before any window appears (a wrong path is a one-line
    error); the window opens them in order."""
    from rnnviz.ui.open_paths import SESSION, OpenPathError, classify

    from rnnviz.session.lessons import LessonError, load_lesson
    from rnnviz.ui.open_paths import LESSON

    targets = []
    for path in args.paths:
        try:
            targets.append(classify(path))
            if targets[-1].kind == LESSON:
                from rnnviz.ui.lessons.names import lesson_names

                load_lesson(targets[-1].path, lesson_names())  # a mistake in it: one error line, exit 2
        except OpenPathError as exc:
            if _looks_like_a_command(path):
                raise cli.UserError(f"{path!r} is neither a command ({', '.join(cli.command_names())}) nor a file or "
                                    "folder that exists; see `rnnviz --help`") from None
            raise cli.UserError(str(exc)) from None
        except LessonError as exc:
            raise cli.UserError(str(exc)) from None
    if args.screenshot and targets and (len(targets) > 1 or targets[0].kind != SESSION or args.session):
        raise cli.UserError("--screenshot opens one saved session (as PATH or --session); open data files "
                            "and weights in the window")
    return targets


def _looks_like_a_command(path: str) -> bool:
    """A bare word that names nothing on disk (``rnnviz trian``) was more likely meant as a command."""
    return path.isidentifier() and not os.path.lexists(path)


def _route_qt_messages() -> None:
    """Qt's warnings go to the log as well as stderr; the offscreen platform's warning about every
    window it cannot resize natively is dropped (nobody can act on it)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    levels = {QtMsgType.QtDebugMsg: 10, QtMsgType.QtInfoMsg: 20, QtMsgType.QtWarningMsg: 30,
              QtMsgType.QtCriticalMsg: 40, QtMsgType.QtFatalMsg: 50}
    previous = None

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        logs.logger.log(levels.get(mode, 30), "Qt: %s", message)
        if previous is not None:
            previous(mode, context, message)
        elif sys.stderr is not None:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


def run_window(args: argparse.Namespace) -> int:
    targets = window_targets(args)
    lesson = window_lesson(args)
    from PySide6.QtWidgets import QApplication

    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.ui.desktop import install_identity

    pin_blas_threads()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _route_qt_messages()
    config = window_config(args)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_identity(app)
    if args.screenshot:
        from rnnviz.engine import kernels
        from rnnviz.ui.screenshot import take_screenshot

        kernels.start(wait=True)  # the same pictures whether the kernels were cached or not

        session = str(targets[0].path) if targets else args.session
        path = take_screenshot(args.screenshot, config, session, args.train_steps or 0)
        print(f"screenshot: {path}")
        return 0
    from rnnviz.ui.errors import install_excepthook
    from rnnviz.ui.kernel_status import show_kernel_preparation
    from rnnviz.ui.main_window import MainWindow
    from rnnviz.ui.open_paths import open_target

    install_excepthook(app)
    window = MainWindow(config)
    window.show()
    show_kernel_preparation(window)
    if args.session:
        window.open_session(args.session)
    for target in targets:
        open_target(window, target)
    if args.train_steps:
        window.controller.step(args.train_steps)
    if lesson is not None:
        window.start_lesson(lesson)  # asked for a lesson: no need to offer one
    elif not targets and not args.session:
        window.welcome_if_first_start()
    code = app.exec()
    window.deleteLater()
    app.processEvents()
    return code


def run(argv: Sequence[str] | None = None, errors_in_dialog: bool = False) -> int:
    """Run rnnviz with ``argv`` (default: the process's arguments); returns the exit code."""
    logs.start_logging()
    if not faulthandler.is_enabled():  # python -X faulthandler: the person chose where it writes
        logs.enable_crash_log()
    args = cli.parse(argv)  # argparse reports its own mistakes (exit 2)
    try:
        if args.command is not None:
            code = cli.run_command(args)
        else:
            code = run_window(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # here, not at interpreter exit, so that a closed pipe is handled below
    except BrokenPipeError:
        code = cli.output_closed()
    except cli.UserError as exc:
        code = _user_error(str(exc), errors_in_dialog)
    except (*cli.user_errors(), OSError) as exc:
        code = _user_error(" ".join(str(exc).split()), errors_in_dialog)
    except KeyboardInterrupt:
        logs.logger.info("stopped with Ctrl-C")
        code = cli.EXIT_INTERRUPTED
    except Exception as exc:  # a bug: the traceback goes to the log, the person gets one line
        message = logs.report_unexpected(exc, f"rnnviz {args.command}" if args.command else "the window")
        code = _error(" ".join(message.split()), EXIT_BUG, errors_in_dialog)
    logs.logger.info("exit code %d", code)
    return code


def _user_error(message: str, in_dialog: bool) -> int:
    return _error(message, cli.EXIT_USER_ERROR, in_dialog)


def _error(message: str, code: int, in_dialog: bool) -> int:
    cli.error_exit(message, code)
    if in_dialog:
        _startup_error_dialog(message)
    return code


def _startup_error_dialog(message: str) -> None:
    """``rnnviz-gui`` has no terminal: a mistake on its command line is shown in a dialog."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (the dialog needs one)
    QMessageBox.critical(None, "rnnviz", message[:1].upper() + message[1:])


def main(argv: Sequence[str] | None = None) -> None:
    """The ``rnnviz`` command (console script)."""
    sys.exit(run(argv))


def gui_main(argv: Sequence[str] | None = None) -> None:
    """The ``rnnviz-gui`` command (GUI script: no console window on Windows)."""
    sys.exit(run(argv, errors_in_dialog=True))
