"""Issue 12.2/12.5 and the fidelity gate: a run publishes all its files or none.

A run that fails at any stage (or at registration) leaves ``outputs/`` and ``models/``
byte-identical and its MLflow run FAILED; staging left by a dead process is removed.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.config import load_config
from bankml.errors import FidelityError
from bankml.persistence import save_model


def _cfg(**patch):
    cfg = {"data": {"synthetic": {"n": 1500, "seed": 4}},
           "segments": {"enabled": True, "features": ["short_term_assets", "long_term_assets"]},
           "association": {"enabled": True}, "outliers": {"enabled": False},
           "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "t", "registered_model": "t-model"}}
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


def snapshot(*folders):
    """Every file under ``folders`` (path -> bytes), staging folders included."""
    return {str(p): p.read_bytes() for f in folders if f.exists()
            for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A workdir whose outputs/ and models/ hold a first (champion) run's files."""
    monkeypatch.chdir(tmp_path)
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    first = pipeline.run(_cfg(), tracking_uri=store, verbose=False)
    assert first.comparison.decision == "no_champion" and first.model_path.exists()
    before = snapshot(tmp_path / "outputs", tmp_path / "models")
    assert any(k.endswith("cross_sell_rules.csv") for k in before)
    assert any(k.endswith("segments_zh.csv") for k in before)
    return store, tmp_path, before


def _last_run(store):
    client = MlflowClient(store)
    exp = client.get_experiment_by_name("t")
    return client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])[0]


def _assert_untouched(work, before, store):
    assert snapshot(work / "outputs", work / "models") == before
    assert not list(work.glob("*/.staging-*"))
    assert _last_run(store).info.status == "FAILED"
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("t-model", "champion").version) == "1"


def test_invalid_association_engine_past_validation(published, monkeypatch):
    # 12.2 as reported: the engine is not checked on load, the run fails after the rules
    store, work, before = published
    cfg = load_config(_cfg(tree={"max_depth": 2}))
    cfg["association"]["engine"] = "bogus"
    monkeypatch.setattr(pipeline._run, "load_config", lambda _: cfg)
    with pytest.raises(Exception, match="bogus"):
        pipeline.run(cfg, tracking_uri=store, verbose=False)
    _assert_untouched(work, before, store)


def test_failing_segment_stage(published, monkeypatch):
    store, work, before = published

    def boom(*a, **k):
        raise RuntimeError("segments broke")
    monkeypatch.setattr(pipeline._stages, "segment_customers", boom)
    with pytest.raises(RuntimeError, match="segments broke"):
        pipeline.run(_cfg(tree={"max_depth": 2}), tracking_uri=store, verbose=False)
    _assert_untouched(work, before, store)
    assert _last_run(store).data.tags["bankml.stage.rules"] == "ok"  # it failed after the rules


def test_failing_registration(published, monkeypatch):
    # the registry refuses after the run FINISHED: the run becomes FAILED, nothing published
    store, work, before = published
    import mlflow.tracking

    def boom(self, *a, **k):
        raise RuntimeError("registry down")
    monkeypatch.setattr(mlflow.tracking.MlflowClient, "set_registered_model_alias", boom)
    with pytest.raises(RuntimeError, match="registry down"):
        pipeline.run(_cfg(tree={"max_depth": 6, "min_samples_leaf": 5}), tracking_uri=store,
                     verbose=False)
    monkeypatch.undo()
    _assert_untouched(work, before, store)


def test_fidelity_gate_fails_the_run_naming_count_and_rule(published, monkeypatch):
    store, work, before = published
    real = pipeline._stages.check_rules_fidelity

    class OneRowOff:
        """The model, but its prediction on test row 3 flipped: the rules no longer equal it."""

        def __init__(self, model):
            self.model = model

        def __getattr__(self, name):
            return getattr(self.model, name)

        def __getitem__(self, i):  # its steps, as a Pipeline has
            return self.model[i]

        def predict(self, X):
            y = np.asarray(self.model.predict(X)).copy()
            y[3] = 1 - y[3]
            return y
    monkeypatch.setattr(pipeline._stages, "check_rules_fidelity",
                        lambda rules, model, split: real(rules, OneRowOff(model), split))
    with pytest.raises(FidelityError, match=r"(?s)\b1\b.*rule") as err:
        pipeline.run(_cfg(tree={"max_depth": 2}), tracking_uri=store, verbose=False)
    assert "predict" in str(err.value)
    _assert_untouched(work, before, store)
    metrics = _last_run(store).data.metrics
    assert metrics["rules.fidelity_mismatches"] >= 1 and metrics["rules.fidelity_rows"] == 450


# --------------------------------------------------------------------------- staging (unit)
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _stage(folder: Path, pid, host=None, pidns=None):
    folder.mkdir(parents=True)
    (folder / "owner.json").write_text(json.dumps(
        {"pid": pid, "host": host or socket.gethostname(),
         "pidns": pidns or pipeline._publish._pid_namespace(), "run_id": folder.name[9:],
         "started": "2026-01-01T00:00:00+00:00"}))
    (folder / "m.joblib").write_bytes(b"half written")


