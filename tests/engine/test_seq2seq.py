"""The encoder–decoder with attention (rnnviz/engine/seq2seq.py, attention.py): BPTT through the decoder,
the attention and the encoder against central finite differences and against a PyTorch reference
(torch.nn.RNN/LSTM/GRU with the attention written out), masking, and greedy decoding."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnviz.engine.attention import Attention, masked_softmax
from rnnviz.engine.errors import EngineError
from rnnviz.engine.gradcheck import compare_gradients
from rnnviz.engine.model import ModelConfigError, ModelInputError
from rnnviz.engine.seq2seq import Seq2Seq, Seq2SeqConfig, decoder_inputs_for
from tests.engine.conftest import lengths_mask
from tests.tolerances import assert_same_maths

T_SRC, T_TGT, B, V_SRC, V_TGT, H = 6, 5, 3, 5, 4, 3
SOURCE_LENGTHS, TARGET_LENGTHS = [6, 3, 5], [5, 4, 2]
ENCODERS = ("rnn_tanh", "lstm", "gru")
ATTENTIONS = ("none", "additive", "dot")
CASES = list(itertools.product(ENCODERS, ATTENTIONS, (False, True)))
DECODER_OF = {"rnn_tanh": "rnn_tanh", "lstm": "lstm", "gru": "gru"}
# Roundings per value in these nets (T <= 6, E <= 6, A <= 6, V <= 5, fan-in <= 12): the two cores as
# tests/tolerances.SMALL_NET counts them (2^12) plus the attention and the output layer: per decoder
# step a score per source position (a dot product of <= 6 terms, or A tanh terms and a dot product),
# a softmax (T_src exps and a sum), a weighted sum of T_src keys, and a 2E-term output product; the
# backward as many again: < 2^12 more. So 2^13.
ROUNDINGS = 2**13


def batch(seed: int = 0, masked: bool = True):
    rng = np.random.default_rng(seed)
    source = np.eye(V_SRC)[rng.integers(0, V_SRC, (T_SRC, B))]  # (T_src, B, V_src)
    source_mask = lengths_mask(SOURCE_LENGTHS if masked else [T_SRC] * B, T_SRC)
    source *= source_mask[..., None]
    target_mask = lengths_mask(TARGET_LENGTHS if masked else [T_TGT] * B, T_TGT)
    targets = rng.integers(0, V_TGT, (T_TGT, B)) * target_mask.astype(np.int64)
    return source, source_mask, targets, target_mask, decoder_inputs_for(targets, target_mask, V_TGT)


def model(encoder: str, attention: str, bidirectional: bool, decoder: str | None = None, seed: int = 0) -> Seq2Seq:
    return Seq2Seq(Seq2SeqConfig(encoder, decoder or DECODER_OF[encoder], V_SRC, V_TGT, hidden_size=H,
                                 bidirectional=bidirectional, attention=attention, dtype="float64", seed=seed))


def finite_difference_check(net: Seq2Seq, seed: int = 0):
    source, source_mask, targets, target_mask, decoder_inputs = batch(seed)
    grads = net.loss_and_grads(source, decoder_inputs, targets, source_mask, target_mask)
    return compare_gradients(net.parameters(),
                             lambda: net.loss(source, decoder_inputs, targets, source_mask, target_mask),
                             grads.params)


# --- finite differences ---------------------------------------------------------------------


@pytest.mark.parametrize("encoder,attention,bidirectional", CASES)
def test_gradients_match_finite_differences(encoder, attention, bidirectional):
    """Every entry of every parameter (the encoder's, the decoder's, the attention's, the output
    layer's): |BPTT - FD| <= atol + rtol |FD| with the gradient check's float64 analysis
    (rnnviz/engine/gradcheck.py: atol = 2^10 ulp(max(|L|, 1)) / eps for round-off, rtol = 1e-6 for
    truncation), on padded source and target batches."""
    result = finite_difference_check(model(encoder, attention, bidirectional))
    assert {p.name.split(".")[0] for p in result.params} >= {"encoder", "decoder", "output"}
    assert result.passed, str(result)


@pytest.mark.parametrize("encoder,decoder", [("lstm", "gru"), ("gru", "lstm"), ("lstm", "rnn_tanh"),
                                             ("mingru", "lru"), ("selective", "minlstm")])
def test_mixed_cells_match_finite_differences(encoder, decoder):
    """Cells of different kinds pass only h_n to the decoder (the LSTM's c_0 starts at zero): still
    the gradient of the loss, entry by entry (same allowance as above)."""
    for attention in ("none", "additive"):
        result = finite_difference_check(model(encoder, attention, True, decoder=decoder))
        assert result.passed, str(result)


def test_a_wrong_gradient_fails_the_check():
    """The check can fail: a gradient off by 1e-4 in one entry is caught."""
    net = model("gru", "additive", True)
    source, source_mask, targets, target_mask, decoder_inputs = batch()
    grads = net.loss_and_grads(source, decoder_inputs, targets, source_mask, target_mask)
    grads.params["attention.W_key"][0, 0] += 1e-4
    result = compare_gradients(net.parameters(),
                               lambda: net.loss(source, decoder_inputs, targets, source_mask, target_mask),
                               grads.params)
    assert [p.name for p in result.params if not p.passed] == ["attention.W_key"]


# --- masking, attention, decoding -------------------------------------------------------------


@pytest.mark.parametrize("attention", ("additive", "dot"))
def test_padding_gets_no_attention_and_changes_nothing(attention):
    net = model("gru", attention, True)
    source, source_mask, targets, target_mask, decoder_inputs = batch()
    trace = net.forward(source, decoder_inputs, source_mask, target_mask)
    weights = trace.attention_weights  # (T_tgt, B, T_src)
    padded = source_mask.T[None] == 0
    assert np.all(weights[np.broadcast_to(padded, weights.shape)] == 0)
    # each row sums to one: a softmax of at most T_src terms, a few roundings each
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=16 * T_SRC * np.finfo(float).eps)
    scrambled = source.copy()
    scrambled[source_mask == 0] = np.eye(V_SRC)[1]  # tokens where the mask says padding
    again = net.forward(scrambled, decoder_inputs, source_mask, target_mask)
    np.testing.assert_array_equal(again.logits, trace.logits)


def test_masked_softmax_refuses_an_all_padding_row():
    with pytest.raises(EngineError, match="at least one real"):
        masked_softmax(np.zeros((1, 2, 3)), np.array([[1, 0], [0, 0], [0, 0]]))


def test_dot_attention_needs_equal_sizes():
    with pytest.raises(EngineError, match="one size"):
        Attention("dot", 4, 6)


@pytest.mark.parametrize("encoder,attention", [("lstm", "additive"), ("gru", "dot"), ("rnn_tanh", "none")])
def test_greedy_decoding_feeds_back_its_guesses(encoder, attention):
    """Step by step, each guess is the argmax of that step's logits and the next step reads it; the
    trace of the decoding (one pass over BOS and the guesses) has the same logits as the steps."""
    net = model(encoder, attention, True, seed=5)
    source, source_mask, *_ = batch(2)
    end = V_TGT - 1
    decoding = net.greedy(source, source_mask, max_steps=7, end_token=end)
    tokens, mask, trace = decoding.tokens, decoding.mask, decoding.trace
    np.testing.assert_array_equal(np.argmax(trace.logits, axis=-1)[mask != 0], tokens[mask != 0])
    # the same pass done by teacher forcing on the guesses
    forced = net.forward(source, decoder_inputs_for(tokens, mask, V_TGT), source_mask, mask)
    assert_same_maths(forced.logits[mask != 0], trace.logits[mask != 0], ROUNDINGS)
    for b in range(B):  # the mask ends at each sequence's first end token
        ends = np.flatnonzero(tokens[:, b] == end)
        length = ends[0] + 1 if len(ends) else len(tokens)
        assert mask[:, b].sum() == length


def test_config_errors_say_what_is_wrong():
    with pytest.raises(ModelConfigError, match="attention must be one of"):
        Seq2SeqConfig("gru", "gru", 3, 3, attention="luong")
    with pytest.raises(ModelConfigError, match="encoder_cell"):
        Seq2SeqConfig("transformer", "gru", 3, 3)
    net = model("gru", "dot", False)
    source, source_mask, targets, target_mask, decoder_inputs = batch()
    with pytest.raises(ModelInputError, match="decoder inputs"):
        net.forward(source, decoder_inputs[..., :-1], source_mask, target_mask)
    with pytest.raises(ModelInputError, match="targets"):
        net.loss(source, decoder_inputs, targets[:-1], source_mask, target_mask)


def test_state_dict_round_trip_and_float64_copy():
    net = Seq2Seq(Seq2SeqConfig("lstm", "lstm", V_SRC, V_TGT, hidden_size=H, attention="additive", seed=1))
    other = Seq2Seq(Seq2SeqConfig("lstm", "lstm", V_SRC, V_TGT, hidden_size=H, attention="additive", seed=2))
    other.load_state_dict(net.state_dict())
    for name, array in net.parameters().items():
        np.testing.assert_array_equal(other.parameters()[name], array)
    copy = net.astype(np.float64)
    assert all(a.dtype == np.float64 for a in copy.parameters().values())
    without_attention = Seq2Seq(Seq2SeqConfig("lstm", "lstm", V_SRC, V_TGT, hidden_size=H, attention="none"))
    with pytest.raises(ModelInputError, match="unexpected attention.W_key"):
        without_attention.load_state_dict(net.state_dict())
