"""Connectivity ||dy_t/dx_t'|| (rnnviz.engine.connectivity): the engine's BPTT rows against central finite
differences and against torch.autograd.functional.jacobian, in float64."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.connectivity import output_input_jacobian, output_input_jacobian_norms, reach
from rnnviz.engine.gradcheck import central_differences
from rnnviz.engine.model import ModelConfig, SequenceModel
from tests.tolerances import assert_matches_finite_differences, assert_same_maths

T, I, H, O = 6, 3, 4, 2
CASES = [("rnn_tanh", 1, False), ("lstm", 1, False), ("gru", 1, False), ("lstm", 2, True), ("gru", 2, False)]


def make_model(mode: str, layers: int = 1, bidirectional: bool = False, seed: int = 0) -> SequenceModel:
    return SequenceModel(ModelConfig(mode=mode, input_size=I, hidden_size=H, output_size=O, num_layers=layers,
                                     bidirectional=bidirectional, io="many_to_many", loss="mse",
                                     dtype="float64", seed=seed))


def logits(model: SequenceModel, x: np.ndarray) -> np.ndarray:
    return model.forward(x[:, None, :]).logits[:, 0]  # (T, O)


@pytest.mark.parametrize("mode,layers,bidirectional", CASES)
def test_jacobian_matches_finite_differences(mode, layers, bidirectional):
    model = make_model(mode, layers, bidirectional, seed=3)
    x = np.random.default_rng(1).standard_normal((T, I))
    jacobian = output_input_jacobian(model, x)  # (T, O, T, I)
    for t in range(T):
        for o in range(O):
            def output(t=t, o=o) -> float:
                return float(logits(model, x)[t, o])
            numeric = central_differences(output, x, range(x.size)).reshape(T, I)
            # the gradient check's criterion: per entry atol (round-off of y over eps) + rtol 1e-6
            assert_matches_finite_differences(jacobian[t, o], numeric, output(), err_msg=f"t={t} o={o}")
    if not bidirectional:  # a forward network cannot see the future: exactly zero, no rounding involved
        future = np.triu(np.ones((T, T), dtype=bool), k=1)
        assert np.all(output_input_jacobian_norms(model, x)[future] == 0)


@pytest.mark.parametrize("mode,layers,bidirectional", CASES)
def test_norms_match_torch_autograd_jacobian(mode, layers, bidirectional):
    torch = pytest.importorskip("torch")
    model = make_model(mode, layers, bidirectional, seed=5)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=layers, bidirectional=bidirectional)
    core = (torch.nn.RNN(nonlinearity="tanh", **kwargs) if mode == "rnn_tanh"
            else {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[mode](**kwargs)).double()
    core.load_state_dict({k: torch.tensor(v) for k, v in model.core.state_dict().items()})
    head = torch.nn.Linear(H * (2 if bidirectional else 1), O).double()
    head.load_state_dict({"weight": torch.tensor(model.head.weight), "bias": torch.tensor(model.head.bias)})
    x = np.random.default_rng(2).standard_normal((T, I))

    def function(inputs):
        return head(core(inputs[:, None, :])[0])[:, 0]  # (T, O)

    theirs = torch.autograd.functional.jacobian(function, torch.tensor(x)).numpy()  # (T, O, T, I)
    # float64 both, the same equations by other routes: within 2 N u of each other (tests/tolerances.py);
    # the norms are sums of squares of those entries (a few more roundings, well inside N = 2^12)
    assert_same_maths(output_input_jacobian(model, x, chunk=5), theirs)
    assert_same_maths(output_input_jacobian_norms(model, x, chunk=7),
                      np.sqrt(np.sum(theirs**2, axis=(1, 3))))


def test_padded_steps_are_not_rows_or_columns_and_change_nothing():
    model = make_model("gru", seed=4)
    x = np.random.default_rng(3).standard_normal((T, I))
    mask = np.array([1, 1, 1, 1, 0, 0], dtype=float)
    padded = output_input_jacobian_norms(model, x, mask)
    assert np.all(np.isnan(padded[4:])) and np.all(np.isnan(padded[:, 4:]))
    # the real steps do not depend on what follows them in a forward network: the first four steps
    # alone give the same numbers (the same operations in the same order)
    alone = output_input_jacobian_norms(model, x[:4])
    assert_same_maths(padded[:4, :4], alone, roundings=64)


def test_only_the_chosen_output_rows_are_computed():
    model = make_model("lstm", seed=6)
    x = np.random.default_rng(4).standard_normal((T, I))
    full = output_input_jacobian_norms(model, x)
    some = output_input_jacobian_norms(model, x, outputs=[1, 4], chunk=3)
    assert np.all(np.isnan(some[[0, 2, 3, 5]]))
    # the same backward passes on a shorter batch: the same operations on each column
    assert_same_maths(some[[1, 4]], full[[1, 4]], roundings=64)


def test_reach_counts_steps_back_above_the_fraction():
    norms = np.array([[1.0, np.nan, np.nan],
                      [0.5, 1.0, np.nan],
                      [0.001, 0.2, 1.0]])
    norms[0, 1:] = 0
    norms[1, 2] = 0
    # row 2: max 1.0, 0.001 < 1% but 0.2 >= 1%: 1 step back; row 1: 0.5 >= 1%: 1 step back
    np.testing.assert_array_equal(reach(norms, 0.01), [0, 1, 1])
    np.testing.assert_array_equal(reach(norms, 0.0005), [0, 1, 2])
    norms[2, 0] = np.inf  # a diverged network: no reach to speak of
    assert np.isnan(reach(norms)[2])
