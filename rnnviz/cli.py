"""Command-line parsing and the headless commands (tasks, train, export).

    rnnviz [PATH...]                     the window; each PATH (a session folder, a data file or
                                         weights) is opened in it
    rnnviz tasks [NAME]                  the demo tasks, their settings (and one task in full)
    rnnviz train --task NAME --out DIR   train without a window; writes the session, history.csv,
                                         metrics.json and every panel's plot (PNG, SVG, CSV) into DIR
    rnnviz export SESSION --out DIR      re-draw a saved session's plots (and history.csv) into DIR
    rnnviz sample SESSION --seed-text T  write text with a saved text session (rnnviz.cli_sample)
    rnnviz check --task NAME             the gradient check (BPTT against finite differences) of the
                                         network the train options build (after --steps N of training)

Exit codes: 0 done; 1 ``check`` found a parameter whose BPTT gradient differs from finite differences;
2 a mistake a person can fix (bad argument, bad file, bad setting), printed as
one ``error: ...`` line; 3 training diverged (the last finite weights, history and plots are still
written); 130 training stopped with Ctrl-C (what was trained so far is written). The last line
``train`` prints on stdout is ``final loss: <number>``.

Qt is imported only to draw the plots, so ``rnnviz tasks`` and argument errors stay fast.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

import rnnviz
from rnnviz import logs
from rnnviz.cli_sample import add_sample_command, command_sample
from rnnviz.engine.cells import carry_gates, cell_names, cell_spec, pytorch_modules
from rnnviz.session.config import DTYPES, INITS, LIMITS, OPTIMIZERS, ConfigError, SessionConfig
from rnnviz.session.views.common import plural

EXIT_OK, EXIT_USER_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a program stopped by a closed pipe
MAX_BATCH_SIZE = int(LIMITS["batch_size"][1])
MAX_STEPS = 10_000_000
HISTORY_FILE, PLOTS_DIR, METRICS_FILE = "history.csv", "plots", "metrics.json"
OUTPUT_NAMES = frozenset({"session.json", "model.npz", HISTORY_FILE, PLOTS_DIR, METRICS_FILE})  # what rnnviz writes
PLOT_SUFFIXES = (".png", ".svg", ".csv")

# `train --arch NAME`: what is trained, and the function that trains it into the output folder, as
# "module:function" (imported only when chosen). Each function takes (args, out) and returns the exit
# code; like the recurrent network's, it writes DIR/metrics.json with at least "final_loss".
ARCHITECTURES = {
    "rnn": ("the recurrent network the network options describe", "rnnviz.cli:_train_into"),
    "window-mlp": ("a time-delay network: an MLP over the last --window inputs", "rnnviz.cli_window:train_window_mlp"),
    "ngram": ("an n-gram (Markov) predictor of the last --window inputs", "rnnviz.cli_window:train_ngram"),
    "seq2seq": ("an encoder-decoder with --attention for the encoder-decoder tasks", "rnnviz.cli_seq2seq:train_seq2seq"),
    "bow-mlp": ("a bag-of-words MLP beside that recurrent network (sentiment)", "rnnviz.cli_bag_of_words:train_bow_mlp"),
}
WINDOW_ARCHITECTURES = ("window-mlp", "ngram")  # the ones --window is for
ARCHITECTURE_NAMES = ("rnn", "seq2seq", "bow-mlp", "window-mlp", "ngram")
ATTENTIONS = ("none", "additive", "dot")


class UserError(Exception):
    """A mistake a person can make (bad argument, bad file): printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``error: <what>; see `rnnviz ... --help``` and exit code 2
    (argparse's own prints the whole usage block). Sub-commands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"error: {_one_line(message)}; see `{self.prog} --help`\n")


# --- the parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rnnviz",
        usage="%(prog)s [window options] [PATH ...]\n       %(prog)s COMMAND ...",
        description="Watch recurrent neural networks learn. With no command, opens the window; each PATH "
                    "(a saved session folder, a .txt/.csv data file, or .npz/.safetensors PyTorch weights) "
                    "is opened in it. A PATH named like a command needs a folder in front: ./train",
    )
    parser.add_argument("--version", action="version", version=f"rnnviz {rnnviz.__version__}")
    _add_window_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog=parser.prog)  # "rnnviz train"
    _add_tasks_command(commands)
    _add_train_command(commands)
    _add_export_command(commands)
    _add_check_command(commands)
    add_sample_command(commands, _whole)
    return parser


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    """Options for the window (no command); ``app.main`` acts on them."""
    window = parser.add_argument_group("window options (without a command)")
    window.add_argument("--session", metavar="DIR", help="open this saved session")
    window.add_argument("--task", metavar="NAME", help="start with this task")
    window.add_argument("--cell", choices=cell_names(), help="start with this cell kind")
    window.add_argument("--train-steps", type=_whole(0, MAX_STEPS), metavar="N",
                        help="train this many steps after opening")
    window.add_argument("--lesson", metavar="NAME",
                        help="start a guided lesson: a bundled one by name (e.g. memory) or a .lesson file")
    window.add_argument("--screenshot", metavar="FILE.png",
                        help="save a picture of the window to FILE.png and quit")


