"""Pruning: minimal cost-complexity (``ccp_alpha``, checked against an exhaustive search over
all pruned subtrees), the ``cost`` matrix, and pessimistic pruning with class weights."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.datasets import make_customers
from bankml.rules import check_fidelity, rules_from_tree
from bankml.tree import InfoGainTreeClassifier
from bankml.tree.tests.test_tree_bruteforce import _c45_add_errs


def _H(counts):
    counts = np.asarray(counts, dtype=float)
    t = counts.sum()
    p = counts[counts > 0] / t
    return float(-(p * np.log2(p)).sum())


def _best_by_size(tree, node, total):
    """Exhaustive: {number of leaves: least total cost R} over ALL prunings of ``node``'s subtree."""
    R = tree.value[node].sum() / total * _H(tree.value[node])
    if tree.is_leaf(node):
        return {1: R}
    acc = {0: 0.0}
    for c in tree.children(node):
        sub = _best_by_size(tree, c, total)
        nxt = {}
        for a, ra in acc.items():
            for b, rb in sub.items():
                nxt[a + b] = min(nxt.get(a + b, math.inf), ra + rb)
        acc = nxt
    acc[1] = min(acc.get(1, math.inf), R)
    return acc


def _leaf_cost(tree):
    total = tree.value[0].sum()
    return sum(tree.value[i].sum() / total * _H(tree.value[i]) for i in range(tree.node_count) if tree.is_leaf(i))


def _mixed(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "资产": rng.lognormal(10, 1, n),
        "age": rng.integers(20, 80, n).astype(float),
        "edu": pd.array(rng.choice(["中学", "大学", "研究生", "其他"], n), dtype="str"),
    })
    X.loc[rng.random(n) < 0.1, "资产"] = np.nan
    X.loc[rng.random(n) < 0.05, "edu"] = None
    p = expit(-2 + 0.8 * (X["edu"] == "大学") + 0.02 * (X["age"] - 50) + 0.5 * (X["资产"].fillna(0) > 3e4))
    y = (rng.random(n) < p).astype(int)
    return X, y


@pytest.mark.parametrize("params", [dict(max_depth=4, min_samples_leaf=5),
                                    dict(max_depth=3, criterion="gain_ratio", class_weight="balanced"),
                                    dict(max_depth=4, min_samples_leaf=3, pruning="pessimistic", confidence=0.5)])
def test_ccp_alpha_gives_the_optimal_subtree_of_an_exhaustive_search(params):
    X, y = _mixed()
    w = np.random.default_rng(1).integers(1, 4, y.size).astype(float)
    full = InfoGainTreeClassifier(**params).fit(X, y, sample_weight=w)
    assert any(len(full.tree_.children(i)) > 2 for i in range(full.tree_.node_count))  # multiway
    best = _best_by_size(full.tree_, 0, full.tree_.value[0].sum())
    path = full.cost_complexity_pruning_path(X, y, sample_weight=w)
    a = path.ccp_alphas
    assert a[0] == 0.0 and np.all(np.diff(a) >= -1e-12) and np.all(np.diff(path.impurities) >= -1e-12)
    assert path.impurities[0] == pytest.approx(_leaf_cost(full.tree_))
    assert path.impurities[-1] == pytest.approx(_H(full.tree_.value[0]))
    probes = np.r_[np.sqrt(a[1:-1] * a[2:]), a[-1] * 1.5, a[1:] * 0.999]
    assert probes.size > 5
    for alpha in probes:
        m = InfoGainTreeClassifier(**params, ccp_alpha=alpha).fit(X, y, sample_weight=w)
        got = _leaf_cost(m.tree_) + alpha * m.get_n_leaves()
        opt = min(r + alpha * k for k, r in best.items())
        assert got == pytest.approx(opt, rel=1e-9, abs=1e-12)
        # the SMALLEST optimal subtree (Breiman's T(alpha))
        smallest = min(k for k, r in best.items() if r + alpha * k <= opt + 1e-12)
        assert m.get_n_leaves() == smallest
        # pruning only cuts: every kept node is a node of the full tree with the same counts
        assert m.tree_.node_count <= full.tree_.node_count
        np.testing.assert_allclose(m.tree_.value[0], full.tree_.value[0])


