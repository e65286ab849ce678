"""The copy (memory) task: store n symbols, wait, reproduce them on a "go" marker."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo

BLANK_NAME = "_"
GO_NAME = "go"


class CopyTask(Task):
    """Layout of one sequence, T = 2 n + delay + 1 timesteps (n = ``n_symbols``):

        inputs   s_1 .. s_n | blank x delay | go | blank x n
        targets  blank x (n + delay + 1)          | s_1 .. s_n

    Input tokens (one-hot, size k + 2): the k symbols, blank, go. Output classes (k + 1): the k
    symbols and blank. Every timestep has a target: outside the recall steps it is the blank class
    (the mask stays all ones, because the mask only marks padding). ``info().extra["recall_start"]``
    says where the recall steps begin, so accuracy can be measured on them alone.
    """

    name = "copy"
    title = "Copy: remember symbols through a delay"
    description = (
        "The network sees a few random symbols, then a stretch of blanks, then a 'go' marker, and must "
        "then write the symbols back in order. Nothing in the input during the recall tells it what "
        "to write: the symbols must sit in the hidden state through the whole delay. Memorising "
        "many symbols needs many hidden units, and a long delay needs gradients that survive many "
        "steps back. Until it learns to remember, a network can only output blanks and guess the "
        "symbols (the loss stays at the memoryless baseline)."
    )
    params = (
        Param("n_symbols", 5, "how many symbols to memorise (n)", minimum=1, maximum=50),
        Param("alphabet", 8, "how many different symbols there are (k)", minimum=2, maximum=26),
        Param("delay", 10, "blank steps between the symbols and the go marker", minimum=0, maximum=500),
    )
    io = "many_to_many"
    loss = "cross_entropy"

    @property
    def seq_len(self) -> int:
        return 2 * self.values["n_symbols"] + self.values["delay"] + 1

    @property
    def recall_start(self) -> int:
        return self.values["n_symbols"] + self.values["delay"] + 1

    def info(self) -> TaskInfo:
        symbols = tuple(string.ascii_uppercase[: self.values["alphabet"]])
        n, k = self.values["n_symbols"], self.values["alphabet"]
        return TaskInfo(
            input_names=symbols + (BLANK_NAME, GO_NAME),
            output_names=symbols + (BLANK_NAME,),
            token_inputs=True,
            extra={
                "recall_start": self.recall_start,
                "blank_class": k,
                "baseline_cross_entropy": self.loss_baseline().value,
            },
        )

    def loss_baseline(self) -> LossBaseline:
        """Memoryless (the baseline of Arjovsky et al. 2016): a predictor that knows the timestep and
        the current input but stores nothing writes the blank at the first n + delay + 1 steps
        (loss 0) and, at each of the n recall steps, can only guess the symbol, uniform over k
        (loss ln k). The loss is a mean over all T = 2n + delay + 1 steps: n ln k / T."""
        n, k = self.values["n_symbols"], self.values["alphabet"]
        return LossBaseline(n * float(np.log(k)) / self.seq_len, "memoryless", "n ln k / T")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        n, k = self.values["n_symbols"], self.values["alphabet"]
        blank, go = k, k + 1
        seq_len = self.seq_len
        symbols = rng.integers(0, k, size=(n, batch_size))  # (n, B)
        input_ids = np.full((seq_len, batch_size), blank, dtype=np.int64)  # (T, B)
        input_ids[:n] = symbols
        input_ids[self.recall_start - 1] = go
        targets = np.full((seq_len, batch_size), blank, dtype=np.int64)  # (T, B)
        targets[self.recall_start :] = symbols
        return Batch(
            inputs=one_hot(input_ids, k + 2),  # (T, B, k + 2)
            targets=targets,
            mask=np.ones((seq_len, batch_size)),
        )

    def scored(self, batch: Batch) -> np.ndarray:
        """(T, B): 1 at the recall steps, where accuracy is measured (the blanks are free)."""
        scored = np.zeros(batch.mask.shape)
        scored[self.recall_start:] = 1
        return scored * batch.mask
