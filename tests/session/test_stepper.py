"""The step-through cursor against the full pass of session.inspect()."""
from __future__ import annotations


import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.stepper import StepThrough, clip_info
from tests.tolerances import assert_same_maths

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
SETUPS = {
    "plain": dict(task="adding", task_params={"seq_len": 7}),
    "two_layers_lower": dict(task="sine", task_params={"seq_len": 6}, num_layers=2),
    "bidirectional_reverse": dict(task="adding", task_params={"seq_len": 6}, bidirectional=True),
    "padded_many_to_one": dict(task="parity", task_params={"seq_len": 8, "lengths": "variable"},
                               bidirectional=True),
    "padded_many_to_many": dict(task="dyck", task_params={"seq_len": 8, "lengths": "variable",
                                                          "target": "depth"}),
    "tbptt": dict(task="sine", task_params={"seq_len": 9}, tbptt=4, bidirectional=True),
}
SELECTIONS = {
    "plain": Selection(sample=1),
    "two_layers_lower": Selection(sample=2, layer=0),
    "bidirectional_reverse": Selection(sample=3, direction=1),
    "padded_many_to_one": None,  # chosen below: a padded sample, reverse direction
    "padded_many_to_many": None,  # chosen below: a padded sample
    "tbptt": Selection(sample=0, direction=1),
}


def make_session(mode, setup, **extra) -> Session:
    values = dict(cell=mode, hidden_size=5, dtype="float64", batch_size=4, seed=2)
    values.update(SETUPS[setup])
    values.update(extra)
    return Session(SessionConfig(**values))


def _selection(session: Session, setup: str) -> Selection:
    if SELECTIONS[setup] is not None:
        return SELECTIONS[setup]
    mask = session.view_batch.mask
    padded = int(np.argmin(mask.sum(axis=0)))  # the shortest sequence of the view batch
    assert mask[:, padded].min() == 0, "the view batch should contain a padded sequence"
    return Selection(sample=padded, direction=1 if session.config.bidirectional else 0)


def _reference(session: Session, selection: Selection):
    result = session.inspect()
    return (result, result.trace.layer(selection.layer, selection.direction),
            result.core_grads.layer(selection.layer, selection.direction))


@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("mode", MODES)
def test_stepping_forward_T_times_equals_the_full_forward_trace(mode, setup):
    session = make_session(mode, setup)
    session.train(2)
    selection = _selection(session, setup)
    _, forward, _ = _reference(session, selection)
    stepper = StepThrough(session, selection)
    s, T = selection.sample, stepper.seq_len
    assert np.isnan(stepper.hidden_so_far).all()
    # one sample stepped against the batched pass: the same maths by another route, float64, within 2 N u
    # (tests/tolerances.py; N <= 2^12 roundings for these T <= 9, hidden 5, two-layer nets)
    for k in range(T):
        step = stepper.step_forward()
        t = stepper.order[k]
        assert step.t == t and stepper.forward_done == k + 1
        assert_same_maths(step.h, forward.hidden[t, s])
        assert_same_maths(step.h_prev, forward.prev_hidden[t, s])
        assert_same_maths(step.x, forward.inputs[t, s], roundings=1)  # at most a product by the mask
        for name, gate in forward.gates.items():
            assert_same_maths(step.gates[name], gate[t, s])
        preact = np.concatenate(list(step.preact.values()))
        assert_same_maths(preact, forward.preact[t, s])
        if mode == "lstm":
            assert_same_maths(step.c, forward.cell_state[t, s])
        assert step.masked == (session.view_batch.mask[t, s] == 0)
        assert np.isnan(stepper.hidden_so_far).sum() == (T - k - 1) * forward.hidden.shape[2]
    assert stepper.step_forward() is None
    assert_same_maths(stepper.hidden_so_far, forward.hidden[:, s])
    if mode == "lstm":
        assert_same_maths(stepper.cell_state_so_far, forward.cell_state[:, s])
    else:
        assert stepper.cell_state_so_far is None
    if setup.startswith("padded"):
        assert any(stepper.cell_step(t).masked for t in range(T))


@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("mode", MODES)
def test_stepping_back_T_times_equals_the_full_bptt_gradients(mode, setup):
    session = make_session(mode, setup)
    session.train(2)
    selection = _selection(session, setup)
    result, _, backward = _reference(session, selection)
    stepper = StepThrough(session, selection)
    s, T = selection.sample, stepper.seq_len
    assert stepper.step_backward() is None  # not before the forward pass is complete
    stepper.seek_forward(T)
    assert stepper.phase == "forward"
    # the same maths by another route, float64: within 2 N u (tests/tolerances.py), as for the forward pass
    for k in range(T):
        step = stepper.step_backward()
        t = stepper.order[-1 - k]
        assert step.t == t and stepper.backward_done == k + 1 and stepper.phase == "backward"
        assert_same_maths(step.d_hidden, backward.d_hidden[t, s])
        assert_same_maths(step.d_hidden_from_output + step.d_hidden_from_next, step.d_hidden, roundings=1)
        assert_same_maths(np.concatenate(list(step.d_preact.values())), backward.d_preact[t, s])
        if mode == "lstm":
            assert_same_maths(step.d_cell, backward.d_cell_state[t, s])
        for kind, label in (("weight_ih", "W_ih"), ("weight_hh", "W_hh"), ("bias_ih", "b_ih"),
                            ("bias_hh", "b_hh")):
            assert_same_maths(step.contribution[label], backward.contribution(kind, t))
    assert stepper.step_backward() is None
    suffix = f"_l{selection.layer}" + ("_reverse" if selection.direction else "")
    for kind, label in (("weight_ih", "W_ih"), ("weight_hh", "W_hh"), ("bias_ih", "b_ih"), ("bias_hh", "b_hh")):
        assert_same_maths(stepper.current_backward.accumulated[label], result.grads[kind + suffix], err_msg=label)
        np.testing.assert_array_equal(stepper.full_grads[label], result.grads[kind + suffix])
    expected_norms = np.linalg.norm(backward.d_hidden[:, s], axis=1)
    assert_same_maths(stepper.grad_norm_so_far, expected_norms)
    assert_same_maths(session.snapshot(selection).grad_norm_per_step, stepper.grad_norm_so_far)


