"""Weights as .safetensors and .npz, both ways; whole-model state dicts; files crafted to mislead or
to exhaust memory."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import save_file

from rnnviz.session.config import SessionConfig
from rnnviz.session.files import save_session
from rnnviz.session.pytorch import WeightsFileError, load_pytorch_weights, save_pytorch_weights
from rnnviz.session.session import Session
from tests.session.test_pytorch import load_error, make_model, save, torch_like_state

TORCH_CLASSES = {"rnn_tanh": ("RNN", {"nonlinearity": "tanh"}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
                 "lstm": ("LSTM", {}), "gru": ("GRU", {})}


def torch_module(torch, mode: str, *args, **kwargs):
    name, options = TORCH_CLASSES[mode]
    return getattr(torch.nn, name)(*args, **options, **kwargs)


@pytest.mark.parametrize("mode", list(TORCH_CLASSES))
@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_exported_weights_load_into_torch_and_give_the_same_output(tmp_path, mode, suffix):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    session = Session(SessionConfig(task="copy", cell=mode, hidden_size=6, num_layers=2, bidirectional=True,
                                    dtype="float64", batch_size=4))
    session.train(2)
    path = save_pytorch_weights(session, tmp_path / f"exported{suffix}")
    state = load_file(path) if suffix == ".safetensors" else {
        k: torch.from_numpy(v) for k, v in np.load(path, allow_pickle=False).items()}
    module = torch_module(torch, mode, session.task.input_size, 6, num_layers=2, bidirectional=True).double()
    module.load_state_dict(state)  # strict: every name and shape must match
    for name, array in session.model.core.parameters().items():
        np.testing.assert_array_equal(getattr(module, name).detach().numpy(), array)
    x = session.view_batch.inputs  # (T, B, I) float64
    theirs = module(torch.from_numpy(x))[0].detach().numpy()
    ours = session.model.core.forward(x).output
    # float64, the same weights and operations: differences are summation-order round-off, ~1e-16 per
    # operation over a few dozen timesteps; 1e-10 relative with a 1e-12 floor holds on any x86 CPU
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_safetensors_from_torch_load_into_a_session(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as torch_save_file

    torch.manual_seed(3)
    module = torch.nn.LSTM(2, 8)
    torch_save_file(module.state_dict(), tmp_path / "lstm.safetensors")
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 6}, cell="lstm", hidden_size=8))
    loaded = load_pytorch_weights(session, tmp_path / "lstm.safetensors")
    assert sorted(loaded) == sorted(module.state_dict()) and loaded.ignored == []
    np.testing.assert_array_equal(session.model.parameters()["weight_hh_l0"], module.weight_hh_l0.detach().numpy())


def test_a_whole_model_state_dict_loads_its_recurrent_module_and_names_the_rest(tmp_path):
    state = {f"rnn.{k}": v for k, v in torch_like_state("gru", 3, 5).items()}
    state.update({"fc.weight": np.zeros((2, 5), np.float32), "fc.bias": np.zeros(2, np.float32)})
    save_file(state, tmp_path / "model.safetensors")
    model = make_model("gru", 3, 5)
    loaded = load_pytorch_weights(model, tmp_path / "model.safetensors")
    assert loaded.ignored == ["fc.bias", "fc.weight"]
    np.testing.assert_allclose(model.parameters()["weight_ih_l0"], state["rnn.weight_ih_l0"])


def test_two_recurrent_modules_are_named(tmp_path):
    state = {f"encoder.{k}": v for k, v in torch_like_state("gru", 3, 5).items()}
    state.update({f"decoder.{k}": v for k, v in torch_like_state("gru", 3, 5).items()})
    message = load_error(make_model("gru", 3, 5), save(tmp_path / "w.npz", state))
    assert "2 recurrent modules" in message and "decoder.*" in message and "encoder.*" in message


def test_an_lstm_with_proj_size_gets_a_projection_hint_not_a_wrong_hidden_size(tmp_path):
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(3, 8, proj_size=4)
    path = save(tmp_path / "proj.npz", {k: v.detach().numpy() for k, v in module.state_dict().items()})
    message = load_error(make_model("lstm", 3, 8), path)
    assert "proj_size=4" in message and "weight_hr_l0 is (4, 8)" in message
    assert "hidden size 4" not in message and "gate" not in message  # the old hints misread the shapes


def test_an_rnnviz_model_npz_is_recognised(tmp_path):
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 6}, cell="gru", hidden_size=5))
    folder = save_session(session, tmp_path / "s")
    message = load_error(make_model("gru", 2, 5), folder / "model.npz")
    assert "model.npz of an rnnviz session" in message and "Open session" in message


def test_a_torch_save_pickle_is_never_loaded(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.GRU(3, 5).state_dict(), tmp_path / "weights.pt")
    message = load_error(make_model("gru", 3, 5), tmp_path / "weights.pt")
    assert "torch.save" in message and "safetensors" in message


def crafted_safetensors(path, header: dict, data: bytes = b"", header_len: int | None = None) -> None:
    text = json.dumps(header).encode()
    size = len(text) if header_len is None else header_len
    path.write_bytes(size.to_bytes(8, "little") + text + data)


@pytest.mark.parametrize("header, data, header_len, fragment", [
    ({}, b"", 2**60, "header length"),
    ({"weight_ih_l0": {"dtype": "F32", "shape": [3_000_000_000], "data_offsets": [0, 12_000_000_000]}},
     b"\0" * 16, None, "does not hold"),
    ({"weight_ih_l0": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, None, "does not hold"),
    ({"weight_ih_l0": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8, None, "bfloat16"),
    ({"weight_ih_l0": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, None, "not real numbers"),
    ({"weight_ih_l0": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}, b"", None, "shape"),
    ({"weight_ih_l0": {"dtype": "F32", "shape": [[[[1]]]], "data_offsets": [0, 4]}}, b"\0" * 4, None, "nested"),
])
def test_crafted_safetensors_are_refused_before_loading(tmp_path, header, data, header_len, fragment):
    path = tmp_path / "crafted.safetensors"
    crafted_safetensors(path, header, data, header_len)
    tracemalloc.start()
    try:
        message = load_error(make_model("gru", 3, 5), path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fragment in message and "crafted.safetensors" in message
    assert peak < 20 * 2**20


def test_export_refuses_other_suffixes_and_folders(tmp_path):
    model = make_model("gru")
    with pytest.raises(WeightsFileError, match="safetensors or .npz"):
        save_pytorch_weights(model, tmp_path / "weights.pt")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(WeightsFileError, match="folder"):
        save_pytorch_weights(model, tmp_path / "dir.npz")
