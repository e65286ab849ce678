"""Axis helpers shared by the panels: round axis limits, thinned ticks, an index axis whose labels never
collide, and labels that may shrink below their text so small multiples fit a small panel."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

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


def let_shrink(label: pg.LabelItem, width: float | None = 24.0, height: float | None = None) -> None:
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
