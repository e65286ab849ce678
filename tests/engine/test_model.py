import itertools

import numpy as np
import pytest

from rnnviz.engine.gradcheck import gradcheck
from rnnviz.engine.model import ModelConfig, ModelConfigError, ModelInputError, SequenceModel
from tests.tolerances import assert_same_maths, unit_roundoff

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
LOSS_NAMES = ("mse", "cross_entropy", "bce")
T, B, I, H, O = 5, 3, 2, 3, 3


def _targets(loss, io, rng, steps=T, batch=B):
    lead = (steps, batch) if io == "many_to_many" else (batch,)
    if loss == "cross_entropy":
        return rng.integers(0, O, lead)
    if loss == "bce":
        return rng.uniform(0, 1, lead + (O,))
    return rng.standard_normal(lead + (O,))


def _mask():
    mask = np.ones((T, B))
    mask[3:, 0] = 0
    mask[4:, 2] = 0
    return mask


GRID = list(itertools.product(MODES, (1, 2), (False, True), (False, True), ("many_to_one", "many_to_many")))


@pytest.mark.parametrize("mode, layers, bidirectional, masked, io", GRID)
def test_whole_model_gradients_match_finite_differences(mode, layers, bidirectional, masked, io):
    loss = LOSS_NAMES[GRID.index((mode, layers, bidirectional, masked, io)) % 3]
    config = ModelConfig(mode, I, H, O, num_layers=layers, bidirectional=bidirectional, io=io, loss=loss,
                         dtype="float64", seed=11)
    model = SequenceModel(config)
    rng = np.random.default_rng(12)
    result = gradcheck(model, rng.standard_normal((T, B, I)), _targets(loss, io, rng),
                       _mask() if masked else None, max_entries=6, seed=13)
    # every entry within atol + rtol |numeric|: atol from eps and float64, see engine/gradcheck.py
    assert result.passed, f"{loss}\n{result}"
    assert {p.name for p in result.params} == set(model.parameters())


def test_parameters_are_live_and_named_like_pytorch():
    model = SequenceModel(ModelConfig("lstm", 4, 8, 2, num_layers=2, bidirectional=True))
    params = model.parameters()
    assert "weight_hh_l1_reverse" in params and params["head.weight"].shape == (2, 16)
    assert params["weight_ih_l0"].shape == (32, 4) and params["weight_ih_l1"].shape == (32, 16)
    assert all(p.dtype == np.float32 for p in params.values())
    params["head.bias"][...] = 7.0
    assert np.all(model.head.bias == 7.0)
    assert model.num_params() == sum(p.size for p in params.values())


def test_num_params_matches_torch():
    torch = pytest.importorskip("torch")
    for mode, cls in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("rnn_tanh", torch.nn.RNN)):
        ours = SequenceModel(ModelConfig(mode, 3, 7, 4, num_layers=3, bidirectional=True))
        count = sum(p.numel() for p in cls(3, 7, num_layers=3, bidirectional=True).parameters()) + 4 * 14 + 4
        assert ours.num_params() == count


def _torch_pair(torch, mode, io, loss):
    config = ModelConfig(mode, I, H, O, num_layers=2, bidirectional=True, io=io, loss=loss, dtype="float64")
    model = SequenceModel(config)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}[mode]
    core = cls(I, H, num_layers=2, bidirectional=True).double()
    head = torch.nn.Linear(2 * H, O).double()
    state = {k: v.detach().numpy() for k, v in core.state_dict().items()}
    state.update({"head." + k: v.detach().numpy() for k, v in head.state_dict().items()})
    model.load_state_dict(state)
    return model, core, head


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_many_to_one_matches_torch(mode):
    torch = pytest.importorskip("torch")
    model, core, head = _torch_pair(torch, mode, "many_to_one", "mse")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((T, B, I)), rng.standard_normal((B, O))
    _, h_n = core(torch.tensor(x))
    h_n = h_n[0] if mode == "lstm" else h_n
    logits = head(torch.cat([h_n[-2], h_n[-1]], dim=-1))
    loss = torch.nn.functional.mse_loss(logits, torch.tensor(y))
    loss.backward()
    result = model.loss_and_grads(x, y)
    # float64 both, the same maths by other routes: within 2 N u, N <= 2^12 (tests/tolerances.py)
    assert_same_maths(result.loss, loss.item())
    assert_same_maths(result.logits, logits.detach().numpy())
    torch_grads = dict(core.named_parameters()) | {"head." + k: v for k, v in head.named_parameters()}
    for name, grad in result.grads.items():
        assert_same_maths(grad, torch_grads[name].grad.numpy(), err_msg=name)


