"""Rules extracted from trees reproduce the tree's predictions on every row: RuleSet.predict,
the SQL run in SQLite and DuckDB, and the generated Python, before and after simplification.
"""

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from bankml.datasets import make_customers
from bankml.rules import rules_from_tree, simplify, to_python, to_sql, to_text

N_CHECK = 100_000


def _sql_sqlite(rs, df, features):
    con = sqlite3.connect(":memory:")
    df[["id"] + features].astype(object).where(df[["id"] + features].notna(), None).to_sql(
        "customers", con, index=False)
    rows = con.execute(to_sql(rs, "customers", "id", dialect="sqlite")).fetchall()
    con.close()
    out = pd.DataFrame(rows, columns=["id", "prediction", "rule_id"]).set_index("id")
    return out.loc[df["id"].to_numpy(), "prediction"].to_numpy()


def _sql_duckdb(rs, df, features):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register("customers", df[["id"] + features])
    res = con.execute(to_sql(rs, "customers", "id", dialect="duckdb")).df()
    con.close()
    return res.set_index("id").loc[df["id"].to_numpy(), "prediction"].to_numpy()


def _python(rs, df, features):
    ns = {}
    exec(to_python(rs), ns)
    fn = ns["predict"]
    return np.array([fn(row) for row in df[features].to_dict("records")])


def _assert_same(expected, got, what):
    expected = np.asarray(expected, dtype=object)
    got = np.asarray(got, dtype=object)
    bad = np.flatnonzero(expected != got)
    assert bad.size == 0, f"{what}: {bad.size} of {len(expected)} rows differ (first {bad[:5]})"


def _check_everywhere(rs, model, df, features):
    expected = model.predict(df[features])
    for variant, rules in (("extracted", rs), ("simplified", simplify(rs))):
        _assert_same(expected, rules.predict(df[features]), f"{variant} RuleSet.predict")
        _assert_same(expected, _sql_sqlite(rules, df, features), f"{variant} SQLite")
        _assert_same(expected, _sql_duckdb(rules, df, features), f"{variant} DuckDB")
        _assert_same(expected, _python(rules, df, features), f"{variant} to_python")


def _random_numeric(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": rng.normal(0, 1000, n),
        "b": rng.integers(-50, 50, n).astype(float),
        "c": rng.uniform(-1, 1, n),
        "d": rng.random(n) < 0.3,
    })
    X.loc[rng.random(n) < 0.1, "a"] = np.nan
    X.loc[rng.random(n) < 0.05, "b"] = np.nan
    y = ((X["a"].fillna(500) > 0) ^ (X["b"].fillna(0) > 10) ^ X["d"]
         ^ (rng.random(n) < 0.2)).astype(int)
    return X, y.to_numpy()


def test_sklearn_tree_on_random_numbers_with_nan_and_negatives():
    X, y = _random_numeric(20_000, 0)
    tree = DecisionTreeClassifier(max_depth=8, random_state=0).fit(X, y)
    rs = rules_from_tree(tree)
    assert len(rs) == tree.get_n_leaves()
    Xt, _ = _random_numeric(N_CHECK, 1)
    Xt.insert(0, "id", np.arange(N_CHECK))
    _check_everywhere(rs, tree, Xt, ["a", "b", "c", "d"])


def test_sklearn_thresholds_follow_the_float32_cast():
    # sklearn compares float32(x) <= threshold: x just above 1.25 rounds down to 1.25.
    X = pd.DataFrame({"x": [1.0, 1.0, 1.5, 1.5]})
    tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    t = float(tree.tree_.threshold[0])
    assert t == 1.25
    probe = pd.DataFrame({"id": np.arange(7),
                          "x": 1.25 + np.array([-1e-9, 0, 1e-10, 1e-9, 5.9e-8, 6e-8, 1e-7])})
    naive = np.where(probe["x"] <= t, 0, 1)
    assert (naive != tree.predict(probe[["x"]])).any()  # the naive rule would be wrong here
    _check_everywhere(rules_from_tree(tree), tree, probe, ["x"])


