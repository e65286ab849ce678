"""View states of the training page's panels, built from a Snapshot (the selected sample, layer and
direction of one inspection of the view batch).

Each is a frozen dataclass of arrays and labels ready to draw: the panel chooses colours, ranges and
layout, and computes nothing else. Shapes: T timesteps, H hidden units, I input features, O outputs.

    views = training_views(snapshot)          # panel name -> view state
    hidden = hidden_view(snapshot)            # one of them
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.stepping import gate_names
from rnnviz.session.snapshot import Snapshot
from rnnviz.session.views.common import TimeAxis, time_axis

ONE_HOT_ROWS = 12  # a vocabulary up to this size is drawn whole; a larger one only with the tokens a sample uses
MAX_INPUT_LINES = 4  # more input features than this (one-hot tokens) are drawn as the token id
RECURRENT_ORDER = ("W_ih", "W_hh", "b_ih", "b_hh")


@dataclass(frozen=True)
class LossView:
    steps: np.ndarray  # (N,) training step numbers
    train_loss: np.ndarray  # (N,)
    heldout_steps: np.ndarray  # (M,)
    heldout_loss: np.ndarray  # (M,)
    latest: float  # the newest training loss (NaN before the first step or after divergence)
    baseline: float | None = None  # the task's chance, memoryless or noise-floor loss (Task.loss_baseline)
    baseline_label: str = ""  # what the reference line says, e.g. "chance: ln 2 = 0.693"


@dataclass(frozen=True)
class HiddenView:
    cell: str
    hidden: np.ndarray  # (T, H) h_t
    hidden_range: tuple[float, float] | None  # where h_t lies (CellSpec.hidden_range); None: unbounded (ReLU)
    line_names: tuple[str, ...]  # the input lines drawn under the heatmap: features, or ("token",)
    line_values: np.ndarray  # (T, lines); token ids are NaN at padded steps (padding has no token)
    value_label: str  # "input" | "token"
    value_names: tuple[str, ...] | None  # names of the values on the input axis (the vocabulary), or None
    time: TimeAxis
    one_hot: np.ndarray | None = None  # (T, R) token tasks: x_t as one-hot rows (zero at padding), or None
    one_hot_names: tuple[str, ...] = ()  # (R,) the vocabulary rows of ``one_hot`` (ONE_HOT_ROWS: all of it)
    vocabulary_size: int = 0  # V: how many tokens there are (R < V: only the ones this sample uses)


@dataclass(frozen=True)
class GatesView:
    cell: str
    gates: dict[str, np.ndarray]  # name -> (T, H): lstm i, f, g, o, cell_state; gru r, z, n; rnn none;
    # the cell state is (T, S): S = H for the LSTM, 2H for the LRU, H*N for the selective layer
    time: TimeAxis

    @property
    def shape(self) -> tuple[int, int]:
        """(T, H)."""
        first = next(iter(self.gates.values()), None)
        return (self.time.steps, 0) if first is None else tuple(np.shape(first))  # type: ignore[return-value]


@dataclass(frozen=True)
class GradientsView:
    grad_norm_per_step: np.ndarray  # (T,) ||dL/dh_t|| of the selected sample (LRU, selective: ||dL/dc_t||)
    time: TimeAxis
    state_symbol: str = "h"  # the state whose gradient it is (CellSpec.memory_state): "h" or "c"

    @property
    def norm_label(self) -> str:
        """"||dL/dh_t||", or "||dL/dc_t||" for a cell whose memory is its cell state."""
        return f"||dL/d{self.state_symbol}_t||"


@dataclass(frozen=True)
class WeightsView:
    cell: str
    hidden_size: int
    gate_names: tuple[str, ...]  # the gate blocks stacked in the recurrent matrices' rows; () for one block
    weights: dict[str, np.ndarray]  # W_ih (G*H, I_l), W_hh (G*H, H), b_ih, b_hh (G*H,), W_out (O, H), b_out (O,)
    gradients: dict[str, np.ndarray]  # dL/dW, same keys and shapes
    column_names: dict[str, tuple[str, ...]]  # matrix -> names of its columns (W_ih: the input features, layer 0)
    row_names: dict[str, tuple[str, ...]]  # matrix -> names of its rows (W_out, b_out: this task's outputs)


@dataclass(frozen=True)
class PredictionsView:
    kind: str  # "series" (many-to-many values) | "classes" (many-to-many classes) | "bars" (many-to-one)
    targets: np.ndarray  # series/classes: (T, O) (classes one-hot); bars: (O,)
    predictions: np.ndarray  # same shape (probabilities for classification)
    output_names: tuple[str, ...]  # (O,)
    classification: bool  # targets are classes, predictions their probabilities
    probability: bool  # predictions lie in [0, 1] (classes or independent BCE outputs)
    target_class: np.ndarray | None  # classes: (T,) the target class at each timestep
    p_target: np.ndarray | None  # classes: (T,) the probability given to the target class
    time: TimeAxis


def _time(snapshot: Snapshot) -> TimeAxis:
    return time_axis(snapshot.timestep_labels, snapshot.mask, snapshot.token_inputs)


def loss_view(snapshot: Snapshot) -> LossView:
    history = snapshot.history
    value, label = snapshot.loss_baseline if snapshot.loss_baseline is not None else (None, "")
    return LossView(np.asarray(history.steps, dtype=float), np.asarray(history.train_loss, dtype=float),
                    np.asarray(history.heldout_steps, dtype=float), np.asarray(history.heldout_loss, dtype=float),
                    float(snapshot.loss), value, label)


def hidden_view(snapshot: Snapshot) -> HiddenView:
    inputs = np.asarray(snapshot.inputs, dtype=float)  # (T, I)
    token_axis = snapshot.token_inputs or inputs.shape[1] > MAX_INPUT_LINES
    if token_axis:
        token_id = np.argmax(inputs, axis=1).astype(float)  # (T,)
        token_id[np.asarray(snapshot.mask) == 0] = np.nan
        names, values, label = ("token",), token_id[:, None], "token"
    else:
        names, values, label = tuple(snapshot.input_names), inputs, "input"
    return HiddenView(
        cell=snapshot.cell, hidden=np.asarray(snapshot.hidden), hidden_range=cell_spec(snapshot.cell).hidden_range,
        line_names=names, line_values=values, value_label=label,
        value_names=tuple(snapshot.input_names) if token_axis else None, time=_time(snapshot),
        **(one_hot_rows(inputs, tuple(snapshot.input_names), snapshot.mask) if snapshot.token_inputs else {}),
    )


def one_hot_rows(inputs: np.ndarray, names: tuple[str, ...], mask: np.ndarray) -> dict:
    """x_t (inputs (T, V)) as one-hot rows named by the vocabulary: all V rows for a small vocabulary
    (<= ONE_HOT_ROWS), else only the tokens this sample uses (in vocabulary order). Padding is zero."""
    one_hot = np.asarray(inputs, dtype=float) * (np.asarray(mask)[:, None] != 0)  # (T, V)
    rows = np.arange(len(names)) if len(names) <= ONE_HOT_ROWS else np.flatnonzero(one_hot.any(axis=0))
    return {"one_hot": one_hot[:, rows], "one_hot_names": tuple(names[i] for i in rows),
            "vocabulary_size": len(names)}


def gates_view(snapshot: Snapshot) -> GatesView:
    return GatesView(snapshot.cell, {name: np.asarray(g) for name, g in snapshot.gates.items()}, _time(snapshot))


def gradients_view(snapshot: Snapshot) -> GradientsView:
    return GradientsView(np.asarray(snapshot.grad_norm_per_step, dtype=float), _time(snapshot),
                         cell_spec(snapshot.cell).memory_state)


HEAD_KEYS = ("W_out", "b_out")


def _ordered(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The recurrent layer's arrays first (W_ih, W_hh, b_ih, b_hh; a cell outside the stacked layout:
    its own kinds in layout order), then the head's."""
    recurrent = [k for k in RECURRENT_ORDER if k in arrays] + [
        k for k in arrays if k not in RECURRENT_ORDER and k not in HEAD_KEYS]
    keys = recurrent + [k for k in HEAD_KEYS if k in arrays]
    return {k: np.asarray(arrays[k]) for k in keys}


