"""Growth options of InfoGainTreeClassifier: a leaf budget (best-first), round thresholds,
monotonic constraints -- each checked against the level-wise tree, the rules and bad input."""

import importlib.util
import pathlib
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.datasets import make_customers
from bankml.errors import InvalidParameterError
from bankml.rules import check_fidelity, rules_from_tree, to_text
from bankml.tree import InfoGainTreeClassifier
from bankml.tree._criteria import _entropy_counts

NUMERIC = ["age", "tenure_months", "short_term_assets", "long_term_assets", "card_spend"]
CATEGORICAL = ["education", "occupation"]
ARRAYS = ["feature", "threshold", "value", "parent", "first_child", "n_children", "missing_child",
          "gain", "depth", "n_node_samples"]


@pytest.fixture(scope="module")
def customers():
    df = make_customers(6000, seed=3)
    return df[NUMERIC + CATEGORICAL], df["wm_buyer"].to_numpy()


def same_tree(a, b):
    ta, tb = a.tree_, b.tree_
    return ta.node_count == tb.node_count and all(
        np.array_equal(getattr(ta, k), getattr(tb, k), equal_nan=True) for k in ARRAYS)


def leaf_entropy(model):
    t = model.tree_
    leaf = t.feature < 0
    return float((t.weighted_n_node_samples[leaf] * _entropy_counts(t.value[leaf], axis=1)).sum())


# ---- max_leaf_nodes --------------------------------------------------------------------------

@pytest.mark.parametrize("params", [dict(max_depth=4), dict(min_samples_leaf=40, criterion="gain_ratio"),
                                    dict(max_depth=6, pruning="pessimistic")])
def test_budget_not_binding_gives_the_level_wise_tree(customers, params):
    X, y = customers
    w = np.random.default_rng(0).integers(1, 4, y.size).astype(float)  # integer weights: exact sums
    level = InfoGainTreeClassifier(**params).fit(X, y, sample_weight=w)
    n = level.get_n_leaves() if "pruning" not in params else 10_000
    for budget in (n, n + 7, 10**6):
        best = InfoGainTreeClassifier(**params, max_leaf_nodes=budget).fit(X, y, sample_weight=w)
        assert same_tree(level, best), budget
        np.testing.assert_array_equal(level.predict_proba(X), best.predict_proba(X))


@pytest.mark.parametrize("params", [{}, dict(max_depth=3), dict(min_samples_leaf=200),
                                    dict(pruning="pessimistic"), dict(class_weight="balanced")])
def test_leaves_within_budget_and_monotone_in_it(customers, params):
    X, y = customers
    leaves = []
    for budget in (2, 3, 4, 6, 9, 15, 30):
        m = InfoGainTreeClassifier(**params, max_leaf_nodes=budget).fit(X, y)
        assert m.get_n_leaves() <= budget
        leaves.append(m.get_n_leaves())
    assert leaves == sorted(leaves)
    assert leaves[-1] > 2


def test_numeric_budget_is_spent_exactly_and_trees_are_nested(customers):
    X, y = customers
    X = X[NUMERIC]
    previous = np.inf
    for budget in range(2, 25):
        m = InfoGainTreeClassifier(max_leaf_nodes=budget, min_samples_leaf=20).fit(X, y)
        assert m.get_n_leaves() == budget  # binary splits: one more leaf per split
        h = leaf_entropy(m)
        assert h <= previous + 1e-9  # each extra leaf only refines the previous tree
        previous = h


def test_best_first_splits_the_child_with_the_larger_weighted_gain(customers):
    X, y = customers
    X = X[NUMERIC]
    full = InfoGainTreeClassifier(max_depth=2).fit(X, y)
    t = full.tree_
    kids = t.children(0)
    total = [t.gain[k] * t.weighted_n_node_samples[k] for k in kids]
    assert total[0] != total[1]
    three = InfoGainTreeClassifier(max_leaf_nodes=3).fit(X, y).tree_
    split_child = [k for k in three.children(0) if not three.is_leaf(k)]
    assert split_child == [kids[int(np.argmax(total))]]
    assert three.feature[split_child[0]] == t.feature[split_child[0]]


