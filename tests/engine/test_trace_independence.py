"""Traces own their arrays: running the core again (which reuses work buffers) changes no earlier
trace or gradient trace."""
import numpy as np
import pytest

from rnnviz.engine import Recurrent


def _arrays(obj) -> dict[str, np.ndarray]:
    out = {}
    for key, value in vars(obj).items():
        if isinstance(value, np.ndarray):
            out[key] = value.copy()
        elif isinstance(value, dict):
            out.update({f"{key}.{k}": v.copy() for k, v in value.items() if isinstance(v, np.ndarray)})
    return out


@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_later_calls_leave_earlier_traces_unchanged(mode, bidirectional):
    core = Recurrent(mode, 3, 5, num_layers=2, bidirectional=bidirectional, dtype=np.float64, seed=1)
    rng = np.random.default_rng(0)
    T, B, D = 7, 4, 2 if bidirectional else 1
    mask = np.ones((T, B))
    mask[5:, 1] = 0
    trace = core.forward(rng.standard_normal((T, B, 3)), mask=mask)
    grads = core.backward(trace, rng.standard_normal((T, B, 5 * D)), tbptt=3)
    layers = [(trace.layer(l, d), grads.layer(l, d)) for l in range(2) for d in range(D)]
    before = [(_arrays(f), _arrays(g)) for f, g in layers]
    params = {k: v.copy() for k, v in grads.params.items()}
    for _ in range(2):
        again = core.forward(rng.standard_normal((T, B, 3)))
        core.backward(again, rng.standard_normal((T, B, 5 * D)))
    for (forward, backward), (forward_before, backward_before) in zip(layers, before):
        for now, then in ((_arrays(forward), forward_before), (_arrays(backward), backward_before)):
            for key, value in then.items():
                np.testing.assert_array_equal(now[key], value, err_msg=key)
    for name, value in params.items():
        np.testing.assert_array_equal(grads.params[name], value, err_msg=name)