def _add_tasks_command(commands: argparse._SubParsersAction) -> None:
    tasks = commands.add_parser("tasks", help="list the demo tasks and their parameters",
                                description="List the demo tasks; with a NAME, describe that task in full.")
    tasks.add_argument("name", nargs="?", metavar="NAME", help="describe this task in full")


def _add_train_command(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train", help="train without a window and write the session and its plots",
        description="Train a network on a task without a window. Writes DIR/session.json, DIR/model.npz, "
                    "DIR/history.csv and DIR/plots/ (PNG, SVG and CSV of every panel).",
    )
    _add_session_options(train)
    _add_output_options(train)
    train.add_argument("--no-plots", action="store_true",
                       help="skip drawing the plots (faster; `rnnviz export` draws them later)")


def _add_session_options(train: argparse.ArgumentParser) -> None:
    """The task, network and training options (``session_config`` reads them)."""
    defaults = SessionConfig()
    task = train.add_argument_group("task")
    task.add_argument("--task", required=True, metavar="NAME", help="the task (see `rnnviz tasks`)")
    task.add_argument("--data", metavar="FILE", help="your own data file (text and series tasks)")
    task.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                      help="a task parameter (repeatable), e.g. --param delay=20")
    task.add_argument("--seq-len", type=_whole(1, 100_000), metavar="T", help="timesteps per sequence")
    net = train.add_argument_group("network")
    net.add_argument("--arch", choices=ARCHITECTURE_NAMES, default="rnn",
                     help="what to train: " + "; ".join(f"{name} = {ARCHITECTURES[name][0]}"
                                                        for name in ARCHITECTURE_NAMES if name in ARCHITECTURES)
                     + " (default rnn)")
    net.add_argument("--attention", choices=ATTENTIONS, default=None,
                     help="seq2seq: how the decoder looks at the encoder's states (default none)")
    net.add_argument("--decoder-cell", choices=cell_names(), default=None,
                     help="seq2seq: the decoder's cell kind (default: --cell's)")
    net.add_argument("--window", type=_whole(1, 1000), default=None, metavar="K",
                     help="window-mlp and ngram: how many past inputs the model sees")
    net.add_argument("--bow-hidden", type=_whole(0, int(LIMITS["hidden_size"][1])), default=None, metavar="N",
                     help="bow-mlp: tanh units of the bag-of-words model; 0 = linear in the word counts, which "
                          "cannot represent negation (default 16, as on the window's page)")
    net.add_argument("--cell", choices=cell_names(), default=defaults.cell, help=f"cell kind (default {defaults.cell})")
    net.add_argument("--hidden", type=int, default=defaults.hidden_size, metavar="N",
                     help=f"hidden units per layer (default {defaults.hidden_size})")
    net.add_argument("--layers", type=int, default=defaults.num_layers, metavar="N",
                     help=f"stacked layers (default {defaults.num_layers})")
    net.add_argument("--bidirectional", action="store_true", help="read the sequence both ways")
    net.add_argument("--init", choices=INITS, default=defaults.init, help="weight initialisation")
    net.add_argument("--init-scale", type=float, default=defaults.init_scale, metavar="X",
                     help=f"scale of the identity initialisation (default {defaults.init_scale:g})")
    net.add_argument("--carry-bias", type=float, default=defaults.carry_bias, metavar="X",
                     help=f"{carry_gates()} bias at the start, e.g. 4 (default 0 = off)")
    net.add_argument("--init-weights", metavar="FILE",
                     help=f"start from a PyTorch {pytorch_modules()} state_dict (.safetensors, or .npz saved with np.savez)")
    net.add_argument("--dtype", choices=DTYPES, default=defaults.dtype, help=f"default {defaults.dtype}")
    fit = train.add_argument_group("training")
    fit.add_argument("--steps", type=_whole(0, MAX_STEPS), default=500, metavar="N",
                     help="optimizer steps (default 500)")
    fit.add_argument("--batch", type=int, default=defaults.batch_size, metavar="B",
                     help=f"sequences per step, 1 to {MAX_BATCH_SIZE} (default {defaults.batch_size})")
    fit.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer,
                     help=f"default {defaults.optimizer}")
    fit.add_argument("--lr", type=float, default=defaults.lr, metavar="X",
                     help=f"learning rate (default {defaults.lr:g})")
    fit.add_argument("--clip", type=float, default=defaults.clip_norm, metavar="X",
                     help=f"clip the gradient norm to X; 0 = off (default {defaults.clip_norm:g})")
    fit.add_argument("--tbptt", type=int, default=defaults.tbptt, metavar="K",
                     help="truncate backpropagation every K timesteps; 0 = full BPTT")
    fit.add_argument("--seed", type=int, default=defaults.seed, metavar="N", help="random seed")
    fit.add_argument("--scan", action="store_true",
                     help="compute the recurrence with the parallel scan (cells with a linear recurrence)")


