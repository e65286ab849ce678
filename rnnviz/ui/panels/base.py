"""What every panel is: a widget that draws one Snapshot and can export what it shows.

A panel builds its pyqtgraph items once and then, on every ``set_snapshot``, only updates them in
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
from PySide6.QtGui import QAction, QFont
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
from rnnviz.ui import export, theme as theming
from rnnviz.ui.theme import Theme

Rows = list[list[Any]]  # header row of column names, then one row per data point
AskPath = Callable[[QWidget, str, str, str], str]  # (parent, caption, suggested file, filter) -> path or ""

Layout = pg.GraphicsLayoutWidget | pg.GraphicsLayout  # where plots go: a page or a sub-layout of one

LEFT_AXIS_WIDTH = 64  # px, fixed so that stacked plots line up on a shared time axis


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


def labels_are_numbers(labels: Sequence[str]) -> bool:
    """True when the timestep labels are just 0..T-1 (not tokens)."""
    return all(label == str(t) for t, label in enumerate(labels))


def _let_shrink(label: pg.LabelItem, width: float = 24.0) -> None:
    """Let a plot title be narrower than its text so small multiples fit a small panel.

    LabelItem makes its text width its minimum width every time it is resized (``updateMin``);
    this label's ``updateMin`` keeps the height and lowers the minimum width to ``width``.
    """

    def update_min() -> None:
        pg.LabelItem.updateMin(label)
        height = label._sizeHint[Qt.SizeHint.MinimumSize][1]
        label._sizeHint[Qt.SizeHint.MinimumSize] = (width, height)
        label.setMinimumWidth(width)

    label.updateMin = update_min
    update_min()
    label.updateGeometry()


class Panel(QWidget):
    """Base class: subclasses set ``name``/``title``, build items in ``build`` and draw in ``draw``."""

    name: ClassVar[str] = "panel"
    title: ClassVar[str] = "Panel"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = theming.current_theme()
        self.snapshot: Snapshot | None = None
        self.ask_save_path: AskPath = ask_save_path  # replaceable (tests, a remembered folder)
        self._styled: list[tuple[pg.PlotItem, dict[str, str]]] = []  # plots and their axis labels
        self._titles: list[pg.LabelItem] = []
        self._legends: list[pg.LegendItem] = []
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

    def draw(self, snapshot: Snapshot) -> None:
        """Update the items in place from ``snapshot``."""

    def csv_rows(self) -> Rows:
        """Header row, then exactly the data shown."""
        return [["empty"]]

    def restyle(self, theme: Theme) -> None:
        """Re-colour the panel's own items (curves, colour maps) for ``theme``."""

    # --- public API ----------------------------------------------------------------------------

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.draw(snapshot)

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
        self.restyle(theme)

    # --- building blocks -------------------------------------------------------------------------

    def add_page(self, title: str | None = None) -> pg.GraphicsLayoutWidget:
        """A new page (a GraphicsLayoutWidget with the title in row 0) in the panel's stack."""
        page = pg.GraphicsLayoutWidget()
        page.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        page.customContextMenuRequested.connect(lambda pos, p=page: self._show_menu(p, pos))
        page.ci.setContentsMargins(6, 6, 6, 6)
        label = page.addLabel(title or self.title, row=0, col=0, colspan=4)
        self._titles.append(label)
        self.stack.addWidget(page)
        return page

    def remove_page(self, page: pg.GraphicsLayoutWidget) -> None:
        """Drop a page that is no longer used (a layout rebuilt for another model)."""
        index = self.stack.indexOf(page)
        scene = page.scene()
        self._styled = [(plot, labels) for plot, labels in self._styled if plot.scene() is not scene]
        self._titles.pop(index)
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
        **kwargs: Any,
    ) -> pg.PlotItem:
        """A plot with labelled axes, no pyqtgraph menu or buttons, and no auto-ranging.

        ``axis_labels`` maps "left"/"bottom"/... to the axis label and "title" to the plot's title;
        ``align_left`` fixes the left axis width so plots stacked on a shared time axis line up.
        """
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
    ) -> tuple[pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
        """A plot holding an image, with its colour bar in the next layout column."""
        plot = self.add_plot(page, row, col, axis_labels, align_left=align_left)
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

    def _style_axes(self, plot: pg.PlotItem, axis_labels: dict[str, str]) -> None:
        theme = self.theme
        tick_font = QFont()
        tick_font.setPointSize(theme.tick_size)
        for side in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(side)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
            axis.setTickFont(tick_font)
        for side, text in axis_labels.items():
            if side == "title":
                plot.setTitle(text, color=theme.foreground, size=theme.label_size)
                _let_shrink(plot.titleLabel)
                continue
            plot.setLabel(side, text, **{"color": theme.foreground, "font-size": theme.label_size})

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
