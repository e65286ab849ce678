"""Guided lessons: text files a teacher writes (``*.lesson``, docs/LESSONS.md), parsed and checked here.

    lesson = load_lesson("resources/lessons/01_memory.lesson", names)   # LessonError names file and line
    lesson.steps[0].say, lesson.steps[0].actions, lesson.steps[0].check

A lesson is a header (title, summary, order) and steps. A step narrates (``say``), may set the app up
first (``do``: a fixed vocabulary of actions, never evaluated code), may ask the learner to predict
before it reveals (``ask``/``choice``/``answer``/``reveal``), names the panel it talks about
(``highlight``) and may check that the learner did what it asked (``check``: ``step >= 200``).

Every mistake raises ``LessonError`` with the file and the line: an unknown key, action, panel, page,
preset, cell or task, a bad value, a step without narration, a file too long or not text. The names the
window knows (panels, pages, controls) are given by the caller (``LessonNames``): this module is Qt-free.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from rnnviz.bundled import PACKAGE
from rnnviz.engine.cells import cell_names
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.presets import PRESETS
from rnnviz.tasks import TASKS, TaskError

SUFFIX = ".lesson"
MAX_BYTES = 64 * 1024  # a lesson is a few kilobytes; a bigger file is not a lesson
MAX_LINE = 1000  # characters in one line
MAX_STEPS = 40
MAX_NARRATION = 1200  # characters of narration in one step: steps stay short
MAX_TRAIN_STEPS = 100_000
BUILT_IN_PAGES = ("training", "step", "scan")
MOVES = {"start": "to_start", "next": "step_next", "back": "step_previous",
         "forward_end": "to_forward_end", "backward_end": "to_backward_end"}

HEADER_KEYS = ("title", "summary", "order")
STEP_KEYS = ("step", "say", "do", "highlight", "ask", "choice", "answer", "reveal", "check", "hint")
# short names a lesson may use for SessionConfig fields (the field names work too)
CONFIG_ALIASES = {"hidden": "hidden_size", "layers": "num_layers", "batch": "batch_size"}
CONFIG_FIELDS = {f.name for f in fields(SessionConfig)} - {"task_params"}
_FIELD_TYPES = {f.name: str(f.type) for f in fields(SessionConfig)}  # "int", "float", "bool", "str"
_INTS = frozenset(name for name, kind in _FIELD_TYPES.items() if kind == "int")
_FLOATS = frozenset(name for name, kind in _FIELD_TYPES.items() if kind == "float")
_BOOLS = frozenset(name for name, kind in _FIELD_TYPES.items() if kind == "bool")


class LessonError(ValueError):
    """A mistake in a lesson file: the message starts with the file and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.reason = source, line, message


@dataclass(frozen=True)
class LessonNames:
    """What a lesson may name besides presets, cells and tasks: the window's panels, extra pages and
    controls (``highlight`` targets)."""

    panels: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()  # extra pages (rnnviz.ui.pages); training, step and scan always exist
    controls: tuple[str, ...] = ()

    @property
    def all_pages(self) -> tuple[str, ...]:
        return (*BUILT_IN_PAGES, *self.pages)

    @property
    def highlights(self) -> tuple[str, ...]:
        """Panels, controls, and whole pages (for a page whose parts have no names of their own)."""
        return (*self.panels, *self.controls, *(p for p in self.all_pages if p not in self.panels))


@dataclass(frozen=True)
class Action:
    """One ``do:`` line: ``kind`` is a word of ACTIONS, ``value`` its checked argument."""

    kind: str
    value: Any = None
    line: int = 0


@dataclass(frozen=True)
class Check:
    """``QUANTITY OP VALUE``: does the app's state (a mapping of CHECK_QUANTITIES) pass?"""

    quantity: str
    op: str
    value: Any
    text: str
    line: int = 0

    def passes(self, state: Mapping[str, Any]) -> bool:
        current = state.get(self.quantity)
        if current is None:
            return False
        return bool(_OPERATORS[self.op](current, self.value))


@dataclass(frozen=True)
class Question:
    ask: str
    choices: tuple[str, ...]
    reveal: str
    answer: int | None = None  # index into choices of the right one (None: a prediction without one)


@dataclass(frozen=True)
class LessonStep:
    heading: str
    say: str  # paragraphs separated by blank lines
    actions: tuple[Action, ...] = ()
    highlight: str | None = None
    question: Question | None = None
    check: Check | None = None
    hint: str = ""  # what to do to pass the check
    line: int = 0


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem: how --lesson and the menu refer to it
    title: str
    summary: str
    order: int
    steps: tuple[LessonStep, ...]
    source: str = ""  # the file it came from