def _add_export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="re-draw a saved session's plots, or export its weights for PyTorch",
        description="Draw the plots of a saved session (PNG, SVG and CSV of every panel) into DIR/plots/ "
                    "and write DIR/history.csv; and/or write its recurrent weights for PyTorch (--weights).",
    )
    export.add_argument("session", metavar="SESSION", help="a saved session folder (or its session.json)")
    export.add_argument("--weights", metavar="FILE",
                        help="write the recurrent weights as a PyTorch state_dict: FILE.safetensors or FILE.npz "
                             "(torch.nn.RNN/LSTM/GRU(...).load_state_dict accepts it)")
    _add_output_options(export, out_required=False)


def _add_output_options(command: argparse.ArgumentParser, out_required: bool = True) -> None:
    out = command.add_argument_group("output")
    out.add_argument("--out", required=out_required, metavar="DIR",
                     help="the output folder (new, empty or an rnnviz one)")
    out.add_argument("--sample", type=_whole(0, 10**6), default=0, metavar="S", help="sample the plots show")
    out.add_argument("--layer", type=_whole(0, 10**6), default=0, metavar="L", help="layer the plots show")
    out.add_argument("--direction", type=_whole(0, 1), default=0, metavar="D",
                     help="direction the plots show: 0 forward, 1 reverse")


