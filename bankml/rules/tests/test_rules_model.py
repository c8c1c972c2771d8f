"""Behaviour of conditions, simplification, evidence, exports and bad input of bankml.rules."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from bankml.errors import (DataError, InvalidParameterError, NotFittedError, RuleExportError,
                           SchemaError)
from bankml.labels import Labels
from bankml.rules import (Condition, Rule, RuleSet, evaluate, evaluate_counts, from_json, generalize,
                          rules_from_association, rules_from_tree, simplify, to_csv, to_frame,
                          to_html, to_json, to_markdown, to_python, to_sql, to_text,
                          with_evaluation, with_evidence)

NAN = np.nan


# -- conditions --------------------------------------------------------------------------------
def test_condition_rejects_bad_operators_and_values():
    with pytest.raises(DataError, match="unknown operator"):
        Condition("age", "=>", 3)
    with pytest.raises(DataError, match="needs a number"):
        Condition("age", ">", "55")
    with pytest.raises(DataError, match="NaN"):
        Condition("age", ">", float("nan"))
    with pytest.raises(DataError, match="collection"):
        Condition("city", "in", "abc")
    with pytest.raises(DataError, match="Condition objects"):
        Rule(["age > 5"], 1)


def test_missing_passes_only_conditions_that_include_it():
    X = pd.DataFrame({"x": [1.0, 9.0, NAN], "c": ["a", "b", None]})
    for cond, expected in [
        (Condition("x", "<=", 5), [True, False, False]),
        (Condition("x", "<=", 5, True), [True, False, True]),
        (Condition("x", ">", 5), [False, True, False]),
        (Condition("c", "not in", ["a"]), [False, True, False]),
        (Condition("c", "not in", ["a"], True), [False, True, True]),
        (Condition("c", "!=", "a"), [False, True, False]),
        (Condition("c", "in", [], True), [False, False, True]),
    ]:
        rs = RuleSet([Rule([cond], 1)], default=0)
        assert rs.predict(X).tolist() == [int(e) for e in expected], str(cond)


# -- lossless simplification ----------------------------------------------------------------
def test_simplify_merges_one_feature_into_one_interval():
    rs = RuleSet([Rule([Condition("age", ">", 30), Condition("age", ">", 55),
                        Condition("deposit", ">", 2500), Condition("deposit", "<=", 9000),
                        Condition("deposit", "<=", 1e4)], 1)])
    got = simplify(rs).rules[0].conditions
    assert got == (Condition("age", ">", 55), Condition("deposit", ">", 2500),
                   Condition("deposit", "<=", 9000))


def test_simplify_sets_and_contradictions():
    rs = RuleSet([
        Rule([Condition("c", "in", ["a", "b"]), Condition("c", "!=", "a")], 1),
        Rule([Condition("c", "in", ["a"]), Condition("c", "not in", ["a"])], 1),  # never
        Rule([Condition("x", ">", 5), Condition("x", "<=", 5)], 1),  # never
        Rule([Condition("x", ">", 5, True), Condition("x", "<=", 5, True)], 0),  # only NaN
        Rule([Condition("c", "not in", [], True)], 2),  # always true
    ], default=9)
    s = simplify(rs)
    assert [r.rule_id for r in s.rules] == [1, 4, 5]
    assert s.rules[0].conditions == (Condition("c", "==", "b"),)
    assert s.rules[1].conditions == (Condition("x", "in", [], True),)
    assert s.rules[2].conditions == ()


def test_simplify_never_changes_a_prediction_on_random_conjunctions():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.integers(-6, 7, 300).astype(float), [NAN] * 20])
    c = np.array(list(rng.choice(list("abcde"), 300)) + [None] * 20, dtype=object)
    X = pd.DataFrame({"x": x, "c": c})
    rules = []
    for i in range(400):
        conds = []
        for _ in range(rng.integers(1, 6)):
            miss = bool(rng.random() < 0.4)
            if rng.random() < 0.5:
                conds.append(Condition("x", rng.choice(["<=", "<", ">", ">="]),
                                       int(rng.integers(-5, 6)), miss))
            else:
                vals = list(rng.choice(list("abcdef"), rng.integers(0, 4), replace=False))
                conds.append(Condition("c", rng.choice(["in", "not in"]), vals, miss))
        rules.append(Rule(conds, i))
    for r in rules:  # each rule alone, so a dropped rule shows up as a changed prediction
        single = RuleSet([r], default=-1)
        np.testing.assert_array_equal(single.predict(X), simplify(single).predict(X),
                                      err_msg=str(r))


# -- lossy generalisation ---------------------------------------------------------------------
def test_generalize_reports_every_dropped_condition_and_changed_rows():
    rng = np.random.default_rng(1)
    n = 4000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = ((X["a"] > 0) & (rng.random(n) < 0.9)).astype(int).to_numpy()
    tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    rs = rules_from_tree(tree, target=1)
    g, changes = generalize(rs, X, y)
    assert len(changes) > 0 and {"rule_id", "dropped", "error_before", "error_after"} <= set(changes)
    assert (changes["error_after"] <= changes["error_before"]).all()
    n_before = sum(len(r.conditions) for r in rs)
    n_after = sum(len(r.conditions) for r in g)
    assert n_after < n_before
    changed = int((rs.predict(X) != g.predict(X)).sum())
    assert changes.attrs["changed_predictions"] == changed
    assert "lossy" in g.provenance["simplified"]
    with pytest.raises(DataError, match="cf"):
        generalize(rs, X, y, cf=1.5)



def test_generalize_leaves_a_rule_without_evidence_alone():
    # before the fix, a rule covering no row had error 1 and was grown into "TRUE THEN 1",
    # which then flagged every customer
    X = pd.DataFrame({"age": [60, 70, 65, 80, 20, 25, 30, 35], "city": ["a"] * 8})
    y = [1, 1, 0, 0, 0, 0, 0, 0]
    unseen = Rule([Condition("age", ">", 100), Condition("city", "==", "b")], 1)
    rs = RuleSet([unseen], default=0)
    g, changes = generalize(rs, X, y)
    assert g.rules[0].conditions == unseen.conditions
    assert len(changes) == 0 and changes.attrs["changed_predictions"] == 0
    assert (g.predict(X) == 0).all()


def test_generalize_uses_c45_upper_binomial_limit_and_reports_merged_rules():
    from scipy.optimize import brentq
    from scipy.stats import binom

    from bankml.rules._simplify import _pessimistic_error

    for e, n, cf in [(0, 4, 0.25), (1, 10, 0.25), (3, 40, 0.1), (7, 9, 0.25)]:
        # U_CF(E, N): the p at which seeing at most E errors in N has probability CF
        expected = brentq(lambda p: binom.cdf(e, n, p) - cf, 1e-12, 1 - 1e-12, xtol=1e-14)
        assert _pessimistic_error(e, n, cf) == pytest.approx(expected, abs=1e-9)
    assert _pessimistic_error(0, 4, 0.25) == pytest.approx(1 - 0.25 ** (1 / 4))
    # two rules that generalise to the same rule: one is removed, and the report says so
    X = pd.DataFrame({"age": [60, 70, 65, 80, 20, 25], "city": ["a", "b", "a", "b", "a", "b"]})
    y = [1, 1, 1, 1, 0, 0]
    rs = RuleSet([Rule([Condition("age", ">", 55), Condition("city", "==", "a")], 1),
                  Rule([Condition("age", ">", 55), Condition("city", "==", "b")], 1)], default=0)
    g, changes = generalize(rs, X, y)
    assert [str(c) for c in g.rules[0].conditions] == ["age > 55"] and len(g) == 1
    assert changes.attrs["removed_duplicates"] == {2: 1}
    assert sorted(changes["rule_id"]) == [1, 2]

# -- evidence ---------------------------------------------------------------------------------
def test_evaluate_measures_support_confidence_lift_coverage():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"age": rng.integers(18, 80, 1000), "city": rng.choice(["a", "b"], 1000)})
    y = rng.integers(0, 2, 1000)
    rs = RuleSet([Rule([Condition("age", ">", 55)], 1),
                  Rule([Condition("city", "==", "a")], 0)], default=1)
    ev = evaluate(rs, X, y)
    for row, mask, pred in [(ev.iloc[0], X["age"] > 55, 1), (ev.iloc[1], X["city"] == "a", 0)]:
        conf = (y[mask] == pred).mean()
        assert row["support"] == mask.sum()
        assert row["confidence"] == pytest.approx(conf)
        assert row["lift"] == pytest.approx(conf / (y == pred).mean())
        assert row["coverage"] == pytest.approx(mask.mean())
    assert ev["fired"].iloc[1] == int(((X["city"] == "a") & ~(X["age"] > 55)).sum())
    measured = with_evidence(rs, X, y)
    assert measured.rules[0].support == ev["support"].iloc[0]
    with pytest.raises(DataError, match="one label per row"):
        evaluate(rs, X, y[:-1])
    # labels of another type or missing labels would make every rule look wrong, silently
    with pytest.raises(DataError, match=r"y holds labels \['0', '1'\] but the rules predict"):
        evaluate(rs, X, y.astype(str))
    with pytest.raises(DataError, match=r"1 missing label\(s\), first at row position\(s\) \[3\]"):
        evaluate(rs, X, pd.Series(y, dtype="Int64").where(np.arange(1000) != 3))
    bools = evaluate(rs, X, y.astype(bool))  # True == 1: the same labels
    np.testing.assert_array_equal(bools["confidence"], ev["confidence"])



def test_evaluate_counts_of_tree_rules_is_evaluate_of_the_rows():
    # what the Spark job counts with GROUP BY rule_id, label: tree rules are disjoint
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"age": rng.integers(18, 80, 600), "deposit": rng.exponential(900, 600)})
    y = ((X["age"] > 50) ^ (rng.random(600) < 0.2)).astype(int).to_numpy()
    rs = simplify(rules_from_tree(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), 1))
    first = rs.apply(X)
    ids = [None if i < 0 else rs.rules[i].rule_id for i in first]
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays([ids, y])).groupby(level=[0, 1],
                                                                              dropna=False).sum()
    ev = evaluate_counts(rs, counts.to_dict())
    pd.testing.assert_frame_equal(ev, evaluate(rs, X, y), check_dtype=False)
    assert with_evaluation(rs, ev) == with_evidence(rs, X, y)
    with pytest.raises(DataError, match=r"rule id\(s\) \[99\]"):
        evaluate_counts(rs, {(99, 1): 3})
    with pytest.raises(DataError, match=r"2 row\(s\) have a missing label"):
        evaluate_counts(rs, {(None, None): 2, (None, 1): 1})
    with pytest.raises(DataError, match="not this rule set's evaluation"):
        with_evaluation(rs, ev.iloc[1:])


@pytest.mark.parametrize("how", ["class_weight", "sample_weight"])
def test_weighted_evidence_is_flagged_in_every_export_until_remeasured(how):
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"age": rng.integers(18, 80, 2000).astype(float)})
    y = ((X["age"] > 55) & (rng.random(2000) < 0.3)).astype(int).to_numpy()
    if how == "class_weight":
        tree = DecisionTreeClassifier(max_depth=2, class_weight="balanced", random_state=0).fit(X, y)
    else:
        tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(
            X, y, sample_weight=np.where(y == 1, 4.0, 1.0))
    rs = rules_from_tree(tree, target=1, label_column="wm_buyer")
    assert rs.weighted
    # a weighted confidence is not the share of buyers among the customers a rule covers
    covered = rs.rules[0]
    share = y[rs.apply(X) == 0].mean()
    assert covered.confidence > share + 0.1
    assert "加权置信度" in to_text(rs, "zh") and "weighted confidence" in to_text(rs, "en")
    assert "weighted confidence" in to_markdown(rs, lang="en") and "with_evidence" in to_html(rs, lang="en")
    plain = with_evidence(rs, X, y)
    assert not plain.weighted
    assert plain.rules[0].confidence == pytest.approx(share)
    assert "加权" not in to_text(plain, "zh") and "with_evidence" not in to_html(plain, lang="en")
    unweighted = rules_from_tree(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    assert not unweighted.weighted
    assert "weighted" not in to_text(unweighted, "en")


def test_infogain_tree_weighted_evidence_flag():
    from bankml.tree import InfoGainTreeClassifier

    rng = np.random.default_rng(6)
    X = pd.DataFrame({"age": rng.integers(18, 80, 1500).astype(float),
                      "city": rng.choice(["a", "b", "c"], 1500)})
    y = ((X["age"] > 55) & (rng.random(1500) < 0.3)).astype(int).to_numpy()
    plain = InfoGainTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    assert not rules_from_tree(plain).weighted
    weighted = InfoGainTreeClassifier(max_depth=2, random_state=0).fit(
        X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert rules_from_tree(weighted).weighted

# -- text -------------------------------------------------------------------------------------
def _paper_rules():
    return RuleSet([Rule([Condition("deposit", ">", 2500), Condition("age", ">", 55)], 1,
                         support=12, confidence=10 / 12),
                    Rule([Condition("deposit", ">", 2500),
                          Condition("education", "in", ["university", "postgraduate"])], 1,
                         support=1234, confidence=0.5)],
                   default=0, label_column="wm_buyer")


def test_text_in_chinese_and_english_with_labels_and_thousands():
    zh = to_text(_paper_rules(), "zh").splitlines()
    assert zh[0] == "1. 如果 存款余额 > 2,500 且 年龄 > 55 则 理财客户（支持 12 人，置信度 83%）"
    assert zh[1] == "2. 如果 存款余额 > 2,500 且 学历 属于 {研究生、大学本科} 则 理财客户（支持 1,234 人，置信度 50%）"
    assert zh[2] == "否则 非理财客户"
    en = to_text(_paper_rules(), "en").splitlines()
    assert en[0] == ("1. IF deposit balance > 2,500 AND age > 55 THEN WM buyer "
                     "(support 12 customers, confidence 83%)")
    with pytest.raises(ValueError, match="lang"):
        to_text(_paper_rules(), "fr")


def test_text_reads_flag_splits_as_yes_no_and_intervals_as_one(fakes):
    rs = RuleSet([Rule([Condition("has_fund", ">", 0.5), Condition("has_gold", "<=", 0.5, True),
                        Condition("age", ">", 30), Condition("age", "<=", 55),
                        Condition("education", "in", ["university"])], 1)],
                 default=0, label_column="wm_buyer")
    # the labels file says has_fund / has_gold are coded 0 = no, 1 = yes
    flags = fakes.flag_labels("has_fund", "has_gold")
    assert to_text(rs, "zh", labels=flags).splitlines()[0] == (
        "1. 如果 持有基金 = 是 且 持有黄金 = 否（或缺失） 且 30 < 年龄 <= 55 且 学历 = 大学本科 "
        "则 理财客户")
    assert to_text(rs, "en", labels=flags).splitlines()[0] == (
        "1. IF holds funds = yes AND holds gold = no (or missing) AND 30 < age <= 55 "
        "AND education = university THEN WM buyer")
    # the shipped configs/labels.yaml names the holdings' values too (since the integration)
    assert to_text(rs, "en").splitlines()[0].startswith(
        "1. IF holds funds = yes AND holds gold = no (or missing) AND 30 < age <= 55")
    # a 0/1 column whose values no labels name prints its threshold as it is, never a guess
    plain = RuleSet([Rule([Condition("loyalty_flag", ">", 0.5),
                           Condition("vip_flag", "<=", 0.5, True)], 1)], default=0)
    assert to_text(plain, "en").splitlines()[0] == (
        "1. IF loyalty_flag > 0.5 AND vip_flag <= 0.5 (or missing) THEN 1")


def test_text_falls_back_to_names_and_accepts_own_labels():
    rs = RuleSet([Rule([Condition("zz_col", "<=", -1234.5, True)], "v")], default="w")
    assert to_text(rs, "zh").splitlines()[0] == "1. 如果 zz_col <= -1,234.5（或缺失） 则 v"
    own = Labels({"columns": {"zz_col": {"zh": "甲", "en": "A"}}, "terms": {}})
    assert to_text(rs, "en", labels=own).splitlines()[0] == "1. if A <= -1,234.5 (rule_or_missing) then v"


def test_markdown_frame_csv_and_html():
    rs = _paper_rules()
    md = to_markdown(rs, lang="en")
    assert md.count("\n| ") == 2 and "1,234" in md and "83.3%" in md
    frame = to_frame(rs, lang="zh")
    assert frame["support"].tolist() == [12, 1234]
    assert frame["prediction_label"].tolist() == ["理财客户", "理财客户"]
    assert pd.read_csv(pd.io.common.StringIO(to_csv(rs, lang="en")))["rule_id"].tolist() == [1, 2]
    page = to_html(rs, lang="en", model_version="wm-tree 1.2", date="2026-11-23")
    assert "wm-tree 1.2" in page and "2026-11-23" in page
    assert "date: 2026-11-23" in page and "：" not in page
    zh = to_html(rs, lang="zh", model_version="v1", date="2026-11-23")
    assert "日期：2026-11-23" in zh and "模型版本：v1" in zh and "日期:" not in zh
    assert page.index("83.3%") < page.index("50.0%")  # sorted by confidence
    evil = RuleSet([Rule([Condition("c", "==", "<script>alert(1)</script>")], 1)])
    assert "<script>alert" not in to_html(evil)
    # the sheet says how many customers its evidence rests on (lost in #16, restored)
    assert "rows behind the evidence: 70,000</p>" in to_html(rs, lang="en", evidence_rows=70_000)
    assert "证据样本数：70,000</p>" in to_html(rs, lang="zh", evidence_rows=70_000)
    assert "rows behind the evidence" not in page
    from bankml.errors import InvalidParameterError
    for bad in (-1, 2.5, True, "70000"):
        with pytest.raises(InvalidParameterError, match="evidence_rows"):
            to_html(rs, evidence_rows=bad)


# -- JSON -------------------------------------------------------------------------------------
def test_json_round_trip_keeps_types_and_predictions():
    rs = RuleSet([Rule([Condition("x", "<=", 0.1 + 0.2), Condition("x", ">", float("-inf")),
                        Condition("c", "not in", ["O'Brien", 'say "hi"', "北京", 3], True)],
                       "yes", support=3, confidence=0.5, lift=1.2, coverage=0.01),
                  Rule([Condition("flag", "==", True)], "no")],
                 default="no", classes=("no", "yes"), label_column=None,
                 provenance={"model_version": "1", "n_samples": np.int64(7)})
    back = from_json(to_json(rs))
    assert back.rules == rs.rules and back.default == rs.default and back.classes == rs.classes
    assert back.rules[0].conditions[0].value == 0.1 + 0.2
    X = pd.DataFrame({"x": [0.3, 0.30000000000000004, NAN], "c": ["O'Brien", "a", None],
                      "flag": [True, False, True]})
    np.testing.assert_array_equal(rs.predict(X), back.predict(X))
    with pytest.raises(DataError, match="format"):
        from_json(json.dumps({"rules": []}))
    with pytest.raises(DataError, match="parsed"):
        from_json("{not json")


# -- SQL and python ---------------------------------------------------------------------------
def test_sql_dialects_quote_identifiers_and_escape_strings():
    rs = RuleSet([Rule([Condition('we"ird`col', "in", ["it's", "back\\slash"])], 1)], default=0)
    ansi = to_sql(rs, "t", "id")
    assert '"we""ird`col" IN (\'back\\slash\', \'it\'\'s\')' in ansi
    spark = to_sql(rs, "t", "id", dialect="spark")
    assert "`we\"ird``col` IN ('back\\\\slash', 'it\\'s')" in spark
    assert "FROM `t`" in spark
    # hostile R22: a column the table lacks is an error in SQLite too (a bare double-quoted
    # name there would be read as a text literal and the query would answer)
    typo = RuleSet([Rule([Condition("cty", "in", ["x"])], 1)], default=0)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (id, city)")
    con.execute("INSERT INTO t VALUES (1, 'x')")
    for dialect in ("ansi", "sqlite"):
        with pytest.raises(sqlite3.OperationalError, match="no such column"):
            con.execute(to_sql(typo, "t", "id", dialect=dialect)).fetchall()
    # a bad setting is scikit-learn's InvalidParameterError (errors.py; hostile R18)
    with pytest.raises(InvalidParameterError, match="dialect"):
        to_sql(rs, "t", "id", dialect="oracle")
    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE t (id, "we""ird`col")')
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "it's"), (2, "back\\slash"), (3, "x"),
                                                    (4, None)])
    assert con.execute(ansi).fetchall() == [(1, 1, 1), (2, 1, 1), (3, 0, None), (4, 0, None)]


def test_decision_list_agrees_across_predict_sql_and_python():
    # Overlapping rules (e.g. from association rules): the first that holds decides.
    rs = RuleSet([Rule([Condition("has_fund", "==", 1), Condition("age", ">", 55)], "A"),
                  Rule([Condition("has_fund", "==", 1)], "B"),
                  Rule([], "C")], default=None)
    X = pd.DataFrame({"id": [1, 2, 3, 4], "has_fund": [1, 1, 0, None], "age": [60, 20, 70, 80]})
    assert rs.predict(X).tolist() == ["A", "B", "C", "C"]
    con = sqlite3.connect(":memory:")
    # numeric columns stay REAL/INTEGER with NaN as NULL (an object column became TEXT '1.0'
    # under pandas 2, so has_fund = 1 never held)
    X.to_sql("t", con, index=False)
    assert [r[0] for r in con.execute('SELECT typeof("has_fund") FROM t')] == ["real"] * 3 + ["null"]
    assert [r[1] for r in con.execute(to_sql(rs, "t", "id")).fetchall()] == ["A", "B", "C", "C"]
    ns = {}
    exec(to_python(rs, "score"), ns)
    assert [ns["score"](r) for r in X.to_dict("records")] == ["A", "B", "C", "C"]
    assert ns["score"]({"has_fund": pd.NA, "age": pd.NA}, return_rule=True) == ("C", 3)
    assert rs.apply(X).tolist() == [0, 1, 2, 2]


def test_single_leaf_tree_and_qualified_table_name():
    X = pd.DataFrame({"id": [1, 2], "a": [1.0, NAN]})
    tree = DecisionTreeClassifier().fit(X[["a"]], ["only", "only"])
    rs = rules_from_tree(tree)
    assert len(rs) == 1 and rs.rules[0].conditions == ()
    assert rs.predict(X[["a"]]).tolist() == ["only", "only"]
    con = sqlite3.connect(":memory:")
    X.to_sql("t", con, index=False)
    assert con.execute(to_sql(rs, ("main", "t"), "id")).fetchall() == [(1, "only", 1),
                                                                      (2, "only", 1)]


def test_empty_rule_set_sql_returns_default():
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (id)")
    con.execute("INSERT INTO t VALUES (7)")
    assert con.execute(to_sql(RuleSet([], default=0), "t", "id")).fetchall() == [(7, 0, None)]


# -- bad input --------------------------------------------------------------------------------
def test_missing_column_names_the_column_and_rules():
    rs = _paper_rules()
    with pytest.raises(SchemaError, match=r"'education' \(rules \[2\]\)"):
        rs.predict(pd.DataFrame({"deposit": [3000], "age": [60]}))


def test_wrong_value_types_are_refused():
    rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    with pytest.raises(DataError, match="'age'.*non-numeric.*'sixty'"):
        rs.predict(pd.DataFrame({"age": ["sixty", "20"]}))
    with pytest.raises(DataError, match="'age'.*non-numeric"):
        rs.predict(pd.DataFrame({"age": pd.Series(["70", "20"], dtype="str")}))
    cat = RuleSet([Rule([Condition("city", "in", ["a"])], 1)], default=0)
    with pytest.raises(DataError, match="'city'.*text.*numeric"):
        cat.predict(pd.DataFrame({"city": [1.0, 2.0]}))
    num_set = RuleSet([Rule([Condition("tier", "in", [1, 2])], 1)], default=0)
    with pytest.raises(DataError, match="'tier'.*number.*text"):
        num_set.predict(pd.DataFrame({"tier": ["1", "2"]}))
    # numbers in an object column (e.g. after a merge) are fine
    assert rs.predict(pd.DataFrame({"age": pd.Series([60, None], dtype=object)})).tolist() == [1, 0]


def test_unfitted_or_foreign_models_are_refused():
    with pytest.raises(NotFittedError, match="not fitted"):
        rules_from_tree(DecisionTreeClassifier())
    with pytest.raises(NotFittedError):
        rules_from_tree(object())
    X = pd.DataFrame({"a": [1, 2, 3, 4]})
    tree = DecisionTreeClassifier().fit(X, [0, 0, 1, 1])
    with pytest.raises(DataError, match="target 'x' is not one of the model's classes"):
        rules_from_tree(tree, target="x")


def test_target_by_label_and_array_input():
    X = pd.DataFrame({"age": [20, 30, 60, 70]})
    tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    rs = rules_from_tree(tree, target="WM buyer", label_column="wm_buyer")
    assert [r.prediction for r in rs] == [1] and rs.default == 0
    assert rs.predict(np.array([[10.0], [80.0]])).tolist() == [0, 1]
    tree_np = DecisionTreeClassifier(random_state=0).fit(X.to_numpy(), [0, 0, 1, 1])
    assert rules_from_tree(tree_np).features == ["x0"]


# -- association rules ------------------------------------------------------------------------
def test_association_rules_become_a_decision_list_with_the_same_evidence():
    from bankml.association import mine_rules, to_transactions
    from bankml.datasets import make_customers
    tx = to_transactions(make_customers(5_000, seed=8))
    ar = mine_rules(tx, min_support=0.02, min_confidence=0.3, consequents=["has_wm_account"])
    rs = rules_from_association(ar)
    assert len(rs) == len(ar) > 0 and rs.label_column == "has_wm_account"
    ev = evaluate(rs, tx, tx["has_wm_account"].astype(int))
    np.testing.assert_allclose(ev["confidence"], ar["confidence"])
    np.testing.assert_allclose(ev["coverage"], ar["antecedent support"])
    assert ev["support"].tolist() == [r.support for r in rs]
    con = sqlite3.connect(":memory:")
    tx.astype(int).assign(id=np.arange(len(tx))).to_sql("tx", con, index=False)
    sql = [row[1] for row in con.execute(to_sql(rs, "tx", "id") + ' ORDER BY "id"')]
    np.testing.assert_array_equal(sql, rs.predict(tx))
    with pytest.raises(DataError, match="antecedents"):
        rules_from_association(pd.DataFrame({"a": [1]}))
    mixed = pd.DataFrame({"antecedents": [frozenset({"a"}), frozenset({"b"})],
                          "consequents": [frozenset({"c"}), frozenset({"d"})]})
    with pytest.raises(DataError, match="consequent="):
        rules_from_association(mixed)
    assert len(rules_from_association(mixed, consequent="d")) == 1


def test_random_decision_lists_agree_across_predict_sql_python_and_json(fakes):
    duckdb = pytest.importorskip("duckdb")
    rng = np.random.default_rng(9)
    df = fakes.mixed_frame(3_000, 10, unseen=True)
    cats = fakes.CATS + ["zzz", "new'one"]
    rules = []
    for i in range(40):
        conds = []
        for _ in range(rng.integers(2, 5)):
            miss = bool(rng.random() < 0.3)
            pick = rng.integers(3)
            if pick == 0:
                conds.append(Condition(str(rng.choice(["amount", "score"])),
                                       str(rng.choice(["<=", "<", ">", ">="])),
                                       float(rng.normal(0, 3000)), miss))
            elif pick == 1:
                vals = list(rng.choice(cats, rng.integers(0, 3), replace=False))
                conds.append(Condition("city", str(rng.choice(["in", "not in"])), vals, miss))
            else:
                conds.append(Condition("tier", str(rng.choice(["==", "!="])),
                                       str(rng.choice(["t1", "t2"])), miss))
        rules.append(Rule(conds, f"class {i % 7}'s"))
    rs = RuleSet(rules, default=None)
    expected = rs.predict(df)
    assert len(set(expected)) > 3 and None in set(expected)  # rules and default both used
    back = from_json(to_json(rs))
    np.testing.assert_array_equal(back.predict(df), expected)
    np.testing.assert_array_equal(simplify(rs).predict(df), expected)
    con = sqlite3.connect(":memory:")
    df.astype(object).where(df.notna(), None).to_sql("t", con, index=False)
    got = dict((r[0], r[1]) for r in con.execute(to_sql(rs, "t", "id")))
    np.testing.assert_array_equal([got[i] for i in df["id"]], expected)
    dcon = duckdb.connect()
    dcon.register("t", df)
    res = dcon.execute(to_sql(rs, "t", "id", dialect="duckdb")).fetchall()
    got = dict((r[0], r[1]) for r in res)
    np.testing.assert_array_equal([got[i] for i in df["id"]], expected)
    ns = {}
    exec(to_python(rs), ns)
    np.testing.assert_array_equal([ns["predict"](r) for r in df.to_dict("records")], expected)


def test_flag_target_reads_as_holding_in_both_languages(fakes):
    rs = RuleSet([Rule([Condition("has_fund", ">", 0.5)], 1, support=10, confidence=0.8)],
                 default=0, label_column="has_wm_account")
    flags = fakes.flag_labels("has_fund", "has_wm_account")
    zh, en = to_text(rs, "zh", labels=flags), to_text(rs, "en", labels=flags)
    assert "则 持有理财账户 = 是" in zh and "否则 持有理财账户 = 否" in zh
    assert "THEN holds WM account = yes" in en and "THEN 1" not in en
    assert "IF holds funds = yes" in en
