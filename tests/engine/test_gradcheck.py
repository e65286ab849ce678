import numpy as np
import pytest

from rnnviz.engine import Recurrent
from rnnviz.engine.gradcheck import (
    DEFAULT_RTOL,
    GradCheckError,
    central_differences,
    compare_gradients,
    gradcheck,
    roundoff_atol,
)
from rnnviz.engine.model import ModelConfig, SequenceModel


def _sin_problem():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 5))
    c = rng.standard_normal((4, 5))
    return w, c, (lambda: float(np.sum(np.sin(w) * c)))


def test_correct_gradient_passes_on_the_round_off_floor_alone():
    """With rtol = 0 only atol = 2^10 ulp(S) / eps is left: it covers round-off (measured ~1 ulp,
    analysis in engine/gradcheck.py) and truncation, eps² |L'''| / 6 <= 1.7e-13 |c| here."""
    w, c, loss = _sin_problem()
    result = compare_gradients({"w": w}, loss, {"w": np.cos(w) * c}, rtol=0.0)
    assert result.passed and result.worst_ratio <= 1.0, str(result)
    assert result.params[0].checked == 20 and result.params[0].shape == (4, 5)
    assert result.params[0].atol == roundoff_atol(1e-6, result.loss_scale) == result.params[0].allowed


def test_wrong_gradient_is_caught_at_its_entry():
    w, c, loss = _sin_problem()
    wrong = np.cos(w) * c
    wrong[2, 3] += 0.05
    result = compare_gradients({"w": w}, loss, {"w": wrong})
    assert not result.passed
    check = result.worst()
    assert check.name == "w" and check.worst_index == (2, 3) and check.ratio > 1e4
    # the numeric derivative is within atol (2.3e-7 here) of cos(w) c, so the error is 0.05 to 1e-5
    assert result.max_abs_error == pytest.approx(0.05, rel=1e-4)
    assert check.worst_analytic == wrong[2, 3]


def test_tiny_gradient_with_round_off_error_passes_and_a_real_error_fails():
    """The trap of a relative-only check (issue 8: 1.6e-6 > 1e-6 on a gradient of ~1e-4 whose
    error was 9.9e-11): an error far below the round-off floor passes whatever the gradient's
    size; one of two allowances fails."""
    w, c, loss = _sin_problem()
    c *= 1e-4  # gradients ~1e-4
    exact = np.cos(w) * c
    noisy = exact.copy()
    noisy[1, 1] += 1e-10  # relative error ~1e-6 of this gradient, far below atol = 2.3e-7
    assert compare_gradients({"w": w}, loss, {"w": noisy}).passed
    atol = roundoff_atol(1e-6, 1.0)
    wrong = exact.copy()
    wrong[1, 1] += 2 * (atol + DEFAULT_RTOL * abs(exact[1, 1]))
    result = compare_gradients({"w": w}, loss, {"w": wrong})
    assert not result.passed and result.worst().worst_index == (1, 1)
    assert 1.5 < result.worst_ratio < 2.5  # 2 allowances off, give or take the numeric error (<< atol)


def test_the_step_actually_stored_is_the_divisor():
    """w ± eps rounds (ulp(1000.3) = 1.1e-13 is 1e-7 of eps): dividing by 2 eps would be off by
    ~1e-7; dividing by the stored step w+ - w- gives the slope of a linear loss exactly."""
    w = np.array([1000.3])
    numeric = central_differences(lambda: float(w[0]), w, [0], eps=1e-6)
    assert numeric[0] == 1.0


def test_a_step_below_the_dtype_resolution_is_refused():
    w = np.array([1000.0], dtype=np.float32)  # ulp 6e-5 > 2 eps: w ± 1e-6 rounds back to w
    with pytest.raises(GradCheckError, match="resolution of float32"):
        compare_gradients({"w": w}, lambda: float(w[0]), {"w": np.ones(1)})
    assert w[0] == 1000.0


def test_parameters_are_restored_exactly():
    w, c, loss = _sin_problem()
    before = w.copy()
    compare_gradients({"w": w}, loss, {"w": np.cos(w) * c})
    np.testing.assert_array_equal(w, before)


def test_random_subset_is_seeded():
    w, c, loss = _sin_problem()
    wrong = np.cos(w) * c
    wrong.reshape(-1)[::2] += 1.0  # half the entries wrong
    a = compare_gradients({"w": w}, loss, {"w": wrong}, max_entries=6, seed=3)
    b = compare_gradients({"w": w}, loss, {"w": wrong}, max_entries=6, seed=3)
    assert a.params[0].checked == 6
    assert a == b


def test_table_text():
    w, c, loss = _sin_problem()
    text = str(compare_gradients({"w": w}, loss, {"w": np.cos(w) * c}))
    assert "w " in text and "4x5" in text and "allowed" in text and "ratio" in text


@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm", "gru"])
def test_bare_core_in_float32_is_checked_in_float64(mode):
    core = Recurrent(mode, 3, 4, num_layers=2, bidirectional=True, dtype=np.float32, seed=1)
    inputs = np.random.default_rng(2).standard_normal((4, 2, 3)).astype(np.float32)
    mask = np.array([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=np.float32)
    result = gradcheck(core, inputs, mask=mask, max_entries=6, check_inputs=True)
    assert result.passed, str(result)  # per entry within atol + rtol |numeric| (engine/gradcheck.py)
    assert {p.name for p in result.params} == set(core.parameters()) | {"inputs"}
    assert core.parameters()["weight_hh_l0"].dtype == np.float32  # the original is untouched


def test_float32_model_is_checked_in_float64():
    model = SequenceModel(ModelConfig("gru", 2, 5, 3, loss="cross_entropy", dtype="float32", seed=4))
    rng = np.random.default_rng(5)
    before = model.state_dict()
    result = gradcheck(model, rng.standard_normal((6, 3, 2)), rng.integers(0, 3, 3))
    assert result.passed, str(result)  # per entry within atol + rtol |numeric| (engine/gradcheck.py)
    for name, array in model.parameters().items():
        np.testing.assert_array_equal(array, before[name])


def test_bad_arguments():
    w, c, loss = _sin_problem()
    with pytest.raises(GradCheckError, match="eps"):
        compare_gradients({"w": w}, loss, {"w": w}, eps=0)
    with pytest.raises(GradCheckError, match="rtol"):
        compare_gradients({"w": w}, loss, {"w": w}, rtol=-1.0)
    with pytest.raises(GradCheckError, match="max_entries"):
        compare_gradients({"w": w}, loss, {"w": w}, max_entries=0)
    with pytest.raises(GradCheckError, match="no analytic gradient"):
        compare_gradients({"w": w}, loss, {})
    model = SequenceModel(ModelConfig("rnn_tanh", 2, 3, 1))
    with pytest.raises(GradCheckError, match="targets"):
        gradcheck(model, np.zeros((2, 1, 2)))
    with pytest.raises(GradCheckError, match="SequenceModel or a Recurrent"):
        gradcheck(object(), np.zeros((2, 1, 2)))
