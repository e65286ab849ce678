"""View states of the "Step through time" page: the unrolled diagram, the equations with live numbers
and BPTT at the cursor, built from a StepThrough (any layer and direction of the view batch).

    views = step_views(stepper, cursor)     # where the stepping is: StepViews(diagram, equations, bptt)
    views = full_pass_views(stepper)        # the whole forward and backward pass (exports, the CLI)

Everything a panel prints is here, computed once in float64 from the stepper's own states: the
equations' terms are the split of the stepper's pre-activation of *this* layer and direction (its
input x_t is the layer below's output, its previous state is h_(t+1) in the reverse direction).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.cells import cell_spec
from rnnviz.engine.stepping import Weights, gate_names
from rnnviz.session.stepper import CellStep, ClipInfo, StepThrough
from rnnviz.session.views.common import TimeAxis, sample_time_axis

# Largest difference between the summed per-step contributions (float64 textbook steps) and the full
# backward pass, relative to the largest full-gradient entry, that still reads "matches". The reference
# pass runs in the session's dtype: in float32 the forward states it backpropagates through differ from
# the float64 recomputation by ~1e-7 relative per step (eps32 = 6e-8), and summing T·B terms of both
# signs can lose a few more digits on entries much smaller than the largest: 1e-4 of the largest entry
# is far above that and far below any real mismatch (a wrong term is O(1) of the entries it touches).
# In float64 the same reasoning with eps64 = 1.1e-16 gives 1e-9.
MATCH_TOLERANCE = {"float32": 1e-4, "float64": 1e-9}
TERMS = ("Wx", "bx", "Wh", "bh")  # W_i· x_t, b_i·, W_h· h_prev, b_h· : the four terms of a pre-activation


@dataclass(frozen=True)
class EquationsView:
    """One cell's forward step at timestep ``t`` with every number the equations print, for the
    selected sample; ``t`` None: not computed yet (``message`` says why)."""

    mode: str
    gate_names: tuple[str, ...]  # the pre-activation blocks in order (rnn: ("a",))
    t: int | None
    message: str = ""
    reverse: bool = False  # the reverse direction: the step reads h_(t+1)
    x: np.ndarray | None = None  # (I_l,) this layer's input at t
    h_prev: np.ndarray | None = None  # (H,) the state the step read (h_(t-1); reverse: h_(t+1))
    c_prev: np.ndarray | None = None  # (S,) cells with a cell state (LSTM S = H; LRU 2H; selective H*N)
    preact: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (H,)
    # gate -> (H,) activations (rnn: none), the spec's derived and display values (e.g. the LRU's Re λ)
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    c: np.ndarray | None = None  # (S,) the cell state after the step
    h: np.ndarray | None = None  # (H,) the hidden state after the step
    masked: bool = False  # padded step: the state is carried over (h = h_prev, c = c_prev)
    h_computed: np.ndarray | None = None  # (H,) what the equations give (h unless the step is padding)
    c_computed: np.ndarray | None = None  # (S,) cells with a cell state
    # gate -> TERMS -> (H,), the terms the cell's stacked layout has (minGRU: Wx, bx); {} outside that layout
    terms: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return 0 if self.h is None else len(self.h)


@dataclass(frozen=True)
class BpttView:
    """BPTT at the cursor: the norms so far and, when the backward pass has reached ``t``, its parts."""

    grad_norm: np.ndarray  # (T,) ||dL/dh_t|| (state_symbol "c": ||dL/dc_t||), NaN where BPTT has not been yet
    t: int | None  # the timestep shown (None: not reached yet, see ``message``)
    clip: ClipInfo  # what clipping does to the full gradient
    steps_taken: int = 0
    d_hidden_from_output: np.ndarray | None = None  # (H,)
    d_hidden_from_next: np.ndarray | None = None  # (H,)
    local: dict[str, np.ndarray] = field(default_factory=dict)  # local derivative factor name -> (H,)
    contribution: dict[str, np.ndarray] = field(default_factory=dict)  # W_ih, W_hh of this timestep
    accumulated: dict[str, np.ndarray] = field(default_factory=dict)  # W_ih, W_hh so far
    cut: bool = False  # truncated BPTT cuts the recurrence here
    match: tuple[bool, float] | None = None  # (sum of contributions == full BPTT, largest relative difference)
    message: str = ""
    state_symbol: str = "h"  # the state whose gradient grad_norm is (CellSpec.memory_state)
    time: TimeAxis | None = None  # the sample's timestep labels (tokens, "<pad>"); None: numbered


@dataclass(frozen=True)
class DiagramView:
    """The unrolled network: the stepped row's states so far and where the stepping is."""

    cell: str
    layers: int
    directions: int
    layer: int  # the stepped row
    direction: int
    hidden: np.ndarray  # (T, H) h_t of the stepped row, NaN where not yet computed
    grad_norm: np.ndarray  # (T,) ||dL/dh_t||, NaN where BPTT has not been yet
    inputs: np.ndarray  # (T, I) the network's inputs x_t
    labels: tuple[str, ...]  # (T,) timestep labels (tokens for token tasks, PAD_LABEL at padding)
    outputs: np.ndarray  # (T, O) predictions ŷ_t, NaN rows where not (yet) produced
    mask: np.ndarray  # (T,) 1 real, 0 padding
    phase: str  # "forward" | "backward" | "done" (the full pass)
    current: int | None  # timestep being computed (forward) or back-propagated (backward)
    cursor: int  # the selected timestep
    tbptt: int | None = None
    io: str = "many_to_many"  # "many_to_one": one output, at the last real step
    output_steps: np.ndarray | None = None  # (T,) bool: where the network has an output and a loss
    output_names: tuple[str, ...] = ()  # (O,) the classes (or outputs) ŷ_t is over
    loss_kind: str = "mse"  # "cross_entropy": ŷ_t names its most probable class

    @property
    def has_output(self) -> np.ndarray:
        """(T,) bool: where an output arrow, ŷ_t and a loss term exist (every step when not given)."""
        if self.output_steps is None:
            return np.ones(self.seq_len, dtype=bool)
        return np.asarray(self.output_steps, dtype=bool)

    @property
    def seq_len(self) -> int:
        return int(self.hidden.shape[0])

    @property
    def hidden_range(self) -> tuple[float, float] | None:
        """Where h_t lies (CellSpec.hidden_range); None: unbounded, the colours follow the data."""
        return cell_spec(self.cell).hidden_range

    @property
    def title(self) -> str:
        """The cell's name in titles, e.g. "LSTM"."""
        return cell_spec(self.cell).title

    @property
    def has_cell_state(self) -> bool:
        """A second state c_t runs along the row (a second arrow between the boxes)."""
        return cell_spec(self.cell).has_cell_state


