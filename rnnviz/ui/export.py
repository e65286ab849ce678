"""Export what a panel shows: PNG, SVG and the CSV of its data.

PNG goes through pyqtgraph's ImageExporter at twice the on-screen size (crisp on slides). SVG goes
through pyqtgraph's SVGExporter, which keeps the clipping and the data coordinates right; in
pyqtgraph 0.14.0 it raises ValueError on current Qt, because Qt's SVG paths now end in a close-path
``Z`` token that its ``correctCoordinates`` cannot parse (pyqtgraph issues #3485/#3495, fixed on master
by PR #3458, not released). ``install_svg_fix`` works around that in one place: it takes the ``Z``
tokens out of every ``<path d=...>`` before ``correctCoordinates`` runs and puts them back after.
"""
from __future__ import annotations

import csv
import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from xml.dom import minidom

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers the exporters)
from PySide6.QtWidgets import QGraphicsScene

# The module, not the class of the same name that pyqtgraph.exporters re-exports.
_svg_module = importlib.import_module("pyqtgraph.exporters.SVGExporter")

PNG_SCALE = 2.0  # exported PNG size relative to the on-screen size
MIN_PNG_WIDTH = 1200  # pixels: readable when pasted into a slide
LAST_BROKEN_PYQTGRAPH = (0, 14, 0)  # newest release whose SVG exporter chokes on "Z"


class ExportError(ValueError):
    """An export that cannot be written: the message says where and what to do."""


class Exportable(Protocol):
    name: str

    def export_png(self, path: str | Path) -> Path: ...

    def export_svg(self, path: str | Path) -> Path: ...

    def to_csv(self, path: str | Path) -> Path: ...


# --- the SVG workaround -----------------------------------------------------------------------

_CLOSE_PATH = re.compile(r"^[Zz]$")


def _version_tuple(text: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text)[:3]
    return tuple(int(n) for n in numbers)


def strip_close_path(node: minidom.Element) -> list[tuple[minidom.Element, list[int]]]:
    """Remove the ``Z`` tokens from every ``<path d>`` under ``node``.

    Returns, per changed path, the indices of the coordinate tokens each ``Z`` followed, so that
    ``restore_close_path`` can put them back after the coordinates were transformed.
    """
    removed = []
    for path in node.getElementsByTagName("path"):
        tokens = path.getAttribute("d").split()
        if not any(_CLOSE_PATH.match(t) for t in tokens):
            continue
        coords: list[str] = []
        closes_after: list[int] = []
        for token in tokens:
            if _CLOSE_PATH.match(token):
                closes_after.append(len(coords) - 1)
            else:
                coords.append(token)
        path.setAttribute("d", " ".join(coords))
        removed.append((path, closes_after))
    return removed


def restore_close_path(removed: list[tuple[minidom.Element, list[int]]]) -> None:
    """Put back the ``Z`` tokens taken out by ``strip_close_path``."""
    for path, closes_after in removed:
        tokens = path.getAttribute("d").split()
        out: list[str] = []
        if -1 in closes_after:  # a path that was only "Z"
            out.append("Z")
        for index, token in enumerate(tokens):
            out.append(token)
            out.extend("Z" for c in closes_after if c == index)
        path.setAttribute("d", " ".join(out))


def install_svg_fix() -> bool:
    """Wrap pyqtgraph's ``correctCoordinates`` so it ignores ``Z`` tokens; returns whether it did.

    Applied once, only for pyqtgraph <= 0.14.0 (newer releases carry the fix from PR #3458).
    """
    original = _svg_module.correctCoordinates
    if getattr(original, "_rnnviz_close_path_fix", False):
        return True
    if _version_tuple(pg.__version__) > LAST_BROKEN_PYQTGRAPH:
        return False

    def correct_coordinates(node, defs, item, options):
        removed = strip_close_path(node)
        try:
            original(node, defs, item, options)
        finally:
            restore_close_path(removed)

    correct_coordinates._rnnviz_close_path_fix = True  # type: ignore[attr-defined]
    correct_coordinates.__wrapped__ = original  # type: ignore[attr-defined]
    _svg_module.correctCoordinates = correct_coordinates
    return True


install_svg_fix()


# --- writers ---------------------------------------------------------------------------------


def _target_path(path: str | Path, suffix: str) -> Path:
    target = Path(path)
    if target.suffix.lower() != suffix:
        target = target.with_name(target.name + suffix)
    if not target.parent.is_dir():
        raise ExportError(f"cannot write {target}: folder {target.parent} does not exist; pick another folder")
    return target


def _scene_of(view: pg.GraphicsView | QGraphicsScene) -> QGraphicsScene:
    return view if isinstance(view, QGraphicsScene) else view.scene()


def export_png(view: pg.GraphicsView | QGraphicsScene, path: str | Path, scale: float = PNG_SCALE) -> Path:
    """Write the scene shown by ``view`` as a PNG, ``scale`` times its on-screen size."""
    target = _target_path(path, ".png")
    exporter = pg.exporters.ImageExporter(_scene_of(view))
    width = exporter.params["width"]
    if width <= 0:
        raise ExportError("cannot export an empty plot (size 0); show the panel first")
    exporter.params["width"] = int(max(width * scale, min(MIN_PNG_WIDTH, width * 4)))
    exporter.params["antialias"] = True
    try:
        exporter.export(str(target))
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror}; pick another file") from None
    return target


def export_svg(view: pg.GraphicsView | QGraphicsScene, path: str | Path) -> Path:
    """Write the scene shown by ``view`` as SVG through pyqtgraph's SVGExporter."""
    target = _target_path(path, ".svg")
    install_svg_fix()
    exporter = pg.exporters.SVGExporter(_scene_of(view))
    svg = exporter.export(toBytes=True)
    # heatmaps are images: keep one cell one block of colour instead of a viewer's smoothing
    svg = svg.replace(b"<image ", b'<image style="image-rendering:pixelated" ')
    try:
        target.write_bytes(svg)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror}; pick another file") from None
    return target


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return repr(float(value))  # shortest text that reads back to the same float ("nan" for NaN)


def write_csv(rows: Sequence[Sequence[Any]], path: str | Path) -> Path:
    """Write ``rows`` (a header row of names, then data) as CSV; floats keep full precision."""
    target = _target_path(path, ".csv")
    try:
        with open(target, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([str(name) for name in rows[0]])
            for row in rows[1:]:
                writer.writerow([_cell(v) for v in row])
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror}; pick another file") from None
    return target


def export_all(panels: Mapping[str, Exportable] | Iterable[Exportable], folder: str | Path) -> list[Path]:
    """Write ``<panel>.png``, ``<panel>.svg`` and ``<panel>.csv`` for every panel into ``folder``."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    named = panels.items() if isinstance(panels, Mapping) else ((p.name, p) for p in panels)
    written: list[Path] = []
    for name, panel in named:
        written.append(panel.export_png(directory / f"{name}.png"))
        written.append(panel.export_svg(directory / f"{name}.svg"))
        written.append(panel.to_csv(directory / f"{name}.csv"))
    return written
