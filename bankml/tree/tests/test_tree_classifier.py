"""InfoGainTreeClassifier: split gains by brute force, the tree_ contract, data handling, errors."""

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from bankml.errors import DataError
from bankml.tree import Branch, ConceptHierarchyBinner, InfoGainTreeClassifier
from bankml.tree import _builder


def _mixed(n=600, seed=0, missing=True):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "balance": rng.lognormal(8, 1.5, n) * rng.choice([-1, 1], n, p=[0.1, 0.9]),
        "age": rng.integers(20, 80, n).astype(float),
        "city": pd.array(rng.choice(["north", "south", 'say "hi"', "o'hare"], n), dtype="str"),
        "edu": pd.Categorical(rng.choice(["college", "university", "secondary"], n)),
    })
    logit = 0.8 * (np.abs(df["balance"]) > 5000) + 1.2 * (df["edu"] == "university") - 0.02 * (df["age"] - 50)
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit.to_numpy() - 0.8)))).astype(int)
    if missing:
        df.loc[rng.random(n) < 0.1, "balance"] = np.nan
        df.loc[rng.random(n) < 0.1, "city"] = None
        df.loc[rng.random(n) < 0.05, "edu"] = np.nan
    return df, y


def _entropy(counts):
    counts = np.asarray(counts, dtype=float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _brute_force_check(model, X, y, w=None):
    """Recount every node from the rows that reach it; compare value, counts and gain."""
    t = model.tree_
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    yi = np.searchsorted(model.classes_, y)
    path = model.decision_path(X).tocsc()
    for node in range(t.node_count):
        rows = path[:, node].nonzero()[0]
        counts = np.bincount(yi[rows], weights=w[rows], minlength=model.n_classes_)
        np.testing.assert_allclose(t.value[node], counts, atol=1e-9)
        assert t.n_node_samples[node] == rows.size
        if t.is_leaf(node):
            continue
        kids = t.children(node)
        child_w = []
        cond = 0.0
        for c in kids:
            r = path[:, c].nonzero()[0]
            assert set(r) <= set(rows)
            cc = np.bincount(yi[r], weights=w[r], minlength=model.n_classes_)
            child_w.append(cc.sum())
            cond += cc.sum() / counts.sum() * _entropy(cc)
        assert sum(path[:, c].nonzero()[0].size for c in kids) == rows.size
        assert t.gain[node] == pytest.approx(_entropy(counts) - cond, abs=1e-9)
        assert t.gain[node] >= 0
        assert t.split_info[node] == pytest.approx(_entropy(child_w), abs=1e-9)


def _follow(tree, row):
    """Route one row with nothing but tree_.branches, as a rule set would."""
    node = 0
    while not tree.is_leaf(node):
        hits = []
        for br in tree.branches(node):
            x = row[tree.feature[node]]
            if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
                ok = br.includes_missing
            elif br.op == "<=":
                ok = x <= br.value
            elif br.op == ">":
                ok = x > br.value
            elif br.op == "in":
                ok = x in br.value
            else:
                ok = x not in br.value
            if ok:
                hits.append(br.child)
        assert len(hits) == 1, (node, row, tree.branches(node))
        node = hits[0]
    return node


@pytest.mark.parametrize("criterion", ["gain", "gain_ratio"])
def test_every_split_gain_matches_brute_force(criterion):
    X, y = _mixed()
    w = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    model = InfoGainTreeClassifier(criterion=criterion, max_depth=5, min_samples_leaf=3).fit(X, y, sample_weight=w)
    assert model.tree_.node_count > 10
    _brute_force_check(model, X, y, w)


def test_chunked_histograms_give_the_same_tree(monkeypatch):
    X, y = _mixed(1500, seed=3)
    ref = InfoGainTreeClassifier(min_samples_leaf=2).fit(X, y)
    monkeypatch.setattr(_builder, "_HIST_BUDGET", 64)
    small = InfoGainTreeClassifier(min_samples_leaf=2).fit(X, y)
    assert small.tree_.node_count == ref.tree_.node_count
    np.testing.assert_array_equal(small.tree_.feature, ref.tree_.feature)
    np.testing.assert_array_equal(small.tree_.threshold, ref.tree_.threshold)
    np.testing.assert_allclose(small.tree_.value, ref.tree_.value)


def test_branches_reproduce_predict_exactly():
    X, y = _mixed()
    model = InfoGainTreeClassifier(min_samples_leaf=2).fit(X, y)
    Xn, _ = _mixed(300, seed=9)
    Xn.loc[:20, "city"] = "never seen"
    Xn["edu"] = Xn["edu"].cat.add_categories(["phd"])
    Xn.loc[21:40, "edu"] = "phd"
    Xn.loc[41:60, "balance"] = -1e9
    leaves = model.apply(Xn)
    rows = Xn.astype(object).where(Xn.notna(), None).to_numpy()
    assert [_follow(model.tree_, r) for r in rows] == leaves.tolist()
    pred = model.predict(Xn)
    assert np.array_equal(pred, model.classes_[[model.tree_.leaf_class_index(v) for v in leaves]])


def test_branch_shapes():
    X, y = _mixed()
    t = InfoGainTreeClassifier(max_depth=4).fit(X, y).tree_
    seen_num = seen_cat = False
    for node in range(t.node_count):
        if t.is_leaf(node):
            assert t.feature[node] == -1
            continue
        brs = t.branches(node)
        assert all(isinstance(b, Branch) for b in brs)
        assert sum(b.includes_missing for b in brs) == 1
        ops = [b.op for b in brs]
        if ops == ["<=", ">"]:
            seen_num = True
            assert isinstance(brs[0].value, float) and brs[0].value == brs[1].value
        else:
            seen_cat = True
            assert ops.count("not in") == 1
            other = next(b for b in brs if b.op == "not in")
            assert other.includes_missing
            ins = [b.value for b in brs if b.op == "in"]
            assert other.value == frozenset().union(*ins)
            assert all(isinstance(v, str) for s in ins for v in s)
    assert seen_num and seen_cat


def test_missing_and_unseen_go_to_heaviest_child():
    X = pd.DataFrame({"c": pd.array(["a"] * 6 + ["b"] * 3, dtype="str"), "x": [1.0] * 9})
    y = [0] * 6 + [1] * 3
    model = InfoGainTreeClassifier().fit(X, y)
    assert model.predict(pd.DataFrame({"c": pd.array([None, "zzz", "b"], dtype="str"), "x": [1.0] * 3})).tolist() == [0, 0, 1]
    Xn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0, np.nan]})
    m2 = InfoGainTreeClassifier().fit(Xn.iloc[:4], [0, 0, 0, 1])
    assert m2.predict(Xn).tolist() == [0, 0, 0, 1, 0]


