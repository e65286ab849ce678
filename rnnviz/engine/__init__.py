"""The maths: a NumPy recurrent engine that mirrors PyTorch's nn.RNN / nn.LSTM / nn.GRU.

    core = Recurrent("lstm", input_size, hidden_size, num_layers=1, bidirectional=False)
    trace = core.forward(x, h0=None, mask=None)      # RecurrentTrace
    grads = core.backward(trace, d_output, d_h_n=None, d_c_n=None, tbptt=None)   # RecurrentGrads
"""
from rnnviz.engine.cells import CELLS
from rnnviz.engine.recurrent import MODES, PARAM_KINDS, EngineError, Recurrent, param_name
from rnnviz.engine.trace import (
    LayerGradTrace,
    LayerTrace,
    RecurrentGrads,
    RecurrentTrace,
)

__all__ = [
    "CELLS",
    "MODES",
    "PARAM_KINDS",
    "EngineError",
    "LayerGradTrace",
    "LayerTrace",
    "Recurrent",
    "RecurrentGrads",
    "RecurrentTrace",
    "param_name",
]
