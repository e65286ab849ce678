"""The maths: a NumPy recurrent engine that mirrors PyTorch's nn.RNN / nn.LSTM / nn.GRU.

    core = Recurrent(mode, input_size, hidden_size, num_layers=1, bidirectional=False)   # mode: a cell name
    trace = core.forward(x, h0=None, mask=None)      # RecurrentTrace
    grads = core.backward(trace, d_output, d_h_n=None, d_c_n=None, tbptt=None)   # RecurrentGrads

The cell kinds are registered in ``rnnviz.engine.cells`` (``cell_names()``, ``cell_spec(name)``).
"""
from rnnviz.engine.cells import CELLS, cell_names, cell_spec, cell_specs
from rnnviz.engine.errors import EngineError
from rnnviz.engine.recurrent import PARAM_KINDS, Recurrent, param_name
from rnnviz.engine.trace import (
    LayerGradTrace,
    LayerTrace,
    RecurrentGrads,
    RecurrentTrace,
)

__all__ = [
    "CELLS",
    "PARAM_KINDS",
    "EngineError",
    "LayerGradTrace",
    "LayerTrace",
    "Recurrent",
    "RecurrentGrads",
    "RecurrentTrace",
    "cell_names",
    "cell_spec",
    "cell_specs",
    "param_name",
]
