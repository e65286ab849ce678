"""Training history: one row per training step, held-out loss every few steps."""
from __future__ import annotations

import numpy as np

from rnnviz.session.snapshot import History


class HistoryError(ValueError):
    """Saved history arrays that training could not have written; the message says what is wrong."""


class HistoryLog:
    """Append-only columns in growable arrays (amortised O(1) append, cheap copies for snapshots)."""

    COLUMNS = ("step", "loss", "grad_norm", "clipped")

    def __init__(self) -> None:
        self._train = np.zeros((0, len(self.COLUMNS)))
        self._train_len = 0
        self._heldout = np.zeros((0, 2))
        self._heldout_len = 0

    def __len__(self) -> int:
        return self._train_len

    def append(self, step: int, loss: float, grad_norm: float, clipped: bool) -> None:
        self._train, self._train_len = _push(self._train, self._train_len, (step, loss, grad_norm, clipped))

    def append_heldout(self, step: int, loss: float) -> None:
        self._heldout, self._heldout_len = _push(self._heldout, self._heldout_len, (step, loss))

    @property
    def train(self) -> np.ndarray:
        """(N, 4) view: step, loss, grad_norm, clipped."""
        return self._train[: self._train_len]

    @property
    def heldout(self) -> np.ndarray:
        """(M, 2) view: step, held-out loss."""
        return self._heldout[: self._heldout_len]

    @property
    def clip_count(self) -> int:
        return int(self.train[:, 3].sum())

    def to_snapshot(self) -> History:
        train, heldout = self.train.copy(), self.heldout.copy()
        return History(
            steps=train[:, 0], train_loss=train[:, 1], grad_norm=train[:, 2],
            heldout_steps=heldout[:, 0], heldout_loss=heldout[:, 1],
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {"train": self.train.copy(), "heldout": self.heldout.copy()}

    @classmethod
    def from_arrays(cls, train: np.ndarray, heldout: np.ndarray, last_step: int | None = None) -> "HistoryLog":
        """The log saved by ``arrays()``, checked: HistoryError says what is wrong with it.
        ``last_step``: the session's step count, which no recorded step may exceed."""
        log = cls()
        train = _checked_rows(train, len(cls.COLUMNS), "training", last_step)
        heldout = _checked_rows(heldout, 2, "held-out", last_step)
        if not np.isin(train[:, 3], (0.0, 1.0)).all():
            raise HistoryError("the 'clipped' column holds values other than 0 and 1")
        if (train[:, 2] < 0).any():
            raise HistoryError("a gradient norm is negative")
        log._train, log._train_len = train.copy(), len(train)
        log._heldout, log._heldout_len = heldout.copy(), len(heldout)
        return log

    def csv_text(self) -> str:
        """history.csv: step, loss, grad_norm, clipped, heldout_loss (empty where not evaluated)."""
        heldout = {int(s): v for s, v in self.heldout}
        lines = ["step,loss,grad_norm,clipped,heldout_loss"]
        for step, loss, norm, clipped in self.train:
            held = heldout.get(int(step))
            lines.append(f"{int(step)},{loss:.9g},{norm:.9g},{int(clipped)},{'' if held is None else f'{held:.9g}'}")
        return "\n".join(lines) + "\n"


def _push(array: np.ndarray, length: int, row: tuple) -> tuple[np.ndarray, int]:
    if length == len(array):
        grown = np.zeros((max(64, 2 * len(array)), array.shape[1]))
        grown[:length] = array[:length]
        array = grown
    array[length] = row
    return array, length + 1


def _checked_rows(rows: np.ndarray, columns: int, what: str, last_step: int | None) -> np.ndarray:
    """(N, columns) float64 rows with finite values and whole, increasing, positive steps."""
    rows = np.asarray(rows)
    if rows.dtype.kind not in "fiub":
        raise HistoryError(f"the {what} history holds {rows.dtype} values, not numbers")
    if rows.ndim != 2 or rows.shape[1] != columns:
        raise HistoryError(f"the {what} history has shape {rows.shape}, not (rows, {columns})")
    rows = rows.astype(np.float64)
    if not np.isfinite(rows).all():
        raise HistoryError(f"the {what} history holds NaN or infinity")
    steps = rows[:, 0]
    if (steps < 1).any() or (steps != np.round(steps)).any() or (np.diff(steps) <= 0).any():
        raise HistoryError(f"the {what} history's steps are not whole, positive and increasing")
    if last_step is not None and len(steps) and steps[-1] > last_step:
        raise HistoryError(f"the {what} history goes to step {steps[-1]:.0f}, past the session's step {last_step}")
    return rows
