"""Lag recall: say the symbol you saw ``lag`` steps ago (the dependency lag is a setting)."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import Batch, Param, Task, TaskError, TaskInfo

BLANK_NAME = "_"


class LagRecallTask(Task):
    """A stream of T random symbols s_0 .. s_(T-1), uniform over k (``vocab``); the target at t is
    s_(t - lag) for t >= lag and the blank class before (nothing to recall yet):

        inputs   s_0 s_1 ... s_(T-1)                         one-hot, size k
        targets  _ x lag | s_0 .. s_(T-1-lag)               k + 1 classes: the k symbols and blank

    Accuracy is measured where t >= lag (``scored``); its chance level is 1/k. The mask stays all ones
    (the blanks are free, as in the copy task). A model that sees only the last w inputs (an n-gram or a
    time-delay network with window w) can do it when lag < w and is at chance beyond; a recurrent
    network must carry the last lag + 1 symbols in its hidden state.
    """

    name = "lag_recall"
    title = "Lag recall: the symbol from lag steps back"
    description = (
        "A stream of random symbols goes in, and at every step the network must name the symbol it "
        "saw a fixed number of steps (the lag) earlier. Nothing about the current input helps: the "
        "answer sits only in the past. A model with a fixed window of the last k inputs (a Markov "
        "chain, a time-delay network) solves it while the lag is inside its window and guesses (1 in "
        "k symbols) beyond it, however much it trains; a recurrent network keeps what it needs in its "
        "hidden state and is limited only by how much it can hold and how far back its gradients reach."
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
            output_names=symbols + (BLANK_NAME,),
            token_inputs=True,
            extra={
                "recall_start": lag,
                "blank_class": k,
                # blanks predicted perfectly and the recalled symbols guessed uniformly, over all steps
                "baseline_cross_entropy": (seq_len - lag) * np.log(k) / seq_len,
                "chance_accuracy": 1.0 / k,
            },
        )

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        k, lag, seq_len = self.values["vocab"], self.lag, self.values["seq_len"]
        symbols = rng.integers(0, k, size=(seq_len, batch_size))  # (T, B)
        targets = np.full((seq_len, batch_size), k, dtype=np.int64)  # (T, B), blank before the lag
        targets[lag:] = symbols[: seq_len - lag]
        return Batch(inputs=one_hot(symbols, k), targets=targets, mask=np.ones((seq_len, batch_size)))

    def scored(self, batch: Batch) -> np.ndarray:
        """(T, B): 1 where t >= lag, the steps with a symbol to recall."""
        scored = np.zeros(batch.mask.shape)
        scored[self.lag:] = 1
        return scored * batch.mask