def test_the_loss_enters_at_the_last_step_for_many_to_one_and_only_there():
    session = make_session("rnn_tanh", "plain")
    stepper = StepThrough(session, Selection(sample=1))
    stepper.seek_backward(1)
    first = stepper.current_backward
    assert first.t == stepper.seq_len - 1
    assert np.linalg.norm(first.d_hidden_from_output) > 0
    np.testing.assert_array_equal(first.d_hidden_from_next, 0)
    for _ in range(stepper.seq_len - 1):
        step = stepper.step_backward()
        np.testing.assert_array_equal(step.d_hidden_from_output, 0)  # adding: one output, at the end


def test_tbptt_cuts_the_recurrent_gradient_at_chunk_boundaries():
    session = make_session("gru", "tbptt")  # T = 9, tbptt = 4: chunks [0,4) [4,8) [8,9)
    stepper = StepThrough(session, Selection(sample=1))
    assert stepper.tbptt == 4
    stepper.seek_backward(stepper.seq_len)
    cut = [t for t in range(9) if stepper.grad_step(t).cut]
    assert cut == [4, 8]  # step t read h_(t-1) across a boundary: 3|4 and 7|8
    for t in (3, 7):  # the step that read h_3 (h_7) was cut: nothing flows back into h_3 (h_7)
        np.testing.assert_array_equal(stepper.grad_step(t).d_hidden_from_next, 0)
    assert np.linalg.norm(stepper.grad_step(2).d_hidden_from_next) > 0


def test_stepping_back_and_forth_is_consistent():
    session = make_session("lstm", "bidirectional_reverse")
    session.train(1)
    stepper = StepThrough(session, Selection(sample=3, direction=1))
    T = stepper.seq_len
    stepper.seek_backward(T)
    full = {t: stepper.grad_step(t) for t in range(T)}
    forward = {t: stepper.cell_step(t) for t in range(T)}
    stepper.seek_backward(2)
    stepper.step_backward_back()
    assert stepper.backward_done == 1
    again = stepper.step_backward()
    np.testing.assert_array_equal(again.d_hidden, full[again.t].d_hidden)
    for name, value in full[again.t].accumulated.items():
        np.testing.assert_array_equal(again.accumulated[name], value)
    stepper.seek_backward(T)
    np.testing.assert_array_equal(stepper.current_backward.accumulated["W_hh"],
                                  full[stepper.order[0]].accumulated["W_hh"])  # reverse: ends at T-1
    stepper.step_forward_back()  # going back in the forward pass drops the backward steps
    assert (stepper.forward_done, stepper.backward_done, stepper.phase) == (T - 1, 0, "forward")
    assert np.isnan(stepper.grad_norm_so_far).all()
    assert np.isnan(stepper.hidden_so_far[stepper.order[-1]]).all()
    stepper.seek_forward(2)
    stepper.step_forward_back()
    step = stepper.step_forward()
    np.testing.assert_array_equal(step.h, forward[step.t].h)
    stepper.reset()
    assert stepper.forward_done == 0 and stepper.current_forward is None and stepper.current_backward is None


def test_clicking_any_timestep_before_stepping_to_it():
    session = make_session("gru", "plain")
    stepper = StepThrough(session, Selection(sample=1))
    _, forward, backward = _reference(session, Selection(sample=1))
    middle = stepper.cell_step(3)
    assert_same_maths(middle.h, forward.hidden[3, 1])
    grad = stepper.grad_step(3)
    assert_same_maths(grad.d_hidden, backward.d_hidden[3, 1])
    assert stepper.forward_done == 0 and stepper.backward_done == 0  # the cursor did not move
    with pytest.raises(IndexError, match="outside"):
        stepper.cell_step(stepper.seq_len)


def test_clip_info_reports_where_clipping_fires():
    session = make_session("rnn_relu", "plain", init="identity", init_scale=1.2, clip_norm=0.5,
                           task_params={"seq_len": 30})
    stepper = StepThrough(session)
    assert stepper.clip.threshold == 0.5 and stepper.clip.fires
    # scaled by 0.5 / (norm + 1e-6) (PyTorch's rule): 0.5 norm / (norm + 1e-6) is within 1e-6 / norm
    # (norm >> 1 for this exploding net) plus rounding (2 N u) of 0.5
    assert stepper.clip.norm_after == pytest.approx(0.5, rel=1e-5, abs=1e-12)
    off = clip_info({"w": np.array([3.0, 4.0])}, None)
    assert (off.global_norm, off.fires, off.scale) == (5.0, False, 1.0)
    loose = clip_info({"w": np.array([3.0, 4.0])}, 10.0)
    assert not loose.fires and loose.scale == 1.0
