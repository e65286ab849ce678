"""The cells of the RNN revival (minGRU, minLSTM, LRU, selective SSM) against a PyTorch reference written
here from the papers' equations (no PyTorch module exists for them), against finite differences, and
their loop against their parallel scan.

The reference is a plain loop over time with autograd, in float64: padding carries the state and the
output (zero output there, as the engine's), the reverse direction reads the sequence backwards, layers
stack with both directions concatenated, and truncated BPTT detaches the state the step after a cut reads.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnviz.engine import EngineError, Recurrent, cell_spec
from rnnviz.engine.dynamics import cell_eigenvalues, lag_gradient_norms
from rnnviz.engine.model import ModelConfig, ModelConfigError
from rnnviz.engine.stepping import layer_weights, step_backward, step_forward
from tests.engine.conftest import assert_core_gradients_match_finite_differences, finite_difference, lengths_mask
from tests.tolerances import assert_matches_finite_differences, assert_same_maths

torch = pytest.importorskip("torch")

CELLS = ("mingru", "minlstm", "lru", "selective")
T, B, I, H = 6, 3, 3, 4


# ----------------------------------------------------------------------------- the reference, from the papers


def _t(array):
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=True)


def reference_step(mode, p, x, h, c):
    """One step of ``mode`` in torch, written from the paper's equations; p: kind -> tensor."""
    if mode == "mingru":  # Feng et al. 2024
        W_z, W_h = p["weight_ih"].chunk(2)
        b_z, b_h = p["bias_ih"].chunk(2)
        z = torch.sigmoid(x @ W_z.T + b_z)
        candidate = x @ W_h.T + b_h
        return (1 - z) * h + z * candidate, c
    if mode == "minlstm":  # Feng et al. 2024
        W_f, W_i, W_h = p["weight_ih"].chunk(3)
        b_f, b_i, b_h = p["bias_ih"].chunk(3)
        f, i = torch.sigmoid(x @ W_f.T + b_f), torch.sigmoid(x @ W_i.T + b_i)
        candidate = x @ W_h.T + b_h
        return f / (f + i) * h + i / (f + i) * candidate, c
    if mode == "lru":  # Orvieto et al. 2023; c holds [Re, Im]
        lam = torch.exp(torch.complex(-torch.exp(p["nu"]), p["theta"]))
        gamma = torch.sqrt(1 - lam.abs() ** 2)
        B_c, C_c = torch.complex(p["B_re"], p["B_im"]), torch.complex(p["C_re"], p["C_im"])
        H_ = p["nu"].shape[0]
        state = lam * torch.complex(c[:, :H_], c[:, H_:]) + gamma * (x.to(torch.complex128) @ B_c.T)
        y = (state @ C_c.T).real + x @ p["D"].T
        return y, torch.cat([state.real, state.imag], dim=-1)
    if mode == "selective":  # Gu & Dao 2023, S6 with an input projection
        u = x @ p["weight_in"].T
        delta = torch.nn.functional.softplus(u @ p["weight_delta"].T + p["bias_delta"])
        B_t, C_t = u @ p["weight_B"].T, u @ p["weight_C"].T
        A = -torch.exp(p["A_log"])
        state = c.reshape(x.shape[0], u.shape[1], -1)
        state = torch.exp(delta[:, :, None] * A) * state + (delta * u)[:, :, None] * B_t[:, None, :]
        y = (state * C_t[:, None, :]).sum(-1) + p["D"] * u
        return y, state.reshape(x.shape[0], -1)
    raise ValueError(mode)


