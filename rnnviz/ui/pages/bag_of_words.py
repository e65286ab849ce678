"""The "Bag of words" page: a bag-of-words model (linear, or an MLP with the hidden units chosen) and the
RNN trained side by side on the sentiment task
(held-out accuracy over training, overall and on the order-sensitive sentences), the same words in
two orders, weight sharing in numbers, and **Type your own**: a sentence (sentiment) or text (the text
task) read by the RNN word by word, with the bag of words' verdict beside the RNN's.

Training runs in a process of its own (``rnnviz.session.bag_of_words.run_comparison`` through
``window.jobs``); every measurement it offers carries both models' weights, so Stop keeps what was
trained. Typed text is read by this page's RNN or by a copy of the main window's network
(``controller.request_state``); a reading is one small forward pass per word, done on the spot.
"""
from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.bag_of_words import (
    BOW_HIDDEN,
    EVAL_EVERY,
    MAX_BOW_HIDDEN,
    ComparisonState,
    bow_model_name,
    run_comparison,
    trained_models,
)
from rnnviz.session.config import SessionConfig
from rnnviz.session.reading import can_read, read_text
from rnnviz.session.session import Session
from rnnviz.session.weight_sharing import weight_sharing
from rnnviz.tasks.base import TaskError
from rnnviz.ui import export
from rnnviz.ui.jobs import Job
from rnnviz.ui.panels.bag_of_words import AccuracyPanel, ReadingPanel, SameWordsPanel, WeightSharingPanel

TRAIN = "bag of words"  # the page's job tag
DEFAULT_STEPS = 1500  # a bag-of-words MLP needs ~1000 steps to learn "not" in single clauses (measured)
LINEAR_TEXT = "linear (word counts only)"  # the hidden-units box at 0
BOW_HIDDEN_TIP = (
    "Hidden units of the bag-of-words model, which sees only how often each word occurs.\n"
    "Linear (0): softmax of a weighted sum of the word counts. Each word adds a fixed amount to each class, so "
    "\"not\" shifts \"good\" and \"bad\" by the same amount and cannot flip both: it cannot call \"the food "
    "is not good\" negative and \"the food is not bad\" positive at once, and stays at chance on this task.\n"
    "With tanh units (an MLP) it can learn that \"not\" anywhere flips the adjective, but the same words in "
    "any order are still one input to it, so it stays at chance on the \"but\" sentences.")
PAGE_RNN, MAIN_RNN = "page", "main"
EXAMPLE = "the food is not good"


def comparison_config(config: SessionConfig) -> SessionConfig:
    """The main window's network and training settings on the sentiment task (its own if it is one)."""
    if config.task == "sentiment":
        return config
    return config.replace(task="sentiment", task_params={})


