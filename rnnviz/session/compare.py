"""Cell kinds side by side (any registered ones; at first RNN, LSTM and GRU): one Session per cell kind
with the same task, seed and data.

Every Session draws its training batches from a generator seeded by the shared seed, and drawing a
batch does not depend on the model, so step k of every cell trains on the same batch; the view batch
(the held-out samples) is the same too. Only the cell kind differs (and with it the weights).

    comparison = Comparison(SessionConfig(task="adding", hidden_size=32))
    for _ in range(200):
        comparison.step()
    curves = comparison.curves()     # cell -> CompareCurve
    cell_problem(config, "mingru")   # why a cell cannot take these settings (None: it can)

Each cell gets the base settings with what only some cells have adapted to it: the parallel scan only
for the cells that can scan (it computes the same numbers), the carry-gate bias only where there is a
carry gate. An initialisation a cell cannot take (orthogonal for a minGRU) is a problem, not adapted:
``cell_problem`` says so before the comparison is built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.cells import cell_names, cell_spec, comparison_cells
from rnnviz.engine.errors import EngineError
from rnnviz.engine.model import ModelConfig, ModelConfigError, SequenceModel
from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.session import Selection, Session, StepOutcome


class CompareError(ValueError):
    """Bad comparison settings: the message says what is allowed."""


@dataclass(frozen=True)
class CompareCurve:
    cell: str
    steps: np.ndarray  # (N,) training steps
    loss: np.ndarray  # (N,) training loss
    heldout_steps: np.ndarray  # (M,)
    heldout_loss: np.ndarray  # (M,) loss on the view batch
    grad_norm_per_step: np.ndarray  # (T,) ||dL/dh_t|| (LRU, selective: ||dL/dc_t||) over the view batch
    diverged: bool
    state_symbol: str = "h"  # the state whose gradient grad_norm_per_step is (CellSpec.memory_state)


def cell_config(base_config: SessionConfig, cell: str, carry_gate_bias: float | None = None) -> SessionConfig:
    """``base_config`` for ``cell``: the scan only if the cell can scan, the carry-gate bias
    ``carry_gate_bias`` (default the base's; ignored by cells without a carry gate)."""
    bias = base_config.carry_bias if carry_gate_bias is None else carry_gate_bias
    return base_config.replace(cell=cell, carry_bias=bias, scan=base_config.scan and cell_spec(cell).scannable)


def cell_problem(base_config: SessionConfig, cell: str) -> str | None:
    """Why ``cell`` cannot be compared with these settings (e.g. an initialisation it does not take),
    or None. Builds the smallest model of the cell with the settings' initialisation: cheap."""
    try:
        config = cell_config(base_config, cell)
        SequenceModel(ModelConfig(mode=cell, input_size=1, hidden_size=1, output_size=1, init=config.init,
                                  init_scale=config.init_scale, seed=config.seed))
    except (ConfigError, ModelConfigError, EngineError) as exc:
        return str(exc)
    return None


class Comparison:
    def __init__(self, base_config: SessionConfig, cells: tuple[str, ...] | None = None,
                 heldout_every: int = 10, carry_gate_bias: float | None = None,
                 selection: Selection = Selection()) -> None:
        """``cells``: registered cell names (default ``comparison_cells()``: RNN, LSTM, GRU);
        ``carry_gate_bias`` (optional) opens each cell's carry gate (LSTM forget, GRU update) at the
        start (see presets); ``selection`` picks the layer and direction whose gradient norms are compared."""
        cells = comparison_cells() if cells is None else cells
        known = cell_names()
        unknown = [c for c in cells if c not in known]
        if unknown or not cells or len(set(cells)) != len(cells):
            raise CompareError(f"cells must be distinct names from {', '.join(known)}; got {cells!r}")
        if int(heldout_every) != heldout_every or heldout_every < 1:
            raise CompareError(f"heldout_every must be a whole number >= 1, got {heldout_every!r}")
        self.base_config = base_config
        self.cells = tuple(cells)
        self.heldout_every = int(heldout_every)
        self.selection = selection
        self.sessions: dict[str, Session] = {}
        for cell in self.cells:
            self.sessions[cell] = Session(cell_config(base_config, cell, carry_gate_bias))
        self._grad_norms: dict[str, tuple[int, np.ndarray]] = {}  # cell -> (step, norms) cache

    @property
    def step_count(self) -> int:
        return max(s.step for s in self.sessions.values())

    def step(self) -> dict[str, StepOutcome]:
        """One training step for every cell, each on the same batch. A diverged cell keeps drawing
        (and rejecting) its batches, so the others' data stays in step with it."""
        outcomes = {}
        for cell, session in self.sessions.items():
            outcome = session.train_step()
            if outcome.finite and session.step % self.heldout_every == 0:
                session.record_heldout()
            outcomes[cell] = outcome
        return outcomes

    def curves(self) -> dict[str, CompareCurve]:
        """Per cell: the loss curves and the latest gradient norm per timestep of the view batch."""
        result = {}
        for cell, session in self.sessions.items():
            train, heldout = session.history.train, session.history.heldout
            result[cell] = CompareCurve(
                cell=cell, steps=train[:, 0].copy(), loss=train[:, 1].copy(),
                heldout_steps=heldout[:, 0].copy(), heldout_loss=heldout[:, 1].copy(),
                grad_norm_per_step=self._latest_grad_norms(cell, session), diverged=session.diverged,
                state_symbol=session.model.core.cell.memory_state,
            )
        return result

    def _latest_grad_norms(self, cell: str, session: Session) -> np.ndarray:
        cached = self._grad_norms.get(cell)
        if cached is None or cached[0] != session.step:
            sel = session.clamp(self.selection)
            grads = session.inspect().core_grads.layer(sel.layer, sel.direction)
            memory = session.model.core.cell.memory_gradient(grads).astype(np.float64)  # (T, B, ·)
            flat = memory.reshape(memory.shape[0], -1)
            cached = (session.step, np.sqrt(np.einsum("tk,tk->t", flat, flat)))
            self._grad_norms[cell] = cached
        return cached[1].copy()
