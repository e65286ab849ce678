"""The window's extra pages, after Training, Step through time and Parallel scan: one file per page plus
one line in ``PAGES``.

A page is a QWidget built by ``factory(window)`` the first time it is shown (so start-up does not pay
for it). The window gives each page a tab, a View-menu entry and the next free shortcut (Ctrl+4, …);
lessons and the command line open a page by its ``name`` (``MainWindow.show_page_named``).

A page that trains or computes in the background uses ``window.jobs`` (rnnviz.ui.jobs.JobRunner) and
stops its work in ``shutdown()`` when it has one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class PageSpec:
    name: str  # how lessons and tests refer to it, e.g. "bag_of_words"
    title: str  # the tab's text
    tooltip: str  # one sentence: what the page shows
    factory: Callable[[Any], QWidget]  # factory(main_window) -> the page


def _window_memory(window: Any) -> QWidget:
    from rnnviz.ui.pages.window_memory import WindowMemoryPage

    return WindowMemoryPage(window)


def _generation(window: Any) -> QWidget:
    from rnnviz.ui.pages.generation import GenerationPage

    return GenerationPage(window)


def _bag_of_words(window: Any) -> QWidget:
    from rnnviz.ui.pages.bag_of_words import BagOfWordsPage

    return BagOfWordsPage(window)


PAGES: list[PageSpec] = [
    # one line per page, e.g. PageSpec("bag_of_words", "Bag of words", "…", lambda w: BagOfWordsPage(w)),
    PageSpec("window_memory", "Window vs memory", "Fixed-window models against an RNN as the lag grows",
             _window_memory),
    PageSpec("generation", "Generation", "A text network writes: each sampled character is fed back in as the "
             "next input (one-to-many)", _generation),
    PageSpec("seq2seq", "Encoder–decoder", "An encoder–decoder with attention: train it, watch where each decoder step looks",
             lambda w: __import__("rnnviz.ui.pages.seq2seq", fromlist=["Seq2SeqPage"]).Seq2SeqPage(w)),
    PageSpec("bag_of_words", "Bag of words", "A bag-of-words model against the RNN, word order, weight sharing, "
             "and type your own sentence", _bag_of_words),
]
