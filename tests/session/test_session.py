import json
import numpy as np
import pytest

from rnnviz.session.config import ConfigError, SessionConfig
from rnnviz.session.files import load_session, save_session
from rnnviz.session.session import VIEW_BATCH, Selection, Session
from rnnviz.session.storage import SessionFileError


def small(**changes):
    base = dict(task="adding", task_params={"seq_len": 12}, cell="lstm", hidden_size=6, batch_size=8)
    base.update(changes)
    return SessionConfig(**base)


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_save_then_load_gives_identical_trace_and_continues_identically(tmp_path, cell):
    session = Session(small(cell=cell, num_layers=2, bidirectional=True, optimizer="adam"))
    session.train(7)
    save_session(session, tmp_path / "s")
    loaded = load_session(tmp_path / "s")
    assert loaded.step == session.step == 7
    np.testing.assert_array_equal(loaded.inspect().trace.output, session.inspect().trace.output)
    np.testing.assert_array_equal(loaded.history.train, session.history.train)
    session.train(3)
    loaded.train(3)
    for name, value in session.model.parameters().items():
        np.testing.assert_array_equal(loaded.model.parameters()[name], value, err_msg=name)


def test_load_accepts_the_session_json_path(tmp_path):
    session = Session(small())
    save_session(session, tmp_path / "s")
    assert load_session(tmp_path / "s" / "session.json").config == session.config


def test_snapshot_follows_the_selection():
    session = Session(small(cell="gru", num_layers=2, bidirectional=True))
    session.train(2)
    a = session.snapshot(Selection(sample=1, layer=1, direction=1))
    b = session.snapshot(Selection(sample=2, layer=0, direction=0))
    assert (a.sample, a.layer, a.direction) == (1, 1, 1)
    assert set(a.gates) == {"r", "z", "n"}
    assert a.hidden.shape == (12, 6) and a.grad_norm_per_step.shape == (12,)
    assert not np.array_equal(a.hidden, b.hidden)
    assert a.weights["W_hh"].shape == (18, 6) and a.weights["W_ih"].shape == (18, 12)
    clamped = session.snapshot(Selection(sample=99, layer=9, direction=5))
    assert (clamped.sample, clamped.layer, clamped.direction) == (VIEW_BATCH - 1, 1, 1)


def test_snapshot_arrays_are_copies_not_views_of_live_state():
    session = Session(small())
    session.train(1)
    snap = session.snapshot()
    before = snap.weights["W_hh"].copy()
    session.train(3)
    np.testing.assert_array_equal(snap.weights["W_hh"], before)


def test_diverging_run_stops_and_keeps_last_finite_weights():
    session = Session(small(cell="rnn_relu", init="identity", init_scale=3.0, lr=10.0, optimizer="sgd",
                            clip_norm=0.0, task_params={"seq_len": 60}))
    outcome = session.train(200)
    assert outcome is not None and not outcome.finite
    assert session.diverged
    assert all(np.isfinite(v).all() for v in session.model.parameters().values())
    assert len(session.history) == session.step


def test_changing_learning_rate_keeps_weights():
    session = Session(small())
    session.train(2)
    weights = session.model.state_dict()
    session.update_training(session.config.replace(lr=0.5, clip_norm=0.0))
    assert session.trainer.config.lr == 0.5 and session.trainer.config.clip_norm is None
    for name, value in session.model.parameters().items():
        np.testing.assert_array_equal(value, weights[name])
    with pytest.raises(ValueError, match="architecture"):
        session.update_training(session.config.replace(hidden_size=7))


@pytest.mark.parametrize("change, message", [
    ({"hidden_size": 0}, "hidden_size"),
    ({"hidden_size": 10**6}, "hidden_size"),
    ({"cell": "transformer"}, "cell"),
    ({"lr": float("nan")}, "lr"),
    ({"num_layers": 2.5}, "num_layers"),
])
def test_bad_settings_are_refused_with_the_name(change, message):
    with pytest.raises(ConfigError, match=message):
        small(**change)


def _saved(tmp_path):
    session = Session(small())
    session.train(2)
    return save_session(session, tmp_path / "s")