def test_training_missing_values_follow_majority_rule():
    x = np.array([1, 2, 3, 4, 5, 6, np.nan, np.nan])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    model = InfoGainTreeClassifier(max_depth=1).fit(x.reshape(-1, 1), y)
    t = model.tree_
    thr = t.threshold[0]
    n_left, n_right = (x <= thr).sum(), (x > thr).sum()
    left, right = t.branches(0)
    heavy, light = (left, right) if n_left >= n_right else (right, left)
    assert heavy.includes_missing and not light.includes_missing
    goes = (x <= thr) if heavy is left else (x > thr)
    goes = goes | np.isnan(x)
    np.testing.assert_allclose(t.value[heavy.child], np.bincount(y[goes], minlength=2))
    # the threshold is the best under that rule: brute force over all cut points
    best = max(
        (float(np.mean(x[~np.isnan(x)][i:i + 2])) for i in range(5)),
        key=lambda c: -sum(m.sum() / 8 * _entropy(np.bincount(y[m], minlength=2))
                           for m in _sides(x, c)))
    assert thr == pytest.approx(best)


def _sides(x, c):
    le, gt = x <= c, x > c
    miss = np.isnan(x)
    if le.sum() >= gt.sum():
        le = le | miss
    else:
        gt = gt | miss
    return le, gt


