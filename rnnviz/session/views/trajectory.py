"""Hidden-state trajectories: where the hidden state goes, in the plane of its two largest principal
components, over many held-out samples and along the one the panels show.

PCA of the states h (N, H), the real (unpadded) timesteps of ``TRAJECTORY_SAMPLES`` held-out samples:

    X = h - mean(h)                       (N, H)
    X = U S V^T                           (thin SVD; rows of V^T are the principal directions)
    explained variance ratio_k = S_k^2 / sum_j S_j^2
    projection p = (h - mean) V[:, :2]    (..., 2)

The singular vectors are defined up to sign. So that the plot does not flip between two frames, each
component's sign is fixed: with a ``reference`` (the previous frame's components), the sign that points
the same way as it; without one, the sign that makes the component's largest-magnitude entry positive.

Colours: a classification task colours each state by its class (many-to-one: the sample's class;
many-to-many: the target at that timestep, e.g. the next character); a regression task by the target
value. The view state is ready to draw: the panel chooses colours and ranges only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.session.session import Selection, Session

TRAJECTORY_SAMPLES = 256  # held-out samples whose states the components are fitted on
MAX_STATES = 60_000  # fewer samples for long sequences: N * T states at most (the SVD and the scatter)
MAX_CLASSES_SHOWN = 8  # more classes than this: the most frequent ones, the rest as "other"
MAX_POINTS_SHOWN = 6_000  # states drawn (a fixed random subset when there are more; all are fitted)
OTHER_CLASS = "other"
TRAJECTORY_SEED_OFFSET = 104_729  # held-out samples never coincide with training or view batches


@dataclass(frozen=True)
class Pca:
    mean: np.ndarray  # (H,)
    components: np.ndarray  # (K, H) unit rows, signs fixed
    explained_variance_ratio: np.ndarray  # (K,)

    def project(self, states: np.ndarray) -> np.ndarray:
        """(..., H) -> (..., K)."""
        with np.errstate(all="ignore"):  # a diverged network's states may overflow: they stay inf / NaN
            return (np.asarray(states, dtype=np.float64) - self.mean) @ self.components.T


def fit_pca(states: np.ndarray, n_components: int = 2, reference: np.ndarray | None = None) -> Pca:
    """PCA of ``states`` (N, H) by the SVD (module docstring). Fewer than ``n_components`` directions
    (H small) are padded with zero rows; constant states give zero ratios."""
    states = np.asarray(states, dtype=np.float64)
    with np.errstate(all="ignore"):  # a diverged network's states can overflow: handled below
        mean = states.mean(axis=0)  # (H,)
        centred = states - mean
    if not np.all(np.isfinite(centred)):
        return _no_pca(states.shape[1], n_components)
    try:
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # vt (min(N, H), H)
    except np.linalg.LinAlgError:  # LAPACK gave up (values near the float range): nothing to show
        return _no_pca(states.shape[1], n_components)
    largest = singular.max(initial=0.0)
    variance = (singular / largest) ** 2 if largest > 0 else singular  # scaled: squares of huge states overflow
    total = variance.sum()
    k = min(n_components, vt.shape[0])
    components = np.zeros((n_components, states.shape[1]))
    components[:k] = vt[:k]
    ratio = np.zeros(n_components)
    if total > 0:
        ratio[:k] = variance[:k] / total
    return Pca(mean, fix_signs(components, reference), ratio)


def _no_pca(hidden: int, n_components: int) -> Pca:
    """No directions at all (no finite states to fit): every state projects to 0."""
    return Pca(np.zeros(hidden), np.zeros((n_components, hidden)), np.zeros(n_components))


def fix_signs(components: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``components`` (K, H) with each row's sign fixed (module docstring)."""
    fixed = components.copy()
    for k, row in enumerate(fixed):
        if reference is not None and reference.shape == components.shape and np.any(reference[k]):
            flip = float(row @ reference[k]) < 0
        else:
            flip = row[np.argmax(np.abs(row))] < 0
        if flip:
            fixed[k] = -row
    return fixed


@dataclass(frozen=True)
class TrajectoryView:
    step: int  # the training step of the weights
    cell: str
    layer: int
    direction: int
    sample: int  # the view-batch sample whose path is drawn
    points: np.ndarray  # (N, 2) held-out states on (PC1, PC2) (at most MAX_POINTS_SHOWN of them)
    point_timesteps: np.ndarray  # (N,) the timestep of each point
    colour_kind: str  # "class" | "value"
    colour_title: str  # what the colour means: "class", "next character", "target"
    colours: np.ndarray  # (N,) class index into class_names (colour_kind "class"), else the value
    class_names: tuple[str, ...]  # the classes shown, OTHER_CLASS last when some are grouped
    path: np.ndarray  # (T_real, 2) the shown sample's states, timestep by timestep
    path_labels: tuple[str, ...]  # (T_real,) its tokens or timestep numbers
    tokens: bool  # path_labels are tokens (label a point "t:token"), not just the timestep numbers
    explained: np.ndarray  # (2,) explained variance ratio of PC1 and PC2
    components: np.ndarray  # (2, H) the principal directions (the next frame's sign reference)
    mean: np.ndarray  # (H,) the mean state the components are centred on
    samples: int  # held-out samples the components were fitted on

    @property
    def title(self) -> str:
        where = f"layer {self.layer}" + (" ←" if self.direction else "")
        return f"Hidden-state trajectories ({self.cell}, {where}, step {self.step:,})"

    def axis_label(self, k: int) -> str:
        return f"PC{k + 1} ({100 * self.explained[k]:.1f}% of the variance)"


