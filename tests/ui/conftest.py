"""Fixtures for the panel tests: snapshots built from plain arrays of the documented shapes."""
from __future__ import annotations

import contextlib
import csv
import gc
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine.cells import cell_spec
from rnnviz.session.snapshot import History, Snapshot

VOCAB = ("a", "b", "c", "d", "e", ",", "#")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_history(steps: int, rng: np.random.Generator, nan_loss: bool = False) -> History:
    step_numbers = np.arange(steps) * 10
    train = 2.0 * np.exp(-step_numbers / 300.0) + 0.05 * rng.random(steps)
    if nan_loss and steps:
        train[-max(1, steps // 5):] = np.nan
    heldout_steps = step_numbers[::5]
    heldout = 2.0 * np.exp(-heldout_steps / 300.0) + 0.1
    return History(step_numbers, train, rng.random(steps), heldout_steps, heldout)


def build_snapshot(
    cell: str = "lstm",
    T: int = 12,
    H: int = 8,
    io: str = "many_to_many",
    classification: bool = False,
    tokens: bool = False,
    padding: int = 0,
    history_steps: int = 40,
    nan_loss: bool = False,
    zero_grads: int = 0,
    seed: int = 0,
    loss_kind: str | None = None,
) -> Snapshot:
    """A snapshot of ``cell`` with T timesteps and H hidden units, filled with seeded random arrays."""
    rng = np.random.default_rng(seed)
    if tokens:
        input_names = VOCAB
        inputs = np.eye(len(VOCAB))[rng.integers(0, len(VOCAB), T)]
        labels = tuple(VOCAB[i] for i in inputs.argmax(axis=1))
    else:
        input_names = ("value", "marker")
        inputs = np.stack([rng.uniform(-1, 1, T), (rng.random(T) < 0.2).astype(float)], axis=1)
        labels = tuple(str(t) for t in range(T))
    output_names = ("class 0", "class 1", "class 2") if classification else ("y",)
    O = len(output_names)
    if classification:
        logits = rng.normal(size=(T, O) if io == "many_to_many" else (O,))
        predictions = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        classes = rng.integers(0, O, T if io == "many_to_many" else None)
        targets = np.eye(O)[classes]
    else:
        shape = (T, O) if io == "many_to_many" else (O,)
        targets, predictions = rng.normal(size=shape), rng.normal(size=shape)
    mask = np.ones(T)
    if padding:
        mask[T - padding:] = 0.0
    spec = cell_spec(cell)
    G = spec.num_gates
    gates = {}
    for name in spec.gate_names:
        values = rng.normal(size=(T, H))
        gates[name] = np.tanh(values) if spec.gate(name).kind == "candidate" else sigmoid(values)
    if spec.has_cell_state:
        gates["cell_state"] = 2.5 * rng.normal(size=(T, H))
    I = inputs.shape[1]
    shapes = {"W_ih": (G * H, I), "W_hh": (G * H, H), "b_ih": (G * H,), "b_hh": (G * H,),
              "W_out": (O, H), "b_out": (O,)}
    weights = {k: rng.normal(scale=0.5, size=s) for k, s in shapes.items()}
    weight_grads = {k: rng.normal(scale=1e-3, size=s) for k, s in shapes.items()}
    grad_norm = 10.0 ** (np.linspace(-6, 0, T) + 0.3 * rng.random(T))  # vanishing towards t = 0
    if zero_grads:
        grad_norm[:zero_grads] = 0.0
    history = make_history(history_steps, rng, nan_loss)
    return Snapshot(
        step=int(history.steps[-1]) if history_steps else 0,
        cell=cell, task_name="test", layer=0, direction=0, sample=0, history=history,
        inputs=inputs, input_names=input_names, timestep_labels=labels,
        targets=targets, predictions=predictions, output_names=output_names, mask=mask, io=io,
        hidden=np.tanh(rng.normal(size=(T, H))) if spec.hidden_range else np.abs(rng.normal(size=(T, H))) * 3,
        gates=gates, grad_norm_per_step=grad_norm, weights=weights, weight_grads=weight_grads,
        loss=float("nan") if nan_loss else float(history.train_loss[-1]) if history_steps else float("nan"),
        loss_kind=loss_kind or ("cross_entropy" if classification else "mse"), token_inputs=tokens,
    )


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file as text."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def csv_column(path: Path, name: str) -> np.ndarray:
    """One numeric column of a CSV file, read back as a float array."""
    header, rows = read_csv(path)
    index = header.index(name)
    return np.array([row[index] for row in rows], dtype=float)


@pytest.fixture
def make_snapshot():
    """``make_snapshot(cell="lstm", T=12, H=8, io="many_to_many", ...)`` -> Snapshot."""
    return build_snapshot


@pytest.fixture
def read_column():
    """``read_column(path, name)`` -> one numeric CSV column as a float array."""
    return csv_column


@pytest.fixture
def read_table():
    """``read_table(path)`` -> (header, rows as text)."""
    return read_csv


@pytest.fixture(autouse=True)
def delete_closed_widgets(qapp):
    """Delete the widgets earlier tests closed (pytest-qt closes them with deleteLater).

    Without an event loop between tests they pile up: they slow down anything that walks all
    widgets (an app stylesheet re-polishes each) and skew counts of top-level widgets (each
    pyqtgraph plot owns parentless QMenus, which count as top-level widgets until collected).
    """
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()  # pyqtgraph's parentless plot menus are top-level widgets until their plots are collected
    yield


@contextlib.contextmanager
def module_window(tmp_path_factory, config, name: str):
    """One main window for a whole test module (building one takes seconds), dropped completely at
    the end. It sits in a dict that teardown empties: pyqtgraph's parentless menus live as long as
    the Python objects do, and the next module counts top-level widgets."""
    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from rnnviz.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path_factory.mktemp(name) / "settings.ini"), QSettings.Format.IniFormat)
    state = {"window": MainWindow(config, settings)}
    state["window"].resize(1440, 900)
    state["window"].show()
    try:
        yield state
    finally:
        state["window"].close()
        state["window"].deleteLater()
        state.clear()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