@dataclass(frozen=True)
class StepViews:
    diagram: DiagramView
    equations: EquationsView
    bptt: BpttView


# ---------------------------------------------------------------------- the equations


def equation_terms(mode: str, weights: Weights, x: np.ndarray, h_prev: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Each gate's pre-activation split into its terms (each (H,)):

        a_k = W_ik x_t + b_ik + W_hk h_prev + b_hk      (gru n: W_in x_t + b_in + r ⊙ (W_hn h_prev + b_hn))

    for the gate blocks k of ``weights`` = (W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh): the terms the
    cell's stacked layout has (minGRU and minLSTM have no W_hh: Wx and bx). A cell outside that layout
    (LRU, selective) has no such split: {}."""
    spec = cell_spec(mode)
    if not spec.stacked:
        return {}
    arrays = {kind: np.asarray(a, dtype=np.float64) for kind, a in zip(spec.param_kinds(), weights)}
    hidden = len(h_prev)
    from_input = arrays["weight_ih"] @ x  # (G*H,)
    from_hidden = arrays["weight_hh"] @ h_prev if "weight_hh" in arrays else None
    terms = {}
    for k, gate in enumerate(gate_names(mode)):
        rows = slice(k * hidden, (k + 1) * hidden)
        terms[gate] = {"Wx": from_input[rows], "bx": arrays["bias_ih"][rows]}
        if from_hidden is not None:
            terms[gate].update(Wh=from_hidden[rows], bh=arrays["bias_hh"][rows])
    return terms


def equations_view(stepper: StepThrough, t: int, reached: bool = True) -> EquationsView:
    """The forward step at ``t`` (``reached`` False: a message instead of numbers)."""
    names = gate_names(stepper.mode)
    reverse = stepper.selection.direction == 1
    if not reached:
        return EquationsView(stepper.mode, names, None, reverse=reverse,
                             message=f"t = {t} is not computed yet: step forward (→) to reach it")
    cell: CellStep = stepper.cell_step(t)
    return EquationsView(
        mode=stepper.mode, gate_names=names, t=cell.t, reverse=reverse, x=cell.x, h_prev=cell.h_prev, c_prev=cell.c_prev,
        preact=dict(cell.preact), gates=dict(cell.gates), c=cell.c, h=cell.h, masked=cell.masked,
        h_computed=cell.h_computed, c_computed=cell.c_computed,
        terms=equation_terms(stepper.mode, stepper.weights, cell.x, cell.h_prev),
    )


# ---------------------------------------------------------------------- BPTT


def matches_full(accumulated: dict[str, np.ndarray], full: dict[str, np.ndarray],
                 tolerance: float = 1e-6) -> tuple[bool, float]:
    """(all close, largest difference relative to the largest full-gradient entry) over the arrays of ``full``."""
    worst = 0.0
    for name, reference in full.items():
        reference = np.asarray(reference, dtype=np.float64)
        scale = max(float(np.abs(reference).max(initial=0.0)), 1e-30)
        worst = max(worst, float(np.abs(np.asarray(accumulated[name]) - reference).max(initial=0.0)) / scale)
    return worst <= tolerance, worst


def bptt_view(stepper: StepThrough, t: int, grad_norm: np.ndarray, steps_taken: int) -> BpttView:
    """BPTT at ``t`` given the norms reached so far (``grad_norm``, NaN where not yet) and how many
    backward steps were taken; once all T are taken, whether they add up to the full backward pass."""
    match = None
    if steps_taken == stepper.seq_len:
        tolerance = MATCH_TOLERANCE.get(stepper.session.config.dtype, MATCH_TOLERANCE["float32"])
        match = matches_full(stepper.grad_step(stepper.order[0]).accumulated, stepper.full_grads, tolerance)
    time = sample_time_axis(stepper.session, stepper.sample)
    if not np.isfinite(grad_norm[t]):
        message = (f"not at t = {t} yet (→ steps back)" if stepper.forward_done == stepper.seq_len
                   else "starts after the forward pass")
        return BpttView(grad_norm=grad_norm, t=None, clip=stepper.clip, steps_taken=steps_taken, match=match,
                        message=message, state_symbol=stepper.memory_state, time=time)
    step = stepper.grad_step(t)
    return BpttView(
        grad_norm=grad_norm, t=t, clip=stepper.clip, steps_taken=steps_taken,
        d_hidden_from_output=step.d_hidden_from_output, d_hidden_from_next=step.d_hidden_from_next,
        local=dict(step.local),
        contribution={k: step.contribution[k] for k in ("W_ih", "W_hh") if k in step.contribution},
        accumulated={k: step.accumulated[k] for k in ("W_ih", "W_hh") if k in step.accumulated}, cut=step.cut,
        match=match, state_symbol=stepper.memory_state, time=time,
    )



# ---------------------------------------------------------------------- the unrolled diagram


def output_steps(io: str, mask: np.ndarray) -> np.ndarray:
    """(T,) bool: the timesteps with an output and a loss term: every real one (many-to-many), or the
    last real one (many-to-one: the head reads h at the sequence's last real step; padding has none)."""
    real = np.asarray(mask) != 0
    if io == "many_to_many":
        return real
    steps = np.zeros(len(real), dtype=bool)
    steps[int(np.flatnonzero(real)[-1]) if real.any() else len(real) - 1] = True
    return steps


def _outputs(stepper: StepThrough, computed: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(T, O) the network's predictions at the steps ``where`` it has outputs, once the stepped layer
    has computed h_t there (top layer only; bidirectional: once both directions are done)."""
    session = stepper.session
    predictions = np.asarray(stepper.reference.predictions, dtype=np.float64)
    steps = stepper.seq_len
    if session.task.io == "many_to_many":
        outputs = predictions[:, stepper.sample].reshape(steps, -1).copy()
        outputs[~where] = np.nan
    else:
        outputs = np.full((steps, predictions.shape[-1]), np.nan)
        outputs[where] = predictions[stepper.sample].reshape(-1)
    outputs[~computed] = np.nan
    top = stepper.selection.layer == session.config.num_layers - 1
    if not top or (session.config.bidirectional and not computed.all()):
        outputs[:] = np.nan
    return outputs


def diagram_view(stepper: StepThrough, cursor: int, hidden: np.ndarray, grad_norm: np.ndarray,
                 phase: str, current: int | None) -> DiagramView:
    session = stepper.session
    config = session.config
    inputs = session.view_batch.inputs[:, stepper.sample]
    mask = session.view_batch.mask[:, stepper.sample]
    where = output_steps(session.task.io, mask)
    return DiagramView(
        cell=config.cell, layers=config.num_layers, directions=2 if config.bidirectional else 1,
        layer=stepper.selection.layer, direction=stepper.selection.direction, hidden=hidden,
        grad_norm=grad_norm, inputs=np.asarray(inputs), labels=tuple(session.task.timestep_labels(inputs, mask)),
        outputs=_outputs(stepper, np.isfinite(hidden).all(axis=1), where), mask=np.asarray(mask), phase=phase,
        current=current, cursor=cursor, tbptt=stepper.tbptt, io=session.task.io, output_steps=where,
        output_names=tuple(session.task.info().output_names), loss_kind=session.task.loss,
    )


# ---------------------------------------------------------------------- all three


def current_timestep(stepper: StepThrough) -> int | None:
    """The timestep of the step just taken (None before the first)."""
    if stepper.backward_done:
        return stepper.current_backward.t
    if stepper.forward_done:
        return stepper.current_forward.t
    return None


def step_views(stepper: StepThrough, cursor: int) -> StepViews:
    """What the page shows with the stepper where it is and the cursor at timestep ``cursor``."""
    current = current_timestep(stepper)
    norms = stepper.grad_norm_so_far
    reached = stepper.order.index(cursor) < stepper.forward_done
    return StepViews(
        diagram=diagram_view(stepper, cursor, stepper.hidden_so_far, norms,
                             "backward" if stepper.backward_done else "forward", current),
        equations=equations_view(stepper, cursor, reached),
        bptt=bptt_view(stepper, cursor, norms, stepper.backward_done),
    )


def full_pass_views(stepper: StepThrough) -> StepViews:
    """The whole forward and backward pass, without moving the stepper: the diagram complete, the
    equations at the last processed step (the one that makes h_n) and BPTT after its last step
    (at the first processed timestep, where the summed contributions equal the full gradients)."""
    last, first = stepper.order[-1], stepper.order[0]
    norms = stepper.grad_norm_full
    return StepViews(
        diagram=diagram_view(stepper, last, stepper.hidden_full, norms, "done", None),
        equations=equations_view(stepper, last),
        bptt=bptt_view(stepper, first, norms, stepper.seq_len),
    )