def test_accuracy_matches_sklearn_entropy_tree_on_numeric_data():
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=6000, n_features=8, n_informative=5, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=0)
    for params in [dict(max_depth=6), dict(min_samples_leaf=20)]:
        ours = InfoGainTreeClassifier(**params).fit(Xtr, ytr).score(Xte, yte)
        ref = DecisionTreeClassifier(criterion="entropy", random_state=0, **params).fit(Xtr, ytr).score(Xte, yte)
        # noise of an accuracy on 3000 rows is about 0.008
        assert abs(ours - ref) < 0.025, (params, ours, ref)


def test_pessimistic_pruning_shrinks_a_noisy_tree():
    X, y = _mixed(1500, seed=5)
    full = InfoGainTreeClassifier().fit(X, y)
    pruned = InfoGainTreeClassifier(pruning="pessimistic").fit(X, y)
    harder = InfoGainTreeClassifier(pruning="pessimistic", confidence=0.05).fit(X, y)
    assert harder.get_n_leaves() <= pruned.get_n_leaves() < full.get_n_leaves()
    _brute_force_check(pruned, X, y)
    Xte, yte = _mixed(1500, seed=6)
    assert pruned.score(Xte, yte) >= full.score(Xte, yte) - 0.01


def test_gain_ratio_uses_the_c45_average_gain_rule():
    from bankml.tree import gain_ratio, information_gain
    rng = np.random.default_rng(0)
    n = 1000
    edu = rng.choice(["a", "b", "c"], n)
    y = (rng.random(n) < np.where(edu == "a", 0.6, 0.2)).astype(int)
    rare = np.where(np.arange(n) < 8, "yes", "no")  # 8 sure buyers: tiny gain, tiny split info
    y[:8] = 1
    X = pd.DataFrame({"edu": edu, "rare": rare, "noise": rng.choice(["p", "q"], n)})
    gains = {c: information_gain(X[c], y) for c in X}
    ratios = {c: gain_ratio(X[c], y) for c in X}
    assert max(ratios, key=ratios.get) == "rare"  # plain gain ratio would pick it ...
    allowed = [c for c in X if gains[c] >= np.mean(list(gains.values()))]
    expected = max(allowed, key=ratios.get)  # ... C4.5 only looks at at-least-average gains
    model = InfoGainTreeClassifier(criterion="gain_ratio", max_depth=1).fit(X, y)
    t = model.tree_
    assert model.feature_names_in_[t.feature[0]] == expected == "edu"
    assert t.gain[0] / t.split_info[0] == pytest.approx(ratios["edu"])
    assert InfoGainTreeClassifier(max_depth=1).fit(X, y).tree_.feature[0] == 0


def _distinct_frame(draw_rows):
    df = pd.DataFrame(draw_rows, columns=["a", "b", "y"])
    df = df.drop_duplicates(subset=["a", "b"])
    X = pd.DataFrame({"a": df["a"].astype(float), "b": pd.array(df["b"].map(lambda v: f"v{v}"), dtype="str")})
    return X, df["y"].to_numpy()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 3), st.integers(0, 2)), min_size=2, max_size=50))
def test_property_fully_grown_tree_fits_distinct_rows(rows):
    X, y = _distinct_frame(rows)
    model = InfoGainTreeClassifier().fit(X, y)
    assert np.array_equal(model.predict(X), y)
    t = model.tree_
    for node in range(t.node_count):
        pure = (t.value[node] > 0).sum() <= 1
        if pure:
            assert t.is_leaf(node)
        if not t.is_leaf(node):
            assert t.gain[node] >= 0 and 0 <= t.gain[node] / t.split_info[node] <= 1 + 1e-12


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 2), st.integers(0, 1)), min_size=2, max_size=40),
       st.sampled_from(["gain", "gain_ratio"]))
def test_property_gains_match_brute_force(rows, criterion):
    df = pd.DataFrame(rows, columns=["a", "b", "y"])
    X = pd.DataFrame({"a": df["a"].astype(float), "b": pd.Categorical(df["b"])})
    model = InfoGainTreeClassifier(criterion=criterion).fit(X, df["y"])
    _brute_force_check(model, X, df["y"].to_numpy())


