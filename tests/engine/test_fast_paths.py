"""The size- and dtype-dependent branches of the cells, each forced from both sides of its threshold
and compared with PyTorch and (float64) with finite differences.

Branches (rnnviz/engine/cells):
- GRU σ through np.exp instead of np.tanh: float64 and B·H >= 128 (``use_exp_activations``);
- LSTM gates through np.exp instead of np.tanh: B·H >= 128 in float64, >= 512 in float32
  (``lstm_uses_exp``);
- work buffers (``rnnviz.engine.scratch``) fresh on a first call, reused with stale contents on a
  later one: every comparison runs after a call on other data of the same shapes.

Tolerances. Both sides compute the same equations and differ by rounding only. A value here goes
through at most N roundings: per timestep and layer a dot product over the fan-in I + H and ~16
elementwise operations (exp, reciprocal, products); T steps, L layers; the backward pass as many
again plus a sum over T·B for the weight gradients. Counting each at its worst, u (the unit
roundoff) relative to the largest magnitude in play, gives the normwise bound (the form LAPACK's
tests use)  |ours - reference| <= N u (|reference| + max|reference|),  on any CPU: FMA, another
BLAS kernel or summation order change which roundings happen, not their number or size. A fully
rigorous bound would also multiply by the growth of an error along the recurrence, the product
of the per-step Jacobian norms, at most ~3 per step here (PyTorch's init: ||W_hh block||_2 ≈ 1.15;
σ' <= 1/4, tanh' <= 1); counting every rounding at full size overstates the error by ~10³
(measured: 0.8e-3 to 2.2e-3 of the bound), room for a growth of 1000^(1/T) ≈ 4 per step.
PyTorch runs in float64, within 2^-53 of exact at this scale: in float32 (u = 2^-24) it is the
exact reference and the whole bound is ours. A branch error (a wrong scale, sign or gate order)
moves values by >= 1e-3, above the float32 bound (N u ≈ 2.5e-4 here).
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.cells.lstm import lstm_uses_exp, use_exp_activations
from rnnviz.engine.gradcheck import gradcheck
from tests.engine.conftest import lengths_mask, make_core

torch = pytest.importorskip("torch")

T, I, LAYERS = 5, 3, 2
ELEMENTWISE_PER_STEP = 16

# (mode, dtype, batch, hidden, exp branch expected): the two sides of each threshold, as close to it as
# the sizes allow
CASES = [
    ("gru", np.float64, 4, 30, False),  # B·H = 120 < 128
    ("gru", np.float64, 4, 32, True),  # 128
    ("gru", np.float32, 8, 64, False),  # float32 GRU never takes exp, even at 512
    ("lstm", np.float64, 4, 30, False),  # 120 < 128
    ("lstm", np.float64, 4, 32, True),  # 128
    ("lstm", np.float32, 8, 60, False),  # 480 < 512
    ("lstm", np.float32, 8, 64, True),  # 512
]
IDS = [f"{m}-{np.dtype(d).name}-B{b}xH{h}-{'exp' if e else 'tanh'}" for m, d, b, h, e in CASES]


def takes_exp(mode: str, batch: int, hidden: int, dtype) -> bool:
    return (lstm_uses_exp if mode == "lstm" else use_exp_activations)(batch, hidden, dtype)


def roundings(batch: int, hidden: int) -> int:
    """N: roundings a forward + backward value goes through (module docstring)."""
    fan_in = max(I, 2 * hidden) + hidden  # layer 2 reads both directions of layer 1
    forward = T * LAYERS * (fan_in + ELEMENTWISE_PER_STEP)
    return 2 * forward + T * batch


def assert_close(ours, reference, tol: float, what: str) -> None:
    reference = reference.detach().numpy() if hasattr(reference, "detach") else np.asarray(reference)
    scale = float(np.max(np.abs(reference)))
    np.testing.assert_allclose(ours, reference, rtol=tol, atol=tol * scale, err_msg=what)


def problem(mode: str, dtype, batch: int, hidden: int, seed: int):
    """A torch float64 module, our core of ``dtype`` with the same (dtype-representable) weights,
    and inputs, initial states, a mask and output gradients, all representable in ``dtype``."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[mode](I, hidden, num_layers=LAYERS, bidirectional=True)
    state = {k: torch.tensor(v.numpy().astype(dtype).astype(np.float64)) for k, v in module.state_dict().items()}
    module = module.double()
    module.load_state_dict(state)
    core = make_core(mode, I, hidden, LAYERS, True, dtype=dtype)
    core.load_state_dict(state)

    def draw(*shape):
        return rng.standard_normal(shape).astype(dtype)

    states = (2 * LAYERS, batch, hidden)
    lengths = [T] + list(rng.integers(1, T + 1, batch - 1))
    data = dict(x=draw(T, batch, I), h0=draw(*states), c0=draw(*states) if mode == "lstm" else None,
                lengths=lengths, mask=lengths_mask(lengths, T).astype(dtype),
                d_output=draw(T, batch, 2 * hidden), d_h_n=draw(*states),
                d_c_n=draw(*states) if mode == "lstm" else None)
    return module, core, data