class BagOfWordsPage(QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.setObjectName("bag_of_words_page")
        self.window_ = window
        self.controller = window.controller
        self.jobs = window.jobs
        self.job: Job | None = None
        self.state: ComparisonState | None = None
        self.page_models: tuple[Session, object] | None = None  # (RNN session, bag-of-words model)
        self.main_session: Session | None = None
        self.accuracy, self.pair = AccuracyPanel(), SameWordsPanel()
        self.reading, self.sharing = ReadingPanel(), WeightSharingPanel()
        for panel in (self.accuracy, self.pair, self.reading, self.sharing):
            panel.setObjectName(f"panel_{panel.name}")
            panel.setMinimumSize(260, 150)
        self._build()
        self.controller.session_replaced.connect(self._main_session_changed)
        self._main_session_changed(self.controller.session)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._training_bar())
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.setObjectName("bow_columns")
        left = QSplitter(Qt.Orientation.Vertical)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setObjectName("bow_lower_tabs")
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(self.pair, "Same words, different order")
        self.lower_tabs.addTab(self.sharing, "Weight sharing in numbers")
        self.lower_tabs.setTabToolTip(1, "Parameters of the RNN against a feed-forward network over the whole "
                                         "padded one-hot sequence, for growing sequence lengths")
        for widget, stretch in ((self.accuracy, 1), (self.lower_tabs, 1)):
            left.addWidget(widget)
            left.setStretchFactor(left.count() - 1, stretch)
        columns.addWidget(left)
        columns.addWidget(self._typing_box())
        columns.setStretchFactor(0, 5)
        columns.setStretchFactor(1, 4)
        self.splitters = (columns, left)
        layout.addWidget(columns, 1)

    def _training_bar(self) -> QVBoxLayout:
        self.steps = QSpinBox()
        self.steps.setObjectName("bow_steps")
        self.steps.setRange(EVAL_EVERY, 100_000)
        self.steps.setSingleStep(250)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setSuffix(" steps")
        self.steps.setToolTip("Optimizer steps for both models (one batch each, the same batch)")
        self.bow_hidden = QSpinBox()
        self.bow_hidden.setObjectName("bow_hidden")
        self.bow_hidden.setRange(0, MAX_BOW_HIDDEN)
        self.bow_hidden.setValue(BOW_HIDDEN)
        self.bow_hidden.setSpecialValueText(LINEAR_TEXT)
        self.bow_hidden.setSuffix(" hidden")
        self.bow_hidden.setToolTip(BOW_HIDDEN_TIP)
        bow_label = QLabel("Bag of words:")
        bow_label.setToolTip(BOW_HIDDEN_TIP)
        bow_label.setBuddy(self.bow_hidden)
        self.train_button = QPushButton("Train both")
        self.train_button.setObjectName("bow_train")
        self.train_button.setToolTip("Train a bag-of-words model and the main window's kind of RNN side by side on "
                                     "the sentiment task, with the same batches and the same optimizer settings")
        self.train_button.clicked.connect(self.train)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("bow_stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setObjectName("bow_progress")
        self.progress.setMinimumWidth(120)
        self.progress.setMaximumWidth(180)
        self.progress.setFormat("%v / %m")
        self.status = QLabel("Train both models to compare them.")
        self.status.setObjectName("bow_status")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        for widget in (self.steps, bow_label, self.bow_hidden, self.train_button, self.stop_button, self.progress):
            controls.addWidget(widget)
        controls.addStretch(1)
        status_row = QHBoxLayout()  # a line of its own: the controls fill a 1024-pixel window's page
        status_row.setContentsMargins(8, 0, 6, 2)
        status_row.addWidget(self.status, 1)
        bar = QVBoxLayout()
        bar.setSpacing(2)
        bar.addLayout(controls)
        bar.addLayout(status_row)
        return bar

    def _typing_box(self) -> QWidget:
        box = QWidget()
        self.text = QLineEdit(EXAMPLE)
        self.text.setObjectName("bow_text")
        self.text.setPlaceholderText("type a sentence, e.g. the food is not good")
        self.text.setClearButtonEnabled(True)
        self.text.returnPressed.connect(self.read)
        self.read_button = QPushButton("Read it")
        self.read_button.setObjectName("bow_read")
        self.read_button.clicked.connect(self.read)
        self.source = QComboBox()
        self.source.setObjectName("bow_source")
        self.source.addItem("this page's RNN", PAGE_RNN)
        self.source.addItem("the main window's RNN", MAIN_RNN)
        self.source.setToolTip("Which recurrent network reads the text: the one trained on this page beside the "
                               "bag of words, or a copy of the main window's (also for the text task)")
        self.source.currentIndexChanged.connect(lambda _index: self.read())
        self.hint = QLabel()
        self.hint.setObjectName("bow_hint")
        self.hint.setWordWrap(True)
        font = self.hint.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        self.hint.setFont(font)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.setContentsMargins(6, 2, 6, 0)
        row.addWidget(QLabel("Type your own:"))
        row.addWidget(self.text, 1)
        source_row = QHBoxLayout()
        source_row.setContentsMargins(6, 0, 6, 0)
        source_row.addWidget(self.read_button)
        source_row.addWidget(QLabel("by"))
        source_row.addWidget(self.source)
        source_row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addLayout(source_row)
        hint_row = QHBoxLayout()
        hint_row.setContentsMargins(8, 0, 6, 0)
        hint_row.addWidget(self.hint)
        layout.addLayout(hint_row)
        layout.addWidget(self.reading, 1)
        return box

    # ------------------------------------------------------------------ training both

    @property
    def training(self) -> bool:
        return self.job is not None and not self.job.finished

    def train(self) -> None:
        if self.training:
            return
        config = comparison_config(self.controller.config)
        self.state = None
        bow_hidden = int(self.bow_hidden.value())
        job = self.jobs.start(TRAIN, run_comparison, config, int(self.steps.value()), bow_hidden, EVAL_EVERY,
                              process=True)
        job.progress.connect(self._show_state)
        job.done.connect(self._done)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._stopped)
        self.job = job
        self.progress.setRange(0, int(self.steps.value()))
        self.progress.setValue(0)
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"Training {config.cell} (hidden {config.hidden_size}) and a {bow_model_name(bow_hidden)} "
                            f"on sentiment: {config.optimizer}, lr {config.lr:g}, "
                            f"batch {config.batch_size}, seed {config.seed}…")

    def stop(self) -> None:
        """Stop after the step under way; the models as last measured are kept."""
        if self.training:
            self.job.cancel()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping…")

    def _show_state(self, state: ComparisonState) -> None:
        self.state = state
        self.progress.setValue(state.step)
        self.accuracy.show_view(state.curves)
        self.pair.show_view(state.pair)

    def _done(self, state: ComparisonState) -> None:
        self._show_state(state)
        self._models_ready(f"Trained both for {state.step} steps.")

    def _stopped(self) -> None:
        self._models_ready(f"Stopped at step {self.state.step}; the models as they were then are kept."
                           if self.state is not None else "Stopped before the first measurement.")

    def _failed(self, text: str) -> None:
        self._idle(f"Training failed: {text}")
        self.window_.messages.warn("Bag of words", text)

    def _models_ready(self, text: str) -> None:
        self._idle(text)
        if self.state is None:
            return
        if self.state.diverged:
            self.status.setText(text + " The RNN diverged: try a smaller learning rate or gradient clipping.")
        self.page_models = trained_models(self.state)
        if self.source.currentData() == PAGE_RNN:
            self.read()

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    # ------------------------------------------------------------------ the main window's network

    def _main_session_changed(self, session: Session | None) -> None:
        self.main_session = session
        if session is None:
            return
        self.sharing.show_view(weight_sharing(session))
        if self.page_models is None and can_read(session) and self.source.currentData() == PAGE_RNN:
            self.source.setCurrentIndex(self.source.findData(MAIN_RNN))  # reads it
        elif self.source.currentData() == MAIN_RNN:
            self.read()

    # ------------------------------------------------------------------ type your own

    def read(self) -> None:
        """Read the typed text with the chosen network (a fresh copy of the main window's when chosen)."""
        if self.source.currentData() == MAIN_RNN:
            self.controller.request_state("bag of words: read", self._read_with_main)
            return
        if self.page_models is None:
            self._show_hint("Train both first (the button above), or choose the main window's network.",
                            error=True)
            return
        session, bow = self.page_models
        self._read_with(session, bow)

    def _read_with_main(self, session: Session) -> None:
        if not shiboken6.isValid(self):  # the answer came after the window closed
            return
        self.main_session = session
        bow = self.page_models[1] if self.page_models is not None and session.task.name == "sentiment" else None
        self._read_with(session, bow)

    def _read_with(self, session: Session, bow) -> None:
        vocabulary = self._vocabulary_hint(session)
        try:
            reading = read_text(session, self.text.text(), bow=bow)
        except TaskError as exc:  # unknown words, empty text, a task without words
            self._show_hint(f"{exc}", error=True)
            return
        self.reading.show_view(reading)
        self._show_hint(vocabulary)

    def _vocabulary_hint(self, session: Session) -> str:
        info = session.task.info()
        if hasattr(session.task, "encode_sentences"):
            return f"{session.config.cell} on {session.task.name} · words it knows: {' '.join(info.input_names)}"
        if hasattr(session.task, "vocabulary"):
            return (f"{session.config.cell} on {session.task.name} · {len(info.input_names)} characters; others are "
                    "read as the unknown one")
        return f"the main window's {session.task.name} task has no words to type"

    def _show_hint(self, text: str, error: bool = False) -> None:
        self.hint.setText(text)
        self.hint.setStyleSheet("color: #c0392b;" if error else "")
        self.hint.setProperty("error", error)

    # ------------------------------------------------------------------ export, shutdown

    def panels(self) -> dict:
        return {panel.name: panel for panel in (self.accuracy, self.pair, self.reading, self.sharing)}

    def export_all(self, folder: str | Path) -> list[Path]:
        """PNG, SVG and CSV of every panel on the page into ``folder``."""
        return export.export_all(self.panels(), folder)

    def shutdown(self) -> None:
        if self.training:
            self.job.cancel()
