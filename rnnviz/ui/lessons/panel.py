"""The Lessons dock: the list of lessons, then one lesson a step at a time.

    ┌ Lessons ─────────────────────────────┐
    │ 1  The hidden state is memory   ✓    │   the list (double-click or Start)
    │ 2  Unrolling                         │
    │ [Start]            [Open lesson file…]│
    └──────────────────────────────────────┘
    ┌ The hidden state is memory ──────────┐
    │ Step 3 of 7 · What the network reads  │
    │ narration…                            │
    │ Predict: will … larger or smaller?    │
    │ [Larger] [Smaller]   → reveal text    │
    │ ☐ Press Play and wait for step 200    │   (✓ when the check passes)
    │ [◀ Back] [Lessons]          [Next ▶]  │
    └──────────────────────────────────────┘

Entering a step going forward (Next, ``go_to``) runs its ``do:`` actions; Back only shows the earlier
step again (its outline and page), so nothing the learner did is undone.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QScrollArea, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from rnnviz.session.lessons import SUFFIX, Lesson, LessonError, LessonStep, bundled_lessons, load_lesson
from rnnviz.ui.lessons.highlight import OUTLINE_COLOUR
from rnnviz.ui.lessons.names import lesson_names
from rnnviz.ui.lessons.runner import LessonRunner

CHECK_MS = 200  # how often a step's check is looked at (cheap: a few attribute reads)
DONE_KEY = "lessons/finished"


def _label(text: str = "", name: str = "", rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if name:
        label.setObjectName(name)
    return label


class LessonPanel(QWidget):
    """Lists the lessons and walks through one; ``start``/``go_to`` are its API (menus, CLI, screenshots)."""

    step_shown = Signal(int)  # the index of the step now shown
    lesson_finished = Signal(str)  # the lesson's name

    def __init__(self, window: Any, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_panel")
        self.window = window
        self.settings = settings
        self.runner = LessonRunner(window)
        self.lessons: list[Lesson] = []
        self.lesson: Lesson | None = None
        self.index = 0
        self.answered = False
        self.passed = False
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_list())
        self.stack.addWidget(self._build_step_view())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._check_timer = QTimer(self)
        self._check_timer.setInterval(CHECK_MS)
        self._check_timer.timeout.connect(self.update_check)
        self.reload()

    # ------------------------------------------------------------------ building

    def _build_list(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        intro = _label("Short guided tours: each sets the app up, tells you what to press and asks you to "
                       "predict what you will see before it shows you.")
        self.list = QListWidget()
        self.list.setObjectName("lesson_list")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(lambda item: self.start(self.lessons[self.list.row(item)]))
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("lesson_start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._start_selected)
        self.open_button = QPushButton("Open lesson file…")
        self.open_button.setObjectName("lesson_open")
        self.open_button.setToolTip(f"A lesson you or a teacher wrote ({SUFFIX}; see docs/LESSONS.md)")
        self.open_button.clicked.connect(self.open_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        return page

    def _build_step_view(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(8, 8, 8, 8)
        self.title_label = _label(name="lesson_title", rich=True)
        self.progress_label = _label(name="lesson_progress")
        body = QWidget()
        self.body_layout = QVBoxLayout(body)
        self.body_layout.setContentsMargins(0, 0, 4, 0)
        self.heading_label = _label(name="lesson_heading", rich=True)
        self.say_label = _label(name="lesson_say")
        self.question = self._build_question()
        self.check_label = _label(name="lesson_check")
        for widget in (self.heading_label, self.say_label, self.question, self.check_label):
            self.body_layout.addWidget(widget)
        self.body_layout.addStretch(1)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("lesson_back")
        self.back_button.clicked.connect(self.back)
        self.list_button = QPushButton("All lessons")
        self.list_button.setObjectName("lesson_all")
        self.list_button.setToolTip("Leave this lesson (the window stays as it is)")
        self.list_button.clicked.connect(self.show_list)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("lesson_next")
        self.next_button.clicked.connect(self.next)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.list_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        outer.addWidget(self.title_label)
        outer.addWidget(self.progress_label)
        outer.addWidget(scroll, 1)
        outer.addLayout(nav)
        return page

    def _build_question(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("lesson_question")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(frame)
        self.ask_label = _label(name="lesson_ask", rich=True)
        layout.addWidget(self.ask_label)
        self.choice_buttons: list[ChoiceButton] = []
        for k in range(4):
            button = ChoiceButton(f"lesson_choice_{k + 1}")
            button.clicked.connect(lambda k=k: self.choose(k))
            layout.addWidget(button)
            self.choice_buttons.append(button)
        self.reveal_label = _label(name="lesson_reveal", rich=True)
        layout.addWidget(self.reveal_label)
        return frame

    # ------------------------------------------------------------------ the list

    def reload(self) -> None:
        """Read the bundled lessons again (a broken one is listed as such, the rest still work)."""
        try:
            self.lessons = bundled_lessons(lesson_names())
        except LessonError as exc:  # a bug in a bundled lesson: the tests parse every one
            self.lessons = []
            self.window.messages.warn("A bundled lesson has a mistake", str(exc))
        self._fill_list()

    def _fill_list(self) -> None:
        finished = set(self._finished())
        self.list.clear()
        for number, lesson in enumerate(self.lessons, start=1):
            mark = "  ✓" if lesson.name in finished else ""
            item = QListWidgetItem(f"{number}. {lesson.title}{mark}\n{lesson.summary}")
            item.setToolTip(f"{lesson.summary}\n({len(lesson.steps)} steps; rnnviz --lesson {lesson.name})")
            self.list.addItem(item)
        if self.lessons:
            self.list.setCurrentRow(0)

    def _finished(self) -> list[str]:
        value = self.settings.value(DONE_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def _start_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.lessons):
            self.start(self.lessons[row])

    def show_list(self) -> None:
        self.runner.cancel()
        self.runner.highlight(None)
        self._check_timer.stop()
        self.lesson = None
        self._fill_list()
        self.stack.setCurrentIndex(0)

    def lesson_named(self, name: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.name == name:
                return lesson
        raise KeyError(f"no bundled lesson {name!r}; lessons: {', '.join(l.name for l in self.lessons)}")

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a lesson", "", f"Lessons (*{SUFFIX})")
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> bool:
        """Start the lesson in ``path``; a mistake in it is shown in a dialog with the file and the line."""
        try:
            lesson = load_lesson(path, lesson_names())
        except LessonError as exc:
            self.window.messages.warn("This lesson file has a mistake", str(exc))
            return False
        self.start(lesson)
        return True

    # ------------------------------------------------------------------ a lesson

    def start(self, lesson: Lesson, step: int = 0) -> None:
        """Show ``lesson`` from its first step (or ``step``: the actions of every step up to it run)."""
        self.runner.cancel()
        self.lesson = lesson
        self.title_label.setText(f"<b>{_escape(lesson.title)}</b>")
        self.stack.setCurrentIndex(1)
        self.index = 0
        self._show(0, run=True)
        if step:
            self.go_to(step)
        self._check_timer.start()

    def go_to(self, index: int) -> None:
        """Step ``index`` (0-based) of the current lesson, with the actions of the steps on the way."""
        if self.lesson is None:
            raise RuntimeError("no lesson is open")
        index = min(max(int(index), 0), len(self.lesson.steps) - 1)
        if index > self.index:
            for k in range(self.index + 1, index + 1):
                self.runner.run(self.lesson.steps[k].actions)
        self._show(index, run=False)

    def next(self) -> None:
        if self.lesson is None:
            return
        if self.index == len(self.lesson.steps) - 1:
            self._finish()
            return
        self._show(self.index + 1, run=True)

    def back(self) -> None:
        if self.lesson is not None and self.index > 0:
            self._show(self.index - 1, run=False)

    def _finish(self) -> None:
        name = self.lesson.name
        finished = self._finished()
        if name not in finished:
            self.settings.setValue(DONE_KEY, [*finished, name])
        self.show_list()
        self.lesson_finished.emit(name)

    @property
    def step(self) -> LessonStep:
        return self.lesson.steps[self.index]

    def _show(self, index: int, run: bool) -> None:
        self.index = index
        step = self.step
        if run:
            self.runner.run(step.actions)
        total = len(self.lesson.steps)
        self.progress_label.setText(f"Step {index + 1} of {total}")
        self.heading_label.setText(f"<b>{_escape(step.heading)}</b>")
        self.say_label.setText(step.say)
        self.answered = False
        self._show_question(step)
        self.passed = False
        self.check_label.clear()  # the new step's hint, not the last one's
        self.update_check()
        self.back_button.setEnabled(index > 0)
        self.next_button.setText("Finish ✓" if index == total - 1 else "Next ▶")
        self.runner.highlight(step.highlight)
        self.scroll.verticalScrollBar().setValue(0)
        self.step_shown.emit(index)

    def _show_question(self, step: LessonStep) -> None:
        question = step.question
        self.question.setVisible(question is not None)
        if question is None:
            return
        self.ask_label.setText(f"<b>Predict first:</b> {_escape(question.ask)}")
        for k, button in enumerate(self.choice_buttons):
            button.setVisible(k < len(question.choices))
            button.setChecked(False)
            if k < len(question.choices):
                button.setText(question.choices[k])
        self.reveal_label.setVisible(False)

    def choose(self, k: int) -> None:
        """The learner's prediction: mark it, then reveal."""
        question = self.step.question
        if question is None or k >= len(question.choices):
            return
        self.answered = True
        for j, button in enumerate(self.choice_buttons):
            button.setChecked(j == k)
        if question.answer is None:
            verdict = ""
        elif question.answer == k:
            verdict = "<b>Right.</b> "
        else:
            verdict = f"<b>Not quite: it is “{_escape(question.choices[question.answer])}”.</b> "
        self.reveal_label.setText(verdict + _escape(question.reveal))
        self.reveal_label.setVisible(True)
        self.update_check()
        QTimer.singleShot(0, self, lambda: self.scroll.ensureWidgetVisible(self.reveal_label))  # after the layout grew

    def update_check(self) -> None:
        """Show whether the step's check passes (✓) or what to do (☐ hint)."""
        if self.lesson is None:
            return
        check = self.step.check
        self.check_label.setVisible(check is not None)
        if check is None:
            return
        passed = check.passes(self.runner.state(self.answered))
        if passed == self.passed and self.check_label.text():
            return
        self.passed = passed
        hint = self.step.hint or f"Do it: {check.text}"
        self.check_label.setText(f"✓ Done: {hint}" if passed else f"☐ {hint}")
        self.check_label.setStyleSheet("color: #009e73; font-weight: bold;" if passed else "")


class ChoiceButton(QFrame):
    """A prediction to click: a framed, word-wrapped label (a QPushButton cannot wrap its text, and a
    long choice would widen the dock)."""

    clicked = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.label = _label()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label)
        self._checked = False
        self.setChecked(False)

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.label.setText(text)

    def isChecked(self) -> bool:  # noqa: N802 (Qt naming)
        return self._checked

    def setChecked(self, checked: bool) -> None:  # noqa: N802 (Qt naming)
        self._checked = checked
        border = f"2px solid {OUTLINE_COLOUR}" if checked else "1px solid palette(mid)"
        self.setStyleSheet(f"#{self.objectName()} {{ border: {border}; border-radius: 4px; background: palette(button); }}")
        self.label.setStyleSheet("font-weight: bold;" if checked else "")

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit()
        else:
            super().keyPressEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
