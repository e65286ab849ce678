import numpy as np
import pytest

from rnnviz.engine import Recurrent
from rnnviz.engine.gradcheck import GradCheckError, compare_gradients, gradcheck
from rnnviz.engine.model import ModelConfig, SequenceModel


def _sin_problem():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 5))
    c = rng.standard_normal((4, 5))
    return w, c, (lambda: float(np.sum(np.sin(w) * c)))


def test_correct_gradient_passes():
    w, c, loss = _sin_problem()
    result = compare_gradients({"w": w}, loss, {"w": np.cos(w) * c})
    assert result.passed(1e-8) and result.max_rel_error < 1e-8
    assert result.params[0].checked == 20 and result.params[0].shape == (4, 5)


def test_wrong_gradient_is_caught():
    w, c, loss = _sin_problem()
    wrong = np.cos(w) * c
    wrong[2, 3] += 0.05
    result = compare_gradients({"w": w}, loss, {"w": wrong})
    assert not result.passed(1e-4)
    assert result.max_abs_error == pytest.approx(0.05, rel=1e-4)
    assert result.worst().name == "w"


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


def test_table_rows():
    w, c, loss = _sin_problem()
    result = compare_gradients({"w": w}, loss, {"w": np.cos(w) * c})
    (name, shape, checked, abs_err, rel_err), = result.rows()
    assert (name, shape, checked) == ("w", "4x5", 20)
    assert "w" in str(result) and "rel err" in str(result)


@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm", "gru"])
def test_bare_core_in_float32_is_checked_in_float64(mode):
    core = Recurrent(mode, 3, 4, num_layers=2, bidirectional=True, dtype=np.float32, seed=1)
    inputs = np.random.default_rng(2).standard_normal((4, 2, 3)).astype(np.float32)
    mask = np.array([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=np.float32)
    result = gradcheck(core, inputs, mask=mask, max_entries=6, check_inputs=True)
    assert result.max_rel_error < 1e-5, str(result)
    assert {p.name for p in result.params} == set(core.parameters()) | {"inputs"}
    assert core.parameters()["weight_hh_l0"].dtype == np.float32  # the original is untouched


def test_float32_model_is_checked_in_float64():
    model = SequenceModel(ModelConfig("gru", 2, 5, 3, loss="cross_entropy", dtype="float32", seed=4))
    rng = np.random.default_rng(5)
    before = model.state_dict()
    result = gradcheck(model, rng.standard_normal((6, 3, 2)), rng.integers(0, 3, 3))
    assert result.max_rel_error < 1e-6, str(result)
    for name, array in model.parameters().items():
        np.testing.assert_array_equal(array, before[name])


def test_bad_arguments():
    w, c, loss = _sin_problem()
    with pytest.raises(GradCheckError, match="eps"):
        compare_gradients({"w": w}, loss, {"w": w}, eps=0)
    with pytest.raises(GradCheckError, match="max_entries"):
        compare_gradients({"w": w}, loss, {"w": w}, max_entries=0)
    with pytest.raises(GradCheckError, match="no analytic gradient"):
        compare_gradients({"w": w}, loss, {})
    model = SequenceModel(ModelConfig("rnn_tanh", 2, 3, 1))
    with pytest.raises(GradCheckError, match="targets"):
        gradcheck(model, np.zeros((2, 1, 2)))
    with pytest.raises(GradCheckError, match="SequenceModel or a Recurrent"):
        gradcheck(object(), np.zeros((2, 1, 2)))
