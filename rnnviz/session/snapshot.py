"""The immutable picture of a session that the views draw.

A snapshot holds plain arrays and numbers, copied out of the live session, so the training thread
can keep going while the UI draws it. Everything refers to one *selected* sample of the current
batch, one layer and one direction (the view's selection); shapes use
T = timesteps, H = hidden size, I = input size, O = output size, N = recorded training steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class History:
    steps: np.ndarray  # (N,) training step numbers
    train_loss: np.ndarray  # (N,)
    grad_norm: np.ndarray  # (N,) global gradient norm before clipping
    heldout_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,)
    heldout_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,)


@dataclass(frozen=True)
class Snapshot:
    step: int  # training steps taken so far
    cell: str  # a registered cell name (rnnviz.engine.cells)
    task_name: str
    layer: int  # selected layer (0-based)
    direction: int  # 0 forward, 1 reverse
    sample: int  # selected sample of the batch
    history: History
    # the selected sample
    inputs: np.ndarray  # (T, I)
    input_names: tuple[str, ...]  # (I,) names of the input features
    timestep_labels: tuple[str, ...]  # (T,) tokens (or numbers) along the time axis; "<pad>" at padding
    targets: np.ndarray  # many_to_many: (T, O) ; many_to_one: (O,)  (class ids one-hot encoded)
    predictions: np.ndarray  # same shape as targets (probabilities for classification tasks)
    output_names: tuple[str, ...]  # (O,)
    mask: np.ndarray  # (T,) 1 real, 0 padding
    io: str  # "many_to_one" | "many_to_many"
    # the selected layer and direction, selected sample
    hidden: np.ndarray  # (T, H) h_t
    gates: dict[str, np.ndarray]  # name -> (T, H): CellSpec.gate_names, and cell_state (T, S)
    grad_norm_per_step: np.ndarray  # (T,) ||dL/dh_t|| of the selected sample (memory in c: ||dL/dc_t||)
    # the layer's parameters by label (stacked cells: "W_ih" (G*H, I_l), "W_hh" (G*H, H), "b_ih", "b_hh"
    # (G*H,); others: their own kinds, e.g. "nu", "B_re"), and the head's W_out, b_out
    weights: dict[str, np.ndarray]
    weight_grads: dict[str, np.ndarray]  # same keys and shapes as weights
    loss_kind: str = "mse"  # "mse" | "cross_entropy" | "bce": how to read predictions
    token_inputs: bool = False  # inputs are one-hot tokens (timestep_labels are the tokens)
    loss: float = float("nan")  # latest training loss
    steps_per_second: float = 0.0
    clip_count: int = 0  # how many steps clipping fired
    # what one step of the selected layer and direction read, for explanations with the numbers plugged
    # in (rnnviz.session.views.explain); None: not recorded
    layer_inputs: np.ndarray | None = None  # (T, I_l) x_t as this layer saw it (the layer below's h above layer 0)
    initial_hidden: np.ndarray | None = None  # (H,) the state the first processed step read (the step at t
    # read h_(t-1), reverse h_(t+1): ``hidden`` shifted, this at the end; padded steps carry the state)
    initial_cell_state: np.ndarray | None = None  # (S,) the same for the cell state (``gates["cell_state"]``)
    # (T, R) dL/dh_t (memory in c: dL/dc_t), whose norms are grad_norm_per_step; None when R > 2H (the
    # selective layer's N per channel: the frame would double for a sum whose first terms are shown)
    memory_grad: np.ndarray | None = None
    edited_timesteps: tuple[int, ...] = ()  # timesteps of this sample whose input a what-if edit changed
    loss_baseline: tuple[float, str] | None = None  # the task's (value, label) reference line (Task.loss_baseline)
