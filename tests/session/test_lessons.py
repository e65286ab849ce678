"""Lesson files (rnnviz.session.lessons): what a good one turns into, and a message naming the file and
the line for every kind of mistake a teacher can make."""
from __future__ import annotations

import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.lessons import (MAX_BYTES, MAX_NARRATION, MAX_STEPS, LessonError, LessonNames, load_lesson,
                                    parse_lesson)

NAMES = LessonNames(panels=("loss", "hidden", "gradients"), pages=("demo",), controls=("play_controls",))

GOOD = """\
# a comment
title: Memory
summary: What the hidden state keeps.
order: 3

step: Set up
do: config task=adding cell=rnn_tanh hidden=16 seq_len=20
do: page step
do: move forward_end
highlight: hidden
say: First line
  continued here.
say:
say: Second paragraph.
ask: Where is the memory?
choice: Hidden state
choice: Weights
answer: 1
reveal: In the hidden state.

step: Train
do: set tbptt=10 clip_norm=0
do: train 20
do: select direction=0 sample=2
highlight: play_controls
say: Press Play.
check: step >= 200
hint: Press Play and wait
"""


def test_a_good_lesson_becomes_steps_with_actions_questions_and_checks():
    lesson = parse_lesson(GOOD, NAMES, "good.lesson", "good")
    assert (lesson.name, lesson.title, lesson.summary, lesson.order) == ("good", "Memory", "What the hidden state keeps.", 3)
    first, second = lesson.steps
    assert first.heading == "Set up" and first.highlight == "hidden"
    assert first.say == "First line continued here.\n\nSecond paragraph."
    config = first.actions[0].value
    assert config == SessionConfig(task="adding", cell="rnn_tanh", hidden_size=16, task_params={"seq_len": 20})
    assert [(a.kind, a.value, a.line) for a in first.actions[1:]] == [("page", "step", 8), ("move", ("forward_end", 1), 9)]
    assert first.question.choices == ("Hidden state", "Weights") and first.question.answer == 0
    assert first.check is None
    assert [(a.kind, a.value) for a in second.actions] == [
        ("set", {"tbptt": 10, "clip_norm": 0.0}), ("train", 20), ("select", {"direction": 0, "sample": 2})]
    assert second.question is None and second.hint == "Press Play and wait"
    assert second.check.passes({"step": 200}) and not second.check.passes({"step": 199})
    assert not second.check.passes({})  # nothing known yet: not passed


@pytest.mark.parametrize("text, passing, failing", [
    ("timestep == 0", {"timestep": 0}, {"timestep": 1}),
    ("cell == lstm", {"cell": "lstm"}, {"cell": "gru"}),
    ("page != step", {"page": "training"}, {"page": "step"}),
    ("running == true", {"running": True}, {"running": False}),
    ("clip_norm < 0.5", {"clip_norm": 0.0}, {"clip_norm": 1.0}),
    ("page == demo", {"page": "demo"}, {"page": "scan"}),
])
def test_checks_compare_the_state_they_name(text, passing, failing):
    step = parse_lesson(f"title: t\nsummary: s\nstep: a\nsay: b\ncheck: {text}\n", NAMES).steps[0]
    assert step.check.passes(passing) and not step.check.passes(failing)


