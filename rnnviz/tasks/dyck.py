"""Balanced brackets (Dyck languages): recognise them, or track the nesting depth."""
from __future__ import annotations

from typing import Any

import numpy as np

from rnnviz.tasks._common import length_mask, lengths_param, one_hot, sample_lengths
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskInfo

BRACKET_PAIRS = ("()", "[]", "{}", "<>")


def is_balanced(tokens: np.ndarray, types: int) -> bool:
    """Stack check of one sequence of token ids (opening bracket k = 2k, its closing one = 2k + 1)."""
    stack: list[int] = []
    for token in tokens:
        kind, closing = divmod(int(token), 2)
        if not closing:
            stack.append(kind)
        elif not stack or stack.pop() != kind:
            return False
    return not stack


class DyckTask(Task):
    """Token ids: opening bracket of kind k = 2k, closing = 2k + 1 (one-hot inputs (T, B, 2K)).

    target "balanced" (many_to_one): class 1 if the real (unpadded) tokens are balanced. Half the
    sequences are balanced; the other half are *near misses* made from a balanced sequence of the
    same length by one small change: one bracket turned the other way, an opening bracket swapped
    with a later closing one (the counts still match but the depth dips below zero), or
    (with several kinds) one closing bracket of the wrong kind. Length and bracket counts therefore
    say little; only tracking the nesting (a counter, or a stack for several kinds) decides.

    target "depth" (many_to_many): a balanced sequence, and at each step the class is the nesting
    depth after reading that bracket (0..max_depth).

    Note: ``io`` and ``loss`` depend on the ``target`` parameter; read them from the instance.
    """

    name = "dyck"
    title = "Brackets: balanced or not, nesting depth"
    description = (
        "Sequences of brackets like '(()(()))'. To tell a balanced sequence from a near miss like "
        "'(()))(()' the network has to count: add one at every opening bracket, subtract one at "
        "every closing one, never go below zero, end at zero. With several kinds of brackets it "
        "needs a stack, which is far harder for a small hidden state. The 'depth' target asks for "
        "the count itself at every step, so you can watch a hidden unit turn into a counter."
    )
    params = (
        Param("target", "balanced", "balanced: classify the whole sequence; depth: the nesting depth "
              "at every step", kind="choice", choices=("balanced", "depth")),
        Param("seq_len", 20, "brackets per sequence (the longest when lengths are variable; even)",
              minimum=2, maximum=400),
        Param("max_depth", 5, "deepest nesting in the balanced sequences", minimum=1, maximum=50),
        Param("bracket_types", 1, "kinds of brackets: 1 = (), 2 adds [], 3 adds {}, 4 adds <>",
              minimum=1, maximum=4),
        lengths_param("variable"),
    )
    io = "many_to_one"
    loss = "cross_entropy"

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.values["seq_len"] -= self.values["seq_len"] % 2  # balanced sequences have even length
        self.io = "many_to_one" if self.values["target"] == "balanced" else "many_to_many"

    def info(self) -> TaskInfo:
        tokens = tuple(bracket for pair in BRACKET_PAIRS[: self.values["bracket_types"]] for bracket in pair)
        if self.values["target"] == "balanced":
            outputs = ("unbalanced", "balanced")
        else:
            outputs = tuple(f"depth {d}" for d in range(self.values["max_depth"] + 1))
        return TaskInfo(input_names=tokens, output_names=outputs, token_inputs=True)

    def loss_baseline(self) -> LossBaseline | None:
        """target "balanced", chance: half the sequences are balanced (a fair coin decides) and the
        near misses have the same length, so a classifier that cannot count scores ln 2. target
        "depth": None (the depth's distribution per step has no short closed form)."""
        if self.values["target"] != "balanced":
            return None
        return LossBaseline(float(np.log(2.0)), "chance", "ln 2")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len, types = self.values["seq_len"], self.values["bracket_types"]
        variable = self.values["lengths"] == "variable"
        lengths = sample_lengths(batch_size, seq_len, 2, variable, rng, step=2)  # (B,) even
        mask = length_mask(lengths, seq_len)  # (T, B)
        tokens, depth = self._balanced(lengths, rng)  # (T, B), (T, B)
        if self.values["target"] == "depth":
            targets = depth * mask.astype(np.int64)
        else:
            targets = rng.integers(0, 2, size=batch_size)  # (B,) 1 balanced
            for b in np.flatnonzero(targets == 0):
                tokens[: lengths[b], b] = _near_miss(tokens[: lengths[b], b], types, rng)
        return Batch(inputs=one_hot(tokens, 2 * types, mask), targets=targets.astype(np.int64), mask=mask)

    def _balanced(self, lengths: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Random balanced sequences of the given lengths, nesting at most max_depth (padding: 0).

        A random walk on the depth: open or close with equal chance among the moves that keep
        0 <= depth <= max_depth and still let the sequence close by its end.
        """
        seq_len, batch_size = self.values["seq_len"], len(lengths)
        most, types = self.values["max_depth"], self.values["bracket_types"]
        tokens = np.zeros((seq_len, batch_size), dtype=np.int64)  # (T, B)
        depth_after = np.zeros((seq_len, batch_size), dtype=np.int64)  # (T, B)
        stack = np.zeros((batch_size, most + 1), dtype=np.int64)  # open kinds, bottom first
        depth = np.zeros(batch_size, dtype=np.int64)
        samples = np.arange(batch_size)
        coin = rng.random((seq_len, batch_size)) < 0.5
        kinds = rng.integers(0, types, size=(seq_len, batch_size))
        for t in range(seq_len):
            remaining = lengths - t  # (B,) steps left including this one
            can_open = (depth < most) & (depth + 1 <= remaining - 1)
            can_close = depth > 0
            opens = can_open & (coin[t] | ~can_close) & (remaining > 0)
            closes = ~opens & can_close & (remaining > 0)
            stack[samples, np.where(opens, depth, 0)] = np.where(opens, kinds[t], stack[samples, 0])
            top = stack[samples, np.maximum(depth - 1, 0)]
            tokens[t] = np.where(opens, 2 * kinds[t], np.where(closes, 2 * top + 1, 0))
            depth += opens.astype(np.int64) - closes.astype(np.int64)
            depth_after[t] = depth
        return tokens, depth_after


def _near_miss(tokens: np.ndarray, types: int, rng: np.random.Generator) -> np.ndarray:
    """An unbalanced copy of a balanced sequence, changed as little as possible."""
    for _ in range(8):
        changed = tokens.copy()
        change = rng.integers(0, 3 if types > 1 else 2)
        if change == 0:  # turn one bracket the other way
            changed[rng.integers(0, len(tokens))] ^= 1
        elif change == 1:  # swap an opening bracket with a later closing one: counts still match
            opening = int(rng.choice(np.flatnonzero(tokens[:-1] % 2 == 0)))
            closing = int(rng.choice(np.flatnonzero(tokens[opening + 1 :] % 2 == 1))) + opening + 1
            changed[[opening, closing]] = changed[[closing, opening]]
        else:  # a closing bracket of the wrong kind
            position = rng.choice(np.flatnonzero(tokens % 2 == 1))
            kind = (tokens[position] // 2 + rng.integers(1, types)) % types
            changed[position] = 2 * kind + 1
        if not is_balanced(changed, types):
            return changed
    changed = tokens.copy()
    changed[0] ^= 1  # the first bracket closing: never balanced
    return changed
