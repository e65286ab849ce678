"""One-to-many: a trained text session writes text, one character at a time, each sampled character
fed back in as the next input. Qt-free; the Generation page and ``rnnviz sample`` share it.

    generation = generate(session, "Twinkle ", length=200, temperature=0.8, seed=0)
    generation.text                  # the sampled characters
    generation.steps.probabilities   # (T, V) p(next character) at every timestep

The network is the session's own, run one timestep at a time with its state carried over
(h_t, and c_t for cells with a cell state): the same numbers as one forward pass over the whole text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.session.session import Session
from rnnviz.tasks.base import TaskError
from rnnviz.tasks.text import MAX_SAMPLE_LENGTH, SampledSteps, TextTask, sample_steps

MAX_SEED_LENGTH = 10_000
MAX_SHOWN_STEPS = 2_000  # the page draws at most this many timesteps (and keeps their probabilities)


class GenerationError(TaskError):
    """Generation is not possible with this session or these settings: the message says what to do."""


@dataclass(frozen=True)
class Generation:
    """A generated text and how it was made (``SampledSteps``: inputs, outputs, probabilities)."""

    seed_text: str
    temperature: float
    seed: int  # the random seed of the sampling
    names: tuple[str, ...]  # (V,) the vocabulary as the plots name it (whitespace made visible)
    steps: SampledSteps
    text: str  # the sampled characters (not the seed)

    @property
    def seq_len(self) -> int:
        return len(self.steps.input_ids)

    def top_characters(self, k: int) -> np.ndarray:
        """(m,) ids, in vocabulary order, of every character among the ``k`` most probable at some
        timestep: the rows of the top-k heatmap. Needs the kept probabilities."""
        probabilities = self._probabilities()
        k = int(np.clip(k, 1, probabilities.shape[1]))
        top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]  # (T, k)
        return np.unique(top)

    def top_k_table(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """((T, k) ids, (T, k) probabilities) of the ``k`` most probable next characters per timestep."""
        probabilities = self._probabilities()
        k = int(np.clip(k, 1, probabilities.shape[1]))
        top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]  # (T, k)
        return top, np.take_along_axis(probabilities, top, axis=1)

    def _probabilities(self) -> np.ndarray:
        if self.steps.probabilities is None:
            raise ValueError("this generation did not keep its probabilities (generate(..., keep_probabilities=True))")
        return self.steps.probabilities


def check_can_generate(session: Session) -> TextTask:
    """The session's text task, or GenerationError saying why this session cannot write text."""
    task = session.task
    if not isinstance(task, TextTask):
        raise GenerationError(f"generation needs a text session, and this one is the {task.name!r} task: "
                              "choose the text task (or open a saved text session) and train it first")
    if session.config.bidirectional:
        raise GenerationError("a bidirectional network also reads the text backwards, from characters that "
                              "do not exist yet while generating: train a one-directional network")
    return task