def test_budget_skips_a_multiway_split_that_does_not_fit():
    rng = np.random.default_rng(1)
    n = 3000
    city = rng.choice(list("abcdef"), n)
    income = rng.uniform(0, 100, n)
    p = np.where(np.isin(city, list("abc")), 0.8, 0.1) * 0.7 + 0.3 * (income > 50)
    X = pd.DataFrame({"city": city, "income": income})
    y = (rng.uniform(size=n) < p).astype(int)
    free = InfoGainTreeClassifier(max_depth=1).fit(X, y)
    assert free.tree_.feature[0] == 0 and free.get_n_leaves() == 6  # six-way split on city first
    small = InfoGainTreeClassifier(max_leaf_nodes=4).fit(X, y)
    # six children do not fit four leaves: the root falls back to its best split that fits
    assert small.tree_.feature[0] == 1
    assert 2 <= small.get_n_leaves() <= 4
    assert InfoGainTreeClassifier(max_leaf_nodes=6).fit(X, y).tree_.feature[0] == 0


@pytest.mark.parametrize("bad", [0, 1, 2.5, -1, "10"])
def test_bad_budget_names_the_parameter(customers, bad):
    X, y = customers
    with pytest.raises(InvalidParameterError, match="max_leaf_nodes"):
        InfoGainTreeClassifier(max_leaf_nodes=bad).fit(X, y)


def test_budget_on_awkward_data():
    # one class: a single leaf; NaN, Chinese column names and a single row per class all fit
    X = pd.DataFrame({"资产": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "职业": list("甲乙甲乙甲乙")})
    one = InfoGainTreeClassifier(max_leaf_nodes=3).fit(X, [1] * 6)
    assert one.get_n_leaves() == 1 and (one.predict(X) == 1).all()
    y = np.array([0, 0, 0, 1, 1, 1])
    m = InfoGainTreeClassifier(max_leaf_nodes=2).fit(X, y)
    assert m.get_n_leaves() == 2
    # 资产 <= 3.5 separates the known rows; the missing row goes with the heavier side (3 > 2 rows)
    np.testing.assert_array_equal(m.predict(X), [0, 1, 0, 1, 1, 1])
    report = check_fidelity(rules_from_tree(m, target=1), m, X, engines=("predict", "python", "sqlite"))
    assert report.ok and not report.skipped, str(report)


# ---- round_thresholds --------------------------------------------------------------------------

@pytest.mark.parametrize("digits", [1, 2, 3])
def test_thresholds_are_round_and_rules_agree(customers, digits):
    X, y = customers
    m = InfoGainTreeClassifier(max_depth=5, min_samples_leaf=30, round_thresholds=digits).fit(X, y)
    t = m.tree_.threshold[~np.isnan(m.tree_.threshold)]
    assert t.size > 3
    assert all(float(f"{v:.{digits}g}") == v for v in t)
    rules = rules_from_tree(m, target=1)
    report = check_fidelity(rules, m, X, engines=("predict", "json", "python", "sqlite"))
    assert report.ok and not report.skipped, str(report)
    # thresholds print as written, e.g. 140,000 rather than 142,013.57
    text = to_text(rules, "en")
    used = [c.value for r in rules.rules for c in r.conditions if c.op in ("<=", ">")]
    assert used and set(used) <= set(t.tolist())
    big = [v for v in used if v >= 1000]
    assert big and all(v == int(v) and f"{int(v):,}" in text for v in big)


def test_round_thresholds_on_small_scale_and_negative_values():
    rng = np.random.default_rng(2)
    x = rng.uniform(-0.004, 0.002, 2000)
    y = (x > -0.0012).astype(int)
    m = InfoGainTreeClassifier(max_depth=1, round_thresholds=2).fit(x[:, None], y)
    assert m.tree_.threshold[0] == pytest.approx(-0.0012, abs=1e-4)
    assert float(f"{m.tree_.threshold[0]:.2g}") == m.tree_.threshold[0]
    assert (m.predict(x[:, None]) == y).mean() > 0.97


def test_round_thresholds_none_is_todays_tree_and_categories_untouched(customers):
    X, y = customers
    a = InfoGainTreeClassifier(max_depth=4).fit(X, y)
    b = InfoGainTreeClassifier(max_depth=4, round_thresholds=None).fit(X, y)
    assert same_tree(a, b)
    c = InfoGainTreeClassifier(max_depth=4, round_thresholds=1).fit(X[CATEGORICAL], y)
    assert same_tree(InfoGainTreeClassifier(max_depth=4).fit(X[CATEGORICAL], y), c)


