"""Keys and legends of a panel (mixed into Panel): legends outside the plots, re-coloured per theme."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg

from rnnviz.ui.panels.axes import let_shrink
from rnnviz.ui.panels.plots import Layout
from rnnviz.ui.theme import Theme

KEY_SEPARATOR = "&nbsp;&nbsp;&nbsp;"  # between two entries of a key
KeyEntry = tuple[int | str, str, str]  # (pen index or colour, glyph such as "━" or "●", text)


class Keys:
    """Keys (labels in the layout) and legends (inside a plot); the panel owns ``theme`` and the dicts."""

    theme: Theme
    _legends: list[pg.LegendItem]
    _keys: dict[int, tuple[pg.LabelItem, tuple[KeyEntry, ...]]]
    _key_separators: dict[int, str]

    def add_key(self, page: Layout, row: int, col: int = 0, colspan: int = 1,
                justify: str = "center", vertical: bool = False) -> pg.LabelItem:
        """A legend *outside* the plots (a label in the layout), so it never covers data.

        One line of entries, or one entry per line when ``vertical`` (a narrow column beside a plot).
        """
        label = page.addLabel("", row=row, col=col, colspan=colspan, justify=justify)
        let_shrink(label, 8.0)
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
