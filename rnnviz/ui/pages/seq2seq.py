"""The "Encoder–decoder" page: choose an encoder–decoder task, the encoder (cell, bidirectional), the
decoder cell and the attention; train it live in a background process; watch the attention heatmap
(target × source, tokens on both axes), step through the decoder steps, compare the greedy output with
the target; and run the length experiment (accuracy against length with and without attention).

All the maths is in rnnviz.session.seq2seq: training runs there in a ``spawn`` process
(``train_live``), which offers a frame (every view sample's view state) about ten times a second; the
page keeps the newest one and draws it. Pausing sends "stop" and gets the session back to resume from.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rnnviz.engine.cells import cell_specs
from rnnviz.engine.seq2seq import ATTENTIONS
from rnnviz.session.seq2seq import (
    LENGTHS_DEFAULT,
    VIEW_SAMPLES,
    LengthExperiment,
    Seq2SeqFrame,
    Seq2SeqSession,
    Seq2SeqSettings,
    encoder_decoder_tasks,
    run_length_experiment,
    train_live,
)
from rnnviz.tasks import TASKS
from rnnviz.ui import export
from rnnviz.ui.jobs import Job, JobRunner
from rnnviz.ui.panels.attention import AttentionPanel, LengthExperimentPanel, Seq2SeqCurvesPanel

BUILD, TRAIN, EXPERIMENT = "seq2seq build", "seq2seq training", "seq2seq length experiment"
TRAIN_STEPS = 1_000_000  # "Train" runs until paused
EXPERIMENT_STEPS = 600  # per run of the page's length experiment (the CLI benchmark takes more)
ATTENTION_WORDS = {"none": "none (the encoder's final state)", "additive": "additive (Bahdanau)",
                   "dot": "dot product (Luong)"}


def build_frame(work: Any, settings: Seq2SeqSettings) -> tuple[Seq2SeqSession, Seq2SeqFrame]:
    """Background work: a new session and its first frame (untrained)."""
    session = Seq2SeqSession(settings)
    return session, session.frame()


class Seq2SeqPage(QWidget):
    def __init__(self, window: Any = None, jobs: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seq2seq_page")
        self.jobs: JobRunner = jobs if jobs is not None else window.jobs
        self.session: Seq2SeqSession | None = None  # to resume from (None while it trains elsewhere)
        self.frame: Seq2SeqFrame | None = None
        self.experiment: LengthExperiment | None = None
        self.train_job: Job | None = None
        self.experiment_job: Job | None = None
        self.attention_panel = AttentionPanel()
        self.curves_panel = Seq2SeqCurvesPanel()
        self.length_panel = LengthExperimentPanel()
        for panel in self.panels().values():
            panel.setObjectName(f"panel_{panel.name}")
            panel.setMinimumSize(240, 180)
        self._build_controls()
        self._layout()
        self.rebuild()

    def panels(self) -> dict[str, Any]:
        return {p.name: p for p in (self.attention_panel, self.curves_panel, self.length_panel)}

    # ------------------------------------------------------------------ widgets

    def _build_controls(self) -> None:
        self.task_box = QComboBox()
        self.task_box.setObjectName("seq2seq_task")
        for name in encoder_decoder_tasks():
            self.task_box.addItem(TASKS[name].title.split(" (")[0], name)
        self.length_spin = QSpinBox()
        self.length_spin.setObjectName("seq2seq_length")
        self.length_spin.setRange(1, 60)
        self.length_spin.setValue(8)
        self.length_spin.setToolTip("Source length (the longest; lengths vary from 1 up to it)")
        cells = [(spec.name, spec.title) for spec in cell_specs()]
        self.encoder_box, self.decoder_box = QComboBox(), QComboBox()
        for box, name in ((self.encoder_box, "seq2seq_encoder"), (self.decoder_box, "seq2seq_decoder")):
            box.setObjectName(name)
            for key, title in cells:
                box.addItem(title, key)
            box.setCurrentIndex(box.findData("gru"))
        self.bidirectional = QCheckBox("bidirectional")
        self.bidirectional.setObjectName("seq2seq_bidirectional")
        self.bidirectional.setChecked(True)
        self.attention_box = QComboBox()
        self.attention_box.setObjectName("seq2seq_attention")
        for name in ATTENTIONS:
            self.attention_box.addItem(ATTENTION_WORDS[name], name)
        self.attention_box.setCurrentIndex(self.attention_box.findData("additive"))
        self.hidden_spin = QSpinBox()
        self.hidden_spin.setObjectName("seq2seq_hidden")
        self.hidden_spin.setRange(2, 256)
        self.hidden_spin.setValue(32)
        self.hidden_spin.setToolTip("Encoder hidden units per direction (the decoder has as many as both directions)")
        for widget in (self.task_box, self.encoder_box, self.decoder_box, self.attention_box):
            widget.currentIndexChanged.connect(lambda _index: self.rebuild())
        self.bidirectional.toggled.connect(lambda _on: self.rebuild())
        for spin in (self.length_spin, self.hidden_spin):
            spin.valueChanged.connect(lambda _value: self.rebuild())

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("seq2seq_train")
        self.train_button.setToolTip("Train in the background (teacher forcing, Adam); press again to pause")
        self.train_button.clicked.connect(self.toggle_training)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("seq2seq_reset")
        self.reset_button.setToolTip("New weights with the same settings")
        self.reset_button.clicked.connect(self.rebuild)
        self.status = QLabel("")
        self.status.setObjectName("seq2seq_status")
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing())
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("seq2seq_sample")
        self.sample_spin.setRange(0, VIEW_SAMPLES - 1)
        self.sample_spin.setToolTip("Which of the held-out samples the heatmap shows")
        self.sample_spin.valueChanged.connect(lambda _value: self.draw())
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setObjectName("seq2seq_step")
        self.step_slider.setToolTip("The decoder step whose attention is outlined and drawn as bars")
        self.step_slider.valueChanged.connect(self._step_changed)
        # other rows (teacher forcing or greedy) may have another number of steps: the slider follows
        self.attention_panel.rows_box.currentIndexChanged.connect(lambda _index: self.draw())
        self.back_button, self.forward_button = QPushButton("◀"), QPushButton("▶")
        self.back_button.setObjectName("seq2seq_step_back")
        self.forward_button.setObjectName("seq2seq_step_forward")
        for button, delta in ((self.back_button, -1), (self.forward_button, 1)):
            button.setFixedWidth(32)
            button.clicked.connect(lambda _checked=False, d=delta: self.step_slider.setValue(self.step_slider.value() + d))
        self.step_label = QLabel("step 0")
        self.step_label.setObjectName("seq2seq_step_label")
        self.output_label = QLabel("")
        self.output_label.setObjectName("seq2seq_output")
        self.output_label.setTextFormat(Qt.TextFormat.RichText)

        self.experiment_button = QPushButton("Run")
        self.experiment_button.setObjectName("seq2seq_experiment")
        self.experiment_button.setToolTip(
            f"Train one network per length ({', '.join(map(str, LENGTHS_DEFAULT))}) and attention kind for "
            f"{EXPERIMENT_STEPS} steps each on this task and these cells; plot greedy accuracy (about a minute)")
        self.experiment_button.clicked.connect(self.run_experiment)
        self.experiment_cancel = QPushButton("Cancel")
        self.experiment_cancel.setObjectName("seq2seq_experiment_cancel")
        self.experiment_cancel.setEnabled(False)
        self.experiment_cancel.clicked.connect(self.cancel_experiment)
        self.experiment_progress = QProgressBar()
        self.experiment_progress.setObjectName("seq2seq_experiment_progress")
        self.experiment_progress.setRange(0, len(LENGTHS_DEFAULT) * len(ATTENTIONS))
        self.experiment_progress.setFormat("%v of %m runs")

    def _layout(self) -> None:
        network = QGroupBox("Encoder–decoder")
        form = QFormLayout(network)
        form.addRow("task", self.task_box)
        form.addRow("length", self.length_spin)
        form.addRow("encoder", self.encoder_box)
        form.addRow("", self.bidirectional)
        form.addRow("decoder", self.decoder_box)
        form.addRow("attend", self.attention_box)
        form.addRow("hidden", self.hidden_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.reset_button)
        form.addRow(buttons)
        form.addRow(self.status)

        experiment = QGroupBox("Length experiment")
        column = QVBoxLayout(experiment)
        row = QHBoxLayout()
        row.addWidget(self.experiment_button, 1)
        row.addWidget(self.experiment_cancel)
        column.addLayout(row)
        column.addWidget(self.experiment_progress)

        side = QWidget()
        side.setObjectName("seq2seq_controls")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        side_layout.addWidget(network)
        side_layout.addWidget(experiment)
        side_layout.addStretch(1)
        side.setMinimumWidth(210)
        side.setMaximumWidth(260)
        for box in (self.task_box, self.encoder_box, self.decoder_box, self.attention_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)

        reading = QWidget()
        reading.setObjectName("seq2seq_reading")
        strip = QHBoxLayout(reading)
        strip.setContentsMargins(6, 2, 6, 0)
        strip.addWidget(QLabel("sample"))
        strip.addWidget(self.sample_spin)
        strip.addSpacing(12)
        strip.addWidget(self.step_label)
        strip.addWidget(self.back_button)
        strip.addWidget(self.step_slider, 1)
        strip.addWidget(self.forward_button)
        self.step_label.setMinimumWidth(56)
        self.step_slider.setMinimumWidth(80)
        output = QHBoxLayout()
        output.setContentsMargins(6, 0, 6, 2)
        output.addWidget(self.output_label, 1)
        output.addWidget(self.attention_panel.rows_box, 0, Qt.AlignmentFlag.AlignTop)  # the panel's own control
        self.attention_panel.rows_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.setObjectName("seq2seq_plots")
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.curves_panel, "Loss and accuracy")
        self.bottom_tabs.addTab(self.length_panel, "Accuracy against length")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(reading)
        top_layout.addLayout(output)
        top_layout.addWidget(self.attention_panel, 1)
        self.plots = QSplitter(Qt.Orientation.Vertical)
        self.plots.addWidget(top)
        self.plots.addWidget(self.bottom_tabs)
        self.plots.setStretchFactor(0, 2)
        self.plots.setStretchFactor(1, 1)
        scroller = QScrollArea()
        scroller.setObjectName("seq2seq_controls_scroll")
        scroller.setWidget(side)
        scroller.setWidgetResizable(True)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        scroller.setMinimumWidth(side.minimumWidth())
        scroller.setMaximumWidth(side.maximumWidth())
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroller)
        self.splitter.addWidget(self.plots)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    # ------------------------------------------------------------------ settings

    def settings(self) -> Seq2SeqSettings:
        task = self.task_box.currentData()
        params = {"seq_len": self.length_spin.value()} if any(p.name == "seq_len" for p in TASKS[task].params) else {}
        return Seq2SeqSettings(task=task, task_params=params, encoder_cell=self.encoder_box.currentData(),
                               decoder_cell=self.decoder_box.currentData(), hidden_size=self.hidden_spin.value(),
                               bidirectional=self.bidirectional.isChecked(), attention=self.attention_box.currentData())

    def rebuild(self) -> None:
        """New weights for the chosen settings (training stops), built off the GUI thread."""
        self._stop_training(keep=False)
        task = TASKS[self.task_box.currentData()]
        self.length_spin.setEnabled(any(p.name == "seq_len" for p in task.params))
        settings = self.settings()
        self.session = None
        job = self.jobs.start_latest(BUILD, build_frame, settings)
        job.done.connect(self._built)
        job.failed.connect(lambda text: self.show_error("Could not build the encoder–decoder", text))
        self.status.setText("Building…")

    def _built(self, result: tuple[Seq2SeqSession, Seq2SeqFrame]) -> None:
        self.session, frame = result
        self.show_frame(frame)
        describe = self.session.model.num_params()
        self.status.setText(f"{describe:,} parameters.\nPress Train.")

    # ------------------------------------------------------------------ training

    @property
    def training(self) -> bool:
        return self.train_job is not None and not self.train_job.finished

    def toggle_training(self) -> None:
        if self.training:
            self.pause()
        else:
            self.train()

    def train(self, steps: int = TRAIN_STEPS) -> None:
        """Train in a background process until paused (or ``steps`` more steps)."""
        if self.training or self.session is None:
            return
        session, self.session = self.session, None
        job = self.jobs.start(TRAIN, train_live, session, steps, process=True)
        job.progress.connect(self.show_frame)
        job.done.connect(self._paused)
        job.failed.connect(self._training_failed)
        self.train_job = job
        self.train_button.setText("Pause")
        self.reset_button.setEnabled(False)

    def pause(self) -> None:
        """Stop after the steps under way; the session comes back to resume from."""
        if self.training:
            self.train_job.send("stop")
            self.train_button.setEnabled(False)
            self.status.setText("Pausing…")

    def _paused(self, result: tuple[Seq2SeqSession, Seq2SeqFrame]) -> None:
        self.session, frame = result
        self.show_frame(frame)
        self._idle()

    def _training_failed(self, text: str) -> None:
        self._idle()
        self.show_error("Training stopped", text)
        self.rebuild()

    def _idle(self) -> None:
        self.train_job = None
        self.train_button.setText("Train")
        self.train_button.setEnabled(True)
        self.reset_button.setEnabled(True)

    def _stop_training(self, keep: bool) -> None:
        if self.training:
            job = self.train_job
            if keep:
                job.send("stop")
            else:
                job.done.disconnect(self._paused)
                job.progress.disconnect(self.show_frame)
                job.cancel()
        self._idle()

    # ------------------------------------------------------------------ drawing

    def show_frame(self, frame: Seq2SeqFrame) -> None:
        self.frame = frame
        self.draw()
        evaluation = frame.evaluation
        words = f"step {frame.step:,}"
        if frame.views[0].losses.size:
            words += f" · loss {frame.views[0].losses[-1]:.3g}"
        if evaluation is not None:
            words += (f"\nheld-out tokens {evaluation.token_accuracy:.1%}\n"
                      f"sequences {evaluation.sequence_accuracy:.1%}")
        if frame.diverged:
            words += "\ndiverged (not finite): Reset"
        if self.training or frame.step:
            self.status.setText(words)

    def current_view(self):
        return None if self.frame is None else self.frame.views[self.sample_spin.value()]

    def draw(self) -> None:
        view = self.current_view()
        if view is None:
            return
        self.attention_panel.show_view(view)
        self.curves_panel.show_view(view)
        rows = max(self.attention_panel.row_count(), 1)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(0, rows - 1)
        self.step_slider.blockSignals(False)
        self._step_changed(self.step_slider.value())

    def _step_changed(self, step: int) -> None:
        self.attention_panel.set_step(step)
        self.step_label.setText(f"step {step}")
        view = self.current_view()
        if view is not None:
            self.output_label.setText(self._output_html(view, step))

    def _output_html(self, view, step: int) -> str:
        def tokens(labels, reference=None):
            parts = []
            for t, label in enumerate(labels):
                text = label.replace("<", "&lt;").replace(">", "&gt;")
                style = []
                if reference is not None:
                    right = t < len(reference) and reference[t] == label
                    style.append("color:#1a7f37" if right else "color:#cf222e")
                if t == step:
                    style.append("text-decoration:underline; font-weight:bold")
                parts.append(f"<span style='{';'.join(style)}'>{text}</span>" if style else text)
            return " ".join(parts)

        verdict = "right" if view.correct else "wrong"
        return (f"<b>source</b> {tokens(view.source)} &nbsp; <b>target</b> {tokens(view.target)}<br>"
                f"<b>greedy</b> {tokens(view.decoded, view.target)} ({verdict})")

    # ------------------------------------------------------------------ the length experiment

    @property
    def experimenting(self) -> bool:
        return self.experiment_job is not None and not self.experiment_job.finished

    def run_experiment(self, lengths=LENGTHS_DEFAULT, steps: int = EXPERIMENT_STEPS) -> None:
        """Accuracy against length for each attention kind, in a background process."""
        if self.experimenting:
            return
        settings = self.settings()
        if not any(p.name == "seq_len" for p in TASKS[settings.task].params):
            self.show_error("No length to vary", f"{settings.task} has no length setting: pick reverse or "
                                                 "sort_digits for the length experiment")
            return
        job = self.jobs.start(EXPERIMENT, run_length_experiment, settings, tuple(lengths), ATTENTIONS, (settings.seed,),
                              steps, process=True)
        job.progress.connect(self.show_experiment)
        job.done.connect(self._experiment_done)
        job.failed.connect(lambda text: (self._experiment_idle(), self.show_error("The experiment failed", text)))
        job.cancelled.connect(self._experiment_idle)
        self.experiment_job = job
        self.experiment_progress.setRange(0, len(lengths) * len(ATTENTIONS))
        self.experiment_progress.setValue(0)
        self.experiment_button.setEnabled(False)
        self.experiment_cancel.setEnabled(True)
        self.bottom_tabs.setCurrentWidget(self.length_panel)

    def show_experiment(self, experiment: LengthExperiment) -> None:
        self.experiment = experiment
        self.experiment_progress.setValue(len(experiment.runs))
        self.length_panel.show_view(experiment)

    def _experiment_done(self, experiment: LengthExperiment) -> None:
        self.show_experiment(experiment)
        self._experiment_idle()

    def cancel_experiment(self) -> None:
        if self.experimenting:
            self.experiment_job.cancel()
            self.experiment_cancel.setEnabled(False)

    def _experiment_idle(self) -> None:
        self.experiment_job = None
        self.experiment_button.setEnabled(True)
        self.experiment_cancel.setEnabled(False)

    # ------------------------------------------------------------------ the rest

    def show_error(self, title: str, text: str) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("seq2seq_error")
        box.show()
        return box

    def export_all(self, folder: str | Path) -> list[Path]:
        """PNG, SVG and CSV of every panel drawn so far."""
        return export.export_all({name: panel for name, panel in self.panels().items() if panel.view is not None},
                                 folder)

    def shutdown(self) -> None:
        """Closing the window: stop training and the experiment (the runner stops the rest)."""
        self._stop_training(keep=False)
        self.cancel_experiment()


def render_plots(frame: Seq2SeqFrame, folder: str | Path, sample: int = 0, size: tuple[int, int] = (900, 600),
                 experiment: LengthExperiment | None = None) -> list[Path]:
    """Off screen: the attention heatmap (teacher forcing and greedy), the training curves (and the
    length experiment when given) as PNG, SVG and CSV in ``folder`` (``rnnviz train --arch seq2seq``)."""
    from rnnviz.ui.render import _dispose, _lay_out, ensure_application

    app = ensure_application()
    view = frame.views[min(max(sample, 0), len(frame.views) - 1)]
    attention, curves = AttentionPanel(), Seq2SeqCurvesPanel()
    panels: dict[str, Any] = {"attention": attention, "seq2seq_training": curves}
    attention.show_view(view)
    curves.show_view(view)
    if experiment is not None:
        panels["length_experiment"] = LengthExperimentPanel()
        panels["length_experiment"].show_view(experiment)
    written: list[Path] = []
    try:
        for panel in panels.values():
            _lay_out(panel, size)
        app.processEvents()
        written += export.export_all(panels, folder)
        attention.set_rows("greedy")
        app.processEvents()
        written += export.export_all({"attention_greedy": attention}, folder)
    finally:
        _dispose(app, panels.values())
    return written
