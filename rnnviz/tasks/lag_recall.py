"""Lag recall: say the symbol you saw ``lag`` steps ago (the dependency lag is a setting)."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskError, TaskInfo


class LagRecallTask(Task):
    """A stream of random symbols, uniform over k (``vocab``), of which the network sees the last T:
    s_(-lag) .. s_(-1) went by before the sequence starts, s_0 .. s_(T-1) are its inputs, and the
    target at every t is s_(t - lag):

        inputs   s_0 s_1 ... s_(T-1)                         one-hot, size k
        targets  s_(-lag) .. s_(-1) | s_0 .. s_(T-1-lag)     k classes

    The first ``lag`` targets were never shown: no model can know them, they are not scored and their
    loss stays at ln k. Accuracy is measured where t >= lag (``scored``); its chance level is 1/k. A
    model that sees only the last w inputs (an n-gram or a time-delay network with window w) can do it
    when lag < w and is at chance beyond (every symbol is as likely as any other, wherever it is); a
    recurrent network must carry the last lag + 1 symbols in its hidden state. (The unseen targets are
    random symbols rather than a "blank" class: a window model cannot tell t < lag from t >= lag, and a
    blank class would pull its guesses below chance.)
    """

    name = "lag_recall"
    title = "Lag recall: the symbol from lag steps back"
    description = (
        "A stream of random symbols goes in, and at every step the network must name the symbol it "
        "saw a fixed number of steps (the lag) earlier. Nothing about the current input helps: the "
        "answer sits only in the past. A model with a fixed window of the last k inputs (a Markov "
        "chain, a time-delay network) solves it while the lag is inside its window and guesses (1 in "
        "k symbols) beyond it, however much it trains; a recurrent network keeps what it needs in its "
        "hidden state and is limited only by how much it can hold and how far back its gradients reach. "
        "The first lag targets went by before the sequence began: nobody can know them, and they are "
        "not scored."
    )
    params = (
        Param("lag", 3, "how many steps back the target symbol is (0 = the current input)", minimum=0,
              maximum=200),
        Param("vocab", 4, "how many different symbols there are (k)", minimum=2, maximum=26),
        Param("seq_len", 24, "symbols per sequence (must exceed the lag)", minimum=2, maximum=2000),
    )
    io = "many_to_many"
    loss = "cross_entropy"

    def __init__(self, **values) -> None:
        super().__init__(**values)
        if self.values["seq_len"] <= self.values["lag"]:
            raise TaskError(f"seq_len ({self.values['seq_len']}) must be larger than the lag "
                            f"({self.values['lag']}): raise seq_len or lower the lag")

    @property
    def lag(self) -> int:
        return self.values["lag"]

    def info(self) -> TaskInfo:
        k, lag, seq_len = self.values["vocab"], self.lag, self.values["seq_len"]
        symbols = tuple(string.ascii_uppercase[:k])
        return TaskInfo(
            input_names=symbols,
            output_names=symbols,
            token_inputs=True,
            extra={
                "recall_start": lag,
                # every symbol guessed uniformly (what a model without memory can do)
                "baseline_cross_entropy": float(np.log(k)),
                "chance_accuracy": 1.0 / k,
            },
        )

    def loss_baseline(self) -> LossBaseline:
        """Memoryless: the symbols are independent and uniform over k, so for lag >= 1 neither the current
        input nor the timestep says anything about s_(t - lag): ln k at every step. With lag 0 the current
        input is the answer: 0."""
        if self.lag == 0:
            return LossBaseline(0.0, "memoryless", "0 (lag 0)")
        return LossBaseline(float(np.log(self.values["vocab"])), "memoryless", "ln k")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        k, lag, seq_len = self.values["vocab"], self.lag, self.values["seq_len"]
        stream = rng.integers(0, k, size=(lag + seq_len, batch_size))  # (lag + T, B): s_(-lag) .. s_(T-1)
        return Batch(inputs=one_hot(stream[lag:], k), targets=stream[:seq_len].astype(np.int64),
                     mask=np.ones((seq_len, batch_size)))

    def scored(self, batch: Batch) -> np.ndarray:
        """(T, B): 1 where t >= lag, the steps whose target was shown."""
        scored = np.zeros(batch.mask.shape)
        scored[self.lag:] = 1
        return scored * batch.mask
