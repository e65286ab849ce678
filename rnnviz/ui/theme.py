"""Light and dark themes: colours for pyqtgraph, the Qt palette and the colour maps.

``apply_theme(name)`` sets pyqtgraph's defaults (for widgets created afterwards), the application
palette and stylesheet, and re-styles every visible panel (panels register themselves on creation;
a hidden one re-styles itself when it is next shown).
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, replace
from typing import Protocol

import pyqtgraph as pg
import shiboken6
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from rnnviz.bundled import bundled_text


class ThemeError(ValueError):
    """An unknown theme name: the message lists the themes there are."""


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str  # axes, tick labels, text
    panel_background: str  # Qt window colour around the plots
    muted: str  # grid lines, padding shade, secondary text
    pens: tuple[str, ...]  # line colours, in order of use (colour-blind safe)
    padding_brush: tuple[int, int, int, int]  # RGBA of the shade over padded timesteps
    sequential_map: str = "viridis"
    diverging_map: str = "CET-D1A"
    title_size: str = "14pt"
    label_size: str = "11pt"
    tick_size: int = 10  # points
    line_width: int = 1  # px of curves (wider only without antialiasing: wide antialiased pens are 100x slower)
    large: bool = False  # presentation mode's sizes

    def pen(self, index: int) -> str:
        return self.pens[index % len(self.pens)]


# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies; an eighth (Tol's wine,
# rose on dark) so that eight curves (the Compare window's cells) still differ.
LIGHT = Theme(
    name="light",
    background="#ffffff",
    foreground="#202020",
    panel_background="#f3f3f3",
    muted="#9a9a9a",
    pens=("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#882255"),
    padding_brush=(120, 120, 120, 70),
)
DARK = Theme(
    name="dark",
    background="#1e1e1e",
    foreground="#e8e8e8",
    panel_background="#2b2b2b",
    muted="#808080",
    pens=("#56b4e9", "#e69f00", "#009e73", "#f0a3d0", "#f0e442", "#ff7f50", "#ffffff", "#cc6677"),
    padding_brush=(200, 200, 200, 55),
    diverging_map="CET-D4",  # dark-centred (blue - near black - red): a white centre glares on a dark page
)
THEMES: dict[str, Theme] = {LIGHT.name: LIGHT, DARK.name: DARK}


class Themeable(Protocol):
    def apply_theme(self, theme: Theme) -> None: ...

    def isVisible(self) -> bool: ...


_current: Theme = LIGHT
_live: "weakref.WeakSet[Themeable]" = weakref.WeakSet()
PRESENTATION_FONT_FACTOR = 1.5  # presentation mode: every font this much larger


def presentation_sizes(theme: Theme) -> Theme:
    """``theme`` with presentation mode's large text and thicker lines (for a projector)."""
    return replace(theme, title_size="20pt", label_size="16pt", tick_size=14, line_width=3, large=True)


def current_theme() -> Theme:
    return _current


def get_theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ThemeError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}") from None


def register(widget: Themeable) -> None:
    """Re-style ``widget`` whenever the theme changes (held weakly)."""
    _live.add(widget)


def apply_theme(name: str, large: bool | None = None) -> Theme:
    """Switch the whole app to theme ``name`` ("light" or "dark") and return it; ``large``: presentation
    mode's sizes on or off (None: as they are)."""
    global _current
    large = _current.large if large is None else large
    theme = presentation_sizes(get_theme(name)) if large else get_theme(name)
    _current = theme
    pg.setConfigOptions(background=theme.background, foreground=theme.foreground, antialias=False)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        _class_fonts(app)
        app.setPalette(palette(theme))
        sheet = stylesheet(theme)
        if app.styleSheet() != sheet:
            app.setStyleSheet(sheet)
    for widget in list(_live):
        if not shiboken6.isValid(widget):  # deleted on the C++ side, wrapper not yet collected
            _live.discard(widget)
        elif widget.isVisible():  # hidden panels re-style when next shown (Panel.showEvent)
            widget.apply_theme(theme)
    return theme


def palette(theme: Theme) -> QPalette:
    """A Qt palette matching ``theme`` (window, text, base and highlight colours)."""
    pal = QPalette()
    window, text = QColor(theme.panel_background), QColor(theme.foreground)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: QColor(theme.background),
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.ToolTipBase: QColor(theme.background),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Highlight: QColor(theme.pens[0]),
        QPalette.ColorRole.HighlightedText: QColor(theme.background),
        QPalette.ColorRole.PlaceholderText: QColor(theme.muted),
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    disabled = QColor(theme.muted)  # a disabled button must look disabled (greyed text)
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


def stylesheet(theme: Theme) -> str:
    """The rules of the theme's stylesheet, the bundled resources/style/<name>.qss ("" when it has
    none). Keep it empty if you can: while an application stylesheet is set, a palette change no
    longer reaches the widgets, so every theme switch must re-apply it, which re-polishes every widget
    (~1 s for the main window)."""
    text = bundled_text("style", f"{theme.name}.qss")
    return re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL).strip()


LABEL_POINT_SIZE = 11.0  # labels and check boxes read a little larger than the controls' default


def _class_fonts(app: QApplication) -> None:
    """Label and check-box text size for every widget of those classes (no stylesheet needed)."""
    factor = PRESENTATION_FONT_FACTOR if _current.large else 1.0
    for class_name in ("QLabel", "QCheckBox"):
        font = QFont(app.font())
        font.setPointSizeF(LABEL_POINT_SIZE * factor)
        app.setFont(font, class_name)
