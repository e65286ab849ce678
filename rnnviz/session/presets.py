"""One-click demonstrations of vanishing and exploding gradients and what fixes them.

    session = PRESETS["vanishing"].build()          # a Session, ready to inspect or step through

A preset is a SessionConfig; for the gated cells it sets ``carry_bias``: the LSTM forget gate (or
the GRU update gate) starts mostly open, σ(4) ≈ 0.98, the classic initialisation that lets a gated
cell carry its state (and its gradient) across many steps (Gers et al. 2000; Jozefowicz et al.
2015). With PyTorch's default init both gates start near σ(0) = 0.5 and the gradient vanishes
almost as fast as in a plain RNN until training opens them, which takes thousands of steps on
``adding``.

Measured on the view batch at step 0 (||dL/dh_1|| / ||dL/dh_T|| over the 8 view samples, seeds 0-7):
vanishing 8e-14 .. 4e-10; lstm_fixed 0.07 .. 0.87; gru_fixed 0.40 .. 0.45; exploding 2.4e4 .. 3.7e4
(global gradient norm >= 2.8e6 before clipping).

"exploding" is the network to look at: it trains with the app's defaults (Adam, gradient norm clipped
to 1), so pressing Play is safe. "clipping_off" and "clipping_on" train the same network with plain
SGD, without and with clipping: the pair that isolates what clipping does. Every preset builds a
different configuration.
"""
from __future__ import annotations

from dataclasses import dataclass

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session


class PresetError(ValueError):
    """An unknown preset name: the message lists the known ones."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: SessionConfig
    train_steps: int = 0  # train this many steps before showing it

    def build(self) -> Session:
        """A new Session for this preset, with any training done."""
        session = Session(self.config)
        self.prepare(session)
        return session

    def prepare(self, session: Session) -> None:
        """Apply the preset's training to a Session just built from ``config``."""
        if self.train_steps:
            session.train(self.train_steps)


_ADDING = dict(task="adding", task_params={"seq_len": 50}, hidden_size=32, seed=0)
_EXPLODING = dict(task="adding", task_params={"seq_len": 60}, hidden_size=32, seed=0, cell="rnn_relu",
                  init="identity", init_scale=1.2)
_PLAIN_SGD = dict(optimizer="sgd", lr=0.01)

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "vanishing", "Vanishing gradients: tanh RNN on adding",
        "A plain tanh RNN on the adding problem with 50 steps. Step the backward pass from the end: "
        "dL/dh shrinks by a roughly constant factor per step (W_hh's spectral radius is about 0.6 "
        "and tanh' <= 1), so by the first step it is about 1e-12 of what it was at the last one. "
        "The first marked number cannot be learned.",
        SessionConfig(cell="rnn_tanh", **_ADDING),
    ),
    Preset(
        "exploding", "Exploding gradients: ReLU RNN, W_hh = 1.2 I",
        "A ReLU RNN whose recurrent matrix starts as 1.2 times the identity (IRNN init scaled up). "
        "On active units each step back multiplies dL/dh by 1.2: after 60 steps the gradient at the "
        "first step is about 1e4 times the one at the last, and the global gradient norm is in the "
        "millions. Training uses the defaults (Adam, gradient norm clipped to 1), so Play is safe and the "
        "clip counter climbs every step; the two clipping presets train it with plain SGD instead.",
        SessionConfig(**_EXPLODING),
    ),
    Preset(
        "lstm_fixed", "The fix: LSTM on the same task",
        "The vanishing setting with an LSTM whose forget gate starts open (bias 4, f ≈ 0.98). The "
        "cell state is carried additively, dc_(t-1) = f_t dc_t, so the gradient reaches the first "
        "step with a sizeable fraction (about 0.1) of its size at the end, instead of 1e-12.",
        SessionConfig(cell="lstm", carry_bias=4.0, **_ADDING),
    ),
    Preset(
        "gru_fixed", "The fix: GRU on the same task",
        "The vanishing setting with a GRU whose update gate starts closed to new input (bias 4, "
        "z ≈ 0.98): h_t = (1 - z) n + z h_(t-1) keeps the state, and dL/dh_(t-1) gets z dL/dh_t "
        "directly, so the gradient survives the 50 steps (about 0.4 of its final size).",
        SessionConfig(cell="gru", carry_bias=4.0, **_ADDING),
    ),
    Preset(
        "clipping_off", "Exploding, clipping off",
        "The exploding network trained with plain SGD and no clipping: the first update is scaled by "
        "a gradient norm in the millions and training diverges at once.",
        SessionConfig(clip_norm=0.0, **_EXPLODING, **_PLAIN_SGD),
    ),
    Preset(
        "clipping_on", "Exploding, clipping on (max norm 1)",
        "The same setting with the global gradient norm clipped to 1: the direction of the gradient "
        "is kept, its size is capped, and every update stays small. Watch the clip counter.",
        SessionConfig(clip_norm=1.0, **_EXPLODING, **_PLAIN_SGD),
    ),
)}


# --- the RNN revival: selective copying (Gu & Dao 2023, Table 1) ----------------------------------------
# Measured with the CLI (rnnviz train --task selective_copy --cell lru|selective --hidden 32 --layers 2
# --steps 3000 --seed S; held-out per-token accuracy on 512 sequences, rnnviz/session/evaluation.py):
# selective 99.5% / 99.1% / 97.0% and LRU 44.6% / 44.9% / 43.0% for seeds 0 / 1 / 2 (chance 12.5%).
_SELECTIVE_COPY = dict(task="selective_copy", task_params={"n_tokens": 4, "vocab": 8, "region": 24},
                       hidden_size=32, num_layers=2, seed=0)
_SELECTIVE_COPY_RESULT = ("Trained from the command line for 3000 steps (seeds 0, 1, 2) the selective layer "
                          "recalls 99.5%, 99.1% and 97.0% of the symbols, the LRU 44.6%, 44.9% and 43.0% "
                          "(chance: 12.5%); Gu & Dao report S4 18.3% and S6 97.0% on far longer sequences.")
PRESETS.update({p.name: p for p in (
    Preset(
        "selective_copy_lru", "Selective copying: a time-invariant LRU",
        "Four symbols scattered among 24 noise tokens, to be written back in order. The LRU decays and "
        "rotates its state by the same λ at every step, whatever it reads (see its constant strips in the "
        "gates panel): it cannot skip the noise, only hope the symbols survive it. " + _SELECTIVE_COPY_RESULT
        + " Train it and compare with the selective preset.",
        SessionConfig(cell="lru", **_SELECTIVE_COPY),
    ),
    Preset(
        "selective_copy_s6", "Selective copying: a selective state-space layer (S6)",
        "The same task with Mamba's selective layer: its step size Δ_t is computed from each token, so it "
        "can open its state for a symbol (large Δ: write) and close it for noise (small Δ: keep), which is "
        "what the Δ strip of the gates panel shows once it has learned. " + _SELECTIVE_COPY_RESULT,
        SessionConfig(cell="selective", **_SELECTIVE_COPY),
    ),
)})


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise PresetError(f"there is no preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
