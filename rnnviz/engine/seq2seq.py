"""An encoder–decoder (sequence to sequence) network with attention, NumPy forward and backward.

The encoder is a ``Recurrent`` core of any registered cell, one layer, optionally bidirectional; it
reads the source x_1..x_n (one-hot, padded at the end, ``source_mask``) and leaves its states
h_j = [h_j→; h_j←] (T_src, B, E), E = D*H, and its final state h_n = [h_n→; h_1←] (B, E).

The decoder is a ``Recurrent`` core of any registered cell, one layer, hidden size E, started from
the encoder's final state, s_0 = h_n (and c_0 = the encoder's c_n when both cells are the same kind
with one cell-state value per unit, like the LSTM; otherwise c_0 = 0). It reads the previous target
token: y_0 = BOS, then y_1..y_(m-1) (teacher forcing in training; its own previous guess in greedy
decoding):

    s_t = cell(y_(t-1), s_(t-1))                                    (T_tgt, B, E)
    c_t = Σ_j a_tj h_j, a_t = masked softmax_j(score(s_t, h_j))    attention "dot" or "additive"
        = h_n for every t                                            attention "none"
    logits_t = W_out [s_t; c_t] + b_out                              (T_tgt, B, V)
    L = cross-entropy of logits_t against y_t over the real target steps (``target_mask``)

(rnnviz.engine.attention has the score functions.) The attention reads the decoder's current state
s_t (Luong's placement), so the decoder's recurrence does not depend on the attention and each core
runs over its whole sequence at once with the engine's kernels. The backward pass goes the other
way: the output layer gives dL/ds_t and dL/dc_t; the attention turns dL/dc_t into dL/dh_j, dL/ds_t
and its own parameters' gradients; BPTT through the decoder gives dL/ds_0, which joins dL/dh_n (and
dL/dc_0 joins dL/dc_n) for BPTT through the encoder.

Vocabularies: the source has ``source_size`` tokens; the target has ``target_size`` classes (the
task's symbols and its end-of-sequence token), and the decoder's input adds one more, BOS, at index
``target_size``. Parameter names: ``encoder.<PyTorch name>``, ``decoder.<PyTorch name>``,
``attention.W_query`` / ``attention.W_key`` / ``attention.v`` (additive), ``output.weight`` (V, 2E)
and ``output.bias`` (V,).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from rnnviz.engine.attention import Attention, AttentionGrads, AttentionTrace
from rnnviz.engine.cells import cell_names, cell_spec
from rnnviz.engine.head import LinearHead
from rnnviz.engine.losses import cross_entropy_loss, softmax
from rnnviz.engine.model import DTYPES, MAX_HIDDEN, ModelConfigError, ModelInputError, from_known_fields, load_arrays
from rnnviz.engine.recurrent import Recurrent
from rnnviz.engine.trace import RecurrentGrads, RecurrentTrace

ATTENTIONS = ("none", "additive", "dot")
ENCODER, DECODER, ATTENTION, OUTPUT = "encoder.", "decoder.", "attention.", "output."


def _whole(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ModelConfigError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ModelConfigError(f"{name} must be {allowed}, got {value}")
    return int(value)


@dataclass(frozen=True)
class Seq2SeqConfig:
    encoder_cell: str  # a registered cell name
    decoder_cell: str
    source_size: int  # source vocabulary (one-hot input size of the encoder)
    target_size: int  # output classes, end-of-sequence included (the decoder reads one more: BOS)
    hidden_size: int = 32  # the encoder's, per direction; the decoder's is D * hidden_size
    bidirectional: bool = False
    attention: str = "additive"  # "none" | "additive" | "dot"
    attention_size: int = 0  # additive: A; 0 = the decoder's hidden size
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("encoder_cell", "decoder_cell"):
            if getattr(self, name) not in cell_names():
                raise ModelConfigError(f"{name} must be one of {', '.join(cell_names())}; got {getattr(self, name)!r}")
        if self.attention not in ATTENTIONS:
            raise ModelConfigError(f"attention must be one of {', '.join(ATTENTIONS)}; got {self.attention!r}")
        for name, low, high in (("source_size", 1, None), ("target_size", 1, None),
                                ("hidden_size", 1, MAX_HIDDEN), ("attention_size", 0, MAX_HIDDEN), ("seed", 0, None)):
            object.__setattr__(self, name, _whole(name, getattr(self, name), low, high))
        if not isinstance(self.bidirectional, (bool, np.bool_)):
            raise ModelConfigError(f"bidirectional must be True or False, got {self.bidirectional!r}")
        object.__setattr__(self, "bidirectional", bool(self.bidirectional))
        if self.dtype not in DTYPES:
            raise ModelConfigError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def decoder_hidden_size(self) -> int:
        """E = D * H: the decoder starts from the encoder's final state, both directions side by side."""
        return self.num_directions * self.hidden_size

    @property
    def bos(self) -> int:
        """The index of the begin-of-sequence token on the decoder's input."""
        return self.target_size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Seq2SeqConfig":
        return from_known_fields(cls, values, ModelConfigError, "seq2seq setting")


