"""Parity with PyTorch's nn.RNN / nn.LSTM / nn.GRU in float64: outputs, final states and every
gradient, with and without h0, d_h_n / d_c_n, padding masks (pack_padded_sequence) and tbptt."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.engine.conftest import MODE_LIST, lengths_mask, make_core
from tests.tolerances import assert_same_maths, unit_roundoff

torch = pytest.importorskip("torch")

T, B, I, H = 5, 3, 3, 4


def torch_module(mode, num_layers, bidirectional, input_size=I, hidden_size=H):
    kwargs = dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                  bidirectional=bidirectional)
    if mode.startswith("rnn"):
        module = torch.nn.RNN(nonlinearity=mode[4:], **kwargs)
    else:
        module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[mode](**kwargs)
    return module.double()


def close(ours, theirs, what):
    """Both float64, the same equations by other routes (packed sequences, fused kernels, another
    BLAS): within 2 N u (|theirs| + max) of each other, N <= 2^12 roundings in these nets
    (T <= 7, H = 4, two layers; tests/tolerances.py)."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert_same_maths(ours, theirs, err_msg=what)


def torch_run(module, mode, x, h0, c0, lengths):
    """Run the torch module like a person would: packed when there are lengths."""
    state = None
    if h0 is not None:
        state = (h0, c0) if mode == "lstm" else h0
    if lengths is None:
        output, final = module(x, state)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths),
                                                         enforce_sorted=False)
        packed_output, final = module(packed, state)
        output, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_output, total_length=x.shape[0])
    h_n, c_n = final if mode == "lstm" else (final, None)
    return output, h_n, c_n


CASES = list(itertools.product(MODE_LIST, (1, 2), (False, True), (False, True), (False, True),
                               (False, True)))


@pytest.mark.parametrize("mode,num_layers,bidirectional,with_h0,with_d_state,with_mask", CASES)
def test_matches_torch(mode, num_layers, bidirectional, with_h0, with_d_state, with_mask):
    rng = np.random.default_rng(hash((mode, num_layers, bidirectional)) % 2**32)
    torch.manual_seed(0)
    module = torch_module(mode, num_layers, bidirectional)
    core = make_core(mode, I, H, num_layers, bidirectional)
    core.load_state_dict(module.state_dict())
    D = 2 if bidirectional else 1
    x = rng.standard_normal((T, B, I))
    states = (num_layers * D, B, H)
    h0 = rng.standard_normal(states) if with_h0 else None
    c0 = rng.standard_normal(states) if with_h0 and mode == "lstm" else None
    lengths = [5, 2, 4] if with_mask else None
    mask = lengths_mask(lengths, T) if with_mask else None
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal(states) if with_d_state else None
    d_c_n = rng.standard_normal(states) if with_d_state and mode == "lstm" else None

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0, requires_grad=True) if with_h0 else None
    c0_t = torch.tensor(c0, requires_grad=True) if c0 is not None else None
    output_t, h_n_t, c_n_t = torch_run(module, mode, x_t, h0_t, c0_t, lengths)
    loss = (output_t * torch.tensor(d_output)).sum()
    if d_h_n is not None:
        loss = loss + (h_n_t * torch.tensor(d_h_n)).sum()
    if d_c_n is not None:
        loss = loss + (c_n_t * torch.tensor(d_c_n)).sum()
    loss.backward()

    trace = core.forward(x, h0=(h0, c0) if mode == "lstm" and with_h0 else h0, mask=mask)
    close(trace.output, output_t, "output")
    close(trace.h_n, h_n_t, "h_n")
    if mode == "lstm":
        close(trace.c_n, c_n_t, "c_n")
    else:
        assert trace.c_n is None
    grads = core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n)
    assert set(grads.params) == set(dict(module.named_parameters()))
    for name, parameter in module.named_parameters():
        close(grads.params[name], parameter.grad, name)
    close(grads.d_input, x_t.grad, "d_input")
    if with_h0:
        close(grads.d_h0, h0_t.grad, "d_h0")
    if c0_t is not None:
        close(grads.d_c0, c0_t.grad, "d_c0")


