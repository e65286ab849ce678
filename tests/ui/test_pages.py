"""The extra-page registry (rnnviz.ui.pages): a registered page gets a tab, a View-menu action with the
next shortcut, is built only when first shown, and is stopped when the window closes."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from rnnviz.session.config import SessionConfig
from rnnviz.ui import pages
from rnnviz.ui.main_window import MainWindow

SMALL = dict(task="parity", hidden_size=4, batch_size=4)


class DemoPage(QLabel):
    built = 0

    def __init__(self, window) -> None:
        super().__init__("demo")
        DemoPage.built += 1
        self.stopped = False

    def shutdown(self) -> None:
        self.stopped = True


@pytest.fixture
def demo_page():
    spec = pages.PageSpec("demo", "Demo", "A page for the test", DemoPage)
    pages.PAGES.append(spec)
    DemoPage.built = 0
    yield spec
    pages.PAGES.remove(spec)


def test_a_registered_page_is_built_when_first_shown_and_stopped_on_close(qtbot, tmp_path, demo_page):
    window = MainWindow(SessionConfig(**SMALL), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert window.tabs.tabText(window.tabs.count() - 1) == "Demo"
    assert DemoPage.built == 0  # start-up does not pay for it
    action = window.menus.page_actions["demo"]
    shortcut = 3 + len(pages.PAGES)  # the pages before it take Ctrl+4, …; only Ctrl+1 to Ctrl+9 exist
    assert action.shortcut().toString() == (f"Ctrl+{shortcut}" if shortcut <= 9 else "")
    action.trigger()
    page = window.extra_pages["demo"]
    assert isinstance(page, DemoPage) and DemoPage.built == 1
    assert window.tabs.currentIndex() == window.tabs.count() - 1
    window.show_page_named("training")
    assert window.show_page_named("demo") is page and DemoPage.built == 1  # built once
    with pytest.raises(KeyError, match="no page called 'nope'"):
        window.show_page_named("nope")
    window.close()
    assert page.stopped
