"""Weight sharing in numbers: a recurrent network's parameter count against what a feed-forward network
over the whole padded one-hot sequence would need for the same task. Qt-free.

A feed-forward network that reads a sequence of T tokens at once takes the T one-hot vectors side by
side, T·V inputs, into H hidden units and then to the outputs (O per sequence for many-to-one, O per
timestep for many-to-many). Its weights are

    N_ff(T) = T·V·H + H  +  H·O_T + O_T,      O_T = O (many-to-one) or T·O (many-to-many)

and grow with T; an RNN applies the same W_ih, W_hh and head at every timestep, so its count does
not depend on T at all. Example: 20 words, a 20,000-word vocabulary, 10 hidden units:
20·20,000·10 = 4,000,000 input weights.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.session.session import Session

LENGTH_FACTORS = (0.25, 0.5, 1, 2, 4, 8)  # the table's lengths, as multiples of the task's own


def feedforward_param_count(seq_len: int, input_size: int, hidden_size: int, output_size: int,
                            per_timestep_outputs: bool = False) -> int:
    """Weights and biases of a one-hidden-layer network on the padded one-hot sequence (module docstring)."""
    outputs = seq_len * output_size if per_timestep_outputs else output_size
    return seq_len * input_size * hidden_size + hidden_size + hidden_size * outputs + outputs


@dataclass(frozen=True)
class WeightSharing:
    """Both counts for a range of sequence lengths (the RNN's is the same at every length)."""

    lengths: np.ndarray  # (K,) timesteps
    recurrent: np.ndarray  # (K,) the RNN's parameters
    feedforward: np.ndarray  # (K,) a feed-forward net over the padded one-hot sequence
    seq_len: int  # the task's own length
    input_size: int  # V
    hidden_size: int  # H (the feed-forward net is given the RNN's hidden size)
    output_size: int  # O
    cell: str

    def at_task_length(self) -> tuple[int, int]:
        """(RNN, feed-forward) at the task's own sequence length."""
        k = int(np.flatnonzero(self.lengths == self.seq_len)[0])
        return int(self.recurrent[k]), int(self.feedforward[k])

    def summary(self) -> str:
        """One readable line for the network summary."""
        rnn, ff = self.at_task_length()
        span = int(self.lengths[-1] - self.lengths[0])
        per_step = int(self.feedforward[-1] - self.feedforward[0]) // span if span else 0
        return (f"{rnn:,} parameters at any length (shared by every timestep); a feed-forward net on the whole "
                f"padded sequence needs {ff:,} at T = {self.seq_len}, and {per_step:,} more for every extra step")

    def tooltip(self) -> str:
        return (f"Weight sharing: the {self.cell} applies the same weights at every timestep, so its "
                f"{self.at_task_length()[0]:,} parameters do not grow with the sequence length. A feed-forward "
                f"network that reads the whole sequence at once takes T × {self.input_size} one-hot inputs into "
                f"{self.hidden_size} hidden units: T·V·H + H + H·O + O parameters, "
                + ", ".join(f"{ff:,} at T = {t}" for t, ff in zip(self.lengths, self.feedforward))
                + ". (20 words of a 20,000-word vocabulary into 10 hidden units: 4 million input weights.)")

    def csv_rows(self) -> list[list]:
        rows: list[list] = [["seq_len", f"recurrent_{self.cell}", "feedforward_padded_one_hot"]]
        rows += [[int(t), int(r), int(f)] for t, r, f in zip(self.lengths, self.recurrent, self.feedforward)]
        return rows


def weight_sharing(session: Session, lengths: tuple[int, ...] | None = None) -> WeightSharing:
    """The counts for the session's network and task (the feed-forward net gets the RNN's hidden size)."""
    config, task = session.config, session.task
    seq_len = session.view_batch.seq_len
    if lengths is None:
        lengths = tuple(sorted({max(1, round(seq_len * f)) for f in LENGTH_FACTORS} | {seq_len}))
    many_to_many = task.io == "many_to_many"
    counts = [feedforward_param_count(t, task.input_size, config.hidden_size, task.output_size, many_to_many)
              for t in lengths]
    rnn = session.model.num_params()
    return WeightSharing(np.asarray(lengths, dtype=np.int64), np.full(len(lengths), rnn, dtype=np.int64),
                         np.asarray(counts, dtype=np.int64), seq_len, task.input_size, config.hidden_size,
                         task.output_size, config.cell)
