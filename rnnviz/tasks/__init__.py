"""Toy sequence tasks and loaders for a person's own files (NumPy only)."""
from __future__ import annotations

from typing import Any

from rnnviz.tasks.adding import AddingTask
from rnnviz.tasks.associative_recall import AssociativeRecallTask
from rnnviz.tasks.base import Task, TaskError
from rnnviz.tasks.copy import CopyTask
from rnnviz.tasks.dyck import DyckTask
from rnnviz.tasks.lag_recall import LagRecallTask
from rnnviz.tasks.number_words import NumberWordsTask
from rnnviz.tasks.parity import ParityTask
from rnnviz.tasks.reverse import ReverseTask
from rnnviz.tasks.selective_copy import SelectiveCopyTask
from rnnviz.tasks.sentiment import SentimentTask
from rnnviz.tasks.series import SeriesTask
from rnnviz.tasks.sine import SineTask
from rnnviz.tasks.sort_digits import SortDigitsTask
from rnnviz.tasks.text import TextTask

#: Every task by name, in the order the UI lists them.
TASKS: dict[str, type[Task]] = {
    task.name: task
    for task in (SineTask, AddingTask, CopyTask, ParityTask, TextTask, SentimentTask, DyckTask, SeriesTask,
                 SelectiveCopyTask, AssociativeRecallTask, LagRecallTask)
}
TASKS.update({task.name: task for task in (ReverseTask, SortDigitsTask, NumberWordsTask)})  # encoder–decoder: --arch seq2seq


def make_task(name: str, **params: Any) -> Task:
    """The task called ``name`` with these parameters (the rest default); TaskError if unknown."""
    if name not in TASKS:
        raise TaskError(f"there is no task {name!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[name](**params)


__all__ = ["TASKS", "Task", "TaskError", "make_task"]
