"""Rules extracted from trees reproduce the tree's predictions on every row."""

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from bankml.rules import RuleSet


def _random_numeric(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": rng.normal(0, 1000, n),
        "b": rng.integers(-50, 50, n).astype(float),
        "c": rng.uniform(-1, 1, n),
    })
    X.loc[rng.random(n) < 0.1, "a"] = np.nan
    X.loc[rng.random(n) < 0.05, "b"] = np.nan
    y = ((X["a"].fillna(500) > 0) ^ (X["b"].fillna(0) > 10) ^ (rng.random(n) < 0.2)).astype(int)
    return X, y.to_numpy()


def test_sklearn_tree_rules_predict_like_the_tree_with_nan():
    X, y = _random_numeric(20_000, 0)
    tree = DecisionTreeClassifier(max_depth=8, random_state=0).fit(X, y)
    rs = RuleSet.from_tree(tree)
    assert len(rs) == tree.get_n_leaves()
    Xt, _ = _random_numeric(100_000, 1)
    np.testing.assert_array_equal(rs.predict(Xt), tree.predict(Xt))


def test_target_keeps_only_leaves_of_that_class_and_still_predicts_exactly():
    X, y = _random_numeric(5_000, 2)
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    rs = RuleSet.from_tree(tree, target=1)
    assert rs.rules and all(r.prediction == 1 for r in rs.rules)
    assert rs.default == 0
    Xt, _ = _random_numeric(20_000, 3)
    np.testing.assert_array_equal(rs.predict(Xt), tree.predict(Xt))
