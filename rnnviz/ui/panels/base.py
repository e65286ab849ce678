"""What every panel is: a widget that draws one view state and can export what it shows.

A view state (rnnviz.session.views) is an immutable dataclass of numbers and labels ready to draw;
``show_view(view)`` draws it and ``set_snapshot(snapshot)`` asks the session for the panel's view
state of a Snapshot first (the training panels). A panel computes nothing beyond layout and colour
scaling. It builds its pyqtgraph items once and then, on every view, only updates them in
place (``setData``, ``setImage(..., autoLevels=False)``, axis ranges set only when they change). A
panel has one or more *pages* (a ``GraphicsLayoutWidget`` each, in a stack) for views that differ in
layout, e.g. LSTM gates vs GRU gates; the title sits inside the page so exports carry it.
Right click opens a menu with "Export PNG…", "Export SVG…" and "Export CSV…".

The building blocks live in mixins, one concern each: ``Hovering`` (hover.py: hover-to-explain, what-if
double-clicks and the "?" button), ``PlotBuilder`` (plots.py: plots, axes, a shared
time axis), ``ColourBars`` (colorbars.py), ``Keys`` (keys.py: keys and legends) and ``PanelExport``
(exporting.py: the writers, the menu and the file dialog); axes.py holds the axis helpers.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any, ClassVar

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from rnnviz.session.snapshot import Snapshot
from rnnviz.ui import theme as theming
from rnnviz.ui.panels.axes import (  # noqa: F401 (re-exported: the panels import them from here)
    IndexAxis,
    index_ticks,
    let_shrink,
    nice_ceiling,
    nice_stride,
    thinned_ticks,
)
from rnnviz.ui.panels.colorbars import ColourBars
from rnnviz.ui.panels.exporting import AskPath, PanelExport, Rows, ask_save_path
from rnnviz.ui.panels.hover import Hovering
from rnnviz.ui.panels.keys import KEY_SEPARATOR, KeyEntry, Keys  # noqa: F401 (re-exported)
from rnnviz.ui.panels.plots import LEFT_AXIS_WIDTH, MARKER_LIMIT, Layout, PlotBuilder  # noqa: F401 (re-exported)
from rnnviz.ui.theme import Theme

HELP_BUTTON_ROOM = 26  # px: the floating "?" button (22 px) and a gap
TITLE_SHRINK_BEFORE_WRAP = 2.0  # pt: a title with a layer/direction suffix wraps rather than shrink more
SMALLEST_TITLE_PT = 9.0  # a title shrinks to fit its panel down to this size, then is cut short with "…"


def fitted_title_size(text: str, width: float, largest_pt: float, smallest_pt: float = SMALLEST_TITLE_PT,
                      bold: bool = True) -> float:
    """The largest point size <= ``largest_pt`` (and >= ``smallest_pt``) at which ``text`` (plain or
    simple HTML) fits in ``width`` pixels."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text.replace("<br>", "\n")))
    size = largest_pt
    font = QFont()
    font.setBold(bold)
    while size > smallest_pt:
        font.setPointSizeF(size)
        metrics = QFontMetricsF(font)
        if max((metrics.horizontalAdvance(line) for line in plain.split("\n")), default=0.0) <= width:
            break
        size -= 1.0
    return max(size, smallest_pt)


__all__ = ["LEFT_AXIS_WIDTH", "MARKER_LIMIT", "KEY_SEPARATOR", "IndexAxis", "KeyEntry", "Layout", "Panel", "Rows",
           "ask_save_path", "index_ticks", "let_shrink", "nice_ceiling", "nice_stride", "thinned_ticks"]


