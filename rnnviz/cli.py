"""Command-line parsing and the headless commands (train, export, tasks)."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


class UserError(Exception):
    """A mistake a person can make (bad argument, bad file): printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnviz",
        description="Watch recurrent neural networks learn. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version="rnnviz 0.1.0")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run a headless command; returns the process exit code."""
    raise UserError(f"unknown command {args.command!r}")


def error_exit(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
