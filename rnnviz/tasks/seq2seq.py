"""What the encoder–decoder tasks share: pairs of token sequences turned into ``Seq2SeqBatch`` objects.

A subclass names its source and target vocabularies and draws (source ids, target ids) pairs; this
class adds the end-of-sequence class to the target, pads both sides to the task's longest sequences
(so every batch of a task has one shape) and builds the decoder's teacher-forcing inputs (BOS, then
the target shifted by one step).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from rnnviz.engine.seq2seq import decoder_inputs_for
from rnnviz.tasks._common import one_hot
from rnnviz.tasks.base import PAD_LABEL, Seq2SeqBatch, Task, TaskInfo

EOS_LABEL = "<eos>"  # the class that ends a target sequence
BOS_LABEL = "<bos>"  # the decoder's first input

Pair = tuple[list[int], list[int]]  # (source ids, target ids without the end token)


class Seq2SeqTask(Task):
    """Base class of the encoder–decoder tasks; subclasses implement the four methods below."""

    io = "seq2seq"
    loss = "cross_entropy"
    separator: ClassVar[str] = ""  # how tokens join into text: "" for characters, " " for words

    def source_vocabulary(self) -> tuple[str, ...]:
        raise NotImplementedError

    def target_vocabulary(self) -> tuple[str, ...]:
        """The target's symbols, without the end token (which this class appends)."""
        raise NotImplementedError

    def max_lengths(self) -> tuple[int, int]:
        """(longest source, longest target without the end token) this task's settings can make."""
        raise NotImplementedError

    def _pairs(self, batch_size: int, rng: np.random.Generator) -> list[Pair]:
        raise NotImplementedError

    # ------------------------------------------------------------------ derived

    @property
    def end_token(self) -> int:
        return len(self.target_vocabulary())

    @property
    def source_len(self) -> int:
        return self.max_lengths()[0]

    @property
    def target_len(self) -> int:
        """Decoder steps: the longest target plus its end token."""
        return self.max_lengths()[1] + 1

    def info(self) -> TaskInfo:
        targets = self.target_vocabulary() + (EOS_LABEL,)
        return TaskInfo(input_names=self.source_vocabulary(), output_names=targets, token_inputs=True,
                        extra={"end_token": len(targets) - 1, "decoder_input_names": targets + (BOS_LABEL,),
                               "source_len": self.source_len, "target_len": self.target_len})

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Seq2SeqBatch:
        pairs = self._pairs(batch_size, rng)
        source_ids = np.zeros((self.source_len, batch_size), dtype=np.int64)  # (T_src, B)
        source_mask = np.zeros((self.source_len, batch_size))
        targets = np.zeros((self.target_len, batch_size), dtype=np.int64)  # (T_tgt, B)
        target_mask = np.zeros((self.target_len, batch_size))
        for b, (source, target) in enumerate(pairs):
            source_ids[:len(source), b] = source
            source_mask[:len(source), b] = 1.0
            targets[:len(target) + 1, b] = [*target, self.end_token]
            target_mask[:len(target) + 1, b] = 1.0
        classes = len(self.target_vocabulary()) + 1
        return Seq2SeqBatch(source=one_hot(source_ids, len(self.source_vocabulary()), source_mask),
                            source_mask=source_mask, targets=targets, target_mask=target_mask,
                            decoder_inputs=decoder_inputs_for(targets, target_mask, classes))

    def scored(self, batch: Seq2SeqBatch) -> np.ndarray:  # type: ignore[override]
        """(T_tgt, B): every real target step, the end token included."""
        return batch.target_mask.copy()

    def accuracy(self, predictions: np.ndarray, batch: Seq2SeqBatch) -> float | None:  # type: ignore[override]
        """Teacher-forced: the fraction of real target steps whose most probable class is right
        (predictions (T_tgt, B, classes)). Greedy decoding's accuracy is rnnviz.session.seq2seq's."""
        right = np.argmax(predictions, axis=-1) == batch.targets
        return float(np.sum(right * batch.target_mask) / np.sum(batch.target_mask))

    # ------------------------------------------------------------------ reading

    def source_labels(self, batch: Seq2SeqBatch, sample: int) -> list[str]:
        """The source tokens of one sample, ``<pad>`` at padding."""
        return self.timestep_labels(batch.source[:, sample], batch.source_mask[:, sample])

    def target_labels(self, ids: np.ndarray, mask: np.ndarray | None = None) -> list[str]:
        """Target class ids (T,) as tokens, ``<pad>`` where ``mask`` is 0."""
        names = self.info().output_names
        labels = [names[int(i)] if 0 <= int(i) < len(names) else "?" for i in ids]
        if mask is not None:
            labels = [PAD_LABEL if real == 0 else label for label, real in zip(labels, np.asarray(mask))]
        return labels

    def text(self, labels: list[str]) -> str:
        """Tokens as text, up to the end token (padding and the end token left out)."""
        shown = []
        for label in labels:
            if label in (EOS_LABEL, PAD_LABEL):
                break
            shown.append(label)
        return self.separator.join(shown)
