"""The gradient-flow view of the revival cells: the LRU's λ as its eigenvalues, the input-dependent decay
of minGRU, minLSTM and the selective layer per timestep, and labels that name the memory state.

The expected numbers are computed here from the parameters and the layer's inputs with the papers'
equations, not read from the engine's traces."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.cells import cell_spec
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.views.gradient_flow import gradient_flow_view
from rnnviz.session.views.training import gradients_view
from tests.tolerances import assert_same_maths

ROWS = [(0, 0), (1, 1)]  # (layer, direction): the first layer, and the reverse direction of the second


def built(cell: str) -> Session:
    session = Session(SessionConfig(task="selective_copy", task_params={"n_tokens": 2, "region": 5}, cell=cell,
                                    hidden_size=3, num_layers=2, bidirectional=True, dtype="float64",
                                    batch_size=4, seed=2))
    session.train(2)
    return session


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def layer_inputs(session: Session, layer: int, direction: int, sample: int) -> np.ndarray:
    """(T, I_l) what this layer reads: the task's inputs, or the layer below's outputs of both directions."""
    trace = session.inspect().trace
    if layer == 0:
        return session.view_batch.inputs[:, sample]
    below = [trace.layer(layer - 1, d).hidden[:, sample] for d in range(2)]
    return np.concatenate(below, axis=-1)


def params(session: Session, layer: int, direction: int) -> dict[str, np.ndarray]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    return {name.removesuffix(suffix): value for name, value in session.model.parameters().items()
            if name.endswith(suffix)}


def expected_decay(cell: str, p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(T, R) the multiplier of the memory state, from the papers' equations."""
    if cell == "mingru":  # h_t = (1 - z_t) h_(t-1) + z_t h̃_t,  z_t = σ(W_z x_t + b_z)
        H = p["weight_ih"].shape[0] // 2
        return 1 - sigmoid(x @ p["weight_ih"][:H].T + p["bias_ih"][:H])
    if cell == "minlstm":  # f′_t = f_t / (f_t + i_t)
        H = p["weight_ih"].shape[0] // 3
        f = sigmoid(x @ p["weight_ih"][:H].T + p["bias_ih"][:H])
        i = sigmoid(x @ p["weight_ih"][H:2 * H].T + p["bias_ih"][H:2 * H])
        return f / (f + i)
    # selective: Ā_t = exp(Δ_t A), Δ_t = softplus(W_Δ W_in x_t + b_Δ), A = -exp(A_log), channel by channel
    u = x @ p["weight_in"].T
    delta = np.log1p(np.exp(u @ p["weight_delta"].T + p["bias_delta"]))  # (T, H)
    return np.exp(delta[:, :, None] * -np.exp(p["A_log"])[None]).reshape(len(x), -1)


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "selective"])
@pytest.mark.parametrize("layer, direction", ROWS)
def test_the_input_dependent_decay_per_timestep(cell, layer, direction):
    session = built(cell)
    sample = 1
    view = gradient_flow_view(session, Selection(sample=sample, layer=layer, direction=direction))
    expected = expected_decay(cell, params(session, layer, direction), layer_inputs(session, layer, direction, sample))
    assert view.decay is not None and view.eigenvalues == {}
    assert view.decay.label == cell_spec(cell).decay.label
    assert view.decay.values.shape == expected.shape == (session.view_batch.seq_len, expected.shape[1])
    # the same float64 maths in another order (a few dozen roundings per value, tests/tolerances.py)
    assert_same_maths(view.decay.values, expected)
    assert np.all((view.decay.values > 0) & (view.decay.values <= 1))  # a decay keeps a share of the memory
    assert view.decay.time.steps == session.view_batch.seq_len


def test_the_lru_shows_its_lambda_inside_the_unit_circle():
    session = built("lru")
    for layer, direction in ROWS:
        view = gradient_flow_view(session, Selection(layer=layer, direction=direction))
        p = params(session, layer, direction)
        lam = np.exp(-np.exp(p["nu"]) + 1j * p["theta"])  # λ = exp(-exp(ν) + iθ)
        assert view.decay is None and set(view.eigenvalues) == {"λ"}
        assert_same_maths(view.eigenvalues["λ"].real, lam.real, roundings=16)
        assert_same_maths(view.eigenvalues["λ"].imag, lam.imag, roundings=16)
        assert np.all(np.abs(view.eigenvalues["λ"]) < 1)  # stable by construction
        assert view.spectral_radius["λ"] == pytest.approx(np.abs(lam).max(), rel=1e-15)
        assert "LRU" in view.eigen_title and view.state_symbol == "c"


@pytest.mark.parametrize("cell, symbol, title", [("lstm", "h", "eigenvalues of W_hh"), ("lru", "c", None),
                                                 ("selective", "c", None), ("mingru", "h", None)])
def test_labels_name_the_state_that_carries_memory(cell, symbol, title):
    session = Session(SessionConfig(task="selective_copy", cell=cell, hidden_size=3, batch_size=4))
    view = gradient_flow_view(session)
    assert view.state_symbol == symbol == cell_spec(cell).memory_state
    assert gradients_view(session.snapshot()).norm_label == f"||dL/d{symbol}_t||"
    if title:
        assert view.eigen_title == title and view.decay is None and len(view.eigenvalues) == 4
