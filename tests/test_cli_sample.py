"""`rnnviz sample SESSION --seed-text TEXT --length N --temperature T [--seed S]`."""
from __future__ import annotations

from pathlib import Path

import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.generation import generate
from rnnviz.session.session import Session
from tests.test_cli import _rnnviz, assert_one_error_line, run


@pytest.fixture(scope="module")
def text_session(tmp_path_factory) -> Path:
    session = Session(SessionConfig(task="text", task_params={"seq_len": 16}, cell="gru", hidden_size=12,
                                    batch_size=4, seed=2))
    session.train(20)
    return save_session(session, tmp_path_factory.mktemp("sample") / "text")


@pytest.fixture(scope="module")
def adding_session(tmp_path_factory) -> Path:
    return save_session(Session(SessionConfig(task="adding", hidden_size=4)), tmp_path_factory.mktemp("sample") / "adding")


def test_sample_prints_the_generated_text(text_session, capsys):
    code, out, err = run(["sample", str(text_session), "--seed-text", "Twinkle ", "--length", "80",
                          "--temperature", "0.8", "--seed", "4"], capsys)
    assert code == 0, err
    assert out.endswith("\n")
    text = out[:-1]
    assert len(text) == 80  # the seed is not repeated
    session = Session(SessionConfig(task="text", task_params={"seq_len": 16}))  # the same corpus and vocabulary
    assert set(text) <= set(session.task.vocabulary.chars)
    again = run(["sample", str(text_session), "--seed-text", "Twinkle ", "--length", "80", "--temperature", "0.8",
                 "--seed", "4"], capsys)[1]
    other = run(["sample", str(text_session), "--seed-text", "Twinkle ", "--length", "80", "--temperature", "0.8",
                 "--seed", "5"], capsys)[1]
    assert again == out and other != out


def test_sample_defaults_and_greedy_temperature(text_session, capsys):
    code, out, _ = run(["sample", str(text_session), "--seed-text", "The", "--temperature", "0.0001"], capsys)
    assert code == 0 and len(out) == 200 + 1
    code, other_seed, _ = run(["sample", str(text_session), "--seed-text", "The", "--temperature", "0.0001",
                               "--seed", "9"], capsys)
    assert other_seed == out  # near 0 the most probable character every time: no chance left


@pytest.mark.parametrize(("argv", "fragments"), [
    (["--seed-text", "The ☃"], ["'☃'", "never saw"]),
    (["--seed-text", ""], ["seed text is empty"]),
    (["--seed-text", "The", "--temperature", "0"], ["--temperature", "above 0"]),
    (["--seed-text", "The", "--temperature", "nan"], ["--temperature"]),
    (["--seed-text", "The", "--temperature", "hot"], ["--temperature", "not a number"]),
    (["--seed-text", "The", "--length", "0"], ["--length"]),
    (["--seed-text", "The", "--length", "ten"], ["--length"]),
    ([], ["--seed-text"]),
])
def test_bad_arguments_exit_2_with_one_line(text_session, argv, fragments, capsys):
    code, out, err = run(["sample", str(text_session), *argv], capsys)
    assert_one_error_line(code, err, *fragments)
    assert out == ""


def test_a_session_of_another_task_is_refused(adding_session, tmp_path, capsys):
    code, out, err = run(["sample", str(adding_session), "--seed-text", "a"], capsys)
    assert_one_error_line(code, err, "text task")
    code, out, err = run(["sample", str(tmp_path / "missing"), "--seed-text", "a"], capsys)
    assert_one_error_line(code, err)


def test_process_prints_the_text_and_exits_0_or_2(text_session):
    done = _rnnviz("sample", str(text_session), "--seed-text", "Mary ", "--length", "30", "--seed", "1")
    assert done.returncode == 0, done.stderr
    session_text = generate(load_session(text_session),
                            "Mary ", 30, 1.0, seed=1).text
    assert done.stdout == session_text + "\n"
    done = _rnnviz("sample", str(text_session), "--seed-text", "Mary ", "--temperature", "-1")
    assert_one_error_line(done.returncode, done.stderr, "--temperature")
