"""What-if edits in the window: change an input or a weight, see every panel recompute, Ctrl+Z undoes.

A double-click on a timestep (hidden state, gates, gradients, predictions, the unrolled diagram) opens a
small editor for x_t of the sample shown (a token from the vocabulary, or the input values); a
double-click on a weight entry opens one for that weight. *Edit ▸ Edit input at the cursor…* does the
same from the keyboard. Each edit is a command on the window's ``QUndoStack`` (Edit ▸ Undo / Redo,
Ctrl+Z / Ctrl+Shift+Z, named after the edit) and goes to the training worker, which applies it between
two steps and sends a fresh frame and state: the training panels, the step-through and BPTT recompute
from it.

What happens to edits when training continues (rnnviz.session.whatif): an input edit is an override of
what the panels inspect and stays until it is undone or the session is reset; a weight edit is part of
the weights, so once training takes a step from it, it can no longer be undone (the undo history is
cleared then, and the status bar says so). Weights are not edited while training runs or while the
panels show a rewound step.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.whatif import (
    InputTarget,
    WeightEntry,
    WeightTarget,
    WhatIfError,
    checked_input,
    checked_value,
    one_hot,
    weight_entry_value,
)

INPUT_NOTE = ("The panels show this sample with the edited input; the training data is unchanged. The edit "
              "stays until you undo it (Ctrl+Z) or reset the session.")
WEIGHT_NOTE = ("The edited value becomes part of the weights: the forward pass, BPTT and every panel recompute "
               "at once, and training continues from it (after a training step it can no longer be undone).")


class InputEditCommand(QUndoCommand):
    """x_t of one sample: ``new`` (None: the original input) on redo, ``old`` back on undo."""

    def __init__(self, whatif: "WhatIf", sample: int, timestep: int, new: np.ndarray | None,
                 old: np.ndarray | None, text: str) -> None:
        super().__init__(text)
        self.whatif, self.sample, self.timestep, self.new, self.old = whatif, sample, timestep, new, old

    def redo(self) -> None:
        self.whatif.send_input(self.sample, self.timestep, self.new)

    def undo(self) -> None:
        self.whatif.send_input(self.sample, self.timestep, self.old)


class WeightEditCommand(QUndoCommand):
    def __init__(self, whatif: "WhatIf", entry: WeightEntry, new: float, old: float, text: str) -> None:
        super().__init__(text)
        self.whatif, self.entry, self.new, self.old = whatif, entry, new, old

    def redo(self) -> None:
        self.whatif.send_weight(self.entry, self.new)

    def undo(self) -> None:
        self.whatif.send_weight(self.entry, self.old)


class WhatIf(QObject):
    """The window's what-if edits and their undo history."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.stack = QUndoStack(self)
        self.dialog: QDialog | None = None
        self._step_at_weight_edit: int | None = None  # the training step the oldest undoable weight edit is at
        self.undo_action = self.stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.stack.createRedoAction(window, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
        self.controller.session_replaced.connect(self._session_replaced)
        self.controller.model.events.step.connect(self._training_moved)

    # ------------------------------------------------------------------ what is edited

    @property
    def session(self):
        return self.controller.session

    def sample(self, target_sample: int) -> int:
        return self.controller.model.selection.sample if target_sample < 0 else target_sample

    def refuse(self, text: str) -> None:
        self.window.messages.warn("That edit cannot be made", text)

    def ask(self, target: InputTarget | WeightTarget, parent: QWidget | None = None) -> QDialog | None:
        """Open the editor for ``target`` (a double-click asked for it)."""
        if isinstance(target, InputTarget):
            return self.ask_input(self.sample(target.sample), target.timestep)
        return self.ask_weight(target.entry, target.shown_label)

    def ask_input_at_cursor(self) -> QDialog | None:
        timestep = self.controller.model.timestep
        return self.ask_input(self.controller.model.selection.sample, 0 if timestep is None else int(timestep))

    def ask_input(self, sample: int, timestep: int) -> QDialog | None:
        session = self.session
        if session is None:
            return None
        if self._rewound():
            return None
        try:
            checked_input(session.original_view_batch, sample, timestep,
                          session.original_view_batch.inputs[timestep, sample], False)
        except WhatIfError as exc:
            self.refuse(str(exc))
            return None
        dialog = InputEditor(self, sample, timestep)
        self._open(dialog)
        return dialog

    def ask_weight(self, entry: WeightEntry, shown_label: str) -> QDialog | None:
        if self.session is None or self._rewound():
            return None
        if self.controller.running:
            self.refuse("Pause training first (Space): a weight is edited between two training steps, "
                        "on weights that stand still.")
            return None
        try:
            value = weight_entry_value(self.session.model.parameters(), entry)
        except WhatIfError as exc:
            self.refuse(str(exc))
            return None
        dialog = WeightEditor(self, entry, shown_label, value)
        self._open(dialog)
        return dialog

    def _rewound(self) -> bool:
        if self.controller.model.rewound_to is not None:
            self.refuse("The panels show a recorded training step: go back to live (the rewind bar's Live) "
                        "before editing.")
            return True
        return False

    def _open(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    # ------------------------------------------------------------------ edits (the editors call these)

    def edit_input(self, sample: int, timestep: int, values: np.ndarray | list[float] | None) -> None:
        """Set x_t of ``sample`` (None: the original input); an undoable command. WhatIfError when refused."""
        session = self.session
        if session is None:
            return
        new = None if values is None else checked_input(session.original_view_batch, sample, timestep, values,
                                                        session.task.info().token_inputs)
        old = session.input_edits.get(sample, timestep)
        if (new is None and old is None) or (new is not None and old is not None and np.array_equal(new, old)):
            return
        self.stack.push(InputEditCommand(self, sample, timestep, new, old,
                                         self.input_text(sample, timestep, new)))

    def edit_weight(self, entry: WeightEntry, value: float) -> None:
        session = self.session
        if session is None:
            return
        new = checked_value(value, entry.label())
        old = weight_entry_value(session.model.parameters(), entry)
        if new == old:
            return
        if self._step_at_weight_edit is None:
            self._step_at_weight_edit = self.controller.model.step
        self.stack.push(WeightEditCommand(self, entry, new, old, f"set {entry.label()} = {new:g}"))

    def input_text(self, sample: int, timestep: int, values: np.ndarray | None) -> str:
        """How the undo history names an input edit: "set x[5] = 'not'", "set x[3] = (0.5, 1)"."""
        if values is None:
            return f"restore x[{timestep}]"
        info = self.session.task.info()
        if info.token_inputs:
            return f"set x[{timestep}] = '{info.input_names[int(np.argmax(values))]}'"
        shown = ", ".join(f"{v:g}" for v in values)
        return f"set x[{timestep}] = " + (shown if len(values) == 1 else f"({shown})")

    def send_input(self, sample: int, timestep: int, values: np.ndarray | None) -> None:
        self.controller.edit_input(sample, timestep, None if values is None else tuple(values.tolist()))
        edits = len(self.session.input_edits.values) if self.session is not None else 0
        self.window.status_message(
            f"What-if: {edits} input{'s' if edits != 1 else ''} of the view batch edited; training data unchanged"
            if edits else "What-if: the original inputs are back")

    def send_weight(self, entry: WeightEntry, value: float) -> None:
        self.controller.edit_weight(entry.name, entry.index, value)
        self.window.status_message(f"What-if: {entry.label()} = {value:g}; training continues from the edited weights")

    def restore_inputs(self) -> None:
        """Every edited input back to the original, as one undoable step."""
        session = self.session
        if session is None or not session.input_edits:
            return
        self.stack.beginMacro("restore the original inputs")
        for (sample, timestep) in list(session.input_edits.values):
            self.edit_input(sample, timestep, None)
        self.stack.endMacro()

    def _session_replaced(self, _session: Any) -> None:
        """A new session (reset, preset, opened): its inputs are the original ones, its weights new."""
        self.stack.clear()
        self._step_at_weight_edit = None

    def _training_moved(self, step: int, _old: int | None = None) -> None:
        """A training step after a weight edit makes it part of the weights: no undoing it from there on."""
        if self._step_at_weight_edit is not None and step != self._step_at_weight_edit:
            self._step_at_weight_edit = None
            if self.stack.count():
                self.stack.clear()
                self.window.status_message("Training continued from the edited weights: those edits are now part "
                                           "of the weights and can no longer be undone")


# ---------------------------------------------------------------------- the editors


class _Editor(QDialog):
    def __init__(self, whatif: WhatIf, title: str, note: str) -> None:
        super().__init__(whatif.window)
        self.whatif = whatif
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setObjectName("whatif_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        self.error.hide()
        note_label = QLabel(note)
        note_label.setWordWrap(True)
        note_label.setObjectName("whatif_note")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(note_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def apply(self) -> None:
        try:
            self.commit()
        except WhatIfError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.adjustSize()  # room for the message: the dialog grows, nothing is squeezed
            return
        self.accept()

    def commit(self) -> None:
        raise NotImplementedError


class InputEditor(_Editor):
    """x_t of one sample: a token from the vocabulary, or one field per input feature."""

    def __init__(self, whatif: WhatIf, sample: int, timestep: int) -> None:
        session = whatif.session
        info = session.task.info()
        label = session.task.timestep_labels(session.view_batch.inputs[:, sample])[timestep]
        shown = f" ('{label}')" if info.token_inputs else ""
        super().__init__(whatif, f"Edit input x[{timestep}]", INPUT_NOTE)
        self.setObjectName("input_editor")
        self.sample, self.timestep, self.tokens = sample, timestep, info.token_inputs
        current = session.view_batch.inputs[timestep, sample]
        self.form.addRow(QLabel(f"Sample {sample}, timestep t = {timestep}{shown}"))
        if self.tokens:
            self.token_box = QComboBox()
            self.token_box.setObjectName("whatif_token")
            self.token_box.setEditable(True)  # type to find a token
            self.token_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.token_box.addItems([repr_token(name) for name in info.input_names])
            self.token_box.setCurrentIndex(int(np.argmax(current)))
            self.form.addRow("token", self.token_box)
            self.fields: list[QLineEdit] = []
        else:
            self.fields = []
            for k, name in enumerate(info.input_names):
                field = QLineEdit(f"{float(current[k]):g}")
                field.setObjectName(f"whatif_input_{k}")
                self.form.addRow(name, field)
                self.fields.append(field)
        original = session.original_view_batch.inputs[timestep, sample]
        if not np.array_equal(original, current):
            self.form.addRow(QLabel("edited; the original was " + (
                repr_token(info.input_names[int(np.argmax(original))]) if self.tokens
                else ", ".join(f"{v:g}" for v in original))))
            restore = self.buttons.addButton("Original", QDialogButtonBox.ButtonRole.ResetRole)
            restore.clicked.connect(self.restore)

    def values(self) -> np.ndarray:
        if self.tokens:
            names = [self.token_box.itemText(i) for i in range(self.token_box.count())]
            text = self.token_box.currentText()
            if text not in names:
                raise WhatIfError(f"{text!r} is not in the vocabulary; choose a token from the list")
            return one_hot(names.index(text), len(names))
        return np.array([checked_value(field.text().strip().replace("−", "-"), name)
                         for field, name in zip(self.fields, self.whatif.session.task.info().input_names)])

    def commit(self) -> None:
        self.whatif.edit_input(self.sample, self.timestep, self.values())

    def restore(self) -> None:
        self.whatif.edit_input(self.sample, self.timestep, None)
        self.accept()


class WeightEditor(_Editor):
    def __init__(self, whatif: WhatIf, entry: WeightEntry, shown_label: str, value: float) -> None:
        super().__init__(whatif, f"Edit weight {shown_label}", WEIGHT_NOTE)
        self.setObjectName("weight_editor")
        self.entry = entry
        heading = QLabel(f"{shown_label} (the model's {entry.label()}), now {value:.6g}")
        heading.setWordWrap(True)
        self.form.addRow(heading)
        self.field = QLineEdit(f"{value:.6g}")
        self.field.setObjectName("whatif_weight")
        self.field.selectAll()
        self.form.addRow("new value", self.field)

    def commit(self) -> None:
        self.whatif.edit_weight(self.entry, checked_value(self.field.text().strip().replace("−", "-"),
                                                          self.entry.label()))


def repr_token(name: str) -> str:
    """A token as the list shows it: visible even when it is a space or a newline."""
    return {" ": "␣ (space)", "\n": "⏎ (newline)", "\t": "⇥ (tab)"}.get(name, name)


__all__ = ["INPUT_NOTE", "WEIGHT_NOTE", "InputEditor", "WeightEditor", "WhatIf"]
