"""RuleScorecardClassifier: rule budget, exact ranking by integer points, calibration,
monotonic constraints, and its exports proven equal to the model in every engine."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from bankml.datasets import make_customers
from bankml.errors import DataError
from bankml.rules import (Rule, RuleSet, Scorecard, ScoreRule, check_fidelity, from_json, scorecard_from_model,
                          to_csv, to_frame, to_html, to_json, to_markdown, to_python, to_sql,
                          to_text)
from bankml.scorecard import RuleScorecardClassifier
from bankml.tree import InfoGainTreeClassifier

SMALL = dict(n_estimators=6, max_rules=12, random_state=0)


@pytest.fixture(scope="module")
def data():
    df = make_customers(3000, seed=2)
    X = df.drop(columns=["customer_id", "wm_buyer"])
    return X, df["wm_buyer"].to_numpy()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    est = RuleScorecardClassifier(**SMALL).fit(Xtr, ytr)
    return est, Xtr, Xte, ytr, yte


def test_budget_and_conditions(fitted):
    est = fitted[0]
    assert 1 <= len(est.rules_) <= 12
    assert all(1 <= len(r) <= est.max_conditions for r in est.rules_)
    assert np.issubdtype(est.points_.dtype, np.integer) and np.all(est.points_ != 0)


@pytest.mark.parametrize("budget", [1, 3])
def test_small_budgets_hold(data, budget):
    X, y = data
    est = RuleScorecardClassifier(max_rules=budget, n_estimators=3, random_state=0).fit(X, y)
    assert len(est.rules_) <= budget


def test_probability_ranks_exactly_as_integer_points(fitted):
    est, _, Xte, _, _ = fitted
    total = est.total_points(Xte)
    p = est.predict_proba(Xte)[:, 1]
    # same order, ties included: equal points <=> equal probability
    order = np.argsort(total, kind="stable")
    assert np.all(np.diff(p[order]) >= 0)
    same = total[:, None] == total[None, :300]
    np.testing.assert_array_equal(same, p[:, None] == p[None, :300])
    np.testing.assert_allclose(est.decision_function(Xte),
                               est.calibration_[0] * total + est.calibration_[1])
    assert est.calibration_[0] > 0


def test_calibrated_on_held_out_customers(fitted):
    est, _, Xte, _, yte = fitted
    p = est.predict_proba(Xte)[:, 1]
    assert abs(p.mean() - yte.mean()) < 0.02
    # expected calibration error over deciles of the score
    bins = np.quantile(p, np.linspace(0, 1, 11))
    idx = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, 9)
    ece = sum(abs(p[idx == b].mean() - yte[idx == b].mean()) * (idx == b).mean()
              for b in range(10) if (idx == b).any())
    assert ece < 0.05


def test_ranks_better_than_a_shallow_tree(fitted):
    est, Xtr, Xte, ytr, yte = fitted
    tree = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=20).fit(Xtr, ytr)
    auc_sc = roc_auc_score(yte, est.predict_proba(Xte)[:, 1])
    auc_tree = roc_auc_score(yte, tree.predict_proba(Xte)[:, 1])
    assert auc_sc > auc_tree


def test_deterministic(data):
    X, y = data
    a = RuleScorecardClassifier(**SMALL).fit(X, y)
    b = RuleScorecardClassifier(**SMALL).fit(X, y)
    assert a.rules_ == b.rules_ and a.points_.tolist() == b.points_.tolist()


def test_monotonic_constraint_holds(data):
    X, y = data
    est = RuleScorecardClassifier(n_estimators=4, max_rules=15, random_state=0,
                                  monotonic_cst={"long_term_assets": 1, "age": -1}).fit(X, y)
    # tree rules never read a constrained column
    for r in est.rules_:
        if len(r) > 1:
            assert not {c.feature for c in r} & {"long_term_assets", "age"}
    base = X.iloc[:200].copy()
    for col, sign in (("long_term_assets", 1), ("age", -1)):
        grid = np.quantile(X[col].dropna(), np.linspace(0, 1, 25))
        totals = []
        for v in grid:
            base[col] = v
            totals.append(est.total_points(base))
        steps = np.diff(np.array(totals), axis=0) * sign
        assert np.all(steps >= 0), col
        base[col] = X[col].iloc[:200]


@pytest.mark.parametrize("kw, name", [({"max_rules": 0}, "max_rules"),
                                      ({"max_conditions": 5}, "max_conditions"),
                                      ({"C": 0}, "C"), ({"pdo": -1}, "pdo"),
                                      ({"monotonic_cst": {"gender": 1}}, "monotonic_cst"),
                                      ({"monotonic_cst": {"nope": 1}}, "monotonic_cst"),
                                      ({"monotonic_cst": [1, 0]}, "monotonic_cst"),
                                      ({"monotonic_cst": {"age": 2}}, "monotonic_cst")])
def test_bad_parameters_name_themselves(data, kw, name):
    X, y = data
    with pytest.raises(InvalidParameterError, match=name):
        RuleScorecardClassifier(n_estimators=1, **kw).fit(X.iloc[:300], y[:300])


def test_categorical_constraint_names_the_feature(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="gender"):
        RuleScorecardClassifier(monotonic_cst={"gender": -1}).fit(X.iloc[:300], y[:300])


def test_one_class_and_multiclass_are_refused(data):
    X, _ = data
    with pytest.raises(DataError, match="two classes"):
        RuleScorecardClassifier().fit(X.iloc[:100], np.zeros(100))
    with pytest.raises(DataError, match="Only binary"):
        RuleScorecardClassifier().fit(X.iloc[:99], np.arange(99) % 3)


def test_chinese_columns_text_target_and_missing_values():
    rng = np.random.default_rng(1)
    n = 1200
    X = pd.DataFrame({"存款": rng.lognormal(9, 1, n), "城市": rng.choice(["北京", "上海", "成都"], n),
                      "年龄": rng.integers(20, 70, n).astype(float)})
    X.loc[rng.random(n) < 0.1, "存款"] = np.nan
    X.loc[rng.random(n) < 0.05, "城市"] = None
    logit = (np.log(X["存款"].fillna(1000)) - 9) * 1.5 + (X["城市"] == "北京") * 1.0 - 1
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "买", "不买")
    est = RuleScorecardClassifier(n_estimators=4, max_rules=8, random_state=0).fit(X, y)
    assert list(est.classes_) == ["不买", "买"]
    assert roc_auc_score(y == "买", est.predict_proba(X)[:, 1]) > 0.7
    sc = scorecard_from_model(est)
    report = check_fidelity(sc, est, X)
    assert report.ok, str(report)
    assert "存款" in to_text(sc, "zh") or "城市" in to_text(sc, "zh")


# -- the plain-data form and its exports --------------------------------------------------------
def test_every_engine_adds_the_same_points(fitted):
    est, _, Xte, _, _ = fitted
    sc = scorecard_from_model(est, label_column="wm_buyer")
    np.testing.assert_array_equal(sc.total_points(Xte), est.total_points(Xte))
    np.testing.assert_allclose(sc.predict_proba(Xte), est.predict_proba(Xte)[:, 1], rtol=1e-12)
    report = check_fidelity(sc, est, Xte)
    assert report.ok, str(report)
    assert set(report.mismatches) == {"predict", "json", "python", "sqlite", "duckdb"}
    assert check_fidelity(sc, est, Xte, engines="predict", on="score").ok
    # a model without total_points: the scorecard's probability against predict_proba
    proba_only = type("P", (), {"predict": est.predict, "predict_proba": est.predict_proba})()
    assert check_fidelity(sc, proba_only, Xte, engines=("predict", "sqlite")).ok


def test_a_changed_point_is_caught(fitted):
    est, _, Xte, _, _ = fitted
    sc = scorecard_from_model(est)
    r0 = sc.rules[0]
    bad = dataclasses.replace(sc, rules=[dataclasses.replace(r0, points=r0.points + 1),
                                         *sc.rules[1:]])
    report = check_fidelity(bad, est, Xte, engines=("predict", "sqlite"))
    # exactly the customers rule 1 holds for get one point more
    n_hit = int((RuleSet([Rule(r0.conditions, 1)]).apply(Xte) >= 0).sum())
    assert n_hit > 0
    assert report.mismatches == {"predict": n_hit, "sqlite": n_hit}


def test_text_reads_as_a_scorecard(fitted):
    est = fitted[0]
    sc = scorecard_from_model(est, label_column="wm_buyer")
    zh, en = to_text(sc, "zh").splitlines(), to_text(sc, "en").splitlines()
    assert zh[0] == f"基础分：{sc.base_points}" and en[0] == f"base points: {sc.base_points}"
    for r, lz, le in zip(sc.rules, zh[1:], en[1:]):
        p = abs(r.points)
        if r.points > 0:
            assert lz.startswith(f"{r.rule_id}. 如果 ") and f" 加 {p} 分" in lz
            assert f" add {p} point" in le
        else:
            assert f" 减 {p} 分" in lz and f" subtract {p} point" in le
    assert len(zh) == len(sc) + 2
    md = to_markdown(sc, "en")
    assert md.count("\n| ") == len(sc) + 1
    assert to_frame(sc, "en")["points"].tolist() == [r.points for r in sc.rules]
    assert to_csv(sc, lang="zh").count("\r\n") == len(sc) + 1
    page = to_html(sc, lang="zh", model_version="v9", date="2026-12-02")
    assert "规则评分卡" in page and "v9" in page and f"基础分：{sc.base_points}" in page


def test_json_round_trip_and_bad_documents(fitted):
    sc = scorecard_from_model(fitted[0])
    assert from_json(to_json(sc)) == sc
    doc = json.loads(to_json(sc))
    doc["rules"][0]["points"] = 1.5
    with pytest.raises(DataError, match=r"rules\[0\]\.points"):
        from_json(json.dumps(doc))
    doc = json.loads(to_json(sc))
    doc["calibration"] = [-1, 0]
    with pytest.raises(DataError, match="slope"):
        from_json(json.dumps(doc))
    doc = json.loads(to_json(sc))
    doc["extra"] = 1
    with pytest.raises(DataError, match="unknown key"):
        from_json(json.dumps(doc))


def test_python_export_gives_points_and_probability(fitted):
    est, _, Xte, _, _ = fitted
    sc = scorecard_from_model(est)
    ns = {}
    exec(to_python(sc), ns)
    rows = Xte.iloc[:50]
    got = [ns["score"](r) for r in rows.to_dict("records")]
    assert got == est.total_points(rows).tolist()
    proba = [ns["score_proba"](r) for r in rows.to_dict("records")]
    np.testing.assert_allclose(proba, est.predict_proba(rows)[:, 1], rtol=1e-12)


def test_sql_is_a_sum_of_case_terms(fitted):
    sc = scorecard_from_model(fitted[0])
    sql = to_sql(sc, "customers", "customer_id")
    assert sql.count("CASE WHEN") == len(sc) and f"{sc.base_points}\n" in sql


def test_plain_data_checks():
    with pytest.raises(DataError, match="whole number"):
        ScoreRule([], 1.5)
    with pytest.raises(DataError, match="ScoreRule"):
        Scorecard(["x"], base_points=0, calibration=(0.1, 0))
    with pytest.raises(DataError, match="calibration"):
        Scorecard([], base_points=0, calibration=(1.0,))


def test_a_column_split_twice_one_way_reads_as_one_bound():
    from bankml.rules import Condition
    from bankml.scorecard._classes import _tighten
    conds = (Condition("a", "<=", 48, True), Condition("b", ">", 0.5),
             Condition("a", "<=", 23, True), Condition("a", ">", 5), Condition("a", "<=", 30))
    assert _tighten(conds) == (Condition("a", "<=", 23, False), Condition("b", ">", 0.5),
                               Condition("a", ">", 5))
    X = pd.DataFrame({"a": [np.nan, 4, 6, 23, 24, 50], "b": [1, 1, 1, 1, 1, 1]})
    masks = [RuleSet([Rule(c, 1)]).apply(X) >= 0 for c in (conds, _tighten(conds))]
    np.testing.assert_array_equal(*masks)


def test_a_column_with_many_categories_is_not_refused():
    # 40 customer types: more than the trees' 32 numeric bins (ISLP Caravan's MOSTYPE)
    rng = np.random.default_rng(0)
    n = 2000
    kind = rng.integers(0, 40, n)
    X = pd.DataFrame({"kind": pd.Categorical([f"t{k}" for k in kind]),
                      "assets": rng.lognormal(10, 1, n)})
    y = ((kind < 8) ^ (rng.random(n) < 0.1)).astype(int)  # only the type matters
    sc = RuleScorecardClassifier(max_rules=10, random_state=0).fit(X, y)
    assert len(sc.rules_) <= 10
    assert sc.predict_proba(X).shape == (n, 2)
