"""Window geometry, dock and splitter layout, and the theme: remembered between runs; presentation mode.

Presentation mode (F5, for a projector) shows fewer panels (``PRESENTATION_PANELS``) with large text and
thick lines, hides the control docks and the rewind bar; leaving it (F5 or Esc) restores the window
exactly as it was: docks, toolbars, splitters, which panels were shown, fonts.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QSplitter, QToolBar, QWidget

from rnnviz.ui import theme as theming

DEFAULT_SIZE = (1440, 900)
NARROW_WINDOW = 1200  # px: below this the control docks take their narrowest width (a 1024 projector)
DOCK_WIDTHS = (270, 300)  # px: narrow window, wide window
PRESENTATION_PANELS = ("loss", "hidden", "gradients")  # on the Training page; the others are hidden


@dataclass
class SavedLayout:
    """What presentation mode changes, as it was before."""

    window_state: QByteArray
    splitters: list[QByteArray]
    hidden_panels: list[QWidget]
    app_font: QFont


class WindowLayout:
    def __init__(self, window: QMainWindow, settings: QSettings, splitters: list[QSplitter]) -> None:
        self.window = window
        self.settings = settings
        self.splitters = splitters
        self._default_state = QByteArray()
        self._default_splitters: list[QByteArray] = []
        self.presenting: SavedLayout | None = None
        self._narrow: bool | None = None  # the window was narrower than NARROW_WINDOW when last resized

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

    def fit_docks(self, width: int) -> None:
        """Narrow control docks in a narrow window, their usual width in a wide one (set when the window
        crosses NARROW_WINDOW, so a person's own dock width is kept otherwise)."""
        narrow = width < NARROW_WINDOW
        if narrow == self._narrow:
            return
        self._narrow = narrow
        docks = [d for d in self.window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
        if docks:
            self.window.resizeDocks(docks, [DOCK_WIDTHS[0 if narrow else 1]] * len(docks), Qt.Orientation.Horizontal)

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
        if self.presenting is not None:  # remember the working layout, never the presentation one
            self.set_presentation(False)
        self.settings.setValue("geometry", self.window.saveGeometry())
        self.settings.setValue("window_state", self.window.saveState())
        for splitter in self.splitters:
            self.settings.setValue(f"splitter/{splitter.objectName()}", splitter.saveState())
        self.settings.sync()

    def set_theme(self, name: str) -> None:
        theming.apply_theme(name)
        self.settings.setValue("theme", name)

    def set_presentation(self, on: bool, panels: dict[str, QWidget] | None = None) -> None:
        """Presentation mode on (fewer ``panels`` of the training page, large text, no control docks)
        or off (everything exactly as before)."""
        if on == (self.presenting is not None):
            return
        if on:
            self._enter_presentation(panels or {})
        else:
            self._leave_presentation()

    def _enter_presentation(self, panels: dict[str, QWidget]) -> None:
        window, app = self.window, QApplication.instance()
        hidden = [panel for name, panel in panels.items()
                  if name not in PRESENTATION_PANELS and not panel.isHidden()]
        self.presenting = SavedLayout(window.saveState(), [s.saveState() for s in self.splitters], hidden,
                                      QFont(app.font()))
        for dock in window.findChildren(QDockWidget):
            dock.hide()
        for bar in window.findChildren(QToolBar):
            if bar.objectName() == "rewind_bar":
                bar.hide()
        for panel in hidden:
            panel.hide()
        font = QFont(app.font())
        font.setPointSizeF(font.pointSizeF() * theming.PRESENTATION_FONT_FACTOR)
        app.setFont(font)
        theming.apply_theme(theming.current_theme().name, large=True)

    def _leave_presentation(self) -> None:
        saved, self.presenting = self.presenting, None
        QApplication.instance().setFont(saved.app_font)
        theming.apply_theme(theming.current_theme().name, large=False)
        for panel in saved.hidden_panels:
            panel.show()
        self.window.restoreState(saved.window_state)
        for splitter, state in zip(self.splitters, saved.splitters):
            splitter.restoreState(state)