def test_many_to_many_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    model, core, head = _torch_pair(torch, "lstm", "many_to_many", "cross_entropy")
    rng = np.random.default_rng(2)
    x, ids = rng.standard_normal((T, B, I)), rng.integers(0, O, (T, B))
    output, _ = core(torch.tensor(x))
    logits = head(output)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, O), torch.tensor(ids).reshape(-1))
    loss.backward()
    result = model.loss_and_grads(x, ids)
    # float64 both, the same maths by other routes: within 2 N u, N <= 2^12 (tests/tolerances.py)
    assert_same_maths(result.loss, loss.item())
    assert_same_maths(result.predictions, torch.softmax(logits, -1).detach().numpy())
    for name, param in core.named_parameters():
        assert_same_maths(result.grads[name], param.grad.numpy(), err_msg=name)


@pytest.mark.parametrize("io", ["many_to_one", "many_to_many"])
def test_padded_sample_equals_its_real_prefix_alone(io):
    """Masking a sample's tail must give the same logits as running only its real steps."""
    model = SequenceModel(ModelConfig("gru", I, H, O, bidirectional=True, io=io, dtype="float64", seed=3))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((T, B, I))
    mask = _mask()
    batch_logits = model.forward(x, mask).logits
    for b in range(B):
        length = int(mask[:, b].sum())
        alone = model.forward(x[:length, b:b + 1]).logits
        # the same maths with another batch size (other BLAS blocking): within 2 N u (tests/tolerances.py)
        if io == "many_to_one":
            assert_same_maths(batch_logits[b], alone[0])
        else:
            assert_same_maths(batch_logits[:length, b], alone[:, 0])


def test_padding_changes_neither_loss_nor_gradients():
    model = SequenceModel(ModelConfig("lstm", I, H, O, io="many_to_many", dtype="float64", seed=5))
    rng = np.random.default_rng(6)
    x, y, mask = rng.standard_normal((T, B, I)), rng.standard_normal((T, B, O)), _mask()
    first = model.loss_and_grads(x, y, mask)
    x2, y2 = x.copy(), y.copy()
    x2[mask == 0], y2[mask == 0] = 50.0, -50.0
    second = model.loss_and_grads(x2, y2, mask)
    # masked inputs and targets are multiplied by 0 before use: the same numbers go through the same
    # operations; 2 N u (tests/tolerances.py) allows for the sign of a zero changing a summation path
    assert_same_maths(second.loss, first.loss)
    for name in first.grads:
        assert_same_maths(second.grads[name], first.grads[name], err_msg=name)


def test_truncated_bptt_is_passed_to_the_core():
    model = SequenceModel(ModelConfig("rnn_tanh", I, H, O, io="many_to_many", dtype="float64", seed=7))
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((T, B, I)), rng.standard_normal((T, B, O))
    full = model.loss_and_grads(x, y)
    cut = model.loss_and_grads(x, y, tbptt=2)
    # the head is not recurrent: the same maths either way, within 2 N u (tests/tolerances.py)
    assert_same_maths(cut.grads["head.weight"], full.grads["head.weight"])
    # the cut drops whole terms of the recurrent gradient: apart by far more than any rounding
    assert np.max(np.abs(cut.grads["weight_hh_l0"] - full.grads["weight_hh_l0"])) > 1e-3 * np.max(
        np.abs(full.grads["weight_hh_l0"]))
    same = model.loss_and_grads(x, y, tbptt=T)
    assert_same_maths(same.grads["weight_hh_l0"], full.grads["weight_hh_l0"])


def test_step_result_contents():
    model = SequenceModel(ModelConfig("lstm", I, H, O, loss="bce", seed=9))
    rng = np.random.default_rng(9)
    result = model.loss_and_grads(rng.standard_normal((T, B, I)), rng.uniform(0, 1, (B, O)))
    assert result.logits.shape == (B, O) and result.predictions.shape == (B, O)
    assert np.all((result.predictions > 0) & (result.predictions < 1))
    assert result.trace.output.shape == (T, B, H)
    assert result.core_grads.layer(0).d_hidden.shape == (T, B, H)
    assert set(result.grads) == set(model.parameters())
    assert all(result.grads[k].shape == v.shape for k, v in model.parameters().items())
    assert result.grads["head.weight"].dtype == np.float32


