"""Sort a string of digits: an encoder–decoder task whose output order depends on the whole input."""
from __future__ import annotations

import numpy as np

from rnnviz.tasks._common import lengths_param, sample_lengths
from rnnviz.tasks.base import Param
from rnnviz.tasks.seq2seq import Pair, Seq2SeqTask

DIGITS = tuple("0123456789")


class SortDigitsTask(Seq2SeqTask):
    """Source: n random digits (n = ``seq_len``, or 1..seq_len when lengths are variable). Target: the
    same digits in ascending order, then the end token. Unlike reversal, where each output step has
    one source position to look at, the right position depends on every digit: the decoder must
    count how many of each digit it has written."""

    name = "sort_digits"
    title = "Sort digits: write a digit string in order (encoder–decoder)"
    description = (
        "An encoder reads a string of digits and a decoder writes the same digits in ascending order, "
        "then an end token. Which source position holds the next output depends on all the digits, so "
        "the attention weights spread over every copy of the digit being written rather than one "
        "diagonal, and the decoder must keep count of what it has already written. Train it with "
        "`rnnviz train --arch seq2seq` or on the window's Encoder–decoder page."
    )
    params = (
        Param("seq_len", 8, "digits per string (the longest when lengths are variable)", minimum=1, maximum=60),
        lengths_param("variable"),
    )

    def source_vocabulary(self) -> tuple[str, ...]:
        return DIGITS

    def target_vocabulary(self) -> tuple[str, ...]:
        return DIGITS

    def max_lengths(self) -> tuple[int, int]:
        return self.values["seq_len"], self.values["seq_len"]

    def _pairs(self, batch_size: int, rng: np.random.Generator) -> list[Pair]:
        lengths = sample_lengths(batch_size, self.values["seq_len"], 1, self.values["lengths"] == "variable", rng)
        digits = rng.integers(0, 10, size=(batch_size, self.values["seq_len"]))
        return [(row[:n].tolist(), sorted(row[:n].tolist())) for row, n in zip(digits, lengths)]
