"""``missing="fractional"`` (C4.5's fractional weights) against slow plain-Python references,
and the exactness of its single-path translation in every rule engine.

The references read only the raw column values and the GROWN tree (``tree_.source``): its
splits, each child's share of the known weight and its leaf counts. They re-derive the
training weights every node must hold (rows with a missing value split by the shares), the
root's C4.5 gain (known fraction x gain on the known rows), and C4.5's classification (a
missing tested value follows every branch; the share-weighted sum of leaf distributions).
"""

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.errors import InvalidParameterError, ResourceLimitError
from bankml.rules import check_fidelity, rules_from_tree, to_sql
from bankml.tree import InfoGainTreeClassifier
from bankml.tree import _fractional


def _missing(v):
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _data(n=1500, seed=0, frac=(0.1, 0.3, 0.2, 0.15)):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "资产": rng.lognormal(10, 1, n),                     # Chinese column name on purpose
        "age": rng.integers(18, 80, n).astype(float),
        "city": rng.choice(["bj", "sh", "gz", "sz"], n),
        "deposit": rng.normal(0, 1, n),
    })
    logit = (np.log(X["资产"]) - 10) + (X["age"] - 50) / 15 + (X["city"] == "sh") - X["deposit"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    for col, p in zip(X.columns, frac):
        X[col] = X[col].astype(object) if col == "city" else X[col]
        X.loc[rng.random(n) < p, col] = None if col == "city" else np.nan
    return X, y


def _child_for(src, node, v):
    """The child of ``node`` a present value ``v`` goes to in the grown tree."""
    f = int(src.feature[node])
    kids = src.children(node)
    if src.categories[f] is None:
        return kids[0] if float(v) <= src.threshold[node] else kids[1]
    cats = list(src.categories[f])
    lut = src._cat_child[int(node)]
    return int(lut[cats.index(v)]) if v in cats else int(src.missing_child[node])


def _reference_weights(src, X, y, w=None):
    """Class weights per grown-tree node from pushing every training row down, recursively."""
    out = np.zeros_like(src.value)
    w = np.ones(len(y)) if w is None else w
    rows = X.to_dict("records")
    names = list(X.columns)

    def push(node, row, cls, wt):
        out[node, cls] += wt
        if src.is_leaf(node):
            return
        v = row[names[int(src.feature[node])]]
        if _missing(v):
            for k in src.children(node):
                push(k, row, cls, wt * src.missing_share[k])
        else:
            push(_child_for(src, node, v), row, cls, wt)

    for i, row in enumerate(rows):
        push(0, row, int(y[i]), float(w[i]))
    return out


def _reference_proba(src, X, n_classes):
    """C4.5's classification of each row on the grown tree, recursively."""
    names = list(X.columns)

    def classify(node, row):
        if src.is_leaf(node):
            v = src.value[node]
            return (v + 1.0) / (v.sum() + n_classes)
        v = row[names[int(src.feature[node])]]
        if _missing(v):
            return sum(src.missing_share[k] * classify(k, row) for k in src.children(node))
        return classify(_child_for(src, node, v), row)

    return np.array([classify(0, row) for row in X.to_dict("records")])


def _entropy(counts):
    tot = sum(counts)
    return -sum(c / tot * math.log2(c / tot) for c in counts if c > 0) if tot > 0 else 0.0


def _c45_gain(col, y, is_cat, threshold=None):
    """C4.5's gain of one split on all rows: known fraction x gain on the known rows."""
    known = [i for i, v in enumerate(col) if not _missing(v)]
    if is_cat:
        keys = [col[i] for i in known]
    else:
        keys = [float(col[i]) <= threshold for i in known]
    yk = [y[i] for i in known]
    h = _entropy([yk.count(c) for c in (0, 1)])
    groups = {}
    for k, c in zip(keys, yk):
        groups.setdefault(k, []).append(c)
    rest = sum(len(g) / len(yk) * _entropy([g.count(0), g.count(1)]) for g in groups.values())
    return len(known) / len(col) * (h - rest), [len(g) for g in groups.values()]


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    model = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=20, missing="fractional").fit(X, y)
    return model, X, y


def test_training_weights_follow_the_shares(fitted):
    model, X, y = fitted
    src = model.tree_.source
    assert src.node_count > 3 and np.isnan(src.missing_share[0])
    np.testing.assert_allclose(src.value, _reference_weights(src, X, y), rtol=1e-9, atol=1e-9)
    # shares are each child's fraction of the node's known weight: they sum to 1 per split
    for node in np.flatnonzero(src.feature >= 0):
        assert math.isclose(sum(src.missing_share[k] for k in src.children(node)), 1.0)


