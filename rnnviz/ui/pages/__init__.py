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


def _trajectories(window: Any) -> QWidget:
    from rnnviz.ui.pages.trajectories import TrajectoriesPage

    return TrajectoriesPage(window)


def _connectivity(window: Any) -> QWidget:
    from rnnviz.ui.pages.connectivity import ConnectivityPage

    return ConnectivityPage(window)


def _bag_of_words(window: Any) -> QWidget:
    from rnnviz.ui.pages.bag_of_words import BagOfWordsPage

    return BagOfWordsPage(window)


def _seq2seq(window: Any) -> QWidget:
    from rnnviz.ui.pages.seq2seq import Seq2SeqPage

    return Seq2SeqPage(window)


PAGES: list[PageSpec] = [  # in the order a course meets them
    PageSpec("bag_of_words", "Bag of words", "A bag-of-words model against the RNN, word order, weight sharing, "
             "and type your own sentence", _bag_of_words),
    PageSpec("window_memory", "Window vs memory", "Fixed-window models against an RNN as the lag grows",
             _window_memory),
    PageSpec("generation", "Generation", "A text network writes: each sampled character is fed back in as the "
             "next input (one-to-many)", _generation),
    PageSpec("seq2seq", "Encoder–decoder", "An encoder–decoder with attention: train it, watch where each decoder "
             "step looks", _seq2seq),
    PageSpec("trajectories", "Trajectories", "The hidden state's path on its two principal components", _trajectories),
    PageSpec("connectivity", "Connectivity", "How strongly each output depends on each earlier input", _connectivity),
]
