"""Hidden-state trajectories (rnnviz.session.views.trajectory): the PCA against a direct eigendecomposition
of the covariance, fixed signs, a known low-rank set, and the view state of real sessions."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.views.trajectory import OTHER_CLASS, MAX_CLASSES_SHOWN, fit_pca, fix_signs, trajectory_view
from tests.tolerances import assert_same_maths


def anisotropic_states(rng: np.random.Generator, count: int = 400) -> np.ndarray:
    """(count, 6) states whose covariance has well separated eigenvalues (standard deviations 5, 3, 2, 1,
    0.5, 0.2 along a random orthonormal basis) and a non-zero mean."""
    basis, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    return (rng.standard_normal((count, 6)) * [5, 3, 2, 1, 0.5, 0.2]) @ basis.T + rng.standard_normal(6)


def test_pca_matches_the_eigendecomposition_of_the_covariance():
    states = anisotropic_states(np.random.default_rng(0))
    pca = fit_pca(states, n_components=3)
    values, vectors = np.linalg.eigh(np.cov(states, rowvar=False))  # ascending
    values, vectors = values[::-1], vectors[:, ::-1].T  # (6,), (6, 6) rows, descending
    np.testing.assert_allclose(pca.mean, states.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert_same_maths(pca.explained_variance_ratio, values[:3] / values.sum())
    for k in range(3):
        aligned = vectors[k] * np.sign(vectors[k] @ pca.components[k])
        # an eigenvector's rounding error is about u ||C|| / gap (Davis-Kahan); here ||C|| ~ 25 and the
        # smallest gap among the first three is ~2 (sample eigenvalues near 25, 9, 4): ~1e-15 per entry for
        # either route; 1e-9 leaves a margin of 10^6 for any LAPACK on any x86 CPU
        np.testing.assert_allclose(pca.components[k], aligned, rtol=0, atol=1e-9)


def test_signs_are_fixed_whatever_sign_the_svd_returns():
    states = anisotropic_states(np.random.default_rng(1))
    pca = fit_pca(states)
    for k in range(2):  # convention: each component's largest-magnitude entry is positive
        assert pca.components[k][np.argmax(np.abs(pca.components[k]))] > 0
    for flips in ([-1, 1], [1, -1], [-1, -1]):
        flipped = pca.components * np.array(flips)[:, None]
        np.testing.assert_array_equal(fix_signs(flipped), pca.components)
        np.testing.assert_array_equal(fix_signs(flipped, reference=pca.components), pca.components)
    # the same states in another order (the SVD sees another matrix) give the same components
    again = fit_pca(states[np.random.default_rng(2).permutation(len(states))])
    np.testing.assert_allclose(again.components, pca.components, rtol=0, atol=1e-9)  # as above


def test_a_reference_keeps_the_previous_frames_orientation():
    rng = np.random.default_rng(3)
    states = anisotropic_states(rng)
    first = fit_pca(states)
    opposite = -first.components  # a previous frame drawn the other way round
    moved = fit_pca(states + 0.01 * rng.standard_normal(states.shape), reference=opposite)
    assert np.all(np.sum(moved.components * opposite, axis=1) > 0.99)  # follows the reference, not the rule


def test_a_plane_of_states_is_reproduced_exactly():
    rng = np.random.default_rng(4)
    plane, _ = np.linalg.qr(rng.standard_normal((8, 2)))  # (8, 2) orthonormal
    coordinates = rng.standard_normal((300, 2)) * [2.0, 0.7]
    centre = rng.standard_normal(8)
    states = centre + coordinates @ plane.T  # rank 2 around the centre
    pca = fit_pca(states)
    # all the variance lies in the plane: the two ratios add up to 1 up to rounding (values ~4, N ~ 10^3
    # operations: 2 N u << 1e-9)
    assert abs(pca.explained_variance_ratio.sum() - 1) < 1e-9
    projected = pca.project(states)
    np.testing.assert_allclose(pca.mean + projected @ pca.components, states, rtol=0, atol=1e-9)
    # distances within the plane are kept (the projection is a rotation or reflection of the coordinates)
    np.testing.assert_allclose(np.linalg.norm(projected[1:] - projected[0], axis=1),
                               np.linalg.norm(coordinates[1:] - coordinates[0], axis=1), rtol=1e-9, atol=1e-9)


def test_constant_states_give_zero_ratios_not_nan():
    pca = fit_pca(np.ones((10, 3)))
    assert np.all(pca.explained_variance_ratio == 0)
    assert np.all(np.isfinite(pca.project(np.ones((2, 3)))))


@pytest.fixture(scope="module")
def parity_session():
    session = Session(SessionConfig(task="parity", task_params={"seq_len": 6, "lengths": "variable"},
                                    hidden_size=5, batch_size=8))
    session.train(5)
    return session


def test_view_of_a_classification_session(parity_session):
    view = trajectory_view(parity_session, Selection(sample=2))
    batch_mask = parity_session.view_batch.mask[:, 2]
    assert view.colour_kind == "class" and view.class_names == ("even", "odd")
    assert view.points.shape[1] == 2 and view.points.shape[0] == view.colours.shape[0]
    assert view.path.shape == (int(batch_mask.sum()), 2)  # the real steps only
    assert view.path_labels == tuple(parity_session.task.timestep_labels(
        parity_session.view_batch.inputs[:int(batch_mask.sum()), 2]))
    assert view.axis_label(0).startswith("PC1 (") and "% of the variance" in view.axis_label(0)
    assert 0 < view.explained[1] <= view.explained[0] <= 1
    # the path is the shown sample's hidden states through the same projection
    hidden = parity_session.model.forward(parity_session.view_batch.inputs,
                                          parity_session.view_batch.mask).trace.layer(0).hidden[:, 2]
    states = np.asarray(hidden[batch_mask > 0], dtype=np.float64)
    # float64 both; the same few roundings (a subtraction and a dot product over H = 5)
    assert_same_maths(view.path, (states - view.mean) @ view.components.T, roundings=16)
    again = trajectory_view(parity_session, Selection(sample=2))
    np.testing.assert_array_equal(view.points, again.points)  # the same held-out samples every time


def test_view_colours_regression_by_target_and_many_classes_grouped():
    adding = Session(SessionConfig(task="adding", task_params={"seq_len": 5}, hidden_size=4))
    view = trajectory_view(adding)
    assert view.colour_kind == "value" and view.colour_title == "target"
    assert 0 <= view.colours.min() and view.colours.max() < 2  # a sum of two U[0, 1) numbers
    text = Session(SessionConfig(task="text", task_params={"seq_len": 12}, hidden_size=4))
    view = trajectory_view(text)
    assert view.colour_title == "next character"
    assert len(view.class_names) == MAX_CLASSES_SHOWN and view.class_names[-1] == OTHER_CLASS
    assert view.colours.max() == MAX_CLASSES_SHOWN - 1


@pytest.mark.parametrize("scale", [1e200, np.inf, np.nan])
def test_a_diverged_network_gives_a_view_not_an_error(scale):
    """Weights that overflowed (or are NaN) leave states LAPACK cannot take: the view has no components."""
    session = Session(SessionConfig(task="series", task_params={"seq_len": 6}, cell="rnn_relu", hidden_size=4,
                                    dtype="float64"))
    for array in session.model.parameters().values():
        array[...] = scale
    with np.errstate(all="ignore"):
        view = trajectory_view(session)
    assert np.all(np.isfinite(view.explained)) and np.all((view.explained >= 0) & (view.explained <= 1))
    assert np.all(np.isfinite(view.components))