def ours(core, mode, data):
    state = (data["h0"], data["c0"]) if mode == "lstm" else data["h0"]
    trace = core.forward(data["x"], h0=state, mask=data["mask"])
    grads = core.backward(trace, data["d_output"], d_h_n=data["d_h_n"], d_c_n=data["d_c_n"])
    return trace, grads


def theirs(module, mode, data):
    x = torch.tensor(data["x"], dtype=torch.float64, requires_grad=True)
    h0 = torch.tensor(data["h0"], dtype=torch.float64, requires_grad=True)
    c0 = torch.tensor(data["c0"], dtype=torch.float64, requires_grad=True) if mode == "lstm" else None
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(data["lengths"]), enforce_sorted=False)
    out, final = module(packed, (h0, c0) if mode == "lstm" else h0)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    h_n, c_n = final if mode == "lstm" else (final, None)
    loss = (output * torch.tensor(data["d_output"], dtype=torch.float64)).sum()
    loss = loss + (h_n * torch.tensor(data["d_h_n"], dtype=torch.float64)).sum()
    if mode == "lstm":
        loss = loss + (c_n * torch.tensor(data["d_c_n"], dtype=torch.float64)).sum()
    loss.backward()
    return output, h_n, c_n, x, h0, c0


@pytest.mark.parametrize("mode,dtype,batch,hidden,exp", CASES, ids=IDS)
def test_branch_matches_torch(mode, dtype, batch, hidden, exp):
    assert takes_exp(mode, batch, hidden, dtype) is exp  # the sizes force the branch named in the id
    module, core, data = problem(mode, dtype, batch, hidden, seed=batch * hidden)
    _, _, stale = problem(mode, dtype, batch, hidden, seed=1)
    ours(core, mode, stale)  # fills the reused work buffers with other numbers first
    trace, grads = ours(core, mode, data)
    output, h_n, c_n, x, h0, c0 = theirs(module, mode, data)
    tol = roundings(batch, hidden) * np.finfo(dtype).eps / 2  # N u
    assert trace.output.dtype == dtype and grads.d_input.dtype == dtype
    assert_close(trace.output * data["mask"][:, :, None], output, tol, "output")
    assert_close(trace.h_n, h_n, tol, "h_n")
    if mode == "lstm":
        assert_close(trace.c_n, c_n, tol, "c_n")
        assert_close(grads.d_c0, c0.grad, tol, "d_c0")
    for name, parameter in module.named_parameters():
        assert_close(grads.params[name], parameter.grad, tol, name)
    assert_close(grads.d_input, x.grad, tol, "d_input")
    assert_close(grads.d_h0, h0.grad, tol, "d_h0")


@pytest.mark.parametrize("mode,dtype,batch,hidden,exp", [c for c in CASES if c[1] == np.float64],
                         ids=[i for i, c in zip(IDS, CASES) if c[1] == np.float64])
def test_float64_branch_matches_finite_differences(mode, dtype, batch, hidden, exp):
    assert takes_exp(mode, batch, hidden, dtype) is exp
    _, core, data = problem(mode, dtype, batch, hidden, seed=3)
    result = gradcheck(core, data["x"], mask=data["mask"], max_entries=6, seed=4, check_inputs=True)
    # per entry |analytic - numeric| <= atol + rtol |numeric|, both from float analysis (engine/gradcheck.py)
    assert result.passed, str(result)
