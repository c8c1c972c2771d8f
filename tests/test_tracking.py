"""MLflow tracking: store location, params/metrics/artifacts, FAILED runs, registry aliases."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

from bankml.config import load_config
from bankml._resources import config_path
from bankml.datasets import make_customers
from bankml.tracking import (CANDIDATE, CHAMPION, RunTracker, compare_with_champion,
                             register_and_promote, resolve_tracking_uri, synthetic_input_example)

FEATURES = ["gender", "education", "age", "short_term_assets", "long_term_assets", "has_fund"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store").mkdir()
    return "sqlite:///" + str(tmp_path / "store" / "mlflow.db")


@pytest.fixture(scope="module")
def data():
    df = make_customers(2000, seed=3)
    return df[FEATURES], df["wm_buyer"].to_numpy()


def _model(X, y, depth=3):
    enc = ColumnTransformer([("cat", OrdinalEncoder(), ["gender", "education"])],
                            remainder="passthrough")
    return Pipeline([("enc", enc), ("tree", DecisionTreeClassifier(
        criterion="entropy", max_depth=depth, random_state=0))]).fit(X, y)


def test_uri_resolution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/env.db")
    assert resolve_tracking_uri() == "sqlite:////elsewhere/env.db"
    assert resolve_tracking_uri("sqlite:////cli/arg.db") == "sqlite:////cli/arg.db"


def test_run_logs_config_metrics_artifacts_beside_the_store(store, tmp_path):
    cfg = load_config(config_path("quickstart.yaml"))
    report = tmp_path / "report.md"
    report.write_text("# hello")
    with RunTracker("exp", tracking_uri=store, tags={"bankml.stage": "test"}) as rt:
        rt.log_config(cfg)
        rt.log_metrics({"auc": 0.75, "nan_is_skipped": float("nan")}, prefix="tree.")
        rt.log_artifact(report, "reports")
    run = MlflowClient(store).get_run(rt.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["data.synthetic.n"] == "5000"
    assert run.data.params["tree.pruning"] == "null"
    assert run.data.metrics == {"tree.auc": 0.75}
    assert run.data.tags["bankml.stage"] == "test"
    arts = list((tmp_path / "store" / "mlartifacts").rglob("report.md"))
    assert len(arts) == 1 and not (tmp_path / "mlruns").exists()
    assert rt.seconds > 0


def test_exception_marks_run_failed_and_registers_nothing(store):
    with pytest.raises(RuntimeError, match="stage broke"):
        with RunTracker("exp", tracking_uri=store) as rt:
            rt.log_metrics({"x": 1})
            raise RuntimeError("stage broke: C000000000001")
    client = MlflowClient(store)
    run = client.get_run(rt.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["bankml.error"] == "RuntimeError"
    assert "C000000000001" not in str(run.data.tags)
    assert client.search_registered_models() == []


def _logged(store, model, X):
    with RunTracker("exp", tracking_uri=store) as rt:
        info = rt.log_model(model, X)
    return info, rt.run_id


def _register(store, model, X, y, name="wm"):
    """Log ``model`` in a run, compare it with the champion on (X, y), register it."""
    info, run_id = _logged(store, model, X)
    cmp = compare_with_champion(name, model, X, y, features=FEATURES, min_positives=30,
                                tracking_uri=store)
    return cmp, register_and_promote(info.model_uri, name, cmp, run_id, tracking_uri=store)


def test_interrupt_while_the_run_starts_leaves_it_failed_not_running(store, monkeypatch):
    # SIGTERM (raised as KeyboardInterrupt by the CLI) right after MLflow created the run but
    # before `with` entered its body: no __exit__ runs, so __enter__ must end the run itself
    real_start = mlflow.start_run

    def start_then_interrupted(*args, **kwargs):
        real_start(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(mlflow, "start_run", start_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with RunTracker("interrupted", tracking_uri=store):
            pytest.fail("the body must not run")
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name("interrupted").experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]
    assert mlflow.active_run() is None


def test_store_failing_to_tag_the_error_still_ends_the_run_failed(store, monkeypatch):
    def broken_tag(*args, **kwargs):
        raise RuntimeError("database is locked")

    with pytest.raises(ValueError, match="the stage's error"):
        with RunTracker("tag-fails", tracking_uri=store) as rt:
            monkeypatch.setattr(mlflow, "set_tag", broken_tag)
            raise ValueError("the stage's error")
    assert MlflowClient(store).get_run(rt.run_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_model_logged_registered_and_pyfunc_matches(store, data):
    X, y = data
    model = _model(X, y)
    info, run_id = _logged(store, model, X)
    assert info.signature is not None
    assert [c.name for c in info.signature.inputs.inputs] == FEATURES
    cmp = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30,
                                tracking_uri=store)
    assert cmp.decision == "no_champion" and cmp.champion_version is None
    out = register_and_promote(info.model_uri, "wm", cmp, run_id, tracking_uri=store)
    assert out["version"] == 1 and out["promoted"] and out["previous_champion"] is None
    loaded = mlflow.pyfunc.load_model("models:/wm@candidate")
    np.testing.assert_allclose(np.asarray(loaded.predict(X)), model.predict_proba(X))
    run = MlflowClient(store).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["bankml.champion.decision"] == "no_champion"
    assert run.data.metrics["candidate.auc"] == cmp.candidate_auc


def test_champion_only_when_auc_beats_it_on_the_same_rows(store, data):
    X, y = data
    client = MlflowClient(store)
    cmp, out = _register(store, _model(X, y, 3), X, y)
    assert out["promoted"] and cmp.decision == "no_champion"
    worse, out = _register(store, _model(X, y, 1), X, y)
    assert worse.decision == "keep" and worse.candidate_auc < worse.champion_auc
    assert out["version"] == 2 and not out["promoted"] and out["previous_champion"] == 1
    assert str(client.get_model_version_by_alias("wm", CANDIDATE).version) == "2"
    assert str(client.get_model_version_by_alias("wm", CHAMPION).version) == "1"
    better, out = _register(store, _model(X, y, 6), X, y)
    assert better.decision == "promote" and better.candidate_auc > better.champion_auc
    assert out["promoted"] and out["version"] == 3
    assert str(client.get_model_version_by_alias("wm", CHAMPION).version) == "3"


def test_input_example_is_not_a_customer_row(data):
    X, _ = data
    ex = synthetic_input_example(X, 5)
    assert list(ex.columns) == list(X.columns)
    assert (ex.dtypes == X.dtypes).all()
    merged = ex.merge(X.drop_duplicates(), how="inner", on=list(X.columns))
    assert merged.empty
    assert set(ex["has_fund"]) == {0, 1}


def test_input_example_handles_categories_and_empty_columns():
    X = pd.DataFrame({"band": pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"], ordered=True),
                      "v": [np.nan, np.nan, np.nan]})
    ex = synthetic_input_example(X, 2)
    assert list(ex["band"].cat.categories) == ["a", "b", "c"] and ex["band"].cat.ordered
    assert ex["v"].tolist() == [0.0, 0.0]


def test_log_model_keeps_mlflow_noise_off_the_terminal(store, data):
    import warnings

    X, y = data
    X = X.assign(age=X["age"].astype("int64"))  # integer columns trigger MLflow's hint
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with RunTracker("exp", tracking_uri=store) as rt:
            rt.log_model(_model(X, y), X)
    texts = [str(w.message) for w in seen]
    assert not [t for t in texts if "Inferred schema contains integer" in t], texts


def test_same_model_again_is_a_tie_and_keeps_the_champion(store, data):
    # the champion re-scored on the same rows gives exactly the candidate's AUC: a tie keeps
    X, y = data
    model = _model(X, y)
    assert _register(store, model, X, y)[1]["promoted"]
    again, out = _register(store, model, X, y)
    assert again.decision == "keep" and again.candidate_auc == again.champion_auc
    assert not out["promoted"] and out["previous_auc"] == again.champion_auc
    assert str(MlflowClient(store).get_model_version_by_alias("wm", CHAMPION).version) == "1"
