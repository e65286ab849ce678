"""Draw every panel for a session without a window and export them (PNG, SVG, CSV): the CLI's plots.

The panels are the window's own panels, created off screen at a fixed size, given one snapshot and
exported with ``export.export_all``. Afterwards every widget is closed and deleted and the deletions
are processed: on Python 3.11 a process that exits with a live pyqtgraph widget segfaults.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnviz.engine.cells import cell_spec
from rnnviz.session.session import Selection, Session

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

PANEL_SIZE = (900, 600)  # width, height in pixels on screen; PNGs are exported at twice this


def ensure_application() -> "QApplication":
    """The running QApplication, or a new one; without a usable display it runs off screen.

    ``QT_QPA_PLATFORM`` is left alone when set. When it is unset and there is no display to talk to
    (no ``DISPLAY`` / ``WAYLAND_DISPLAY`` on Linux), it is set to ``offscreen`` before Qt starts.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    if "QT_QPA_PLATFORM" not in os.environ and not _has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QApplication(sys.argv[:1])


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # macOS and Windows always have their native platform
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def panel_names(cell: str) -> list[str]:
    """The panels worth drawing for ``cell``: all of them, minus gates for a cell without gates (a vanilla RNN)."""
    from rnnviz.ui.panels import PANELS

    return [name for name in PANELS if name != "gates" or cell_spec(cell).gate_names]


def render_plots(
    session: Session,
    folder: str | os.PathLike,
    selection: Selection = Selection(),
    size: tuple[int, int] = PANEL_SIZE,
) -> list[Path]:
    """Write ``<panel>.png``, ``<panel>.svg`` and ``<panel>.csv`` for every panel into ``folder``.

    Returns the files written. ``selection`` picks the sample, layer and direction shown.
    """
    app = ensure_application()
    from rnnviz.ui.export import export_all
    from rnnviz.ui.panels import PANELS

    snapshot = session.snapshot(selection)
    views = {**step_through_views(session, selection), **analysis_views(session, selection)}
    panels = {}
    try:
        for name in panel_names(snapshot.cell):
            panel = PANELS[name]()
            panels[name] = panel
            if name in views:
                panel.show_view(views[name])
            else:
                panel.set_snapshot(snapshot)
            _lay_out(panel, size)
        app.processEvents()
        return export_all(panels, folder)
    finally:
        _dispose(app, panels.values())


def step_through_views(session: Session, selection: Selection) -> dict[str, Any]:
    """The step-through page's view states of the whole forward and backward pass, by panel name."""
    from rnnviz.session.stepper import StepThrough
    from rnnviz.session.views.gradient_flow import gradient_flow_view
    from rnnviz.session.views.scan import scan_view
    from rnnviz.session.views.step_through import full_pass_views

    stepper = StepThrough(session, selection)
    views = full_pass_views(stepper)
    return {"unrolled": views.diagram, "equations": views.equations, "bptt": views.bptt,
            "vanishing": gradient_flow_view(session, selection, stepper.reference),
            "scan": scan_view(session)}  # the tree and the float64 difference; the times are measured in the window


def analysis_views(session: Session, selection: Selection) -> dict[str, Any]:
    """The Trajectories and Connectivity pages' view states (the live network only, no comparison)."""
    from rnnviz.session.connectivity import connectivity_view
    from rnnviz.session.views.trajectory import trajectory_view

    return {"trajectories": trajectory_view(session, selection),
            "connectivity": connectivity_view(session, selection.sample)}


def _lay_out(panel, size: tuple[int, int]) -> None:
    """Give a panel that is never shown the geometry it would have as a ``size`` window.

    A hidden widget's resize events wait until it is shown (``sendEvent`` does not reach it either),
    so the page's handler, where pyqtgraph fits the scene to the view, is called directly.
    """
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QResizeEvent

    panel.resize(*size)
    panel.layout().activate()
    page = panel.current_page()
    page.resize(panel.stack.size())
    page.resizeEvent(QResizeEvent(page.size(), QSize()))


def _dispose(app: "QApplication", widgets) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in widgets:
        widget.close()
        widget.deleteLater()
    # processEvents() alone does not run deferred deletions outside an event loop.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
