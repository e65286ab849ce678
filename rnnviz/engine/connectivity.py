"""Connectivity: how strongly the output at each timestep depends on the input at each earlier one.

For one sample, the output the head gives at timestep t (logits, O values) read from the top layer,

    y_t = W_out output_t + b_out                          (O,)

and its Jacobian with respect to the input at timestep t' (I values), summarised by its Frobenius norm

    C[t, t'] = || d y_t / d x_t' ||_F = sqrt( sum_{o, i} (d y_{t,o} / d x_{t',i})^2 )       (T, T)

This is the "connectivity" of Distill's "Visualizing memorization in RNNs" (Madsen, 2019): how far
back the output at t still listens. For a forward network C[t, t'] = 0 for t' > t. (A many-to-one task
reads the head once, at the end; C shows what the head would read at every t.)

One row of the Jacobian, d y_{t,o} / d x, is exactly BPTT with the output gradient 1 at (t, o) and
0 elsewhere, so the engine's own backward pass computes it. All rows are computed together by putting
them in the batch dimension: the sample is repeated once per (t, o) column, each column gets its own
output gradient, and one forward and one backward pass (in chunks of ``chunk`` columns, to bound the
trace's memory) give every row.
"""
from __future__ import annotations

import numpy as np

DEFAULT_CHUNK = 256  # columns (t, output row) per forward+backward pass


def output_input_jacobian_norms(model, inputs: np.ndarray, mask: np.ndarray | None = None,
                                chunk: int = DEFAULT_CHUNK, check=None, outputs=None) -> np.ndarray:
    """C (T, T): C[t, t'] = ||d y_t / d x_t'||_F for one sample's ``inputs`` (T, I) (module docstring).

    ``model`` is a SequenceModel; ``mask`` (T,) marks real steps (rows and columns of padded steps are
    NaN). ``check()``, when given, is called between chunks (a background job's cancellation point).
    ``outputs``: the output timesteps whose rows are computed (default: every real one); the other rows
    are NaN (a long sequence's picture needs only some of them).

    Fewer rows than outputs are needed: with the SVD W_out = U S V^T (U with orthonormal columns),
    ||W_out J||_F = ||S V^T J||_F for any J, so the rows of S V^T (at most min(O, D*H), the non-zero
    singular values) stand in for the O output units.
    """
    inputs, real = _prepared(model, inputs, mask)
    readout = _readout_rows(model.head.weight)  # (r, D*H)
    steps = inputs.shape[0]
    squared = np.zeros((steps, steps))  # (t, t') sum of squares over the rows and the input features
    rows = np.flatnonzero(real) if outputs is None else np.intersect1d(np.asarray(outputs, dtype=int),
                                                                       np.flatnonzero(real))
    for part, d_input in _chunks(model, inputs, real, readout, chunk, check, rows):  # d_input (T, C, I)
        per_column = np.sum(np.asarray(d_input, dtype=np.float64) ** 2, axis=-1)  # (T, C)
        np.add.at(squared, np.array([t for t, _ in part]), per_column.T)
    norms = np.sqrt(squared)
    skipped = np.ones(steps, dtype=bool)
    skipped[rows] = False
    norms[skipped, :] = np.nan
    norms[~real, :] = np.nan
    norms[:, ~real] = np.nan
    return norms


def output_input_jacobian(model, inputs: np.ndarray, mask: np.ndarray | None = None,
                          chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """The whole Jacobian J (T, O, T, I): J[t, o, t', i] = d y_{t,o} / d x_{t',i} (zero rows at padded t).
    T^2 O I numbers: for small networks and tests; the views use the norms."""
    inputs, real = _prepared(model, inputs, mask)
    weight = model.head.weight  # (O, D*H): one row per output unit
    steps, features = inputs.shape
    jacobian = np.zeros((steps, weight.shape[0], steps, features))
    for part, d_input in _chunks(model, inputs, real, weight, chunk, None, np.flatnonzero(real)):
        for c, (t, o) in enumerate(part):
            jacobian[t, o] = d_input[:, c]
    return jacobian


def _prepared(model, inputs: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The inputs in the model's dtype and the real steps (T,) bool."""
    inputs = np.asarray(inputs, dtype=model.dtype)
    real = np.ones(inputs.shape[0], dtype=bool) if mask is None else np.asarray(mask) > 0
    return inputs, real


def _readout_rows(weight: np.ndarray) -> np.ndarray:
    """S V^T of the head's W_out = U S V^T, rows of non-zero singular values: (r, D*H), r <= min(O, D*H)."""
    if not np.all(np.isfinite(weight)):
        return weight  # a diverged head: its own rows (the norms come out NaN, as they are)
    try:
        _, singular, vt = np.linalg.svd(np.asarray(weight, dtype=np.float64), full_matrices=False)
    except np.linalg.LinAlgError:
        return weight
    keep = singular > 0
    return (singular[keep, None] * vt[keep]).astype(weight.dtype)


def _chunks(model, inputs, real, readout: np.ndarray, chunk: int, check, outputs: np.ndarray):
    """(columns (t, row) of the chunk, their input gradients (T, C, I)) for t in ``outputs`` (ascending),
    ``chunk`` columns at a time, in order of t (a forward network's chunk needs only the steps up to its
    last t)."""
    columns = [(int(t), row) for t in outputs for row in range(readout.shape[0])]
    for start in range(0, len(columns), chunk):
        if check is not None:
            check()
        part = columns[start:start + chunk]
        yield part, _input_gradients(model, inputs, real, part, readout)


def _input_gradients(model, inputs: np.ndarray, real: np.ndarray, columns: list[tuple[int, int]],
                     readout: np.ndarray) -> np.ndarray:
    """d (readout[row] . output_t) / d x (T, C, I) for each column (t, row): BPTT with d output_t =
    readout[row] at step t only. A forward network's output at t does not depend on later steps, so only
    the steps up to the chunk's last t are run (the rest of the gradient is exactly zero)."""
    count, steps = len(columns), inputs.shape[0]
    used = steps if model.config.bidirectional else max(t for t, _ in columns) + 1
    batch = np.repeat(inputs[:used, None, :], count, axis=1)  # (T_used, C, I)
    mask = np.repeat(real[:used, None], count, axis=1).astype(model.dtype)  # (T_used, C)
    trace = model.core.forward(batch, mask=None if real[:used].all() else mask)
    d_output = np.zeros(trace.output.shape, dtype=model.dtype)  # (T_used, C, D*H)
    times = np.array([t for t, _ in columns])
    rows = np.array([row for _, row in columns])
    d_output[times, np.arange(count)] = readout[rows]  # d (r . output_t) / d output_t = r
    d_input = np.zeros((steps, count, inputs.shape[1]), dtype=model.dtype)
    d_input[:used] = model.core.backward(trace, d_output).d_input
    return d_input


def reach(norms: np.ndarray, fraction: float = 0.01) -> np.ndarray:
    """(T,) for each output step t, how many steps back the connectivity stays at or above ``fraction`` of
    its largest value over t' <= t: t - (the earliest t' with C[t, t'] >= fraction * max_t' C[t, t']).
    NaN for padded steps, a row that is all zero, and a row with an infinite value (a diverged network)."""
    steps = norms.shape[0]
    result = np.full(steps, np.nan)
    for t in range(steps):
        row = norms[t, : t + 1]
        if not np.isfinite(row).any() or np.isinf(row).any():
            continue
        top = np.nanmax(row)
        if top <= 0:
            continue
        above = np.flatnonzero(np.nan_to_num(row, nan=0.0) >= fraction * top)
        result[t] = t - above[0]
    return result