def test_root_gain_is_c45s_known_fraction_times_known_gain(fitted):
    model, X, y = fitted
    src = model.tree_.source
    f = int(src.feature[0])
    col = X.iloc[:, f].tolist()
    is_cat = src.categories[f] is not None
    gain, sizes = _c45_gain(col, list(y), is_cat, None if is_cat else src.threshold[0])
    assert math.isclose(src.gain[0], gain, rel_tol=1e-9)
    # no split of any feature on the candidate thresholds does better (min_samples_leaf=20)
    best = 0.0
    for j, name in enumerate(X.columns):
        c = X[name].tolist()
        if model.categorical_features_[j]:
            best = max(best, _c45_gain(c, list(y), True)[0])
        else:
            for t in model._coders[j].edges:
                g, sz = _c45_gain(c, list(y), False, t)
                if len(sz) == 2 and min(sz) >= 20:
                    best = max(best, g)
    assert math.isclose(src.gain[0], best, rel_tol=1e-9)


def test_split_info_counts_unknown_as_an_outcome():
    X, y = _data(seed=3)
    model = InfoGainTreeClassifier(max_depth=1, missing="fractional", criterion="gain_ratio").fit(X, y)
    src = model.tree_.source
    f = int(src.feature[0])
    col = X.iloc[:, f]
    n = len(col)
    if src.categories[f] is None:
        known = col.dropna()
        parts = [(known <= src.threshold[0]).sum(), (known > src.threshold[0]).sum()]
    else:
        parts = col.dropna().value_counts().tolist()
    parts.append(col.isna().sum())
    expected = -sum(p / n * math.log2(p / n) for p in parts if p > 0)
    assert math.isclose(src.split_info[0], expected, rel_tol=1e-9)


def test_proba_equals_the_recursive_c45_reference(fitted):
    model, X, y = fitted
    ref = _reference_proba(model.tree_.source, X, 2)
    np.testing.assert_allclose(model.predict_proba(X), ref, rtol=1e-12, atol=1e-12)
    # and on new rows, some missing 2-4 features at once
    Xn, _ = _data(n=400, seed=7, frac=(0.5, 0.5, 0.5, 0.5))
    assert (Xn.isna().sum(axis=1) >= 2).sum() > 100
    np.testing.assert_allclose(model.predict_proba(Xn), _reference_proba(model.tree_.source, Xn, 2),
                               rtol=1e-12, atol=1e-12)
    assert (model.predict(Xn) == model.classes_[np.argmax(model.predict_proba(Xn), axis=1)]).all()


def test_without_missing_values_fractional_equals_majority():
    X, y = _data(frac=(0, 0, 0, 0))
    a = InfoGainTreeClassifier(max_depth=4, missing="majority").fit(X, y)
    b = InfoGainTreeClassifier(max_depth=4, missing="fractional").fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.tree_.feature, b.tree_.source.feature)
    np.testing.assert_allclose(a.tree_.value, b.tree_.source.value)
    np.testing.assert_allclose(a.feature_importances_, b.feature_importances_)


def test_fractional_differs_from_majority_where_values_are_missing(fitted):
    model, X, y = fitted
    maj = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=20).fit(X, y)
    diff = ~np.isclose(model.predict_proba(X)[:, 1], maj.predict_proba(X)[:, 1])
    assert diff[X.isna().any(axis=1).to_numpy()].any()


def test_translation_branches_have_an_explicit_missing_branch(fitted):
    model, X, y = fitted
    t = model.tree_
    root = t.branches(0)
    assert len(root) == len(t.source.children(0)) + 1
    assert root[-1].op == "in" and root[-1].value == frozenset() and root[-1].includes_missing
    assert not any(b.includes_missing for b in root[:-1])
    # gain lives on the grown tree's copy only: importances are the grown tree's
    src = t.source
    internal = src.feature >= 0
    imp = np.bincount(src.feature[internal], weights=(src.weighted_n_node_samples * src.gain)[internal],
                      minlength=X.shape[1])
    np.testing.assert_allclose(model.feature_importances_, imp / imp.sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_rules_are_exact_in_every_engine(seed):
    X, y = _data(seed=seed)
    model = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=10, missing="fractional").fit(X, y)
    rules = rules_from_tree(model)
    Xn, _ = _data(n=600, seed=seed + 10, frac=(0.4, 0.4, 0.4, 0.4))
    Xn.loc[0, "city"] = "never_seen"   # an unseen category goes to the heaviest child
    for data in (X, Xn):
        report = check_fidelity(rules, model, data,
                                engines=("predict", "json", "python", "sqlite", "duckdb"))
        assert report.ok, report
        assert not report.skipped


