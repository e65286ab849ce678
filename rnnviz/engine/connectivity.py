"""Connectivity: how strongly the output at each timestep depends on the input at each earlier one.

For one sample, the output the head gives at timestep t (logits, O values) read from the top layer,

    y_t = W_out output_t + b_out                          (O,)

and its Jacobian with respect to the input at timestep t' (I values), summarised by its Frobenius norm

    C[t, t'] = || d y_t / d x_t' ||_F = sqrt( sum_{o, i} (d y_{t,o} / d x_{t',i})^2 )       (T, T)

This is the "connectivity" of Distill's "Visualizing memorization in RNNs" (Madsen, 2019): how far
back the output at t still listens. For a forward network C[t, t'] = 0 for t' > t. (A many-to-one task
reads the head once, at the end; C shows what the head would read at every t.)

One row of the Jacobian, d y_{t,o} / d x, is exactly BPTT with the output gradient 1 at (t, o) and
0 elsewhere, so the engine's own backward pass computes it. All T x O rows are computed together by
putting them in the batch dimension: the sample is repeated once per (t, o) column, each column gets
its own one-hot output gradient, and one forward and one backward pass (in chunks of ``chunk``
columns, to bound the trace's memory) give every row.
"""
from __future__ import annotations

import numpy as np

DEFAULT_CHUNK = 256  # columns (t, o) per forward+backward pass


def output_input_jacobian_norms(model, inputs: np.ndarray, mask: np.ndarray | None = None,
                                chunk: int = DEFAULT_CHUNK, check=None) -> np.ndarray:
    """C (T, T): C[t, t'] = ||d y_t / d x_t'||_F for one sample's ``inputs`` (T, I) (module docstring).

    ``model`` is a SequenceModel; ``mask`` (T,) marks real steps (rows and columns of padded steps are
    NaN). ``check()``, when given, is called between chunks (a background job's cancellation point).
    """
    inputs, real, columns = _columns(model, inputs, mask)
    steps = inputs.shape[0]
    squared = np.zeros((steps, steps))  # (t, t') sum of squares over o and i
    for part, d_input in _chunks(model, inputs, real, columns, chunk, check):  # d_input (T', C, I)
        per_column = np.sum(np.asarray(d_input, dtype=np.float64) ** 2, axis=-1)  # (T', C)
        np.add.at(squared, np.array([t for t, _ in part]), per_column.T)
    norms = np.sqrt(squared)
    norms[~real, :] = np.nan
    norms[:, ~real] = np.nan
    return norms


def output_input_jacobian(model, inputs: np.ndarray, mask: np.ndarray | None = None,
                          chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """The whole Jacobian J (T, O, T, I): J[t, o, t', i] = d y_{t,o} / d x_{t',i} (zero rows at padded t).
    T^2 O I numbers: for small networks and tests; the views use the norms."""
    inputs, real, columns = _columns(model, inputs, mask)
    steps, features = inputs.shape
    jacobian = np.zeros((steps, model.head.weight.shape[0], steps, features))
    for part, d_input in _chunks(model, inputs, real, columns, chunk, None):
        for c, (t, o) in enumerate(part):
            jacobian[t, o] = d_input[:, c]
    return jacobian


def _columns(model, inputs: np.ndarray, mask: np.ndarray | None):
    """The inputs in the model's dtype, the real steps (T,) and every column (t, o) at a real step."""
    inputs = np.asarray(inputs, dtype=model.dtype)
    real = np.ones(inputs.shape[0], dtype=bool) if mask is None else np.asarray(mask) > 0
    outputs = model.head.weight.shape[0]
    return inputs, real, [(int(t), o) for t in np.flatnonzero(real) for o in range(outputs)]


def _chunks(model, inputs, real, columns, chunk: int, check):
    """(columns of the chunk, their input gradients (T, C, I)), ``chunk`` columns at a time."""
    for start in range(0, len(columns), chunk):
        if check is not None:
            check()
        part = columns[start:start + chunk]
        yield part, _input_gradients(model, inputs, real, part, model.head.weight)


def _input_gradients(model, inputs: np.ndarray, real: np.ndarray, columns: list[tuple[int, int]],
                     weight: np.ndarray) -> np.ndarray:
    """d y_{t,o} / d x (T, C, I) for each column (t, o): BPTT with d output_t = W_out[o] at step t only."""
    count = len(columns)
    batch = np.repeat(inputs[:, None, :], count, axis=1)  # (T, C, I)
    mask = np.repeat(real[:, None], count, axis=1).astype(model.dtype)  # (T, C)
    trace = model.core.forward(batch, mask=None if real.all() else mask)
    d_output = np.zeros(trace.output.shape, dtype=model.dtype)  # (T, C, D*H)
    times = np.array([t for t, _ in columns])
    units = np.array([o for _, o in columns])
    d_output[times, np.arange(count)] = weight[units]  # d y_{t,o} / d output_t = W_out[o]
    return model.core.backward(trace, d_output).d_input


def reach(norms: np.ndarray, fraction: float = 0.01) -> np.ndarray:
    """(T,) for each output step t, how many steps back the connectivity stays at or above ``fraction`` of
    its largest value over t' <= t: t - (the earliest t' with C[t, t'] >= fraction * max_t' C[t, t']).
    NaN for padded steps or a row that is all zero."""
    steps = norms.shape[0]
    result = np.full(steps, np.nan)
    for t in range(steps):
        row = norms[t, : t + 1]
        if not np.isfinite(row).any():
            continue
        top = np.nanmax(row)
        if top <= 0:
            continue
        above = np.flatnonzero(np.nan_to_num(row) >= fraction * top)
        result[t] = t - above[0]
    return result
