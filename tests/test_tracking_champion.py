"""Champion vs candidate on the same customers; registration only for FINISHED runs."""

import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

from bankml.datasets import make_customers
from bankml.errors import ConfigError, DataError, TrackingError
from bankml.tracking import (CANDIDATE, CHAMPION, ChampionComparison, RunTracker,
                             compare_with_champion, register_and_promote)

FEATURES = ["gender", "education", "age", "long_term_assets", "has_fund"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return "sqlite:///" + str(tmp_path / "mlflow.db")


@pytest.fixture(scope="module")
def customers():
    return make_customers(2000, seed=11)


def _fit(X, y, depth=4, features=FEATURES):
    cats = [c for c in ("gender", "education") if c in features]
    enc = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value",
                                                    unknown_value=-1), cats)],
                            remainder="passthrough")
    return Pipeline([("enc", enc), ("tree", DecisionTreeClassifier(
        criterion="entropy", max_depth=depth, min_samples_leaf=5, random_state=0))]).fit(
        X[features], y)


def _run(store, model, X, features=FEATURES):
    with RunTracker("exp", tracking_uri=store) as rt:
        info = rt.log_model(model, X[features])
    return info.model_uri, rt.run_id


def _publish(store, model, X_test, y_test, features=FEATURES, min_positives=30, name="wm"):
    uri, run_id = _run(store, model, X_test, features)
    cmp = compare_with_champion(name, model, X_test, y_test, features=features,
                                min_positives=min_positives, tracking_uri=store)
    return cmp, register_and_promote(uri, name, cmp, run_id, tracking_uri=store), run_id


def _champion(store, name="wm"):
    return int(MlflowClient(store).get_model_version_by_alias(name, CHAMPION).version)


def test_small_extract_does_not_replace_a_champion_measured_on_many_rows(store, customers):
    # issue 12 item 3: a 300-row extract (AUC 1.0 on 90 test rows) replaced the champion
    big, small = customers.iloc[:1500], customers.iloc[1500:1800]
    champ = _fit(big.iloc[:1050], big["wm_buyer"].iloc[:1050])
    cmp, out, _ = _publish(store, champ, big.iloc[1050:], big["wm_buyer"].iloc[1050:])
    assert cmp.decision == "no_champion" and out["promoted"]
    X_test, y_test = small.iloc[210:], small["wm_buyer"].iloc[210:]
    cand = _fit(small.iloc[:210], small["wm_buyer"].iloc[:210])
    cmp, out, run_id = _publish(store, cand, X_test, y_test)
    n_pos = int(y_test.sum())
    assert n_pos < 30 and cmp.decision == "refused" and f"{n_pos} positives" in cmp.reason
    assert not out["promoted"] and _champion(store) == 1
    assert MlflowClient(store).get_run(run_id).data.tags["bankml.champion.decision"] == "refused"

    # allowed to compare, the champion is re-scored on exactly the candidate's rows
    cmp = compare_with_champion("wm", cand, X_test, y_test, features=FEATURES, min_positives=5,
                                tracking_uri=store)
    assert cmp.champion_version == 1 and cmp.n_test == 90 and cmp.n_positives == n_pos
    assert cmp.champion_auc == roc_auc_score(y_test, champ.predict_proba(X_test[FEATURES])[:, 1])
    assert cmp.candidate_auc == roc_auc_score(y_test, cand.predict_proba(X_test[FEATURES])[:, 1])
    assert cmp.decision == ("promote" if cmp.candidate_auc > cmp.champion_auc else "keep")


def test_two_buyers_never_make_a_champion(store, customers):
    # issue 12 item 3: 2 buyers in 2,000 rows became champion at AUC 0.488
    X = customers
    y = np.zeros(len(X), dtype=int)
    y[[5, 700]] = 1
    cmp, out, _ = _publish(store, _fit(X, customers["wm_buyer"]), X, y)
    assert cmp.decision == "refused" and "2 positives" in cmp.reason
    assert out["version"] == 1 and not out["promoted"]
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("wm", CANDIDATE).version) == "1"
    with pytest.raises(Exception, match="alias"):
        client.get_model_version_by_alias("wm", CHAMPION)


def test_too_few_negatives_is_refused_too(customers):
    y = np.ones(len(customers), dtype=int)
    y[:3] = 0
    cmp = compare_with_champion("wm", _fit(customers, customers["wm_buyer"]), customers, y,
                                features=FEATURES, min_positives=30)
    assert cmp.decision == "refused" and "3 negatives" in cmp.reason


def test_champion_with_other_features_is_not_compared(store, customers):
    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    other = ["gender", "age", "card_spend"]
    _publish(store, _fit(X, y, features=other), X, y, features=other)
    cmp, out, _ = _publish(store, _fit(X, y), X, y)
    assert cmp.decision == "refused" and "other input features" in cmp.reason
    assert "card_spend" in cmp.reason and "long_term_assets" in cmp.reason
    assert not out["promoted"] and _champion(store) == 1


def test_unloadable_champion_is_a_clear_error(store, customers, tmp_path):
    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    _publish(store, _fit(X, y), X, y)
    files = [p for p in (tmp_path / "mlartifacts").rglob("model.*") if p.is_file()]
    assert files
    for p in files:
        p.write_bytes(b"not a model")
    with pytest.raises(TrackingError, match=r"champion of 'wm' \(version 1\) cannot be loaded"):
        compare_with_champion("wm", _fit(X, y, 2), X, y, features=FEATURES, min_positives=30,
                              tracking_uri=store)


