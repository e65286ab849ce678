"""The presets show what they claim, on the view batch."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.clipping import global_norm
from rnnviz.session.config import SessionConfig
from rnnviz.engine.init import InitError, set_carry_gate_bias
from rnnviz.session.presets import PRESETS, Preset, PresetError, get_preset
from rnnviz.session.session import Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.gradient_flow import gradient_flow_view
from tests.tolerances import unit_roundoff


# The ratios below are physics, not rounding: ||dL/dh_1|| / ||dL/dh_T|| shrinks or grows by a factor per
# step; float32 rounding (any CPU, any BLAS kernel) moves them by ~1e-6 relative, and every bound sits
# at least two decades from the values measured over seeds 0-7 (session/presets.py).


def batch_ratio(session: Session) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| over the whole view batch (first layer, forward direction)."""
    d_hidden = session.inspect().core_grads.layer(0, 0).d_hidden.astype(np.float64)  # (T, B, H)
    norms = np.sqrt(np.sum(d_hidden ** 2, axis=(1, 2)))
    return float(norms[0] / norms[-1])


@pytest.fixture(scope="module")
def built():
    return {name: preset.build() for name, preset in PRESETS.items()}


def test_the_required_presets_exist():
    assert {"vanishing", "exploding", "lstm_fixed", "gru_fixed", "clipping_off", "clipping_on"} <= set(PRESETS)
    for name, preset in PRESETS.items():
        assert preset.name == name and preset.title and len(preset.description) > 40


def test_vanishing_preset_gradient_vanishes(built):
    session = built["vanishing"]
    assert session.config.cell == "rnn_tanh" and session.task.name == "adding"
    assert batch_ratio(session) < 1e-3  # measured 8e-14 .. 4e-10
    assert gradient_flow_view(session).ratio_first_last < 1e-3  # the selected sample too


def test_exploding_preset_gradient_explodes(built):
    session = built["exploding"]
    assert session.config.cell == "rnn_relu" and session.config.init == "identity"
    # 1.2 rounded to float32 once: relative error <= u32; zeros exact (the floor is float32's finest spacing)
    np.testing.assert_allclose(session.model.parameters()["weight_hh_l0"], 1.2 * np.eye(32),
                               rtol=unit_roundoff(np.float32), atol=np.finfo(np.float32).smallest_subnormal)
    assert batch_ratio(session) > 1e3  # measured 2.4e4 .. 3.7e4
    assert gradient_flow_view(session).ratio_first_last > 1e3


@pytest.mark.parametrize("name,cell", [("lstm_fixed", "lstm"), ("gru_fixed", "gru")])
def test_gated_cells_keep_the_gradient_on_the_same_task(built, name, cell):
    session, vanishing = built[name], built["vanishing"]
    assert session.config.cell == cell
    assert (session.task.name, session.task.values) == (vanishing.task.name, vanishing.task.values)
    ratio = batch_ratio(session)
    assert ratio > 1e-2  # measured 0.07-0.87 (lstm), 0.40-0.45 (gru) over seeds 0-7
    assert ratio > 1e6 * batch_ratio(vanishing)  # vanishing: 8e-14 .. 4e-10


def test_carry_gate_bias_is_what_fixes_them():
    """Without the bias, the gated cells vanish nearly as badly: the bias is doing the work."""
    for name in ("lstm_fixed", "gru_fixed"):
        plain = Session(PRESETS[name].config.replace(carry_bias=0.0))
        assert batch_ratio(plain) < 1e-6  # measured 7e-11 (lstm), 3e-11 (gru) at seed 0


def test_clipping_on_clips_to_the_threshold_and_clipping_off_does_not(built):
    on, off = built["clipping_on"], built["clipping_off"]
    assert on.config.clip_norm == 1.0 and off.config.clip_norm == 0.0
    batch = on.view_batch
    report_on = on.trainer.step(batch.inputs, batch.targets, batch.mask)
    report_off = off.trainer.step(batch.inputs, batch.targets, batch.mask)
    assert report_on.clipped and report_on.grad_norm > 1e5  # measured >= 2.8e6
    # after clipping: norm / (norm + 1e-6) = 1 - 4e-13, from float32 gradients each rounded once when
    # scaled (u32 = 6e-8) with the norm summed in float64: within 2 u32 of 1, well inside 1e-4
    assert global_norm(report_on.result.grads) == pytest.approx(1.0, rel=1e-4, abs=1e-4)
    assert not report_off.clipped and global_norm(report_off.result.grads) > 1e5
    assert StepThrough(PRESETS["clipping_on"].build()).clip.fires


def test_clipping_on_keeps_training_finite_where_clipping_off_diverges():
    on, off = PRESETS["clipping_on"].build(), PRESETS["clipping_off"].build()
    assert off.train(3).finite is False
    assert on.train(3).finite is True


def test_train_steps_and_bias_are_applied_by_build():
    preset = Preset("t", "t", "t", SessionConfig(task="adding", task_params={"seq_len": 5}, cell="gru",
                                                   hidden_size=3, carry_bias=1.5), train_steps=2)
    session = preset.build()
    assert session.step == 2
    fresh = Session(preset.config)  # the bias is part of the settings, so it survives a rebuild
    np.testing.assert_array_equal(fresh.model.parameters()["bias_ih_l0"][3:6], 1.5)
    np.testing.assert_array_equal(fresh.model.parameters()["bias_hh_l0"][3:6], 0)


def test_unknown_names_and_cells_say_what_to_do():
    with pytest.raises(PresetError, match="vanishing"):
        get_preset("nope")
    with pytest.raises(InitError, match="lstm and gru"):
        set_carry_gate_bias(Session(PRESETS["vanishing"].config).model.core, 1.0)


def test_the_selective_copying_presets_differ_only_in_the_cell_and_its_selectivity():
    """The two presets are the same experiment but for the cell, and the difference they demonstrate is
    visible before any training: the LRU's decay is the same at every step, the selective layer's follows
    the tokens. (The accuracies in their descriptions were measured from the CLI, see presets.py.)"""
    lru, s6 = PRESETS["selective_copy_lru"], PRESETS["selective_copy_s6"]
    assert lru.config.replace(cell="selective") == s6.config
    assert (lru.config.cell, s6.config.task) == ("lru", "selective_copy")
    decays = {}
    for preset in (lru, s6):
        session = preset.build()
        decay = session.inspect().trace.layer(0).cache["decay"]  # the multiplier of c_(t-1), per t
        decays[preset.config.cell] = np.broadcast_to(decay, (session.view_batch.seq_len,) + decay.shape[1:])
    assert np.ptp(decays["lru"], axis=0).max() == 0.0  # λ, the same at every step
    assert np.ptp(decays["selective"], axis=0).max() > 1e-4  # exp(Δ_t A), moves with the tokens
