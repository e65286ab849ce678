"""Next-value prediction of a noisy sum of sines."""
from __future__ import annotations

import numpy as np

from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo

SHORTEST_PERIOD = 6.0  # timesteps
LONGEST_PERIOD = 60.0  # timesteps


class SineTask(Task):
    """x_t = sum_k a_k sin(2 pi t / P_k + phi_k) + noise_t; predict x_{t+1} from x_1..x_t.

    Amplitudes a_k are random and scaled so that sum_k a_k = 1 (the clean signal stays in [-1, 1]);
    periods P_k are uniform in [6, 60] timesteps; the noise is Gaussian with standard deviation
    ``noise``. The target at step t is the (noisy) input at step t+1.
    """

    name = "sine"
    title = "Sum of sines: predict the next value"
    description = (
        "Each sequence is a sum of a few sine waves with random periods and phases plus noise, and "
        "the network predicts the next value at every step. One value alone says nothing about "
        "where the wave is going; the hidden state has to carry the phase and the recent slope of "
        "every component, so this shows a recurrent network building a small dynamical system in "
        "its hidden state. More components need more hidden units; more noise sets a floor on the "
        "loss that no network can beat."
    )
    params = (
        Param("seq_len", 50, "timesteps per sequence", minimum=2, maximum=1000),
        Param("components", 2, "number of sine waves added together", minimum=1, maximum=8),
        Param("noise", 0.05, "standard deviation of the Gaussian noise", kind="float", minimum=0.0, maximum=1.0),
    )
    io = "many_to_many"
    loss = "mse"

    def info(self) -> TaskInfo:
        noise = self.values["noise"]
        return TaskInfo(
            input_names=("value",),
            output_names=("next value",),
            extra={"noise_floor_mse": self.loss_baseline().value},
        )

    def loss_baseline(self) -> LossBaseline:
        """Noise floor (a bound from below, not a baseline from above): the target x_{t+1} carries
        fresh Gaussian noise of standard deviation sigma that nothing before it predicts, so even a
        network that knows the clean signal exactly has MSE sigma²."""
        return LossBaseline(self.values["noise"] ** 2, "noise floor", "σ²")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len = self.values["seq_len"]
        components = self.values["components"]
        amplitudes = rng.uniform(0.2, 1.0, size=(components, batch_size))  # (K, B)
        amplitudes /= amplitudes.sum(axis=0, keepdims=True)
        periods = rng.uniform(SHORTEST_PERIOD, LONGEST_PERIOD, size=(components, batch_size))  # (K, B)
        phases = rng.uniform(0.0, 2 * np.pi, size=(components, batch_size))  # (K, B)
        timesteps = np.arange(seq_len + 1, dtype=np.float64)[:, None, None]  # (T+1, 1, 1)
        waves = amplitudes * np.sin(2 * np.pi * timesteps / periods + phases)  # (T+1, K, B)
        signal = waves.sum(axis=1)  # (T+1, B)
        signal += rng.normal(0.0, self.values["noise"], size=signal.shape)
        return Batch(
            inputs=signal[:-1, :, None].copy(),  # (T, B, 1)
            targets=signal[1:, :, None].copy(),  # (T, B, 1)
            mask=np.ones((seq_len, batch_size)),
        )
