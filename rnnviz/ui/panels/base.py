"""What every panel is: a widget that draws one view state and can export what it shows.

A view state (rnnviz.session.views) is an immutable dataclass of numbers and labels ready to draw;
``show_view(view)`` draws it and ``set_snapshot(snapshot)`` asks the session for the panel's view
state of a Snapshot first (the training panels). A panel computes nothing beyond layout and colour
scaling. It builds its pyqtgraph items once and then, on every view, only updates them in
place (``setData``, ``setImage(..., autoLevels=False)``, axis ranges set only when they change). A
panel has one or more *pages* (a ``GraphicsLayoutWidget`` each, in a stack) for views that differ in
layout, e.g. LSTM gates vs GRU gates; the title sits inside the page so exports carry it.
Right click opens a menu with "Export PNG…", "Export SVG…" and "Export CSV…".
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.snapshot import Snapshot
from rnnviz.session.views.common import TimeAxis
from rnnviz.ui import export, theme as theming
from rnnviz.ui.theme import Theme

Rows = list[list[Any]]  # header row of column names, then one row per data point
AskPath = Callable[[QWidget, str, str, str], str]  # (parent, caption, suggested file, filter) -> path or ""

Layout = pg.GraphicsLayoutWidget | pg.GraphicsLayout  # where plots go: a page or a sub-layout of one

LEFT_AXIS_WIDTH = 64  # px, fixed so that stacked plots line up on a shared time axis
MARKER_LIMIT = 60  # draw point markers on curves only up to this many points (they merge, and cost time)
KEY_SEPARATOR = "&nbsp;&nbsp;&nbsp;"  # between two entries of a key
KeyEntry = tuple[int | str, str, str]  # (pen index or colour, glyph such as "━" or "●", text)


def ask_save_path(parent: QWidget, caption: str, suggested: str, file_filter: str) -> str:
    """Ask where to save with the platform's file dialog; "" when the person cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, file_filter)
    return path


def nice_ceiling(value: float) -> float:
    """The smallest "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) >= ``value``.

    Axis limits snap to these so they change rarely while training, not every frame.
    """
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if factor * power >= value * (1 - 1e-12):
            return factor * power
    return 10.0 * power


def thinned_ticks(labels: Sequence[str], most: int = 30) -> list[tuple[float, str]]:
    """Tick (position, label) pairs for every k-th timestep so that at most ``most`` are shown."""
    stride = max(1, math.ceil(len(labels) / most))
    return [(float(t), labels[t]) for t in range(0, len(labels), stride)]


def index_ticks(count: int, most: int = 12) -> list[list[tuple[float, str]]]:
    """Integer ticks 0..count-1 (thinned) for a heatmap's row or column axis."""
    return [thinned_ticks([str(i) for i in range(count)], most), []]


def nice_stride(minimum: float) -> int:
    """The smallest whole "round" stride (1, 2, 5, 10, 20, 25, 50, 100, ...) that is >= ``minimum``."""
    if not np.isfinite(minimum) or minimum <= 1:
        return 1
    power = 10 ** max(0, math.floor(math.log10(minimum)))
    for factor in (1, 2, 2.5, 5, 10):
        stride = factor * power
        if stride == int(stride) and stride >= minimum:
            return int(stride)
    return int(10 * power)


