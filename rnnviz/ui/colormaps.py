"""Colour maps for the heatmaps: perceptually uniform, one sequential and one diverging per theme.

Sequential data (gate activations in [0, 1], probabilities) uses a sequential map; signed data
(weights, gradients, g/n candidates in [-1, 1], cell state) uses a diverging map centred on zero,
always with symmetric levels so that its centre colour means exactly zero. The light theme's map is
light in the middle, the dark theme's dark (a white centre glares on a dark page).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg


def sequential(name: str = "viridis") -> pg.ColorMap:
    """A perceptually uniform sequential map shipped with pyqtgraph ("viridis", "CET-L17", ...)."""
    return pg.colormap.get(name)


def diverging(name: str = "CET-D1A") -> pg.ColorMap:
    """A perceptually uniform diverging map (blue - centre - red); falls back to one we build."""
    try:
        return pg.colormap.get(name)
    except (FileNotFoundError, KeyError, ValueError):
        return blue_white_red()


def blue_white_red() -> pg.ColorMap:
    """A simple symmetric blue-white-red map for signed data, centred on zero at position 0.5."""
    positions = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    colors = np.array(
        [
            [33, 102, 172, 255],
            [146, 197, 222, 255],
            [247, 247, 247, 255],
            [244, 165, 130, 255],
            [178, 24, 43, 255],
        ],
        dtype=np.ubyte,
    )
    return pg.ColorMap(positions, colors, name="blue-white-red")


def symmetric_levels(values: np.ndarray, floor: float = 1e-12) -> tuple[float, float]:
    """Levels (-m, m) with m the largest finite magnitude in ``values`` (at least ``floor``)."""
    finite = np.abs(values[np.isfinite(values)]) if values.size else values
    largest = float(finite.max()) if finite.size else 0.0
    largest = max(largest, floor)
    return -largest, largest
