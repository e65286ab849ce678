"""Associative recall (the induction-head task of Olsson et al. 2022, H3 and Mamba): look a key up."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskError, TaskInfo

QUERY_NAME, BLANK_NAME = "?", "_"


class AssociativeRecallTask(Task):
    """Layout of one sequence, T = 2 n + 1 + q timesteps (n = ``n_pairs``, q = ``n_queries``):

        inputs   k_1 v_1 k_2 v_2 .. k_n v_n | ? | kq_1 .. kq_q
        targets  blank x (2 n + 1)               | v(kq_1) .. v(kq_q)

    The n keys are distinct letters out of ``keys``; values are digits out of ``values``; each query is
    one of the n keys, and its target is the value that followed it. Input tokens (one-hot): the keys,
    the values and "?"; output classes: the values and blank. Accuracy is per query (``scored``).
    """

    name = "associative_recall"
    title = "Associative recall: what came after this key?"
    description = (
        "The network reads key-value pairs such as 'C 7 A 2 F 5', then a '?', then keys it has seen, and "
        "must answer each with the value that followed it. This is the induction-head pattern ('after A "
        "came 2, so after A comes 2 again') that Olsson et al. (2022) found at the heart of in-context "
        "learning, and a standard test for recurrent and state-space models (H3, Mamba): a fixed-size "
        "state must store every pair so that any key can be looked up later, and keep them apart. "
        "More pairs than the state can hold make the accuracy fall towards chance."
    )
    params = (
        Param("n_pairs", 4, "key-value pairs to store (n)", minimum=1, maximum=26),
        Param("keys", 8, "how many different keys there are (letters)", minimum=2, maximum=26),
        Param("values", 8, "how many different values there are (digits 0-9 and beyond)", minimum=2, maximum=50),
        Param("n_queries", 1, "keys asked at the end (q)", minimum=1, maximum=26),
    )
    io = "many_to_many"
    loss = "cross_entropy"

    def __init__(self, **values) -> None:
        super().__init__(**values)
        if self.values["n_pairs"] > self.values["keys"]:
            raise TaskError(f"n_pairs ({self.values['n_pairs']}) cannot exceed keys ({self.values['keys']}): "
                            "the keys of one sequence are distinct")

    @property
    def seq_len(self) -> int:
        return 2 * self.values["n_pairs"] + 1 + self.values["n_queries"]

    @property
    def recall_start(self) -> int:
        return 2 * self.values["n_pairs"] + 1

    def _value_names(self) -> tuple[str, ...]:
        count = self.values["values"]
        return tuple(str(v) for v in range(count)) if count <= 10 else tuple(f"v{v}" for v in range(count))

    def info(self) -> TaskInfo:
        keys = tuple(string.ascii_uppercase[: self.values["keys"]])
        values = self._value_names()
        return TaskInfo(
            input_names=keys + values + (QUERY_NAME,),
            output_names=values + (BLANK_NAME,),
            token_inputs=True,
            extra={"recall_start": self.recall_start, "blank_class": len(values),
                   "chance_accuracy": 1.0 / len(values)},
        )

    def loss_baseline(self) -> LossBaseline:
        """Memoryless: knowing the timestep and the current token, a predictor without a state writes
        the blank before the queries (loss 0); at each of the q query steps the value stored with the
        key was drawn uniformly from the V values, so it can only guess (ln V each). Mean over
        T = 2n + 1 + q steps: q ln V / T."""
        q, count = self.values["n_queries"], self.values["values"]
        return LossBaseline(q * float(np.log(count)) / self.seq_len, "memoryless", "q ln V / T")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        n, q = self.values["n_pairs"], self.values["n_queries"]
        n_keys, n_values = self.values["keys"], self.values["values"]
        keys = np.argsort(rng.random((n_keys, batch_size)), axis=0)[:n]  # (n, B) distinct per sequence
        values = rng.integers(0, n_values, size=(n, batch_size))  # (n, B)
        asked = rng.integers(0, n, size=(q, batch_size))  # (q, B) which pair each query asks for
        columns = np.arange(batch_size)[None, :]
        input_ids = np.empty((self.seq_len, batch_size), dtype=np.int64)
        input_ids[0:2 * n:2] = keys
        input_ids[1:2 * n:2] = n_keys + values
        input_ids[2 * n] = n_keys + n_values  # "?"
        input_ids[self.recall_start:] = keys[asked, columns]
        targets = np.full((self.seq_len, batch_size), n_values, dtype=np.int64)  # blank
        targets[self.recall_start:] = values[asked, columns]
        return Batch(inputs=one_hot(input_ids, n_keys + n_values + 1), targets=targets,
                     mask=np.ones((self.seq_len, batch_size)))

    def scored(self, batch: Batch) -> np.ndarray:
        """(T, B): 1 at the query steps, where accuracy is measured."""
        scored = np.zeros(batch.mask.shape)
        scored[self.recall_start:] = 1
        return scored * batch.mask