# --- checks ----------------------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
# quantity -> kind: "int", "float", "bool", or a function giving the allowed words for names
CHECK_QUANTITIES: dict[str, str] = {
    "step": "int",  # training steps of the live session
    "timestep": "int",  # the shared cursor
    "direction": "int", "layer": "int", "sample": "int",  # what the panels show (the view bar)
    "forward_done": "int",  # step-through: forward timesteps taken
    "backward_done": "int",  # step-through: backward (BPTT) timesteps taken
    "clip_count": "int",  # training steps whose gradient was clipped
    "hidden": "int", "layers": "int", "tbptt": "int",
    "clip_norm": "float", "lr": "float",
    "running": "bool", "bidirectional": "bool", "answered": "bool",
    "cell": "cell", "task": "task", "page": "page",
}
_CHECK = re.compile(r"^\s*([a-z_]+)\s*(==|!=|>=|<=|>|<)\s*(\S+)\s*$")


def _parse_check(text: str, line: int, names: LessonNames, fail: Callable[[int, str], LessonError]) -> Check:
    match = _CHECK.match(text)
    if match is None:
        raise fail(line, f"a check is QUANTITY OP VALUE, e.g. 'step >= 200'; got {text!r}")
    quantity, op, raw = match.groups()
    if quantity not in CHECK_QUANTITIES:
        raise fail(line, f"checks cannot look at {quantity!r}; they look at {', '.join(CHECK_QUANTITIES)}")
    kind = CHECK_QUANTITIES[quantity]
    if kind in ("int", "float"):
        value = _number(raw, kind == "int", quantity, line, fail)
    else:
        if op not in ("==", "!="):
            raise fail(line, f"{quantity} can only be compared with == or !=, not {op}")
        allowed = {"bool": ("true", "false"), "cell": cell_names(), "task": tuple(TASKS),
                   "page": names.all_pages, "preset": tuple(PRESETS)}[kind]
        if raw not in allowed:
            raise fail(line, f"{quantity} is one of {', '.join(allowed)}; got {raw!r}")
        value = raw == "true" if kind == "bool" else raw
    return Check(quantity, op, value, " ".join(text.split()), line)