def reference_run(mode, params, x, h0, c0, mask, num_layers, directions, tbptt):
    """The whole stack in torch: (output (T, B, D*H), h_n, c_n or None)."""
    steps = x.shape[0]
    layer_input, h_n, c_n = x, [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            p = {name[: -len(suffix)]: value for name, value in params.items() if name.endswith(suffix)}
            k = layer * directions + direction
            h, c = h0[k], None if c0 is None else c0[k]
            order = range(steps - 1, -1, -1) if direction else range(steps)
            out = [None] * steps
            for n, t in enumerate(order):
                if tbptt and n > 0 and ((t % tbptt == 0) if not direction else ((t + 1) % tbptt == 0)):
                    h, c = h.detach(), None if c is None else c.detach()
                new_h, new_c = reference_step(mode, p, layer_input[t], h, c)
                real = mask[t][:, None]
                h = real * new_h + (1 - real) * h
                c = None if c is None else real * new_c + (1 - real) * c
                out[t] = h * real
            outputs.append(torch.stack(out))
            h_n.append(h)
            c_n.append(c)
        layer_input = torch.cat(outputs, dim=-1)
    return layer_input, torch.stack(h_n), None if c0 is None else torch.stack(c_n)


CASES = list(itertools.product(CELLS, (1, 2), (False, True), (False, True), (None, 2)))


@pytest.mark.parametrize("mode,num_layers,bidirectional,masked,tbptt", CASES)
def test_matches_a_pytorch_reference_written_from_the_paper(mode, num_layers, bidirectional, masked, tbptt):
    rng = np.random.default_rng(abs(hash((mode, num_layers, bidirectional, masked, tbptt))) % 2**32)
    core = Recurrent(mode, I, H, num_layers=num_layers, bidirectional=bidirectional, dtype=np.float64, seed=3)
    spec = cell_spec(mode)
    D = core.num_directions
    S = spec.cell_state_size(H)
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((num_layers * D, B, H))
    c0 = rng.standard_normal((num_layers * D, B, S)) * 0.5 if spec.has_cell_state else None
    mask = lengths_mask([6, 3, 5], T) if masked else np.ones((T, B))
    d_output = rng.standard_normal((T, B, D * H))
    d_h_n = rng.standard_normal(h0.shape)
    d_c_n = None if c0 is None else rng.standard_normal(c0.shape)
    trace = core.forward(x, h0=(h0, c0) if c0 is not None else h0, mask=mask if masked else None)
    grads = core.backward(trace, d_output, d_h_n, d_c_n, tbptt=tbptt)

    params = {name: _t(value) for name, value in core.parameters().items()}
    x_t, h0_t = _t(x), _t(h0)
    c0_t = None if c0 is None else _t(c0)
    output, h_n, c_n = reference_run(mode, params, x_t, h0_t, c0_t, torch.tensor(mask), num_layers, D, tbptt)
    loss = (output * torch.tensor(d_output)).sum() + (h_n * torch.tensor(d_h_n)).sum()
    if c_n is not None:
        loss = loss + (c_n * torch.tensor(d_c_n)).sum()
    loss.backward()
    # both are float64 sums of the same products in another order: within the rounding of the small
    # network's count of operations (tests/tolerances.py, SMALL_NET)
    assert_same_maths(trace.output, output.detach().numpy(), err_msg="output")
    assert_same_maths(trace.h_n, h_n.detach().numpy(), err_msg="h_n")
    if c_n is not None:
        assert_same_maths(trace.c_n, c_n.detach().numpy(), err_msg="c_n")
        assert_same_maths(grads.d_c0, c0_t.grad.numpy(), err_msg="d_c0")
    assert_same_maths(grads.d_input, x_t.grad.numpy(), err_msg="d_input")
    assert_same_maths(grads.d_h0, h0_t.grad.numpy(), err_msg="d_h0")
    for name, tensor in params.items():
        assert_same_maths(grads.params[name], tensor.grad.numpy(), err_msg=name)


@pytest.mark.parametrize("mode,num_layers,bidirectional,masked",
                         list(itertools.product(CELLS, (1, 2), (False, True), (False, True))))
def test_backward_matches_finite_differences(mode, num_layers, bidirectional, masked):
    rng = np.random.default_rng(5)
    core = Recurrent(mode, 2, 3, num_layers=num_layers, bidirectional=bidirectional, dtype=np.float64, seed=9)
    spec = cell_spec(mode)
    D = core.num_directions
    states = (num_layers * D, 2, 3)
    cells = (num_layers * D, 2, spec.cell_state_size(3))
    x = rng.standard_normal((4, 2, 2))
    h0 = rng.standard_normal(states)
    c0 = rng.standard_normal(cells) if spec.has_cell_state else None
    mask = lengths_mask([4, 2], 4) if masked else None
    d_output = rng.standard_normal((4, 2, D * 3))
    d_h_n = rng.standard_normal(states)
    d_c_n = rng.standard_normal(cells) if spec.has_cell_state else None
    assert_core_gradients_match_finite_differences(core, x, h0, c0, mask, d_output, d_h_n, d_c_n, rng)


@pytest.mark.parametrize("mode", CELLS)
def test_one_textbook_step_backward_matches_finite_differences(mode):
    """d_h_prev, d_c_prev and d_x of one textbook step against central differences of
    L = sum(h R_h) + sum(c R_c)."""
    rng = np.random.default_rng(11)
    spec = cell_spec(mode)
    weights = layer_weights(Recurrent(mode, I, H, dtype=np.float64, seed=2).parameters(), 0, 0, mode=mode)
    x, h_prev = rng.standard_normal((B, I)), rng.standard_normal((B, H))
    S = spec.cell_state_size(H)
    c_prev = rng.standard_normal((B, S)) if spec.has_cell_state else None
    R_h, R_c = rng.standard_normal((B, H)), rng.standard_normal((B, S))

    def loss():
        state = step_forward(mode, weights, x, h_prev, c_prev)
        return float(np.sum(state.h * R_h) + (np.sum(state.c * R_c) if c_prev is not None else 0.0))

    grads = step_backward(mode, weights, step_forward(mode, weights, x, h_prev, c_prev), R_h,
                          R_c if c_prev is not None else None)
    checks = [(h_prev, grads.d_h_prev, "d_h_prev"), (x, grads.d_x, "d_x")]
    if c_prev is not None:
        checks.append((c_prev, grads.d_c_prev, "d_c_prev"))
    for array, analytic, name in checks:
        numeric = finite_difference(loss, array, np.arange(array.size))
        assert_matches_finite_differences(analytic.reshape(-1), numeric, loss(), err_msg=name)


# ----------------------------------------------------------------------------- loop and scan


@pytest.mark.parametrize("mode", CELLS)
@pytest.mark.parametrize("bidirectional,masked,tbptt", [(False, False, None), (True, True, 3)])
def test_the_scan_gives_the_loop_s_forward_and_backward(mode, bidirectional, masked, tbptt):
    rng = np.random.default_rng(4)
    steps = 37  # not a power of two: the scan's last level combines a partial block
    loop, scan = (Recurrent(mode, I, H, num_layers=2, bidirectional=bidirectional, dtype=np.float64, seed=6,
                            scan=flag) for flag in (False, True))
    x = rng.standard_normal((steps, B, I))
    mask = lengths_mask([37, 20, 9], steps) if masked else None
    d_output = rng.standard_normal((steps, B, loop.num_directions * H))
    results = []
    for core in (loop, scan):
        trace = core.forward(x, mask=mask)
        results.append((trace, core.backward(trace, d_output, tbptt=tbptt)))
    (trace, grads), (scan_trace, scan_grads) = results
    # the same sums of products grouped differently (scan.py: at most (2 log2 T + 1) roundings a term,
    # against the loop's 2 per step, damped by |a| < 1): far inside the small-network allowance
    roundings = 2**12
    assert_same_maths(scan_trace.output, trace.output, roundings, err_msg="output")
    for name, value in grads.params.items():
        assert_same_maths(scan_grads.params[name], value, roundings, err_msg=name)
    assert_same_maths(scan_grads.d_input, grads.d_input, roundings, err_msg="d_input")


def test_cells_that_cannot_scan_say_why():
    with pytest.raises(EngineError, match="LSTM cannot use the parallel scan.*nonlinearity"):
        Recurrent("lstm", 2, 3, scan=True)
    with pytest.raises(ModelConfigError, match="scan works for the linear recurrences"):
        ModelConfig("gru", input_size=2, hidden_size=3, output_size=1, scan=True)
    assert ModelConfig("lru", input_size=2, hidden_size=3, output_size=1, scan=True).scan


# ----------------------------------------------------------------------------- what the LRU's λ means


def test_lru_eigenvalues_lie_on_the_initialisation_ring_and_set_the_memory():
    from rnnviz.engine.cells.lru import MAX_PHASE, R_MAX, R_MIN

    core = Recurrent("lru", 2, 64, dtype=np.float64, seed=0)
    weights = layer_weights(core.parameters(), 0, 0, mode="lru")
    lam = cell_eigenvalues("lru", weights).eigenvalues["λ"]
    assert np.all((np.abs(lam) >= R_MIN) & (np.abs(lam) <= R_MAX))
    assert np.all((np.angle(lam) >= 0) & (np.angle(lam) <= MAX_PHASE))
    # ∂c_last/∂c_(last-lag) is diag(λ^lag) acting on [Re, Im] (a rotation times |λ|^lag per unit), so
    # its Frobenius norm is sqrt(2 Σ |λ|^(2 lag)) whatever the inputs: the memory is the eigenvalues
    small = Recurrent("lru", 2, 5, dtype=np.float64, seed=1)
    weights = layer_weights(small.parameters(), 0, 0, mode="lru")
    lam = cell_eigenvalues("lru", weights).eigenvalues["λ"]
    steps = 9
    result = lag_gradient_norms("lru", weights, np.random.default_rng(0).standard_normal((steps, 2)), np.zeros(5))
    expected = np.sqrt(2 * np.sum(np.abs(lam)[None, :] ** (2 * np.arange(steps)[:, None]), axis=1))
    # each lag multiplies by one complex λ (a few roundings): 9 lags stay within 1e-13 relative
    np.testing.assert_allclose(result.norms, expected, rtol=1e-13, atol=0)


def test_selective_decay_depends_on_the_input_and_the_lru_s_does_not():
    """The paper's point in one line each: Ā_t = exp(Δ_t A) changes with x_t; λ is the same at every step."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 2, I)) * 3
    selective = Recurrent("selective", I, H, dtype=np.float64, seed=0).forward(x).layer(0)
    lru = Recurrent("lru", I, H, dtype=np.float64, seed=0).forward(x).layer(0)
    decay = selective.cache["decay"]  # (T, B, H, N)
    assert np.ptp(decay, axis=0).max() > 1e-3  # varies over time
    assert np.ptp(np.broadcast_to(lru.cache["decay"], (5, 2, H)), axis=0).max() == 0.0
