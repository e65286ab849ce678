"""The recurrent core: a stack of layers of one registered cell kind (rnnviz.engine.cells), uni- or
bidirectional, like PyTorch's nn.RNN / nn.LSTM / nn.GRU (sequence-first, same parameter names, shapes,
equations and init). Cells outside PyTorch (minGRU, minLSTM, LRU, selective) name their parameters
``<kind>_l<layer>[_reverse]`` after their own layout (``CellSpec.layout``).

Layer k > 0 takes the previous layer's output (T, B, D*H). The reverse direction runs from
t = T-1 down to 0; the output concatenates [forward, reverse] on the last axis and h_n is ordered
[layer 0 forward, layer 0 reverse, layer 1 forward, ...].

Padding (``mask[t, b] == 0``, only at the end of a sequence) changes nothing: the state is carried
through it, the output there is 0 and it contributes nothing to any gradient. This matches
``pack_padded_sequence``.
"""
from __future__ import annotations

from functools import partial
from typing import Mapping

import numpy as np

from rnnviz.engine.cells import cell_spec, cell_specs
from rnnviz.engine.cells.base import stacked_accumulate
from rnnviz.engine.errors import EngineError
from rnnviz.engine.trace import LayerGradTrace, LayerTrace, RecurrentGrads, RecurrentTrace, TimeLayout

PARAM_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # the stacked layout (PyTorch's cells)

__all__ = ["PARAM_KINDS", "EngineError", "Recurrent", "param_name"]


def param_name(kind: str, layer: int, direction: int) -> str:
    """PyTorch's parameter name, e.g. ``weight_hh_l1_reverse``."""
    return f"{kind}_l{layer}" + ("_reverse" if direction == 1 else "")


