"""Loading PyTorch state dicts (saved as .npz) into the recurrent core."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from rnnviz.engine.model import ModelConfig, SequenceModel
from rnnviz.session.config import SessionConfig
from rnnviz.session.pytorch import WeightsFileError, describe_saved, load_pytorch_weights
from rnnviz.session.session import Session
from tests.tolerances import assert_same_maths

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def make_model(mode: str, input_size: int = 3, hidden: int = 5, layers: int = 1, bidirectional: bool = False,
               dtype: str = "float64") -> SequenceModel:
    return SequenceModel(ModelConfig(
        mode=mode, input_size=input_size, hidden_size=hidden, output_size=2, num_layers=layers,
        bidirectional=bidirectional, io="many_to_many", dtype=dtype, seed=3,
    ))


def torch_like_state(mode: str, input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Random arrays with PyTorch's names and shapes for this module (written without torch)."""
    rng = np.random.default_rng(seed)
    rows = GATES[mode] * hidden
    state = {}
    for layer in range(layers):
        for suffix in ("", "_reverse") if bidirectional else ("",):
            inputs = input_size if layer == 0 else hidden * (2 if bidirectional else 1)
            state[f"weight_ih_l{layer}{suffix}"] = rng.normal(size=(rows, inputs)).astype(np.float32)
            state[f"weight_hh_l{layer}{suffix}"] = rng.normal(size=(rows, hidden)).astype(np.float32)
            state[f"bias_ih_l{layer}{suffix}"] = rng.normal(size=rows).astype(np.float32)
            state[f"bias_hh_l{layer}{suffix}"] = rng.normal(size=rows).astype(np.float32)
    return state


def save(path, arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def load_error(model, path) -> str:
    before = model.state_dict()
    with pytest.raises(WeightsFileError) as info:
        load_pytorch_weights(model, path)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before), "a refused file changed the weights"
    return str(info.value)


# --- parity with torch -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_torch_weights_give_torchs_output(tmp_path, mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    kinds = {"rnn_tanh": (torch.nn.RNN, {"nonlinearity": "tanh"}), "rnn_relu": (torch.nn.RNN, {"nonlinearity": "relu"}),
             "lstm": (torch.nn.LSTM, {}), "gru": (torch.nn.GRU, {})}
    module_class, options = kinds[mode]
    module = module_class(3, 6, num_layers=2, bidirectional=True, **options).double()
    path = save(tmp_path / "w.npz", {k: v.numpy() for k, v in module.state_dict().items()})
    model = make_model(mode, 3, 6, layers=2, bidirectional=True)
    head_before = model.head.parameters()["weight"].copy()

    loaded = load_pytorch_weights(model, path)

    assert sorted(loaded) == sorted(module.state_dict())
    x = np.random.default_rng(2).normal(size=(9, 4, 3))  # (T, B, I)
    ours = model.core.forward(x).output  # (T, B, 2H)
    theirs = module(torch.from_numpy(x))[0].detach().numpy()
    # float64 both, the same maths by other routes: within 2 N u, N <= 2^12 (tests/tolerances.py)
    assert_same_maths(ours, theirs)
    np.testing.assert_array_equal(model.head.parameters()["weight"], head_before)  # the head is left alone


def test_loads_into_a_session_and_its_training_uses_them(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    module = torch.nn.GRU(2, 8)  # the adding task has 2 inputs
    path = save(tmp_path / "gru.npz", {k: v.numpy() for k, v in module.state_dict().items()})
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 10}, cell="gru", hidden_size=8,
                                    batch_size=4))
    load_pytorch_weights(session, path)
    # float32 in torch, float32 here: copied exactly
    np.testing.assert_array_equal(session.model.parameters()["weight_hh_l0"], module.weight_hh_l0.detach().numpy())
    # the first training step's loss is the loaded weights' loss on the batch it draws
    batch = session.task.batch(session.config.batch_size, copy.deepcopy(session.trainer.rng))
    expected = session.model.loss(batch.inputs, batch.targets, batch.mask)
    outcome = session.train(1)
    assert outcome.finite
    assert_same_maths(outcome.loss, expected)  # the same forward pass by the same code: 2 N u at most
    assert not np.array_equal(session.model.parameters()["weight_hh_l0"], module.weight_hh_l0.detach().numpy())


# --- refusals (no torch needed) ----------------------------------------------------------------


