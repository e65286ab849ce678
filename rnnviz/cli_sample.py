"""``rnnviz sample SESSION --seed-text TEXT --length N --temperature T [--seed S]``: a saved text
session writes text (rnnviz.session.generation), printed on stdout."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from rnnviz.tasks.text import MAX_SAMPLE_LENGTH

DEFAULT_LENGTH, DEFAULT_TEMPERATURE = 200, 1.0


def add_sample_command(commands: argparse._SubParsersAction, whole) -> None:
    """The ``sample`` sub-command; ``whole(low, high)`` is cli's whole-number argument type."""
    sample = commands.add_parser(
        "sample", help="write text with a saved text session (one character at a time, each fed back in)",
        description="Read SEED-TEXT with a saved text session's network, then sample N characters one at a "
                    "time, each fed back in as the next input, and print them (the seed is not repeated).",
    )
    sample.add_argument("session", metavar="SESSION", help="a saved session folder of the text task")
    sample.add_argument("--seed-text", required=True, metavar="TEXT",
                        help="the text the network reads first (characters of its training text)")
    sample.add_argument("--length", type=whole(1, MAX_SAMPLE_LENGTH), default=DEFAULT_LENGTH, metavar="N",
                        help=f"characters to write (default {DEFAULT_LENGTH})")
    sample.add_argument("--temperature", type=_temperature, default=DEFAULT_TEMPERATURE, metavar="T",
                        help="above 0: 1 samples the network's own probabilities, lower is greedier "
                             f"(near 0: always the most probable), higher more random (default {DEFAULT_TEMPERATURE:g})")
    sample.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the sampling (default 0)")


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0 (try 0.5 to 1.5), got {text}")
    return value


def command_sample(args: argparse.Namespace) -> int:
    from rnnviz.session.files import load_session
    from rnnviz.session.generation import generate

    session = load_session(Path(args.session).expanduser())
    generation = generate(session, args.seed_text, args.length, args.temperature, seed=args.seed)
    print(generation.text)
    return 0