def heldout_batch(session: Session):
    """The held-out samples the components are fitted on (the same ones for the same session)."""
    seq_len = session.view_batch.seq_len
    count = int(max(8, min(TRAJECTORY_SAMPLES, MAX_STATES // max(seq_len, 1))))
    return session.task.batch(count, np.random.default_rng(session.config.seed + TRAJECTORY_SEED_OFFSET))


def _states(session: Session, batch, layer: int, direction: int) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        trace = session.model.forward(batch.inputs, batch.mask).trace
    return np.asarray(trace.layer(layer, direction).hidden, dtype=np.float64)  # (T, B, H)


def _colours(session: Session, batch) -> tuple[str, str, np.ndarray]:
    """(kind, title, (T, B) per-state class id or value)."""
    task = session.task
    steps, size = batch.mask.shape
    targets = np.asarray(batch.targets)
    if task.loss == "cross_entropy":
        per_state = np.broadcast_to(targets[None, :], (steps, size)) if task.io == "many_to_one" else targets
        title = "next character" if task.name == "text" else ("class" if task.io == "many_to_one" else "target")
        return "class", title, per_state.astype(np.int64)
    value = targets[..., 0] if targets.ndim and targets.shape[-1] >= 1 else targets
    if task.io == "many_to_one":  # (B, O) -> the first output, the same for every state
        value = np.broadcast_to(np.asarray(value)[None, :], (steps, size))
    return "value", "target", np.asarray(value, dtype=np.float64)


def _grouped(class_ids: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids -> indices into the shown names (the most frequent MAX_CLASSES_SHOWN, then OTHER_CLASS)."""
    counts = np.bincount(class_ids, minlength=len(names))
    present = np.flatnonzero(counts)
    if present.size <= MAX_CLASSES_SHOWN:
        keep = present
    else:
        keep = np.sort(present[np.argsort(-counts[present], kind="stable")[: MAX_CLASSES_SHOWN - 1]])
    lookup = np.full(len(names), len(keep), dtype=np.int64)
    lookup[keep] = np.arange(len(keep))
    shown = tuple(names[i] for i in keep) + ((OTHER_CLASS,) if len(keep) < present.size else ())
    return lookup[class_ids], shown


def _shown(count: int) -> np.ndarray:
    """Indices of the states drawn: all, or a fixed random MAX_POINTS_SHOWN of them (the same every frame)."""
    if count <= MAX_POINTS_SHOWN:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, MAX_POINTS_SHOWN, replace=False))


def trajectory_view(session: Session, selection: Selection = Selection(),
                    reference: np.ndarray | None = None) -> TrajectoryView:
    """The trajectories of ``session``'s weights for ``selection``'s layer, direction and sample."""
    sel = session.clamp(selection)
    batch = heldout_batch(session)
    states = _states(session, batch, sel.layer, sel.direction)  # (T, B, H)
    real = np.asarray(batch.mask) > 0  # (T, B)
    finite = real & np.all(np.isfinite(states), axis=-1)
    pca = fit_pca(states[finite], reference=reference) if finite.any() else _no_pca(states.shape[-1], 2)
    kind, title, per_state = _colours(session, batch)
    colours = per_state[finite]
    names: tuple[str, ...] = ()
    if kind == "class":
        colours, names = _grouped(colours, tuple(session.task.info().output_names))
    timesteps = np.broadcast_to(np.arange(states.shape[0])[:, None], finite.shape)[finite]  # (N,)
    shown = _shown(int(finite.sum()))
    view_states = _states(session, session.view_batch, sel.layer, sel.direction)[:, sel.sample]  # (T, H)
    view_mask = np.asarray(session.view_batch.mask[:, sel.sample]) > 0
    inputs = session.view_batch.inputs[:, sel.sample]
    labels = session.task.timestep_labels(inputs, session.view_batch.mask[:, sel.sample])
    return TrajectoryView(
        step=session.step, cell=session.config.cell, layer=sel.layer, direction=sel.direction,
        sample=sel.sample, points=pca.project(states[finite][shown]), point_timesteps=timesteps[shown],
        colour_kind=kind, colour_title=title,
        colours=np.asarray(colours[shown], dtype=np.float64 if kind == "value" else np.int64),
        class_names=names, path=pca.project(view_states[view_mask]),
        path_labels=tuple(label for label, keep in zip(labels, view_mask) if keep),
        tokens=bool(session.task.info().token_inputs),
        explained=pca.explained_variance_ratio, components=pca.components, mean=pca.mean,
        samples=batch.batch_size,
    )


def build_trajectory_view(work, session: Session, selection: Selection,
                          reference: np.ndarray | None = None) -> TrajectoryView:
    """The background job's entry (rnnviz.ui.jobs): ``trajectory_view`` with a WorkContext first."""
    work.check()
    return trajectory_view(session, selection, reference)
