"""Rules for a rare target by rate (issue 13, item 6): which leaves, in which order, the
"other customers" default, and the score fidelity gate across every engine."""

import dataclasses
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from bankml.datasets import make_customers
from bankml.errors import DataError, InvalidParameterError
from bankml.rules import (RuleSet, check_fidelity, from_json, rules_from_pipeline,
                          rules_from_tree, to_frame, to_html, to_json, to_markdown, to_python,
                          to_sql, to_text)
from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier

FEATS = ["age", "short_term_assets", "long_term_assets", "investment_tx", "has_fund",
         "education"]


@pytest.fixture(scope="module")
def data():
    df = make_customers(2500, seed=3)
    return df[FEATS], df["wm_buyer"].to_numpy()


def _fit(kind, X, y, **kw):
    if kind == "bankml":
        return InfoGainTreeClassifier(max_depth=4, min_samples_leaf=25, **kw).fit(X, y)
    Xn = X.drop(columns="education")
    return DecisionTreeClassifier(max_depth=4, min_samples_leaf=25, random_state=0,
                                  **kw).fit(Xn, y)


def _X(kind, X):
    return X if kind == "bankml" else X.drop(columns="education")


@pytest.mark.parametrize("kind", ["bankml", "sklearn"])
def test_min_lift_takes_exactly_the_leaves_the_model_scores_that_high(data, kind):
    X, y = data
    model = _fit(kind, X, y)
    Xk = _X(kind, X)
    rs = rules_from_tree(model, target=1, min_lift=2.0)
    score = model.predict_proba(Xk)[:, 1]
    covered = rs.apply(Xk) >= 0
    prior = rs.provenance["rate_rules"]["base_rate"]
    assert prior == pytest.approx(y.mean())
    # every customer the model scores >= 2 x base rate is covered, nobody else
    assert covered.sum() > 0
    np.testing.assert_array_equal(covered, score >= 2.0 * prior)
    # rules predict the target and are sorted by the model's score, best first
    scores = [s for _, s in rs.provenance["rate_rules"]["scores"]]
    assert scores == sorted(scores, reverse=True)
    assert all(r.prediction == 1 for r in rs)
    # each rule's rate and lift are the leaf's own training figures
    idx = rs.apply(Xk)
    for k, rule in enumerate(rs.rules):
        assert rule.support == int((idx == k).sum())
        assert rule.confidence == pytest.approx(y[idx == k].mean())
        assert rule.lift == pytest.approx(y[idx == k].mean() / y.mean())
    # the default's rate is the pooled rate of everyone else
    assert rs.provenance["rate_rules"]["default_rate"] == pytest.approx(y[~covered].mean())
    report = check_fidelity(rs, model, Xk)
    assert report.ok, str(report)
    assert set(report.mismatches) == {"predict", "json", "python", "sqlite", "duckdb"}


@pytest.mark.parametrize("kind", ["bankml", "sklearn"])
def test_top_fraction_takes_best_leaves_until_the_share_is_held(data, kind):
    X, y = data
    model = _fit(kind, X, y)
    Xk = _X(kind, X)
    rs = rules_from_tree(model, target=1, top_fraction=0.1)
    idx = rs.apply(Xk)
    assert (idx >= 0).mean() >= 0.1
    # one rule fewer would not hold 10%: no more leaves than needed
    assert (idx[idx >= 0] < len(rs) - 1).mean() * (idx >= 0).mean() < 0.1
    assert check_fidelity(rs, model, Xk, engines=("predict", "sqlite")).ok


def test_more_rules_than_majority_extraction_for_a_rare_target(data):
    X, y = data
    model = _fit("bankml", X, y)
    by_class = rules_from_tree(model, target=1)
    by_rate = rules_from_tree(model, target=1, min_lift=1.5)
    assert len(by_rate) > len(by_class)
    cov = lambda rs: (rs.apply(X) >= 0).mean()  # noqa: E731
    assert cov(by_rate) > cov(by_class)


