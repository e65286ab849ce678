"""Attention: how a decoder state looks at the encoder's states (NumPy forward and backward).

For every decoder timestep t (its state, the *query* s_t) and every source position j (the encoder's
state there, the *key* h_j, also used as the *value*):

    dot (Luong)          e_tj = s_tᵀ h_j
    additive (Bahdanau)  e_tj = vᵀ tanh(W_q s_t + W_k h_j)
    weights              a_tj = exp(e_tj) / Σ_j' m_j' exp(e_tj')     (m_j = 0 at source padding: a_tj = 0)
    context              c_t  = Σ_j a_tj h_j

Shapes: T_tgt decoder steps, T_src source positions, B batch, Q query size (the decoder's hidden
size), K key size (the encoder's output size, D*H), A the additive attention's own size. Queries
(T_tgt, B, Q), keys (T_src, B, K), weights (T_tgt, B, T_src), contexts (T_tgt, B, K). The dot score
needs Q = K.

Parameters (additive only) are named ``W_query`` (A, Q), ``W_key`` (A, K) and ``v`` (A,), drawn like
nn.Linear's weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.errors import EngineError

SCORES = ("dot", "additive")


@dataclass
class AttentionTrace:
    """What one forward pass of attention computed, for the views and for the backward pass."""

    scores: np.ndarray  # (T_tgt, B, T_src) e_tj, -inf at source padding
    weights: np.ndarray  # (T_tgt, B, T_src) a_tj, 0 at source padding; each row sums to 1
    contexts: np.ndarray  # (T_tgt, B, K) c_t
    queries: np.ndarray  # (T_tgt, B, Q) s_t as given
    keys: np.ndarray  # (T_src, B, K) h_j as given
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # additive: "u" = tanh(...)


@dataclass
class AttentionGrads:
    params: dict[str, np.ndarray]  # same names as Attention.parameters()
    d_queries: np.ndarray  # (T_tgt, B, Q)
    d_keys: np.ndarray  # (T_src, B, K)
    d_scores: np.ndarray  # (T_tgt, B, T_src) dL/de_tj (the gradient trace the views may draw)


def masked_softmax(scores: np.ndarray, source_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """a_tj = m_j exp(e_tj - max) / Σ m exp(e - max) over the last axis; scores (T_tgt, B, T_src),
    source_mask (T_src, B). Returns (scores with -inf at padding, weights with 0 there)."""
    if source_mask is not None:
        real = np.asarray(source_mask).T[None] != 0  # (1, B, T_src)
        if not np.all(real.any(axis=-1)):
            raise EngineError("every source sequence needs at least one real (unmasked) position")
        scores = np.where(real, scores, -np.inf)
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))  # exp(-inf) = 0 at padding
    return scores, shifted / shifted.sum(axis=-1, keepdims=True)


def _batch_first(array: np.ndarray) -> np.ndarray:
    return array.transpose(1, 0, 2)  # (T, B, F) -> (B, T, F), a view


class Attention:
    """Dot or additive attention, with its parameters (none for dot) and forward/backward passes."""

    def __init__(self, score: str, query_size: int, key_size: int, attention_size: int | None = None,
                 dtype=np.float32, rng: np.random.Generator | None = None) -> None:
        if score not in SCORES:
            raise EngineError(f"attention score must be one of {', '.join(SCORES)}; got {score!r}")
        if score == "dot" and query_size != key_size:
            raise EngineError(f"dot attention needs queries and keys of one size, got {query_size} and {key_size}")
        self.score = score
        self.query_size, self.key_size = int(query_size), int(key_size)
        self.attention_size = int(attention_size or query_size)
        self.dtype = np.dtype(dtype)
        self._params: dict[str, np.ndarray] = {}
        if score == "additive":
            rng = rng if rng is not None else np.random.default_rng()
            A, Q, K = self.attention_size, self.query_size, self.key_size
            for name, shape, fan_in in (("W_query", (A, Q), Q), ("W_key", (A, K), K), ("v", (A,), A)):
                bound = 1.0 / np.sqrt(fan_in)
                self._params[name] = rng.uniform(-bound, bound, shape).astype(self.dtype)

    def parameters(self) -> dict[str, np.ndarray]:
        """The live arrays by name (empty for dot attention)."""
        return self._params

    # ------------------------------------------------------------------ forward

    def forward(self, queries: np.ndarray, keys: np.ndarray, source_mask: np.ndarray | None = None) -> AttentionTrace:
        """queries (T_tgt, B, Q), keys (T_src, B, K), source_mask (T_src, B) -> AttentionTrace."""
        cache: dict[str, np.ndarray] = {}
        if self.score == "dot":
            # e_tj = s_t · h_j: (B, T_tgt, Q) @ (B, K, T_src) -> (B, T_tgt, T_src)
            scores = (_batch_first(queries) @ keys.transpose(1, 2, 0)).transpose(1, 0, 2)
        else:
            W_q, W_k, v = self._params["W_query"], self._params["W_key"], self._params["v"]
            projected_queries = queries @ W_q.T  # (T_tgt, B, A)
            projected_keys = keys @ W_k.T  # (T_src, B, A)
            # u_tj = tanh(W_q s_t + W_k h_j): (T_tgt, B, 1, A) + (1, B, T_src, A)
            u = np.tanh(projected_queries[:, :, None, :] + _batch_first(projected_keys)[None])
            cache["u"] = u  # (T_tgt, B, T_src, A)
            scores = u @ v  # (T_tgt, B, T_src)
        scores, weights = masked_softmax(scores, source_mask)
        # c_t = Σ_j a_tj h_j: (B, T_tgt, T_src) @ (B, T_src, K) -> (B, T_tgt, K)
        contexts = (_batch_first(weights) @ _batch_first(keys)).transpose(1, 0, 2)
        return AttentionTrace(scores, weights, np.ascontiguousarray(contexts), queries, keys, cache)

    # ------------------------------------------------------------------ backward

    def backward(self, trace: AttentionTrace, d_contexts: np.ndarray) -> AttentionGrads:
        """Given dL/dc_t (T_tgt, B, K):

            dL/dh_j (values) = Σ_t a_tj dL/dc_t
            dL/da_tj         = dL/dc_t · h_j
            dL/de_tj         = a_tj (dL/da_tj - Σ_j' a_tj' dL/da_tj')          (softmax; 0 at padding)
        dot:      dL/ds_t = Σ_j dL/de_tj h_j,  dL/dh_j += Σ_t dL/de_tj s_t
        additive: dL/dz_tj = dL/de_tj v ⊙ (1 - u_tj²),  dL/dv = Σ dL/de_tj u_tj,
                  dL/dW_q = Σ_t (Σ_j dL/dz_tj) s_tᵀ,   dL/ds_t = W_qᵀ Σ_j dL/dz_tj,
                  dL/dW_k = Σ_j (Σ_t dL/dz_tj) h_jᵀ,   dL/dh_j += W_kᵀ Σ_t dL/dz_tj
        """
        weights, keys, queries = trace.weights, trace.keys, trace.queries
        a = _batch_first(weights)  # (B, T_tgt, T_src)
        d_c = _batch_first(d_contexts)  # (B, T_tgt, K)
        h = _batch_first(keys)  # (B, T_src, K)
        d_keys = a.transpose(0, 2, 1) @ d_c  # (B, T_src, K)
        d_a = d_c @ h.transpose(0, 2, 1)  # (B, T_tgt, T_src)
        d_e = a * (d_a - np.sum(a * d_a, axis=-1, keepdims=True))  # (B, T_tgt, T_src)
        params: dict[str, np.ndarray] = {}
        if self.score == "dot":
            d_queries = d_e @ h  # (B, T_tgt, Q)
            d_keys += d_e.transpose(0, 2, 1) @ _batch_first(queries)
        else:
            W_q, W_k, v = self._params["W_query"], self._params["W_key"], self._params["v"]
            u = trace.cache["u"]  # (T_tgt, B, T_src, A)
            d_scores = d_e.transpose(1, 0, 2)  # (T_tgt, B, T_src)
            params["v"] = np.tensordot(d_scores, u, axes=([0, 1, 2], [0, 1, 2]))  # (A,)
            d_z = d_scores[..., None] * v * (1.0 - u * u)  # (T_tgt, B, T_src, A)
            d_projected_queries = d_z.sum(axis=2)  # (T_tgt, B, A)
            d_projected_keys = d_z.sum(axis=0).transpose(1, 0, 2)  # (T_src, B, A)
            A = self.attention_size
            params["W_query"] = d_projected_queries.reshape(-1, A).T @ queries.reshape(-1, self.query_size)
            params["W_key"] = d_projected_keys.reshape(-1, A).T @ keys.reshape(-1, self.key_size)
            d_queries = _batch_first(d_projected_queries @ W_q)  # (B, T_tgt, Q)
            d_keys += _batch_first(d_projected_keys @ W_k)
        return AttentionGrads(params, np.ascontiguousarray(d_queries.transpose(1, 0, 2)),
                              np.ascontiguousarray(d_keys.transpose(1, 0, 2)),
                              np.ascontiguousarray(d_e.transpose(1, 0, 2)))
