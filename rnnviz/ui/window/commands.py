"""Changes a person makes to the session from the docks, the presets and Reset: validated here,
confirmed when training would be lost, then sent to the worker. A refused value puts the controls back
from the explorer model."""
from __future__ import annotations

from typing import Any, Callable

from rnnviz.ui.controller import SessionController
from rnnviz.ui.step_controls import available_presets
from rnnviz.ui.window.messages import Messages

USER_ERRORS = (ValueError, OSError)  # ConfigError, TaskError, ... are ValueErrors


def progress(steps: int) -> str:
    """"the one training step so far" / "the 12 training steps so far": what a reset would lose."""
    return "the one training step so far" if steps == 1 else f"the {steps:,} training steps so far"


class SessionCommands:
    def __init__(self, controller: SessionController, messages: Messages,
                 status_message: Callable[[str], None]) -> None:
        self.controller = controller
        self.model = controller.model
        self.messages = messages
        self.status_message = status_message
        self.preset_applied: Callable[[Any], None] = lambda preset: None  # the window shows its card
        self.architecture_changed: Callable[[], None] = lambda: None

    def _refuse(self, exc: Exception) -> None:
        self.model.resync()  # put the controls back
        self.messages.warn("That setting cannot be used", str(exc))

    def change_architecture(self, changes: dict[str, Any]) -> None:
        """Network, task or seed changes need new weights: ask first when training has happened."""
        current = self.controller.config
        try:
            config = current.replace(**changes)
        except USER_ERRORS as exc:
            self._refuse(exc)
            return
        if config == current:
            return
        self._replace_asking(
            "Reset the weights?", f"This change needs a new network: {progress(self.model.step)} "
            "will be lost (save the session first to keep them).",
            lambda: (self.architecture_changed(), self.controller.new_session(config)), on_no=self.model.resync)

    def change_training(self, changes: dict[str, Any]) -> None:
        """Learning rate, clipping, ...: from the next step on, weights kept."""
        try:
            config = self.controller.config.replace(**changes)
        except USER_ERRORS as exc:
            self._refuse(exc)
            return
        self.controller.update_training(config)

    def confirm_reset(self) -> None:
        self._replace_asking("Reset the weights?", "Start again from new weights and an empty history?",
                             self.controller.reset)

    def apply_preset(self, name: str) -> None:
        """Replace the session with preset ``name`` (asks first when training progress would be lost)."""
        preset = available_presets()[name]

        def go() -> None:
            self.controller.new_session(preset.config, preset=name)  # the worker sets its gate biases
            self.status_message(f"Preset: {preset.title}")
            self.preset_applied(preset)  # the explanation stays in a card until closed

        self._replace_asking(
            "Open the preset?", f"“{preset.title}” builds a new network: {progress(self.model.step)} "
            "will be lost (save the session first to keep them).", go)

    def _replace_asking(self, title: str, text: str, on_yes: Callable[[], None],
                        on_no: Callable[[], None] | None = None) -> None:
        if self.model.step == 0:
            on_yes()
        else:
            self.messages.confirm(title, text, on_yes=on_yes, on_no=on_no)