def test_text_reads_rate_lift_and_other_customers(data):
    X, y = data
    model = _fit("bankml", X, y)
    rs = rules_from_tree(model, target=1, min_lift=2.0, label_column="wm_buyer")
    rate = rs.provenance["rate_rules"]["default_rate"]
    en, zh = to_text(rs, "en"), to_text(rs, "zh")
    assert en.splitlines()[-1] == f"OTHERWISE other customers (rate {rate:.1%})"
    assert zh.splitlines()[-1] == f"否则 其他客户（比例 {rate:.1%}）"
    first = rs.rules[0]
    assert f"rate {first.confidence:.0%}, lift {first.lift:.1f}" in en.splitlines()[0]
    assert f"比例 {first.confidence:.0%}，提升度 {first.lift:.1f}" in zh.splitlines()[0]
    assert "other customers" in to_markdown(rs, "en")
    page = to_html(rs, lang="en")
    # the sheet keeps the model's order
    pos = [page.index(f"<tr><td>{r.rule_id}</td>") for r in rs.rules]
    assert pos == sorted(pos)
    frame = to_frame(rs, "en")
    assert frame["score"].tolist() == [s for _, s in rs.provenance["rate_rules"]["scores"]]


def test_exports_carry_the_score(data):
    X, y = data
    model = _fit("sklearn", X, y)
    Xk = _X("sklearn", X)
    rs = rules_from_tree(model, target=1, min_lift=2.0)
    twin = from_json(to_json(rs))
    assert twin == rs
    # SQL: a score column a branch can ORDER BY
    con = sqlite3.connect(":memory:")
    Xk.assign(id=np.arange(len(Xk))).to_sql("t", con, index=False)
    rows = con.execute(to_sql(rs, "t", "id") + ' ORDER BY "score" DESC').fetchall()
    got = np.array([r[3] for r in rows])
    assert np.all(np.diff(got) <= 0)
    proba = model.predict_proba(Xk)[:, 1]
    top = [r for r in rows if r[2] is not None]
    np.testing.assert_allclose([r[3] for r in top], proba[[r[0] for r in top]], rtol=1e-12)
    ns = {}
    exec(to_python(rs), ns)
    row = Xk.iloc[int(np.argmax(proba))].to_dict()
    assert ns["predict_score"](row) == pytest.approx(proba.max(), rel=1e-12)


def test_pipeline_rate_rules_keep_the_leaf_score():
    df = make_customers(1500, seed=5)
    X = df[["age", "education", "short_term_assets"]]
    y = df["wm_buyer"]
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 45, 55]})),
                     ("tree", InfoGainTreeClassifier(max_depth=3, min_samples_leaf=20))]).fit(X, y)
    rs = rules_from_pipeline(pipe, target=1, min_lift=1.3)
    assert len(rs) > 0
    ids = [r.rule_id for r in rs.rules]
    assert [i for i, _ in rs.provenance["rate_rules"]["scores"]] == ids
    report = check_fidelity(rs, pipe, X)
    assert report.ok, str(report)


def test_fidelity_catches_a_wrong_score_and_a_dropped_rule(data):
    X, y = data
    model = _fit("bankml", X, y)
    rs = rules_from_tree(model, target=1, min_lift=2.0)
    assert len(rs) >= 2
    bad = dataclasses.replace(rs, provenance=json.loads(json.dumps(rs.provenance)))
    bad.provenance["rate_rules"]["scores"][1][1] += 0.01
    rep = check_fidelity(bad, model, X, engines=("predict", "sqlite"))
    assert not rep.ok and rep.mismatches["predict"] == rs.rules[1].support
    assert rep.first_difference["rule_id"] == rs.rules[1].rule_id
    # dropping the best rule: those customers fall to the default though the model ranks
    # them above every remaining rule
    dropped = dataclasses.replace(rs, rules=rs.rules[1:])
    dropped.provenance = json.loads(json.dumps(rs.provenance))
    dropped.provenance["rate_rules"]["scores"] = dropped.provenance["rate_rules"]["scores"][1:]
    rep = check_fidelity(dropped, model, X, engines=("predict", "python", "duckdb"))
    assert rep.mismatches == {e: rs.rules[0].support for e in ("predict", "python", "duckdb")}
    assert "row position" in str(rep)


