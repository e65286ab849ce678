"""Cards that stay until dismissed: the welcome card of the first start (over the pages, centred) and
the card with a preset's explanation (above the pages, pushing them down, until closed or replaced)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QFrame, QGraphicsDropShadowEffect, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from rnnviz.session.presets import Preset

WELCOME_KEY = "welcome/dismissed"
ACCENT = "#e69f00"  # the lessons' outline colour (Okabe-Ito orange)
WELCOME_WIDTH = 520


def _close_button(name: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    button.setText("✕")
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


def _text(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class PresetCard(QFrame):
    """A preset's title and explanation, above the pages until closed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preset_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.text = _text("", "preset_card_text")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = _close_button("preset_card_close", "Hide this explanation")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 4, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_preset(self, preset: Preset) -> None:
        self.text.setText(f"<b>{_escape(preset.title)}.</b> {_escape(preset.description)}")
        self.show()


class WelcomeCard(QFrame):
    """The first start's card: start the first lesson, or explore freely."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("welcome_card")
        # stands out from the panels behind it: the base colour (white / near black), an orange edge, a shadow
        self.setStyleSheet(f"#welcome_card {{ background: palette(base); border: 2px solid {ACCENT}; "
                           "border-radius: 8px; }")
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(24)
        shadow.setOffset(0, 4)
        shadow.setColor(QColor(0, 0, 0, 110))
        self.setGraphicsEffect(shadow)
        title = _text("<h2>Welcome to rnnviz</h2>", "welcome_title")
        body = _text(
            "rnnviz shows what a recurrent network does inside while it learns: what it remembers, how the "
            "error flows back through time, and why plain RNNs forget.<br><br>"
            "<b>New to recurrent networks?</b> The first lesson takes a few minutes and needs no background: "
            "it sets everything up and tells you what to press.", "welcome_text")
        self.lesson_button = QPushButton("Start the first lesson")
        self.lesson_button.setObjectName("welcome_lesson")
        self.lesson_button.setDefault(True)
        self.explore_button = QPushButton("Explore freely")
        self.explore_button.setObjectName("welcome_explore")
        self.explore_button.setToolTip("Press Play (Space) to train; Help ▸ Lessons and Help ▸ Welcome "
                                       "bring the lessons and this card back")
        self.close_button = _close_button("welcome_close", "Close (Help ▸ Welcome shows it again)")
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.explore_button)
        buttons.addWidget(self.lesson_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 12, 12, 14)
        layout.addLayout(top)
        layout.addWidget(body)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        self.hide()
        parent.installEventFilter(self)

    def place(self) -> None:
        """Centred over the pages, at most WELCOME_WIDTH wide."""
        parent = self.parentWidget()
        width = min(WELCOME_WIDTH, max(parent.width() - 40, 200))
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        height = max(height, self.minimumSizeHint().height())
        self.setGeometry((parent.width() - width) // 2, max((parent.height() - height) // 3, 10), width, height)
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (watched is self.parentWidget() and event.type() in (QEvent.Type.Resize, QEvent.Type.Show)
                and not self.isHidden()):
            self.place()
        return False


class Notices:
    """The window's cards; ``settings`` remembers that the welcome card was dismissed."""

    def __init__(self, pages: QWidget, settings: QSettings, start_first_lesson: Callable[[], None]) -> None:
        self.settings = settings
        self.preset_card = PresetCard()
        self.welcome = WelcomeCard(pages)
        self.welcome.lesson_button.clicked.connect(lambda: (self.dismiss_welcome(), start_first_lesson()))
        self.welcome.explore_button.clicked.connect(self.dismiss_welcome)
        self.welcome.close_button.clicked.connect(self.dismiss_welcome)

    @property
    def first_start(self) -> bool:
        return not _true(self.settings.value(WELCOME_KEY, False))

    def show_welcome(self) -> None:
        self.welcome.show()
        self.welcome.place()

    def dismiss_welcome(self) -> None:
        self.welcome.hide()
        self.settings.setValue(WELCOME_KEY, True)

    def show_preset(self, preset: Preset) -> None:
        self.preset_card.show_preset(preset)

    def hide_preset(self) -> None:
        self.preset_card.hide()


def _true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
