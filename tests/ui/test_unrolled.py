"""The unrolled diagram draws outputs and losses only where they exist, names classes, and keeps its
labels apart and unclipped at any width."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Selection, Session
from rnnviz.session.stepper import StepThrough
from rnnviz.session.views.step_through import DiagramView, full_pass_views
from rnnviz.ui.panels.unrolled import UnrolledPanel
from rnnviz.ui.panels.unrolled_layout import OUTPUT_GAP


def show(qtbot, view: DiagramView, width: int = 900, height: int = 320) -> UnrolledPanel:
    panel = UnrolledPanel()
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_view(view)
    qtbot.wait(50)  # the resize-driven re-layout of the labels
    return panel


def diagram(config: SessionConfig, sample: int | None = None) -> tuple[Session, int, DiagramView]:
    session = Session(config)
    s = int(np.argmin(session.view_batch.mask.sum(axis=0))) if sample is None else sample  # a padded sample
    return session, s, full_pass_views(StepThrough(session, Selection(sample=s))).diagram


def output_arrow_slots(panel: UnrolledPanel) -> list[int]:
    """The slots with an arrow head above the top row (the output arrows)."""
    data = panel.arrow_heads.getData()
    top = panel._layout.top
    return sorted(int(round(x)) for x, y in zip(*data) if y > top + OUTPUT_GAP / 2)


def visible_texts(items) -> list:
    return [item for item in items if item.textItem.toPlainText().strip()]


def test_many_to_one_has_one_output_arrow_named_by_its_class(qtbot):
    session, s, view = diagram(SessionConfig(task="sentiment", hidden_size=6, seed=2))
    last_real = int(np.flatnonzero(session.view_batch.mask[:, s])[-1])
    panel = show(qtbot, view)
    assert output_arrow_slots(panel) == [last_real - panel._start]
    labelled = [k for k, item in enumerate(panel.texts["output"]) if item.textItem.toPlainText()]
    assert labelled == [last_real - panel._start]
    text = panel.texts["output"][labelled[0]].textItem.toPlainText()
    predicted = session.task.info().output_names[int(np.argmax(session.inspect().predictions[s]))]
    assert text == predicted and text in ("positive", "negative")  # a name, never a class index


def test_many_to_many_outputs_are_characters_and_padding_has_none(qtbot):
    _, _, view = diagram(SessionConfig(task="text", task_params={"seq_len": 10}, hidden_size=6), sample=0)
    panel = show(qtbot, view)
    assert output_arrow_slots(panel) == list(range(panel._slots))
    names = set(view.output_names)
    assert all(item.textItem.toPlainText() in names for item in panel.texts["output"])


def synthetic_view(names: tuple[str, ...], steps: int = 14, padding: int = 3, layers: int = 1,
                   directions: int = 1) -> DiagramView:
    rng = np.random.default_rng(0)
    mask = np.ones(steps)
    mask[steps - padding:] = 0
    words = ("the", "extraordinarily", "not", "good", "but", "really")
    return DiagramView(
        cell="gru", layers=layers, directions=directions, layer=0, direction=0,
        hidden=rng.uniform(-1, 1, (steps, 4)), grad_norm=np.full(steps, np.nan),
        inputs=np.eye(len(words))[rng.integers(0, len(words), steps)],
        labels=tuple(words[i % len(words)] if m else "<pad>" for i, m in enumerate(mask)),
        outputs=rng.dirichlet(np.ones(len(names)), steps), mask=mask, phase="done", current=None, cursor=steps - 1,
        io="many_to_many", output_steps=mask == 1, output_names=names, loss_kind="cross_entropy",
    )


@pytest.mark.parametrize("width", [420, 640, 1000])
def test_labels_never_overlap_or_leave_the_diagram(qtbot, width):
    names = ("positive", "negative", "a very long class name indeed")
    panel = show(qtbot, synthetic_view(names, layers=2, directions=2), width=width, height=380)
    inside = panel.viewbox.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    for kind in ("output", "input"):
        rects = [item.sceneBoundingRect() for item in visible_texts(panel.texts[kind])]
        assert rects, kind
        for a, b in itertools.combinations(rects, 2):
            overlap = a.intersected(b)
            assert overlap.width() < 1 or overlap.height() < 1, (kind, width, a, b)
    for label in panel.row_labels + panel.side_labels:
        assert inside.contains(label.sceneBoundingRect()), (label.textItem.toPlainText(), width)
    assert [label.textItem.toPlainText() for label in panel.row_labels] == \
        ["layer 0 →", "layer 0 ←", "layer 1 →", "layer 1 ←"]
    # padded steps have neither an output arrow nor a ŷ label
    padded = [k for k, t in enumerate(range(panel._start, panel._start + panel._slots)) if panel.state.mask[t] == 0]
    assert padded and not set(padded) & set(output_arrow_slots(panel))
    assert all(not panel.texts["output"][k].textItem.toPlainText() for k in padded)


def test_a_cut_short_label_shows_its_whole_text_on_hover(qtbot):
    names = ("a very long class name indeed", "another very long class name")
    panel = show(qtbot, synthetic_view(names, steps=20, padding=0), width=500)
    shortened = [item for item in panel.texts["output"] if item.textItem.toPlainText().endswith("…")]
    assert shortened
    assert all(any(name in item.toolTip() for name in names) for item in shortened)


def test_a_lone_many_to_one_output_is_named_in_full(qtbot):
    names = ("positive", "negative")
    view = synthetic_view(names, steps=14, padding=4)
    view = DiagramView(**{**view.__dict__, "io": "many_to_one", "output_steps": np.arange(14) == 9})
    panel = show(qtbot, view, width=560)  # about 40 px a slot: narrower than "positive"
    texts = [item.textItem.toPlainText() for item in panel.texts["output"]]
    assert [t for t in texts if t] in (["positive"], ["negative"])