def test_no_leaf_reaches_the_lift(data):
    X, y = data
    model = _fit("bankml", X, y)
    rs = rules_from_tree(model, target=1, min_lift=50.0)
    assert len(rs) == 0
    assert to_text(rs, "en") == f"OTHERWISE other customers (rate {y.mean():.1%})"
    assert check_fidelity(rs, model, X).ok


def test_weighted_tree_scores_match(data):
    X, y = data
    model = _fit("bankml", X, y, class_weight="balanced")
    rs = rules_from_tree(model, target=1, top_fraction=0.2)
    assert rs.weighted
    assert check_fidelity(rs, model, X, engines=("predict", "json", "sqlite")).ok


def test_chinese_columns_missing_values_and_text_target():
    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame({"存款": rng.lognormal(8, 1, n), "城市": rng.choice(["北京", "上海", "成都"], n)})
    X.loc[rng.random(n) < 0.1, "存款"] = np.nan
    y = np.where((X["存款"].fillna(0) > 5000) & (rng.random(n) < 0.6), "买", "不买")
    model = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=20).fit(X, y)
    rs = rules_from_tree(model, target="买", min_lift=1.5)
    assert len(rs) > 0 and all(r.prediction == "买" for r in rs)
    assert rs.default == "不买"
    report = check_fidelity(rs, model, X)
    assert report.ok, str(report)


@pytest.mark.parametrize("kw, name", [({"min_lift": 0}, "min_lift"), ({"min_lift": -1}, "min_lift"),
                                      ({"min_lift": "2"}, "min_lift"),
                                      ({"min_lift": float("nan")}, "min_lift"),
                                      ({"top_fraction": 1.5}, "top_fraction"),
                                      ({"top_fraction": 0}, "top_fraction"),
                                      ({"min_lift": 2, "top_fraction": 0.1}, "either")])
def test_bad_rate_parameters(data, kw, name):
    X, y = data
    model = _fit("sklearn", X, y)
    with pytest.raises(InvalidParameterError, match=name):
        rules_from_tree(model, target=1, **kw)


def test_multiclass_needs_a_target_and_check_on_is_validated(data):
    X, _ = data
    y3 = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    model = DecisionTreeClassifier(max_depth=2).fit(_X("sklearn", X), y3)
    with pytest.raises(DataError, match="target="):
        rules_from_tree(model, min_lift=1.2)
    rs = rules_from_tree(model, target="c", min_lift=1.0)
    assert all(r.prediction == "c" for r in rs)
    with pytest.raises(InvalidParameterError, match="'on'"):
        check_fidelity(rs, model, _X("sklearn", X), on="rank")
    plain = rules_from_tree(model)
    with pytest.raises(InvalidParameterError, match="by rate"):
        check_fidelity(plain, model, _X("sklearn", X), on="score")
    assert isinstance(plain, RuleSet) and check_fidelity(plain, model, _X("sklearn", X),
                                                         engines="predict").ok


def test_a_single_leaf_tree(data):
    X, y = data
    stump = InfoGainTreeClassifier(min_samples_split=10**6).fit(X, y)
    assert stump.get_n_leaves() == 1
    assert len(rules_from_tree(stump, target=1, min_lift=1.5)) == 0
    rs = rules_from_tree(stump, target=1, top_fraction=0.1)
    # the one leaf holds everyone: one rule that always holds, nobody left for the default
    assert len(rs) == 1 and rs.rules[0].conditions == ()
    assert rs.provenance["rate_rules"]["default_rate"] is None
    assert to_text(rs, "en").splitlines()[-1] == "OTHERWISE other customers"
    assert check_fidelity(rs, stump, X).ok
