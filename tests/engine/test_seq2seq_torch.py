"""The encoder–decoder against a PyTorch reference: torch.nn.RNN/LSTM/GRU on packed sequences for the
encoder and the decoder, the attention written out from its equations, autograd for the gradients."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.seq2seq import Seq2Seq
from tests.engine.test_seq2seq import (B, CASES, H, ROUNDINGS, SOURCE_LENGTHS, TARGET_LENGTHS, V_SRC, V_TGT,
                                       batch, model)
from tests.tolerances import assert_same_maths

torch = pytest.importorskip("torch")


def torch_core(mode, input_size, hidden_size, bidirectional=False):
    kwargs = dict(input_size=input_size, hidden_size=hidden_size, bidirectional=bidirectional)
    if mode.startswith("rnn"):
        return torch.nn.RNN(nonlinearity=mode[4:], **kwargs).double()
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[mode](**kwargs).double()


def torch_packed(module, x, lengths, state=None):
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    output, final = module(packed, state)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(output, total_length=x.shape[0])
    return output, final


class TorchSeq2Seq(torch.nn.Module):
    """The same network written with PyTorch's modules: the attention by hand, from its equations."""

    def __init__(self, net: Seq2Seq) -> None:
        super().__init__()
        config = net.config
        self.config = config
        E = config.decoder_hidden_size
        self.encoder = torch_core(config.encoder_cell, V_SRC, H, config.bidirectional)
        self.decoder = torch_core(config.decoder_cell, V_TGT + 1, E)
        self.encoder.load_state_dict({k: torch.tensor(v) for k, v in net.encoder.state_dict().items()})
        self.decoder.load_state_dict({k: torch.tensor(v) for k, v in net.decoder.state_dict().items()})
        self.output = torch.nn.Linear(2 * E, V_TGT).double()
        self.output.load_state_dict({k: torch.tensor(v) for k, v in net.output.state_dict().items()})
        self.attention = torch.nn.ParameterDict(
            {} if net.attention is None else {k: torch.nn.Parameter(torch.tensor(v))
                                              for k, v in net.attention.parameters().items()})

    def forward(self, source, source_mask, decoder_inputs, targets, target_mask):
        lstm = self.config.encoder_cell == "lstm"
        keys, final = torch_packed(self.encoder, source, SOURCE_LENGTHS)  # (T_src, B, E)
        h_n = final[0] if lstm else final  # (D, B, H)
        s0 = torch.cat(list(h_n), dim=-1)  # (B, E)
        if self.config.decoder_cell == "lstm":
            c0 = torch.cat(list(final[1]), dim=-1) if lstm else torch.zeros_like(s0)
            state = (s0[None], c0[None])
        else:
            state = s0[None]
        states, _ = torch_packed(self.decoder, decoder_inputs, TARGET_LENGTHS, state)  # (T_tgt, B, E)
        if self.config.attention == "none":
            contexts, weights = s0.expand_as(states), None
        else:
            if self.config.attention == "dot":
                scores = torch.einsum("tbe,sbe->tbs", states, keys)
            else:
                q = states @ self.attention["W_query"].T  # (T_tgt, B, A)
                k = keys @ self.attention["W_key"].T  # (T_src, B, A)
                scores = torch.tanh(q[:, :, None, :] + k.permute(1, 0, 2)[None]) @ self.attention["v"]
            scores = scores.masked_fill(torch.tensor(source_mask.T[None] == 0), float("-inf"))
            weights = torch.softmax(scores, dim=-1)  # (T_tgt, B, T_src)
            contexts = torch.einsum("tbs,sbe->tbe", weights, keys)
        logits = self.output(torch.cat([states, contexts], dim=-1))  # (T_tgt, B, V)
        real = torch.tensor(target_mask.reshape(-1) != 0)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V_TGT)[real],
                                                 torch.tensor(targets.reshape(-1))[real])
        return loss, logits, weights


def torch_gradients(reference: TorchSeq2Seq) -> dict[str, np.ndarray]:
    grads = {f"encoder.{k}": v.grad for k, v in reference.encoder.named_parameters()}
    grads.update({f"decoder.{k}": v.grad for k, v in reference.decoder.named_parameters()})
    grads.update({f"attention.{k}": v.grad for k, v in reference.attention.items()})
    grads.update({f"output.{k}": v.grad for k, v in reference.output.named_parameters()})
    return {k: v.numpy() for k, v in grads.items()}


@pytest.mark.parametrize("encoder,attention,bidirectional", CASES)
def test_matches_pytorch(encoder, attention, bidirectional):
    """Loss, logits, attention weights and every gradient equal PyTorch's (packed sequences, autograd)
    within 2 N u (|theirs| + max) of each other, N = ROUNDINGS (tests/tolerances.py)."""
    net = model(encoder, attention, bidirectional, seed=3)
    source, source_mask, targets, target_mask, decoder_inputs = batch(1)
    ours = net.loss_and_grads(source, decoder_inputs, targets, source_mask, target_mask)
    reference = TorchSeq2Seq(net)
    loss, logits, weights = reference(torch.tensor(source), source_mask, torch.tensor(decoder_inputs), targets,
                                      target_mask)
    loss.backward()
    assert_same_maths(ours.loss, loss.item(), ROUNDINGS, err_msg="loss")
    real = target_mask != 0
    assert_same_maths(ours.trace.logits[real], logits.detach().numpy()[real], ROUNDINGS, err_msg="logits")
    if weights is not None:
        assert_same_maths(ours.trace.attention_weights[real], weights.detach().numpy()[real], ROUNDINGS,
                          err_msg="attention weights")
    theirs = torch_gradients(reference)
    assert set(theirs) == set(ours.params)
    for name, gradient in theirs.items():
        assert_same_maths(ours.params[name], gradient, ROUNDINGS, err_msg=name)