HEADER = "title: T\nsummary: S\n"
STEP = "step: A\nsay: words\n"
MISTAKES = {  # text -> (line, fragment of the message)
    "unknown action": (HEADER + STEP + "do: explode now\n", 5, "unknown action 'explode'"),
    "unknown panel": (HEADER + STEP + "highlight: weightz\n", 5, "no panel, control or page 'weightz'"),
    "unknown page": (HEADER + STEP + "do: page nowhere\n", 5, "page name"),
    "unknown preset": (HEADER + STEP + "do: preset vanishin\n", 5, "preset name"),
    "unknown cell": (HEADER + STEP + "do: config cell=lstn\n", 5, "cell must be one of"),
    "unknown task": (HEADER + STEP + "do: config task=addng\n", 5, "no task 'addng'"),
    "unknown task parameter": (HEADER + STEP + "do: config task=adding delay=3\n", 5, "parameter of the task 'adding'"),
    "task parameter out of range": (HEADER + STEP + "do: config task=adding seq_len=0\n", 5, "seq_len must be at least"),
    "file in a lesson": (HEADER + STEP + "do: config task=text path=/etc/passwd\n", 5, "cannot name a file"),
    "bad number": (HEADER + STEP + "do: config hidden=lots\n", 5, "hidden_size needs a whole number"),
    "out of range": (HEADER + STEP + "do: config hidden=5000\n", 5, "hidden_size must be between"),
    "not NAME=VALUE": (HEADER + STEP + "do: config hidden 8\n", 5, "NAME=VALUE"),
    "set a task parameter": (HEADER + STEP + "do: set seq_len=30\n", 5, "use 'config'"),
    "train without a number": (HEADER + STEP + "do: train\n", 5, "one whole number"),
    "train too long": (HEADER + STEP + "do: train 100000000\n", 5, "from 1 to"),
    "play with arguments": (HEADER + STEP + "do: play fast\n", 5, "takes nothing"),
    "bad move": (HEADER + STEP + "do: move sideways\n", 5, "'move' takes one of"),
    "missing narration": (HEADER + "step: Silent\nhighlight: loss\n", 3, "no narration"),
    "no steps": (HEADER, None, "no steps"),
    "no title": ("summary: S\n" + STEP, 1, "no title"),
    "unknown key": (HEADER + STEP + "colour: red\n", 5, "unknown key 'colour'"),
    "not key: value": (HEADER + STEP + "just words\n", 5, "expected 'key: value'"),
    "header after steps": (HEADER + STEP + "order: 2\n", 5, "belongs in the header"),
    "key before any step": (HEADER + "say: hello\n", 3, "belongs to a step"),
    "two highlights": (HEADER + STEP + "highlight: loss\nhighlight: hidden\n", 6, "one 'highlight:'"),
    "choice without ask": (HEADER + STEP + "choice: yes\n", 5, "belong to a question"),
    "one choice": (HEADER + STEP + "ask: Q?\nchoice: only\nreveal: r\n", 5, "2 to 4"),
    "five choices": (HEADER + STEP + "ask: Q?\n" + "choice: c\n" * 5 + "reveal: r\n", 5, "2 to 4"),
    "no reveal": (HEADER + STEP + "ask: Q?\nchoice: a\nchoice: b\n", 5, "reveal"),
    "answer out of range": (HEADER + STEP + "ask: Q?\nchoice: a\nchoice: b\nanswer: 3\nreveal: r\n", 8, "1 to 2"),
    "check on nothing": (HEADER + STEP + "check: mood == happy\n", 5, "cannot look at 'mood'"),
    "check not a comparison": (HEADER + STEP + "check: step is big\n", 5, "QUANTITY OP VALUE"),
    "ordered names": (HEADER + STEP + "check: cell >= lstm\n", 5, "only be compared with == or !="),
    "check an unknown page": (HEADER + STEP + "check: page == nowhere\n", 5, "page is one of"),
    "hint without check": (HEADER + STEP + "hint: press it\n", 5, "has no 'check:'"),
    "indented line after do": (HEADER + STEP + "do: play\n  more\n", 6, "indented line"),
    "control character": (HEADER + STEP + "say: bell \x07\n", 5, "control character"),
    "very long line": (HEADER + STEP + "say: " + "x" * 1200 + "\n", 5, "characters long"),
    "long narration": (HEADER + "step: A\n" + ("say: " + "word " * 150 + "\n") * 2, 3, f"under {MAX_NARRATION}"),
    "too many steps": (HEADER + STEP * (MAX_STEPS + 1), 3 + 2 * MAX_STEPS, f"at most {MAX_STEPS} steps"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_every_mistake_names_the_file_and_line(case):
    text, line, fragment = MISTAKES[case]
    with pytest.raises(LessonError) as info:
        parse_lesson(text, NAMES, "mine.lesson")
    message = str(info.value)
    where = f"mine.lesson, line {line}:" if line else "mine.lesson:"
    assert message.startswith(where), message
    assert info.value.line == line
    assert fragment in message, message


def test_a_file_too_large_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.lesson"
    path.write_text(HEADER + STEP + "# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(LessonError, match=r"huge\.lesson: the file is larger than 64 KiB"):
        load_lesson(path, NAMES)


def test_binary_junk_names_the_line_of_the_first_bad_byte(tmp_path):
    path = tmp_path / "junk.lesson"
    path.write_bytes((HEADER + STEP).encode() + b"say: caf\xe9\n")
    with pytest.raises(LessonError, match=r"junk\.lesson, line 5: this is not UTF-8 text"):
        load_lesson(path, NAMES)
    path.write_bytes(b"PK\x03\x04\x00\x00 zip-like bytes")  # valid UTF-8, still not text
    with pytest.raises(LessonError, match=r"junk\.lesson, line 1: .*control character"):
        load_lesson(path, NAMES)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(LessonError, match=r"nothing\.lesson: cannot read it"):
        load_lesson(tmp_path / "nothing.lesson", NAMES)


def test_a_utf8_file_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "bom.lesson"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + STEP).encode())
    assert load_lesson(path, NAMES).title == "T"


def test_the_example_in_the_teachers_guide_parses():
    """docs/LESSONS.md's example is what a teacher copies first: it must be a valid lesson."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "LESSONS.md").read_text(encoding="utf-8")
    example = guide.split("## An example", 1)[1].split("```", 2)[1]
    names = LessonNames(panels=("gates", "loss", "bptt"))
    lesson = parse_lesson(example, names, "LESSONS.md")
    assert [step.heading for step in lesson.steps] == ["Open the preset", "Train it", "Look back"]
    assert lesson.steps[0].question.answer == 0 and lesson.steps[1].check.text == "step >= 300"
