"""Crafted session files are refused with a SessionFileError before they can crash or exhaust memory."""
from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.session import Session
from rnnviz.session.storage import SessionFileError


def small(**changes) -> SessionConfig:
    base = dict(task="adding", task_params={"seq_len": 10}, cell="gru", hidden_size=5, batch_size=4)
    return SessionConfig(**{**base, **changes})


@pytest.fixture
def folder(tmp_path):
    session = Session(small())
    session.train(3)
    return save_session(session, tmp_path / "s")


def edit_json_text(folder, edit) -> None:
    path = folder / "session.json"
    path.write_text(edit(path.read_text()))


def edit_arrays(folder, edit) -> None:
    with np.load(folder / "model.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    edit(arrays)
    np.savez(folder / "model.npz", **arrays)


def refused(folder, *fragments: str) -> str:
    with pytest.raises(SessionFileError) as info:
        load_session(folder)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


# --- session.json ------------------------------------------------------------------------------


def test_out_of_range_rng_state_integers(folder):
    for bad in (2**200, -1, "1"):
        document = json.loads((folder / "session.json").read_text())
        document["rng_state"]["state"]["state"] = bad
        (folder / "session.json").write_text(json.dumps(document))
        refused(folder, "random state")


def test_deeply_nested_json(folder):
    edit_json_text(folder, lambda text: text.replace('"task_params": {', '"task_params": {"x": ' + "[" * 100_000
                                                     + "]" * 100_000 + ", ", 1))
    refused(folder, "session.json")
    edit_json_text(folder, lambda text: text.replace("[" * 100_000 + "]" * 100_000, "[" * 40 + "]" * 40))
    refused(folder, "nested more than")


def test_a_5000_digit_integer(folder):
    document = json.loads((folder / "session.json").read_text())
    edit_json_text(folder, lambda text: text.replace(f'"step": {document["step"]}', '"step": ' + "9" * 5000))
    refused(folder, "5000-digit number")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_json(folder, number):
    edit_json_text(folder, lambda text: text.replace('"lr": 0.01', f'"lr": {number}'))
    refused(folder, "session.json")


# --- the history -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_step_in_history(folder, value):
    def edit(arrays):
        arrays["history/train"][1, 0] = value

    edit_arrays(folder, edit)
    refused(folder, "training history", "NaN or infinity")


@pytest.mark.parametrize("change, fragment", [
    (lambda a: a["history/train"].__setitem__((2, 0), 1), "increasing"),
    (lambda a: a["history/train"].__setitem__((2, 0), 40), "past the session's step"),
    (lambda a: a["history/train"].__setitem__((0, 3), 7), "clipped"),
    (lambda a: a.__setitem__("history/train", a["history/train"].reshape(-1)), "shape"),
])
def test_inconsistent_history(folder, change, fragment):
    edit_arrays(folder, change)
    refused(folder, "training history", fragment)


# --- arrays ------------------------------------------------------------------------------------


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin-1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def test_an_npy_header_declaring_12_gb_is_refused_without_allocating(folder):
    source = folder / "model.npz"
    crafted = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(crafted, "w") as archive:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "param/weight_hh_l0.npy":  # 3e9 float32 values declared, 16 bytes present
                data = npy_header("<f4", (3_000_000_000,)) + b"\x00" * 16
            archive.writestr(info.filename, data)
    source.write_bytes(crafted.getvalue())
    tracemalloc.start()
    try:
        message = refused(folder, "weight_hh_l0")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "more than" in message or "damaged" in message
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB allocated to refuse it"


def test_a_header_whose_size_does_not_match_its_data(folder):
    source = folder / "model.npz"
    crafted = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "param/bias_hh_l0.npy":
                data = npy_header("<f4", (10,)) + b"\x00" * 12
            archive.writestr(info.filename, data)
    source.write_bytes(crafted.getvalue())
    refused(folder, "bias_hh_l0", "damaged")


@pytest.mark.parametrize("dtype, word", [("complex64", "complex numbers"), ("datetime64[s]", "dates and times"),
                                         ("timedelta64[s]", "time spans"), ("S4", "bytes")])
def test_complex_or_datetime_weights(folder, dtype, word):
    def edit(arrays):
        arrays["param/weight_ih_l0"] = np.zeros(arrays["param/weight_ih_l0"].shape, dtype=dtype)

    edit_arrays(folder, edit)
    refused(folder, "weight_ih_l0", word)


@pytest.mark.parametrize("name, value, fragment", [
    ("optim/exp_avg/weight_hh_l0", np.nan, "NaN or infinity"),
    ("optim/exp_avg_sq/weight_hh_l0", -1.0, "negative"),
    ("optim/step", -3, "step count"),
    ("optim/step", 2.5, "step count"),
    ("optim/lr", np.inf, "lr"),
])
def test_impossible_optimizer_state(folder, name, value, fragment):
    def edit(arrays):
        array = arrays[name].astype(np.float64 if isinstance(value, float) else arrays[name].dtype)
        if array.ndim:
            array.flat[0] = value
        else:
            array = np.asarray(value)
        arrays[name] = array

    edit_arrays(folder, edit)
    refused(folder, "optimizer", fragment)


def test_a_session_rnnviz_writes_is_one_it_opens_even_above_256_mib(tmp_path):
    """hidden 1024, 4 layers, Adam: 336 MiB of model.npz, over the fixed cap rnnviz had."""
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 4}, cell="lstm", hidden_size=1024,
                                    num_layers=4, batch_size=1))
    folder = save_session(session, tmp_path / "big")
    assert (folder / "model.npz").stat().st_size > 256 * 2**20
    weights = session.model.parameters()["weight_hh_l3"].copy()
    del session
    opened = load_session(folder)
    np.testing.assert_array_equal(opened.model.parameters()["weight_hh_l3"], weights)


def test_paths_with_a_tilde_are_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    session = Session(small())
    folder = save_session(session, "~/saved")
    assert folder == tmp_path / "saved" and (tmp_path / "saved" / "session.json").is_file()
    assert load_session("~/saved").config == session.config
