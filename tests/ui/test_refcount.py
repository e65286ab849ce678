"""Regression test for the PySide6 6.12.0 / Python 3.11 reference leak (DESIGN.md, "Known traps").

On that combination every ``processEvents()`` loses a reference to ``None`` and every ``Signal.emit()``
one to ``True``; a live app then aborts with ``Fatal Python error: none_dealloc``. The pins in
pyproject.toml avoid it; this test fails if a future pin brings it back.
"""
import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)


def test_emit_and_process_events_keep_none_and_true_refcounts(qapp):
    emitter = _Emitter()
    received = []
    emitter.fired.connect(received.append)
    for _ in range(100):  # warm up caches
        emitter.fired.emit(True)
        QCoreApplication.processEvents()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    rounds = 5000
    for _ in range(rounds):
        emitter.fired.emit(True)
        QCoreApplication.processEvents()
    none_lost = none_before - sys.getrefcount(None)
    true_lost = true_before - sys.getrefcount(True)
    assert len(received) == rounds + 100
    # a leak loses one reference per call (thousands); allow small incidental drift
    assert none_lost < rounds // 10, f"lost {none_lost} references to None in {rounds} processEvents()"
    assert true_lost < rounds // 10, f"lost {true_lost} references to True in {rounds} emits"
