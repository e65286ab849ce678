"""Task dock: pick a demo task, read what it teaches, set its parameters, open your own file and
preview one sample."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.tasks import TASKS, Task
from rnnviz.tasks.base import Param
from rnnviz.ui import theme as theming
from rnnviz.ui.controls.fields import combo, select

TEXT_SUFFIXES = {".txt", ".md", ".text"}


class TaskControls(QWidget):
    changed = Signal(str, dict)  # task name, its parameters (only the ones that differ from defaults)

    def __init__(self, task: Task | None, parent: QWidget | None = None) -> None:
        """``task`` None: empty until ``show_task`` (the window's task is built off the UI thread)."""
        super().__init__(parent)
        # encoder–decoder tasks are trained on their own page (a plain RNN has no output of another length)
        self.task_box = combo("task", {name: t.title for name, t in TASKS.items() if t.io != "seq2seq"},
                              task.name if task else "", "The toy problem the network learns")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("description")
        self.form = QFormLayout()
        self.open_button = QPushButton("Open data file…")
        self.open_button.setToolTip("Train on your own text (.txt) or numeric time series (.csv)")
        self.preview = pg.PlotWidget(background=theming.current_theme().background)
        self.preview.setObjectName("preview")
        self.preview.setMinimumHeight(120)
        self.preview.setMaximumHeight(170)
        self.preview.setMenuEnabled(False)
        self.preview.setMouseEnabled(False, False)
        self.preview.getPlotItem().setLabel("bottom", "timestep")
        self.preview.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.preview_text = QLabel()
        self.preview_text.setWordWrap(True)
        self.preview_text.setObjectName("preview_text")
        self._editors: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.task_box)
        layout.addWidget(self.description)
        layout.addLayout(self.form)
        layout.addWidget(self.open_button)
        layout.addWidget(QLabel("<b>One sample</b>"))
        layout.addWidget(self.preview)
        layout.addWidget(self.preview_text)
        layout.addStretch(1)
        self.task_box.currentIndexChanged.connect(self._task_picked)
        self.open_button.clicked.connect(self.open_data_file)
        self.ask_open_path = lambda: QFileDialog.getOpenFileName(
            self, "Open data file", "", "Text or CSV (*.txt *.csv *.md);;All files (*)")[0]
        if task is not None:
            self.show_task(task)
        self.apply_theme(theming.current_theme())
        theming.register(self)  # the preview follows the theme (it was built before the theme was applied)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override: a hidden tab missed a theme change)
        if getattr(self, "_theme", None) is not theming.current_theme():
            self.apply_theme(theming.current_theme())
        super().showEvent(event)

    def apply_theme(self, theme: theming.Theme) -> None:
        """The preview's background and axes in the theme's colours."""
        self._theme = theme
        self.preview.setBackground(theme.background)
        for side in ("left", "bottom"):
            axis = self.preview.getPlotItem().getAxis(side)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)

    # ------------------------------------------------------------------ showing

    def show_task(self, task: Task) -> None:
        """Reflect ``task`` (name, parameters, a preview) without emitting."""
        select(self.task_box, task.name)
        self.description.setText(task.description)
        self._build_form(type(task).params, task.values)
        self._draw_preview(task)

    def _build_form(self, params: tuple[Param, ...], values: dict[str, Any]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        for param in params:
            editor = self._editor(param, values.get(param.name, param.default))
            editor.setToolTip(param.help)
            editor.setObjectName(f"param_{param.name}")
            self._editors[param.name] = editor
            self.form.addRow(param.name.replace("_", " "), editor)

    def _editor(self, param: Param, value: Any) -> QWidget:
        if param.kind in ("int", "float"):
            return self._number_editor(param, value)
        if param.kind == "choice":
            box = QComboBox()
            box.addItems(list(param.choices))
            box.setCurrentText(str(value))
            box.currentIndexChanged.connect(self._params_edited)
            return box
        line = QLineEdit(str(value or ""))
        line.setPlaceholderText("bundled example" if param.kind == "path" else "default")
        line.editingFinished.connect(self._params_edited)
        if param.kind != "path":
            return line
        row = QWidget()
        row.line = line  # type: ignore[attr-defined]
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(line))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line, 1)
        layout.addWidget(browse)
        return row

    def _number_editor(self, param: Param, value: Any) -> QSpinBox | QDoubleSpinBox:
        whole = param.kind == "int"
        box = QSpinBox() if whole else QDoubleSpinBox()
        if not whole:
            box.setDecimals(3)
            box.setSingleStep(0.05)
        cast = int if whole else float
        box.setRange(cast(param.minimum if param.minimum is not None else -1e9),
                     cast(param.maximum if param.maximum is not None else 1e9))
        box.setValue(cast(value))
        box.setKeyboardTracking(False)
        box.valueChanged.connect(self._params_edited)
        return box

    def _draw_preview(self, task: Task) -> None:
        plot = self.preview.getPlotItem()
        plot.clear()
        batch = task.batch(1, np.random.default_rng(0))
        inputs, mask, info = batch.inputs[:, 0], batch.mask[:, 0], task.info()
        steps = np.arange(len(inputs))
        if info.token_inputs:
            tokens = task.timestep_labels(inputs, mask)  # "<pad>" where the sample has ended
            self.preview_text.setText("Input: " + " ".join(tokens[:60]) + (" …" if len(tokens) > 60 else ""))
            ids = np.where(mask > 0, np.argmax(inputs, axis=-1), np.nan)  # padding has no token
            plot.plot(steps, ids, pen=pg.mkPen("#0072b2"), name="input token id", stepMode=None, connect="finite")
        else:
            self.preview_text.setText("")
            for k in range(min(inputs.shape[1], 4)):
                plot.plot(steps, inputs[:, k], pen=pg.mkPen(["#0072b2", "#009e73", "#cc79a7", "#e69f00"][k]),
                          name=info.input_names[k])
        self._plot_targets(plot, task, batch.targets, steps)

    def _plot_targets(self, plot, task: Task, targets: np.ndarray, steps: np.ndarray) -> None:
        pen = pg.mkPen("#d55e00", width=1)
        if task.io == "many_to_many":
            series = targets[:, 0] if targets.ndim == 2 else targets[:, 0, 0]
            plot.plot(steps, np.asarray(series, float), pen=pen, name="target")
        else:
            value = np.asarray(targets[0], float).ravel()[0]
            plot.plot([steps[-1]], [value], pen=None, symbol="o", symbolBrush="#d55e00", name="target")

    # ------------------------------------------------------------------ editing

    def values(self) -> dict[str, Any]:
        out = {}
        for name, editor in self._editors.items():
            if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                out[name] = editor.value()
            elif isinstance(editor, QComboBox):
                out[name] = editor.currentText()
            elif isinstance(editor, QLineEdit):
                out[name] = editor.text().strip()
            else:
                out[name] = editor.line.text().strip()  # type: ignore[attr-defined]
        return out

    def _params_edited(self, *_: Any) -> None:
        name = self.task_box.currentData()
        defaults = {p.name: p.default for p in TASKS[name].params}
        self.changed.emit(name, {k: v for k, v in self.values().items() if v != defaults.get(k)})

    def _task_picked(self) -> None:
        self.changed.emit(self.task_box.currentData(), {})

    def _browse(self, line: QLineEdit) -> None:
        path = self.ask_open_path()
        if path:
            line.setText(path)
            self._params_edited()

    def open_data_file(self, path: str | None = None) -> None:
        """Pick a .txt (character model) or .csv (time series) file and switch to the matching task."""
        path = path or self.ask_open_path()
        if not path:
            return
        task = "text" if Path(path).suffix.lower() in TEXT_SUFFIXES else "series"
        self.changed.emit(task, {"path": str(path)})