def test_sample_weight_integer_equals_repetition_and_class_weight():
    X, y = _mixed(400, seed=4)
    w = np.random.default_rng(0).integers(1, 3, len(y))
    a = InfoGainTreeClassifier(max_depth=4).fit(X, y, sample_weight=w)
    rep = np.repeat(np.arange(len(y)), w)
    b = InfoGainTreeClassifier(max_depth=4).fit(X.iloc[rep].reset_index(drop=True), y[rep])
    np.testing.assert_array_equal(a.tree_.feature, b.tree_.feature)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    # rare buyers: 30% of the x > 0.8 group, 5% elsewhere; unweighted, every leaf says "no"
    rng = np.random.default_rng(0)
    x = rng.random((2000, 1))
    yr = (rng.random(2000) < 0.05 + 0.25 * (x[:, 0] > 0.8)).astype(int)
    plain = InfoGainTreeClassifier(max_depth=1).fit(x, yr)
    bal = InfoGainTreeClassifier(max_depth=1, class_weight="balanced").fit(x, yr)
    assert plain.predict(x).sum() == 0
    assert np.array_equal(bal.predict(x), (x[:, 0] > bal.tree_.threshold[0]).astype(int))
    assert bal.tree_.threshold[0] == pytest.approx(0.8, abs=0.02)
    np.testing.assert_allclose(bal.tree_.value[0], [1000, 1000])


def test_multiclass_string_labels_and_laplace_proba():
    X, _ = _mixed(300, seed=7, missing=False)
    y = np.array(["gold", "silver", "none"])[np.random.default_rng(0).integers(0, 3, 300)]
    model = InfoGainTreeClassifier(max_depth=3).fit(X, y)
    assert list(model.classes_) == ["gold", "none", "silver"]
    proba = model.predict_proba(X)
    leaf = model.apply(X)
    v = model.tree_.value[leaf]
    np.testing.assert_allclose(proba, (v + 1) / (v.sum(1, keepdims=True) + 3))
    assert np.array_equal(model.classes_[proba.argmax(1)], model.predict(X))


@pytest.mark.parametrize("dtype", ["str", "string", "object", "category"])
def test_string_dtypes_treated_alike(dtype):
    X, y = _mixed(400, seed=8, missing=False)
    ref = InfoGainTreeClassifier(max_depth=4).fit(X, y)
    X2 = X.copy()
    X2["city"] = X2["city"].astype(object).astype(dtype)
    other = InfoGainTreeClassifier(max_depth=4).fit(X2, y)
    assert other.categorical_features_.tolist() == [False, False, True, True]
    np.testing.assert_array_equal(other.tree_.feature, ref.tree_.feature)
    np.testing.assert_array_equal(other.predict(X2), ref.predict(X))


def test_apply_decision_path_depth_leaves_importances():
    X, y = _mixed()
    model = InfoGainTreeClassifier(max_depth=4).fit(X, y)
    t = model.tree_
    leaf = model.apply(X)
    assert all(t.is_leaf(v) for v in np.unique(leaf))
    path = model.decision_path(X)
    assert path.shape == (len(X), t.node_count)
    for i in range(0, len(X), 37):
        nodes = path[i].indices
        assert nodes[0] == 0 and nodes[-1] == leaf[i]
        assert all(t.parent[b] == a for a, b in zip(nodes[:-1], nodes[1:]))
    assert model.get_depth() == t.depth[leaf].max() <= 4
    assert model.get_n_leaves() == int(sum(t.is_leaf(v) for v in range(t.node_count)))
    imp = model.feature_importances_
    assert imp.sum() == pytest.approx(1.0)
    raw = np.zeros(4)
    for v in range(t.node_count):
        if not t.is_leaf(v):
            raw[t.feature[v]] += t.value[v].sum() * t.gain[v]
    np.testing.assert_allclose(imp, raw / raw.sum())