def test_ccp_path_matches_scikit_learn_on_the_same_tree():
    # Distinct numeric values and no ties in gain: both grow the same binary entropy tree
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.8, size=300) > 0.5).astype(int)
    ours = InfoGainTreeClassifier(max_depth=4, max_bins=300).fit(X, y)
    sk = DecisionTreeClassifier(criterion="entropy", max_depth=4, random_state=0).fit(X, y)
    assert ours.get_n_leaves() == sk.get_n_leaves()
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(sk.tree_.impurity), atol=1e-9)
    p_ours = ours.cost_complexity_pruning_path(X, y)
    p_sk = sk.cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(p_ours.ccp_alphas, p_sk.ccp_alphas, atol=1e-9)
    np.testing.assert_allclose(p_ours.impurities, p_sk.impurities, atol=1e-9)
    a = p_sk.ccp_alphas
    for alpha in np.sqrt(a[1:-1] * a[2:]):  # inside each interval: exact breakpoints are float ties
        a = InfoGainTreeClassifier(max_depth=4, max_bins=300, ccp_alpha=alpha).fit(X, y)
        b = DecisionTreeClassifier(criterion="entropy", max_depth=4, random_state=0, ccp_alpha=alpha).fit(X, y)
        assert a.get_n_leaves() == b.get_n_leaves()
        np.testing.assert_allclose(a.predict_proba(X)[:, 1] > 0.5, b.predict_proba(X)[:, 1] > 0.5)


