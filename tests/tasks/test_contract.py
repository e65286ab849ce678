"""Every task keeps the contract of rnnviz/tasks/base.py: shapes, dtypes, determinism, masks, params."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnviz.tasks import TASKS, make_task
from rnnviz.tasks.base import Batch, Task, TaskError

# each task in its default form plus variants that change shapes or padding
# (the encoder–decoder tasks make Seq2SeqBatch objects: tests/tasks/test_seq2seq_tasks.py holds their contract)
CONFIGS = [(name, {}) for name in TASKS if TASKS[name].io != "seq2seq"] + [
    ("parity", {"lengths": "variable", "seq_len": 30}),
    ("parity", {"lengths": "variable", "io": "many_to_many"}),
    ("dyck", {"target": "depth"}),
    ("dyck", {"target": "balanced", "bracket_types": 3, "lengths": "fixed"}),
    ("sentiment", {"contrast": 0.0, "max_intensifiers": 0}),
    ("series", {"inputs": "temperature_c", "target": "0", "seq_len": 10}),
    ("selective_copy", {"n_tokens": 1, "vocab": 2, "region": 1}),
    ("associative_recall", {"n_pairs": 7, "keys": 7, "values": 12, "n_queries": 3}),
    ("lag_recall", {"lag": 0, "vocab": 2, "seq_len": 2}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in params.items()) or 'default'}" for name, params in CONFIGS]


@pytest.fixture(params=CONFIGS, ids=IDS)
def task(request) -> Task:
    name, params = request.param
    return make_task(name, **params)


def test_registry_order_and_names():
    assert list(TASKS) == ["sine", "adding", "copy", "parity", "text", "sentiment", "dyck", "series",
                           "selective_copy", "associative_recall", "lag_recall", "reverse", "sort_digits",
                           "number_words"]
    for name, cls in TASKS.items():
        assert cls.name == name
        assert cls.title and len(cls.description.split()) > 30


def test_unknown_task_lists_valid_names():
    with pytest.raises(TaskError) as error:
        make_task("sinus")
    for name in TASKS:
        assert name in str(error.value)


def test_batch_shapes_and_dtypes(task: Task):
    batch = task.batch(5, np.random.default_rng(0))
    steps = batch.seq_len
    assert batch.inputs.shape == (steps, 5, task.input_size)
    assert batch.inputs.dtype == np.float64 and batch.mask.dtype == np.float64
    assert batch.mask.shape == (steps, 5)
    classification = task.loss == "cross_entropy"
    if task.io == "many_to_many":
        expected = (steps, 5) if classification else (steps, 5, task.output_size)
    else:
        expected = (5,) if classification else (5, task.output_size)
    assert batch.targets.shape == expected
    if classification:
        assert batch.targets.dtype == np.int64
        assert batch.targets.min() >= 0 and batch.targets.max() < task.output_size
    else:
        assert batch.targets.dtype == np.float64
    assert np.all(np.isfinite(batch.inputs)) and np.all(np.isfinite(batch.targets))


def test_token_inputs_are_one_hot_on_real_steps(task: Task):
    info = task.info()
    batch = task.batch(16, np.random.default_rng(1))
    if not info.token_inputs:
        return
    per_step = batch.inputs.sum(axis=-1)  # (T, B)
    np.testing.assert_array_equal(per_step, batch.mask)
    assert set(np.unique(batch.inputs)) <= {0.0, 1.0}
    labels = task.timestep_labels(batch.inputs[:, 0])
    assert len(labels) == batch.seq_len and all(label in info.input_names for label in labels)


def test_same_seed_same_batch(task: Task):
    first = task.batch(7, np.random.default_rng(42))
    second = task.batch(7, np.random.default_rng(42))
    other = task.batch(7, np.random.default_rng(43))
    for field in ("inputs", "targets", "mask"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    assert not np.array_equal(first.inputs, other.inputs)


def test_mask_is_ones_then_zeros(task: Task):
    batch: Batch = task.batch(64, np.random.default_rng(3))
    assert set(np.unique(batch.mask)) <= {0.0, 1.0}
    assert np.all(batch.mask[0] == 1.0), "every sequence has at least one real step"
    assert np.all(np.diff(batch.mask, axis=0) <= 0), "padding only at the end"


def test_padding_is_zero_input(task: Task):
    batch = task.batch(64, np.random.default_rng(4))
    padded = batch.mask == 0
    assert np.all(batch.inputs[padded] == 0.0)


def test_variable_lengths_really_vary():
    for name, params in [("parity", {"lengths": "variable"}), ("dyck", {}), ("sentiment", {})]:
        mask = make_task(name, **params).batch(64, np.random.default_rng(0)).mask
        assert len(np.unique(mask.sum(axis=0))) > 3, name


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_has_a_length_param_with_limits(name):
    params = {p.name: p for p in TASKS[name].params}
    length = (params.get("seq_len") or params.get("delay") or params.get("max_intensifiers")
              or params.get("region") or params.get("n_pairs") or params.get("max_value"))
    assert length is not None and length.minimum is not None and length.maximum is not None
    with pytest.raises(TaskError, match=length.name):
        make_task(name, **{length.name: length.maximum + 1})
    with pytest.raises(TaskError, match=length.name):
        make_task(name, **{length.name: length.minimum - 1})


@pytest.mark.parametrize("name", list(TASKS))
def test_every_param_default_is_valid_and_unknown_param_refused(name):
    cls = TASKS[name]
    for param in cls.params:
        assert param.validate(param.default) == param.default
    with pytest.raises(TaskError, match="no parameter"):
        make_task(name, colour="blue")


@pytest.mark.parametrize(
    "name, params",
    [
        ("sine", {"noise": -0.1}),
        ("sine", {"components": 0}),
        ("sine", {"seq_len": 2.5}),
        ("adding", {"seq_len": 1}),
        ("copy", {"alphabet": 27}),
        ("copy", {"n_symbols": 0}),
        ("parity", {"lengths": "sometimes"}),
        ("text", {"max_vocab": 0}),
        ("sentiment", {"contrast": 1.5}),
        ("sentiment", {"negation": float("nan")}),
        ("dyck", {"target": "depths"}),
        ("dyck", {"bracket_types": 5}),
        ("series", {"seq_len": "long"}),
    ],
)
def test_out_of_range_params_raise_task_error(name, params):
    with pytest.raises(TaskError):
        make_task(name, **params)


def test_batch_size_limits():
    task = make_task("adding")
    for size in (0, 4097):
        with pytest.raises(TaskError, match="batch size"):
            task.batch(size, np.random.default_rng(0))


def test_tasks_layer_imports_no_qt_session_or_ui():
    code = (
        "import sys, rnnviz.tasks\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')"
        " or m.startswith(('rnnviz.session', 'rnnviz.ui'))]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            env={"PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