def test_state_dict_round_trip_and_astype():
    config = ModelConfig("gru", I, H, O, num_layers=2, seed=1)
    model, other = SequenceModel(config), SequenceModel(ModelConfig("gru", I, H, O, num_layers=2, seed=2))
    assert not np.array_equal(model.parameters()["weight_hh_l1"], other.parameters()["weight_hh_l1"])
    other.load_state_dict(model.state_dict())
    for name, array in model.parameters().items():
        np.testing.assert_array_equal(other.parameters()[name], array)
    wide = model.astype("float64")
    assert wide.config.dtype == "float64" and wide.parameters()["head.weight"].dtype == np.float64
    np.testing.assert_array_equal(wide.parameters()["head.weight"], model.parameters()["head.weight"])  # exact
    with pytest.raises(ModelInputError, match="missing head.bias"):
        other.load_state_dict({k: v for k, v in model.state_dict().items() if k != "head.bias"})
    smaller = SequenceModel(ModelConfig("gru", I, H + 1, O, num_layers=2))
    with pytest.raises(ModelInputError, match="shape"):
        smaller.load_state_dict(model.state_dict())


def test_same_seed_same_model():
    a = SequenceModel(ModelConfig("lstm", I, H, O, seed=3)).state_dict()
    b = SequenceModel(ModelConfig("lstm", I, H, O, seed=3)).state_dict()
    c = SequenceModel(ModelConfig("lstm", I, H, O, seed=4)).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["head.weight"], c["head.weight"])


def test_identity_init_uses_the_scale():
    model = SequenceModel(ModelConfig("rnn_relu", I, 4, O, init="identity", init_scale=1.5))
    np.testing.assert_array_equal(model.parameters()["weight_hh_l0"], 1.5 * np.eye(4))  # 1.5 is exact in float32
    orthogonal = SequenceModel(ModelConfig("rnn_tanh", I, 4, O, init="orthogonal", init_scale=1.5))
    w = orthogonal.parameters()["weight_hh_l0"].astype(np.float64)
    # unit rows rounded to float32 (each entry within u32 relative): (w w^T)_ij moves by at most
    # 2 u32 sum_k |w_ik w_jk| <= 2 u32 (Cauchy-Schwarz); the float64 QR and product add ~1e-15
    np.testing.assert_allclose(w @ w.T, np.eye(4), rtol=0, atol=4 * unit_roundoff(np.float32))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mode": "transformer"}, "mode must be one of"),
        ({"hidden_size": 0}, "hidden_size must be between 1 and 1024"),
        ({"hidden_size": 1025}, "hidden_size must be between 1 and 1024"),
        ({"num_layers": 5}, "num_layers must be between 1 and 4"),
        ({"input_size": 0}, "input_size must be at least 1"),
        ({"output_size": 2.5}, "output_size must be a whole number"),
        ({"io": "one_to_many"}, "io must be one of"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"init": "he"}, "init must be one of"),
        ({"init_scale": 0.0}, "init_scale must be a positive"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"bidirectional": "yes"}, "bidirectional must be True or False"),
    ],
)
def test_config_validation(changes, message):
    values = {"mode": "lstm", "input_size": 2, "hidden_size": 8, "output_size": 1} | changes
    with pytest.raises(ModelConfigError, match=message):
        ModelConfig(**values)


def test_config_dict_round_trip():
    config = ModelConfig("gru", 3, 16, 2, num_layers=2, bidirectional=True, io="many_to_many",
                         loss="cross_entropy", dtype=np.float64)
    assert config.dtype == "float64"
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ModelConfigError, match="unknown model setting colour"):
        ModelConfig.from_dict(config.to_dict() | {"colour": "red"})


def test_input_and_target_errors():
    model = SequenceModel(ModelConfig("lstm", I, H, O, loss="cross_entropy"))
    with pytest.raises(ModelInputError, match=r"inputs must have shape \(timesteps, batch, 2\)"):
        model.forward(np.zeros((T, B, I + 1)))
    with pytest.raises(ModelInputError, match="mask must have shape"):
        model.forward(np.zeros((T, B, I)), mask=np.ones((B, T)))
    with pytest.raises(ModelInputError, match="integer class ids"):
        model.loss_and_grads(np.zeros((T, B, I)), np.zeros((B, O)))