def test_stale_staging_of_a_dead_process_is_removed_live_ones_kept(tmp_path):
    _stage(tmp_path / ".staging-dead", _dead_pid())
    _stage(tmp_path / ".staging-live", os.getpid())
    _stage(tmp_path / ".staging-elsewhere", _dead_pid(), host="another-host")
    _stage(tmp_path / ".staging-container", _dead_pid(), pidns="pid:[4026531999]")
    (tmp_path / ".staging-noowner").mkdir()  # an older bankml's staging, or a crash mid-write
    (tmp_path / "keep.txt").write_text("user file")
    removed = pipeline.remove_stale_staging(tmp_path)
    assert sorted(p.name for p in removed) == [".staging-dead", ".staging-noowner"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".staging-container", ".staging-elsewhere", ".staging-live", "keep.txt"]


def test_publish_swaps_whole_sets_and_drops_what_the_new_run_lacks(tmp_path):
    out, models = tmp_path / "outputs", tmp_path / "models"
    (out / "rules").mkdir(parents=True)
    (out / "rules" / "old_only.txt").write_text("from the old champion")
    (out / "segments_en.csv").write_text("old segments")
    (out / "notes.txt").write_text("the user's own file")
    st = pipeline.Staging.open(out, models, "r1")
    assert json.loads((st.models / "owner.json").read_text())["pid"] == os.getpid()
    (st.reports / "rules").mkdir()
    (st.reports / "rules" / "rules.sql").write_text("SELECT 1")
    (st.reports / "cross_sell_rules.csv").write_text("new")
    save_model([1], st.models / "m.joblib", card="# card")
    done = st.publish(st.models / "m.joblib")
    assert done.model_path == models / "m.joblib" and done.model_path.exists()
    assert sorted(p.name for p in (out / "rules").iterdir()) == ["rules.sql"]
    assert (out / "cross_sell_rules.csv").read_text() == "new"
    assert not (out / "segments_en.csv").exists()  # the new run made none: no stale mix
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert not list(out.glob(".staging-*")) and not list(models.glob(".staging-*"))
    assert sorted(p.name for p in models.iterdir()) == ["m.joblib", "m.joblib.sha256", "m.md"]


def test_same_folder_for_reports_and_models(tmp_path):
    st = pipeline.Staging.open(tmp_path / "out", tmp_path / "out", "r2")
    assert st.reports != st.models and st.reports.exists() and st.models.exists()
    st.discard()
    assert not (tmp_path / "out").exists()  # created by this run and left empty: removed


def test_interrupted_publication_puts_the_old_set_back(tmp_path, monkeypatch):
    out, models = tmp_path / "outputs", tmp_path / "models"
    (out / "rules").mkdir(parents=True)
    (out / "rules" / "rules.sql").write_text("old sql")
    (out / "plots").mkdir()
    (out / "plots" / "gains_lift.png").write_bytes(b"old png")
    (out / ".bankml-publish.lock").touch()  # left by any earlier publication
    before = snapshot(out)
    st = pipeline.Staging.open(out, models, "r3")
    for name in ("rules", "plots"):
        (st.reports / name).mkdir()
        (st.reports / name / "new.txt").write_text("new")
    save_model([1], st.models / "m.joblib")
    real_rename, calls = os.rename, []

    def flaky_rename(src, dst):
        calls.append(dst)
        if Path(dst) == out / "plots" and Path(src).parent == st.reports:
            raise KeyboardInterrupt  # Ctrl-C between the two folder swaps
        return real_rename(src, dst)
    monkeypatch.setattr(pipeline._publish.os, "rename", flaky_rename)
    with pytest.raises(KeyboardInterrupt):
        st.publish(st.models / "m.joblib")
    monkeypatch.undo()
    assert out / "plots" in calls  # it did stop half-way
    st.discard()  # what run() does on the way out
    assert snapshot(out) == before  # rules/ back to the old set too, not new rules + old plots
    assert not (models / "m.joblib").exists()
    assert not list(tmp_path.glob("*/.staging-*"))


def test_a_run_that_lost_champion_meanwhile_does_not_publish(published, monkeypatch):
    # run 2 wins the comparison, but before it publishes a newer run takes @champion back
    # (here: the alias is moved back to version 1); the files must stay @champion's
    store, work, before = published
    from bankml import tracking

    real = tracking.register_and_promote

    def wins(name, model, X_test, y_test, *, features, min_positives, tracking_uri=None):
        return tracking.ChampionComparison("promote", "better on the same rows", 0.9, 0.6,
                                           len(y_test), int(y_test.sum()), 1,
                                           int((y_test == 0).sum()))
    monkeypatch.setattr(tracking, "compare_with_champion", wins)

    def register_then_lose(*a, **k):
        out = real(*a, **k)
        MlflowClient(store).set_registered_model_alias("t-model", "champion", "1")
        return out
    monkeypatch.setattr(tracking, "register_and_promote", register_then_lose)
    res = pipeline.run(_cfg(tree={"max_depth": 6, "min_samples_leaf": 5}), tracking_uri=store,
                       verbose=False)
    assert res.registered["promoted"] and res.model_path is None
    assert snapshot(work / "outputs", work / "models") == before
    assert not list(work.glob("*/.staging-*"))
