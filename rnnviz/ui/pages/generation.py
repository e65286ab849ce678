"""The "Generation" page: one-to-many. The live text session's network reads a seed text, then writes
one character at a time, each sampled character fed back in as the next input (rnnviz.session.generation;
drawn by rnnviz.ui.panels.generation). Seed text, temperature, length and random seed are the person's;
generating runs in the background on a copy of the live weights. Exports PNG, SVG and CSV.
"""
from __future__ import annotations

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.generation import (
    MAX_SHOWN_STEPS,
    GenerationError,
    check_can_generate,
    encode_seed,
    generation_work,
)
from rnnviz.session.session import Session
from rnnviz.tasks.text import TextTask
from rnnviz.ui.panels.generation import GenerationPanel

JOB = "generation"
MAX_LENGTH = 400  # characters the page writes at most (the command `rnnviz sample` writes more)
NOT_TEXT = ("Generation needs a network trained on text. Choose the <b>text</b> task (Task tab), train it for a "
            "few hundred steps, then come back and press Generate.")


class GenerationPage(QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.setObjectName("generation_page")
        self.window_ = window
        self.controller = window.controller
        self.jobs = window.jobs
        self.panel = GenerationPanel()
        self.panel.setObjectName("panel_generation")
        self.panel.setMinimumSize(300, 260)
        self.show_error = lambda title, text: QMessageBox.warning(self, title, text)  # replaceable in tests
        self._build()
        self.controller.session_replaced.connect(self._session_changed)
        self._session_changed(self.controller.session)

    def _build(self) -> None:
        self.seed_text = QLineEdit()
        self.seed_text.setToolTip("The text the network reads first, one character at a time")
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=5.0, singleStep=0.1, value=0.8)
        self.temperature.setToolTip("Below 1: more of the most probable characters; above 1: more random. "
                                    "Near 0 it always takes the most probable one.")
        self.length = QSpinBox(minimum=1, maximum=MAX_LENGTH, value=60)
        self.length.setToolTip("How many characters to write")
        self.seed = QSpinBox(minimum=0, maximum=999_999, value=0)
        self.seed.setToolTip("The random seed of the sampling: the same seed writes the same text")
        self.top_k = QSpinBox(minimum=1, maximum=20, value=5)
        self.top_k.setToolTip("The heatmap shows the k most probable next characters at each step")
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.seed_text.returnPressed.connect(self.generate)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(QLabel("Seed text"))
        first.addWidget(self.seed_text, 1)
        first.addWidget(self.generate_button)
        for label, widget in (("Temperature", self.temperature), ("Length", self.length), ("Random seed", self.seed),
                              ("Top k", self.top_k)):
            second.addWidget(QLabel(label))
            second.addWidget(widget)
        second.addStretch(1)
        second.addWidget(QLabel("Export"))
        for kind in ("png", "svg", "csv"):
            button = QPushButton(f"{kind.upper()}…")
            button.setToolTip(f"Save the diagram and heatmap as {kind.upper()}" if kind != "csv"
                              else "Save every timestep's input, output, probability and top-k as CSV")
            button.clicked.connect(lambda _checked=False, k=kind: self.panel.export_with_dialog(k))
            second.addWidget(button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.output = QPlainTextEdit(readOnly=True)
        self.output.setMaximumHeight(70)  # the diagram below takes the height
        self.output.setPlaceholderText("Press Generate: the seed text, then what the network writes, appears here "
                                       "and below it the network unrolled over it, one character at a time.")
        layout = QVBoxLayout(self)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(self.message)
        layout.addWidget(self.output)
        layout.addWidget(self.panel, 1)
        layout.addStretch(0)
        self.panel.setVisible(False)  # until there is something to draw (an empty plot says nothing)

    # ------------------------------------------------------------------ state

    @property
    def busy(self) -> bool:
        return self.jobs.busy(JOB)

    def _session_changed(self, session: Session | None) -> None:
        task = None if session is None else session.task
        usable = isinstance(task, TextTask) and not session.config.bidirectional
        self.generate_button.setEnabled(usable)
        if not usable:
            self.panel.setVisible(False)
        if not isinstance(task, TextTask):
            self.message.setText(NOT_TEXT + (f" (This session is the <b>{task.name}</b> task.)" if task else ""))
        elif session.config.bidirectional:
            self.message.setText("A bidirectional network also reads the text backwards, from characters that do "
                                 "not exist yet while writing: turn Bidirectional off and train again.")
        else:
            self.message.setText(f"Step {session.step}: the network writes with the weights it has now. "
                                 "Letters in colour were sampled and fed back in as the next input.")
            if not self.seed_text.text():
                self.seed_text.setText(task.vocabulary.decode(task.corpus_ids[:8]))

    # ------------------------------------------------------------------ generating

    def generate(self) -> None:
        """Generate with the live weights (a copy, between two training steps), in the background."""
        self.controller.request_state(JOB, self._generate_with)

    def _generate_with(self, session: Session) -> None:
        seed_text, length = self.seed_text.text(), int(self.length.value())
        try:
            task = check_can_generate(session)
            encode_seed(task, seed_text)
            if len(seed_text) + length - 1 > MAX_SHOWN_STEPS:
                raise GenerationError(f"seed text and length together may be at most {MAX_SHOWN_STEPS + 1} characters")
        except GenerationError as exc:
            self.show_error("Cannot generate", str(exc))
            return
        self.message.setText(f"Writing {length} characters at step {session.step}…")
        job = self.jobs.start_latest(JOB, generation_work, session, seed_text, length, float(self.temperature.value()),
                                     int(self.seed.value()), int(self.top_k.value()))
        job.done.connect(self._generated)
        job.failed.connect(lambda text: self.show_error("Generation failed", text))

    def _generated(self, result) -> None:
        view, _rows = result
        self.panel.setVisible(True)
        self.panel.show_view(view)
        self.output.setPlainText(view.seed_text + view.text)
        self.message.setText(f"Wrote {len(view.text)} characters after “{view.seed_text}” at temperature "
                             f"{view.temperature:g}. Drag the diagram sideways to follow the text; hover a letter "
                             "for its probability.")

    def shutdown(self) -> None:
        running = self.jobs.running(JOB)
        if running is not None:
            running.cancel()