class IndexAxis(pg.AxisItem):
    """An axis over whole-number positions (timesteps, units, classes) whose tick labels never collide.

    The ticks sit every ``stride`` positions, with the stride (1, 2, 5, 10, 20, 25, 50, ...) picked when
    the axis is painted from its length in pixels and the size of its widest label, so the labels stay
    apart at any panel size. ``set_labels`` names the positions (tokens, class names) instead of their
    numbers. With ``continuous=True`` and no labels the axis behaves like pyqtgraph's own (real values).
    """

    GAP_EM = 0.9  # blank space between two labels, in multiples of the font height

    def __init__(self, orientation: str, continuous: bool = False, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.labels: tuple[str, ...] | None = None
        self.continuous = continuous
        self._widest: dict[tuple, float] = {}

    def set_labels(self, labels: Sequence[str] | None) -> None:
        """Name position i with ``labels[i]`` (None: show the numbers); redraws only on a change."""
        labels = None if labels is None else tuple(labels)
        if labels != self.labels:
            self.labels = labels
            self.picture = None
            self.update()

    def _font(self) -> QFont:
        return self.style["tickFont"] or QFont()

    def label_extent(self, low: float, high: float) -> float:
        """Pixels one label needs along the axis, the gap to its neighbour included."""
        metrics = QFontMetricsF(self._font())
        gap = self.GAP_EM * metrics.height()
        if self.orientation in ("left", "right"):
            return 0.8 * metrics.height() + gap
        if self.labels is not None:
            key = (self.labels, self._font().toString())
            if key not in self._widest:
                self._widest[key] = max((metrics.horizontalAdvance(t) for t in self.labels), default=0.0)
            return self._widest[key] + gap
        texts = (str(int(math.floor(low))), str(int(math.ceil(high))))
        return max(metrics.horizontalAdvance(t) for t in texts) + gap

    def stride(self, low: float, high: float, size: float) -> int:
        """Positions between two ticks for the visible range ``low..high`` over ``size`` pixels."""
        pixels_per_position = size / max(high - low, 1e-9)
        return nice_stride(self.label_extent(low, high) / max(pixels_per_position, 1e-9))

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803 (pyqtgraph API)
        if self.continuous and self.labels is None:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        if size <= 0 or not np.isfinite([low, high]).all():
            return []
        stride = self.stride(low, high, size)
        first, last = math.ceil(low / stride) * stride, math.floor(high)
        if self.labels is not None:
            first, last = max(first, 0), min(last, len(self.labels) - 1)
        return [(float(stride), [float(v) for v in range(int(first), int(last) + 1, stride)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        if self.continuous and self.labels is None:
            return super().tickStrings(values, scale, spacing)
        if self.labels is None:
            return [str(int(round(v))) for v in values]
        return [self.labels[int(round(v))] for v in values]


def _let_shrink(label: pg.LabelItem, width: float | None = 24.0, height: float | None = None) -> None:
    """Let a label be narrower (``width``) or shorter (``height``) than its text so small multiples fit a
    small panel; None keeps the text's own size on that side.

    LabelItem makes its text size its minimum size every time it is resized (``updateMin``);
    this label's ``updateMin`` lowers the minimum to ``width`` / ``height`` afterwards.
    """

    def update_min() -> None:
        pg.LabelItem.updateMin(label)
        text_width, text_height = label._sizeHint[Qt.SizeHint.MinimumSize]
        least = (text_width if width is None else width, text_height if height is None else height)
        label._sizeHint[Qt.SizeHint.MinimumSize] = least
        label.setMinimumSize(*least)

    label.updateMin = update_min
    update_min()
    label.updateGeometry()


class Panel(QWidget):
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
        self.graphics = self.add_page()
        self.menu = self._build_menu()
        self.build()
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

    def current_page(self) -> pg.GraphicsLayoutWidget:
        return self.stack.currentWidget()

    def to_csv(self, path: str | Path) -> Path:
        return export.write_csv(self.csv_rows(), path)

    def export_png(self, path: str | Path) -> Path:
        self._ensure_laid_out()
        return export.export_png(self.current_page(), path)

    def export_svg(self, path: str | Path) -> Path:
        self._ensure_laid_out()
        return export.export_svg(self.current_page(), path)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.theme is not theming.current_theme():
            self.apply_theme(theming.current_theme())
        super().showEvent(event)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for index in range(self.stack.count()):
            self.stack.widget(index).setBackground(theme.background)
        for label in self._titles:
            label.setText(label.text, color=theme.foreground, size=theme.title_size, bold=True)
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
        _let_shrink(label)  # a long title must not make the page wider than the panel
        self._titles.append(label)
        self.stack.addWidget(page)
        return page

    def remove_page(self, page: pg.GraphicsLayoutWidget) -> None:
        """Drop a page that is no longer used (a layout rebuilt for another model)."""
        index = self.stack.indexOf(page)
        scene = page.scene()
        self._styled = [(plot, labels) for plot, labels in self._styled if plot.scene() is not scene]
        self._titles.pop(index)
        self._keys = {k: v for k, v in self._keys.items() if v[0].scene() is not scene}
        self.stack.removeWidget(page)
        page.deleteLater()

    def set_page_title(self, page: pg.GraphicsLayoutWidget, text: str) -> None:
        label = self._titles[self.stack.indexOf(page)]
        if label.text != text:
            label.setText(text, color=self.theme.foreground, size=self.theme.title_size, bold=True)

    def add_sublayout(self, page: pg.GraphicsLayoutWidget, row: int) -> pg.GraphicsLayout:
        """A tight nested layout in ``row`` of ``page`` (a row of small multiples with colour bars)."""
        sub = page.ci.addLayout(row=row, col=0)
        sub.setContentsMargins(0, 0, 0, 0)
        sub.layout.setSpacing(4)
        return sub

    def add_plot(
        self, page: Layout, row: int, col: int, axis_labels: dict[str, str], align_left: bool = False,
        index_axes: Sequence[str] = (), **kwargs: Any,
    ) -> pg.PlotItem:
        """A plot with labelled axes, no pyqtgraph menu or buttons, and no auto-ranging.

        ``axis_labels`` maps "left"/"bottom"/... to the axis label and "title" to the plot's title;
        ``align_left`` fixes the left axis width so plots stacked on a shared time axis line up;
        the sides in ``index_axes`` get an ``IndexAxis`` (whole-number ticks that never collide).
        """
        if index_axes:
            kwargs["axisItems"] = {side: IndexAxis(side) for side in index_axes}
        kwargs.setdefault("enableMenu", False)  # never built: pyqtgraph's menus cost ~20 ms a plot at start-up
        plot = page.addPlot(row=row, col=col, **kwargs)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.disableAutoRange()
        plot.layout.setContentsMargins(2, 2, 2, 2)
        if align_left:
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        self._styled.append((plot, dict(axis_labels)))
        self._style_axes(plot, axis_labels)
        return plot

    def add_heatmap(
        self,
        page: Layout,
        row: int,
        col: int,
        axis_labels: dict[str, str],
        colormap: pg.ColorMap,
        levels: tuple[float, float],
        bar_label: str,
        align_left: bool = False,
        index_axes: Sequence[str] = (),
    ) -> tuple[pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
        """A plot holding an image, with its colour bar in the next layout column."""
        plot = self.add_plot(page, row, col, axis_labels, align_left=align_left, index_axes=index_axes)
        image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(image)
        bar = self.add_colorbar(page, row, col + 1, [image], colormap, levels, bar_label)
        return plot, image, bar

    def add_colorbar(
        self,
        page: Layout,
        row: int,
        col: int,
        images: list[pg.ImageItem],
        colormap: pg.ColorMap,
        levels: tuple[float, float],
        label: str,
        horizontal: bool = False,
    ) -> pg.ColorBarItem:
        """A fixed (non-interactive) colour bar for ``images``; its value axis carries ``label``."""
        bar = pg.ColorBarItem(values=levels, width=12, colorMap=colormap, interactive=False,
                              colorMapMenu=False, orientation="horizontal" if horizontal else "vertical")
        bar.setImageItem(images)
        bar.axis.enableAutoSIPrefix(False)
        self.set_bar_levels(bar, levels)
        if horizontal:
            bar.setMaximumHeight(60)
            side = "bottom"
        else:
            bar.axis.setWidth(62 if label else 42)
            side = "right"
        page.addItem(bar, row=row, col=col)
        labels = {side: label} if label else {}
        self._styled.append((bar, labels))
        self._style_axes(bar, labels)
        return bar

    def add_time_axis(self, page: Layout, row: int, col: int, under: pg.PlotItem,
                      label: str = "timestep") -> IndexAxis:
        """The one time axis of a stack of plots, in its own row under them, x-linked to ``under``.

        It is the bottom axis of an otherwise empty, flat plot whose left axis is as wide as
        ``under``'s, so its ticks line up with the data and every plot of the stack keeps the same height.
        """
        holder = self.add_plot(page, row, col, {"bottom": label}, index_axes=("bottom",))
        holder.setXLink(under)
        holder.getViewBox().setMouseEnabled(False, False)
        left = holder.getAxis("left")
        left.setStyle(showValues=False, tickLength=0)
        left.setWidth(under.getAxis("left").width())
        axis = holder.getAxis("bottom")
        tick_height = QFontMetricsF(axis.style["tickFont"] or QFont()).height()
        label_font = QFont()
        label_font.setPointSizeF(float(self.theme.label_size.rstrip("pt")))
        height = tick_height + QFontMetricsF(label_font).height() + 16
        axis.setHeight(height)
        holder.setMaximumHeight(height + 4)
        holder.setMinimumHeight(height + 4)
        return axis

    def add_key(self, page: Layout, row: int, col: int = 0, colspan: int = 1,
                justify: str = "center", vertical: bool = False) -> pg.LabelItem:
        """A legend *outside* the plots (a label in the layout), so it never covers data.

        One line of entries, or one entry per line when ``vertical`` (a narrow column beside a plot).
        """
        label = page.addLabel("", row=row, col=col, colspan=colspan, justify=justify)
        _let_shrink(label, 8.0)
        self._keys[id(label)] = (label, ())
        self._key_separators[id(label)] = "<br>" if vertical else KEY_SEPARATOR
        return label

    def set_key(self, label: pg.LabelItem, entries: Sequence[KeyEntry]) -> None:
        """Show ``entries`` ((pen index or colour, glyph, text), ...) in ``label``; re-lays out only on a change."""
        entries = tuple(entries)
        if self._keys.get(id(label), (None, None))[1] != entries or not label.text:
            self._keys[id(label)] = (label, entries)
            self._render_key(label, entries)

    def _render_key(self, label: pg.LabelItem, entries: tuple[KeyEntry, ...]) -> None:
        parts = []
        for colour, glyph, text in entries:
            colour = self.theme.pen(colour) if isinstance(colour, int) else colour
            mark = f"<span style='color:{colour}'>{glyph}</span>&nbsp;" if glyph else ""
            parts.append(f"{mark}{text}")
        separator = self._key_separators.get(id(label), KEY_SEPARATOR)
        label.setText(separator.join(parts) or "&nbsp;", color=self.theme.foreground, size=self.theme.label_size)

    def set_time_axis(self, plot: pg.PlotItem, time: TimeAxis, axis: IndexAxis | None = None) -> None:
        """Name ``plot``'s bottom axis (or ``axis``) by the view's timestep labels when they are tokens
        or padding, else by number, and title it "input token" or "timestep"."""
        (axis or plot.getAxis("bottom")).set_labels(time.labels if time.named else None)
        self.set_axis_label(plot, "bottom", time.title)

    def set_axis_label(self, plot: pg.PlotItem, side: str, text: str) -> None:
        """Change one axis label (kept through theme changes); does nothing when it is unchanged."""
        for styled_plot, labels in self._styled:
            if styled_plot is plot:
                if labels.get(side) == text:
                    return
                labels[side] = text
                break
        plot.setLabel(side, text, **{"color": self.theme.foreground, "font-size": self.theme.label_size})

    def set_plot_title(self, plot: pg.PlotItem, text: str) -> None:
        """Change a plot's title (kept through theme changes); does nothing when it is unchanged."""
        for styled_plot, labels in self._styled:
            if styled_plot is plot:
                if labels.get("title") == text:
                    return
                labels["title"] = text
                break
        plot.setTitle(text, color=self.theme.foreground, size=self.theme.label_size)
        _let_shrink(plot.titleLabel)

    @staticmethod
    def show_markers(curve: pg.PlotDataItem, points: int, symbol: str = "o") -> None:
        """Point markers only on short curves (<= MARKER_LIMIT points); set only when it changes."""
        wanted = symbol if points <= MARKER_LIMIT else None
        if curve.opts["symbol"] != wanted:
            curve.setSymbol(wanted)

    @staticmethod
    def set_bar_levels(bar: pg.ColorBarItem, levels: tuple[float, float], middle: bool = True) -> None:
        """Set a colour bar's levels and label only its ends (and middle): no crowded ticks on a short bar.

        Does nothing when the levels are unchanged, so a live panel does not re-lay out its text.
        """
        levels = (float(levels[0]), float(levels[1]))
        if getattr(bar, "_rnnviz_ticked", None) == (levels, middle):
            return
        bar._rnnviz_ticked = (levels, middle)
        if tuple(bar.levels()) != levels:
            bar.setLevels(levels)
        low, high = levels
        centre = 0.0 if low < 0 < high else (low + high) / 2
        values = (low, centre, high) if middle else (low, high)
        bar.axis.setTicks([[(v, f"{v:.2g}") for v in values], []])

    def add_legend(self, plot: pg.PlotItem, **kwargs: Any) -> pg.LegendItem:
        legend = plot.addLegend(offset=(-8, 8), labelTextSize="11pt", **kwargs)
        self._legends.append(legend)
        self._style_legend(legend)
        return legend

    def _style_legend(self, legend: pg.LegendItem) -> None:
        background = pg.mkColor(self.theme.background)
        background.setAlpha(215)
        legend.setBrush(pg.mkBrush(background))
        legend.setPen(pg.mkPen(self.theme.muted, width=1))
        legend.setLabelTextColor(self.theme.foreground)

    def set_ranges(self, plot: pg.PlotItem, x: tuple[float, float], y: tuple[float, float]) -> None:
        """Set the view range only when it differs from the last one set (no autoRange per frame)."""
        key = id(plot)
        if self._ranges.get(key) != (x, y):
            self._ranges[key] = (x, y)
            plot.setRange(xRange=x, yRange=y, padding=0)

    def pen(self, index: int) -> Any:
        return pg.mkPen(self.theme.pen(index), width=1)

    # --- internals ------------------------------------------------------------------------------

    def _style_axes(self, plot: pg.PlotItem | pg.AxisItem, axis_labels: dict[str, str]) -> None:
        theme = self.theme
        tick_font = QFont()
        tick_font.setPointSize(theme.tick_size)
        if isinstance(plot, pg.AxisItem):  # a lone axis (a time axis shared by stacked plots)
            self._style_axis(plot, tick_font)
            for text in axis_labels.values():
                plot.setLabel(text, **{"color": theme.foreground, "font-size": theme.label_size})
            return
        for side in ("left", "bottom", "right", "top"):
            self._style_axis(plot.getAxis(side), tick_font)
        for side, text in axis_labels.items():
            if side == "title":
                plot.setTitle(text, color=theme.foreground, size=theme.label_size)
                _let_shrink(plot.titleLabel)
                continue
            plot.setLabel(side, text, **{"color": theme.foreground, "font-size": theme.label_size})

    def _style_axis(self, axis: pg.AxisItem, tick_font: QFont) -> None:
        axis.setPen(self.theme.foreground)
        axis.setTextPen(self.theme.foreground)
        if axis.style["tickFont"] is None or axis.style["tickFont"].pointSize() != tick_font.pointSize():
            axis.setTickFont(tick_font)

    def _ensure_laid_out(self) -> None:
        """Give a never-shown panel a real size so exports are not 0 x 0."""
        if self.current_page().width() < 200 or self.current_page().height() < 150:
            self.resize(max(self.width(), 900), max(self.height(), 560))
            self.layout().activate()
            self.current_page().resize(self.stack.size())

    def _build_menu(self) -> QMenu:
        menu = QMenu(self)
        self.export_actions: dict[str, QAction] = {}
        for kind in ("PNG", "SVG", "CSV"):
            action = menu.addAction(f"Export {kind}…")
            action.triggered.connect(lambda _checked=False, k=kind: self.export_with_dialog(k))
            self.export_actions[kind] = action
        return menu

    def _show_menu(self, page: pg.GraphicsLayoutWidget, pos: QPoint) -> None:
        self.menu.popup(page.mapToGlobal(pos))

    def export_with_dialog(self, kind: str) -> Path | None:
        """Ask for a file name and export as ``kind`` ("PNG", "SVG" or "CSV"); None if cancelled."""
        suffix = kind.lower()
        path = self.ask_save_path(self, f"Export {self.title} as {kind}", f"{self.name}.{suffix}",
                                  f"{kind} files (*.{suffix})")
        if not path:
            return None
        writer = {"PNG": self.export_png, "SVG": self.export_svg, "CSV": self.to_csv}[kind]
        try:
            return writer(path)
        except export.ExportError as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return None