def _whole(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return convert


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; ``args.paths`` are the window's PATHs (empty with a command)."""
    parser = build_parser()
    options, paths = _split_window_paths(parser, list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(options)
    args.paths = paths
    return args


def command_names(parser: argparse.ArgumentParser | None = None) -> tuple[str, ...]:
    """The sub-commands (tasks, train, ...), as the parser knows them."""
    parser = parser or build_parser()
    return tuple(name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                 for name in action.choices)


def _split_window_paths(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``rnnviz [options] PATH...`` into options and paths. Left alone when the first positional
    argument is a command: subcommands parse their own arguments."""
    valued = [s for action in parser._actions if action.nargs != 0 for s in action.option_strings]

    def takes_value(option: str) -> bool:  # --name VALUE, also abbreviated as argparse allows
        return "=" not in option and any(s == option or (option.startswith("--") and s.startswith(option))
                                         for s in valued)

    options: list[str] = []
    paths: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            paths.extend(argv[index + 1:])
            break
        if token.startswith("-") and token != "-":
            width = 2 if takes_value(token) else 1
            options.extend(argv[index:index + width])
            index += width
            continue
        if not paths and token in command_names(parser):
            return argv, []
        paths.append(token)
        index += 1
    return options, paths


# --- running a command -------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    """Run a headless command; returns the process exit code. Mistakes a person can fix print one
    ``error:`` line and return 2; programming errors propagate with their traceback."""
    commands = {"tasks": command_tasks, "train": command_train, "export": command_export, "check": command_check,
                "sample": command_sample}
    if args.command not in commands:
        raise UserError(f"unknown command {args.command!r}")
    for option in ("screenshot", "train_steps"):
        if getattr(args, option, None) is not None:
            return error_exit(f"--{option.replace('_', '-')} is for the window; leave out the command "
                              f"{args.command!r} to use it")
    try:
        return commands[args.command](args)
    except UserError as exc:
        return error_exit(str(exc))
    except user_errors() as exc:
        return error_exit(_one_line(_cli_words(exc)))
    except BrokenPipeError:
        return output_closed()
    except OSError as exc:
        from rnnviz.session.storage import describe_os_error

        where = f" {exc.filename}" if exc.filename else ""
        return error_exit(f"cannot write or read{where}: {describe_os_error(exc)}")
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED


# SessionConfig's names for the settings that have a train option of another name
CONFIG_OPTIONS = {"hidden_size": "--hidden", "num_layers": "--layers", "batch_size": "--batch",
                  "clip_norm": "--clip", "init_scale": "--init-scale", "carry_bias": "--carry-bias",
                  "seq_len": "--seq-len"}


def _cli_words(exc: BaseException) -> str:
    """The error's message, naming settings by their command-line options where it can."""
    message = getattr(exc, "message", None)
    return message(CONFIG_OPTIONS) if callable(message) else str(exc)


def user_errors() -> tuple[type[BaseException], ...]:
    """Every exception class that means 'bad argument, file or setting' (never a bug)."""
    from rnnviz.engine.model import ModelConfigError, ModelInputError
    from rnnviz.engine.recurrent import EngineError
    from rnnviz.session.pytorch import WeightsFileError
    from rnnviz.session.storage import SessionFileError
    from rnnviz.tasks import TaskError

    errors: list[type[BaseException]] = [ConfigError, TaskError, SessionFileError, WeightsFileError,
                                         ModelConfigError, ModelInputError, EngineError]
    if "rnnviz.ui.export" in sys.modules:  # only loaded once plots are drawn
        errors.append(sys.modules["rnnviz.ui.export"].ExportError)
    return tuple(errors)


_user_errors = user_errors  # the name app.main uses


def output_closed() -> int:
    """Whoever read stdout has gone (``rnnviz tasks | head -1``): stop quietly, as a program stopped by
    SIGPIPE would. stdout now writes to the null device, so the flush at interpreter exit cannot fail
    again with the same error (the remedy the Python docs give in their note on SIGPIPE)."""
    logs.logger.info("stdout was closed by its reader; stopping")
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (AttributeError, OSError, ValueError):  # no stdout, or one without a file descriptor
        pass
    return EXIT_OUTPUT_CLOSED


def error_exit(message: str, code: int = EXIT_USER_ERROR) -> int:
    logs.logger.warning("exit %d: %s", code, message)
    print(f"error: {message}", file=sys.stderr)
    return code


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- rnnviz tasks ------------------------------------------------------------------------------


def command_tasks(args: argparse.Namespace) -> int:
    from rnnviz.tasks import TASKS

    if args.name is not None:
        if args.name not in TASKS:
            raise UserError(f"there is no task {args.name!r}; choose one of: {', '.join(TASKS)}")
        print(describe_task(TASKS[args.name], full=True))
        return EXIT_OK
    print("\n\n".join(describe_task(task) for task in TASKS.values()))
    return EXIT_OK


def describe_task(task: type, full: bool = False) -> str:
    """A task's name, title, summary (or full description), io, loss and parameters, as text."""
    summary = task.description if full else _first_sentence(task.description)
    lines = [f"{task.name}: {task.title}", f"  {summary}", f"  io: {task.io.replace('_', '-')}, loss: {task.loss}"]
    if not task.params:
        lines.append("  parameters: none")
        return "\n".join(lines)
    lines.append("  parameters:")
    columns = [(param.name, f"default {_default(param)}", _allowed(param)) for param in task.params]
    widths = [max(len(row[i]) for row in columns) for i in range(3)]  # each column as wide as its longest entry
    for row, param in zip(columns, task.params):
        cells = "  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths))
        lines.append(f"    {cells}  {param.help}")
    return "\n".join(lines)


def _default(param: Any) -> str:
    return repr(param.default) if param.kind in ("text", "path") else str(param.default)


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _allowed(param: Any) -> str:
    if param.kind == "choice":
        return "one of " + "|".join(param.choices)
    if param.kind == "path":
        return "a file path"
    if param.kind == "text":
        return "text"
    if param.minimum is not None or param.maximum is not None:
        low = "" if param.minimum is None else f"{param.minimum:g}"
        high = "" if param.maximum is None else f"{param.maximum:g}"
        return f"{param.kind} {low}..{high}"
    return param.kind


# --- rnnviz train ------------------------------------------------------------------------------


def command_train(args: argparse.Namespace) -> int:
    from rnnviz.session.storage import absolute_path

    check_window_option(args)
    out = absolute_path(args.out)
    check_output_folder(out)
    _check_architecture_options(args)
    with output_lock(out):  # before anything is built: a folder that cannot be written is refused now
        return _architecture_trainer(args.arch)(args, out)


def check_window_option(args: argparse.Namespace) -> None:
    """--window is needed by the window architectures and refused by the others."""
    if args.arch in WINDOW_ARCHITECTURES and args.window is None:
        raise UserError(f"--arch {args.arch} needs --window K, how many past inputs it sees (e.g. --window 3)")
    if args.arch not in WINDOW_ARCHITECTURES and args.window is not None:
        raise UserError(f"--window is for --arch {' or '.join(WINDOW_ARCHITECTURES)}; --arch {args.arch} has no "
                        "window: leave --window out")


def _check_architecture_options(args: argparse.Namespace) -> None:
    """Options that belong to another architecture are refused, not silently ignored."""
    if args.arch != "bow-mlp" and args.bow_hidden is not None:
        raise UserError("--bow-hidden is for the bag-of-words model: add --arch bow-mlp (with --task sentiment), "
                        "or leave --bow-hidden out")
    if args.arch != "seq2seq":
        for option, value in (("--attention", args.attention), ("--decoder-cell", args.decoder_cell)):
            if value is not None:
                raise UserError(f"{option} is for the encoder-decoder: add --arch seq2seq (and an encoder-decoder "
                                f"task such as reverse), or leave {option} out")


def _architecture_trainer(name: str) -> Callable[[argparse.Namespace, Path], int]:
    import importlib

    if name not in ARCHITECTURES:
        raise UserError(f"--arch {name} is not available in this version; use one of {', '.join(ARCHITECTURES)}")
    module, function = ARCHITECTURES[name][1].split(":")
    return getattr(importlib.import_module(module), function)


def prepare_kernels(stream: TextIO | None = None) -> str:
    """Wait for the compiled kernels (when numba is installed) before training, so that a run's
    numbers never depend on how fast they loaded; say so when that takes a while (the first run
    compiles them, later runs load them from the cache)."""
    from rnnviz.engine import kernels

    status = kernels.start(wait=True, timeout=1.0)
    if status == "preparing":
        print("preparing fast kernels… (compiled once, then cached)", file=stream or sys.stderr,
              flush=True)
        status = kernels.start(wait=True)
    return status


def _train_into(args: argparse.Namespace, out: Path) -> int:
    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.session.pytorch import load_pytorch_weights
    from rnnviz.session.session import Session

    config = session_config(args)
    session = Session(config)  # refuses settings that do not fit in memory
    session.check_memory(steps=args.steps)  # and a history too long for it
    if args.init_weights:
        loaded = load_pytorch_weights(session, Path(args.init_weights).expanduser())
        ignored = f" (ignored {', '.join(loaded.ignored)})" if loaded.ignored else ""
        print(f"loaded {len(loaded)} recurrent weight arrays from {args.init_weights}{ignored}")
    pin_blas_threads()
    prepare_kernels()
    print(f"training {config.cell} (hidden {config.hidden_size}, {plural(config.num_layers, 'layer')}"
          f"{', bidirectional' if config.bidirectional else ''}) on {config.task} for {plural(args.steps, 'step')}")
    run = train_with_progress(session, args.steps, sys.stderr)
    if math.isfinite(heldout := session.record_heldout()):
        print(f"held-out loss: {heldout:.6g}")
    last_loss = heldout if run.last_loss is None else run.last_loss
    with _ctrl_c_deferred("saving the run: Ctrl-C will stop rnnviz once the files are written") as pressed:
        write_outputs(session, out, _selection(args), include_session=True, plots=not args.no_plots)
        metrics = write_metrics(session, out, last_loss)
    if metrics.get("heldout_accuracy") is not None:
        print(f"held-out accuracy: {metrics['heldout_accuracy']:.4f} ({metrics['heldout_tokens']} tokens)")
    for key, label in (("heldout_sequence_accuracy", "held-out sequence accuracy (every scored token right)"),
                       ("order_sensitive_accuracy", "held-out accuracy on the order-sensitive sentences")):
        if metrics.get(key) is not None:
            print(f"{label}: {metrics[key]:.4f}")
    plots = "" if args.no_plots else f" and {out / PLOTS_DIR}/"
    print(f"wrote {out / 'session.json'}, {out / 'model.npz'}, {out / HISTORY_FILE}, {out / METRICS_FILE}{plots}")
    code = EXIT_OK
    if session.diverged:
        print(f"training diverged at step {session.step + 1} (the loss or the gradients became NaN or "
              f"infinite); kept the weights of step {session.step}. Try gradient clipping (--clip 1) "
              f"or a smaller learning rate (--lr {config.lr / 10:g})", file=sys.stderr)
        code = EXIT_DIVERGED
    elif run.interrupted:
        print(f"interrupted: stopped after step {session.step} of {args.steps} and wrote the network as it "
              "was then", file=sys.stderr)
        code = EXIT_INTERRUPTED
    elif pressed.is_set():
        print(f"interrupted while saving: all {session.step} steps were trained and every file was written "
              "first", file=sys.stderr)
        code = EXIT_INTERRUPTED
    print(f"final loss: {last_loss:.6g}")
    return code


def session_config(args: argparse.Namespace) -> SessionConfig:
    """The SessionConfig the train arguments describe; UserError/TaskError if they are bad."""
    params = task_params(args)
    try:
        return SessionConfig(
            task=args.task, task_params=params, cell=args.cell, hidden_size=args.hidden,
            num_layers=args.layers, bidirectional=args.bidirectional, init=args.init,
            init_scale=args.init_scale, carry_bias=args.carry_bias, dtype=args.dtype, optimizer=args.optimizer, lr=args.lr,
            batch_size=args.batch, clip_norm=args.clip, tbptt=args.tbptt, seed=args.seed, scan=args.scan,
        )
    except ConfigError as exc:
        message = str(exc)
        name = message.split(" ", 1)[0]
        option = CONFIG_OPTIONS.get(name, "--" + name.replace("_", "-"))
        raise UserError(f"{option}: {message}") from None


def task_params(args: argparse.Namespace) -> dict[str, Any]:
    """--param NAME=VALUE, --data and --seq-len as the task's validated parameter values."""
    from rnnviz.tasks import TASKS

    if args.task not in TASKS:
        raise UserError(f"there is no task {args.task!r}; choose one of: {', '.join(TASKS)}")
    task = TASKS[args.task]
    known = {p.name: p for p in task.params}
    raw: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--param needs NAME=VALUE, got {item!r}")
        if name not in known:
            raise UserError(f"task {task.name!r} has no parameter {name!r}; it takes "
                            f"{', '.join(known) or 'no parameters'} (see `rnnviz tasks {task.name}`)")
        raw[name] = value
    if args.data is not None:
        raw[_data_param(task, raw)] = args.data
    if args.seq_len is not None:
        raw[_length_param(task, raw)] = str(args.seq_len)
    for name, value in raw.items():
        if known[name].kind == "path" and value:  # the saved session must find it from anywhere
            raw[name] = _absolute_path(value, "--data" if args.data == value else f"--param {name}")
    return {name: known[name].validate(value) for name, value in raw.items()}


def _absolute_path(value: str, option: str) -> str:
    """The data file's absolute path (the saved session must find it from anywhere)."""
    try:
        return str(Path(value).expanduser().resolve())
    except (RuntimeError, OSError) as exc:  # RuntimeError: Python < 3.13's "Symlink loop"
        if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
            raise UserError(f"{option} {value}: the path is a loop of symbolic links; give the real file") from None
        raise UserError(f"{option} {value} cannot be used: {exc.strerror or exc}") from None


def _data_param(task: type, raw: dict[str, str]) -> str:
    paths = [p.name for p in task.params if p.kind == "path"]
    if not paths:
        with_data = [t.name for t in _tasks_with("path")]
        raise UserError(f"task {task.name!r} does not read a data file; --data works with {', '.join(with_data)}")
    if paths[0] in raw:
        raise UserError(f"give the data file once: either --data or --param {paths[0]}=..., not both")
    return paths[0]


def _length_param(task: type, raw: dict[str, str]) -> str:
    if not any(p.name == "seq_len" for p in task.params):
        length = {"copy": "2 x n_symbols + delay + 1: set --param delay=... or --param n_symbols=...",
                  "sentiment": "the longest sentence its grammar makes: set --param max_intensifiers=...",
                  "selective_copy": "region + n_tokens: set --param region=... or --param n_tokens=...",
                  "associative_recall": "2 x n_pairs + 1 + n_queries: set --param n_pairs=..."}
        why = length.get(task.name, "fixed by its other parameters (see `rnnviz tasks`)")
        raise UserError(f"task {task.name!r} has no sequence-length setting; its length is {why}")
    if "seq_len" in raw:
        raise UserError("give the sequence length once: either --seq-len or --param seq_len=..., not both")
    return "seq_len"


def _tasks_with(kind: str) -> list[type]:
    from rnnviz.tasks import TASKS

    return [t for t in TASKS.values() if any(p.kind == kind for p in t.params)]


@dataclass
class TrainingRun:
    last_loss: float | None = None  # the last finite training loss
    interrupted: bool = False  # Ctrl-C stopped it between two steps


class _Stop(Exception):
    """Raised from the step callback to end training after a Ctrl-C."""


def train_with_progress(session: Any, steps: int, stream: TextIO) -> TrainingRun:
    """Train up to ``steps`` steps, showing progress on ``stream``.

    The first Ctrl-C stops training after the step under way, so the weights stay those of a whole
    step and can be written out; a second one interrupts at once.
    """
    progress = Progress(steps, stream)
    run = TrainingRun()

    def on_step(outcome: Any) -> None:
        run.last_loss = outcome.loss
        progress.update(outcome.step, outcome.loss, outcome.grad_norm)
        if run.interrupted:
            raise _Stop

    start = session.step
    with _stop_on_ctrl_c(run):
        try:
            session.train(steps, on_step=on_step)
        except _Stop:
            pass
    progress.finish(session.step - start)
    return run


@contextlib.contextmanager
def _stop_on_ctrl_c(run: TrainingRun) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    def request_stop(signum: int, frame: Any) -> None:
        run.interrupted = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts at once

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Progress:
    """A progress line updated in place on a terminal; a few plain lines (every 25%) otherwise."""

    REDRAW_SECONDS = 0.1

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.started = self.last_drawn = time.perf_counter()
        self.next_report = 1  # quarter for the plain lines
        self.done = 0

    def update(self, step: int, loss: float, grad_norm: float) -> None:
        self.done += 1
        now = time.perf_counter()
        line = (f"step {self.done}/{self.total}  loss {loss:.4g}  grad norm {grad_norm:.3g}  "
                f"{self.done / max(now - self.started, 1e-9):.0f} steps/s")
        self._show(line, now)

    def _show(self, line: str, now: float) -> None:
        if self.interactive:
            if now - self.last_drawn >= self.REDRAW_SECONDS or self.done == self.total:
                self.stream.write("\r" + line.ljust(78))
                self.stream.flush()
                self.last_drawn = now
        elif self.done * 4 >= self.next_report * self.total:
            while self.done * 4 >= self.next_report * self.total:
                self.next_report += 1
            print(line, file=self.stream, flush=True)

    def finish(self, done: int) -> None:
        seconds = time.perf_counter() - self.started
        if self.interactive and self.done:
            self.stream.write("\n")
        print(f"{plural(done, 'step')} in {seconds:.1f} s", file=self.stream, flush=True)


# --- rnnviz export -----------------------------------------------------------------------------


def command_export(args: argparse.Namespace) -> int:
    from rnnviz.session.files import load_session

    if args.out is None and args.weights is None:
        raise UserError("export needs --out DIR (plots and history) or --weights FILE (weights for PyTorch), or both")
    from rnnviz.session.storage import absolute_path

    out = None if args.out is None else absolute_path(args.out)
    if out is not None:
        check_output_folder(out)
    with output_lock(out) if out is not None else contextlib.nullcontext():
        session = load_session(Path(args.session).expanduser())
        if args.weights is not None:
            from rnnviz.session.pytorch import save_pytorch_weights

            written = save_pytorch_weights(session, Path(args.weights).expanduser())
            module = cell_spec(session.config.cell).pytorch_module or "nn.RNN"
            print(f"wrote {written} ({session.model.core.describe()}; load it with "
                  f"torch.{module}(...).load_state_dict)")
        if out is not None:
            write_outputs(session, out, _selection(args), include_session=False)
            print(f"wrote {out / HISTORY_FILE} and {out / PLOTS_DIR}/ for the session at step {session.step}")
    return EXIT_OK


# --- output folders ----------------------------------------------------------------------------


def check_output_folder(folder: Path) -> None:
    """Refuse an output folder holding anything rnnviz did not write: saving a session replaces the
    whole folder, so a file of someone else's in it would be lost."""
    here = Path.cwd()
    if folder == here or folder in here.parents:
        raise UserError(f"--out {folder} is the folder you are working in (or holds it); saving replaces the "
                        "whole output folder, so give a new one, e.g. --out runs/first")
    try:
        if not folder.exists():
            return
        if not folder.is_dir():
            raise UserError(f"--out {folder} is a file; give a new folder or an rnnviz output folder")
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in OUTPUT_NAMES)
        plots = folder / PLOTS_DIR
        if plots.exists() and not plots.is_dir():
            foreign.append(PLOTS_DIR)
        elif plots.is_dir():
            foreign += sorted(f"{PLOTS_DIR}/{p.name}" for p in plots.iterdir()
                              if not (p.is_file() and p.suffix.lower() in PLOT_SUFFIXES))
    except OSError as exc:
        from rnnviz.session.storage import describe_os_error

        raise UserError(f"--out {folder} cannot be used: {describe_os_error(exc)}") from None
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise UserError(f"--out {folder} already holds files rnnviz did not write ({shown}); "
                        "give a new or empty folder, or a folder rnnviz wrote before")


@contextlib.contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold ``.DIR.lock`` next to the output folder while a command writes it, so two runs cannot mix
    their files; creating it also proves the folder's parent can be written to, before any work."""
    from rnnviz.session.storage import FolderLock, SessionFileError, describe_os_error

    lock = FolderLock(folder)
    try:
        lock.acquire()
    except SessionFileError as exc:
        raise UserError(f"--out {folder}: {exc}") from None
    except OSError as exc:
        raise UserError(f"--out {folder} cannot be written: {describe_os_error(exc)}") from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _ctrl_c_deferred(notice: str) -> Iterator[threading.Event]:
    """Ctrl-C while files are written only sets the returned event (and prints ``notice`` once):
    an interrupted save would lose the run."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def note(signum: int, frame: Any) -> None:
        if not pressed.is_set():
            print(notice, file=sys.stderr, flush=True)
        pressed.set()

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def write_outputs(session: Any, out: Path, selection: Any, include_session: bool, plots: bool = True) -> None:
    """session.json + model.npz (``include_session``), plots/ (``plots``) and history.csv into ``out``.

    The session goes first: saving swaps the whole folder in atomically, which would drop files
    written into it before. history.csv goes last, so it includes the held-out loss of the final
    weights that drawing the plots records. A failure after the session was saved says so.
    """
    import numpy as np

    from rnnviz.session.storage import describe_os_error

    saved = ""
    if include_session:
        from rnnviz.session.files import save_session

        save_session(session, out)
        saved = f"the session was saved to {out}, but "
    try:
        out.mkdir(parents=True, exist_ok=True)
        if plots:
            from rnnviz.ui.render import render_plots

            with np.errstate(all="ignore"):  # a diverged network's plots overflow; they show it
                render_plots(session, out / PLOTS_DIR, selection)
        (out / HISTORY_FILE).write_text(session.history.csv_text(), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{saved}writing the plots and {HISTORY_FILE} into {out} failed: "
                        f"{describe_os_error(exc)}") from None


def write_metrics(session: Any, out: Path, final_loss: float) -> dict[str, Any]:
    """DIR/metrics.json: the final training loss and the held-out loss and per-token accuracy
    (rnnviz.session.evaluation; accuracy null for regression tasks), with what produced them."""
    import json

    from rnnviz.session.evaluation import evaluate

    metrics = {"final_loss": final_loss if math.isfinite(final_loss) else None,
               **evaluate(session).to_dict(), "steps": session.step, "cell": session.config.cell,
               "task": session.config.task, "seed": session.config.seed}
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def _selection(args: argparse.Namespace) -> Any:
    from rnnviz.session.session import Selection

    return Selection(sample=args.sample, layer=args.layer, direction=args.direction)


# --- rnnviz check ------------------------------------------------------------------------------

EXIT_CHECK_FAILED = 1
CHECK_COLUMNS = ("parameter", "shape", "checked", "worst |BPTT − FD|", "allowed", "ratio", "result")


def _add_check_command(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check", help="check BPTT's gradients against finite differences, without a window",
        description="Build the network the train options describe (train it --steps N first, default 0), then "
                    "compare every parameter's BPTT gradient with central finite differences on the view batch, "
                    "in float64 and with full BPTT. Prints one row per parameter; exits 1 when one fails.",
    )
    _add_session_options(check)
    check.set_defaults(steps=0)
    check.add_argument("--entries", type=_whole(1, 100_000), default=40, metavar="N",
                       help="entries checked per parameter, a random subset of bigger ones (default 40)")


def command_check(args: argparse.Namespace) -> int:
    _check_architecture_options(args)
    if args.arch == "seq2seq":
        from rnnviz.cli_seq2seq import check_seq2seq

        return check_seq2seq(args)
    from rnnviz.engine.threads import pin_blas_threads
    from rnnviz.session.checks import gradient_check
    from rnnviz.session.pytorch import load_pytorch_weights
    from rnnviz.session.session import Session

    if args.arch in WINDOW_ARCHITECTURES:
        raise UserError(f"check compares a recurrent network's BPTT with finite differences; --arch {args.arch} "
                        "has no recurrence (its gradients are checked by rnnviz's tests)")
    check_window_option(args)
    config = session_config(args)
    session = Session(config)
    if args.init_weights:
        load_pytorch_weights(session, Path(args.init_weights).expanduser())
    pin_blas_threads()
    if args.steps:
        train_with_progress(session, args.steps, sys.stderr)
    print(f"gradient check of {config.cell} (hidden {config.hidden_size}, {plural(config.num_layers, 'layer')}"
          f"{', bidirectional' if config.bidirectional else ''}) on {config.task} at training step {session.step}, "
          f"float64, full BPTT{' (tbptt is ignored)' if config.tbptt else ''}")
    rows = gradient_check(session, max_entries=args.entries)
    print(check_table(rows))
    failed = [row.name for row in rows if not row.passed]
    passed = len(rows) - len(failed)
    verdict = "FAIL" if failed else "PASS"
    print(f"{verdict}: {passed} of {plural(len(rows), 'parameter')} pass (an entry passes when "
          f"|BPTT − FD| <= atol + rtol·|FD|; atol = {rows[0].atol:.1e}, rtol = {rows[0].rtol:g})")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def check_table(rows: Sequence[Any]) -> str:
    """The gradient check's rows (``CheckRow``) as a text table, one line per parameter."""
    cells = [CHECK_COLUMNS] + [
        (row.name, "×".join(str(n) for n in row.shape), str(row.checked), f"{row.error:.2e}", f"{row.allowed:.2e}",
         f"{row.ratio:.2g}", "PASS" if row.passed else "FAIL")
        for row in rows]
    widths = [max(len(line[k]) for line in cells) for k in range(len(CHECK_COLUMNS))]
    lines = ["  ".join(text.ljust(width) if k < 2 else text.rjust(width)
                       for k, (text, width) in enumerate(zip(line, widths))).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
