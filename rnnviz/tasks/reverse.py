"""Reverse a sequence of symbols: the encoder–decoder task where attention forms an anti-diagonal."""
from __future__ import annotations

import string

import numpy as np

from rnnviz.tasks._common import lengths_param, sample_lengths
from rnnviz.tasks.base import Param
from rnnviz.tasks.seq2seq import Pair, Seq2SeqTask


class ReverseTask(Seq2SeqTask):
    """Source: n random symbols (n = ``seq_len``, or 1..seq_len when lengths are variable).
    Target: the same symbols last to first, then the end token. The first target symbol is the last
    source symbol, so output step t needs source position n - 1 - t: with attention, the weights form
    an anti-diagonal of the target × source heatmap."""

    name = "reverse"
    title = "Reverse: write a sequence backwards (encoder–decoder)"
    description = (
        "An encoder reads a sequence of symbols and a decoder writes it back last to first, then an end "
        "token. Without attention the decoder sees only the encoder's final state, so every symbol must "
        "be squeezed into that one vector: accuracy falls as sequences grow. With attention the decoder "
        "looks back at the encoder's state at every source position; for reversal it learns to look at "
        "position n - 1 - t at output step t, an anti-diagonal in the attention heatmap. Train it with "
        "`rnnviz train --arch seq2seq` or on the window's Encoder–decoder page."
    )
    params = (
        Param("seq_len", 8, "symbols per sequence (the longest when lengths are variable)", minimum=1, maximum=60),
        Param("alphabet", 8, "how many different symbols there are", minimum=2, maximum=26),
        lengths_param("variable"),
    )

    def source_vocabulary(self) -> tuple[str, ...]:
        return tuple(string.ascii_uppercase[: self.values["alphabet"]])

    def target_vocabulary(self) -> tuple[str, ...]:
        return self.source_vocabulary()

    def max_lengths(self) -> tuple[int, int]:
        return self.values["seq_len"], self.values["seq_len"]

    def _pairs(self, batch_size: int, rng: np.random.Generator) -> list[Pair]:
        lengths = sample_lengths(batch_size, self.values["seq_len"], 1, self.values["lengths"] == "variable", rng)
        symbols = rng.integers(0, self.values["alphabet"], size=(batch_size, self.values["seq_len"]))
        return [(row[:n].tolist(), row[:n][::-1].tolist()) for row, n in zip(symbols, lengths)]
