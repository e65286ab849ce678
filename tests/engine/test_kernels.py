"""The compiled kernels (the ``fast`` extra, numba) against the NumPy path, and the switchboard.

PyTorch parity of both paths: ``make test`` runs the whole suite with the kernels (they serve the
small sizes of test_recurrent_torch.py, checked below), then tests/engine again with
RNNVIZ_NO_NUMBA=1, where the same PyTorch tests run the NumPy path.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import sys

import numpy as np
import pytest

from rnnviz.engine import Recurrent, kernels
from rnnviz.engine.kernels import DISABLE_VARIABLE, Kernels, sources_hash, use_cache_folder
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, RecurrentGrads
from tests.engine.conftest import MODE_LIST, lengths_mask

# Both paths evaluate the same formulas in float64 and differ only in rounding: summation order
# (BLAS blocks against a loop, fused multiply-adds) and the activations (glibc's tanh/exp against
# our exp polynomial, each within 2 ulp). Here every pre-activation is a sum of at most G·H + I +
# 2 = 26 terms of size < 4 (inputs ~N(0, 1), weights |w| <= 1/sqrt(H)), so one step's values
# differ by at most ~26 · 4 · 2^-53 ≈ 1e-14; σ and tanh have slopes <= 1 and the default init
# keeps the recurrence contractive, so over the 7 steps and through BPTT (sums of <= T·B = 21 such
# products) the paths stay within ~3e-13 absolutely. 1e-12 plus 1e-12 relative (for the larger
# gradients) holds with margin, on any IEEE-754 machine: nothing here depends on the CPU model.
ATOL = RTOL = 1e-12
# float32: the same argument with 2^-24 instead of 2^-53 gives ~3e-5 absolutely (as in the
# PyTorch float32 test).
ATOL_32, RTOL_32 = 1e-4, 1e-4

SHAPES = [(7, 3, 3, 5), (5, 2, 2, 24)]  # (T, B, I, H): an odd H, and one past a SIMD block
CASES = list(itertools.product(MODE_LIST, (1, 2), (False, True), (False, True), (None, 2)))


@pytest.fixture
def compiled():
    """The tests that compare the two paths need the kernels; with RNNVIZ_NO_NUMBA=1 (the second
    pass of ``make test``) or without numba there is nothing to compare."""
    if kernels.status() != "ready":
        pytest.skip(f"compiled kernels are {kernels.status()}: only the NumPy path runs")


def run_both(mode, shape, num_layers, bidirectional, with_mask, tbptt, dtype=np.float64, seed=0):
    """(trace, grads) of the kernels and of the NumPy path on the same random problem."""
    T, B, I, H = shape
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    core = Recurrent(mode, I, H, num_layers=num_layers, bidirectional=bidirectional, dtype=dtype,
                     seed=seed)
    x = rng.standard_normal((T, B, I))
    states = (num_layers * D, B, H)
    h0 = rng.standard_normal(states)
    h0 = (h0, rng.standard_normal(states)) if mode == "lstm" else h0
    mask = lengths_mask([T] + [max(1, T - 2 - b) for b in range(1, B)], T) if with_mask else None
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal(states)
    d_c_n = rng.standard_normal(states) if mode == "lstm" else None

    def run():
        trace = core.forward(x, h0=h0, mask=mask)
        return trace, core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n, tbptt=tbptt)

    fast = run()
    with kernels.numpy_path():
        numpy = run()
    return fast, numpy


def assert_same(fast, numpy, atol, rtol, where=""):
    """Every array of two traces, gradient traces or plain values (recursing into dataclasses,
    dicts and lists) has the same shape and dtype and agrees within the tolerances."""
    if dataclasses.is_dataclass(fast):
        assert type(fast) is type(numpy)
        for field in dataclasses.fields(fast):
            if not callable(getattr(fast, field.name)):
                assert_same(getattr(fast, field.name), getattr(numpy, field.name), atol, rtol,
                            f"{where}.{field.name}")
        if isinstance(fast, RecurrentGrads):
            assert_same(fast.d_input, numpy.d_input, atol, rtol, f"{where}.d_input")
        if isinstance(fast, LayerGradTrace):
            assert_same(fast.grad_norm_per_step, numpy.grad_norm_per_step, atol, rtol,
                        f"{where}.grad_norm_per_step")
    elif isinstance(fast, dict):
        keys = set(fast) if not where.endswith(".cache") else set(fast) & set(numpy)
        assert where.endswith(".cache") or set(fast) == set(numpy), where
        for key in sorted(keys):
            assert_same(fast[key], numpy[key], atol, rtol, f"{where}[{key}]")
    elif isinstance(fast, (list, tuple)):
        assert len(fast) == len(numpy), where
        for k, (a, b) in enumerate(zip(fast, numpy)):
            assert_same(a, b, atol, rtol, f"{where}[{k}]")
    elif isinstance(fast, np.ndarray):
        assert fast.shape == numpy.shape and fast.dtype == numpy.dtype, where
        np.testing.assert_allclose(fast, numpy, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert fast == numpy, where


def test_the_kernels_serve_the_sizes_the_parity_tests_use(compiled):
    """Otherwise the comparisons below, and test_recurrent_torch.py, would test NumPy twice."""
    for mode, dtype in itertools.product(MODE_LIST, (np.float32, np.float64)):
        for batch, hidden in ((1, 4), (3, 4), (4, 8), (3, 5), (2, 24)):
            assert kernels.kernel_for(mode, batch, hidden, dtype) is not None, (mode, batch, hidden)


@pytest.mark.parametrize("mode,num_layers,bidirectional,with_mask,tbptt", CASES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}B{}I{}H{}".format(*s))
def test_kernels_match_the_numpy_path_in_float64(compiled, mode, num_layers, bidirectional,
                                                  with_mask, tbptt, shape):
    fast, numpy = run_both(mode, shape, num_layers, bidirectional, with_mask, tbptt)
    assert_same(fast, numpy, ATOL, RTOL)
    if with_mask:  # padding carries the state: the kernels hold it exactly, like NumPy
        layer = fast[0].layer(0, 0)
        padded = layer.mask == 0
        np.testing.assert_array_equal(layer.hidden[1:][padded[1:]], layer.hidden[:-1][padded[1:]])


@pytest.mark.parametrize("mode", MODE_LIST)
def test_kernels_match_the_numpy_path_in_float32(compiled, mode):
    fast, numpy = run_both(mode, (9, 4, 3, 16), 2, True, True, 4, dtype=np.float32, seed=3)
    assert_same(fast, numpy, ATOL_32, RTOL_32)


@pytest.mark.parametrize("mode", MODE_LIST)
@pytest.mark.parametrize("forward_path,backward_path", [("numpy", "fast"), ("fast", "numpy")])
def test_a_trace_from_either_path_goes_through_either_backward(compiled, mode, forward_path,
                                                              backward_path):
    """The kernels become ready while the app runs: a trace the NumPy path made may reach the
    compiled backward pass (and a compiled one the NumPy backward, if a backward kernel fails)."""
    T, B, I, H = 6, 3, 2, 5
    rng = np.random.default_rng(5)
    core = Recurrent(mode, I, H, num_layers=1, bidirectional=True, dtype=np.float64, seed=5)
    x = rng.standard_normal((T, B, I))
    mask = lengths_mask([6, 4, 2], T)
    d_output = rng.standard_normal((T, B, 2 * H))

    def forward():
        return core.forward(x, mask=mask)

    def backward(trace):
        return core.backward(trace, d_output, tbptt=3)

    with kernels.numpy_path():
        reference = backward(forward())
    paths = {"numpy": kernels.numpy_path, "fast": _no_change}
    with paths[forward_path]():
        trace = forward()
    with paths[backward_path]():
        mixed = backward(trace)
    assert_same(mixed, reference, ATOL, RTOL)


class _no_change:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_training_never_compiles_again(compiled):
    """Every kernel was compiled for exactly float32 and float64 while it was prepared: whatever
    sizes, masks and directions come later reuse that code (a new compile would freeze training
    for seconds)."""
    from rnnviz.engine.kernels import gru, lstm, rnn

    for mode, dtype, with_mask in itertools.product(MODE_LIST, (np.float32, np.float64), (0, 1)):
        run_both(mode, (4, 2, 3, 6), 2, True, with_mask, 2, dtype=dtype)
    for dispatcher in (rnn.rnn_forward, rnn.rnn_backward, lstm.lstm_forward, lstm.lstm_backward,
                       gru.gru_forward, gru.gru_backward):
        dtypes = sorted(str(signature[0].dtype) for signature in dispatcher.signatures)
        assert dtypes == ["float32", "float64"], (dispatcher, dispatcher.signatures)


@pytest.mark.parametrize("mode", MODE_LIST)
def test_a_nan_weight_shows_in_the_output(compiled, mode):
    """Divergence detection relies on NaN reaching the loss: the kernels' clamped exp lets it
    through."""
    core = Recurrent(mode, 2, 4, dtype=np.float32, seed=0)
    core.parameters()["weight_hh_l0"][0, 0] = np.nan
    trace = core.forward(np.ones((3, 2, 2), np.float32))
    assert np.isnan(trace.output[1:]).any()
    assert kernels.kernel_for(mode, 2, 4, np.float32) is not None


def test_huge_pre_activations_saturate_without_nan(compiled):
    core = Recurrent("lstm", 1, 3, dtype=np.float32, seed=0)
    for array in core.parameters().values():
        array[...] = 1e4
    trace = core.forward(np.full((4, 1, 1), 1e4, np.float32))
    assert np.isfinite(trace.output).all()
    np.testing.assert_allclose(trace.layer(0).gates["i"], 1.0)


# ----- the switchboard ---------------------------------------------------------------------------


def _records(caplog):
    return [r for r in caplog.records if r.name == "rnnviz.engine.kernels"]


def test_the_environment_variable_turns_the_kernels_off(monkeypatch, caplog):
    monkeypatch.setenv(DISABLE_VARIABLE, "1")
    switchboard = Kernels()
    with caplog.at_level(logging.INFO, logger="rnnviz.engine.kernels"):
        assert switchboard.start(wait=True, timeout=10) == "disabled"
        assert switchboard.kernel_for("lstm", 1, 4, np.float32) is None
    assert len(_records(caplog)) == 1 and DISABLE_VARIABLE in _records(caplog)[0].getMessage()


def test_a_kernel_that_does_not_build_leaves_the_numpy_path_and_one_log_line(monkeypatch, caplog):
    pytest.importorskip("numba", reason="without numba the kernels are 'unavailable' instead")
    monkeypatch.delenv(DISABLE_VARIABLE, raising=False)
    switchboard = Kernels({"lstm": "no_such_kernel", "gru": "gru"})
    with caplog.at_level(logging.INFO, logger="rnnviz.engine.kernels"):
        assert switchboard.start(wait=True, timeout=600) == "ready"  # gru built, lstm did not
    assert switchboard.kernel_for("lstm", 1, 4, np.float32) is None
    assert switchboard.kernel_for("gru", 1, 4, np.float32) is not None
    records = _records(caplog)
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "no_such_kernel" in records[0].getMessage()


def test_without_numba_the_numpy_path_runs_with_one_log_line(monkeypatch, caplog):
    monkeypatch.delenv(DISABLE_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    switchboard = Kernels()
    with caplog.at_level(logging.INFO, logger="rnnviz.engine.kernels"):
        assert switchboard.start(wait=True, timeout=10) == "unavailable"
    assert switchboard.kernel_for("rnn_tanh", 1, 4, np.float64) is None
    records = _records(caplog)
    assert len(records) == 1 and "rnnviz[fast]" in records[0].getMessage()


def test_the_first_lookup_starts_preparing_in_the_background(monkeypatch):
    monkeypatch.setenv(DISABLE_VARIABLE, "1")  # a quick preparation, same code path
    switchboard = Kernels()
    assert switchboard.status == "idle"
    assert switchboard.kernel_for("gru", 2, 4, np.float64) is None
    assert switchboard.start(wait=True, timeout=10) == "disabled"


def test_numba_cache_goes_to_the_user_cache_folder_unless_set(monkeypatch, tmp_path):
    numba = sys.modules.get("numba")
    kept = numba.config.CACHE_DIR if numba else None
    try:
        monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        use_cache_folder()
        folder = os.environ["NUMBA_CACHE_DIR"]
        assert folder.startswith(str(tmp_path)) and folder.endswith(sources_hash())
        monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/chosen")
        use_cache_folder()
        assert os.environ["NUMBA_CACHE_DIR"] == "/somewhere/chosen"
    finally:
        if numba:
            numba.config.CACHE_DIR = kept


def test_a_layer_trace_keeps_the_numpy_paths_cache_entries(compiled):
    """The NumPy LSTM and GRU backward passes read their cell's cache entries: the kernels leave
    the same ones (with the same shapes), so a compiled trace can always go the NumPy way."""
    for mode in ("lstm", "gru"):
        fast, numpy = run_both(mode, (4, 2, 1, 3), 1, False, False, None)
        layer_fast, layer_numpy = fast[0].layer(0), numpy[0].layer(0)
        assert isinstance(layer_fast, LayerTrace)
        for key, value in layer_numpy.cache.items():
            assert layer_fast.cache[key].shape == value.shape, (mode, key)
