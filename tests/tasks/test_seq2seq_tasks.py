"""The encoder–decoder tasks (reverse, sort_digits, number_words): the Seq2SeqBatch contract, what each
target is, and the plain RNN's refusal."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.tasks import TASKS, TaskError, make_task
from rnnviz.tasks.base import Seq2SeqBatch
from rnnviz.tasks.number_words import WORDS, most_words, number_to_words
from rnnviz.tasks.seq2seq import BOS_LABEL, EOS_LABEL, Seq2SeqTask

SEQ2SEQ = [name for name, task in TASKS.items() if task.io == "seq2seq"]
CONFIGS = [(name, {}) for name in SEQ2SEQ] + [
    ("reverse", {"lengths": "fixed", "seq_len": 5, "alphabet": 3}),
    ("sort_digits", {"lengths": "fixed", "seq_len": 12}),
    ("number_words", {"direction": "digits_to_words", "max_value": 123_456}),
    ("number_words", {"max_value": 9}),
]


@pytest.fixture(params=CONFIGS, ids=[f"{n}-{p}" for n, p in CONFIGS])
def task(request) -> Seq2SeqTask:
    name, params = request.param
    return make_task(name, **params)


def test_the_three_tasks_are_registered():
    assert SEQ2SEQ == ["reverse", "sort_digits", "number_words"]


def test_batch_contract(task: Seq2SeqTask):
    batch = task.batch(64, np.random.default_rng(0))
    assert isinstance(batch, Seq2SeqBatch)
    classes = task.output_size
    assert batch.source.shape == (task.source_len, 64, task.input_size)
    assert batch.targets.shape == batch.target_mask.shape == (task.target_len, 64)
    assert batch.decoder_inputs.shape == (task.target_len, 64, classes + 1)
    assert batch.targets.dtype == np.int64 and batch.source.dtype == np.float64
    for mask in (batch.source_mask, batch.target_mask):
        assert set(np.unique(mask)) <= {0.0, 1.0}
        assert np.all(mask[0] == 1) and np.all(np.diff(mask, axis=0) <= 0), "real steps first, padding at the end"
    np.testing.assert_array_equal(batch.source.sum(axis=-1), batch.source_mask)  # one-hot, zero at padding
    np.testing.assert_array_equal(batch.decoder_inputs.sum(axis=-1), batch.target_mask)
    # the end token sits at each target's last real step, and nowhere else
    last = batch.target_mask.sum(axis=0).astype(int) - 1
    assert np.all(batch.targets[last, np.arange(64)] == task.end_token)
    assert np.count_nonzero((batch.targets == task.end_token) & (batch.target_mask == 1)) == 64
    assert task.info().output_names[task.end_token] == EOS_LABEL
    # teacher forcing: BOS, then the targets one step late
    read = np.argmax(batch.decoder_inputs, axis=-1)
    assert np.all(read[0] == classes) and task.info().extra["decoder_input_names"][classes] == BOS_LABEL
    real = batch.target_mask[1:] == 1
    np.testing.assert_array_equal(read[1:][real], batch.targets[:-1][real])


def test_same_seed_same_batch(task: Seq2SeqTask):
    first, second = (task.batch(7, np.random.default_rng(42)) for _ in range(2))
    other = task.batch(7, np.random.default_rng(43))
    for field in ("source", "source_mask", "targets", "target_mask", "decoder_inputs"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    assert not np.array_equal(first.targets, other.targets)


def pairs(task: Seq2SeqTask, count: int = 200):
    batch = task.batch(count, np.random.default_rng(5))
    for b in range(count):
        source = task.source_labels(batch, b)
        target = task.target_labels(batch.targets[:, b], batch.target_mask[:, b])
        yield [s for s in source if s != "<pad>"], target[:target.index(EOS_LABEL)]


def test_reverse_targets_are_the_source_backwards():
    task = make_task("reverse", seq_len=9)
    lengths = set()
    for source, target in pairs(task):
        assert target == source[::-1]
        lengths.add(len(source))
    assert lengths == set(range(1, 10)), "variable lengths cover 1..seq_len"
    assert all(len(s) == 4 for s, _ in pairs(make_task("reverse", seq_len=4, lengths="fixed")))


def test_sort_digits_targets_are_sorted():
    for source, target in pairs(make_task("sort_digits")):
        assert target == sorted(source) and len(target) == len(source)


def words_value(words: list[str]) -> int:
    """An independent reading of English number words (the test's own, not the task's writer)."""
    small = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
    small.update({w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety"
                                                        .split())})
    total = current = 0
    for word in words:
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
        else:
            current += small[word]
    return total + current


@pytest.mark.parametrize("direction", ["words_to_digits", "digits_to_words"])
def test_number_words_translate_both_ways(direction):
    task = make_task("number_words", direction=direction, max_value=20_000)
    for source, target in pairs(task):
        words, digits = (source, target) if direction == "words_to_digits" else (target, source)
        assert words_value(words) == int("".join(digits))
        assert digits == list(str(int("".join(digits)))), "no leading zeros"
    assert task.text(["1", "2", EOS_LABEL, "<pad>"]) in ("12", "1 2")


def test_number_words_writer_and_longest_phrase():
    assert " ".join(number_to_words(312)) == "three hundred twelve"
    assert " ".join(number_to_words(1205)) == "one thousand two hundred five"
    assert " ".join(number_to_words(40)) == "forty" and number_to_words(0) == ["zero"]
    assert set(WORDS) >= {w for n in range(0, 100_000, 37) for w in number_to_words(n)}
    for max_value in (9, 19, 100, 999, 1000, 1001, 1777, 2000, 21_999):
        assert most_words(max_value) == max(len(number_to_words(n)) for n in range(max_value + 1)), max_value


def test_out_of_range_settings_raise_task_error():
    for name, params in [("reverse", {"seq_len": 0}), ("reverse", {"alphabet": 27}), ("sort_digits", {"seq_len": 61}),
                         ("number_words", {"direction": "sideways"}), ("number_words", {"max_value": 10**6})]:
        with pytest.raises(TaskError):
            make_task(name, **params)


def test_teacher_forced_accuracy_counts_real_target_steps():
    task = make_task("reverse", seq_len=6)
    batch = task.batch(16, np.random.default_rng(0))
    perfect = np.eye(task.output_size)[batch.targets]  # (T_tgt, B, classes)
    assert task.accuracy(perfect, batch) == 1.0
    wrong_at_padding = perfect.copy()
    wrong_at_padding[batch.target_mask == 0] = np.full(task.output_size, 1 / task.output_size)
    assert task.accuracy(wrong_at_padding, batch) == 1.0
    one_off = perfect.copy()
    one_off[0, 0] = np.roll(one_off[0, 0], 1)
    assert task.accuracy(one_off, batch) == pytest.approx(1 - 1 / batch.target_mask.sum())


@pytest.mark.parametrize("name", SEQ2SEQ)
def test_a_plain_rnn_session_refuses_them_and_names_the_fix(name):
    with pytest.raises(TaskError, match=f"--arch seq2seq --task {name}"):
        Session(SessionConfig(task=name))
