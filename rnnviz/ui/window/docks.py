"""The control docks (Network, Task, Training), bound to the explorer model: they show its config
and turn a person's edits into commands; a refused edit is undone by the model's ``resync``."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

from rnnviz.session.config import SessionConfig
from rnnviz.session.session import Session
from rnnviz.session.weight_sharing import weight_sharing
from rnnviz.ui.controller import SessionController
from rnnviz.ui.controls.network import NetworkControls
from rnnviz.ui.controls.task import TaskControls
from rnnviz.ui.controls.training import TrainingControls
from rnnviz.ui.window.commands import SessionCommands


DOCK_NARROW_WIDTH = 270  # px: the forms still fit; a 1024-px-wide window leaves the panels the rest


def dock(window: QMainWindow, title: str, widget: QWidget, name: str) -> QDockWidget:
    result = QDockWidget(title, window)
    result.setObjectName(name)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(widget)
    # never narrower than its content's least width (Play, Step and Reset side by side) and the scroll bar
    least = widget.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth()
    scroll.setMinimumWidth(max(DOCK_NARROW_WIDTH, least))
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap, never scroll sideways
    result.setWidget(scroll)
    feature = QDockWidget.DockWidgetFeature
    result.setFeatures(feature.DockWidgetMovable | feature.DockWidgetClosable | feature.DockWidgetFloatable)
    return result


class ControlDocks:
    def __init__(self, window: QMainWindow, controller: SessionController, commands: SessionCommands) -> None:
        self.controller = controller
        config = controller.config
        self.network = NetworkControls(config)
        self.task = TaskControls(None)
        self.training = TrainingControls(config)
        self.network_dock = dock(window, "Network", self.network, "network_dock")
        self.task_dock = dock(window, "Task", self.task, "task_dock")
        self.training_dock = dock(window, "Training", self.training, "training_dock")
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        window.addDockWidget(left, self.training_dock)
        window.addDockWidget(left, self.network_dock)
        window.tabifyDockWidget(self.network_dock, self.task_dock)
        self.network_dock.raise_()
        window.resizeDocks([self.training_dock, self.network_dock], [330, 420], Qt.Orientation.Vertical)
        self._shown_task: tuple | None = None
        self._bind(commands)

    @property
    def docks(self) -> tuple[QDockWidget, ...]:
        return self.network_dock, self.task_dock, self.training_dock

    def _bind(self, commands: SessionCommands) -> None:
        controller, model = self.controller, self.controller.model
        model.events.config.connect(self.show_config)
        model.events.running.connect(self.training.show_running)
        controller.session_replaced.connect(self.show_session)
        controller.session_updated.connect(self.show_session)
        self.network.changed.connect(commands.change_architecture)
        self.network.training_changed.connect(commands.change_training)  # the parallel scan: weights kept
        self.task.changed.connect(lambda name, params: commands.change_architecture(
            {"task": name, "task_params": params}))
        self.training.changed.connect(commands.change_training)
        self.training.reseed.connect(lambda seed: commands.change_architecture({"seed": seed}))
        self.training.speed_changed.connect(controller.set_speed)
        self.training.play_button.clicked.connect(controller.toggle)
        self.training.step_button.clicked.connect(lambda: controller.step(1))
        self.training.reset_button.clicked.connect(commands.confirm_reset)

    def show_config(self, config: SessionConfig, old: SessionConfig | None = None) -> None:
        """Show ``config``; ``old == config`` is a resync after a refused edit: every field is redrawn."""
        session = self.controller.session
        built = session is not None and session.config.architecture() == config.architecture()
        self.network.show_config(config, session.model.num_params() if built else None)
        self.network.show_weight_sharing(weight_sharing(session) if built else None)
        self.training.show_config(config)
        same_task = session is not None and (session.config.task, session.config.task_params) == (
            config.task, config.task_params)
        if same_task:
            self._show_task(session, force=old == config)

    def show_session(self, session: Session) -> None:
        self.network.show_config(self.controller.config, session.model.num_params())
        self.network.show_weight_sharing(weight_sharing(session))
        self._show_task(session)

    def _show_task(self, session: Session, force: bool = False) -> None:
        key = (session.config.task, dict(session.config.task_params))
        if force or key != self._shown_task:
            self._shown_task = key
            self.task.show_task(session.task)