def _edit_json(folder, edit):
    path = folder / "session.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(format="other"), "not an rnnviz session"),
    (lambda d: d["config"].update(hidden_size=10**9), "hidden_size"),
    (lambda d: d["config"].update(hidden_size=7), "does not match"),
    (lambda d: d["config"].update(evil=1), "unknown setting"),
    (lambda d: d.update(step=-4), "step"),
    (lambda d: d.update(rng_state="nonsense"), "damaged random state"),
])
def test_bad_session_json_gets_a_clear_error(tmp_path, edit, message):
    folder = _saved(tmp_path)
    _edit_json(folder, edit)
    with pytest.raises(SessionFileError, match=message):
        load_session(folder)


def test_garbage_files_get_clear_errors(tmp_path):
    folder = _saved(tmp_path)
    (folder / "session.json").write_bytes(b"\x00\xff{not json")
    with pytest.raises(SessionFileError, match="not valid JSON"):
        load_session(folder)
    folder = _saved(tmp_path / "b")
    (folder / "model.npz").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(SessionFileError, match="npz"):
        load_session(folder)
    with pytest.raises(SessionFileError, match="does not exist"):
        load_session(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(SessionFileError, match="no session.json"):
        load_session(tmp_path / "plain")


def test_pickled_arrays_are_never_loaded(tmp_path):
    folder = _saved(tmp_path)
    arrays = dict(np.load(folder / "model.npz"))
    arrays["param/weight_hh_l0"] = np.array([{"evil": 1}], dtype=object)
    np.savez(folder / "model.npz", **arrays)
    with pytest.raises(SessionFileError, match="Python objects"):
        load_session(folder)


def test_an_npz_with_more_arrays_than_the_settings_need_is_refused_before_reading(tmp_path):
    folder = _saved(tmp_path)
    arrays = dict(np.load(folder / "model.npz"))
    arrays["param/extra"] = np.zeros(300_000)
    np.savez(folder / "model.npz", **arrays)
    with pytest.raises(SessionFileError, match="more than the .* rnnviz expects"):
        load_session(folder)


def test_saving_refuses_to_replace_a_folder_that_is_not_a_session(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(SessionFileError, match="not an rnnviz session"):
        save_session(Session(small()), tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_an_interrupted_save_leaves_the_previous_session_loadable(tmp_path, monkeypatch):
    session = Session(small())
    session.train(2)
    folder = save_session(session, tmp_path / "s")
    session.train(3)
    import os

    real_replace = os.replace
    calls = []

    def crash_on_second_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        save_session(session, folder)
    monkeypatch.setattr(os, "replace", real_replace)
    assert load_session(folder).step == 2  # the previous save, recovered
    save_session(session, folder)
    assert load_session(folder).step == 5


def test_resaving_keeps_the_cli_outputs_and_refuses_foreign_files(tmp_path):
    session = Session(small())
    folder = save_session(session, tmp_path / "s")
    (folder / "history.csv").write_text("step,loss\n")
    (folder / "plots").mkdir()
    (folder / "plots" / "loss.png").write_bytes(b"png")
    save_session(session, folder)
    assert (folder / "history.csv").read_text() == "step,loss\n"
    assert (folder / "plots" / "loss.png").read_bytes() == b"png"
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(SessionFileError, match="notes.txt"):
        save_session(session, folder)
    assert (folder / "notes.txt").read_text() == "mine"


def test_refresh_snapshot_updates_history_and_keeps_the_inspection():
    session = Session(small())
    session.train(2)
    full = session.snapshot()
    session.train(3)
    refreshed = session.refresh_snapshot(full)
    assert refreshed.step == 5 and len(refreshed.history.train_loss) == 5
    assert refreshed.loss == session.history.train[-1, 1]
    assert refreshed.hidden is full.hidden and refreshed.weights is full.weights
    assert full.step == 2 and len(full.history.train_loss) == 2  # the original is untouched


def test_a_frozen_copy_shares_the_task_and_is_independent_of_training():
    session = Session(small(cell="gru"))
    session.train(2)
    copy = session.frozen_copy()
    assert copy.task is session.task and copy.step == session.step
    np.testing.assert_array_equal(copy.inspect().trace.output, session.inspect().trace.output)
    session.train(2)
    assert not np.array_equal(copy.inspect().trace.output, session.inspect().trace.output)


def test_every_optimizer_the_settings_offer_builds_and_trains():
    from rnnviz.session.config import OPTIMIZERS

    for name in OPTIMIZERS:
        session = Session(small(optimizer=name))
        assert session.train(2).finite, name
    assert Session(small(optimizer="momentum")).trainer.optimizer.name == "sgd_momentum"
