"""Guided lessons in the window: the Lessons dock (panel.py), what a lesson step does to the window
(runner.py), the outline around the panel a step talks about (highlight.py) and the names a lesson
may use (names.py). The lesson files and their parser are Qt-free: rnnviz.session.lessons."""