class Panel(Hovering, PlotBuilder, ColourBars, Keys, PanelExport, QWidget):
    """Base class: subclasses set ``name``/``title``, build items in ``build`` and draw in ``draw``."""

    name: ClassVar[str] = "panel"
    title: ClassVar[str] = "Panel"
    # the session's builder of this panel's view state from a Snapshot (None: the panel is given view
    # states directly, e.g. by the step-through page)
    view_of: ClassVar[Callable[[Snapshot], Any] | None] = None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = theming.current_theme()
        self.snapshot: Snapshot | None = None
        self.view: Any = None  # the view state drawn last
        self.ask_save_path: AskPath = ask_save_path  # replaceable (tests, a remembered folder)
        self._styled: list[tuple[pg.PlotItem, dict[str, str]]] = []  # plots and their axis labels
        self._titles: list[pg.LabelItem] = []
        self._title_texts: list[str] = []  # each page's own title, before the suffix
        self._title_suffix = ""  # which layer and direction, when the network has a choice
        self._legends: list[pg.LegendItem] = []
        self._keys: dict[int, tuple[pg.LabelItem, tuple[KeyEntry, ...]]] = {}
        self._key_separators: dict[int, str] = {}
        self._ranges: dict[int, tuple] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.setSpacing(2)
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(6, 0, 6, 0)
        outer.addLayout(self.controls)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.notice = QLabel()  # instead of the plots when there is nothing sensible to draw (a diverged run)
        self.notice.setObjectName("panel_notice")
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setMargin(12)
        self.notice.hide()
        outer.addWidget(self.notice, 1)
        self.graphics = self.add_page()
        self.menu = self._build_menu()
        self.build()
        self.add_help_button()
        self.apply_theme(self.theme)
        theming.register(self)

    # --- for subclasses ------------------------------------------------------------------------

    def build(self) -> None:
        """Create the pyqtgraph items (once)."""

    def draw(self, view: Any) -> None:
        """Update the items in place from the view state ``view``."""

    def csv_rows(self) -> Rows:
        """Header row, then exactly the data shown."""
        return [["empty"]]

    def restyle(self, theme: Theme) -> None:
        """Re-colour the panel's own items (curves, colour maps) for ``theme``."""

    def time_plots(self) -> list[pg.PlotItem]:
        """The plots whose horizontal axis is the timestep (a shared cursor line can follow them)."""
        return []

    # --- public API ----------------------------------------------------------------------------

    def show_view(self, view: Any) -> None:
        """Draw ``view`` (this panel's view state)."""
        self.view = view
        self.draw(view)

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Draw this panel's view state of ``snapshot``."""
        builder = type(self).view_of
        if builder is None:
            raise TypeError(f"the {self.name} panel is drawn from view states (show_view), not from snapshots")
        self.snapshot = snapshot
        self.show_view(builder(snapshot))
        self.mark_edited(snapshot.edited_timesteps)  # what-if inputs (hover.py)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.theme is not theming.current_theme():
            self.apply_theme(theming.current_theme())
        super().showEvent(event)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for index in range(self.stack.count()):
            self.stack.widget(index).setBackground(theme.background)
        self._render_titles()
        for plot, axis_labels in self._styled:
            self._style_axes(plot, axis_labels)
        for legend in self._legends:
            self._style_legend(legend)
        for label, entries in list(self._keys.values()):
            self._render_key(label, entries)
        self.restyle(theme)

    # --- building blocks -------------------------------------------------------------------------

    def add_page(self, title: str | None = None) -> pg.GraphicsLayoutWidget:
        """A new page (a GraphicsLayoutWidget with the title in row 0) in the panel's stack."""
        page = pg.GraphicsLayoutWidget()
        page.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        page.customContextMenuRequested.connect(lambda pos, p=page: self._show_menu(p, pos))
        page.ci.setContentsMargins(6, 6, 6, 6)
        label = page.addLabel(title or self.title, row=0, col=0, colspan=4)
        let_shrink(label)  # a long title must not make the page wider than the panel
        self._titles.append(label)
        self._title_texts.append(title or self.title)
        self._render_title(len(self._titles) - 1)
        self.stack.addWidget(page)
        self.install_hover(page)  # hover-to-explain (hover.py)
        return page

    def remove_page(self, page: pg.GraphicsLayoutWidget) -> None:
        """Drop a page that is no longer used (a layout rebuilt for another model)."""
        index = self.stack.indexOf(page)
        scene = page.scene()
        self._styled = [(plot, labels) for plot, labels in self._styled if plot.scene() is not scene]
        self._titles.pop(index)
        self._title_texts.pop(index)
        self._keys = {k: v for k, v in self._keys.items() if v[0].scene() is not scene}
        self.stack.removeWidget(page)
        page.deleteLater()

    def set_page_title(self, page: pg.GraphicsLayoutWidget, text: str) -> None:
        index = self.stack.indexOf(page)
        if self._title_texts[index] != text:
            self._title_texts[index] = text
            self._render_title(index)

    def set_title_suffix(self, suffix: str) -> None:
        """Text after every page's title, e.g. " · layer 1 · ← backward" (which part of the network)."""
        if suffix == self._title_suffix:
            return
        self._title_suffix = suffix
        self._render_titles()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._render_titles()

    def _render_titles(self) -> None:
        for index in range(len(self._titles)):
            self._render_title(index)

    def _render_title(self, index: int) -> None:
        """A page's title (and suffix) as large as the theme says, smaller when the panel is narrow."""
        label, text = self._titles[index], self._title_texts[index] + self._title_suffix
        largest = float(self.theme.title_size.rstrip("pt"))
        # a centred title keeps clear of the "?" floating at the right end of its row, on both sides
        room = self.width() - 16 - (2 * HELP_BUTTON_ROOM if getattr(self, "_help_floats", False) else 0)
        size = fitted_title_size(text, room, largest) if self.width() > 100 else largest
        if self._title_suffix and size < largest - TITLE_SHRINK_BEFORE_WRAP:  # the suffix on a line of its own
            text = f"{self._title_texts[index]}<br>{self._title_suffix.removeprefix(' · ')}"
            size = fitted_title_size(text, room, largest) if self.width() > 100 else largest
        wanted = (text, size, self.theme.foreground)
        if getattr(label, "_rnnviz_title", None) != wanted:
            label._rnnviz_title = wanted
            label.setText(text, color=self.theme.foreground, size=f"{size:g}pt", bold=True)

    def show_notice(self, text: str | None) -> None:
        """Say ``text`` in place of the plots (None: show the plots again)."""
        self.notice.setText(text or "")
        self.notice.setVisible(bool(text))
        self.stack.setVisible(not text)

