"""Connectivity view states (the Distill "memorization" view): for the sample the panels show, how strongly
the output at each timestep t depends on the input at each t' <= t, for the live network and, side by
side, for other cell kinds trained briefly on the same task with the same settings.

The numbers come from rnnviz.engine.connectivity (C[t, t'] = ||d y_t / d x_t'||_F by BPTT). For the
picture each row is divided by its largest value over t' <= t, so a row reads "how much of its strongest
input this output still hears from t'", and ``reach`` says how many steps back it stays above
REACH_FRACTION of that.

    view = connectivity_view(session, sample=0)                     # the live network
    view = compare_cells(work, config, ("rnn_tanh", "lstm", "gru"), steps=300, sample=0)
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnnviz.engine.connectivity import output_input_jacobian_norms, reach
from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.views.common import TimeAxis, time_axis

REACH_FRACTION = 0.01  # "reaches back" while the connectivity is at least 1% of the row's largest
LOG_FLOOR = -6.0  # log10 of a relative connectivity of 0 (e.g. the future, for a forward network)
COMPARE_CELLS = ("rnn_tanh", "lstm", "gru")
COMPARE_STEPS = 300
MAX_OUTPUT_ROWS = 96  # a longer sequence gets this many output timesteps (evenly spaced, the last included)


def output_rows(mask: np.ndarray) -> np.ndarray:
    """The output timesteps whose connectivity is computed: every real one, or MAX_OUTPUT_ROWS of them
    evenly spaced (always the last real one): the cost grows with T x rows x T."""
    real = np.flatnonzero(np.asarray(mask) > 0)
    if real.size <= MAX_OUTPUT_ROWS:
        return real
    return real[np.unique(np.round(np.linspace(0, real.size - 1, MAX_OUTPUT_ROWS)).astype(int))]


@dataclass(frozen=True)
class ConnectivityMap:
    """One network's connectivity for the shown sample."""

    cell: str
    step: int  # training steps its weights have had
    norms: np.ndarray  # (T, T) C[t, t'] = ||d y_t / d x_t'||, NaN at padded steps
    relative_log: np.ndarray  # (T, T) log10(C[t, t'] / max_{t' <= t} C[t, t']), LOG_FLOOR for 0, NaN at padding
    reach: np.ndarray  # (T,) steps back each output's connectivity stays >= REACH_FRACTION of its row's largest
    loss: float  # its loss on the view batch
    live: bool = False  # the window's own network (not a comparison trained here)

    @property
    def mean_reach(self) -> float:
        finite = self.reach[np.isfinite(self.reach)]
        return float(finite.mean()) if finite.size else float("nan")

    @property
    def last_output(self) -> int:
        """The last output timestep with a computed row (-1 when there is none)."""
        rows = np.flatnonzero(np.isfinite(self.reach))
        return int(rows[-1]) if rows.size else -1

    @property
    def last_reach(self) -> float:
        """How many steps back the last output's connectivity stays >= REACH_FRACTION of its largest."""
        return float(self.reach[self.last_output]) if self.last_output >= 0 else float("nan")

    @property
    def short_title(self) -> str:
        """Two short lines for a narrow column: who, and how far back its last output reaches."""
        who = f"{self.cell} (live)" if self.live else f"{self.cell} ({self.step:,} st.)"
        return f"{who}<br>reach {self.last_reach:.0f} of {self.last_output} steps"

    @property
    def title(self) -> str:
        who = f"{self.cell} (this network)" if self.live else f"{self.cell}, {self.step:,} steps"
        return (f"{who}: the last output hears {self.last_reach:.0f} of {self.last_output} steps back "
                f"(all outputs: {self.mean_reach:.1f} on average)")


@dataclass(frozen=True)
class ConnectivityView:
    task_name: str
    sample: int
    time: TimeAxis  # the shown sample's tokens or timesteps
    maps: tuple[ConnectivityMap, ...]  # the live network first, then the comparisons
    fraction: float = REACH_FRACTION

    def with_maps(self, maps: tuple[ConnectivityMap, ...]) -> "ConnectivityView":
        return replace(self, maps=maps)


def relative_log(norms: np.ndarray) -> np.ndarray:
    """log10 of each row divided by its largest value over t' <= t (module docstring); (T, T)."""
    steps = norms.shape[0]
    past = np.tril(np.ones((steps, steps), dtype=bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.max(np.where(past & ~np.isnan(norms), norms, -np.inf), axis=1, keepdims=True)  # (T, 1)
        ratio = norms / np.where(top > 0, top, np.inf)
        logged = np.where(ratio > 0, np.log10(np.maximum(ratio, 10.0**LOG_FLOOR)), LOG_FLOOR)
    logged[np.isnan(norms)] = np.nan
    return logged


def connectivity_map(session: Session, sample: int, live: bool = False, check=None) -> ConnectivityMap:
    """The connectivity of ``session``'s network for view-batch sample ``sample``."""
    batch = session.view_batch
    with np.errstate(over="ignore", invalid="ignore"):
        norms = output_input_jacobian_norms(session.model, batch.inputs[:, sample], batch.mask[:, sample],
                                            check=check, outputs=output_rows(batch.mask[:, sample]))
        loss = float(session.model.loss(batch.inputs, batch.targets, batch.mask))
    return ConnectivityMap(cell=session.config.cell, step=session.step, norms=norms, relative_log=relative_log(norms),
                           reach=reach(norms, REACH_FRACTION), loss=loss, live=live)


def _time(session: Session, sample: int) -> TimeAxis:
    batch = session.view_batch
    labels = session.task.timestep_labels(batch.inputs[:, sample], batch.mask[:, sample])
    return time_axis(labels, batch.mask[:, sample], session.task.info().token_inputs)


def connectivity_view(session: Session, sample: int = 0) -> ConnectivityView:
    """The live network's connectivity (no comparisons yet)."""
    sample = session.clamp(Selection(sample=sample)).sample
    return ConnectivityView(session.task.name, sample, _time(session, sample),
                            (connectivity_map(session, sample, live=True),))


def build_connectivity_view(work, session: Session, sample: int) -> ConnectivityView:
    """The background job's entry (rnnviz.ui.jobs) for the live network."""
    work.check()
    sample = session.clamp(Selection(sample=sample)).sample
    return ConnectivityView(session.task.name, sample, _time(session, sample),
                            (connectivity_map(session, sample, live=True, check=work.check),))


def compare_cells(work, config: SessionConfig, cells: tuple[str, ...] = COMPARE_CELLS, steps: int = COMPARE_STEPS,
                  sample: int = 0) -> tuple[ConnectivityMap, ...]:
    """Train each cell kind in ``cells`` for ``steps`` steps on ``config``'s task and settings (the same
    seed, so the same batches), and return their connectivity maps for view-batch sample ``sample``.
    Sends ``work.progress((maps so far, cells done + fraction of the current one))``."""
    maps: list[ConnectivityMap] = []
    for index, cell in enumerate(cells):
        session = Session(replace(config, cell=cell))
        for done in range(steps):
            work.check()
            outcome = session.train_step()
            if not outcome.finite:
                break
            if done % 25 == 0:
                work.progress((tuple(maps), index + done / steps))
        maps.append(connectivity_map(session, sample, check=work.check))
        work.progress((tuple(maps), index + 1.0))
    return tuple(maps)