def test_sql_on_rows_missing_two_features(fitted):
    model, X, y = fitted
    rows = X.head(60).copy()
    rows.loc[rows.index[:30], ["资产", "age"]] = np.nan
    rows.loc[rows.index[30:], ["city", "deposit"]] = [None, np.nan]
    rules = rules_from_tree(model)
    con = sqlite3.connect(":memory:")
    rows.assign(row_id=np.arange(len(rows))).to_sql("customers", con, index=False)
    sql = to_sql(rules, table="customers", id_column="row_id")
    got = pd.read_sql(sql, con).sort_values("row_id")
    assert len(got) == len(rows)
    np.testing.assert_array_equal(got["prediction"].to_numpy(), model.predict(rows))
    assert "IS NULL" in sql


def test_one_class_and_all_missing_column():
    X, y = _data(n=200)
    X["deposit"] = np.nan
    m = InfoGainTreeClassifier(max_depth=3, missing="fractional").fit(X, y)
    assert 3 not in set(m.tree_.source.feature)   # an all-missing column is never split on
    one = InfoGainTreeClassifier(missing="fractional").fit(X, np.zeros(200, dtype=int))
    assert one.tree_.node_count == 1
    np.testing.assert_allclose(one.predict_proba(X), 1.0)


def test_sample_weight_and_pruning_compose():
    X, y = _data(seed=5)
    w = np.random.default_rng(1).uniform(0.2, 3, len(y))
    m = InfoGainTreeClassifier(max_depth=4, missing="fractional", pruning="pessimistic",
                               class_weight="balanced").fit(X, y, sample_weight=w)
    src = m.tree_.source
    assert 1 < src.node_count
    np.testing.assert_allclose(m.predict_proba(X), _reference_proba(src, X, 2), rtol=1e-12, atol=1e-12)
    assert check_fidelity(rules_from_tree(m), m, X, engines=("predict", "sqlite")).ok


def test_translation_size_is_guarded():
    X, y = _data(seed=2, frac=(0.3, 0.3, 0.3, 0.3))
    m = InfoGainTreeClassifier(max_depth=4, missing="fractional").fit(X, y)
    with pytest.raises(ResourceLimitError, match="max_depth"):
        _fractional.translate(m.tree_.source, m._coders, limit=m.tree_.node_count - 1)


def test_bad_missing_parameter_names_it():
    X, y = _data(n=100)
    with pytest.raises(InvalidParameterError, match="missing"):
        InfoGainTreeClassifier(missing="nan").fit(X, y)


@parametrize_with_checks([InfoGainTreeClassifier(missing="fractional")])
def test_sklearn_estimator_checks_fractional(estimator, check):
    check(estimator)


def test_deep_tree_scores_but_refuses_rules_clearly():
    import pickle
    X, y = _data(n=2000, seed=4, frac=(0.3, 0.3, 0.3, 0.3))
    m = InfoGainTreeClassifier(max_depth=8, missing="fractional").fit(X, y)
    assert m.tree_.source.max_depth == 8
    p = m.predict_proba(X)
    np.testing.assert_allclose(p[:300], _reference_proba(m.tree_.source, X.head(300), 2), rtol=1e-12, atol=1e-12)
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.predict_proba(X), p)
    old = _fractional.MAX_TRANSLATED_NODES
    try:
        _fractional.MAX_TRANSLATED_NODES = 500
        m2 = pickle.loads(pickle.dumps(m))  # the translation is not pickled: rebuilt on use
        with pytest.raises(ResourceLimitError, match="max_depth"):
            rules_from_tree(m2)
    finally:
        _fractional.MAX_TRANSLATED_NODES = old


@pytest.mark.parametrize("lang, word", [(None, "is missing"), ("en", "is missing"), ("zh", "缺失")])
def test_export_text_names_the_missing_branch(fitted, lang, word):
    from bankml.tree import export_text
    model, X, y = fitted
    text = export_text(model, lang=lang)
    assert f"{word}\n" in text and "{}" not in text


