"""Where the unrolled diagram's pieces go, in data units: rows, boxes, strips, arrows, cuts and the
vertical range that leaves room for the labels. Pure geometry and label text (NumPy, no Qt), so the
panel (unrolled.py) only creates and updates items.

Rows are (layer, direction) pairs from the bottom up; row r's boxes span ``r * ROW_HEIGHT`` to
``r * ROW_HEIGHT + BOX_HEIGHT``; the box of window slot k is centred on x = k.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 24  # most timesteps drawn at once; more scroll with the cursor
ROW_HEIGHT = 2.4  # vertical distance between rows (layers / directions), in box heights
BOX_HALF_WIDTH = 0.34
BOX_HEIGHT = 1.5
STRIP_COLUMNS = 10  # image columns per timestep: the middle ones hold h_t, the rest stay empty (NaN)
STRIP_FILLED = slice(2, 8)
INPUT_TAIL = -0.75  # where the input arrows start; the input labels hang below it
OUTPUT_GAP = 0.55  # the output arrows' length above the top row; the outputs ŷ sit on top
GRAD_OFFSET = 0.05  # ||dL/dh_t|| is written just left of the arrow above its box
ROW_LABEL_X = -0.55  # the right edge of the labels left of the boxes (rows, "ŷ_t", "x_t")

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x, y, width, height


def window_start(seq_len: int, cursor: int, width: int = WINDOW) -> int:
    """First timestep shown so that the cursor sits in the middle of a ``width``-step window."""
    if seq_len <= width:
        return 0
    return int(min(max(cursor - width // 2, 0), seq_len - width))


def short(value: float) -> str:
    """A number in at most 5 characters for a box label: 0.53, -1.2, 3e-05."""
    if not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.2g}" if abs(value) < 10 else f"{value:.0f}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def input_text(values: np.ndarray, label: str, names: tuple[str, ...] | None = None) -> str:
    """x_t as a short label: the token for one-hot inputs, else up to two values."""
    if not label.isdigit():  # a token
        return label
    shown = [short(float(v)) for v in values[:2]]
    return " | ".join(shown) + (" …" if len(values) > 2 else "")


def strip_image(hidden: np.ndarray, shown: range, slots: int) -> np.ndarray:
    """The heat strip of one row: h_t (hidden: (T, H)) in the middle columns of each shown box, NaN
    elsewhere; shape (slots * STRIP_COLUMNS, H)."""
    image = np.full((slots * STRIP_COLUMNS, hidden.shape[1]), np.nan)  # (columns, H)
    for k, t in enumerate(shown):
        image[k * STRIP_COLUMNS + STRIP_FILLED.start: k * STRIP_COLUMNS + STRIP_FILLED.stop] = hidden[t]
    return image


@dataclass(frozen=True)
class DiagramLayout:
    """The geometry of ``slots`` timesteps over ``rows`` ((layer, direction), bottom to top)."""

    slots: int
    rows: tuple[tuple[int, int], ...]

    @staticmethod
    def rows_of(layers: int, directions: int) -> tuple[tuple[int, int], ...]:
        return tuple((layer, direction) for layer in range(layers) for direction in range(directions))

    @property
    def top(self) -> float:
        """The top edge of the highest row of boxes."""
        return (len(self.rows) - 1) * ROW_HEIGHT + BOX_HEIGHT

    @property
    def x_range(self) -> tuple[float, float]:
        return (-1.6, self.slots - 0.4)

    def x_range_for(self, width: float, left_labels: float) -> tuple[float, float]:
        """The horizontal view range that leaves ``left_labels`` pixels left of the row labels' right
        edge (x = ROW_LABEL_X) in a view ``width`` pixels wide, so the row labels are never clipped:
        the boxes span slots - 0.4 - ROW_LABEL_X data units over width - left_labels pixels."""
        right = self.slots - 0.4
        span = right - ROW_LABEL_X  # data units right of the labels
        usable = max(width - left_labels, 0.35 * width, 1.0)  # the boxes keep 35 % of the width at least
        per_pixel = span / usable
        return (ROW_LABEL_X - left_labels * per_pixel, right)

    def base(self, r: int) -> float:
        """The bottom edge of row ``r``'s boxes."""
        return r * ROW_HEIGHT

    def box_rect(self, r: int, k: int) -> Rect:
        return (k - BOX_HALF_WIDTH, self.base(r), 2 * BOX_HALF_WIDTH, BOX_HEIGHT)

    def strip_rect(self, r: int) -> Rect:
        return (-0.5, self.base(r) + 0.12, self.slots, BOX_HEIGHT - 0.24)

    def row_label_pos(self, r: int) -> Point:
        return (ROW_LABEL_X, self.base(r) + BOX_HEIGHT / 2)

    def row_at(self, y: float) -> int:
        """The row whose box (or the gap above it, split halfway) contains height ``y``."""
        return int(np.clip(np.floor((y + (ROW_HEIGHT - BOX_HEIGHT) / 2) / ROW_HEIGHT), 0, len(self.rows) - 1))

    def arrows(self, has_cell_state: bool, outputs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Arrow shafts as (start, end) pairs (2n, 2), their heads (m, 2) and the heads' symbols: the
        recurrent arrows of each row (h_t, and c_t below it when the cell has one; pointing left for the
        reverse direction), the arrows into each row, and the output arrows above the top row at the
        slots where ``outputs`` (slots,) bool is True (default: every slot)."""
        segments: list[Point] = []
        heads: list[Point] = []
        symbols: list[str] = []
        for r, (_layer, direction) in enumerate(self.rows):
            base = self.base(r)
            ys = [base + BOX_HEIGHT * 0.62] + ([base + BOX_HEIGHT * 0.3] if has_cell_state else [])  # c_t
            for k in range(self.slots - 1):
                for y in ys:
                    left, right = k + BOX_HALF_WIDTH, k + 1 - BOX_HALF_WIDTH
                    segments += [(left, y), (right, y)]
                    heads.append((left + 0.04, y) if direction else (right - 0.04, y))
                    symbols.append("t3" if direction else "t2")
            below = INPUT_TAIL if r == 0 else base - ROW_HEIGHT + BOX_HEIGHT
            for k in range(self.slots):
                segments += [(k, below), (k, base)]
                heads.append((k, base - 0.06))
                symbols.append("t1")
        top = self.top
        for k in range(self.slots):
            if outputs is not None and not outputs[k]:
                continue
            segments += [(k, top), (k, top + OUTPUT_GAP)]
            heads.append((k, top + OUTPUT_GAP - 0.05))
            symbols.append("t1")
        return np.array(segments, dtype=float), np.array(heads, dtype=float), symbols

    def cut_points(self, shown: range, tbptt: int) -> list[Point]:
        """(start, end) pairs of the dashed truncated-BPTT cuts between the shown timesteps."""
        points: list[Point] = []
        if tbptt:
            for k, t in enumerate(shown[:-1]):
                if (t + 1) % tbptt == 0:
                    points += [(k + 0.5, -0.25), (k + 0.5, self.top + 0.25)]
        return points

    def y_range(self, height: float, below: float, above: float) -> tuple[float, float]:
        """The vertical view range that fits the boxes between ``below`` and ``above`` pixels of labels
        in a view ``height`` pixels tall: ``span`` data units of boxes and arrows plus the margins make
        the range span / (1 - margin / height)."""
        top = self.top
        span = top + OUTPUT_GAP - INPUT_TAIL
        share = min((below + above) / height, 0.6) if height > 0 else 0.45  # the boxes keep 40 % at least
        per_pixel = span / (1 - share) / max(height, 1.0)
        if height <= 0:  # not laid out yet: leave the same share in data units
            per_pixel = span / (1 - share) / ((below + above) / share)
        return (INPUT_TAIL - below * per_pixel, top + OUTPUT_GAP + above * per_pixel)
