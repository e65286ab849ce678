"""A person's own numeric time series (CSV): predict one column one step ahead."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.tasks._common import resource_path, window_pair_weights
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskError, TaskInfo
from rnnviz.tasks.loaders import DataFileError, load_csv, require_rows

BUNDLED_SERIES = ("examples", "weather.csv")  # in resources/, read through resource_path


@dataclass(frozen=True)
class ColumnStats:
    """z-score statistics of one column: normalised = (value - mean) / std."""

    mean: float
    std: float

    def denormalize(self, normalized: np.ndarray) -> np.ndarray:
        return np.asarray(normalized) * self.std + self.mean


class SeriesTask(Task):
    """Inputs (T, B, C_in): the chosen input columns at rows s..s+T-1, z-scored per column.
    Targets (T, B, 1): the target column at rows s+1..s+T (the next row), z-scored.
    Windows start at a random row s. Statistics are over the whole file (``self.stats``).
    """

    name = "series"
    title = "Your time series: predict the next value"
    description = (
        "A numeric table over time from a CSV file (by default a synthetic weather record with "
        "daily and yearly cycles): from the chosen columns up to now, predict the target column at "
        "the next row. Cycles longer than the training window can only be caught by what the "
        "hidden state carries from step to step, and patterns in the other columns help if the "
        "network learns to combine them. Everything is z-scored, so an MSE of 1.0 means no "
        "better than predicting the average."
    )
    params = (
        Param("path", "", "a CSV file with a header row; empty = the bundled weather example", kind="path"),
        Param("inputs", "", "input columns: names or 0-based numbers, comma-separated; empty = all "
              "numeric columns", kind="text"),
        Param("target", "", "the column to predict one row ahead: name or 0-based number; empty = "
              "the last numeric column", kind="text"),
        Param("seq_len", 48, "rows per training window", minimum=2, maximum=2000),
    )
    io = "many_to_many"
    loss = "mse"

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        source = self.values["path"] or resource_path(*BUNDLED_SERIES)
        columns, table = load_csv(source)  # (C,), (N, C)
        require_rows(len(table), self.values["seq_len"] + 1, source)
        self.source = str(source)
        self.columns = columns
        if "," in (self.values["target"] or ""):
            raise TaskError(
                f"target takes one column, got {self.values['target']!r}; choose one of: {', '.join(columns)}"
            )
        self.input_columns = _select_columns(self.values["inputs"], columns, "inputs") or list(columns)
        self.target_column = (_select_columns(self.values["target"], columns, "target") or [columns[-1]])[0]
        self.stats = {name: _column_stats(table[:, i], name, source) for i, name in enumerate(columns)}
        normalized = (table - [self.stats[c].mean for c in columns]) / [self.stats[c].std for c in columns]
        self.input_rows = normalized[:, [columns.index(c) for c in self.input_columns]]  # (N, C_in)
        self.target_rows = normalized[:, columns.index(self.target_column)]  # (N,)

    def info(self) -> TaskInfo:
        return TaskInfo(
            input_names=tuple(self.input_columns),
            output_names=(f"next {self.target_column}",),
            extra={
                "source": self.source,
                "rows": len(self.target_rows),
                "target_column": self.target_column,
                "mean": {name: s.mean for name, s in self.stats.items()},
                "std": {name: s.std for name, s in self.stats.items()},
                "baseline_mse": self.loss_baseline().value,
            },
        )

    def loss_baseline(self) -> LossBaseline:
        """Chance: the best constant prediction is the mean target of the windows drawn, and its MSE is
        their variance. The target column is z-scored over the whole file, so this is close to 1; it
        is computed exactly with the weight each row has in the windows (rows near the ends of the
        file are drawn less often: ``window_pair_weights``)."""
        weights = window_pair_weights(len(self.target_rows), self.values["seq_len"])  # (N - 1,) pair p
        targets = self.target_rows[1:]  # pair p's target is row p + 1
        mean = np.average(targets, weights=weights)
        return LossBaseline(float(np.average((targets - mean) ** 2, weights=weights)), "chance", "Var(target)")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len = self.values["seq_len"]
        starts = rng.integers(0, len(self.target_rows) - seq_len, size=batch_size)  # (B,)
        rows = starts[None, :] + np.arange(seq_len)[:, None]  # (T, B)
        return Batch(
            inputs=self.input_rows[rows],  # (T, B, C_in)
            targets=self.target_rows[rows + 1][..., None],  # (T, B, 1)
            mask=np.ones((seq_len, batch_size)),
        )


def _select_columns(spec: str | None, columns: list[str], what: str) -> list[str]:
    """Column names from 'name, 2, -1' (names first, then 0-based numbers); empty spec -> []."""
    chosen = []
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        if item in columns:
            chosen.append(item)
            continue
        try:
            chosen.append(columns[int(item)])
        except (ValueError, IndexError):
            raise TaskError(
                f"{what}: no numeric column {item!r}; choose from {', '.join(columns)} "
                f"(or numbers 0 to {len(columns) - 1})"
            ) from None
    return list(dict.fromkeys(chosen))


def _column_stats(values: np.ndarray, name: str, source: object) -> ColumnStats:
    """Mean and standard deviation; a constant column gets std 1 (it becomes all zeros)."""
    scale = np.max(np.abs(values))
    if scale > 1e150:
        raise DataFileError(
            f"{source}, column {name!r}: values as large as {scale:.3g} cannot be normalised; "
            "rescale the column (e.g. change its unit)"
        )
    mean = float(np.mean(values))
    std = float(np.std(values))
    if std <= 1e-12 * max(1.0, abs(mean)):
        std = 1.0
    return ColumnStats(mean, std)
