"""A training worker whose every step also takes ``STEP_SECONDS`` doing something that never looks at
cancellation (a stand-in for one NumPy call of a big network that takes seconds). Tests swap it in with
``SessionController.work_function``; the spawned process imports this module by name."""
from __future__ import annotations

import time

from rnnviz.session import worker
from rnnviz.session.session import Selection

STEP_SECONDS = 3.5


def run_slow_training(work, start, selection: Selection = Selection(), preset=None) -> None:
    real_step = worker.TrainingLoop.train_one

    def slow_step(loop: worker.TrainingLoop) -> None:
        time.sleep(STEP_SECONDS)
        real_step(loop)

    worker.TrainingLoop.train_one = slow_step  # this process only
    worker.run_training(work, start, selection, preset)
