"""The one background-work abstraction: threads and spawn processes, progress that never queues,
cancellation, failures as messages, results in the GUI thread."""
from __future__ import annotations

import threading

from rnnviz.ui.jobs import JobRunner
from tests.ui import work_functions as wf


def test_a_process_job_returns_its_result_in_the_gui_thread(qtbot):
    runner = JobRunner()
    job = runner.start("square", wf.square, 12, process=True)
    with qtbot.waitSignal(job.done, timeout=20000) as done:
        pass
    assert done.args == [144]
    assert threading.current_thread() is threading.main_thread()
    qtbot.waitUntil(lambda: not job.alive, timeout=5000)


def test_the_worker_process_imports_no_qt(qtbot):
    runner = JobRunner()
    job = runner.start("modules", wf.qt_modules, process=True)
    with qtbot.waitSignal(job.done, timeout=20000) as done:
        pass
    assert done.args == [[]]


def test_progress_is_latest_wins(qtbot):
    runner = JobRunner()
    seen = []
    job = runner.start("count", wf.count_quickly, 20000, process=False)
    job.progress.connect(seen.append)
    with qtbot.waitSignal(job.done, timeout=20000):
        pass
    assert seen and len(seen) < 20000  # most values were replaced by newer ones before the UI took them
    assert seen == sorted(seen)  # in order, never an old value after a newer one


def test_failures_arrive_as_a_message(qtbot):
    runner = JobRunner()
    for process in (False, True):
        job = runner.start("fail", wf.fail, "bad value", process=process)
        with qtbot.waitSignal(job.failed, timeout=20000) as failed:
            pass
        assert failed.args == ["ValueError: bad value"]


def test_cancel_stops_cooperative_work_and_terminates_a_process_that_does_not_listen(qtbot):
    runner = JobRunner()
    polite = runner.start("polite", wf.loop_until_cancelled, process=False)
    stubborn = runner.start("stubborn", wf.sleep_ignoring_cancel, 60.0, process=True)
    qtbot.waitUntil(lambda: stubborn.alive, timeout=20000)
    qtbot.wait(300)
    polite.cancel()
    stubborn.cancel()
    with qtbot.waitSignal(polite.cancelled, timeout=5000):
        pass
    with qtbot.waitSignal(stubborn.cancelled, timeout=10000):
        pass
    qtbot.waitUntil(lambda: not stubborn.alive, timeout=5000)


def test_start_latest_keeps_only_the_newest_waiting_request(qtbot):
    runner = JobRunner()
    results = []
    first = runner.start_latest("view", wf.slow_echo, "first")
    first.done.connect(results.append)
    for word in ("second", "third"):
        job = runner.start_latest("view", wf.slow_echo, word)
        job.done.connect(results.append)
    qtbot.waitUntil(lambda: not runner.busy("view"), timeout=20000)
    assert results == ["third"]  # the first was cancelled, the second replaced before it started


def test_shutdown_stops_everything(qtbot):
    runner = JobRunner()
    jobs = [runner.start("stubborn", wf.sleep_ignoring_cancel, 60.0, process=True),
            runner.start("messages", wf.echo_messages, process=True)]
    qtbot.waitUntil(lambda: all(job.alive for job in jobs), timeout=20000)
    runner.shutdown(timeout=0.5)
    assert not any(job.alive for job in jobs)


def test_messages_reach_the_work_and_events_come_back_in_order(qtbot):
    runner = JobRunner()
    job = runner.start("messages", wf.echo_messages, process=True)
    events = []
    job.event.connect(events.append)
    for word in ("a", "b", "c"):
        job.send(word)
    qtbot.waitUntil(lambda: len(events) == 3, timeout=20000)
    assert events == ["a", "b", "c"]
    job.cancel()
    qtbot.waitUntil(lambda: not job.alive, timeout=5000)