def test_export_text_and_plot():
    from bankml.tree import export_text, plot_tree

    X, y = _mixed()
    model = InfoGainTreeClassifier(max_depth=2).fit(X, y)
    text = export_text(model)
    root = model.feature_names_in_[model.tree_.feature[0]]
    assert text.startswith(f"|--- {root}")
    assert text.count("class:") == model.get_n_leaves()
    zh = export_text(model, lang="zh")
    assert zh.count("类别:") == model.get_n_leaves() and "class" not in zh
    assert zh.count("\n") == text.count("\n")
    cat = InfoGainTreeClassifier(max_depth=1, categorical_features=["edu"]).fit(X[["edu"]], y)
    assert " in {" in export_text(cat) and " not in {" in export_text(cat)
    zh_cat = export_text(cat, lang="zh")
    assert " 属于 {" in zh_cat and " 不属于 {" in zh_cat and " in " not in zh_cat
    ax = plot_tree(model)
    assert len(ax.texts) >= model.tree_.node_count
    import matplotlib.pyplot as plt
    plt.close("all")


def test_tree_text_and_plot_have_one_spelling():
    # issue 16: the free functions (as sklearn.tree.export_text / plot_tree) are the only way
    assert not hasattr(InfoGainTreeClassifier, "export_text")
    assert not hasattr(InfoGainTreeClassifier, "plot")


def test_sklearn_composition_and_pickle(tmp_path):
    X, y = _mixed(500, seed=11)
    pre = ColumnTransformer([("num", StandardScaler(), ["age"])], remainder="passthrough",
                            verbose_feature_names_out=False).set_output(transform="pandas")
    pipe = Pipeline([("pre", pre), ("tree", InfoGainTreeClassifier(max_depth=3))])
    pipe.fit(X, y)
    assert list(pipe[-1].feature_names_in_) == ["age", "balance", "city", "edu"]
    assert pipe[-1].categorical_features_.tolist() == [False, False, True, True]
    scores = cross_val_score(InfoGainTreeClassifier(max_depth=3), X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    grid = GridSearchCV(InfoGainTreeClassifier(), {"max_depth": [1, 3], "criterion": ["gain", "gain_ratio"]}, cv=3).fit(X, y)
    assert grid.best_params_["max_depth"] in (1, 3)
    before = pipe.predict(X)  # caches the arrow lookups, which must not break pickling
    path = tmp_path / "tree.joblib"
    joblib.dump(pipe, path)
    again = joblib.load(path)
    np.testing.assert_array_equal(again.predict(X), before)


def test_concept_hierarchy_binner_before_tree():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.integers(18, 90, 400), "deposit": rng.lognormal(7, 1, 400)})
    y = ((X["deposit"] > 2500) & (X["age"] > 55)).astype(int)
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55], "deposit": [500, 2500]})),
                     ("tree", InfoGainTreeClassifier())]).fit(X, y)
    tree = pipe[-1]
    assert tree.categorical_features_.all()
    assert np.array_equal(pipe.predict(X), y)
    assert {"<=30", "30-55", ">55", "<=500", "500-2500", ">2500"} >= {
        v for n in range(tree.tree_.node_count) if not tree.tree_.is_leaf(n)
        for b in tree.tree_.branches(n) for v in b.value}


def test_bad_inputs():
    X, y = _mixed(100)
    y_nan = y.astype(float)
    y_nan[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*rows \[3, 7\]"):
        InfoGainTreeClassifier().fit(X, y_nan)
    one = InfoGainTreeClassifier().fit(X, np.ones(len(y)))  # one class: a single leaf, as sklearn
    assert one.get_n_leaves() == 1 and set(one.predict(X)) == {1.0}
    model = InfoGainTreeClassifier(max_depth=2).fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.iloc[:, :3])
    arr = InfoGainTreeClassifier().fit(X[["balance", "age"]].to_numpy(), y)
    with pytest.raises(ValueError, match="X has 1 features, but InfoGainTreeClassifier is expecting 2"):
        arr.predict(X[["age"]].to_numpy())
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"age": "agee"}))
    with pytest.raises(ValueError, match="infinity.*'age'"):
        model.predict(X.assign(age=np.inf))
    with pytest.raises(ValueError, match="not in X"):
        InfoGainTreeClassifier(categorical_features=["nope"]).fit(X, y)
    with pytest.raises(DataError, match="'city' is not numeric"):
        InfoGainTreeClassifier(categorical_features=None).fit(X, y)
    many = pd.DataFrame({"id": pd.array([f"c{i}" for i in range(300)], dtype="str")})
    with pytest.raises(DataError, match="'id' has 300 distinct values"):
        InfoGainTreeClassifier().fit(many, np.arange(300) % 2)
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        InfoGainTreeClassifier().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(DataError, match="'opened' holds dates"):
        InfoGainTreeClassifier().fit(pd.DataFrame({"opened": pd.date_range("2020", periods=4)}), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        InfoGainTreeClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="criterion"):
        InfoGainTreeClassifier(criterion="gini").fit(X, y)


