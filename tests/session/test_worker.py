"""The training worker's loop, headless: commands are applied between steps and in order, frames
are latest-wins, events are never dropped. It runs here in a thread with the same context the window
gives it in a process."""
from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pytest

from rnnviz.session import worker_messages as w
from rnnviz.session.worker import run_training
from rnnviz.session.background import thread_context
from rnnviz.session.config import SessionConfig
from rnnviz.session.files import load_session
from rnnviz.session.session import Selection

SMALL = SessionConfig(task="adding", task_params={"seq_len": 10}, cell="gru", hidden_size=6, batch_size=4)


class Harness:
    """run_training in a thread; ``take`` collects what it sent (taking a frame frees the slot)."""

    def __init__(self, config: SessionConfig = SMALL) -> None:
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        context, self.cancel, self.slot_free = thread_context(self.outbox, self.inbox)
        self.thread = threading.Thread(target=run_training, args=(context, config), daemon=True)
        self.thread.start()
        self.events: list = []
        self.frames: list[w.Frame] = []
        self.sent = 0

    def send(self, *commands) -> None:
        for command in commands:
            self.inbox.put(command)
            self.sent += 1

    def take(self, take_frames: bool = True) -> None:
        while True:
            try:
                envelope = self.outbox.get_nowait()
            except queue.Empty:
                return
            if envelope.kind == "progress":
                self.frames.append(envelope.payload)
                if take_frames:
                    self.slot_free.set()
            else:
                self.events.append(envelope.payload)

    def wait_for(self, condition, timeout: float = 30.0, take_frames: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; events: {self.events}"
            time.sleep(0.005)
            self.take(take_frames)

    def wait_idle(self) -> None:
        self.wait_for(lambda: any(isinstance(e, w.Idle) and e.received == self.sent for e in self.events))

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def stop(self) -> None:
        self.cancel.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def harness():
    h = Harness()
    h.wait_for(lambda: h.of(w.SessionReady))
    yield h
    h.stop()


def test_the_first_session_and_frame_arrive(harness):
    harness.wait_idle()
    ready = harness.of(w.SessionReady)[0]
    assert ready.state.config == SMALL and ready.state.step == 0
    session = ready.state.session()
    assert session.config == SMALL and session.rewind is None  # a private copy, without the rewind record
    assert harness.frames[-1].snapshot.step == 0 and harness.frames[-1].session_id == ready.state.session_id


def test_steps_asked_for_add_up_and_end_with_the_state_then_a_frame(harness):
    harness.send(w.Step(3), w.Step(2))
    harness.wait_for(lambda: harness.of(w.StepsDone))
    harness.wait_idle()
    assert [e.step for e in harness.of(w.StepsDone)] == [5]
    assert harness.of(w.StateUpdate)[-1].state.step == 5
    assert harness.frames[-1].snapshot.step == 5


def test_commands_apply_in_order_between_steps_save_then_reset(harness, tmp_path):
    harness.send(w.Play())
    harness.wait_for(lambda: harness.frames and harness.frames[-1].snapshot.step >= 3)
    harness.send(w.SaveSession(str(tmp_path / "saved")), w.NewSession(SMALL))
    harness.wait_for(lambda: len(harness.of(w.SessionReady)) == 2)
    harness.wait_idle()
    saved = load_session(tmp_path / "saved")
    assert saved.step >= 3  # saved before the reset, between two steps
    assert harness.of(w.Saved)[0].folder == str(tmp_path / "saved")
    assert harness.frames[-1].snapshot.step == 0 and not harness.frames[-1].running


def test_frames_are_latest_wins_never_queued(harness):
    harness.send(w.Play())
    time.sleep(1.0)  # training runs; nobody takes the frame
    harness.take(take_frames=False)
    count = len(harness.frames)
    assert count <= 1  # at most the one in flight (nothing was taken, so nothing more was sent)
    harness.slot_free.set()  # take it: the next (newest) one comes
    harness.wait_for(lambda: len(harness.frames) > count, take_frames=False)
    harness.send(w.Pause())


def test_a_refused_setting_names_the_problem_and_gives_the_real_config(harness):
    harness.send(w.Settings(SMALL.replace(hidden_size=9)))  # architecture: needs a new session
    harness.wait_idle()
    refused = harness.of(w.Refused)[0]
    assert "architecture" in refused.message and refused.config == SMALL


def test_a_bad_data_file_is_refused_and_the_session_stays(harness, tmp_path):
    bad = tmp_path / "data.csv"
    bad.write_bytes(bytes(range(256)) * 10)
    harness.send(w.NewSession(SMALL.replace(task="series", task_params={"path": str(bad)})))
    harness.wait_idle()
    assert harness.of(w.Refused)[0].title == "That setting cannot be used"
    assert len(harness.of(w.SessionReady)) == 1
    busy = [e.text for e in harness.of(w.Busy)]
    assert busy[-2:] == ["Building the network…", None]


def test_selection_changes_give_a_frame_for_the_new_selection():
    h = Harness(SMALL.replace(num_layers=2, bidirectional=True))
    try:
        h.wait_idle()
        h.send(w.Select(Selection(sample=3, layer=1, direction=1)))
        h.wait_idle()
        snapshot = h.frames[-1].snapshot
        assert (snapshot.sample, snapshot.layer, snapshot.direction) == (3, 1, 1)
    finally:
        h.stop()


def test_rewind_answers_with_the_recorded_step(harness):
    harness.send(w.Step(6))
    harness.wait_idle()
    harness.send(w.Rewind(2), w.Rewind(4))  # a burst: only the newest matters
    harness.wait_idle()
    rewound = harness.of(w.Rewound)
    assert [r.snapshot.step for r in rewound] == [4]
    assert len(rewound[0].snapshot.history.steps) == 4


def test_divergence_pauses_with_the_last_finite_norm_and_play_is_refused_until_settings_change():
    config = SessionConfig(task="adding", task_params={"seq_len": 60}, cell="rnn_relu", init="identity",
                           init_scale=2.0, optimizer="sgd", lr=0.01, clip_norm=0.0, hidden_size=8)
    h = Harness(config)
    try:
        h.wait_idle()
        h.send(w.Play())
        h.wait_for(lambda: h.of(w.Diverged))
        h.wait_idle()
        state = h.of(w.StateUpdate)[-1].state.session()
        last = state.history.train[-1]  # step, loss, grad_norm, clipped of the last finite step
        assert f"last finite gradient norm was {last[2]:.3g}, at step {int(last[0])}" in h.of(w.Diverged)[0].message
        assert np.isfinite(last[2])
        h.send(w.Play())
        h.wait_idle()
        assert h.of(w.Refused)[-1].title == "Training diverged"
        refusals = len(h.of(w.Refused))
        h.send(w.Settings(config.replace(clip_norm=1.0)), w.Step(1))
        h.wait_idle()  # new settings: the step is tried again (these weights are too far gone: diverges again)
        assert len(h.of(w.Refused)) == refusals and len(h.of(w.Diverged)) == 2
    finally:
        h.stop()


def test_cancelling_stops_the_loop_while_it_trains(harness):
    harness.send(w.Play())
    harness.wait_for(lambda: harness.frames and harness.frames[-1].running)
    harness.stop()