def torch_chunked(module, mode, x, h0, c0, k):
    """Forward in chunks of k timesteps with the state carried over, detached in between."""
    state = (h0, c0) if mode == "lstm" else h0
    outputs = []
    for start in range(0, x.shape[0], k):
        if start > 0:
            state = tuple(s.detach() for s in state) if mode == "lstm" else state.detach()
        output, state = module(x[start:start + k], state)
        outputs.append(output)
    h_n, c_n = state if mode == "lstm" else (state, None)
    return torch.cat(outputs), h_n, c_n


@pytest.mark.parametrize("mode,num_layers,k", list(itertools.product(MODE_LIST, (1, 2), (2, 3))))
def test_tbptt_equals_detached_chunks(mode, num_layers, k):
    rng = np.random.default_rng(7)
    seq_len = 7
    torch.manual_seed(1)
    module = torch_module(mode, num_layers, False)
    core = make_core(mode, I, H, num_layers)
    core.load_state_dict(module.state_dict())
    states = (num_layers, B, H)
    x = rng.standard_normal((seq_len, B, I))
    h0, c0 = rng.standard_normal(states), rng.standard_normal(states)
    d_output = rng.standard_normal((seq_len, B, H))
    d_h_n, d_c_n = rng.standard_normal(states), rng.standard_normal(states)
    x_t = torch.tensor(x, requires_grad=True)
    h0_t, c0_t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    output_t, h_n_t, c_n_t = torch_chunked(module, mode, x_t, h0_t, c0_t, k)
    loss = (output_t * torch.tensor(d_output)).sum() + (h_n_t * torch.tensor(d_h_n)).sum()
    if mode == "lstm":
        loss = loss + (c_n_t * torch.tensor(d_c_n)).sum()
    loss.backward()

    lstm = mode == "lstm"
    trace = core.forward(x, h0=(h0, c0) if lstm else h0)
    grads = core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n if lstm else None, tbptt=k)
    close(trace.output, output_t, "output")
    for name, parameter in module.named_parameters():
        close(grads.params[name], parameter.grad, name)
    close(grads.d_input, x_t.grad, "d_input")
    close(grads.d_h0, h0_t.grad, "d_h0")
    if lstm:
        close(grads.d_c0, c0_t.grad, "d_c0")
    # and the cut really cuts: without tbptt the gradients differ
    full = core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n if lstm else None)
    # the cut drops whole terms of the gradient: apart by far more than the 2 N u rounding allowed above
    difference = np.abs(full.params["weight_hh_l0"] - grads.params["weight_hh_l0"]).max()
    assert difference > 1e-3 * np.abs(full.params["weight_hh_l0"]).max()


def torch_cell_unroll(module, mode, x, h0, c0, mask, k):
    """A reference built from torch's single-step cells: one layer, both directions, padding
    carries the state, the recurrent gradient detached between timesteps a and a+1 when
    (a + 1) % k == 0. Returns (output, h_n, c_n)."""
    cell_class = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}.get(mode, torch.nn.RNNCell)
    kwargs = {} if mode in ("lstm", "gru") else {"nonlinearity": mode[4:]}
    params = dict(module.named_parameters())
    outputs, finals_h, finals_c = [], [], []
    for direction, suffix in enumerate(("", "_reverse")):
        cell = cell_class(I, H, **kwargs).double()
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, kind).data = params[f"{kind}_l0{suffix}"].data
            setattr(cell, kind, params[f"{kind}_l0{suffix}"])
        h, c = h0[direction], c0[direction]
        steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
        hidden = [None] * x.shape[0]
        previous = None
        for t in steps:
            if previous is not None and (min(t, previous) + 1) % k == 0:
                h, c = h.detach(), c.detach()
            if mode == "lstm":
                new_h, new_c = cell(x[t], (h, c))
            else:
                new_h, new_c = cell(x[t], h), c
            real = mask[t][:, None] > 0
            h, c = torch.where(real, new_h, h), torch.where(real, new_c, c)
            hidden[t] = h * mask[t][:, None]
            previous = t
        outputs.append(torch.stack(hidden))
        finals_h.append(h)
        finals_c.append(c)
    return torch.cat(outputs, dim=2), torch.stack(finals_h), torch.stack(finals_c)


@pytest.mark.parametrize("mode,k,with_mask", list(itertools.product(MODE_LIST, (2, 3, 100),
                                                                        (False, True))))