def _number(raw: str, integer: bool, what: str, line: int, fail: Callable[[int, str], LessonError]) -> float:
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise fail(line, f"{what} needs {'a whole number' if integer else 'a number'}, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise fail(line, f"{what} needs a finite number, got {raw!r}")
    return value


# --- actions ---------------------------------------------------------------------------------------

ACTIONS = ("config", "set", "preset", "page", "train", "play", "pause", "timestep", "select", "move")


def _parse_action(text: str, line: int, names: LessonNames, fail: Callable[[int, str], LessonError]) -> Action:
    words = text.split()
    if not words:
        raise fail(line, f"'do:' needs an action: one of {', '.join(ACTIONS)}")
    kind, args = words[0], words[1:]
    if kind not in ACTIONS:
        raise fail(line, f"unknown action {kind!r}; actions are {', '.join(ACTIONS)}")

    def one(allowed: Iterable[str], what: str) -> str:
        allowed = tuple(allowed)
        if len(args) != 1 or args[0] not in allowed:
            raise fail(line, f"'{kind}' takes one {what}: {', '.join(allowed)}; got {' '.join(args) or 'nothing'}")
        return args[0]

    if kind == "config":
        return Action(kind, _config(args, line, fail), line)
    if kind == "set":
        return Action(kind, _settings(args, line, fail), line)
    if kind == "preset":
        return Action(kind, one(PRESETS, "preset name"), line)
    if kind == "page":
        return Action(kind, one(names.all_pages, "page name"), line)
    if kind in ("play", "pause"):
        if args:
            raise fail(line, f"'{kind}' takes nothing after it; got {' '.join(args)}")
        return Action(kind, None, line)
    if kind in ("train", "timestep"):
        if len(args) != 1:
            raise fail(line, f"'{kind}' takes one whole number, e.g. '{kind} 20'")
        value = int(_number(args[0], True, kind, line, fail))
        low, high = (1, MAX_TRAIN_STEPS) if kind == "train" else (0, 100_000)
        if not low <= value <= high:
            raise fail(line, f"'{kind}' needs a number from {low} to {high:,}; got {value}")
        return Action(kind, value, line)
    if kind == "select":
        pairs = _pairs(args, line, fail)
        unknown = sorted(set(pairs) - {"sample", "layer", "direction"})
        if unknown or not pairs:
            raise fail(line, "'select' takes sample=N, layer=N and/or direction=N (0 forward, 1 reverse)")
        return Action(kind, {k: int(_number(v, True, k, line, fail)) for k, v in pairs.items()}, line)
    # move
    if len(args) not in (1, 2) or args[0] not in MOVES:
        raise fail(line, f"'move' takes one of {', '.join(MOVES)} and an optional count, e.g. 'move next 5'")
    count = int(_number(args[1], True, "the count", line, fail)) if len(args) == 2 else 1
    if not 1 <= count <= 10_000:
        raise fail(line, f"'move' repeats 1 to 10,000 times; got {count}")
    return Action(kind, (args[0], count), line)


def _pairs(args: list[str], line: int, fail: Callable[[int, str], LessonError]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key or not value:
            raise fail(line, f"settings are written NAME=VALUE without spaces, e.g. cell=lstm; got {arg!r}")
        if key in pairs:
            raise fail(line, f"{key} is given twice")
        pairs[key] = value
    return pairs


def _config_value(name: str, raw: str, line: int, fail: Callable[[int, str], LessonError]) -> Any:
    if name in _BOOLS:
        if raw not in ("true", "false"):
            raise fail(line, f"{name} is true or false; got {raw!r}")
        return raw == "true"
    if name in _INTS or name in _FLOATS:
        return _number(raw, name in _INTS, name, line, fail)
    return raw


def _config_changes(args: list[str], line: int, fail: Callable[[int, str], LessonError],
                    task_params: bool) -> tuple[dict[str, Any], dict[str, str]]:
    changes: dict[str, Any] = {}
    params: dict[str, str] = {}
    for key, raw in _pairs(args, line, fail).items():
        name = CONFIG_ALIASES.get(key, key)
        if name in CONFIG_FIELDS:
            changes[name] = _config_value(name, raw, line, fail)
        elif task_params:
            params[key] = raw
        else:
            known = sorted({*CONFIG_FIELDS, *CONFIG_ALIASES} - {"task", "cell"})
            raise fail(line, f"'set' changes the current network's settings ({', '.join(known)}); "
                             f"{key!r} is not one (use 'config' for a new task or cell)")
    return changes, params


def _config(args: list[str], line: int, fail: Callable[[int, str], LessonError]) -> SessionConfig:
    """``config task=adding cell=rnn_tanh hidden=32 seq_len=50``: a new network, from the defaults plus
    these settings; names that are not SessionConfig fields are the task's parameters."""
    changes, raw_params = _config_changes(args, line, fail, task_params=True)
    task = TASKS.get(changes.get("task", SessionConfig().task))
    if task is None:
        raise fail(line, f"there is no task {changes['task']!r}; choose one of: {', '.join(TASKS)}")
    known = {p.name: p for p in task.params}
    params: dict[str, Any] = {}
    for key, raw in raw_params.items():
        if key not in known:
            settings = ", ".join(sorted({*CONFIG_FIELDS, *CONFIG_ALIASES}))
            raise fail(line, f"{key!r} is neither a setting ({settings}) nor a parameter of the task "
                             f"{task.name!r} ({', '.join(known) or 'none'})")
        if known[key].kind == "path":
            raise fail(line, f"a lesson cannot name a file ({key}); it uses the task's bundled data")
        try:
            params[key] = known[key].validate(raw)
        except TaskError as exc:
            raise fail(line, str(exc)) from None
    try:
        return SessionConfig(**changes, task_params=params)
    except (ConfigError, TypeError) as exc:
        raise fail(line, str(exc)) from None


def _settings(args: list[str], line: int, fail: Callable[[int, str], LessonError]) -> dict[str, Any]:
    """``set tbptt=10 clip_norm=0``: changes to the current settings (checked against the defaults)."""
    changes, _ = _config_changes(args, line, fail, task_params=False)
    if not changes:
        raise fail(line, "'set' needs at least one NAME=VALUE, e.g. 'set tbptt=10'")
    try:
        SessionConfig().replace(**changes)
    except ConfigError as exc:
        raise fail(line, str(exc)) from None
    return changes


# --- the file ----------------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^([a-z]+)\s*:(.*)$")


class _Parser:
    def __init__(self, source: str, names: LessonNames) -> None:
        self.source = source
        self.names = names
        self.header: dict[str, tuple[str, int]] = {}
        self.steps: list[dict[str, Any]] = []

    def fail(self, line: int | None, message: str) -> LessonError:
        return LessonError(self.source, line, message)

    def parse(self, text: str, name: str) -> Lesson:
        for number, key, value in self._entries(text):
            self._take(number, key, value)
        for key in ("title", "summary"):
            if key not in self.header:
                raise self.fail(1, f"the lesson has no {key}: start the file with '{key}: ...'")
        if not self.steps:
            raise self.fail(None, "the lesson has no steps: add 'step: A heading' followed by 'say: ...'")
        order_text, order_line = self.header.get("order", ("100", 0))
        order = int(_number(order_text, True, "order", order_line, self.fail))
        steps = tuple(self._finish(step) for step in self.steps)
        return Lesson(name, self.header["title"][0], self.header["summary"][0], order, steps, self.source)

    def _entries(self, text: str) -> Iterable[tuple[int, str, str]]:
        """(line, key, value) per entry; an indented line continues the value above it."""
        pending: list[Any] | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            if len(raw) > MAX_LINE:
                raise self.fail(number, f"the line is {len(raw):,} characters long; keep lines under {MAX_LINE}")
            bad = next((c for c in raw if (ord(c) < 32 and c != "\t") or ord(c) == 127), None)
            if bad is not None:
                raise self.fail(number, f"the line holds the control character {bad!r}: a lesson is plain "
                                        "text (is this a binary file?)")
            stripped = raw.strip()
            if stripped.startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and stripped:
                if pending is None or pending[1] in ("step", "do", "check", "answer", "highlight", "order"):
                    raise self.fail(number, "an indented line continues the text above it (say, ask, choice, "
                                            "reveal, hint, title, summary); there is none to continue here")
                pending[2] = f"{pending[2]} {stripped}".strip()
                continue
            if pending is not None:
                yield tuple(pending)
                pending = None
            if not stripped:
                continue
            match = _KEY_LINE.match(stripped)
            if match is None:
                raise self.fail(number, f"expected 'key: value' (keys: {', '.join(HEADER_KEYS + STEP_KEYS)}); "
                                        f"got {stripped[:60]!r}")
            pending = [number, match.group(1), match.group(2).strip()]
        if pending is not None:
            yield tuple(pending)

    def _take(self, number: int, key: str, value: str) -> None:
        if key in HEADER_KEYS:
            if self.steps:
                raise self.fail(number, f"'{key}:' belongs in the header, before the first 'step:'")
            if key in self.header:
                raise self.fail(number, f"'{key}:' is given twice (first on line {self.header[key][1]})")
            if not value:
                raise self.fail(number, f"'{key}:' needs a value")
            self.header[key] = (value, number)
            return
        if key not in STEP_KEYS:
            raise self.fail(number, f"unknown key {key!r}; a lesson uses {', '.join(HEADER_KEYS + STEP_KEYS)}")
        if key == "step":
            if len(self.steps) == MAX_STEPS:
                raise self.fail(number, f"a lesson has at most {MAX_STEPS} steps; split it into two lessons")
            if not value:
                raise self.fail(number, "'step:' needs a short heading, e.g. 'step: Press Play'")
            self.steps.append({"heading": value, "line": number, "say": [], "do": [], "choice": []})
            return
        if not self.steps:
            raise self.fail(number, f"'{key}:' belongs to a step: write 'step: A heading' above it")
        step = self.steps[-1]
        if key == "say":
            step["say"].append(value)
        elif key == "do":
            step["do"].append(_parse_action(value, number, self.names, self.fail))
        elif key == "choice":
            if not value:
                raise self.fail(number, "'choice:' needs the text of the choice")
            step["choice"].append((value, number))
        else:
            if key in step:
                raise self.fail(number, f"a step has one '{key}:' (this step has one on line {step[key][1]})")
            if not value:
                raise self.fail(number, f"'{key}:' needs a value")
            step[key] = (value, number)

    def _finish(self, step: dict[str, Any]) -> LessonStep:
        line = step["line"]
        paragraphs, current = [], []
        for text in step["say"]:
            if text:
                current.append(text)
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        say = "\n\n".join(paragraphs)
        if not say:
            raise self.fail(line, f"step {step['heading']!r} has no narration: add 'say: ...' lines")
        if len(say) > MAX_NARRATION:
            raise self.fail(line, f"step {step['heading']!r} says {len(say):,} characters; keep a step under "
                                  f"{MAX_NARRATION} (split it into two steps)")
        highlight = None
        if "highlight" in step:
            highlight, where = step["highlight"]
            if highlight not in self.names.highlights:
                raise self.fail(where, f"there is no panel, control or page {highlight!r} to highlight; "
                                       f"choose one of: {', '.join(self.names.highlights)}")
        check = None
        if "check" in step:
            check = _parse_check(*step["check"], self.names, self.fail)
        hint = step.get("hint", ("", 0))[0]
        if hint and check is None:
            raise self.fail(step["hint"][1], "'hint:' says how to pass the step's check; this step has no 'check:'")
        return LessonStep(step["heading"], say, tuple(step["do"]), highlight, self._question(step), check, hint,
                          line)

    def _question(self, step: dict[str, Any]) -> Question | None:
        choices = step["choice"]
        parts = [key for key in ("ask", "reveal", "answer") if key in step]
        if "ask" not in step:
            if choices or parts:
                where = choices[0][1] if choices else step[parts[0]][1]
                raise self.fail(where, "choices, 'answer:' and 'reveal:' belong to a question: add 'ask: ...'")
            return None
        ask, ask_line = step["ask"]
        if not 2 <= len(choices) <= 4:
            raise self.fail(ask_line, f"a question has 2 to 4 'choice:' lines; this one has {len(choices)}")
        if "reveal" not in step:
            raise self.fail(ask_line, "a question needs 'reveal: ...': what the learner sees after choosing")
        answer = None
        if "answer" in step:
            text, where = step["answer"]
            answer = int(_number(text, True, "answer", where, self.fail))
            if not 1 <= answer <= len(choices):
                raise self.fail(where, f"'answer:' is the number of the right choice, 1 to {len(choices)}; got {answer}")
            answer -= 1
        return Question(ask, tuple(text for text, _ in choices), step["reveal"][0], answer)


def parse_lesson(text: str, names: LessonNames, source: str = "<lesson>", name: str = "lesson") -> Lesson:
    """The lesson in ``text`` (LessonError with ``source`` and the line for every mistake)."""
    return _Parser(source, names).parse(text, name)


def load_lesson(path: str | Path, names: LessonNames) -> Lesson:
    """Read and parse a lesson file (at most MAX_BYTES of UTF-8 text)."""
    path = Path(path).expanduser()
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LessonError(source, None, f"cannot read it: {exc.strerror or exc}") from None
    return _parse_bytes(data, source, path.stem, names)


def _parse_bytes(data: bytes, source: str, name: str, names: LessonNames) -> Lesson:
    if len(data) > MAX_BYTES:
        raise LessonError(source, None, f"the file is larger than {MAX_BYTES // 1024} KiB: a lesson is a short "
                                        "text file (is this the right file?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LessonError(source, line, "this is not UTF-8 text (is it a binary file? save lessons as UTF-8)") from None
    return parse_lesson(text, names, source, name)


# --- the bundled lessons ---------------------------------------------------------------------------


def _lesson_folder():
    from importlib import resources

    return resources.files(PACKAGE).joinpath("lessons")


def bundled_lesson_names() -> list[str]:
    """The names of the lessons rnnviz ships (file stems), in file-name order."""
    folder = _lesson_folder()
    return sorted(entry.name[: -len(SUFFIX)] for entry in folder.iterdir()
                  if entry.name.endswith(SUFFIX) and entry.is_file())


def bundled_lessons(names: LessonNames) -> list[Lesson]:
    """Every bundled lesson, parsed, in teaching order."""
    lessons = [load_bundled(name, names) for name in bundled_lesson_names()]
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.name))


def load_bundled(name: str, names: LessonNames) -> Lesson:
    entry = _lesson_folder().joinpath(name + SUFFIX)
    if not entry.is_file():
        raise LessonError(name, None, f"there is no lesson {name!r}; lessons: {', '.join(bundled_lesson_names())}")
    return _parse_bytes(entry.read_bytes(), f"resources/lessons/{name}{SUFFIX}", name, names)


def find_lesson(name_or_path: str, names: LessonNames) -> Lesson:
    """A bundled lesson by name (``memory``), or a lesson file by path (``my.lesson``)."""
    if name_or_path.endswith(SUFFIX) or "/" in name_or_path or "\\" in name_or_path:
        return load_lesson(name_or_path, names)
    return load_bundled(name_or_path, names)


__all__ = ["ACTIONS", "CHECK_QUANTITIES", "Action", "Check", "Lesson", "LessonError", "LessonNames", "LessonStep",
           "Question", "SUFFIX", "bundled_lesson_names", "bundled_lessons", "find_lesson", "load_lesson",
           "parse_lesson"]
