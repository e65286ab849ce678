"""Hover-to-explain and the "?" button of every panel (mixed into Panel).

Moving the mouse over a heatmap cell or near a curve point shows a tooltip with what that number is:
its value, unit, timestep and token, and for gates, hidden states and gradients the equation with the
cell's numbers plugged in. The words and the maths come from the session
(``rnnviz.session.views.explain``); this module only finds what is under the mouse and shows the text.

What each panel's items are is said in one place, ``rnnviz.ui.panels.hover_targets`` (panel name ->
a function listing the panel's hover targets at this moment), so the panels themselves need no code
for it. A target is an image (the cell under the mouse), a curve (the nearest point within
``CURVE_REACH_PX``) or a plot whose x position is an index (bars). Double-clicking a target that names
a what-if edit asks the window for it (``window.whatif``).

The "?" button in each panel's top-right corner shows two sentences on what the panel shows and what
to look for (``rnnviz.ui.panels.help_texts``).
"""
from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import QLabel, QToolButton, QWidget

from rnnviz.session.views.explain import Explanation, number
from rnnviz.ui.panels.help_texts import help_text

CURVE_REACH_PX = 12.0  # a curve point answers the mouse within this distance
TIP_WIDTH_PX = 560  # the tooltip wraps beyond this width
HIDE_DELAY_MS = 150  # the tooltip stays this long after the mouse leaves a target (no flicker between cells)

Describe = Callable[..., "Explanation | str | None"]
WhatIf = Callable[..., "Any | None"]  # the what-if edit a double-click asks for (rnnviz.ui.whatif), or None


@dataclass
class ImageTarget:
    """An image: ``describe(x_index, y_index)`` of the data cell under the mouse (col-major: x is
    the first array axis)."""

    item: pg.ImageItem
    describe: Describe
    edit: WhatIf | None = None

    def find(self, scene_pos: QPointF) -> tuple | None:
        image = self.item.image
        if image is None or not self.item.isVisible():
            return None
        point = self.item.mapFromScene(scene_pos)
        x, y = math.floor(point.x()), math.floor(point.y())
        width, height = (image.shape[0], image.shape[1]) if self.item.axisOrder == "col-major" else \
            (image.shape[1], image.shape[0])
        return (x, y) if 0 <= x < width and 0 <= y < height else None


@dataclass
class CurveTarget:
    """A curve: ``describe(index, x, y)`` of the nearest data point within CURVE_REACH_PX."""

    item: pg.PlotDataItem
    describe: Describe
    edit: WhatIf | None = None

    def find(self, scene_pos: QPointF) -> tuple | None:
        if not self.item.isVisible():
            return None
        x_shown, y_shown = self.item.getData()
        if x_shown is None or not len(x_shown):
            return None
        box = self.item.getViewBox()
        if box is None or not box.sceneBoundingRect().contains(scene_pos):
            return None
        mouse = box.mapSceneToView(scene_pos)
        pixel = box.viewPixelSize()  # (data units per pixel in x, in y)
        if not all(np.isfinite(pixel)) or min(pixel) <= 0:
            return None
        with np.errstate(invalid="ignore"):
            dx = (np.asarray(x_shown, dtype=float) - mouse.x()) / pixel[0]
            dy = (np.asarray(y_shown, dtype=float) - mouse.y()) / pixel[1]
            distance = np.hypot(dx, dy)
        if not np.isfinite(distance).any():
            return None
        nearest = int(np.nanargmin(distance))
        if distance[nearest] > CURVE_REACH_PX:
            return None
        x_data = self.item.xData if self.item.xData is not None else x_shown
        y_data = self.item.yData if self.item.yData is not None else y_shown
        if len(x_data) != len(x_shown):  # decimated for display: the original point with that x
            nearest = int(np.argmin(np.abs(np.asarray(x_data, dtype=float) - float(x_shown[nearest]))))
        return nearest, float(x_data[nearest]), float(y_data[nearest])


@dataclass
class ColumnTarget:
    """A plot whose x positions are indices (bars, a tree of nodes): ``describe(index, y)`` of the column
    under the mouse, ``y`` the mouse's height in the plot's coordinates."""

    plot: pg.PlotItem
    describe: Describe
    count: Callable[[], int]
    edit: WhatIf | None = None

    @property
    def item(self) -> pg.GraphicsObject:
        return self.plot

    def find(self, scene_pos: QPointF) -> tuple | None:
        box = self.plot.getViewBox()
        if not self.plot.isVisible() or not box.sceneBoundingRect().contains(scene_pos):
            return None
        point = box.mapSceneToView(scene_pos)
        index = int(round(point.x()))
        return (index, float(point.y())) if 0 <= index < self.count() else None


Target = ImageTarget | CurveTarget | ColumnTarget


# ---------------------------------------------------------------------- the tooltip


def rich(text: str) -> str:
    """Plain CellSpec notation as rich text: x_t, h_(t-1), W_if become subscripts (HTML-escaped first)."""
    text = html.escape(text, quote=False)
    text = re.sub(r"_\(([^)]*)\)", lambda m: f"<sub>{m.group(1).replace('-', '−')}</sub>", text)
    text = re.sub(r"_([A-Za-z0-9ΔλĀ′]+)", lambda m: f"<sub>{m.group(1)}</sub>", text)
    return text


