"""Axis helpers shared by the panels: round axis limits, thinned ticks, an index axis whose labels never
collide (words and characters on a time axis: all of them when they fit, turned upright when they do
not fit side by side, thinned only past that, each one whole on hover), and labels that may shrink below
their text so small multiples fit a small panel."""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF

from rnnviz.session.views.common import PAD_LABEL

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
    CHARACTER_GAP_EM = 0.15  # between single characters: they read as a line of text
    WORD_GAP_EM = 0.5  # between words
    UPRIGHT_GAP_EM = 0.05  # between two upright labels: a line box already holds ascent and descent
    UPRIGHT_MAX_EM = 5.5  # an upright label is cut short ("…") past this length, in font heights

    def __init__(self, orientation: str, continuous: bool = False, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.labels: tuple[str, ...] | None = None
        self.continuous = continuous
        self.allow_upright = False  # may turn its labels upright (time axes: set_labels(..., upright=True))
        self.upright = False  # the labels are drawn turned 90° (bottom and top axes with labels only)
        self._upright_extra = 0.0  # pixels added to the axis height for upright labels
        self._widest: dict[tuple, float] = {}
        self.setAcceptHoverEvents(True)

    def set_labels(self, labels: Sequence[str] | None, upright: bool = False) -> None:
        """Name position i with ``labels[i]`` (None: show the numbers); ``upright``: the labels may turn
        upright when they do not fit side by side (a time axis of words). Redraws only on a change."""
        labels = None if labels is None else tuple(labels)
        if labels != self.labels or upright != self.allow_upright:
            self.labels = labels
            self.allow_upright = upright
            self.picture = None
            self.update()

    def widest_label(self) -> float:
        """Pixels of the widest label, side by side."""
        key = (self.labels, self._font().toString())
        if key not in self._widest:
            metrics = QFontMetricsF(self._font())
            self._widest[key] = max((metrics.horizontalAdvance(t) for t in self.labels or ()), default=0.0)
        return self._widest[key]

    def _font(self) -> QFont:
        return self.style["tickFont"] or QFont()

    def label_extent(self, low: float, high: float) -> float:
        """Pixels one label needs along the axis, the gap to its neighbour included."""
        metrics = QFontMetricsF(self._font())
        gap = self.GAP_EM * metrics.height()
        if self.orientation in ("left", "right"):
            return 0.8 * metrics.height() + gap
        if self.labels is not None:
            widest = self.widest_label()
            if widest <= metrics.height():  # characters: side by side they read as the text itself
                gap = self.CHARACTER_GAP_EM * metrics.height()
            return widest + gap
        texts = (str(int(math.floor(low))), str(int(math.ceil(high))))
        return max(metrics.horizontalAdvance(t) for t in texts) + gap

    def stride(self, low: float, high: float, size: float) -> int:
        """Positions between two ticks for the visible range ``low..high`` over ``size`` pixels."""
        return self.layout_labels(low, high, size)[0]

    def layout_labels(self, low: float, high: float, size: float) -> tuple[int, bool]:
        """(stride, upright): every label side by side when they fit; else every label turned upright
        (labels along a bottom or top axis only) when a line of text fits per position; else the
        orientation that needs the smaller stride."""
        pixels_per_position = max(size / max(high - low, 1e-9), 1e-9)
        if self.labels is None:
            return nice_stride(self.label_extent(low, high) / pixels_per_position), False
        # named positions (tokens) need no round stride: every k-th word
        flat = self.flat_stride(pixels_per_position)
        metrics = QFontMetricsF(self._font())
        short = self.widest_label() <= 1.5 * metrics.height()  # turning them upright gains (almost) nothing
        if not self.allow_upright or self.orientation in ("left", "right") or flat == 1 or short:
            return flat, False
        upright = max(1, math.ceil((1.0 + self.UPRIGHT_GAP_EM) * metrics.height() / pixels_per_position - 1e-9))
        return (upright, True) if upright < flat else (flat, False)

    def flat_stride(self, pixels_per_position: float) -> int:
        """The smallest k such that every two labels k positions apart fit side by side (their own
        widths, not the widest's: a "go" among single letters does not thin the letters), with a small
        gap between characters (they read as text) and a larger one between words."""
        if self.orientation in ("left", "right"):
            return max(1, math.ceil(self.label_extent(0, 1) / pixels_per_position - 1e-9))
        metrics = QFontMetricsF(self._font())
        widths = self.label_widths()  # (T,)
        character = widths <= metrics.height()  # (T,) single letters, digits, symbols
        for k in range(1, len(widths)):
            # beside a character a small gap, as between the letters of a word; between two words a larger one
            gap = np.where(character[:-k] | character[k:], self.CHARACTER_GAP_EM, self.WORD_GAP_EM) * metrics.height()
            if np.all((widths[:-k] + widths[k:]) / 2 + gap <= k * pixels_per_position):
                return k
        return max(len(widths), 1)

    def label_widths(self) -> np.ndarray:
        """(T,) pixels of each label side by side; 0 for padding after its first step (never labelled)."""
        key = ("widths", self.labels, self._font().toString())
        if key not in self._widest:
            metrics = QFontMetricsF(self._font())
            labels = self.labels or ()
            padding = labels.index(PAD_LABEL) if PAD_LABEL in labels else len(labels)
            self._widest[key] = np.array([metrics.horizontalAdvance(t) if i <= padding else 0.0
                                          for i, t in enumerate(labels)])
        return self._widest[key]

    def upright_text(self, text: str) -> str:
        """An upright label, cut short with "…" past UPRIGHT_MAX_EM font heights."""
        metrics = QFontMetricsF(self._font())
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.UPRIGHT_MAX_EM * metrics.height())

    def upright_length(self) -> float:
        """Pixels the longest upright label takes across the axis."""
        metrics = QFontMetricsF(self._font())
        return max((metrics.horizontalAdvance(self.upright_text(t)) for t in self.labels or ()), default=0.0)

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803 (pyqtgraph API)
        if self.continuous and self.labels is None:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        if size <= 0 or not np.isfinite([low, high]).all():
            return []
        stride, upright = self.layout_labels(low, high, size)
        self._set_upright(upright)
        if self.labels is not None and self.orientation in ("top", "bottom"):
            first, last = max(math.ceil(low), 0), min(math.floor(high), len(self.labels) - 1)
            values = self.word_ticks(first, last, size / max(high - low, 1e-9), stride, upright)
            return [(float(stride), [float(v) for v in values])]
        first, last = math.ceil(low / stride) * stride, math.floor(high)
        if self.labels is not None:
            first, last = max(first, 0), min(last, len(self.labels) - 1)
        return [(float(stride), [float(v) for v in range(int(first), int(last) + 1, stride)])]

    def word_ticks(self, first: int, last: int, pixels_per_position: float, stride: int, upright: bool) -> list[int]:
        """The positions first..last to label: all of them at stride 1 (padding named once, where it
        starts); when they do not all fit, the rarest words of the sequence first ("not" before "the",
        a "go" before the blanks around it), each kept where it does not touch a label already kept."""
        labels = self.labels or ()
        padding = labels.index(PAD_LABEL) if PAD_LABEL in labels else len(labels)
        positions = [i for i in range(first, last + 1) if i <= padding]
        if stride == 1:
            return positions
        metrics = QFontMetricsF(self._font())
        widths = np.full(len(labels), metrics.height()) if upright else self.label_widths()
        character = self.label_widths() <= metrics.height()
        counts: dict[str, int] = {}
        for label in labels[:padding]:
            counts[label] = counts.get(label, 0) + 1
        order = sorted(positions, key=lambda i: (i == padding, counts.get(labels[i], 0), i))
        kept: list[int] = []
        for i in order:
            at = bisect.bisect(kept, i)
            if all(self._apart(i, j, widths, character, pixels_per_position, upright, metrics.height())
                   for j in kept[max(at - 1, 0):at + 1]):
                kept.insert(at, i)
        return kept

    def _apart(self, i: int, j: int, widths: np.ndarray, character: np.ndarray, pixels_per_position: float,
               upright: bool, height: float) -> bool:
        """Labels i and j do not touch: half of each one's width plus a gap fit between their positions."""
        if upright:
            gap = self.UPRIGHT_GAP_EM
        else:
            gap = self.CHARACTER_GAP_EM if character[i] or character[j] else self.WORD_GAP_EM
        return abs(i - j) * pixels_per_position >= (widths[i] + widths[j]) / 2 + gap * height

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        if self.continuous and self.labels is None:
            return super().tickStrings(values, scale, spacing)
        if self.labels is None or self.upright:  # upright: the positions, replaced when drawn (drawPicture)
            return [str(int(round(v))) for v in values]
        return [self.labels[int(round(v))] for v in values]

    # ------------------------------------------------------------------ upright labels

    def _set_upright(self, upright: bool) -> None:
        """Turn the labels upright or back, and make room for them (later: this runs while painting)."""
        extra = 0.0
        if upright:
            metrics = QFontMetricsF(self._font())
            extra = max(self.upright_length() - metrics.height(), 0.0)
        if upright != self.upright or abs(extra - self._upright_extra) > 0.5:
            self.upright = upright
            QTimer.singleShot(0, lambda: self._resize_for_labels(extra))

    def _resize_for_labels(self, extra: float) -> None:
        change = extra - self._upright_extra
        if abs(change) <= 0.5:
            return
        self._upright_extra = extra
        self._updateHeight()
        holder = self.parentItem()
        # a plot held at a fixed height (a shared time axis under a stack of plots) grows with its axis
        if isinstance(holder, pg.PlotItem) and holder.maximumHeight() == holder.minimumHeight():
            height = holder.maximumHeight() + change
            holder.setMaximumHeight(height)
            holder.setMinimumHeight(height)
        self.picture = None
        self.update()

    def _updateHeight(self) -> None:  # noqa: N802 (pyqtgraph API)
        super()._updateHeight()
        extra = getattr(self, "_upright_extra", 0.0)
        if extra and self.isVisible() and self.orientation in ("top", "bottom"):
            height = self.maximumHeight() + extra
            self.setMaximumHeight(height)
            self.setMinimumHeight(height)

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph API)
        """pyqtgraph's specs; upright labels get their real text and the box they take turned upright
        (one line wide along the axis, the label's length across it)."""
        specs = super().generateDrawSpecs(p)
        if specs is None or not self.upright or self.labels is None:
            return specs
        axis_spec, tick_specs, text_specs = specs
        height = QFontMetricsF(self._font()).height()
        length = self.upright_length()
        upright = []
        for rect, flags, text in text_specs:  # text: the position (tickStrings)
            index = int(text)
            if not 0 <= index < len(self.labels):
                continue
            top = rect.top() if self.orientation == "bottom" else rect.bottom() - length
            upright.append((QRectF(rect.center().x() - height / 2, top, height, length), flags,
                            self.upright_text(self.labels[index])))
        return axis_spec, tick_specs, upright

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 (pyqtgraph API)
        if not self.upright or self.labels is None:
            super().drawPicture(p, axisSpec, tickSpecs, textSpecs)
            return
        super().drawPicture(p, axisSpec, tickSpecs, [])
        for rect, _flags, text in textSpecs:  # read bottom to top, the end of the word at the axis
            p.save()
            p.translate(rect.center().x(), rect.top() if self.orientation == "bottom" else rect.bottom())
            p.rotate(-90)
            if self.orientation == "bottom":
                box, align = QRectF(-rect.height(), -rect.width() / 2, rect.height(), rect.width()), Qt.AlignmentFlag.AlignRight
            else:
                box, align = QRectF(0, -rect.width() / 2, rect.height(), rect.width()), Qt.AlignmentFlag.AlignLeft
            p.drawText(box, int(align | Qt.AlignmentFlag.AlignVCenter), text)
            p.restore()

    # ------------------------------------------------------------------ hover: the whole label

    def hoverMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.setToolTip(self.label_at(event.scenePos()))

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.setToolTip("")

    def label_at(self, scene_pos) -> str:
        """The whole label of the position under ``scene_pos`` ("t = 3: not"), "" off the labels."""
        view = self.linkedView()
        if self.labels is None or view is None:
            return ""
        point = view.mapSceneToView(scene_pos)
        value = point.x() if self.orientation in ("top", "bottom") else point.y()
        return self.label_at_index(int(round(value)))

    def label_at_index(self, index: int) -> str:
        """"3: not": position ``index`` and its whole label; "" off the labels."""
        if self.labels is None or not 0 <= index < len(self.labels):
            return ""
        return f"{index}: {self.labels[index]}"


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
