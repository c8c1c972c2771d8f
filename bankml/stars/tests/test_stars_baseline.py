"""StarBaselineClassifier: sklearn's estimator checks and the star-ranking contract."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.datasets import make_customers
from bankml.errors import NotFittedError
from bankml.schema import LABEL, STAR_INPUTS
from bankml.stars import StarBaselineClassifier, StarPolicy, StarScorer


# The checks feed 1 to 10 anonymous features, which only weights="equal" accepts; the
# default (eight star inputs) is covered by the contract tests below.
@parametrize_with_checks([StarBaselineClassifier(weights="equal")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    df = make_customers(3_000, seed=5)
    return df, df[list(STAR_INPUTS)], df[LABEL]


def test_proba_ranks_exactly_by_star_points(data):
    df, X, y = data
    clf = StarBaselineClassifier().fit(X, y)
    proba = clf.predict_proba(X)[:, 1]
    points = StarScorer().star_points(df).to_numpy()
    # same order: sorting by points never decreases proba, and ties stay ties
    order = np.argsort(points, kind="stable")
    assert np.all(np.diff(proba[order]) >= 0)
    assert np.array_equal(np.unique(points, return_inverse=True)[1].ravel(),
                          np.unique(proba, return_inverse=True)[1].ravel())
    assert roc_auc_score(y, proba) == roc_auc_score(y, points)
    assert roc_auc_score(y, proba) > 0.55  # star points carry real signal on this data


def test_predict_matches_threshold_and_share(data):
    _, X, y = data
    clf = StarBaselineClassifier().fit(X, y)
    pred = clf.predict(X)
    pts = X.to_numpy() @ np.array([135, 100, 100, 200, 200, 200, 400, 200]) / 1e4
    np.testing.assert_array_equal(pred, (pts > clf.threshold_).astype(int))
    assert abs(pred.mean() - y.mean()) < 0.02
    np.testing.assert_array_equal(pred, clf.classes_[clf.predict_proba(X).argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))


def test_column_order_by_name_and_numpy_order(data):
    _, X, y = data
    a = StarBaselineClassifier().fit(X, y).predict_proba(X)
    shuffled = X[list(reversed(STAR_INPUTS))]
    b = StarBaselineClassifier().fit(shuffled, y).predict_proba(shuffled)
    c = StarBaselineClassifier().fit(X.to_numpy(), y.to_numpy()).predict_proba(X.to_numpy())
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, c)


def test_policy_weights_are_used(data):
    _, X, y = data
    d = StarPolicy.default().to_dict()
    d["categories"]["card_spend"]["weight"] = 0
    d["categories"]["investment_tx"]["weight"] = 0
    clf = StarBaselineClassifier(policy=StarPolicy.from_dict(d)).fit(X, y)
    no_tx = X.copy()
    no_tx["card_spend"] = 1e9
    no_tx["investment_tx"] = 1e9
    np.testing.assert_allclose(clf.decision_function(X), clf.decision_function(no_tx))


def test_bad_inputs(data):
    df, X, y = data
    with pytest.raises(ValueError, match=r"missing columns \['card_spend'\]"):
        StarBaselineClassifier().fit(X.drop(columns="card_spend"), y)
    with pytest.raises(ValueError, match=r"extra columns \['age'\]"):
        StarBaselineClassifier().fit(df[list(STAR_INPUTS) + ["age"]], y)
    with pytest.raises(ValueError, match=r"X has 7 feature\(s\).*order"):
        StarBaselineClassifier().fit(X.to_numpy()[:, :7], y)
    bad = X.copy()
    bad.iloc[4, 2] = -1.0
    with pytest.raises(ValueError, match=r"Negative values.*mortgage_loans.*\[4\]"):
        StarBaselineClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="NaN"):
        StarBaselineClassifier().fit(X.assign(card_spend=np.nan), y)
    with pytest.raises(ValueError, match="Only binary"):
        StarBaselineClassifier().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="weights"):
        StarBaselineClassifier(weights="learned").fit(X, y)
    with pytest.raises(NotFittedError):
        StarBaselineClassifier().predict(X)
    clf = StarBaselineClassifier().fit(X, y)
    with pytest.raises(ValueError, match=r"missing columns \['card_spend'\], extra columns \['card_spending'\]"):
        clf.predict(X.rename(columns={"card_spend": "card_spending"}))


def test_sklearn_conventions_on_the_default(data):
    _, X, y = data
    clf = StarBaselineClassifier()
    assert clf.get_params() == {"policy": None, "weights": "policy"}
    assert clone(clf).get_params() == clf.get_params()
    fitted = clf.fit(X, y)
    assert fitted is clf and clf.n_features_in_ == 8
    assert list(clf.feature_names_in_) == list(STAR_INPUTS)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    scores = cross_val_score(StarBaselineClassifier(), X, y, scoring="roc_auc", cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    pd.testing.assert_frame_equal(X, data[1])  # input untouched


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_default_fails_sklearn_checks_only_for_wrong_shaped_data():
    # The suite's own data has 1-10 anonymous, partly negative features. On the default
    # (eight star inputs in yuan) every check must pass except those, which must fail with
    # the clear feature-count or negative-value error, never anything else.
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(StarBaselineClassifier(), on_fail=None)
    failed = [r for r in results if r["status"] == "failed"]
    passed = [r for r in results if r["status"] == "passed"]
    for r in failed:
        assert isinstance(r["exception"], ValueError), r["check_name"]
        assert ("takes the 8 star inputs" in str(r["exception"])
                or "Negative values" in str(r["exception"])), (r["check_name"], r["exception"])
    names = {r["check_name"] for r in passed}
    assert {"check_estimators_unfitted", "check_fit2d_1sample", "check_classifiers_one_label",
            "check_classifier_not_supporting_multiclass", "check_requires_y_none",
            "check_positive_only_tag_during_fit", "check_fit_non_negative",
            "check_classifiers_regression_target", "check_get_params_invariance",
            "check_parameters_default_constructible"} <= names


# Issue 16.3: parameters are checked by _parameter_constraints; bad data is a DataError.
def test_parameters_by_constraints_and_data_errors_are_bankml_errors():
    from bankml.errors import DataError, InvalidParameterError
    from bankml.schema import STAR_INPUTS
    X = pd.DataFrame(np.ones((4, len(STAR_INPUTS))), columns=list(STAR_INPUTS))
    y = [0, 1, 0, 1]
    with pytest.raises(InvalidParameterError, match="'policy' parameter"):
        StarBaselineClassifier(policy={"unit": 1}).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'weights' parameter"):
        StarBaselineClassifier(weights="learned").fit(X, y)
    with pytest.raises(DataError, match="Negative values"):
        StarBaselineClassifier().fit(X.assign(card_spend=-1.0), y)
    with pytest.raises(DataError, match="2 classes"):
        StarBaselineClassifier().fit(X, [1, 1, 1, 1])