def test_crafted_state_dict_loads_and_casts_to_the_models_dtype(tmp_path):
    state = torch_like_state("lstm", 3, 5)
    model = make_model("lstm", 3, 5, dtype="float32")
    load_pytorch_weights(model, save(tmp_path / "w.npz", state))
    for name, array in state.items():
        assert model.parameters()[name].dtype == np.float32
        np.testing.assert_array_equal(model.parameters()[name], array)


def test_module_prefix_is_stripped(tmp_path):
    state = {f"rnn.{k}": v for k, v in torch_like_state("gru", 3, 5).items()}
    model = make_model("gru", 3, 5)
    load_pytorch_weights(model, save(tmp_path / "w.npz", state))
    # float32 values widened to the float64 model: exact
    np.testing.assert_array_equal(model.parameters()["bias_hh_l0"], state["rnn.bias_hh_l0"])


def test_lstm_weights_into_a_gru_name_both_cells(tmp_path):
    path = save(tmp_path / "lstm.npz", torch_like_state("lstm", 3, 5))
    message = load_error(make_model("gru", 3, 5), path)
    assert "weight_hh_l0 is (20, 5), needs (15, 5)" in message
    assert "LSTM" in message and "GRU" in message


def test_other_hidden_size_is_named(tmp_path):
    path = save(tmp_path / "w.npz", torch_like_state("gru", 3, 7))
    message = load_error(make_model("gru", 3, 5), path)
    assert "hidden size 7" in message and "has 5" in message
    assert "weight_hh_l0 is (21, 7), needs (15, 5)" in message


def test_missing_and_extra_keys_are_listed_together(tmp_path):
    state = torch_like_state("rnn_tanh", 3, 5)
    del state["bias_hh_l0"]
    state["weight_hr_l0"] = np.zeros((5, 5), dtype=np.float32)
    message = load_error(make_model("rnn_tanh", 3, 5), save(tmp_path / "w.npz", state))
    assert "missing bias_hh_l0" in message
    assert "unexpected weight_hr_l0" in message
    assert "proj_size" in message


def test_layers_and_directions_mismatch_are_named(tmp_path):
    path = save(tmp_path / "w.npz", torch_like_state("lstm", 3, 5, layers=2, bidirectional=True))
    message = load_error(make_model("lstm", 3, 5), path)
    assert "weight_ih_l1_reverse" in message
    assert "2 layer(s)" in message and "bidirectional" in message


def test_other_input_size_is_named(tmp_path):
    path = save(tmp_path / "w.npz", torch_like_state("lstm", 4, 5))
    message = load_error(make_model("lstm", 3, 5), path)
    assert "reads 4 input feature(s)" in message and "feeds 3" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path, bad):
    state = torch_like_state("gru", 3, 5)
    state["weight_hh_l0"][2, 1] = bad
    message = load_error(make_model("gru", 3, 5), save(tmp_path / "w.npz", state))
    assert "weight_hh_l0" in message and "non-finite" in message


def test_object_arrays_are_never_unpickled(tmp_path):
    state = torch_like_state("gru", 3, 5)
    state["weight_hh_l0"] = np.array([{"evil": 1}, None], dtype=object)
    message = load_error(make_model("gru", 3, 5), save(tmp_path / "w.npz", state))
    assert "w.npz" in message


def test_text_arrays_are_refused(tmp_path):
    state = torch_like_state("gru", 3, 5)
    state["bias_ih_l0"] = np.array(["a"] * 15)
    message = load_error(make_model("gru", 3, 5), save(tmp_path / "w.npz", state))
    assert "bias_ih_l0" in message and "real numbers" in message


def test_not_an_npz_and_missing_file(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip archive at all")
    assert "junk.npz" in load_error(make_model("gru"), junk)
    assert "does not exist" in load_error(make_model("gru"), tmp_path / "nowhere.npz")


def test_empty_npz_is_refused(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path)
    assert "no arrays" in load_error(make_model("gru"), path)


def test_describe_saved_reads_the_module_off_the_shapes():
    saved = describe_saved(torch_like_state("lstm", 4, 6, layers=3, bidirectional=True))
    assert (saved.gates, saved.hidden_size, saved.input_size) == (4, 6, 4)
    assert (saved.num_layers, saved.bidirectional) == (3, True)


def test_error_is_a_value_error():
    assert issubclass(WeightsFileError, ValueError)
