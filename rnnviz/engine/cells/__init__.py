"""The registry of cell kinds: mode name -> cell object.

A cell object has ``name``, ``num_gates``, ``gate_names``, ``has_cell_state``, ``equations`` (the
PyTorch-doc equations, one string each) and two methods over one layer and direction of a padded
batch: ``forward(inputs, weights, h0, c0, layout, padded) -> LayerTrace`` and
``backward(trace, W_hh, d_from_output, d_h_last, d_c_last, cut) -> (LayerGradTrace, d_h0, d_c0)``.
Adding a cell kind is one module plus one line here.
"""
from __future__ import annotations

from rnnviz.engine.cells.gru import GRUCell
from rnnviz.engine.cells.lstm import LSTMCell
from rnnviz.engine.cells.rnn import RNNCell

CELLS = {
    "rnn_tanh": RNNCell("rnn_tanh", "tanh"),
    "rnn_relu": RNNCell("rnn_relu", "relu"),
    "lstm": LSTMCell(),
    "gru": GRUCell(),
}

__all__ = ["CELLS", "GRUCell", "LSTMCell", "RNNCell"]