def test_bidirectional_tbptt_and_mask_match_a_cell_by_cell_reference(mode, k, with_mask):
    rng = np.random.default_rng(11)
    seq_len = 7
    torch.manual_seed(2)
    module = torch_module(mode, 1, True)
    core = make_core(mode, I, H, 1, True)
    core.load_state_dict(module.state_dict())
    x = rng.standard_normal((seq_len, B, I))
    h0, c0 = rng.standard_normal((2, B, H)), rng.standard_normal((2, B, H))
    mask = lengths_mask([7, 4, 6] if with_mask else [7, 7, 7], seq_len)
    d_output = rng.standard_normal((seq_len, B, 2 * H))
    d_h_n, d_c_n = rng.standard_normal((2, B, H)), rng.standard_normal((2, B, H))
    x_t = torch.tensor(x, requires_grad=True)
    h0_t, c0_t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    output_t, h_n_t, c_n_t = torch_cell_unroll(module, mode, x_t, h0_t, c0_t,
                                               torch.tensor(mask), k)
    lstm = mode == "lstm"
    loss = (output_t * torch.tensor(d_output)).sum() + (h_n_t * torch.tensor(d_h_n)).sum()
    if lstm:
        loss = loss + (c_n_t * torch.tensor(d_c_n)).sum()
    loss.backward()

    trace = core.forward(x, h0=(h0, c0) if lstm else h0, mask=mask)
    grads = core.backward(trace, d_output, d_h_n=d_h_n, d_c_n=d_c_n if lstm else None,
                          tbptt=k)
    close(trace.output, output_t, "output")
    close(trace.h_n, h_n_t, "h_n")
    for name, parameter in module.named_parameters():
        close(grads.params[name], parameter.grad, name)
    close(grads.d_input, x_t.grad, "d_input")
    close(grads.d_h0, h0_t.grad, "d_h0")
    if lstm:
        close(trace.c_n, c_n_t, "c_n")
        close(grads.d_c0, c0_t.grad, "d_c0")


@pytest.mark.parametrize("mode", MODE_LIST)
def test_float32_core_is_close_to_torch_float32(mode):
    rng = np.random.default_rng(3)
    torch.manual_seed(3)
    module = torch_module(mode, 2, True, input_size=5, hidden_size=8).float()
    core = make_core(mode, 5, 8, 2, True, dtype=np.float32)
    core.load_state_dict(module.state_dict())
    x = rng.standard_normal((6, 4, 5)).astype(np.float32)
    d_output = rng.standard_normal((6, 4, 16)).astype(np.float32)
    x_t = torch.tensor(x, requires_grad=True)
    output_t, _ = module(x_t)
    output_t.backward(torch.tensor(d_output))
    trace = core.forward(x)
    grads = core.backward(trace, d_output)
    assert trace.output.dtype == np.float32 and grads.d_input.dtype == np.float32
    # Both float32, each within N u32 of exact: 2 N u (|theirs| + max) apart. N: per step and layer a
    # dot product over the fan-in (<= 2H + H = 24) and ~16 elementwise roundings, T = 6 steps, 2 layers,
    # backward as much again plus sums over T B = 24 terms: 2 (6 * 2 * 40) + 24 <= 2^10 (1.2e-4).
    tol = dict(roundings=2**10, dtype=np.float32)
    assert_same_maths(trace.output, output_t.detach().numpy(), **tol)
    assert_same_maths(grads.d_input, x_t.grad.numpy(), **tol)
    for name, parameter in module.named_parameters():
        assert_same_maths(grads.params[name], parameter.grad.numpy(), err_msg=name, **tol)


def test_load_state_dict_takes_torch_tensors_and_casts():
    module = torch_module("gru", 2, True)
    core = make_core("gru", I, H, 2, True, dtype=np.float32)
    core.load_state_dict(module.state_dict())
    for name, tensor in module.state_dict().items():
        assert core.parameters()[name].dtype == np.float32
        # float64 -> float32 rounds once to nearest: relative error <= u32 = 2^-24, absolute below float32's
        # normal range (1.2e-38), where the spacing is the smallest subnormal
        np.testing.assert_allclose(core.parameters()[name], tensor.numpy(), rtol=unit_roundoff(np.float32),
                                   atol=np.finfo(np.float32).smallest_subnormal)