def test_round_threshold_keeps_the_split_when_a_round_number_fits_the_gap():
    # integer ages and counts below 100: every midpoint k + 0.5 can become k itself (2
    # figures), which separates the rows the same way -- the same tree, readable thresholds
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"age": rng.integers(18, 90, 3000).astype(float), "products": rng.integers(0, 12, 3000)})
    y = ((X["age"] > 45) ^ (X["products"] > 6) ^ (rng.uniform(size=3000) < 0.2)).astype(int)
    exact = InfoGainTreeClassifier(max_depth=5).fit(X, y)
    rounded = InfoGainTreeClassifier(max_depth=5, round_thresholds=2).fit(X, y)
    internal = exact.tree_.feature >= 0
    np.testing.assert_array_equal(rounded.tree_.feature, exact.tree_.feature)
    np.testing.assert_array_equal(rounded.tree_.threshold[internal], exact.tree_.threshold[internal] - 0.5)
    np.testing.assert_array_equal(rounded.predict_proba(X), exact.predict_proba(X))


@pytest.mark.parametrize("bad", [0, 7, 2.5, "2"])
def test_bad_round_thresholds_names_the_parameter(customers, bad):
    X, y = customers
    with pytest.raises(InvalidParameterError, match="round_thresholds"):
        InfoGainTreeClassifier(round_thresholds=bad).fit(X, y)


