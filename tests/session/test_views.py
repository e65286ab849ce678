"""View states against the engine: every number a step-through panel prints is the engine's own (its
traces), checked for layers 0 and 1 and both directions, and against finite differences where the view
adds a quantity of its own (the summed weight-gradient contributions, the lag norms)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.gradcheck import DEFAULT_RTOL
from rnnviz.engine.stepping import gate_names, layer_weights, step_forward
from rnnviz.engine.trace import grad_norm_per_step
from rnnviz.session.config import SessionConfig
from rnnviz.session.presets import PRESETS
from rnnviz.session.session import Selection, Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.common import PAD_LABEL, plural, time_axis
from rnnviz.session.views.gradient_flow import first_last_ratio, gradient_flow_view
from rnnviz.session.views.step_through import (
    MATCH_TOLERANCE,
    bptt_view,
    equations_view,
    full_pass_views,
    step_views,
)
from rnnviz.session.views.training import hidden_view, predictions_view, training_views, weights_view
from tests.tolerances import assert_matches_finite_differences, assert_same_maths, same_maths_tolerance

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
ROWS = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (layer, direction): both layers, both directions
FD_EPS = 1e-6  # central-difference step
KINDS = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
# The view states and the engine are two float64 routes through the same sums (the engine's fused
# matmuls, the textbook steps, the session's term-by-term split): assert_same_maths bounds them by the
# rounding count of these small networks (tests/tolerances.py).


def padded_session(mode: str) -> Session:
    """Two bidirectional float64 layers on Dyck words of varying length (the view batch has padding)."""
    session = Session(SessionConfig(task="dyck", task_params={"seq_len": 8, "lengths": "variable", "target": "depth"},
                                    cell=mode, hidden_size=5, num_layers=2, bidirectional=True, dtype="float64",
                                    batch_size=4, seed=3))
    session.train(2)
    return session


def padded_sample(session: Session) -> int:
    mask = session.view_batch.mask
    sample = int(np.argmin(mask.sum(axis=0)))
    assert mask[:, sample].min() == 0, "the view batch should hold a padded sequence"
    return sample


@pytest.fixture(scope="module", params=MODES)
def built(request):
    session = padded_session(request.param)
    return session, padded_sample(session)


# ---------------------------------------------------------------------- equations


@pytest.mark.parametrize("layer,direction", ROWS)
def test_equation_terms_add_up_to_the_engine_pre_activations(built, layer, direction):
    session, s = built
    stepper = StepThrough(session, Selection(sample=s, layer=layer, direction=direction))
    trace = stepper.reference.trace.layer(layer, direction)
    H = trace.hidden.shape[2]
    names = gate_names(session.config.cell)
    for t in range(stepper.seq_len):
        view = equations_view(stepper, t)
        assert view.t == t and view.gate_names == names
        assert_same_maths(view.x, trace.inputs[t, s])  # layer 1 reads layer 0's output
        assert_same_maths(view.h_prev, trace.prev_hidden[t, s])  # reverse: h_(t+1)
        assert_same_maths(view.h, trace.hidden[t, s])
        for k, gate in enumerate(names):
            terms = view.terms[gate]
            scaled_by = cell_spec(session.config.cell).gate(gate).hidden_scaled_by  # GRU n: r ⊙ (W_hn h + b_hn)
            if scaled_by:
                preact = terms["Wx"] + terms["bx"] + view.gates[scaled_by] * (terms["Wh"] + terms["bh"])
            else:
                preact = terms["Wx"] + terms["bx"] + terms["Wh"] + terms["bh"]
            engine = trace.preact[t, s, k * H:(k + 1) * H]
            assert_same_maths(preact, engine, err_msg=f"{gate} at t={t}")
            assert_same_maths(view.preact[gate], engine)
        for gate, values in trace.gates.items():
            assert_same_maths(view.gates[gate], values[t, s])
        if trace.cell_state is not None:
            assert_same_maths(view.c, trace.cell_state[t, s])
            assert_same_maths(view.c_prev, trace.prev_cell_state[t, s])
        assert view.masked == (session.view_batch.mask[t, s] == 0)
        if view.masked:  # the sequence has ended: the state is carried over, whatever the cell computed
            np.testing.assert_array_equal(view.h, view.h_prev)
        else:
            np.testing.assert_array_equal(view.h_computed, view.h)


def test_equations_wait_for_the_forward_pass():
    session = padded_session("lstm")
    stepper = StepThrough(session, Selection(layer=1, direction=1))
    views = step_views(stepper, cursor=3)
    assert views.equations.t is None and "step forward" in views.equations.message
    stepper.seek_forward(stepper.seq_len)
    assert step_views(stepper, cursor=3).equations.t == 3


# ---------------------------------------------------------------------- BPTT


@pytest.mark.parametrize("layer,direction", ROWS)
def test_bptt_view_is_the_engine_backward_pass(built, layer, direction):
    session, s = built
    stepper = StepThrough(session, Selection(sample=s, layer=layer, direction=direction))
    backward = stepper.reference.core_grads.layer(layer, direction)
    norms = stepper.grad_norm_full
    assert_same_maths(norms, np.linalg.norm(backward.d_hidden[:, s], axis=1))
    for t in range(stepper.seq_len):
        view = bptt_view(stepper, t, norms, stepper.seq_len)
        assert view.t == t
        assert_same_maths(view.d_hidden_from_output + view.d_hidden_from_next, backward.d_hidden[t, s])
        for label in ("W_ih", "W_hh"):
            assert_same_maths(view.contribution[label], backward.contribution(KINDS[label], t))
    final = full_pass_views(stepper).bptt
    assert final.t == stepper.order[0] and final.match is not None and final.match[0]
    assert final.match[1] <= MATCH_TOLERANCE["float64"]
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    for label in ("W_ih", "W_hh"):
        assert_same_maths(final.accumulated[label], stepper.reference.grads[KINDS[label] + suffix])


def loss_of(session: Session) -> float:
    batch = session.view_batch
    return session.model.loss(batch.inputs, batch.targets, batch.mask)


@pytest.mark.parametrize("layer,direction", ROWS)
def test_summed_contributions_equal_finite_differences_of_the_loss(layer, direction):
    """The gradient the BPTT view accumulates step by step, against central differences of the loss."""
    session = padded_session("gru")
    stepper = StepThrough(session, Selection(layer=layer, direction=direction))
    accumulated = full_pass_views(stepper).bptt.accumulated
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    parameters = session.model.parameters()
    rng = np.random.default_rng(layer * 2 + direction)
    eps = 1e-6
    for label in ("W_ih", "W_hh"):
        array = parameters[KINDS[label] + suffix]  # the live array: perturbed in place, then restored
        for flat in rng.choice(array.size, size=4, replace=False):
            index = np.unravel_index(flat, array.shape)
            original = array[index]
            array[index] = original + eps
            up = loss_of(session)
            array[index] = original - eps
            down = loss_of(session)
            array[index] = original
            numeric = (up - down) / (2 * eps)
            assert_matches_finite_differences(accumulated[label][index], numeric, loss_of(session), eps,
                                              err_msg=f"{label}{index}")


# ---------------------------------------------------------------------- the unrolled diagram


@pytest.mark.parametrize("layer,direction", ROWS)
def test_diagram_view_shows_the_selected_row_and_names_padding(built, layer, direction):
    session, s = built
    stepper = StepThrough(session, Selection(sample=s, layer=layer, direction=direction))
    trace = stepper.reference.trace.layer(layer, direction)
    mask = session.view_batch.mask[:, s]
    empty = step_views(stepper, cursor=0).diagram
    assert np.isnan(empty.hidden).all() and empty.phase == "forward"
    diagram = full_pass_views(stepper).diagram
    assert (diagram.layer, diagram.direction, diagram.phase) == (layer, direction, "done")
    assert_same_maths(diagram.hidden, trace.hidden[:, s])
    assert [label == PAD_LABEL for label in diagram.labels] == list(mask == 0)
    top = layer == session.config.num_layers - 1
    assert np.isfinite(diagram.outputs).any() == top  # predictions only beside the top layer


@pytest.mark.parametrize("task", ["sentiment", "parity"])
def test_many_to_one_has_one_output_and_loss_at_the_last_real_step(task):
    params = {"lengths": "variable"} if task == "parity" else {}
    session = Session(SessionConfig(task=task, task_params=params, hidden_size=4, dtype="float64", seed=1))
    masks = session.view_batch.mask  # (T, B)
    s = int(np.argmin(masks.sum(axis=0)))  # the shortest sample: padding after its last word
    last_real = int(np.flatnonzero(masks[:, s])[-1])
    assert last_real < masks.shape[0] - 1, "the view batch should have a padded sample"
    diagram = full_pass_views(StepThrough(session, Selection(sample=s))).diagram
    assert diagram.io == "many_to_one"
    assert list(np.flatnonzero(diagram.has_output)) == [last_real]
    assert list(np.flatnonzero(np.isfinite(diagram.outputs).all(axis=1))) == [last_real]
    prediction = session.inspect().predictions[s]  # (O,) what the head says for this sample
    assert_same_maths(diagram.outputs[last_real], prediction)
    assert diagram.output_names == session.task.info().output_names and diagram.loss_kind == "cross_entropy"


def test_many_to_many_has_outputs_at_every_real_step_only(built):
    session, s = built  # dyck "depth": many-to-many, padded
    diagram = full_pass_views(StepThrough(session, Selection(sample=s, layer=1))).diagram
    real = session.view_batch.mask[:, s] == 1
    np.testing.assert_array_equal(diagram.has_output, real)
    np.testing.assert_array_equal(np.isfinite(diagram.outputs).all(axis=1), real)


# ---------------------------------------------------------------------- gradient flow


def finite_difference_lag_norms(session: Session, selection: Selection, eps: float = FD_EPS) -> np.ndarray:
    """||∂h_last/∂h_t||_F (c_t held fixed) by central differences through the textbook forward steps."""
    result = session.inspect()
    trace = result.trace.layer(selection.layer, selection.direction)
    s, T, H = selection.sample, trace.seq_len, trace.hidden.shape[2]
    weights = layer_weights(result.trace.weights, selection.layer, selection.direction, np.float64)
    real = result.trace.mask[:, s]
    order = list(range(T - 1, -1, -1)) if trace.reverse else list(range(T))

    def last_state(k: int, h: np.ndarray) -> np.ndarray:
        """h after the last step, starting from state h after processing step order[k]."""
        c = None if trace.cell_state is None else trace.cell_state[order[k], s][None]
        h = h[None]
        for t in order[k + 1:]:
            if real[t] > 0:
                state = step_forward(trace.mode, weights, trace.inputs[t, s][None], h, c)
                h, c = state.h, state.c
        return h[0]

    norms = np.empty(T)
    for k, t in enumerate(order):
        jacobian = np.empty((H, H))
        for unit in range(H):
            bump = np.zeros(H)
            bump[unit] = eps
            jacobian[:, unit] = (last_state(k, trace.hidden[t, s] + bump) - last_state(k, trace.hidden[t, s] - bump)) / (2 * eps)
        norms[T - 1 - k] = np.linalg.norm(jacobian)  # lag = steps before the last processed one
    return norms


@pytest.mark.parametrize("layer,direction", ROWS)
def test_gradient_flow_lag_norms_equal_finite_differences(built, layer, direction):
    session, s = built
    selection = Selection(sample=s, layer=layer, direction=direction)
    view = gradient_flow_view(session, selection)
    numeric = finite_difference_lag_norms(session, selection)
    # Central differences of h_last (eps = 1e-6): each of the two forward passes is within N u |h| of
    # exact (N = SMALL_NET roundings, |h| <= 1 here), so an entry's round-off is <= 2 N u / (2 eps), and
    # the Frobenius norm of the H x H errors at most H times that; truncation eps^2 |h'''| / 6 is the
    # relative 1e-6 the gradient check allows too (rnnviz/engine/gradcheck.py).
    H = session.config.hidden_size
    np.testing.assert_allclose(view.lag_norms, numeric, rtol=DEFAULT_RTOL,
                               atol=H * same_maths_tolerance() / (2 * FD_EPS))
    assert (view.layer, view.direction, view.step) == (layer, direction, session.step)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_flow_view_fields(mode):
    session = Session(SessionConfig(task="adding", task_params={"seq_len": 6}, cell=mode, hidden_size=5,
                                    num_layers=2, bidirectional=True, dtype="float64", batch_size=4, seed=2))
    view = gradient_flow_view(session, Selection(sample=2, layer=1, direction=1))
    T, H = 6, 5
    assert view.lags.shape == view.lag_norms.shape == view.grad_norm_per_step.shape == (T,)
    assert_same_maths(view.lag_norms[0], np.sqrt(H), roundings=2 * H)  # lag 0: the norm of the identity
    gates = {"rnn_tanh": ["a"], "rnn_relu": ["a"], "lstm": list("ifgo"), "gru": list("rzn")}[mode]
    assert list(view.eigenvalues) == gates == list(view.spectral_radius)
    W_hh = session.model.parameters()["weight_hh_l1_reverse"].astype(np.float64)
    # the same LAPACK eigenvalues either way, backward stable within p(n) u ||A||, p(5) < 2^10: 2 N u
    assert_same_maths(view.spectral_radius[gates[0]], np.max(np.abs(np.linalg.eigvals(W_hh[:H]))), roundings=2**10)
    # reverse direction: the first processed step is t = T-1, the last t = 0
    assert_same_maths(view.ratio_first_last, view.grad_norm_per_step[-1] / view.grad_norm_per_step[0], roundings=2)


def test_first_last_ratio_edge_cases():
    assert first_last_ratio(np.array([1.0, 2.0, 4.0])) == 0.25
    assert first_last_ratio(np.array([1.0, 2.0, 4.0]), reverse=True) == 4.0
    assert first_last_ratio(np.array([1.0, 0.0])) == float("inf")
    assert np.isnan(first_last_ratio(np.array([0.0, 0.0])))


# ---------------------------------------------------------------------- one definition, shared


@pytest.mark.parametrize("layer,direction", ROWS)
def test_every_view_reports_the_same_gradient_norms(built, layer, direction):
    session, s = built
    selection = Selection(sample=s, layer=layer, direction=direction)
    result = session.inspect()
    expected = grad_norm_per_step(result.core_grads.layer(layer, direction).d_hidden[:, s])
    np.testing.assert_array_equal(session.snapshot(selection, result).grad_norm_per_step, expected)
    np.testing.assert_array_equal(gradient_flow_view(session, selection, result).grad_norm_per_step, expected)
    stepper = StepThrough(session, selection, result)
    assert_same_maths(full_pass_views(stepper).diagram.grad_norm, expected)  # float64 steps
    assert_same_maths(training_views(session.snapshot(selection, result))["gradients"].grad_norm_per_step, expected)


# ---------------------------------------------------------------------- training views and labels


def test_padded_timesteps_read_pad_not_token_zero():
    """Dyck pads with zero rows, whose argmax is token 0, "(": every time axis must say <pad> instead."""
    session = padded_session("lstm")
    s = padded_sample(session)
    mask = session.view_batch.mask[:, s]
    snapshot = session.snapshot(Selection(sample=s))
    assert [label == PAD_LABEL for label in snapshot.timestep_labels] == list(mask == 0)
    assert all(label != PAD_LABEL for label, real in zip(snapshot.timestep_labels, mask) if real)
    hidden = hidden_view(snapshot)
    assert hidden.time.named and hidden.time.padding_start == int(mask.sum())
    token_ids = hidden.line_values[:, 0]
    assert np.isnan(token_ids[mask == 0]).all() and np.isfinite(token_ids[mask > 0]).all()
    inputs = session.view_batch.inputs[:, s]
    assert session.task.timestep_labels(inputs, mask)[-1] == PAD_LABEL
    assert session.task.timestep_labels(inputs)[-1] != PAD_LABEL  # without the mask: the zero row's argmax


def test_a_numeric_axis_with_padding_names_the_padding_and_keeps_its_title():
    axis = time_axis(["0", "1", PAD_LABEL], np.array([1.0, 1.0, 0.0]), token_inputs=False)
    assert axis.named and axis.title == "timestep" and axis.padding_start == 2
    plain = time_axis(["0", "1", "2"], np.ones(3), token_inputs=False)
    assert not plain.named and plain.padding_start == 3


def test_weights_view_names_the_head_rows_by_this_tasks_outputs():
    for task, outputs in (("adding", ("sum",)), ("sine", None), ("sentiment", None)):
        session = Session(SessionConfig(task=task, hidden_size=4, batch_size=2))
        view = weights_view(session.snapshot())
        names = tuple(session.task.info().output_names)
        assert view.row_names["W_out"] == names == view.row_names["b_out"]
        if outputs is not None:
            assert names == outputs
        assert view.column_names["W_ih"] == tuple(session.task.info().input_names)
    lstm = weights_view(Session(SessionConfig(cell="lstm", hidden_size=4, num_layers=2, batch_size=2))
                        .snapshot(Selection(layer=1)))
    assert lstm.gate_names == gate_names("lstm") and "W_ih" not in lstm.column_names  # layer 1 reads hidden units


def test_class_predictions_carry_the_target_class_and_its_probability():
    session = Session(SessionConfig(task="dyck", task_params={"seq_len": 8, "target": "depth"}, hidden_size=4,
                                    batch_size=2))
    snapshot = session.snapshot()
    view = predictions_view(snapshot)
    assert view.kind == "classes" and view.classification and view.probability
    t = np.arange(view.targets.shape[0])
    np.testing.assert_array_equal(view.target_class, np.argmax(snapshot.targets, axis=1))
    np.testing.assert_array_equal(view.p_target, snapshot.predictions[t, view.target_class])


def test_every_preset_builds_a_different_configuration():
    configs = [preset.config for preset in PRESETS.values()]
    assert len(configs) == len({repr(config) for config in configs})
    assert PRESETS["exploding"].config != PRESETS["clipping_off"].config


def test_counted_nouns_agree():
    assert [plural(n, "step") for n in (0, 1, 2, 1000)] == ["0 steps", "1 step", "2 steps", "1,000 steps"]
    assert plural(1, "recorded step") == "1 recorded step"


@pytest.mark.parametrize("mode", ("rnn_tanh", "lstm", "gru"))
def test_bptt_view_gradients_match_pytorch_autograd(mode):
    """dL/dh_t of every timestep, as the BPTT view shows it, against PyTorch unrolling the same cell
    (nn.RNNCell / LSTMCell / GRUCell with the session's weights) and asking autograd for each h_t's grad."""
    torch = pytest.importorskip("torch")
    session = Session(SessionConfig(task="sine", task_params={"seq_len": 7}, cell=mode, hidden_size=5,
                                    dtype="float64", batch_size=3, seed=4))
    session.train(2)
    stepper = StepThrough(session, Selection(sample=1))
    params = {k: torch.tensor(v) for k, v in session.model.parameters().items()}
    H, I = 5, session.task.input_size
    cell = {"rnn_tanh": torch.nn.RNNCell(I, H), "lstm": torch.nn.LSTMCell(I, H), "gru": torch.nn.GRUCell(I, H)}[mode]
    cell = cell.double()
    with torch.no_grad():
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, kind).copy_(params[kind + "_l0"])
    batch = session.view_batch
    x = torch.tensor(batch.inputs)  # (T, B, I)
    h = torch.zeros(x.shape[1], H, dtype=torch.float64)
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[0]):
        if mode == "lstm":
            h, c = cell(x[t], (h, c))
        else:
            h = cell(x[t], h)
        h.retain_grad()
        states.append(h)
    logits = torch.stack(states) @ params["head.weight"].T + params["head.bias"]  # (T, B, O)
    loss = torch.nn.functional.mse_loss(logits, torch.tensor(batch.targets))
    loss.backward()
    assert loss.item() == pytest.approx(session.inspect().loss, rel=1e-12)
    norms = stepper.grad_norm_full
    for t in range(stepper.seq_len):
        view = bptt_view(stepper, t, norms, stepper.seq_len)
        # float64 both sides, the same equations by two routes (tests/tolerances.py)
        assert_same_maths(view.d_hidden_from_output + view.d_hidden_from_next, states[t].grad[1].numpy(),
                          err_msg=f"t={t}")


# ---------------------------------------------------------------------- one-hot inputs


@pytest.mark.parametrize(("task", "params"), [("sentiment", {}), ("parity", {"lengths": "variable"})])
def test_token_inputs_are_one_hot_rows_named_by_the_vocabulary(task, params):
    from rnnviz.session.views.training import ONE_HOT_ROWS, hidden_view

    session = Session(SessionConfig(task=task, task_params=params, hidden_size=4, seed=1))
    mask = session.view_batch.mask
    s = int(np.argmin(mask.sum(axis=0)))
    view = hidden_view(session.snapshot(Selection(sample=s)))
    vocabulary = session.task.info().input_names
    real = mask[:, s] == 1
    assert view.vocabulary_size == len(vocabulary)
    if len(vocabulary) <= ONE_HOT_ROWS:
        assert view.one_hot_names == vocabulary
    else:  # only the words this sentence uses, in vocabulary order
        used = {label for label, r in zip(view.time.labels, real) if r}
        assert set(view.one_hot_names) == used
        assert list(view.one_hot_names) == sorted(view.one_hot_names, key=vocabulary.index)
    np.testing.assert_array_equal(view.one_hot[~real], 0.0)  # padding reads nothing
    np.testing.assert_array_equal(view.one_hot[real].sum(axis=1), 1.0)
    for t in np.flatnonzero(real):  # the hot row is the word on the time axis
        assert view.one_hot_names[int(np.argmax(view.one_hot[t]))] == view.time.labels[t]


def test_value_inputs_have_no_one_hot():
    from rnnviz.session.views.training import hidden_view

    session = Session(SessionConfig(task="adding", hidden_size=4))
    assert hidden_view(session.snapshot()).one_hot is None
