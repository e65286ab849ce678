"""What each panel's "?" button says: two sentences, what the panel shows and what to look for.

Keyed by the panel's ``name``; a panel without an entry gets ``FALLBACK``. Plain text, no markup.
"""
from __future__ import annotations

HELP_TEXTS: dict[str, str] = {
    "loss": "The training loss after every step, and the loss on the fixed held-out samples the other panels "
            "show. Look for a falling curve; a flat one means the network is stuck, and a spike that does "
            "not come down means it diverged (try clipping or a smaller learning rate).",
    "hidden": "The hidden state h_t of every unit (rows) at every timestep (columns) for one sample, with "
              "the input sequence underneath on the same time axis. Look for units that change where the "
              "input does something important and then hold their value: that is the network remembering.",
    "gates": "Every gate of the cell for every unit and timestep: near 1 a gate lets its signal through, "
             "near 0 it blocks it. Look at the gate that carries memory (the LSTM's forget gate, the GRU's "
             "update gate): where it stays near 1, what was stored survives to later timesteps.",
    "gradients": "How large the gradient of the loss with respect to the memory state is at each timestep "
                 "(log scale), as backpropagation through time carries it back from the end. A curve that "
                 "falls steeply to the left means early inputs get almost no learning signal: the gradient "
                 "vanishes.",
    "weights": "The weight matrices of the selected layer (input-to-hidden, hidden-to-hidden, biases, the "
               "output head), one row per gate block and unit; the toggle shows their gradients instead. "
               "Look for structure appearing as it trains, and double-click any entry to try another value.",
    "predictions": "What the network outputs for the selected sample against the target, per timestep "
                   "(or once at the end for a many-to-one task). Look at where the prediction goes wrong, "
                   "then hover the same timestep in the other panels to see why.",
    "unrolled": "The network unrolled in time: one box per timestep, layer and direction, with the inputs "
                "below and the outputs above; the stepped row fills in as you step. Click a box to move "
                "the cursor there and watch the equations and BPTT panels follow it.",
    "equations": "The cell's equations with the real numbers of the selected timestep plugged in, for one "
                 "unit, and every vector the step reads and writes as a small heatmap. Check that the "
                 "numbers really add up, and watch the gates decide what the new state is.",
    "bptt": "Backpropagation through time at the cursor: the gradient norm so far, dL/dh_t split into what "
            "comes from the output and what flows back from t+1, the local derivative factors and this "
            "timestep's share of each weight gradient. Look at the local factors: when they are small, "
            "the gradient shrinks at every step back.",
    "vanishing": "Why gradients vanish or explode: how much a change of the state T − t steps ago still "
                 "moves the last state, and the eigenvalues of the recurrent weights against the unit "
                 "circle. Eigenvalues well inside the circle mean a fast decay (vanishing), outside mean "
                 "growth (exploding).",
    "scan": "The parallel (associative) scan that linear recurrences can use instead of a loop: which "
            "timesteps each level combines, and the time of both against the sequence length. Look at how "
            "few levels the tree needs, and why a tanh RNN or LSTM cannot be computed this way.",
    "window_accuracy_vs_lag": "How well each model recalls the symbol a given number of steps back, on "
                              "held-out sequences, against that lag. Look at the window models falling to "
                              "chance just past their window k while the RNN, which keeps a state, does not.",
    "window_state_size": "How many numbers each model has to store against the window k it sees. The n-gram "
                         "table grows exponentially with k and the time-delay network linearly, while the "
                         "RNN's state stays the same size however far back it must remember.",
    "window_accuracy": "One window model's held-out accuracy while it trains, with chance marked. Look for "
                       "where it levels off: a window model cannot beat chance on answers further back than "
                       "its window.",
}

FALLBACK = ("Hover a curve point or a heatmap cell to read its value. Right-click to export the panel as PNG, SVG "
            "or CSV.")


def help_text(panel_name: str) -> str:
    """The two sentences of ``panel_name``'s "?" button."""
    return HELP_TEXTS.get(panel_name, FALLBACK)