def test_ccp_alpha_zero_is_todays_tree_and_the_last_alpha_leaves_the_root():
    X, y = _mixed(seed=4)
    base = InfoGainTreeClassifier(max_depth=4).fit(X, y)
    zero = InfoGainTreeClassifier(max_depth=4, ccp_alpha=0.0).fit(X, y)
    np.testing.assert_array_equal(base.apply(X), zero.apply(X))
    path = base.cost_complexity_pruning_path(X, y)
    root = InfoGainTreeClassifier(max_depth=4, ccp_alpha=path.ccp_alphas[-1]).fit(X, y)
    assert root.get_n_leaves() == 1
    # the rules of a pruned tree still reproduce its predictions
    pruned = InfoGainTreeClassifier(max_depth=4, ccp_alpha=path.ccp_alphas[len(path.ccp_alphas) // 2]).fit(X, y)
    assert 1 < pruned.get_n_leaves() < base.get_n_leaves()
    assert check_fidelity(rules_from_tree(pruned), pruned, X, engines=("predict", "sqlite")).ok


@pytest.mark.parametrize("bad", [-0.1, -1e-300, np.nan, "0.1"])
def test_negative_or_non_numeric_ccp_alpha_is_rejected(bad):
    X, y = _mixed(100)
    with pytest.raises(InvalidParameterError, match="ccp_alpha"):
        InfoGainTreeClassifier(ccp_alpha=bad).fit(X, y)


# ---- cost matrix ---------------------------------------------------------------------------------
def test_leaves_predict_the_class_of_least_expected_cost_and_rules_follow():
    X, y = _mixed(seed=5)
    cost = [[0.0, 1.0], [6.0, 0.0]]  # missing a buyer costs 6 times a wasted call
    m = InfoGainTreeClassifier(max_depth=3, cost=cost).fit(X, y)
    plain = InfoGainTreeClassifier(max_depth=3).fit(X, y)
    np.testing.assert_array_equal(m.apply(X), plain.apply(X))  # splits do not depend on cost
    t = m.tree_
    leaves = m.apply(X)
    expected = np.argmin(t.value @ np.asarray(cost), axis=1)[leaves]
    np.testing.assert_array_equal(m.predict(X), m.classes_[expected])
    assert (m.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    # rules read the cost-aware leaf class through Tree.leaf_class_index
    assert [t.leaf_class_index(i) for i in range(t.node_count)] == list(t.leaf_class_index(np.arange(t.node_count)))
    rs = rules_from_tree(m)
    np.testing.assert_array_equal(rs.predict(X), m.predict(X))
    assert check_fidelity(rs, m, X, engines=("predict", "sqlite")).ok


def test_unit_cost_matrix_is_the_default_tree():
    X, y = _mixed(seed=6)
    for pruning in (None, "pessimistic"):
        a = InfoGainTreeClassifier(pruning=pruning, min_samples_leaf=5).fit(X, y)
        b = InfoGainTreeClassifier(pruning=pruning, min_samples_leaf=5, cost=[[0, 1], [1, 0]]).fit(X, y)
        np.testing.assert_array_equal(a.apply(X), b.apply(X))
        np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_cost_matrix_with_string_classes_and_three_classes():
    X, _ = _mixed(seed=7)
    a = X["age"] + np.random.default_rng(7).normal(0, 10, len(X))  # noisy: no pure leaves
    y = np.where(a < 40, "低", np.where(a < 60, "中", "高"))
    cost = np.ones((3, 3)) - np.eye(3)
    cost[:, 0] *= 50  # predicting classes_[0] when wrong is very expensive
    m = InfoGainTreeClassifier(max_depth=2, cost=cost).fit(X, y)
    plain = InfoGainTreeClassifier(max_depth=2).fit(X, y)
    t = m.tree_
    np.testing.assert_array_equal(m.predict(X), m.classes_[np.argmin(t.value @ cost, axis=1)[m.apply(X)]])
    assert (m.predict(X) == m.classes_[0]).sum() < (plain.predict(X) == m.classes_[0]).sum()


@pytest.mark.parametrize("cost, why", [
    ([[0, 1, 1], [1, 0, 1]], "shape"),
    ([[0, -1], [1, 0]], "negative"),
    ([[1, 1], [1, 0]], "diagonal"),
    ([[0, np.nan], [1, 0]], "NaN"),
    ([[0, np.inf], [1, 0]], "infinite"),
    ([[0, 0], [0, 0]], "zeros"),
    ([["a", 1], [1, 0]], "non-numeric"),
    ([0, 1, 1, 0], "shape"),
])
def test_bad_cost_matrices_name_the_parameter(cost, why):
    X, y = _mixed(100)
    with pytest.raises(InvalidParameterError, match=f"'cost'.*{why}"):
        InfoGainTreeClassifier(cost=cost).fit(X, y)


def test_cost_must_be_array_like():
    X, y = _mixed(100)
    with pytest.raises(InvalidParameterError, match="cost"):
        InfoGainTreeClassifier(cost="high").fit(X, y)


# ---- pessimistic pruning with class weights and costs ----------------------------------------------
@pytest.mark.parametrize("class_weight, cost", [("balanced", None), ({0: 1.0, 1: 3.0}, None),
                                                (None, [[0, 1], [4, 0]]), ("balanced", [[0, 2], [1, 0]])])
def test_weighted_pessimistic_pruning_matches_a_recursive_reference(class_weight, cost):
    """C4.5's recursion written out per node: the binomial bound on CASES (rows times
    sample_weight) at the class/cost-weighted error, each error valued at what it costs."""
    X, y = _mixed(1500, seed=8)
    sw = np.random.default_rng(2).integers(1, 3, y.size).astype(float)
    kw = dict(min_samples_leaf=3, class_weight=class_weight, cost=cost)
    full = InfoGainTreeClassifier(**kw).fit(X, y, sample_weight=sw).tree_
    pruned = InfoGainTreeClassifier(**kw, pruning="pessimistic").fit(X, y, sample_weight=sw).tree_
    C = np.asarray(cost, dtype=float) if cost is not None else 1 - np.eye(2)
    if class_weight == "balanced":
        cw = y.size / (2 * np.bincount(y))
    elif isinstance(class_weight, dict):
        cw = np.array([class_weight[0], class_weight[1]])
    else:
        cw = np.ones(2)
    kept = []

    def estimate(node):
        v = full.value[node]
        cases = v / cw
        k = int(np.argmin(v @ C))
        e = sum(cases[i] for i in range(2) if C[i, k] > 0)
        per = (v @ C[:, k]) / e if e > 0 else max(cw[i] * C[i, k] for i in range(2))
        return (e + _c45_add_errs(float(cases.sum()), float(e), 0.25)) * per, per

    def prune(node):
        kept.append(node)
        leaf, per = estimate(node)
        if full.is_leaf(node):
            return leaf
        start = len(kept)
        sub = sum(prune(c) for c in full.children(node))
        if leaf <= sub + 0.1 * per:
            del kept[start:]
            return leaf
        return sub

    prune(0)
    kept.sort()
    assert 1 < len(kept) < full.node_count
    assert pruned.node_count == len(kept)
    np.testing.assert_allclose(pruned.value, full.value[kept])


def _rare_customers(n, rate=0.05, seed=0):
    df, truth = make_customers(n, seed=seed, return_truth=True)
    z = logit(truth["propensity"].to_numpy())
    lo, hi = -10.0, 10.0
    for _ in range(60):  # shift the true log-odds so the buyer rate is `rate`
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expit(z - mid).mean() > rate else (lo, mid)
    y = (np.random.default_rng(seed + 1).random(n) < expit(z - lo)).astype(int)
    return df.drop(columns=["customer_id", "wm_buyer"]), y


def test_rare_target_balanced_pessimistic_pruning_neither_collapses_nor_keeps_every_leaf():
    X, y = _rare_customers(3000)
    assert 0.03 < y.mean() < 0.07
    shallow = cross_val_score(InfoGainTreeClassifier(max_depth=4), X, y, scoring="roc_auc", cv=3).mean()
    assert shallow > 0.6  # there is something to find
    kw = dict(criterion="gain_ratio", pruning="pessimistic", min_samples_leaf=30)
    plain = InfoGainTreeClassifier(**kw).fit(X, y)
    assert plain.get_n_leaves() == 1  # honest C4.5: no leaf has a buyer majority, nothing to gain
    balanced = InfoGainTreeClassifier(**kw, class_weight="balanced").fit(X, y)
    grown = InfoGainTreeClassifier(**{**kw, "pruning": None}, class_weight="balanced").fit(X, y)
    assert 1 < balanced.get_n_leaves() < grown.get_n_leaves()
    assert roc_auc_score(y, balanced.predict_proba(X)[:, 1]) > 0.6
    # the same weights given as sample_weight are case weights (a buyer row counts as ~10
    # cases, more evidence): that is how class_weight was counted before, and it kept more
    as_cases = InfoGainTreeClassifier(**kw).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_array_equal(as_cases.tree_.value[0], grown.tree_.value[0])
    assert balanced.get_n_leaves() < as_cases.get_n_leaves()


@parametrize_with_checks([InfoGainTreeClassifier(ccp_alpha=0.01),
                          InfoGainTreeClassifier(pruning="pessimistic", ccp_alpha=0.001)])
def test_sklearn_estimator_checks_with_pruning(estimator, check):
    check(estimator)


def test_a_tree_pruned_to_one_leaf_warns_and_the_balanced_recipe_does_not_collapse():
    # a 5% target: no leaf has a buyer majority, so C4.5's pruning keeps only the root
    from bankml.datasets import make_customers

    df, truth = make_customers(6000, seed=0, return_truth=True)
    p = truth["propensity"].to_numpy()
    y = (np.random.default_rng(1).random(len(p)) < p * 0.05 / p.mean()).astype(int)
    X = df.drop(columns=["customer_id", "wm_buyer"])
    with pytest.warns(UserWarning, match="cut the tree to a single leaf"):
        plain = InfoGainTreeClassifier(criterion="gain_ratio", pruning="pessimistic",
                                       min_samples_leaf=50).fit(X, y)
    assert plain.get_n_leaves() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: it keeps its splits
        balanced = InfoGainTreeClassifier(criterion="gain_ratio", pruning="pessimistic",
                                          min_samples_leaf=50, class_weight="balanced").fit(X, y)
    assert balanced.get_n_leaves() > 1
