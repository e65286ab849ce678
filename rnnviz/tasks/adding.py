"""The adding problem (Hochreiter & Schmidhuber, 1997)."""
from __future__ import annotations

import numpy as np

from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo

#: Predicting the mean (1.0) of the sum of two independent U[0, 1) numbers: Var = 2 * 1/12.
MEAN_PREDICTION_MSE = 1.0 / 6.0


class AddingTask(Task):
    """Inputs (T, B, 2): channel 0 uniform [0, 1), channel 1 a marker that is 1 at exactly two steps,
    one in the first half (t < T // 2) and one in the second half. Target (B, 1): the sum of the two
    marked values, read once at the end of the sequence.
    """

    name = "adding"
    title = "Adding problem: sum the two marked numbers"
    description = (
        "A long stream of random numbers passes by; two of them are marked, one in each half, and at "
        "the end the network must output their sum. Everything between the marks is a distraction, "
        "and the first number must be held in memory for about half the sequence. A plain RNN stalls "
        "at the trivial answer (always 1.0, MSE about 0.167) once the sequence is long, because the "
        "gradient from the end no longer reaches the first mark; an LSTM or GRU can keep the number "
        "in its cell and learns it. Watch the gradient norm per timestep to see why."
    )
    params = (Param("seq_len", 50, "timesteps per sequence (T)", minimum=2, maximum=1000),)
    io = "many_to_one"
    loss = "mse"

    def info(self) -> TaskInfo:
        return TaskInfo(
            input_names=("value", "marker"),
            output_names=("sum",),
            extra={"baseline_mse": MEAN_PREDICTION_MSE},
        )

    def loss_baseline(self) -> LossBaseline:
        """Chance: a network that ignores its inputs does best predicting the mean sum, E[u1 + u2] = 1,
        and its MSE is the variance of the sum of two independent U[0, 1) numbers, 2 * 1/12 = 1/6."""
        return LossBaseline(MEAN_PREDICTION_MSE, "chance", "1/6")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len = self.values["seq_len"]
        half = seq_len // 2
        values = rng.uniform(0.0, 1.0, size=(seq_len, batch_size))  # (T, B)
        first = rng.integers(0, half, size=batch_size)  # (B,) in the first half
        second = rng.integers(half, seq_len, size=batch_size)  # (B,) in the second half
        samples = np.arange(batch_size)
        markers = np.zeros((seq_len, batch_size))  # (T, B)
        markers[first, samples] = 1.0
        markers[second, samples] = 1.0
        total = values[first, samples] + values[second, samples]  # (B,)
        return Batch(
            inputs=np.stack([values, markers], axis=-1),  # (T, B, 2)
            targets=total[:, None],  # (B, 1)
            mask=np.ones((seq_len, batch_size)),
        )
