"""Parity (running XOR) of a bit stream, classified once at the end."""
from __future__ import annotations

import numpy as np

from rnnviz.tasks._common import length_mask, lengths_param, one_hot, sample_lengths
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo


class ParityTask(Task):
    """Inputs (T, B, 2): bits one-hot ("0", "1"); padding steps are all zero with mask 0.
    Target (B,) int64: the XOR of the real bits, as a class id (0 = even number of ones, 1 = odd),
    for a 2-class cross-entropy head (chosen over a 1-output BCE so every classification task in
    rnnviz has one output per class). With ``io`` = many_to_many the target is (T, B): the XOR of the
    bits up to and including t (the running parity), 0 at padding (masked out).
    """

    name = "parity"
    title = "Parity: is the number of ones odd?"
    description = (
        "A stream of bits goes in and at the end the network says whether it contained an odd number "
        "of ones. Every single bit flips the answer, so nothing can be ignored and the whole history "
        "collapses into one bit of state that must be toggled precisely at each 1. Gradient descent "
        "finds this surprisingly hard for long streams: until the network represents the running "
        "parity, no part of the input correlates with the answer, so the loss sits at chance "
        "(ln 2 = 0.69) and then drops suddenly."
    )
    params = (
        Param("seq_len", 12, "bits per sequence (the longest when lengths are variable)", minimum=1, maximum=500),
        lengths_param("fixed"),
        Param("io", "many_to_one", "many_to_one: the parity once, after the last bit; many_to_many: the running "
              "parity after every bit (the answer so far is asked, and taught, at every step)", kind="choice",
              choices=("many_to_one", "many_to_many")),
    )
    io = "many_to_one"  # the default; an instance follows its io parameter
    loss = "cross_entropy"

    def __init__(self, **values) -> None:
        super().__init__(**values)
        self.io = self.values["io"]

    def info(self) -> TaskInfo:
        return TaskInfo(
            input_names=("0", "1"),
            output_names=("even", "odd"),
            token_inputs=True,
            extra={"baseline_cross_entropy": self.loss_baseline().value},
        )

    def loss_baseline(self) -> LossBaseline:
        """Chance: the bits are fair coins, so for any length >= 1 the parity is odd with probability
        exactly 1/2, and no part of the sequence short of all of it says anything about it. The best
        prediction without the running parity is 1/2 for each class: cross-entropy ln 2."""
        return LossBaseline(float(np.log(2.0)), "chance", "ln 2")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len = self.values["seq_len"]
        variable = self.values["lengths"] == "variable"
        lengths = sample_lengths(batch_size, seq_len, 1, variable, rng)  # (B,)
        mask = length_mask(lengths, seq_len)  # (T, B)
        bits = rng.integers(0, 2, size=(seq_len, batch_size)) * mask.astype(np.int64)  # (T, B)
        if self.io == "many_to_many":
            running = (np.cumsum(bits, axis=0) % 2).astype(np.int64) * mask.astype(np.int64)  # (T, B)
            return Batch(inputs=one_hot(bits, 2, mask), targets=running, mask=mask)
        parity = (bits.sum(axis=0) % 2).astype(np.int64)  # (B,)
        return Batch(inputs=one_hot(bits, 2, mask), targets=parity, mask=mask)