@pytest.mark.parametrize("max_bins", [2, 16, 1000])
def test_max_bins_thresholds_are_exact_on_training_rows(max_bins):
    rng = np.random.default_rng(12)
    X = pd.DataFrame({"v": rng.normal(size=3000), "w": rng.integers(0, 5000, 3000).astype(float)})
    y = rng.integers(0, 3, 3000)
    model = InfoGainTreeClassifier(max_depth=6, max_bins=max_bins).fit(X, y)
    t = model.tree_
    for node in range(t.node_count):
        if not t.is_leaf(node):
            f = t.feature[node]
            if max_bins == 2:
                assert t.n_children[node] == 2
            # a threshold is a bin edge: at most max_bins - 1 distinct per feature
            assert np.unique(t.threshold[t.feature == f]).size <= max_bins - 1
    _brute_force_check(model, X, y)


def test_pessimistic_error_bound_matches_quinlan():
    # C4.5 book (Quinlan 1993, ch. 4): U_25%(0, 6) = 0.206, U_25%(0, 1) = 0.750, U_25%(1, 16) = 0.157
    N = np.array([6.0, 1.0, 16.0])
    e = np.array([0.0, 0.0, 1.0])
    upper = (e + _builder._added_errors(N, e, 0.25)) / N
    np.testing.assert_allclose(upper, [0.206, 0.750, 0.157], atol=0.004)
    # monotone: more errors or a smaller confidence factor raise the bound
    assert _builder._added_errors(20.0, 3.0, 0.1) > _builder._added_errors(20.0, 3.0, 0.25)
    assert 3 + _builder._added_errors(20.0, 3.0, 0.25) < 4 + _builder._added_errors(20.0, 4.0, 0.25)


def test_categorical_features_by_index_mask_and_name():
    rng = np.random.default_rng(3)
    arr = np.column_stack([rng.integers(1, 4, 300), rng.normal(size=300)])
    y = (arr[:, 0] == 2).astype(int)
    by_index = InfoGainTreeClassifier(categorical_features=[0], max_depth=1).fit(arr, y)
    by_mask = InfoGainTreeClassifier(categorical_features=[True, False], max_depth=1).fit(arr, y)
    for m in (by_index, by_mask):
        assert m.categorical_features_.tolist() == [True, False]
        assert m.tree_.n_children[0] == 3  # one branch per code 1, 2, 3
        assert {v for b in m.tree_.branches(0) if b.op == "in" for v in b.value} <= {1.0, 2.0, 3.0}
        assert np.array_equal(m.predict(arr), y)
    df = pd.DataFrame(arr, columns=["tier", "score"])
    by_name = InfoGainTreeClassifier(categorical_features=["tier"], max_depth=1).fit(df, y)
    np.testing.assert_array_equal(by_name.tree_.value, by_index.tree_.value)
    with pytest.raises(ValueError, match="needs 2 entries"):
        InfoGainTreeClassifier(categorical_features=[True]).fit(arr, y)
    with pytest.raises(ValueError, match="out of range"):
        InfoGainTreeClassifier(categorical_features=[5]).fit(arr, y)


