"""Character-level language model on the bundled rhymes or a person's own text file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rnnviz.tasks._common import one_hot, resource_path, window_pair_weights
from rnnviz.tasks.base import Batch, LossBaseline, Param, Task, TaskError, TaskInfo
from rnnviz.tasks.loaders import load_text, require_rows

BUNDLED_CORPUS = ("corpora", "rhymes.txt")  # in resources/, read through resource_path
UNKNOWN_CHAR = "\ufffd"  # stands for every character left out of the vocabulary
VISIBLE_NAMES = {" ": "␣", "\n": "⏎", "\t": "⇥"}
MAX_SAMPLE_LENGTH = 100_000

#: step_fn(one_hot_input (1, V), state) -> (logits (V,) or (1, V), new state); state starts as None
StepFn = Callable[[np.ndarray, Any], tuple[np.ndarray, Any]]


@dataclass(frozen=True)
class Vocabulary:
    """Characters the model reads and writes; the last one is ``UNKNOWN_CHAR``."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str, max_chars: int) -> "Vocabulary":
        """The ``max_chars`` most frequent characters (ties: lower code point), sorted, plus unknown."""
        codes, counts = _code_points_and_counts(text)
        real = codes != ord(UNKNOWN_CHAR)
        codes, counts = codes[real], counts[real]
        order = np.lexsort((codes, -counts))[:max_chars]  # by count desc, then code asc
        kept = sorted(chr(int(c)) for c in codes[order])
        return cls(tuple(kept) + (UNKNOWN_CHAR,))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Character ids (N,) int64; characters outside the vocabulary become the unknown id."""
        codes = _code_points(text)  # (N,)
        lookup = np.full(int(codes.max(initial=0)) + 1, self.size - 1, dtype=np.int64)  # code -> id
        for char_id, char in enumerate(self.chars[:-1]):
            if ord(char) < len(lookup):
                lookup[ord(char)] = char_id
        return lookup[codes]

    def decode(self, ids: np.ndarray) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def display_names(self) -> tuple[str, ...]:
        """Names for plot axes: whitespace made visible, control characters escaped, all unique."""
        names = []
        for char in self.chars:
            name = VISIBLE_NAMES.get(char, char if char.isprintable() else f"U+{ord(char):04X}")
            names.append(f"U+{ord(char):04X}" if name != char and name in self.chars else name)
        return tuple(names)


class TextTask(Task):
    """Inputs (T, B, V) one-hot characters c_t; targets (T, B) int64 ids of c_{t+1}.

    Each sequence is a random window of seq_len + 1 characters of the corpus.
    """

    name = "text"
    title = "Text: predict the next character"
    description = (
        "The network reads text one character at a time and predicts the next one. To do better "
        "than letter frequencies it must remember what came before: the letters of the current "
        "word, whether a line is ending, which word needs a rhyme. Watching the loss you see it "
        "learn spaces and common letters first, then words, then line structure; sampling from it "
        "shows what it has learned. Use the bundled rhymes or load your own UTF-8 text file."
    )
    params = (
        Param("path", "", "a UTF-8 text file; empty = the bundled rhymes", kind="path"),
        Param("seq_len", 64, "characters per training sequence", minimum=2, maximum=1000),
        Param("max_vocab", 96, "most frequent characters kept; all others become one 'unknown' character",
              minimum=1, maximum=256),
    )
    io = "many_to_many"
    loss = "cross_entropy"

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        source = self.values["path"] or resource_path(*BUNDLED_CORPUS)
        text = load_text(source)
        require_rows(len(text), self.values["seq_len"] + 1, source, unit="characters")
        self.source = str(source)
        self.vocabulary = Vocabulary.from_text(text, self.values["max_vocab"])
        self.corpus_ids = self.vocabulary.encode(text)  # (N,)
        names = self.vocabulary.display_names()
        self._info = TaskInfo(
            input_names=names,
            output_names=names,
            token_inputs=True,
            extra={
                "vocabulary": self.vocabulary.chars,
                "corpus_chars": len(text),
                "source": self.source,
                "uniform_cross_entropy": float(np.log(self.vocabulary.size)),
            },
        )

    def info(self) -> TaskInfo:
        return self._info

    def loss_baseline(self) -> LossBaseline:
        """Memoryless: a predictor that sees only the current character does best with the bigram
        frequencies p(next | this) of the windows it is trained on, and its cross-entropy is the
        conditional entropy H(next | this) under those windows (each pair of the corpus weighted by
        how often the windows draw it: ``window_pair_weights``). Below this line the network uses
        more than the last character. (Knowing the position in the window too would change it only
        at the edges of the corpus: windows are drawn uniformly.)"""
        ids, size = self.corpus_ids, self.vocabulary.size
        weights = window_pair_weights(len(ids), self.values["seq_len"])  # (N - 1,)
        pairs = np.zeros((size, size))  # (this, next) weighted counts
        np.add.at(pairs, (ids[:-1], ids[1:]), weights)
        this = pairs.sum(axis=1, keepdims=True)  # (V, 1)
        seen = pairs > 0
        entropy = -np.sum(pairs[seen] * np.log((pairs / np.maximum(this, 1e-300))[seen])) / pairs.sum()
        return LossBaseline(float(entropy), "memoryless", "H(next | this char)")

    def _generate(self, batch_size: int, rng: np.random.Generator) -> Batch:
        seq_len = self.values["seq_len"]
        starts = rng.integers(0, len(self.corpus_ids) - seq_len, size=batch_size)  # (B,)
        offsets = np.arange(seq_len + 1)[:, None]  # (T+1, 1)
        windows = self.corpus_ids[starts[None, :] + offsets]  # (T+1, B)
        return Batch(
            inputs=one_hot(windows[:-1], self.vocabulary.size),  # (T, B, V)
            targets=windows[1:].copy(),  # (T, B)
            mask=np.ones((seq_len, batch_size)),
        )

    def sample(
        self, step_fn: StepFn, seed_text: str, length: int, temperature: float, rng: np.random.Generator
    ) -> str:
        """Generated continuation of ``seed_text``; see ``sample_text``."""
        return sample_text(step_fn, self.vocabulary, seed_text, length, temperature, rng)


def sample_text(
    step_fn: StepFn,
    vocabulary: Vocabulary,
    seed_text: str,
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> str:
    """Feed ``seed_text`` through ``step_fn`` one character at a time, then sample ``length`` more.

    p(c) = softmax(logits / temperature): temperature 1 samples the model's own distribution, lower
    is greedier, higher is more random. ``step_fn`` is any model: it maps a one-hot input (1, V) and
    its state (None at the start) to (logits over the V characters, new state). Returns only the
    generated characters.
    """
    if not seed_text:
        raise TaskError("the seed text is empty; give at least one character to start from")
    sampled = sample_steps(step_fn, vocabulary.size, vocabulary.encode(seed_text), length, temperature, rng)
    return vocabulary.decode(sampled.generated)


@dataclass(frozen=True)
class SampledSteps:
    """One run of generation, unrolled: at timestep t the network reads ``input_ids[t]`` and predicts
    ``probabilities[t]`` (softmax(logits / temperature)) for the next character, ``output_ids[t]``.
    Over the seed the next character is the seed's own (teacher forcing); from the seed's last
    character on it is sampled and fed back: ``input_ids[t + 1] == output_ids[t]``.

        T = len(seed) + length - 1 timesteps
    """

    input_ids: np.ndarray  # (T,) int64
    output_ids: np.ndarray  # (T,) int64
    probabilities: np.ndarray | None  # (T, V) float64, or None when not kept
    chosen_probability: np.ndarray  # (T,) probabilities[t, output_ids[t]]
    seed_length: int

    @property
    def generated(self) -> np.ndarray:
        """(length,) the sampled character ids."""
        return self.output_ids[self.seed_length - 1:]

    @property
    def sampled_steps(self) -> np.ndarray:
        """(T,) bool: True where the output was sampled (not the seed's next character)."""
        return np.arange(len(self.output_ids)) >= self.seed_length - 1


def sample_steps(step_fn: StepFn, size: int, seed_ids: np.ndarray, length: int, temperature: float,
                 rng: np.random.Generator, keep_probabilities: bool = False) -> SampledSteps:
    """Feed ``seed_ids`` (S,) through ``step_fn`` one at a time, then sample ``length`` characters from
    p = softmax(logits / temperature), each fed back as the next input (the last one is not fed).
    ``size`` is the vocabulary size V; see ``SampledSteps`` for what is recorded."""
    seed_ids = np.asarray(seed_ids, dtype=np.int64).reshape(-1)
    if seed_ids.size == 0:
        raise TaskError("the seed text is empty; give at least one character to start from")
    if not (np.isfinite(temperature) and temperature > 0):
        raise TaskError(f"temperature must be a number above 0 (try 0.5 to 1.5), got {temperature!r}")
    if not 0 <= int(length) <= MAX_SAMPLE_LENGTH:
        raise TaskError(f"length must be between 0 and {MAX_SAMPLE_LENGTH} characters, got {length!r}")
    steps = max(seed_ids.size + int(length) - 1, 0)
    inputs = np.zeros(steps, dtype=np.int64)
    outputs = np.zeros(steps, dtype=np.int64)
    chosen = np.zeros(steps)
    kept = np.zeros((steps, size)) if keep_probabilities else None  # (T, V)
    state: Any = None
    char_id = int(seed_ids[0])
    for t in range(steps):
        inputs[t] = char_id
        logits, state = _step(step_fn, char_id, size, state)
        probabilities = _softmax(logits / temperature)  # (V,)
        seeded = t + 1 < seed_ids.size
        char_id = int(seed_ids[t + 1]) if seeded else int(rng.choice(size, p=probabilities))
        outputs[t], chosen[t] = char_id, probabilities[char_id]
        if kept is not None:
            kept[t] = probabilities
    return SampledSteps(inputs, outputs, kept, chosen, int(seed_ids.size))


def _step(step_fn: StepFn, char_id: int, size: int, state: Any) -> tuple[np.ndarray, Any]:
    x = np.zeros((1, size))
    x[0, char_id] = 1.0
    logits, state = step_fn(x, state)
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if logits.shape != (size,):
        raise ValueError(f"step_fn returned {logits.size} logits, expected one per character ({size})")
    if not np.all(np.isfinite(logits)):
        raise TaskError("the model's outputs are not finite numbers (did training diverge?); reset or retrain it")
    return logits, state


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _code_points(text: str) -> np.ndarray:
    """Unicode code points (N,) int64 of ``text``, fast (no Python loop over characters)."""
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.int64)


def _code_points_and_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct code points (sorted) and how often each occurs."""
    counts = np.bincount(_code_points(text))
    codes = np.flatnonzero(counts)
    return codes, counts[codes]
