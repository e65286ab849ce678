"""Selective copying (Gu & Dao 2023, "Mamba", Table 1): remember a few tokens scattered among noise."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo

NOISE_NAME, GO_NAME, BLANK_NAME = "·", "?", "_"


class SelectiveCopyTask(Task):
    """Layout of one sequence, T = L + n timesteps (L = ``region``, n = ``n_tokens``):

        inputs   noise with s_1 .. s_n at random, increasing positions (L steps) | go x n
        targets  blank x L                                                     | s_1 .. s_n

    Input tokens (one-hot, k + 2): the k symbols, the noise token "·" and the go token "?". Output
    classes (k + 1): the k symbols and blank. Where the tokens sit changes from sequence to sequence, so
    a model must decide from each token itself whether to keep it (a time-invariant recurrence, whose
    decay is the same at every step, cannot skip the noise). Accuracy is per recalled token
    (``scored``: the last n steps); ``info().extra["recall_start"]`` is where they begin.
    """

    name = "selective_copy"
    title = "Selective copying: keep the tokens, skip the noise"
    description = (
        "A few symbols are scattered at random places in a stretch of noise tokens; at the end the "
        "network must write the symbols back in order. Unlike the copy task the symbols do not sit at "
        "fixed times, so the network has to look at every token and decide whether to store it. This "
        "is the task Gu & Dao (2023) used to show what input-dependent (selective) state updates buy: a "
        "time-invariant linear recurrence such as S4 or the LRU decays and mixes its state the same way "
        "at every step and cannot skip the noise, while a selective state-space layer learns to open "
        "its state for symbols and close it for noise (18.3% against 97.0% in their Table 1)."
    )
    params = (
        Param("n_tokens", 4, "how many symbols to copy (n)", minimum=1, maximum=32),
        Param("vocab", 8, "how many different symbols there are (k)", minimum=2, maximum=26),
        Param("region", 24, "noise steps the symbols are scattered in (L)", minimum=1, maximum=2000),
    )
    io = "many_to_many"
    loss = "cross_entropy"

    def __init__(self, **values) -> None:
        super().__init__(**values)
        if self.values["n_tokens"] > self.values["region"]:
            from rnnviz.tasks.base import TaskError

            raise TaskError(f"n_tokens ({self.values['n_tokens']}) cannot exceed region ({self.values['region']}): "
                            "the symbols must fit among the noise steps")

    @property
    def seq_len(self) -> int:
        return self.values["region"] + self.values["n_tokens"]

    @property
    def recall_start(self) -> int:
        return self.values["region"]

    def info(self) -> TaskInfo:
        k, n = self.values["vocab"], self.values["n_tokens"]
        symbols = tuple(string.ascii_uppercase[:k])
        return TaskInfo(
            input_names=symbols + (NOISE_NAME, GO_NAME),
            output_names=symbols + (BLANK_NAME,),
            token_inputs=True,
            extra={
                "recall_start": self.recall_start,
                "blank_class": k,
                "baseline_cross_entropy": self.loss_baseline().value,
                "chance_accuracy": 1.0 / k,
            },
        )

    def loss_baseline(self) -> LossBaseline:
        """Memoryless: knowing the timestep and the current token, a predictor without a state writes
        the blank over the L noise steps (loss 0) and guesses each of the n symbols at the recall
        steps, uniform over k (ln k each). Mean over T = L + n steps: n ln k / T."""
        n, k = self.values["n_tokens"], self.values["vocab"]
        return LossBaseline(n * float(np.log(k)) / self.seq_len, "memoryless", "n ln k / T")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        n, k, region = self.values["n_tokens"], self.values["vocab"], self.values["region"]
        noise, go, blank = k, k + 1, k
        symbols = rng.integers(0, k, size=(n, batch_size))  # (n, B)
        # n distinct positions per sequence, in increasing order: the smallest n of a random permutation
        positions = np.sort(np.argsort(rng.random((region, batch_size)), axis=0)[:n], axis=0)  # (n, B)
        input_ids = np.full((self.seq_len, batch_size), noise, dtype=np.int64)
        input_ids[positions, np.arange(batch_size)[None, :]] = symbols
        input_ids[region:] = go
        targets = np.full((self.seq_len, batch_size), blank, dtype=np.int64)
        targets[region:] = symbols
        return Batch(inputs=one_hot(input_ids, k + 2), targets=targets, mask=np.ones((self.seq_len, batch_size)))

    def scored(self, batch: Batch) -> np.ndarray:
        """(T, B): 1 at the recall steps, where accuracy is measured."""
        scored = np.zeros(batch.mask.shape)
        scored[self.recall_start:] = 1
        return scored * batch.mask