@dataclass
class Seq2SeqTrace:
    """A forward pass with teacher forcing (or a greedy decoding, ``Seq2Seq.greedy``)."""

    encoder: RecurrentTrace
    decoder: RecurrentTrace
    encoder_states: np.ndarray  # (T_src, B, E) h_j, zero at source padding
    final_state: np.ndarray  # (B, E) h_n, the decoder's s_0
    decoder_states: np.ndarray  # (T_tgt, B, E) s_t
    contexts: np.ndarray  # (T_tgt, B, E) c_t
    attention: AttentionTrace | None  # None for attention "none"
    logits: np.ndarray  # (T_tgt, B, V)
    source_mask: np.ndarray  # (T_src, B)
    target_mask: np.ndarray  # (T_tgt, B)

    @property
    def attention_weights(self) -> np.ndarray | None:
        """(T_tgt, B, T_src) a_tj, or None without attention."""
        return None if self.attention is None else self.attention.weights

    @property
    def probabilities(self) -> np.ndarray:
        return softmax(self.logits)  # (T_tgt, B, V)


@dataclass
class Seq2SeqGrads:
    loss: float
    params: dict[str, np.ndarray]  # same names and shapes as Seq2Seq.parameters()
    trace: Seq2SeqTrace
    encoder: RecurrentGrads  # the encoder's gradient trace
    decoder: RecurrentGrads
    attention: AttentionGrads | None
    d_encoder_states: np.ndarray  # (T_src, B, E) dL/dh_j from the attention (or zero)
    d_decoder_states: np.ndarray  # (T_tgt, B, E) dL/ds_t from the output layer and the attention
    d_final_state: np.ndarray  # (B, E) dL/dh_n: from s_0 and (attention "none") from the contexts


@dataclass
class Decoding:
    """A greedy decoding: each step's most probable token fed back as the next input."""

    tokens: np.ndarray  # (T_out, B) int64, the guesses (after the end token: more guesses, masked)
    mask: np.ndarray  # (T_out, B) 1 up to and including the first end token, 0 after
    trace: Seq2SeqTrace  # the forward pass over the tokens fed (BOS, guesses), its target_mask = mask


def _one_hot(ids: np.ndarray, size: int, dtype: np.dtype) -> np.ndarray:
    encoded = np.zeros(ids.shape + (size,), dtype=dtype)
    np.put_along_axis(encoded, ids[..., None].astype(np.int64), 1, axis=-1)
    return encoded


