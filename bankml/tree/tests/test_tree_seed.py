"""The paper's worked example: root entropy, deposit at the root, the three WM rules."""

import numpy as np
import pytest

from bankml.datasets import load_seed_example
from bankml.tree import InfoGainTreeClassifier, entropy, gain_ratio, information_gain

FEATURES = ["age_band", "deposit_band", "education", "gender"]


@pytest.fixture(scope="module")
def seed():
    df = load_seed_example()
    return df[FEATURES], df["wm_buyer"]


def test_root_entropy_and_gains(seed):
    X, y = seed
    assert entropy(y) == pytest.approx(0.63431, abs=5e-6)
    gains = {c: information_gain(X[c], y) for c in FEATURES}
    assert max(gains, key=gains.get) == "deposit_band"
    assert gains["education"] == pytest.approx(0.01772, abs=5e-6)
    assert all(0 <= gain_ratio(X[c], y) <= 1 for c in FEATURES)


def test_tree_root_is_deposit(seed):
    X, y = seed
    tree = InfoGainTreeClassifier().fit(X, y)
    t = tree.tree_
    assert tree.feature_names_in_[t.feature[0]] == "deposit_band"
    assert t.impurity[0] == pytest.approx(0.63431, abs=5e-6)
    assert t.gain[0] == pytest.approx(information_gain(X["deposit_band"], y), abs=1e-12)
    # multiway: one child per deposit band
    assert t.n_children[0] == 3
    np.testing.assert_allclose(t.value[0], [84, 16])


def test_tree_gives_the_papers_wm_rules(seed):
    X, y = seed
    tree = InfoGainTreeClassifier().fit(X, y)
    probe = X.iloc[:3].copy()
    probe[:] = [[3, 3, 0, 1], [2, 3, 1, 1], [1, 1, 0, 0]]  # >55 rich; university rich; poor woman
    assert tree.predict(probe).tolist() == [1, 1, 1]
