"""How much memory training a network takes, estimated before anything is allocated, and how much
this machine lets rnnviz use.

Training keeps the whole forward trace of a batch alive while BPTT runs over it, so memory grows
with timesteps x batch x hidden units x layers x directions. Every array a step holds is one of
three kinds:

- per timestep and sample, per layer and direction: the trace (pre-activations, gates, hidden and
  cell states, their previous values) and the gradient trace (dL/dh from the output and from the
  next step, dL/d pre-activation): ``TRACE_VALUES_PER_GATE`` values per gate block and hidden unit,
  and ``LAYER_INPUT_VALUES`` per input feature of the layer (its input and dL/d input); the time
  loop's work buffers, reused from layer to layer, add ``WORK_VALUES_PER_GATE`` per gate block and
  hidden unit once;
- per timestep and sample at the model's ends: the task's float64 inputs, targets and mask, the
  cast and masked copies, logits, predictions and their gradients (``END_VALUES_PER_FEATURE``);
- per parameter: the weights, their gradients, the copy a trace keeps, the copy a step keeps to roll
  back a non-finite update, and the optimizer's buffers twice (live and the roll-back copy).

The constants are upper bounds read off the engine's allocations (tracemalloc peaks of a training
step plus an inspection, for every cell kind, float32 and float64, 1-4 layers, uni- and
bidirectional, small and large inputs): ``tests/engine/test_memory.py`` checks on every run that
the estimate stays above the measured peak and within a small factor of it, so a change to the
engine that allocates more fails there instead of on a user's machine.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

BUDGET_ENV = "RNNVIZ_MEMORY_BUDGET"  # bytes (suffixes K, M, G allowed): overrides the budget, for tests
BUDGET_FRACTION = 0.8  # of the memory available when the check runs
FALLBACK_AVAILABLE = 4 << 30  # when the system does not say how much is available

# measured per hidden unit, timestep and sample (tracemalloc, float64): the first layer and direction
# RNN 8.4, GRU 30.6, LSTM 36.2; each further one RNN ~8, GRU ~25, LSTM ~22 (work buffers are reused)
TRACE_VALUES_PER_GATE = 9  # kept per gate block, hidden unit, timestep, sample, layer and direction
WORK_VALUES_PER_GATE = 3  # the time loop's work buffers, per gate block and hidden unit, once
LAYER_INPUT_VALUES = 4  # per input feature of a layer, timestep, sample and direction
END_VALUES_PER_FEATURE = 3  # float64-sized values per input/output feature, timestep and sample
PARAM_COPIES = 5  # weights, gradients, the trace's copy, the roll-back copy, the saved copy
FIXED_OVERHEAD = 16 << 20  # interpreter-side buffers, small temporaries, the view batch's extras


@dataclass(frozen=True)
class NetworkShape:
    """The sizes that decide how much memory one training step takes."""

    seq_len: int
    batch_size: int
    input_size: int
    hidden_size: int
    output_size: int
    num_layers: int = 1
    num_directions: int = 1
    num_gates: int = 1  # gate blocks per cell: 1 RNN, 3 GRU, 4 LSTM
    itemsize: int = 4  # bytes per value: 4 float32, 8 float64
    optimizer_buffers: int = 0  # per-parameter state arrays (Adam 2, SGD momentum 1)

    def parameter_count(self) -> int:
        gates_hidden = self.num_gates * self.hidden_size
        count = 0
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.num_directions * self.hidden_size
            count += self.num_directions * gates_hidden * (layer_input + self.hidden_size + 2)
        features = self.num_directions * self.hidden_size
        return count + self.output_size * (features + 1)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one training step needs, by what needs them."""

    traces: int  # forward and backward traces of the training batch
    parameters: int  # weights, gradients, copies and optimizer state
    other: int  # the view batch's inspection, fixed overhead and what the caller adds (history, saves)

    @property
    def total(self) -> int:
        return self.traces + self.parameters + self.other


def trace_bytes(shape: NetworkShape, batch_size: int | None = None) -> int:
    """Bytes the forward and backward traces of one batch take (``batch_size`` overrides the shape's)."""
    batch = shape.batch_size if batch_size is None else batch_size
    steps = shape.seq_len * batch  # timestep x sample pairs
    gates_hidden = shape.num_gates * shape.hidden_size
    values = WORK_VALUES_PER_GATE * gates_hidden
    for layer in range(shape.num_layers):
        layer_input = shape.input_size if layer == 0 else shape.num_directions * shape.hidden_size
        values += shape.num_directions * (TRACE_VALUES_PER_GATE * gates_hidden + LAYER_INPUT_VALUES * layer_input)
    ends = END_VALUES_PER_FEATURE * (shape.input_size + shape.output_size + 1) * 8  # float64 bytes
    return steps * (values * shape.itemsize + ends)


def training_estimate(shape: NetworkShape, view_batch: int = 0, extra_bytes: int = 0) -> MemoryEstimate:
    """Bytes a training step on ``shape`` takes, plus an inspection of a ``view_batch`` of samples
    (what the panels show) and ``extra_bytes`` the caller knows of (history, a save)."""
    params = shape.parameter_count() * shape.itemsize * (PARAM_COPIES + 2 * shape.optimizer_buffers)
    view = trace_bytes(shape, view_batch) if view_batch else 0
    return MemoryEstimate(traces=trace_bytes(shape), parameters=params,
                          other=view + FIXED_OVERHEAD + int(extra_bytes))


def available_bytes() -> int:
    """Memory the system can give this process now: MemAvailable on Linux, free physical pages
    elsewhere, ``FALLBACK_AVAILABLE`` when neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_AVAILABLE


def memory_budget() -> int:
    """Bytes rnnviz may plan to use: ``$RNNVIZ_MEMORY_BUDGET`` if set, else a fraction of what is
    available now."""
    override = os.environ.get(BUDGET_ENV, "").strip()
    if override:
        parsed = parse_bytes(override)
        if parsed is not None:
            return parsed
    return int(BUDGET_FRACTION * available_bytes())


def parse_bytes(text: str) -> int | None:
    """``"512M"`` -> 536870912; None if ``text`` is not a positive size."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in units else ""
    number = text[: len(text) - len(unit)].strip()
    try:
        value = float(number)
    except ValueError:
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return int(value * units[unit])


def format_bytes(size: float) -> str:
    """1536 -> '1.5 KiB'; the largest binary unit that keeps the number at least 1."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            if abs(size) >= 1e6:  # an absurd request (an n-gram of a large window): say it in powers of ten
                return f"{size:.1e} {unit}"
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