def test_categorical_column_missing_throughout_is_never_split():
    # all-missing text column next to a useful numeric one: ignored, not a crash
    X = pd.DataFrame({"c": pd.array([None] * 6, dtype="str"), "x": [1.0, 2, 3, 4, 5, 6]})
    y = [0, 0, 0, 1, 1, 1]
    model = InfoGainTreeClassifier().fit(X, y)
    assert model.tree_.feature[0] == 1 and model.get_n_leaves() == 2
    Xn = X.assign(c=pd.array(["a"] * 6, dtype="str"))
    assert model.predict(Xn).tolist() == y
    single = pd.DataFrame({"c": pd.array(["a"] * 6, dtype="str")})
    assert InfoGainTreeClassifier().fit(single, y).get_n_leaves() == 1


def test_concept_hierarchy_binner_transform_checks_and_missing():
    binner = ConceptHierarchyBinner({"age": [30, 55]}).fit(pd.DataFrame({"age": [20, 40, 60]}))
    out = binner.transform(pd.DataFrame({"age": [30.0, np.nan, 55.0, 55.5]}))
    assert out["age"].tolist()[0::2] == ["<=30", "30-55"] and out["age"].isna().tolist() == [False, True, False, False]
    assert out["age"].iloc[3] == ">55"
    with pytest.raises(DataError, match="'age' must be numeric, got dtype"):
        binner.transform(pd.DataFrame({"age": pd.array(["40", "x"], dtype="str")}))


@pytest.mark.parametrize("k", [0, 1, 10, 128, 129, 300])
def test_count_below_equals_searchsorted(k):
    from bankml.tree._encode import count_below
    rng = np.random.default_rng(k)
    x = rng.normal(size=5000)
    U = np.unique(rng.choice(x, k, replace=False)) if k else np.zeros(0)
    x[:50] = np.nan
    x[50:50 + U.size] = U  # values equal to a threshold are "<=" it
    got = count_below(U, x)
    want = np.where(np.isnan(x), U.size + 1, np.searchsorted(U, x, side="left"))
    np.testing.assert_array_equal(got, want)


# Issue 12.13 / 16.3: the estimator's constraints are the one source of parameter limits
# (the config's tree section is checked by them): min_gain finite, confidence in (0, 0.5].
@pytest.mark.parametrize("param, value", [
    ("min_gain", float("inf")), ("min_gain", float("nan")), ("min_gain", -0.1),
    ("confidence", 0.9), ("confidence", 0.0), ("confidence", 0.5000001),
    ("criterion", "entropy"), ("pruning", "reduced_error"), ("max_depth", 0),
])
def test_parameter_limits_are_enforced_by_the_constraints(param, value):
    from sklearn.utils._param_validation import InvalidParameterError
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of InfoGainTreeClassifier"):
        InfoGainTreeClassifier(**{param: value}).fit(X, [0, 0, 1, 1])


def test_confidence_at_its_limit_is_accepted():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    InfoGainTreeClassifier(pruning="pessimistic", confidence=0.5).fit(X, [0, 0, 1, 1])


def test_a_model_pickled_before_the_new_parameters_still_predicts():
    """A champion saved by bankml 0.1 (no missing/ccp_alpha/cost/... attributes, no
    fractional fields on its tree) loads and predicts exactly as before."""
    import pickle

    from bankml.datasets import make_customers
    from bankml.rules import check_fidelity, rules_from_tree

    df = make_customers(1500, seed=4)
    X, y = df.drop(columns=["customer_id", "wm_buyer"]), df["wm_buyer"]
    model = InfoGainTreeClassifier(max_depth=4, min_samples_leaf=20).fit(X, y)
    want, want_p = model.predict(X), model.predict_proba(X)
    for name in ("max_leaf_nodes", "monotonic_cst", "round_thresholds", "missing", "ccp_alpha",
                 "cost"):
        del model.__dict__[name]  # as 0.1 pickled it
    for name in ("unseen_child", "explicit_missing", "missing_share", "source", "cost"):
        del model.tree_.__dict__[name]
    old = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(old.predict(X), want)
    np.testing.assert_allclose(old.predict_proba(X), want_p)
    assert old.get_params()["missing"] == "majority" and old.get_params()["ccp_alpha"] == 0.0
    assert check_fidelity(rules_from_tree(old), old, X, engines=("predict", "python")).ok