def test_round_thresholds_benchmark_script_runs(capsys):
    path = pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "bench_round_thresholds.py"
    spec = importlib.util.spec_from_file_location("bench_round_thresholds", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--n", "2000"]) == 0
    aucs = [float(a) for a in re.findall(r"AUC (\d\.\d+)", capsys.readouterr().out)]
    assert len(aucs) == 8 and all(0.5 < a <= 1.0 for a in aucs)


# ---- monotonic_cst ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dip():
    """Propensity rises with assets except a bump in the middle: an unconstrained tree follows it."""
    rng = np.random.default_rng(0)
    n = 4000
    assets = rng.uniform(0, 100, n)
    assets[rng.uniform(size=n) < 0.05] = np.nan
    age = rng.uniform(20, 70, n)
    p = 0.1 + 0.5 * (assets > 70) + 0.3 * ((assets > 30) & (assets < 45)) + 0.1 * (age > 50)
    y = (rng.uniform(size=n) < np.nan_to_num(p, nan=0.3)).astype(int)
    X = pd.DataFrame({"assets": assets, "age": age, "segment": rng.choice(["a", "b", "c"], n)})
    return X, y


def sweep_steps(model, X, column, grid, predict=None):
    """Differences of P(class 1) along ``grid`` of ``column``, every other feature fixed, per row."""
    rows = X.sample(60, random_state=0)
    Z = rows.loc[rows.index.repeat(grid.size)].reset_index(drop=True)
    Z[column] = np.tile(grid, len(rows))
    p = (model.predict_proba(Z)[:, 1] if predict is None else predict(Z)).reshape(len(rows), grid.size)
    return np.diff(p, axis=1)


@pytest.mark.parametrize("params", [dict(max_depth=4), dict(min_samples_leaf=10),
                                    dict(max_leaf_nodes=12, class_weight="balanced"),
                                    dict(max_depth=6, pruning="pessimistic", criterion="gain_ratio")])
def test_constrained_probability_is_monotone(dip, params):
    X, y = dip
    grid = np.linspace(-5, 105, 221)
    free = InfoGainTreeClassifier(**params).fit(X, y)
    assert sweep_steps(free, X, "assets", grid).min() < -0.05  # the data tempt the tree
    up = InfoGainTreeClassifier(**params, monotonic_cst={"assets": 1}).fit(X, y)
    assert sweep_steps(up, X, "assets", grid).min() >= 0
    assert (up.tree_.feature == 0).any()  # assets still used, in the allowed direction
    down = InfoGainTreeClassifier(**params, monotonic_cst=[-1, 0, 0]).fit(X, y)
    assert sweep_steps(down, X, "assets", grid).max() <= 0


def test_constrained_rules_are_monotone_too(dip):
    X, y = dip
    m = InfoGainTreeClassifier(max_depth=5, monotonic_cst={"assets": 1}).fit(X, y)
    rules = rules_from_tree(m, target=1)
    assert check_fidelity(rules, m, X, engines=("predict", "sqlite")).ok
    grid = np.linspace(-5, 105, 111)
    steps = sweep_steps(m, X, "assets", grid, predict=lambda Z: rules.predict(Z).astype(float))
    assert steps.min() >= 0


def test_monotonic_on_numpy_input_and_chinese_names(dip):
    X, y = dip
    Xa = X[["assets", "age"]].to_numpy()
    m = InfoGainTreeClassifier(max_depth=4, monotonic_cst=np.array([1, 0])).fit(Xa, y)
    grid = np.linspace(-5, 105, 111)
    steps = sweep_steps(m, pd.DataFrame(Xa), 0, grid, predict=lambda Z: m.predict_proba(Z.to_numpy())[:, 1])
    assert steps.min() >= 0
    Xz = X.rename(columns={"assets": "资产", "age": "年龄", "segment": "客群"})
    mz = InfoGainTreeClassifier(max_depth=4, monotonic_cst={"资产": 1}).fit(Xz, y)
    assert sweep_steps(mz, Xz, "资产", grid).min() >= 0


def test_monotone_with_float_weights_string_classes_and_every_option(dip):
    # fractional weights (sums are not exact), text classes (constraint on classes_[1] = "yes"),
    # round thresholds and a leaf budget together; the rules still reproduce the model
    X, y = dip
    labels = np.where(y == 1, "yes", "no")
    w = np.random.default_rng(5).uniform(0.1, 3.0, y.size)
    m = InfoGainTreeClassifier(min_samples_leaf=5, max_leaf_nodes=25, round_thresholds=2,
                               monotonic_cst={"assets": 1}, class_weight="balanced")
    m.fit(X, labels, sample_weight=w)
    assert list(m.classes_) == ["no", "yes"] and 10 <= m.get_n_leaves() <= 25
    assert sweep_steps(m, X, "assets", np.linspace(-5, 105, 221)).min() >= 0
    t = m.tree_.threshold[~np.isnan(m.tree_.threshold)]
    assert all(float(f"{v:.2g}") == v for v in t)
    report = check_fidelity(rules_from_tree(m, target="yes"), m, X, engines=("predict", "json", "python", "sqlite"))
    assert report.ok and not report.skipped, str(report)


def test_all_zero_constraints_are_the_unconstrained_tree(dip):
    X, y = dip
    a = InfoGainTreeClassifier(max_depth=4).fit(X, y)
    assert same_tree(a, InfoGainTreeClassifier(max_depth=4, monotonic_cst=[0, 0, 0]).fit(X, y))
    assert same_tree(a, InfoGainTreeClassifier(max_depth=4, monotonic_cst={"age": 0}).fit(X, y))


@pytest.mark.parametrize("bad, says", [
    ([1, 0], "one entry per feature"),
    ([2, 0, 0], "-1, 0 or 1"),
    ([0.5, 0, 0], "-1, 0 or 1"),
    (["1", 0, 0], "-1, 0 or 1"),
    ([np.nan, 0, 0], "-1, 0 or 1"),
    ({"nope": 1}, "'nope'"),
    ({"segment": 1}, "categorical feature.*segment"),
    ("increasing", "monotonic_cst"),
])
def test_bad_monotonic_cst_names_the_parameter(dip, bad, says):
    X, y = dip
    with pytest.raises(InvalidParameterError, match="monotonic_cst") as info:
        InfoGainTreeClassifier(monotonic_cst=bad).fit(X, y)
    assert re.search(says, str(info.value))


def test_monotonic_cst_needs_a_binary_target_and_names_for_a_dict(dip):
    X, y = dip
    with pytest.raises(InvalidParameterError, match="monotonic_cst.*binary.*3 classes"):
        InfoGainTreeClassifier(monotonic_cst=[1, 0, 0]).fit(X, np.arange(y.size) % 3)
    with pytest.raises(InvalidParameterError, match="monotonic_cst.*DataFrame"):
        InfoGainTreeClassifier(monotonic_cst={"x0": 1}).fit(X[["assets", "age"]].to_numpy(), y)
    # a one-class target has nothing to order: a single leaf, no error
    one = InfoGainTreeClassifier(monotonic_cst=[1, 0, 0]).fit(X, np.ones(y.size, dtype=int))
    assert one.get_n_leaves() == 1


# ---- scikit-learn's contract with the new options -------------------------------------------------

@parametrize_with_checks([InfoGainTreeClassifier(max_leaf_nodes=5),
                          InfoGainTreeClassifier(round_thresholds=2, max_leaf_nodes=20, pruning="pessimistic")])
def test_sklearn_estimator_checks_with_growth_options(estimator, check):
    check(estimator)
