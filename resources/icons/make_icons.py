"""Render the application icon rnnviz.svg to the PNG sizes desktops ask for (rnnviz-<size>.png).

    QT_QPA_PLATFORM=offscreen python resources/icons/make_icons.py

Qt's QSvgRenderer draws the SVG at each size directly (no downscaling of one big bitmap), so the small
sizes stay sharp. Re-run after editing the SVG and commit the PNGs with it.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from rnnviz.ui.desktop import ICON_SIZES

FOLDER = Path(__file__).resolve().parent
SOURCE = FOLDER / "rnnviz.svg"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage text/fonts need it)
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"error: {SOURCE} is not a valid SVG", file=sys.stderr)
        return 1
    for size in ICON_SIZES:
        target = FOLDER / f"rnnviz-{size}.png"
        if not render(renderer, size).save(str(target)):
            print(f"error: could not write {target}", file=sys.stderr)
            return 1
        print(target.relative_to(FOLDER.parents[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
