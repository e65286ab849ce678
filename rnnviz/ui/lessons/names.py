"""The window's names a lesson may use: panels (rnnviz.ui.panels), extra pages (rnnviz.ui.pages) and the
controls a step can outline."""
from __future__ import annotations

from rnnviz.session.lessons import LessonNames

# control name -> what it is (the runner finds the widget)
CONTROLS = {
    "play_controls": "the Play / Step / Reset toolbar",
    "training_controls": "the Training dock (optimizer, learning rate, clipping, truncated BPTT)",
    "network_controls": "the Network dock (cell kind, size, layers, direction)",
    "task_controls": "the Task dock",
    "step_controls": "the step-through page's buttons",
    "view_bar": "the Sample / Layer / Direction bar",
}


def lesson_names() -> LessonNames:
    from rnnviz.ui.pages import PAGES
    from rnnviz.ui.panels import PANELS

    return LessonNames(panels=tuple(PANELS), pages=tuple(spec.name for spec in PAGES), controls=tuple(CONTROLS))
