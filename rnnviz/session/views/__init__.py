"""View states: immutable dataclasses of numbers and labels ready to draw, built once from the engine's
traces for any layer and direction. A panel takes one and draws it (rnnviz/ui/panels); nothing in a
panel recomputes maths.

- ``training``: the training page's panels (loss, hidden, gates, gradients, weights, predictions),
  from a Snapshot;
- ``step_through``: the unrolled diagram, the equations and BPTT, from a StepThrough;
- ``gradient_flow``: why gradients vanish or explode (lag norms, the cell's eigenvalues or its
  input-dependent decay per timestep), from a Session;
- ``scan``: the parallel scan beside the loop (tree, float64 difference, times), from a Session;
- ``common``: the time axis (labels, padding) and counted nouns.

Import from the modules (this package imports nothing, so that ``common`` stays cheap to import).
"""