def encode_seed(task: TextTask, seed_text: str) -> np.ndarray:
    """(S,) character ids of ``seed_text``; GenerationError for an empty text or a character the
    network never learned (one outside its vocabulary)."""
    if not seed_text:
        raise GenerationError("the seed text is empty; give at least one character to start from")
    if len(seed_text) > MAX_SEED_LENGTH:
        raise GenerationError(f"the seed text has {len(seed_text):,} characters; give at most {MAX_SEED_LENGTH:,}")
    known = set(task.vocabulary.chars[:-1])
    unknown = sorted({char for char in seed_text if char not in known})
    if unknown:
        shown = ", ".join(repr(char) for char in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise GenerationError(f"the seed text has characters the network never saw in training: {shown}; "
                              "use characters of its text, e.g. letters and spaces")
    return task.vocabulary.encode(seed_text)


def generate(session: Session, seed_text: str, length: int, temperature: float, seed: int = 0,
             keep_probabilities: bool = False) -> Generation:
    """Read ``seed_text``, then write ``length`` characters sampled at ``temperature`` (> 0; lower is
    greedier: as it approaches 0 each character is the most probable one) with the random ``seed``."""
    task = check_can_generate(session)
    seed_ids = encode_seed(task, seed_text)
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise GenerationError(f"temperature must be a number above 0, got {temperature!r}") from None
    if not isinstance(length, (int, np.integer)) or not 1 <= length <= MAX_SAMPLE_LENGTH:
        raise GenerationError(f"length must be a whole number of characters from 1 to {MAX_SAMPLE_LENGTH:,}, "
                              f"got {length!r}")
    if keep_probabilities and len(seed_ids) + length - 1 > MAX_SHOWN_STEPS:
        raise GenerationError(f"seed and length together may be at most {MAX_SHOWN_STEPS + 1:,} characters "
                              "here; shorten one (the command `rnnviz sample` writes longer texts)")
    steps = sample_steps(model_step_function(session), task.vocabulary.size, seed_ids, int(length), temperature,
                         np.random.default_rng(seed), keep_probabilities=keep_probabilities)
    return Generation(seed_text=seed_text, temperature=temperature, seed=int(seed),
                      names=task.vocabulary.display_names(), steps=steps,
                      text=task.vocabulary.decode(steps.generated))


def model_step_function(session: Session):
    """step(one_hot (1, V), state) -> (logits (V,), state): the session's network for one timestep,
    its state (h_n, or (h_n, c_n)) carried from the last call (None: the network's initial state)."""
    model = session.model

    def step(one_hot: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        output = model.forward(one_hot[None], h0=state)  # inputs (1, 1, V)
        trace = output.trace
        carried = trace.h_n if trace.c_n is None else (trace.h_n, trace.c_n)
        return output.logits.reshape(-1), carried

    return step


def generation_rows(generation: Generation, k: int = 5) -> list[list]:
    """The CSV of a generation: per timestep the input, the output (sampled or the seed's next
    character), its probability, and the ``k`` most probable next characters with theirs."""
    steps = generation.steps
    names = generation.names
    header = ["timestep", "input", "output", "sampled", "probability"]
    rows: list[list] = []
    top_ids = top_p = None
    if steps.probabilities is not None:
        top_ids, top_p = generation.top_k_table(k)
        header += [f"{kind}_{rank + 1}" for rank in range(top_ids.shape[1]) for kind in ("top", "p")]
    rows.append(header)
    for t in range(generation.seq_len):
        row = [t, names[steps.input_ids[t]], names[steps.output_ids[t]], int(steps.sampled_steps[t]),
               float(steps.chosen_probability[t])]
        if top_ids is not None:
            for rank in range(top_ids.shape[1]):
                row += [names[top_ids[t, rank]], float(top_p[t, rank])]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class GenerationView:
    """What the Generation page draws: the unrolled strip and the top-k heatmap, numbers only."""

    inputs: tuple[str, ...]  # (T,) the character read at t (the seed's, then each sample fed back)
    outputs: tuple[str, ...]  # (T,) the character after t: the seed's next one, then the sampled one
    chosen_probability: np.ndarray  # (T,) p(outputs[t]) at temperature
    sampled: np.ndarray  # (T,) bool: outputs[t] was sampled (and is fed back as inputs[t + 1])
    row_names: tuple[str, ...]  # (m,) the heatmap's rows: every top-k or chosen character, vocabulary order
    probabilities: np.ndarray  # (T, m) p(row character next) at t
    output_rows: np.ndarray  # (T,) int: the row of outputs[t]
    k: int
    seed_text: str
    text: str
    temperature: float
    seed: int

    @property
    def seq_len(self) -> int:
        return len(self.inputs)


def generation_view(generation: Generation, k: int = 5) -> GenerationView:
    """The page's view of ``generation`` (kept probabilities needed): rows are the characters among
    the ``k`` most probable at some step, plus every character actually chosen."""
    steps = generation.steps
    rows = np.union1d(generation.top_characters(k), steps.output_ids)  # (m,) ids, vocabulary order
    position = {int(char_id): row for row, char_id in enumerate(rows)}
    names = generation.names
    return GenerationView(
        inputs=tuple(names[i] for i in steps.input_ids), outputs=tuple(names[i] for i in steps.output_ids),
        chosen_probability=steps.chosen_probability.copy(), sampled=steps.sampled_steps.copy(),
        row_names=tuple(names[i] for i in rows), probabilities=generation._probabilities()[:, rows].copy(),
        output_rows=np.array([position[int(i)] for i in steps.output_ids], dtype=np.int64),
        k=int(k), seed_text=generation.seed_text, text=generation.text, temperature=generation.temperature,
        seed=generation.seed,
    )


def generate_view(session: Session, seed_text: str, length: int, temperature: float, seed: int = 0,
                  k: int = 5) -> tuple[GenerationView, list[list]]:
    """The page's work (off the GUI thread): generate, then its view and CSV rows."""
    generation = generate(session, seed_text, length, temperature, seed=seed, keep_probabilities=True)
    return generation_view(generation, k), generation_rows(generation, k)


def generation_work(context: Any, session: Session, seed_text: str, length: int, temperature: float,
                    seed: int, k: int) -> tuple[GenerationView, list[list]]:
    """``generate_view`` as background work (rnnviz.ui.jobs: the context comes first)."""
    return generate_view(session, seed_text, length, temperature, seed=seed, k=k)