class Recurrent:
    """A multi-layer recurrent core with PyTorch's parameters and a NumPy forward/backward."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dtype=np.float32,
        seed: int | None = None,
        scan: bool = False,
    ) -> None:
        """``scan``: compute the recurrence with the associative scan of rnnviz/engine/scan.py (cells
        whose recurrence is linear in the state, ``CellSpec.scannable``) instead of a loop over time."""
        spec = cell_spec(mode)
        if scan and not spec.scannable:
            raise EngineError(f"{spec.title} cannot use the parallel scan: its state enters a nonlinearity "
                              f"(h_t is not a_t ⊙ h_(t-1) + b_t); only "
                              f"{', '.join(s.name for s in cell_specs() if s.scannable)} can")
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size),
                             ("num_layers", num_layers)):
            if int(value) != value or value < 1:
                raise EngineError(f"{label} must be a whole number >= 1, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise EngineError(f"dtype must be float32 or float64, got {dtype}")
        self.mode = mode
        self.cell = spec  # the CellSpec: gates, layout, kernels
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        self.dtype = dtype
        self.scan = bool(scan)
        self._params: dict[str, np.ndarray] = {
            name: np.empty(shape, dtype=dtype) for name, shape in self.param_shapes().items()
        }
        self.reset_parameters(seed)

    # ----- parameters -------------------------------------------------------------------------

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """name -> shape, in PyTorch's order: per layer, per direction, the cell's layout (W_ih, W_hh,
        b_ih, b_hh for the stacked-gate cells)."""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(self.num_layers):
            layout = self.cell.layout(self.layer_input_size(layer), self.hidden_size)
            for direction in range(self.num_directions):
                shapes.update({param_name(kind, layer, direction): shape for kind, shape in layout.items()})
        return shapes

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.hidden_size

    def reset_parameters(self, seed: int | None = None) -> None:
        """The cell's default init (PyTorch's: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)))."""
        self.cell.default_init(self._params, self.hidden_size, np.random.default_rng(seed))

    def parameters(self) -> dict[str, np.ndarray]:
        """The live parameter arrays by name; an optimizer updates them in place."""
        return self._params

    def num_params(self) -> int:
        return int(sum(a.size for a in self._params.values()))

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: array.copy() for name, array in self._params.items()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Copy ``state`` (PyTorch names and shapes; arrays or tensors) into the parameters,
        casting to the core's dtype. Nothing is changed unless every key and shape fits."""
        shapes = self.param_shapes()
        missing = [k for k in shapes if k not in state]
        extra = [k for k in state if k not in shapes]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected keys {', '.join(map(str, extra))}")
            raise EngineError(
                f"state dict does not fit this {self.describe()}: {'; '.join(parts)}"
            )
        arrays = {}
        for name, shape in shapes.items():
            value = state[name]
            if hasattr(value, "detach"):  # a torch tensor
                value = value.detach().cpu().numpy()
            array = np.asarray(value)
            if array.shape != shape:
                raise EngineError(
                    f"state dict entry {name} has shape {array.shape}, this {self.describe()} "
                    f"needs {shape}"
                )
            arrays[name] = array
        for name, array in arrays.items():
            self._params[name][...] = array.astype(self.dtype, copy=False)

    def describe(self) -> str:
        kind = "bidirectional " if self.bidirectional else ""
        return (f"{kind}{self.mode} core (input {self.input_size}, hidden {self.hidden_size}, "
                f"{self.num_layers} layer{'s' if self.num_layers > 1 else ''})")

    def _layer_weights(self, layer: int, direction: int, weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """kind -> array of one layer and direction, in the cell's layout order."""
        return {kind: weights[param_name(kind, layer, direction)] for kind in self.cell.param_kinds()}

    def _kernel_options(self) -> dict[str, bool]:
        """Keyword options for the kernel: ``scan=True`` only when asked for (kernels of cells that
        cannot scan, and compiled kernels, take no options)."""
        return {"scan": True} if self.scan else {}

    # ----- forward ----------------------------------------------------------------------------

    def forward(self, x, h0=None, mask=None) -> RecurrentTrace:
        """x (T, B, I); h0 (L*D, B, H) or, for a cell with a cell state, a tuple (h0, c0) (either may be None);
        mask (T, B) 1 real / 0 padding, padding only at the end of each sequence."""
        x = self._as_array(x, "x")
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[0] < 1 or x.shape[1] < 1:
            raise EngineError(
                f"x must have shape (timesteps, batch, {self.input_size}), got {x.shape}"
            )
        T, B, _ = x.shape
        real = self._check_mask(mask, T, B)
        padded = None if real is None else (real == 0)[:, :, None]  # (T, B, 1)
        if real is not None:
            x = x * real[:, :, None]  # padded inputs cannot leak into anything
        h_init, c_init = self._initial_states(h0, B)
        weights = self.state_dict()  # the values this trace was computed with
        H, D = self.hidden_size, self.num_directions
        layers: list[list[LayerTrace]] = []
        kernel = self.cell.active_kernel
        layer_input = x
        h_n = np.empty((self.num_layers * D, B, H), dtype=self.dtype)
        c_n = np.empty(self._cell_state_shape(B), dtype=self.dtype) if self.cell.has_cell_state else None
        options = self._kernel_options()
        for layer in range(self.num_layers):
            output = np.empty((T, B, D * H), dtype=self.dtype)
            traces = []
            for direction in range(D):
                k = layer * D + direction
                trace = kernel.forward(
                    layer_input, tuple(self._layer_weights(layer, direction, weights).values()), h_init[k],
                    None if c_init is None else c_init[k], TimeLayout(T, direction == 1), padded, **options,
                )
                trace.layer, trace.mask = layer, real
                output[:, :, direction * H:(direction + 1) * H] = trace.hidden
                h_n[k] = trace.final_hidden
                if c_n is not None:
                    c_n[k] = trace.final_cell_state
                traces.append(trace)
            if real is not None:
                output *= real[:, :, None]
            layers.append(traces)
            layer_input = output
        return RecurrentTrace(mode=self.mode, output=layer_input, h_n=h_n, c_n=c_n,
                              layers=layers, mask=real, weights=weights)

    __call__ = forward

    # ----- backward ---------------------------------------------------------------------------

    def backward(self, trace: RecurrentTrace, d_output, d_h_n=None, d_c_n=None,
                 tbptt: int | None = None) -> RecurrentGrads:
        """BPTT through ``trace`` given dL/d output (T, B, D*H), optionally dL/dh_n (L*D, B, H) and dL/dc_n
        (L*D, B, S); ``tbptt=k`` cuts the recurrent gradient between chunks [0,k), [k,2k), ..."""
        T, B = trace.seq_len, trace.batch_size
        H, D, L = self.hidden_size, self.num_directions, self.num_layers
        d_out = self._as_array(d_output, "d_output")
        if d_out.shape != trace.output.shape:
            raise EngineError(f"d_output must have the output's shape {trace.output.shape}, "
                              f"got {d_out.shape}")
        d_h_n = self._optional_state(d_h_n, "d_h_n", B)
        if d_c_n is not None and not self.cell.has_cell_state:
            raise EngineError(f"d_c_n is only for cells with a cell state; this core is {self.mode}")
        d_c_n = self._optional_state(d_c_n, "d_c_n", B, cell=True)
        if tbptt is not None and (int(tbptt) != tbptt or tbptt < 1):
            raise EngineError(f"tbptt must be a whole number of timesteps >= 1, got {tbptt!r}")
        if trace.mask is not None:
            d_out = d_out * trace.mask[:, :, None]
        weights = trace.weights
        params = {name: np.zeros_like(array) for name, array in weights.items()}
        d_h0 = np.empty((L * D, B, H), dtype=self.dtype)
        d_c0 = np.empty(self._cell_state_shape(B), dtype=self.dtype) if self.cell.has_cell_state else None
        grad_layers: list[list[LayerGradTrace]] = [[] for _ in range(L)]
        kernel = self.cell.active_kernel
        options = self._kernel_options()
        # the stacked cells compute the first layer's input gradient only when it is read
        # (RecurrentGrads.d_input): training never does, and its skinny matmul was ~8% of a
        # forward + backward pass at small input sizes (measured here)
        deferred = self.cell.accumulate is stacked_accumulate
        for layer in reversed(range(L)):
            d_input = None if layer == 0 and deferred else np.zeros(
                (T, B, self.layer_input_size(layer)), dtype=self.dtype)
            for direction in range(D):
                k = layer * D + direction
                forward_trace = trace.layers[layer][direction]
                layer_weights = self._layer_weights(layer, direction, weights)
                grads, d_h0[k], d_c0_k = kernel.backward(
                    forward_trace, layer_weights.get("weight_hh"),
                    np.ascontiguousarray(d_out[:, :, direction * H:(direction + 1) * H]),
                    None if d_h_n is None else d_h_n[k], None if d_c_n is None else d_c_n[k],
                    TimeLayout(T, direction == 1).recurrence_cut(tbptt), **options,
                )
                if d_c0 is not None:
                    d_c0[k] = d_c0_k
                out = {kind: params[param_name(kind, layer, direction)] for kind in layer_weights}
                self.cell.accumulate(forward_trace, grads, layer_weights, out, d_input)
                grad_layers[layer].append(grads)
            d_out = d_input
        if deferred:
            first = [(grads.d_preact, self._layer_weights(0, direction, weights)["weight_ih"])
                     for direction, grads in enumerate(grad_layers[0])]
            input_gradient = partial(_input_gradient, first)
        else:
            input_gradient = partial(_given, d_out)
        return RecurrentGrads(params=params, d_h0=d_h0, d_c0=d_c0, layers=grad_layers,
                              input_gradient=input_gradient)

    # ----- checks -----------------------------------------------------------------------------

    def _as_array(self, value, label: str) -> np.ndarray:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        try:
            array = np.asarray(value, dtype=self.dtype)
        except (TypeError, ValueError):
            raise EngineError(f"{label} must be an array of numbers") from None
        return array

    def _check_mask(self, mask, T: int, B: int) -> np.ndarray | None:
        if mask is None:
            return None
        real = self._as_array(mask, "mask")
        if real.shape != (T, B):
            raise EngineError(f"mask must have shape (timesteps, batch) = {(T, B)}, got {real.shape}")
        if not np.all((real == 0) | (real == 1)):
            raise EngineError("mask must hold only 1 (real timestep) and 0 (padding)")
        if np.any(real[1:] > real[:-1]):
            raise EngineError("mask has padding before a real timestep; padding must be at the end "
                              "of each sequence")
        return real

    def _state_shape(self, B: int) -> tuple[int, int, int]:
        return (self.num_layers * self.num_directions, B, self.hidden_size)

    def _cell_state_shape(self, B: int) -> tuple[int, int, int]:
        return (self.num_layers * self.num_directions, B, self.cell.cell_state_size(self.hidden_size))

    def _optional_state(self, value, label: str, B: int, cell: bool = False) -> np.ndarray | None:
        if value is None:
            return None
        array = self._as_array(value, label)
        shape, size = (self._cell_state_shape(B), "cell state size") if cell else (self._state_shape(B), "hidden")
        if array.shape != shape:
            raise EngineError(f"{label} must have shape (layers*directions, batch, {size}) = "
                              f"{shape}, got {array.shape}")
        return array

    def _initial_states(self, h0, B: int) -> tuple[np.ndarray, np.ndarray | None]:
        c0 = None
        if self.cell.has_cell_state and h0 is not None:
            if not isinstance(h0, (tuple, list)) or len(h0) != 2:
                raise EngineError(f"for {self.mode}, h0 must be a tuple (h0, c0) (either may be None)")
            h0, c0 = h0
        h0 = np.zeros(self._state_shape(B), dtype=self.dtype) if h0 is None else self._optional_state(h0, "h0", B)
        if self.cell.has_cell_state:
            c0 = (np.zeros(self._cell_state_shape(B), dtype=self.dtype) if c0 is None
                  else self._optional_state(c0, "c0", B, cell=True))
        return h0, c0


def _input_gradient(directions: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Σ over directions of d_preact (T, B, G*H) @ W_ih (G*H, I): dL/d inputs (T, B, I)."""
    return sum(d_preact @ W_ih for d_preact, W_ih in directions)


def _given(array: np.ndarray) -> np.ndarray:
    return array
