"""The memory estimate is an upper bound of what a training step really allocates."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from rnnviz.engine import kernels
from rnnviz.engine.cells import CELLS
from rnnviz.engine.memory import (BUDGET_ENV, FIXED_OVERHEAD, NetworkShape, memory_budget, parse_bytes,
                                  training_estimate)
from rnnviz.engine.model import ModelConfig, SequenceModel
from rnnviz.engine.optim import OPTIMIZERS
from rnnviz.engine.scratch import work_buffers
from rnnviz.engine.training import TrainConfig, Trainer

VIEW_BATCH = 8

# (mode, seq_len, batch, input, hidden, output, layers, bidirectional, dtype, optimizer)
SHAPES = [
    ("rnn_tanh", 50, 128, 2, 128, 1, 1, False, "float32", "adam"),
    ("rnn_relu", 40, 64, 30, 48, 30, 2, True, "float64", "rmsprop"),
    ("lstm", 50, 128, 2, 128, 1, 1, False, "float32", "adam"),
    ("lstm", 30, 64, 40, 64, 40, 3, True, "float64", "sgd"),
    ("lstm", 20, 256, 97, 16, 97, 1, False, "float32", "sgd_momentum"),
    ("gru", 50, 128, 2, 128, 1, 1, False, "float32", "adam"),
    ("gru", 30, 64, 40, 64, 40, 2, True, "float64", "rmsprop"),
    ("mingru", 50, 128, 2, 128, 1, 1, False, "float32", "adam"),
    ("minlstm", 30, 64, 40, 64, 40, 2, True, "float64", "rmsprop"),
    ("lru", 50, 128, 2, 128, 1, 1, False, "float32", "adam"),
    ("lru", 30, 64, 40, 64, 40, 2, True, "float64", "sgd"),
    ("selective", 50, 64, 2, 64, 1, 1, False, "float32", "adam"),
    ("selective", 30, 32, 40, 32, 40, 2, True, "float64", "rmsprop"),
]


def measured_peak(mode, T, B, I, H, O, L, D, dtype, optimizer, scan=False) -> int:
    with kernels.numpy_path():
        return _measured_peak(mode, T, B, I, H, O, L, D, dtype, optimizer, scan)


def _measured_peak(mode, T, B, I, H, O, L, D, dtype, optimizer, scan=False) -> int:
    """tracemalloc's peak (NumPy reports every array to it) over building the model and trainer,
    two training steps and an inspection of a view batch: bytes requested, independent of the CPU.
    On the NumPy path: the compiled kernels (rnnviz.engine.kernels) allocate through numba's runtime,
    which tracemalloc does not see; their arrays are the same trace arrays, of the same sizes."""
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(T, B, I)), rng.integers(0, O, size=(T, B))
    view_inputs, view_targets = inputs[:, :VIEW_BATCH], targets[:, :VIEW_BATCH]
    work_buffers.buffers.clear()  # buffers kept from earlier tests would hide allocations
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        config = ModelConfig(mode=mode, input_size=I, hidden_size=H, output_size=O, num_layers=L,
                             bidirectional=D, io="many_to_many", loss="cross_entropy", dtype=dtype, scan=scan)
        trainer = Trainer(SequenceModel(config), TrainConfig(optimizer=optimizer, batch_size=B, lr=1e-3))
        for _ in range(2):
            trainer.step(inputs, targets)
        trainer.model.loss_and_grads(view_inputs, view_targets)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
        work_buffers.buffers.clear()


CASES = [(case, False) for case in SHAPES] + [(case, True) for case in SHAPES if CELLS[case[0]].scannable]


@pytest.mark.parametrize("case,scan", CASES, ids=[f"{c[0]}-{c[8]}-L{c[6]}{'-bi' if c[7] else ''}{'-scan' if s else ''}"
                                                  for c, s in CASES])
def test_the_estimate_bounds_what_training_allocates(case, scan):
    """The parallel scan (linear cells) works on copies of the recurrence's multipliers and drives:
    the estimate covers it too."""
    mode, T, B, I, H, O, L, D, dtype, optimizer = case
    shape = NetworkShape(T, B, I, H, O, L, 2 if D else 1, CELLS[mode].trace_blocks, np.dtype(dtype).itemsize,
                         len(OPTIMIZERS[optimizer].buffers))
    estimate = training_estimate(shape, view_batch=VIEW_BATCH).total
    peak = measured_peak(*case, scan=scan)
    arrays = estimate - FIXED_OVERHEAD  # tracemalloc sees NumPy's arrays; the overhead is for the rest
    assert peak <= arrays, f"measured {peak / 2**20:.1f} MiB > estimated {arrays / 2**20:.1f} MiB for arrays"
    # and it does not refuse what would fit: past the fixed overhead, at most 2.5x the real need
    # (measured 1.2x-2.1x here; the bound is loosest for wide one-hot inputs and stacked layers)
    assert arrays <= 2.5 * peak, f"estimated {arrays / 2**20:.1f} MiB for {peak / 2**20:.1f} MiB"


def test_parameter_count_is_the_models():
    for mode in ("rnn_tanh", "lstm", "gru"):
        config = ModelConfig(mode=mode, input_size=5, hidden_size=7, output_size=3, num_layers=3,
                             bidirectional=True, io="many_to_one", loss="mse")
        shape = NetworkShape(10, 2, 5, 7, 3, 3, 2, CELLS[mode].num_gates)
        assert shape.parameter_count() == SequenceModel(config).num_params()


def test_budget_comes_from_the_environment_when_set(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "300M")
    assert memory_budget() == 300 * 2**20
    monkeypatch.delenv(BUDGET_ENV)
    assert 0 < memory_budget()
    assert parse_bytes("1.5 GiB") == 3 * 2**29 and parse_bytes("-1") is None and parse_bytes("lots") is None
