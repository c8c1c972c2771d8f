"""InfoGainTreeCV (subtree chosen by cross-validation within a rule budget) and lift_scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.errors import DataError, NotFittedError
from bankml.metrics import lift_at, lift_scorer
from bankml.rules import check_fidelity, rules_from_tree
from bankml.tree import InfoGainTreeClassifier, InfoGainTreeCV


@parametrize_with_checks([InfoGainTreeCV(cv=3),
                          InfoGainTreeCV(InfoGainTreeClassifier(criterion="gain_ratio", max_depth=3),
                                         max_rules=6, scoring="neg_log_loss", cv=3, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "资产": rng.lognormal(10, 1, n),
        "age": rng.integers(20, 80, n).astype(float),
        "edu": pd.array(rng.choice(["中学", "大学", "研究生", "其他"], n), dtype="str"),
        "noise": rng.normal(size=n),
    })
    X.loc[rng.random(n) < 0.1, "资产"] = np.nan
    X.loc[rng.random(n) < 0.05, "edu"] = None
    p = expit(-2.2 + 0.9 * (X["edu"] == "大学") + 0.03 * (X["age"] - 50) + 0.6 * (X["资产"].fillna(0) > 3e4))
    return X, np.where(rng.random(n) < p, "buyer", "other")


@pytest.mark.parametrize("scoring", ["roc_auc", "lift", "neg_log_loss"])
def test_selected_subtree_is_the_best_cv_score_within_the_budget(scoring):
    X, y = _data()
    base = InfoGainTreeClassifier(min_samples_leaf=5)
    cv = InfoGainTreeCV(base, max_rules=30, scoring=scoring, cv=4, random_state=1).fit(X, y)
    res = pd.DataFrame(cv.cv_results_)
    assert (res["n_leaves"] <= 30).all() and len(res) > 3
    pruned, budget = res[res["max_leaf_nodes"] == 0], res[res["max_leaf_nodes"] > 0]
    assert pruned["n_leaves"].is_unique  # one candidate per subtree of the path
    assert budget["max_leaf_nodes"].tolist() == [2, 3, 4, 6, 8, 12, 16, 20, 24, 30]
    assert (budget["n_leaves"] <= budget["max_leaf_nodes"]).all()
    best = res.iloc[cv.best_index_]
    assert best["mean_test_score"] == res["mean_test_score"].max()
    assert best["rank_test_score"] == 1
    assert cv.best_ccp_alpha_ == best["ccp_alpha"]
    assert (cv.best_max_leaf_nodes_ or 0) == best["max_leaf_nodes"]
    assert cv.n_rules_ == best["n_leaves"] == cv.best_estimator_.get_n_leaves() <= 30
    # the refit is the plain tree with the chosen alpha or leaf budget, on all rows
    ref = InfoGainTreeClassifier(min_samples_leaf=5, ccp_alpha=cv.best_ccp_alpha_,
                                 max_leaf_nodes=cv.best_max_leaf_nodes_).fit(X, y)
    np.testing.assert_array_equal(cv.predict(X), ref.predict(X))
    np.testing.assert_allclose(cv.predict_proba(X), ref.predict_proba(X))
    assert cv.get_params()["estimator"] is base and base.ccp_alpha == 0.0  # not touched


def test_fold_scores_equal_fitting_each_fold_tree_at_that_alpha():
    """The shortcut (route once, re-read at the pruned ancestor) equals real pruned fits."""
    X, y = _data(seed=2)
    folds = StratifiedKFold(3, shuffle=True, random_state=5)
    cv = InfoGainTreeCV(InfoGainTreeClassifier(max_depth=5), max_rules=20, cv=folds).fit(X, y)
    res = cv.cv_results_
    for i in range(0, len(res["ccp_alpha"]), 3):
        alpha, budget = res["ccp_alpha"][i], int(res["max_leaf_nodes"][i]) or None
        for k, (tr, te) in enumerate(folds.split(X, y)):
            m = InfoGainTreeClassifier(max_depth=5, ccp_alpha=alpha,
                                       max_leaf_nodes=budget).fit(X.iloc[tr], y[tr])
            want = roc_auc_score(y[te] == "other", m.predict_proba(X.iloc[te])[:, 1])
            assert res[f"split{k}_test_score"][i] == pytest.approx(want, abs=1e-12)


def test_rule_budget_of_one_is_the_root_and_rules_read_the_cv_model():
    X, y = _data(seed=3)
    one = InfoGainTreeCV(max_rules=1, cv=3, random_state=0).fit(X, y)
    assert one.n_rules_ == 1 and np.unique(one.predict_proba(X)[:, 1]).size == 1
    cv = InfoGainTreeCV(InfoGainTreeClassifier(min_samples_leaf=10), max_rules=8, cv=3, random_state=0).fit(X, y)
    rs = rules_from_tree(cv)
    assert 1 < cv.n_rules_ <= 8
    assert check_fidelity(rs, cv, X, engines=("predict", "sqlite")).ok


def test_usable_in_grid_search_with_the_lift_scorer():
    X, y = _data(seed=4)
    grid = GridSearchCV(InfoGainTreeCV(cv=3, random_state=0),
                        {"max_rules": [2, 10], "estimator": [InfoGainTreeClassifier(max_depth=3),
                                                              InfoGainTreeClassifier(criterion="gain_ratio")]},
                        scoring=lift_scorer, cv=3).fit(X, y)
    assert grid.best_estimator_.n_rules_ <= grid.best_params_["max_rules"]
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    # and the plain tree's ccp_alpha, straight from its pruning path
    path = InfoGainTreeClassifier(max_depth=4).cost_complexity_pruning_path(X, y)
    g2 = GridSearchCV(InfoGainTreeClassifier(max_depth=4), {"ccp_alpha": list(path.ccp_alphas) + [2.0]},
                      scoring=lift_scorer, cv=3).fit(X, y)
    scores = g2.cv_results_["mean_test_score"]
    # alpha 2 exceeds any (a root holds at most 1 bit): one leaf, one score for all, ties
    # shared out, lift exactly 1
    assert scores[-1] == pytest.approx(1.0)
    assert g2.best_score_ > 1.05  # classes_[1] is "other", ~80% of rows: lift tops out at 1.25


def test_lift_scorer_reads_the_second_class_as_buyers():
    X, y = _data(seed=5)
    m = InfoGainTreeClassifier(max_depth=3).fit(X, y)
    s = m.predict_proba(X)[:, 1]
    assert m.classes_[1] == "other"
    assert lift_scorer(m, X, y) == pytest.approx(lift_at((y == "other").astype(int), s, 0.1))
    assert lift_scorer(m, X, pd.Series(y, index=np.arange(len(y)) + 100)) == lift_scorer(m, X, y)
    three = InfoGainTreeClassifier(max_depth=2).fit(X, np.where(X["age"] < 40, "a", np.where(X["age"] < 60, "b", "c")))
    with pytest.raises(DataError, match="binary"):
        lift_scorer(three, X, y)


def test_one_class_in_a_fold_or_too_few_rows_for_cv():
    X, y = _data(200, seed=6)
    y = np.array(["other"] * 200)
    y[:3] = "buyer"  # three buyers: five folds cannot all hold one, so three folds are used
    cv = InfoGainTreeCV(InfoGainTreeClassifier(min_samples_leaf=1), cv=5, random_state=0).fit(X, y)
    assert len([k for k in cv.cv_results_ if k.startswith("split")]) == 3
    y[1:3] = "other"  # one buyer: no cross-validation; the largest subtree in budget is kept
    cv = InfoGainTreeCV(max_rules=4, cv=5).fit(X, y)
    assert np.isnan(cv.best_score_) and cv.n_rules_ <= 4
    assert cv.n_rules_ == max(cv.cv_results_["n_leaves"])


def test_multiclass_log_loss_and_auc():
    X, _ = _data(seed=7)
    a = X["age"] + np.random.default_rng(0).normal(0, 8, len(X))
    y = np.where(a < 40, "低", np.where(a < 60, "中", "高"))
    for scoring in ("roc_auc", "neg_log_loss"):
        cv = InfoGainTreeCV(max_rules=6, scoring=scoring, cv=3, random_state=0).fit(X, y)
        assert cv.n_rules_ <= 6 and cv.predict_proba(X).shape == (len(y), 3)
        if scoring == "neg_log_loss":
            assert cv.best_score_ < 0 and -cv.best_score_ < log_loss(y, np.full((len(y), 3), 1 / 3))


@pytest.mark.parametrize("params, name", [(dict(max_rules=0), "max_rules"), (dict(max_rules=2.5), "max_rules"),
                                          (dict(scoring="accuracy"), "scoring"), (dict(cv=1), "cv"),
                                          (dict(estimator="tree"), "estimator")])
def test_bad_parameters_name_the_parameter(params, name):
    X, y = _data(100)
    with pytest.raises(InvalidParameterError, match=name):
        InfoGainTreeCV(**params).fit(X, y)


def test_lift_needs_a_binary_target_and_fit_comes_first():
    X, _ = _data(300)
    y = np.where(X["age"] < 40, "a", np.where(X["age"] < 60, "b", "c"))
    with pytest.raises(InvalidParameterError, match="scoring.*binary"):
        InfoGainTreeCV(scoring="lift", cv=3).fit(X, y)
    with pytest.raises(NotFittedError):
        InfoGainTreeCV().predict(X)
    with pytest.raises(NotFittedError):
        InfoGainTreeCV().tree_


def test_bad_tree_parameters_surface_from_the_inner_estimator():
    X, y = _data(100)
    with pytest.raises(InvalidParameterError, match="cost"):
        InfoGainTreeCV(InfoGainTreeClassifier(cost=[[0, -1], [1, 0]]), cv=3).fit(X, y)


def test_sample_weight_and_customer_id_index_reach_every_fit():
    X, y = _data(600, seed=8)
    ids = [f"C{i:05d}" for i in range(len(y))][::-1]
    X.index = ids
    ys = pd.Series(y, index=ids)
    w = np.random.default_rng(0).integers(0, 3, len(y)).astype(float)  # zeros included
    base = InfoGainTreeClassifier(min_samples_leaf=5)
    cv = InfoGainTreeCV(base, max_rules=10, cv=3, random_state=0).fit(X, ys, sample_weight=w)
    ref = InfoGainTreeClassifier(min_samples_leaf=5, ccp_alpha=cv.best_ccp_alpha_,
                                 max_leaf_nodes=cv.best_max_leaf_nodes_).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(cv.predict_proba(X), ref.predict_proba(X))
    unweighted = InfoGainTreeCV(base, max_rules=10, cv=3, random_state=0).fit(X, ys)
    assert not np.allclose(cv.cv_results_["split0_test_score"][:1], unweighted.cv_results_["split0_test_score"][:1]) \
        or not np.array_equal(cv.cv_results_["n_leaves"], unweighted.cv_results_["n_leaves"])