def test_target_keeps_only_leaves_of_that_class_and_still_predicts_exactly():
    X, y = _random_numeric(5_000, 2)
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    rs = rules_from_tree(tree, target=1)
    assert rs.rules and all(r.prediction == 1 for r in rs.rules)
    t = tree.tree_
    leaves = np.flatnonzero(t.children_left == -1)
    assert len(rs) == int((t.value[leaves, 0].argmax(-1) == 1).sum())
    assert rs.default == 0
    Xt, _ = _random_numeric(20_000, 3)
    Xt.insert(0, "id", np.arange(len(Xt)))
    _check_everywhere(rs, tree, Xt, ["a", "b", "c", "d"])


def test_sklearn_tree_on_synthetic_customers():
    df = make_customers(N_CHECK, seed=3)
    features = ["age", "tenure_months", "short_term_assets", "long_term_assets",
                "investment_tx", "card_spend", "has_fund", "has_wm_account", "tx_count_6m"]
    train = make_customers(20_000, seed=4)
    tree = DecisionTreeClassifier(max_depth=7, min_samples_leaf=20, random_state=0).fit(
        train[features], train["wm_buyer"])
    rs = rules_from_tree(tree, label_column="wm_buyer")
    df = df.rename(columns={"customer_id": "id"})
    _check_everywhere(rs, tree, df, features)


@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_contract_tree_with_categories_nan_quotes_and_unseen_values(fakes, text_dtype):
    train = fakes.mixed_frame(3_000, 5, text_dtype=text_dtype)
    features = ["amount", "score", "city", "tier"]
    model = fakes.FakeTreeModel(train, features, ["no", "yes", "maybe"], seed=6, max_depth=6)
    rs = rules_from_tree(model)
    n_leaves = sum(model.tree_.is_leaf(i) for i in range(model.tree_.node_count))
    assert len(rs) == n_leaves
    assert any(c.op in ("in", "not in") for r in rs for c in r.conditions)
    test = fakes.mixed_frame(N_CHECK // 4, 7, unseen=True, text_dtype=text_dtype)
    _check_everywhere(rs, model, test, features)


# -- bankml's own InfoGainTreeClassifier ------------------------------------------------------
@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_infogain_tree_on_mixed_data_with_unseen_categories(fakes, text_dtype):
    from bankml.tree import InfoGainTreeClassifier
    train = fakes.mixed_frame(20_000, 5, text_dtype=text_dtype)
    rng = np.random.default_rng(0)
    y = np.where((train["amount"].fillna(0) > 0) ^ train["city"].isin(["a", "北京"])
                 ^ (rng.random(len(train)) < 0.2), "yes", "no")
    features = ["amount", "score", "city", "tier"]
    model = InfoGainTreeClassifier(max_depth=6, min_samples_leaf=5).fit(train[features], y)
    rs = rules_from_tree(model)
    assert len(rs) == model.tree_.n_leaves
    assert any(c.op in ("in", "not in") for r in rs for c in r.conditions)
    test = fakes.mixed_frame(N_CHECK, 7, unseen=True, text_dtype=text_dtype)
    _check_everywhere(rs, model, test, features)


def test_infogain_wm_propensity_tree_on_synthetic_customers():
    from bankml.tree import InfoGainTreeClassifier
    train = make_customers(50_000, seed=11)
    features = [c for c in train.columns if c not in ("customer_id", "wm_buyer")]
    model = InfoGainTreeClassifier(max_depth=6, min_samples_leaf=50,
                                   pruning="pessimistic").fit(train[features], train["wm_buyer"])
    df = make_customers(N_CHECK, seed=12).rename(columns={"customer_id": "id"})
    for target in (None, 1):
        rs = rules_from_tree(model, target=target, label_column="wm_buyer")
        _check_everywhere(rs, model, df, features)
    text = to_text(simplify(rs), "zh")
    assert text.splitlines()[-1] == "否则 非理财客户" and "则 理财客户（支持 " in text
