"""Saving is atomic at every crash point: whatever step of a save dies, the folder (or, between the
two renames, its .previous copy) opens as the old or the new session, the next save recovers, and
staging folders of dead processes are cleaned."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rnnviz.session.config import SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.session import Session
from rnnviz.session.storage import SessionFileError

CONFIG = dict(task="adding", task_params={"seq_len": 6}, cell="rnn_tanh", hidden_size=3, batch_size=2)
OLD_STEPS, NEW_STEPS = 2, 5
# every file-system call a save makes that can be the last one before a power cut
CRASH_POINTS = ("os.replace", "os.mkdir", "os.fsync", "shutil.rmtree", "os.unlink")

HARNESS = textwrap.dedent("""
    # Runs in its own process (the test process, with Qt, is never forked). Each save runs in a
    # forked child killed with os._exit at its k-th file-system call; the harness then opens the
    # folder. After a first crash that leaves anything behind, a second save is killed at every
    # point too, starting from that state.
    import json, os, shutil, sys
    from rnnviz.session.config import SessionConfig
    from rnnviz.session.files import load_session, save_session
    from rnnviz.session.session import Session

    root, config, points = sys.argv[1], eval(sys.argv[2]), eval(sys.argv[3])
    old_steps, new_steps = {old}, {new}
    work, folder = os.path.join(root, "work"), os.path.join(root, "work", "session")

    def session(steps):
        s = Session(SessionConfig(**config))
        s.train(steps)
        return s

    new_session = session(new_steps)

    def crashing_save(crash_at):
        pid = os.fork()
        if pid == 0:
            calls = [0]
            def crashing(module, name):
                real = getattr(module, name)
                def call(*args, **kwargs):
                    calls[0] += 1
                    if calls[0] == crash_at:
                        os._exit(9)  # dies here: no cleanup, no except, no finally
                    return real(*args, **kwargs)
                setattr(module, name, call)
            for point in points:
                module, name = point.split(".")
                crashing(os if module == "os" else shutil, name)
            save_session(new_session, folder)
            os._exit(0)
        return os.waitpid(pid, 0)[1] >> 8 == 9

    def state():
        return sorted(os.listdir(work))

    def opened():
        try:
            return load_session(folder).step
        except Exception as exc:
            return f"{{type(exc).__name__}}: {{exc}}"

    def restore(saved):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(saved, work, symlinks=True)

    os.makedirs(work)
    save_session(session(old_steps), folder)
    clean = os.path.join(root, "clean")
    shutil.copytree(work, clean, symlinks=True)
    results = []
    first = 1
    while True:
        restore(clean)
        if not crashing_save(first):
            break
        results.append({{"crashes": [first], "state": state(), "opened": opened()}})
        if state() != ["session"]:
            after_first = os.path.join(root, f"after-{{first}}")
            shutil.copytree(work, after_first, symlinks=True)
            second = 1
            while True:
                restore(after_first)
                if not crashing_save(second):
                    break
                results.append({{"crashes": [first, second], "state": state(), "opened": opened()}})
                second += 1
        first += 1
    print(json.dumps(results))
""").format(old=OLD_STEPS, new=NEW_STEPS)


def old_session(folder: Path) -> None:
    session = Session(SessionConfig(**CONFIG))
    session.train(OLD_STEPS)
    save_session(session, folder)


def test_a_save_killed_at_any_step_twice_in_a_row_leaves_a_loadable_session(tmp_path):
    done = subprocess.run([sys.executable, "-c", HARNESS, str(tmp_path), repr(CONFIG), repr(CRASH_POINTS)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    bad = [r for r in results if r["opened"] not in (OLD_STEPS, NEW_STEPS)]
    assert not bad, bad
    assert len({r["crashes"][0] for r in results}) >= 8  # every call of a whole save was a crash point
    assert any(len(r["crashes"]) == 2 for r in results)  # and some left a state a second save started from
    # a save that finishes after all that recovers and cleans up
    folder = tmp_path / "work" / "session"
    session = Session(SessionConfig(**CONFIG))
    session.train(NEW_STEPS + 1)
    save_session(session, folder)
    assert load_session(folder).step == NEW_STEPS + 1
    assert sorted(p.name for p in folder.parent.iterdir()) == ["session"]


@pytest.mark.parametrize("failing", ["os.replace", "os.fsync", "os.mkdir"])
def test_a_failing_step_reports_a_sentence_and_keeps_the_old_session(tmp_path, monkeypatch, failing):
    folder = tmp_path / "session"
    old_session(folder)
    module_name, name = failing.split(".")
    module = os if module_name == "os" else shutil
    real = getattr(module, name)
    failures = 0
    for fail_at in range(1, 20):
        calls = []

        def fail(*args, **kwargs):
            calls.append(args)
            if len(calls) == fail_at:
                raise OSError(errno.ENOSPC, "No space left on device", str(folder.with_name(".x.saving-1")))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, fail)
        session = Session(SessionConfig(**CONFIG))
        session.train(NEW_STEPS)
        try:
            save_session(session, folder)
        except SessionFileError as exc:
            failures += 1
            message = str(exc)
            assert "disk is full" in message and "the session saved there before is unchanged" in message
            assert ".saving-" not in message and "[" not in message, message
        else:
            if len(calls) < fail_at:
                break  # the save finished before the failure point: every point was tried
            assert load_session(folder).step == NEW_STEPS  # the failure came after the new copy was in place
            old_session(folder)
            continue
        finally:
            monkeypatch.setattr(module, name, real)
        assert load_session(folder).step == OLD_STEPS
    assert failures >= 1 and len(calls) < fail_at


def test_orphan_staging_folders_of_dead_processes_are_removed(tmp_path):
    folder = tmp_path / "session"
    old_session(folder)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    for kind in ("saving", "deleting"):
        (tmp_path / f".session.{kind}-{dead_pid}").mkdir()
        (tmp_path / f".session.{kind}-{dead_pid}" / "model.npz").write_bytes(b"half")
    alive = tmp_path / f".session.saving-{os.getppid()}"  # a save under way in a live process
    alive.mkdir()
    other = tmp_path / f".other.saving-{dead_pid}"  # another folder's: not ours to touch
    other.mkdir()
    save_session(Session(SessionConfig(**CONFIG)), folder)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["session", alive.name, other.name])


def test_the_staging_folder_never_appears_in_a_copy_error(tmp_path):
    folder = tmp_path / "session"
    old_session(folder)
    (folder / "plots").mkdir()
    (folder / "plots" / "loss.png").write_bytes(b"png")
    os.symlink(tmp_path / "nowhere", folder / "plots" / "broken.png")  # copying it fails
    with pytest.raises(SessionFileError) as info:
        save_session(Session(SessionConfig(**CONFIG)), folder)
    message = str(info.value)
    assert ".saving-" not in message and "[(" not in message and str(folder) in message, message
    assert load_session(folder).step == OLD_STEPS


def test_a_lock_left_empty_by_a_crash_is_taken_over_once_old(tmp_path):
    from rnnviz.session.storage import FolderLock

    stale = tmp_path / ".run.lock"
    stale.write_text("")  # its writer died between creating it and writing its PID
    os.utime(stale, (0, 0))
    with FolderLock(tmp_path / "run") as lock:
        assert lock.holder() == os.getpid()
        with pytest.raises(SessionFileError, match="already being written by this rnnviz"):
            FolderLock(tmp_path / "run").acquire()
    assert not stale.exists()
