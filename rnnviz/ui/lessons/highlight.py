"""An outline around the widget a lesson step talks about: drawn on top of it, transparent to the mouse,
following its size; showing it first brings its page, tab or dock to the front."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QDockWidget, QStackedWidget, QTabWidget, QWidget

OUTLINE_COLOUR = "#e69f00"  # Okabe-Ito orange: stands out on the light and the dark theme
OUTLINE_WIDTH = 4


class Outline(QWidget):
    """A rounded frame painted over its parent (the highlighted widget)."""

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("lesson_outline")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setGeometry(target.rect())
        self.raise_()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(OUTLINE_COLOUR), OUTLINE_WIDTH)
        painter.setPen(pen)
        half = OUTLINE_WIDTH / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 6, 6)
        painter.end()


class Highlighter(QObject):
    """Outlines one widget at a time."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target: QWidget | None = None
        self.outline: Outline | None = None

    def show(self, target: QWidget) -> None:
        self.clear()
        bring_forward(target)
        self.target = target
        self.outline = Outline(target)
        self.outline.show()
        target.installEventFilter(self)

    def clear(self) -> None:
        if self.target is not None and shiboken6.isValid(self.target):
            self.target.removeEventFilter(self)
        if self.outline is not None and shiboken6.isValid(self.outline):
            self.outline.hide()
            self.outline.deleteLater()
        self.target = self.outline = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.target and self.outline is not None and event.type() in (
                QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.ChildAdded):
            self.outline.setGeometry(self.target.rect())
            self.outline.raise_()
        return False


def bring_forward(widget: QWidget) -> None:
    """Make ``widget`` visible: the tab, stacked page and dock holding it come to the front."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QStackedWidget) and parent.indexOf(child) >= 0:
            tabs = parent.parentWidget()
            if isinstance(tabs, QTabWidget) and tabs.indexOf(child) >= 0:
                tabs.setCurrentWidget(child)
            else:
                parent.setCurrentWidget(child)
        if isinstance(parent, QDockWidget):
            parent.show()
            parent.raise_()
        child, parent = parent, parent.parentWidget()