def weights_view(snapshot: Snapshot) -> WeightsView:
    hidden_size = int(np.shape(snapshot.hidden)[1])
    blocks = gate_names(snapshot.cell)
    columns: dict[str, tuple[str, ...]] = {}
    w_ih = snapshot.weights.get("W_ih")
    if snapshot.layer == 0 and w_ih is not None and np.shape(w_ih)[1] == len(snapshot.input_names):
        columns["W_ih"] = tuple(snapshot.input_names)
    rows: dict[str, tuple[str, ...]] = {}
    for key in ("W_out", "b_out"):
        if key in snapshot.weights and np.shape(snapshot.weights[key])[0] == len(snapshot.output_names):
            rows[key] = tuple(snapshot.output_names)
    return WeightsView(
        cell=snapshot.cell, hidden_size=hidden_size, gate_names=blocks if len(blocks) > 1 else (),
        weights=_ordered(snapshot.weights), gradients=_ordered(snapshot.weight_grads),
        column_names=columns, row_names=rows,
    )


def predictions_view(snapshot: Snapshot) -> PredictionsView:
    classification = snapshot.loss_kind == "cross_entropy"
    if snapshot.io == "many_to_one":
        kind = "bars"
    else:
        kind = "classes" if classification else "series"
    targets = np.asarray(snapshot.targets, dtype=float)
    predictions = np.asarray(snapshot.predictions, dtype=float)
    target_class = p_target = None
    if kind == "classes":
        target_class = np.argmax(targets, axis=1)  # (T,) targets are one-hot rows
        p_target = predictions[np.arange(targets.shape[0]), target_class]
    return PredictionsView(
        kind=kind, targets=targets, predictions=predictions, output_names=tuple(snapshot.output_names),
        classification=classification, probability=snapshot.loss_kind in ("cross_entropy", "bce"),
        target_class=target_class, p_target=p_target, time=_time(snapshot),
    )


BUILDERS: dict[str, Callable[[Snapshot], Any]] = {
    "loss": loss_view, "hidden": hidden_view, "gates": gates_view, "gradients": gradients_view,
    "weights": weights_view, "predictions": predictions_view,
}


def training_views(snapshot: Snapshot) -> dict[str, Any]:
    """Every training panel's view state, by panel name."""
    return {name: build(snapshot) for name, build in BUILDERS.items()}
