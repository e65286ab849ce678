"""Window geometry, dock and splitter layout, and the theme: remembered between runs."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from rnnviz.ui import theme as theming

DEFAULT_SIZE = (1440, 900)


class WindowLayout:
    def __init__(self, window: QMainWindow, settings: QSettings, splitters: list[QSplitter]) -> None:
        self.window = window
        self.settings = settings
        self.splitters = splitters
        self._default_state = QByteArray()
        self._default_splitters: list[QByteArray] = []

    def restore(self) -> None:
        window = self.window
        window.resize(*DEFAULT_SIZE)
        self._default_state = window.saveState()
        self._default_splitters = [s.saveState() for s in self.splitters]
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray):
            window.restoreState(state)
        for splitter in self.splitters:
            saved = self.settings.value(f"splitter/{splitter.objectName()}")
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)
        theme = self.settings.value("theme", "light")
        theming.apply_theme(theme if theme in theming.THEMES else "light")

    def adopt(self, splitters: list[QSplitter]) -> None:
        """Splitters built after start-up (a page built when first needed): restore and keep them."""
        for splitter in splitters:
            self.splitters.append(splitter)
            self._default_splitters.append(splitter.saveState())
            saved = self.settings.value(f"splitter/{splitter.objectName()}")
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)

    def reset(self) -> None:
        self.window.restoreState(self._default_state)
        for splitter, state in zip(self.splitters, self._default_splitters):
            splitter.restoreState(state)

    def save(self) -> None:
        self.settings.setValue("geometry", self.window.saveGeometry())
        self.settings.setValue("window_state", self.window.saveState())
        for splitter in self.splitters:
            self.settings.setValue(f"splitter/{splitter.objectName()}", splitter.saveState())
        self.settings.sync()

    def set_theme(self, name: str) -> None:
        theming.apply_theme(name)
        self.settings.setValue("theme", name)