def explanation_html(explanation: Explanation | str, muted: str = "#777", accent: str = "#1f77b4") -> str:
    if isinstance(explanation, str):
        return f"<div>{rich(explanation)}</div>"
    e = explanation
    lines = [f"<b>{rich(e.title)} = {number(e.value)}</b>"]
    if e.facts:
        lines.append(f"<span style='color:{muted}'>{' · '.join(rich(f) for f in e.facts)}</span>")
    if e.equation:
        lines.append(rich(e.equation))
    if e.numbers:
        lines.append(f"<span style='color:{accent}'>&nbsp;&nbsp;{rich(e.numbers)}</span>")
    if e.note:
        lines.append(f"<i style='color:{muted}'>{rich(e.note)}</i>")
    return "<br>".join(lines)


class HoverTip(QLabel):
    """A tooltip window of our own (rich text, wraps, can be grabbed for a screenshot)."""

    def __init__(self) -> None:
        # transparent for input: the mouse moving on under the tip (it sits below right of the pointer) still
        # reaches the panel, which keeps explaining what is under it
        super().__init__(None, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowTransparentForInput)
        self.setObjectName("hover_tip")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setMargin(8)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.owner: object | None = None  # the panel whose number it explains
        self.hide_timer = QTimer(self)
        self.hide_timer.setSingleShot(True)
        self.hide_timer.setInterval(HIDE_DELAY_MS)
        self.hide_timer.timeout.connect(self.hide)

    def show_text(self, text: str, global_pos: QPoint, theme: Any) -> None:
        self.hide_timer.stop()
        self.setStyleSheet(f"QLabel#hover_tip {{ background: {theme.panel_background}; color: {theme.foreground};"
                           f" border: 1px solid {theme.muted}; border-radius: 4px; font-size: 11pt; }}")
        if text != self.text():
            self.setText(text)
        self.setWordWrap(False)  # as wide as its longest line, up to TIP_WIDTH_PX; wrapped beyond
        self.setMinimumWidth(0)
        self.setMaximumWidth(16777215)
        natural = self.sizeHint().width()
        self.setWordWrap(natural > TIP_WIDTH_PX)
        self.setFixedWidth(min(natural, TIP_WIDTH_PX))
        self.adjustSize()
        self.move(self._placed(global_pos))
        self.show()
        self.raise_()

    def _placed(self, global_pos: QPoint) -> QPoint:
        """Below right of the mouse, kept on its screen."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        x, y = global_pos.x() + 16, global_pos.y() + 18
        if screen is not None:
            if x + self.width() > screen.right():
                x = max(screen.left(), global_pos.x() - self.width() - 8)
            if y + self.height() > screen.bottom():
                y = max(screen.top(), global_pos.y() - self.height() - 8)
        return QPoint(x, y)

    def hide_soon(self) -> None:
        if self.isVisible() and not self.hide_timer.isActive():
            self.hide_timer.start()


_tip: HoverTip | None = None


def hover_tip() -> HoverTip:
    """The one tooltip window of the application."""
    global _tip
    if _tip is None:
        _tip = HoverTip()
    return _tip


# ---------------------------------------------------------------------- the mixin


class Hovering:
    """Hover explanations, double-click what-ifs and the "?" button; mixed into Panel (a QWidget)."""

    name: str
    theme: Any
    stack: Any

    def install_hover(self, page: pg.GraphicsLayoutWidget) -> None:
        """Follow the mouse over ``page`` (called for every page the panel adds)."""
        scene = page.scene()
        scene.sigMouseMoved.connect(lambda pos, p=page: self.hover_at(p, pos))
        page.setMouseTracking(True)
        # double-clicks straight from the view: pyqtgraph's scene hands a Qt 6 double-click on at the next release
        watcher = DoubleClicks(page, lambda pos, p=page: self.double_clicked(p, p.mapToScene(pos)))
        page.viewport().installEventFilter(watcher)

    def hover_targets(self) -> list[Target]:
        """What can be hovered now (rnnviz.ui.panels.hover_targets)."""
        from rnnviz.ui.panels.hover_targets import targets_of

        try:
            return targets_of(self)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):  # a panel mid-rebuild
            return []

    def target_at(self, page: pg.GraphicsLayoutWidget, scene_pos: QPointF) -> tuple[Target, tuple] | None:
        scene = page.scene()
        for target in self.hover_targets():
            if target.item.scene() is not scene:
                continue
            found = target.find(scene_pos)
            if found is not None:
                return target, found
        return None

    def explain_at(self, page: pg.GraphicsLayoutWidget, scene_pos: QPointF) -> Explanation | str | None:
        """What the number under ``scene_pos`` is (None: nothing there)."""
        hit = self.target_at(page, scene_pos)
        if hit is None:
            return None
        target, found = hit
        try:
            return target.describe(*found)
        except (IndexError, KeyError, ValueError, TypeError):  # a view that changed under the mouse
            return None

    def hover_at(self, page: pg.GraphicsLayoutWidget, scene_pos: QPointF) -> None:
        explanation = self.explain_at(page, scene_pos)
        tip = hover_tip()
        if explanation is None:
            tip.hide_soon()
            return
        global_pos = page.mapToGlobal(page.mapFromScene(scene_pos))
        tip.show_text(explanation_html(explanation, self.theme.muted, self.theme.pen(0)), global_pos, self.theme)
        tip.owner = self

    def double_clicked(self, page: pg.GraphicsLayoutWidget, scene_pos: QPointF) -> bool:
        """Ask the window for the what-if edit of the target under ``scene_pos``; True when there was one."""
        hit = self.target_at(page, scene_pos)
        if hit is None or hit[0].edit is None:
            return False
        edit = hit[0].edit(*hit[1])
        whatif = getattr(self.window(), "whatif", None)  # type: ignore[attr-defined]
        if edit is None or whatif is None:
            return False
        hover_tip().hide()
        whatif.ask(edit, self)
        return True

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        hover_tip().hide_soon()
        super().leaveEvent(event)  # type: ignore[misc]

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """A panel that goes away (another page, the window closed) takes its tooltip with it, and only
        its own: panels hidden elsewhere (a page built in the background) leave the tip alone."""
        if _tip is not None and _tip.owner is self:
            _tip.hide()
        super().hideEvent(event)  # type: ignore[misc]

    # ------------------------------------------------------------------ what-if marks

    def mark_edited(self, timesteps: tuple[int, ...]) -> None:
        """A dashed line labelled "what-if" at each timestep whose input was edited, on every time plot."""
        marks: dict[tuple[int, int], pg.InfiniteLine] = self.__dict__.setdefault("_edit_marks", {})
        plots = {id(plot): plot for plot in self.time_plots()}  # type: ignore[attr-defined]
        wanted = {(key, t) for key in plots for t in timesteps}
        for key in list(marks):
            if key not in wanted:
                line = marks.pop(key)
                if line.scene() is not None:
                    line.getViewBox().removeItem(line) if line.getViewBox() is not None else None
        pen = pg.mkPen(self.theme.pen(1), width=1, style=Qt.PenStyle.DashLine)
        # only one plot says "what-if", the first that is a curve plot (heatmap strips are too small for a label)
        first = next((key for key, plot in plots.items() if not plot.getViewBox().yInverted()), None)
        for key, t in sorted(wanted - set(marks)):
            label = {"label": "what-if", "labelOpts": {"position": 0.92, "color": self.theme.pen(1)}} \
                if key == first else {}
            line = pg.InfiniteLine(pos=t, angle=90, movable=False, pen=pen, **label)
            line.setZValue(30)
            plots[key].addItem(line, ignoreBounds=True)
            marks[(key, t)] = line

    # ------------------------------------------------------------------ the "?" button

    def add_help_button(self) -> None:
        """The "?" in the top-right corner: two sentences on what the panel shows and what to look for."""
        button = QToolButton(self)  # type: ignore[arg-type]
        button.setObjectName(f"help_{self.name}")
        button.setText("?")
        button.setAutoRaise(True)
        button.setFixedSize(22, 22)
        button.setToolTip(help_text(self.name))
        button.setCursor(Qt.CursorShape.WhatsThisCursor)
        button.clicked.connect(self.show_help)
        self.help_button = button
        self._help_floats = self.controls.count() == 0  # type: ignore[attr-defined]
        if not self._help_floats:  # a row of controls above the plots: the "?" ends it (no extra height)
            self.controls.addWidget(button)  # type: ignore[attr-defined]
        self._place_help_button()

    def show_help(self) -> None:
        tip = hover_tip()
        button = self.help_button
        text = f"<b>{html.escape(type(self).title)}</b><br>{html.escape(help_text(self.name))}"  # type: ignore[attr-defined]
        tip.show_text(text, button.mapToGlobal(QPoint(0, button.height())) - QPoint(TIP_WIDTH_PX // 2, 0), self.theme)

    def _place_help_button(self) -> None:
        button = getattr(self, "help_button", None)
        if button is not None and getattr(self, "_help_floats", False):  # the right end of the title row
            top = self.stack.mapTo(self, QPoint(0, 0)).y()  # type: ignore[arg-type]
            button.move(self.width() - button.width() - 6, top + 3)  # type: ignore[attr-defined]
            button.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)  # type: ignore[misc]
        self._place_help_button()


class DoubleClicks(QObject):
    """Calls ``on_double_click(viewport position)`` for each left double-click on a view's viewport."""

    def __init__(self, view: QWidget, on_double_click: Callable[[QPoint], bool]) -> None:
        super().__init__(view)
        self.on_double_click = on_double_click

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            return bool(self.on_double_click(event.position().toPoint()))
        return False


__all__ = ["ColumnTarget", "CurveTarget", "HoverTip", "Hovering", "ImageTarget", "explanation_html", "hover_tip"]
