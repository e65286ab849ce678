"""Small helpers shared by the task files: one-hot tokens, sequence lengths, bundled resources."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnviz.bundled import bundled_path
from rnnviz.tasks.base import Param

LENGTHS_PARAM_HELP = (
    "fixed: every sequence has the full length; variable: lengths vary per sequence and the "
    "rest is padding (mask 0)"
)


def lengths_param(default: str) -> Param:
    """The shared ``lengths`` choice: all sequences full length, or variable with end padding."""
    return Param("lengths", default, LENGTHS_PARAM_HELP, kind="choice", choices=("fixed", "variable"))


def resource_path(*parts: str) -> Path:
    """The bundled file ``resources/<parts...>`` (corpora, example data) wherever rnnviz is installed."""
    return bundled_path(*parts)


def one_hot(token_ids: np.ndarray, size: int, mask: np.ndarray | None = None) -> np.ndarray:
    """One-hot encode integer ids (...,) -> (..., size) float64; rows where mask == 0 stay all zero."""
    encoded = np.zeros(token_ids.shape + (size,), dtype=np.float64)
    np.put_along_axis(encoded, token_ids[..., None].astype(np.int64), 1.0, axis=-1)
    if mask is not None:
        encoded *= mask[..., None]
    return encoded


def sample_lengths(
    batch_size: int, max_len: int, min_len: int, variable: bool, rng: np.random.Generator, step: int = 1
) -> np.ndarray:
    """Per-sequence lengths (B,) int64: all ``max_len``, or uniform over min_len..max_len in ``step``s."""
    if not variable:
        return np.full(batch_size, max_len, dtype=np.int64)
    choices = np.arange(min_len, max_len + 1, step, dtype=np.int64)
    return rng.choice(choices, size=batch_size)


def window_pair_weights(rows: int, seq_len: int) -> np.ndarray:
    """(rows - 1,) how often each pair (row p as input, row p + 1 as target) is drawn, relative to the
    others, when windows of ``seq_len`` pairs start uniformly at s in [0, rows - seq_len): pair p is in
    the windows with max(0, p - seq_len + 1) <= s <= min(p, rows - seq_len - 1). The rows near either
    end of a file are drawn less often than the middle ones."""
    pairs = np.arange(rows - 1)  # (rows - 1,)
    first = np.maximum(0, pairs - seq_len + 1)
    last = np.minimum(pairs, rows - seq_len - 1)
    return np.maximum(0, last - first + 1).astype(np.float64)


def length_mask(lengths: np.ndarray, seq_len: int) -> np.ndarray:
    """Mask (T, B) float64: 1.0 for timesteps t < length of sequence b, 0.0 after (padding)."""
    timesteps = np.arange(seq_len)[:, None]  # (T, 1)
    return (timesteps < lengths[None, :]).astype(np.float64)