class Seq2Seq:
    """Encoder + attention + decoder + output layer, built from a Seq2SeqConfig."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        self.config = config
        self.dtype = np.dtype(config.dtype)
        E = config.decoder_hidden_size
        self.encoder = Recurrent(config.encoder_cell, config.source_size, config.hidden_size,
                                 bidirectional=config.bidirectional, dtype=self.dtype, seed=config.seed)
        self.decoder = Recurrent(config.decoder_cell, config.target_size + 1, E, dtype=self.dtype,
                                 seed=config.seed + 1)
        self.attention = None if config.attention == "none" else Attention(
            config.attention, E, E, config.attention_size or None, self.dtype, np.random.default_rng([config.seed, 2]))
        self.output = LinearHead(2 * E, config.target_size, self.dtype, np.random.default_rng([config.seed, 3]))

    # ------------------------------------------------------------------ parameters

    def parameters(self) -> dict[str, np.ndarray]:
        """The live arrays by name (see the module docstring); an optimizer updates them in place."""
        params = {ENCODER + k: v for k, v in self.encoder.parameters().items()}
        params.update({DECODER + k: v for k, v in self.decoder.parameters().items()})
        if self.attention is not None:
            params.update({ATTENTION + k: v for k, v in self.attention.parameters().items()})
        params.update({OUTPUT + k: v for k, v in self.output.parameters().items()})
        return params

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.parameters().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy saved arrays into the live parameters (cast to this model's dtype); names and shapes must match."""
        load_arrays(self.parameters(), state, "this encoder-decoder", "build it")

    def num_params(self) -> int:
        return int(sum(p.size for p in self.parameters().values()))

    def astype(self, dtype: np.dtype | type | str) -> "Seq2Seq":
        """A copy with the same weights in ``dtype`` (float64 for gradient checks)."""
        copy = Seq2Seq(replace(self.config, dtype=np.dtype(dtype).name))
        copy.load_state_dict(self.state_dict())
        return copy

    # ------------------------------------------------------------------ forward

    def _passes_cell_state(self) -> bool:
        """c_0 = c_n when both cells are one kind whose cell state has one value per unit (the LSTM)."""
        encoder, decoder = cell_spec(self.config.encoder_cell), cell_spec(self.config.decoder_cell)
        return encoder is decoder and encoder.has_cell_state and encoder.state_size is None

    def _check_source(self, source: np.ndarray, source_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        source = np.asarray(source)
        if source.ndim != 3 or source.shape[2] != self.config.source_size or 0 in source.shape:
            raise ModelInputError(f"source must have shape (source timesteps, batch, {self.config.source_size}), "
                                  f"got {source.shape}")
        mask = np.ones(source.shape[:2]) if source_mask is None else np.asarray(source_mask, dtype=np.float64)
        if mask.shape != source.shape[:2]:
            raise ModelInputError(f"source_mask must have shape {source.shape[:2]}, got {mask.shape}")
        return source.astype(self.dtype, copy=False), mask

    def encode(self, source: np.ndarray, source_mask: np.ndarray) -> tuple[RecurrentTrace, np.ndarray, Any]:
        """The encoder's trace, h_n (B, E) and the decoder's initial state (h0, or (h0, c0))."""
        trace = self.encoder.forward(source, mask=source_mask)
        final_state = np.concatenate(list(trace.h_n), axis=-1)  # (D, B, H) -> (B, E)
        h0 = final_state[None]  # (1, B, E)
        if not self.decoder.cell.has_cell_state:
            return trace, final_state, h0
        c0 = np.concatenate(list(trace.c_n), axis=-1)[None] if self._passes_cell_state() else None
        return trace, final_state, (h0, c0)

    def _contexts(self, decoder_states: np.ndarray, encoder_states: np.ndarray, final_state: np.ndarray,
                  source_mask: np.ndarray) -> tuple[np.ndarray, AttentionTrace | None]:
        if self.attention is None:
            return np.broadcast_to(final_state, decoder_states.shape).copy(), None  # c_t = h_n
        attention = self.attention.forward(decoder_states, encoder_states, source_mask)
        return attention.contexts, attention

    def forward(self, source: np.ndarray, decoder_inputs: np.ndarray, source_mask: np.ndarray | None = None,
                target_mask: np.ndarray | None = None) -> Seq2SeqTrace:
        """Teacher forcing: source (T_src, B, source_size), decoder_inputs (T_tgt, B, target_size + 1)
        one-hot BOS, y_1 .. y_(m-1); masks (T, B) 1 real / 0 padding at the end."""
        source, source_mask = self._check_source(source, source_mask)
        decoder_inputs = np.asarray(decoder_inputs)
        V_in = self.config.target_size + 1
        if decoder_inputs.ndim != 3 or decoder_inputs.shape[1:] != (source.shape[1], V_in) or decoder_inputs.shape[0] < 1:
            raise ModelInputError(f"decoder inputs must have shape (target timesteps, {source.shape[1]}, {V_in}), "
                                  f"got {decoder_inputs.shape}")
        target_mask = (np.ones(decoder_inputs.shape[:2]) if target_mask is None
                       else np.asarray(target_mask, dtype=np.float64))
        if target_mask.shape != decoder_inputs.shape[:2]:
            raise ModelInputError(f"target_mask must have shape {decoder_inputs.shape[:2]}, got {target_mask.shape}")
        encoder, final_state, state0 = self.encode(source, source_mask)
        decoder = self.decoder.forward(decoder_inputs.astype(self.dtype, copy=False), h0=state0, mask=target_mask)
        return self._read_out(encoder, decoder, final_state, source_mask, target_mask)

    def _read_out(self, encoder: RecurrentTrace, decoder: RecurrentTrace, final_state: np.ndarray,
                  source_mask: np.ndarray, target_mask: np.ndarray) -> Seq2SeqTrace:
        contexts, attention = self._contexts(decoder.output, encoder.output, final_state, source_mask)
        logits = self.output.forward(np.concatenate([decoder.output, contexts], axis=-1))  # (T_tgt, B, V)
        return Seq2SeqTrace(encoder, decoder, encoder.output, final_state, decoder.output, contexts, attention,
                            logits, source_mask, target_mask)

    def loss(self, source, decoder_inputs, targets, source_mask=None, target_mask=None) -> float:
        """The teacher-forced loss only (no gradients)."""
        trace = self.forward(source, decoder_inputs, source_mask, target_mask)
        return cross_entropy_loss(trace.logits, self._check_targets(targets, trace), trace.target_mask)[0]

    def _check_targets(self, targets: np.ndarray, trace: Seq2SeqTrace) -> np.ndarray:
        targets = np.asarray(targets)
        if targets.shape != trace.target_mask.shape:
            raise ModelInputError(f"targets must be class ids of shape {trace.target_mask.shape} (target timesteps, "
                                  f"batch), got {targets.shape}")
        return targets

    # ------------------------------------------------------------------ backward

    def loss_and_grads(self, source, decoder_inputs, targets, source_mask=None, target_mask=None) -> Seq2SeqGrads:
        """Forward with teacher forcing, the loss, and BPTT through the decoder, the attention and the encoder."""
        trace = self.forward(source, decoder_inputs, source_mask, target_mask)
        loss, d_logits = cross_entropy_loss(trace.logits, self._check_targets(targets, trace), trace.target_mask)
        E = self.config.decoder_hidden_size
        features = np.concatenate([trace.decoder_states, trace.contexts], axis=-1)  # (T_tgt, B, 2E)
        output_grads = self.output.backward(features, d_logits)
        d_states = np.ascontiguousarray(output_grads.d_hidden[..., :E])  # (T_tgt, B, E) dL/ds_t
        d_contexts = output_grads.d_hidden[..., E:]  # (T_tgt, B, E) dL/dc_t
        d_final = np.zeros_like(trace.final_state)  # (B, E)
        attention_grads = None
        if self.attention is None:
            d_encoder_states = np.zeros_like(trace.encoder_states)
            d_final += d_contexts.sum(axis=0)  # c_t = h_n at every t
        else:
            attention_grads = self.attention.backward(trace.attention, d_contexts)
            d_states += attention_grads.d_queries
            d_encoder_states = attention_grads.d_keys
        decoder_grads = self.decoder.backward(trace.decoder, d_states)
        d_final += decoder_grads.d_h0[0]
        D, H = self.config.num_directions, self.config.hidden_size
        d_h_n = np.stack([d_final[:, k * H:(k + 1) * H] for k in range(D)])  # (D, B, H)
        d_c_n = None
        if self._passes_cell_state():
            d_c_n = np.stack([decoder_grads.d_c0[0][:, k * H:(k + 1) * H] for k in range(D)])
        encoder_grads = self.encoder.backward(trace.encoder, d_encoder_states, d_h_n=d_h_n, d_c_n=d_c_n)
        params = {ENCODER + k: v for k, v in encoder_grads.params.items()}
        params.update({DECODER + k: v for k, v in decoder_grads.params.items()})
        if attention_grads is not None:
            params.update({ATTENTION + k: v for k, v in attention_grads.params.items()})
        params[OUTPUT + "weight"], params[OUTPUT + "bias"] = output_grads.weight, output_grads.bias
        return Seq2SeqGrads(loss, params, trace, encoder_grads, decoder_grads, attention_grads,
                            d_encoder_states, d_states, d_final)

    # ------------------------------------------------------------------ greedy decoding

    def greedy(self, source: np.ndarray, source_mask: np.ndarray | None, max_steps: int,
               end_token: int | None = None) -> Decoding:
        """Decode without the targets: start from BOS, feed back each step's most probable token, for
        ``max_steps`` steps (or until every sequence has produced ``end_token``)."""
        if int(max_steps) != max_steps or max_steps < 1:
            raise ModelInputError(f"max_steps must be a whole number >= 1, got {max_steps!r}")
        source, source_mask = self._check_source(source, source_mask)
        B, V = source.shape[1], self.config.target_size
        encoder, final_state, initial_state = self.encode(source, source_mask)
        state = initial_state
        fed = np.full((1, B), self.config.bos, dtype=np.int64)  # the tokens the decoder read, BOS first
        tokens = []
        ended = np.zeros(B, dtype=bool)
        for _ in range(int(max_steps)):
            step = self.decoder.forward(_one_hot(fed[-1:], V + 1, self.dtype), h0=state)
            contexts, _ = self._contexts(step.output, encoder.output, final_state, source_mask)
            logits = self.output.forward(np.concatenate([step.output, contexts], axis=-1))  # (1, B, V)
            guess = np.argmax(logits[0], axis=-1)  # (B,)
            tokens.append(guess)
            state = (step.h_n, step.c_n) if self.decoder.cell.has_cell_state else step.h_n
            if end_token is not None:
                ended |= guess == end_token
                if ended.all():
                    break
            fed = np.concatenate([fed, guess[None]], axis=0)
        tokens = np.stack(tokens)  # (T_out, B)
        mask = _until_end(tokens, end_token)
        # the whole pass again over the tokens fed: the same states (one kernel call, a full trace)
        decoder = self.decoder.forward(_one_hot(fed[:len(tokens)], V + 1, self.dtype), h0=initial_state, mask=mask)
        return Decoding(tokens, mask, self._read_out(encoder, decoder, final_state, source_mask, mask))


def _until_end(tokens: np.ndarray, end_token: int | None) -> np.ndarray:
    """(T, B) 1.0 up to and including each column's first ``end_token``, 0.0 after."""
    if end_token is None:
        return np.ones(tokens.shape)
    is_end = tokens == end_token
    ended_before = np.cumsum(is_end, axis=0) - is_end  # ends strictly before t
    return (ended_before == 0).astype(np.float64)


def decoder_inputs_for(targets: np.ndarray, target_mask: np.ndarray, target_size: int) -> np.ndarray:
    """Teacher forcing's decoder inputs (T_tgt, B, target_size + 1): BOS, then the targets shifted by one
    step (padding rows zero)."""
    T, B = targets.shape
    previous = np.empty((T, B), dtype=np.int64)
    previous[0] = target_size  # BOS
    previous[1:] = np.where(target_mask[:-1] != 0, targets[:-1], 0)
    inputs = _one_hot(previous, target_size + 1, np.dtype(np.float64))
    return inputs * target_mask[..., None]