def test_three_classes_text_labels_and_pd_na():
    X, y = _data(n=1200, seed=8)
    X["city"] = X["city"].astype("string")          # pd.NA, not None, marks missing here
    X.loc[::7, "city"] = pd.NA
    labels = np.array(["低", "中", "高"])[(y + (X["deposit"].fillna(0) > 0.5)).to_numpy()]
    m = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=15, missing="fractional").fit(X, labels)
    assert list(m.classes_) == sorted(set(labels))
    p = m.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    Xo = X.astype({"city": object}).where(X.notna(), None)
    np.testing.assert_allclose(p, _reference_proba(m.tree_.source, Xo, 3), rtol=1e-12, atol=1e-12)
    report = check_fidelity(rules_from_tree(m), m, X, engines=("predict", "json", "python", "sqlite", "duckdb"))
    assert report.ok, report


@pytest.mark.parametrize("seed, criterion", [(11, "gain"), (12, "gain_ratio"), (13, "gain")])
def test_translation_leaf_probabilities_equal_predict_proba(seed, criterion):
    # the translation (what apply/rules use) and the grown tree (what predict_proba uses)
    # are two computations: their leaf probabilities must agree on every row
    X, y = _data(n=900, seed=seed, frac=(0.25, 0.25, 0.25, 0.25))
    m = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=15, criterion=criterion,
                               missing="fractional").fit(X, y)
    Xn, _ = _data(n=500, seed=seed + 1, frac=(0.5, 0.3, 0.5, 0.3))
    for data in (X, Xn):
        v = m.tree_.value[m.apply(data)]
        np.testing.assert_allclose((v + 1) / (v.sum(axis=1, keepdims=True) + 2), m.predict_proba(data),
                                   rtol=1e-12, atol=1e-12)
        assert (m.classes_[[m.tree_.leaf_class_index(i) for i in m.apply(data)]] == m.predict(data)).all()


def test_chinese_values_bool_and_pandas_categorical_columns():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"职业": rng.choice(["教师", "医生", None, "工程师"], n).astype(object),
                      "flag": rng.choice([True, False], n), "v": rng.normal(size=n),
                      "cat": pd.Categorical(rng.choice(["a", "b", None], n))})
    y = ((X["职业"] == "医生") | (X["v"] > 1)).astype(int).to_numpy()
    m = InfoGainTreeClassifier(max_depth=3, missing="fractional", min_samples_leaf=10).fit(X, y)
    assert m.categorical_features_.tolist() == [True, False, False, True]
    assert 0 in set(m.tree_.source.feature)          # the Chinese-valued column is used
    Xo = X.astype({"cat": object}).where(X.notna(), None)
    np.testing.assert_allclose(m.predict_proba(X), _reference_proba(m.tree_.source, Xo, 2), rtol=1e-12, atol=1e-12)
    report = check_fidelity(rules_from_tree(m), m, X, engines=("predict", "json", "python", "sqlite", "duckdb"))
    assert report.ok, report


@pytest.mark.parametrize("params", [{"max_leaf_nodes": 8}, {"monotonic_cst": [1, 0]}])
def test_fractional_refuses_best_first_growth(params):
    # best-first growth sends each row one way: the fractional weights would be ignored
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0] * 10, "b": [0.0, 1.0, 0.0, 1.0] * 10})
    y = np.array([0, 1, 1, 0] * 10)
    with pytest.raises(InvalidParameterError, match="missing='fractional' cannot be combined"):
        InfoGainTreeClassifier(missing="fractional", **params).fit(X, y)


def test_fractional_refuses_a_cost_matrix():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0] * 10})
    y = np.array([0, 1, 1, 0] * 10)
    with pytest.raises(InvalidParameterError, match="cannot be combined with cost"):
        InfoGainTreeClassifier(missing="fractional", cost=[[0, 1], [5, 0]]).fit(X, y)


def test_fractional_with_cost_complexity_pruning_keeps_rules_exact():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = ((X.a + X.b + rng.normal(scale=0.7, size=600)) > 0).astype(int).to_numpy()
    X.loc[rng.random(600) < 0.2, "a"] = np.nan
    full = InfoGainTreeClassifier(missing="fractional", max_depth=3).fit(X, y)
    pruned = InfoGainTreeClassifier(missing="fractional", max_depth=3, ccp_alpha=0.01).fit(X, y)
    assert pruned.tree_.source.n_leaves < full.tree_.source.n_leaves
    report = check_fidelity(rules_from_tree(pruned), pruned, X, engines=("predict", "python", "sqlite"))
    assert report.ok, report