def test_registration_needs_a_finished_run(store, customers):
    X, y = customers.iloc[:500], customers["wm_buyer"].iloc[:500]
    model = _fit(X, y)
    cmp = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30,
                                tracking_uri=store)
    with RunTracker("exp", tracking_uri=store) as rt:
        uri = rt.log_model(model, X[FEATURES]).model_uri
        with pytest.raises(TrackingError, match="is RUNNING, not FINISHED"):
            register_and_promote(uri, "wm", cmp, rt.run_id, tracking_uri=store)
    assert MlflowClient(store).search_registered_models() == []
    with pytest.raises(TrackingError, match="ChampionComparison"):
        register_and_promote(uri, "wm", 0.9, rt.run_id, tracking_uri=store)


def test_failed_registration_leaves_no_version_and_fails_the_run(store, customers, monkeypatch):
    # issue 12 item 5: a registry version must always point at a FINISHED run
    import mlflow

    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    _publish(store, _fit(X, y, 2), X, y)
    model = _fit(X, y, 5)
    uri, run_id = _run(store, model, X)
    cmp = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30,
                                tracking_uri=store)
    assert cmp.decision == "promote"
    real = mlflow.MlflowClient.set_registered_model_alias

    def broken(self, name, alias, version):
        if alias == CHAMPION:
            raise mlflow.exceptions.MlflowException("database is locked")
        return real(self, name, alias, version)
    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", broken)
    with pytest.raises(TrackingError, match="marked FAILED.*database is locked"):
        register_and_promote(uri, "wm", cmp, run_id, tracking_uri=store)
    client = MlflowClient(store)
    assert [str(v.version) for v in client.search_model_versions("name = 'wm'")] == ["1"]
    assert str(client.get_model_version_by_alias("wm", CANDIDATE).version) == "1"
    assert _champion(store) == 1
    run = client.get_run(run_id)
    assert run.info.status == "FAILED" and "registration" in run.data.tags["bankml.error"]


def test_first_registration_failing_removes_the_new_model(store, customers, monkeypatch):
    import mlflow

    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    model = _fit(X, y)
    uri, run_id = _run(store, model, X)
    cmp = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30,
                                tracking_uri=store)

    def broken(*a, **k):
        raise mlflow.exceptions.MlflowException("disk I/O error")
    monkeypatch.setattr(mlflow.MlflowClient, "set_model_version_tag", broken)
    with pytest.raises(TrackingError, match="disk I/O error"):
        register_and_promote(uri, "wm", cmp, run_id, tracking_uri=store)
    assert MlflowClient(store).search_registered_models() == []
    assert MlflowClient(store).get_run(run_id).info.status == "FAILED"


def test_champion_promoted_in_between_is_not_overwritten(store, customers):
    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    model = _fit(X, y, 3)
    uri, run_id = _run(store, model, X)
    stale = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30,
                                  tracking_uri=store)
    assert stale.decision == "no_champion"
    _publish(store, _fit(X, y, 2), X, y)  # another run becomes champion meanwhile
    out = register_and_promote(uri, "wm", stale, run_id, tracking_uri=store)
    assert not out["promoted"] and out["decision"] == "keep" and "compare again" in out["reason"]
    assert _champion(store) == 1


@pytest.mark.parametrize("bad, err, match", [
    ({"min_positives": 0}, ConfigError, "min_positives must be an integer >= 1"),
    ({"min_positives": 2.5}, ConfigError, "min_positives"),
    ({"y_test": [0, 1, np.nan] + [0] * 997}, DataError, "missing labels at row positions 2"),
    ({"y_test": [0, 1, 2] + [0] * 997}, DataError, "two classes"),
    ({"y_test": [0, 1]}, DataError, "2 values but X_test has 1000 rows"),
    ({"features": FEATURES + ["no_such_column"]}, DataError, "no_such_column"),
])
def test_bad_arguments_are_named(customers, bad, err, match):
    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    args = dict(y_test=y, features=FEATURES, min_positives=30) | bad
    with pytest.raises(err, match=match):
        compare_with_champion("wm", _fit(X, y), X, **args)


def test_comparison_records_as_metrics_and_tags():
    cmp = ChampionComparison("keep", "tie", 0.7, 0.7, 100, 40, 3, 60)
    assert cmp.metrics() == {"candidate.auc": 0.7, "champion.auc_same_rows": 0.7,
                             "comparison.n_test": 100.0, "comparison.n_positives": 40.0,
                             "comparison.n_negatives": 60.0}
    assert cmp.tags()["bankml.champion.version"] == "3"


def test_labels_that_are_not_the_candidates_classes_are_refused(customers):
    # a text '1' is not the class 1: counting it as a buyer (or not) would be silently wrong
    X, y = customers.iloc[:1000], customers["wm_buyer"].iloc[:1000]
    model = _fit(X, y)
    text = y.astype(str).astype(object)
    with pytest.raises(DataError, match=r"labels .* not the candidate's classes.*row positions"):
        compare_with_champion("wm", model, X, text, features=FEATURES, min_positives=30)
    as_float = compare_with_champion("wm", model, X, y.astype(float), features=FEATURES,
                                     min_positives=30)
    assert as_float.n_positives == int(y.sum())
    with pytest.raises(DataError, match="list of column names"):
        compare_with_champion("wm", model, X, y, features="age", min_positives=30)


def test_text_classes_use_the_candidates_positive_class(customers):
    X = customers.iloc[:1000]
    y = customers["wm_buyer"].iloc[:1000].map({0: "no", 1: "yes"})
    model = _fit(X, y)
    cmp = compare_with_champion("wm", model, X, y, features=FEATURES, min_positives=30)
    assert cmp.n_positives == int((y == "yes").sum())
    assert cmp.candidate_auc == roc_auc_score(y == "yes", model.predict_proba(X[FEATURES])[:, 1])
