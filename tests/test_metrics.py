"""Ranking metrics: agree with brute force (ties shared out), and bad input is refused."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bankml.errors import DataError
from bankml.metrics import auc, capture_rate_at, gains_curve, lift_at, ranking_report


def _brute_capture(y, s, k):
    """Average positives in the first k over every order of the tied scores."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    totals = []
    for perm in itertools.permutations(range(len(y))):
        perm = np.array(perm)
        order = perm[np.argsort(-s[perm], kind="stable")]
        totals.append(y[order][:k].sum())
    return np.mean(totals) / y.sum()


@pytest.mark.parametrize("seed", range(6))
def test_capture_and_lift_match_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 7)
    y[0] = 1
    s = rng.integers(0, 3, 7).astype(float)  # many ties
    for k in range(1, 8):
        frac = k / 7
        expect = _brute_capture(y, s, k)
        assert capture_rate_at(y, s, frac) == pytest.approx(expect)
        assert lift_at(y, s, frac) == pytest.approx(expect * y.sum() / k / y.mean())


def test_no_ties_is_plain_sort_and_row_order_does_not_matter():
    rng = np.random.default_rng(1)
    y = (rng.random(1000) < 0.2).astype(int)
    s = rng.random(1000) + y * 0.3
    top = np.argsort(-s)[:100]
    assert capture_rate_at(y, s, 0.1) == pytest.approx(y[top].sum() / y.sum())
    assert lift_at(y, s, 0.1) == pytest.approx(y[top].mean() / y.mean())
    perm = rng.permutation(1000)
    coarse = np.round(s, 1)
    assert capture_rate_at(y, coarse, 0.2) == pytest.approx(capture_rate_at(y[perm], coarse[perm], 0.2))
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_gains_curve_shape_and_ends():
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.3).astype(int)
    s = rng.random(500) + y
    g = gains_curve(y, s, n_points=11)
    assert list(g.columns) == ["share_customers", "share_positives", "lift"]
    assert g["share_positives"].iloc[0] == 0 and g["share_positives"].iloc[-1] == pytest.approx(1)
    assert g["share_positives"].is_monotonic_increasing
    assert np.isnan(g["lift"].iloc[0]) and g["lift"].iloc[-1] == pytest.approx(1)
    assert g["share_positives"].iloc[2] == pytest.approx(capture_rate_at(y, s, 0.2))
    # a constant score ranks nobody: the gains curve is the diagonal
    flat = gains_curve(y, np.zeros(500), n_points=11)
    assert np.allclose(flat["share_positives"], flat["share_customers"])


def test_report_keys_and_values():
    y = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    r = ranking_report(y, list(range(10, 0, -1)), fractions=(0.1, 0.5))
    assert r["capture_top50"] == 1.0 and r["lift_top50"] == 2.0 and r["auc"] == pytest.approx(
        roc_auc_score(y, list(range(10, 0, -1))))


@pytest.mark.parametrize("y, s, match", [
    ([0, 1], [0.1], "2 rows but y_score has 1"),
    ([0, 1, 2], [0.1, 0.2, 0.3], "only 0 and 1"),
    ([0, 0], [0.1, 0.2], "no positive"),
    ([0, 1], [0.1, np.nan], "NaN"),
    ([], [], "empty"),
    ([[0, 1]], [[0.1, 0.2]], "1-d"),
    (["a", "b"], [0.1, 0.2], "0/1"),
])
def test_bad_input(y, s, match):
    with pytest.raises(DataError, match=match):
        ranking_report(y, s)


def test_auc_needs_both_classes_and_fraction_range():
    with pytest.raises(DataError, match="no negative"):
        auc([1, 1], [0.1, 0.2])
    with pytest.raises(DataError, match="fraction"):
        lift_at([0, 1], [0.1, 0.2], 0)


def test_lift_at_top_is_fraction_and_lift_scorer_matches():
    from sklearn.linear_model import LogisticRegression

    from bankml.metrics import lift_scorer
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(int)
    s = y + rng.normal(size=500)
    assert lift_at(y, s, top=0.2) == lift_at(y, s, 0.2) != lift_at(y, s)
    with pytest.raises(DataError, match="once"):
        lift_at(y, s, 0.2, top=0.3)
    X = s.reshape(-1, 1)
    m = LogisticRegression().fit(X, y)
    assert lift_scorer(m, X, y) == pytest.approx(lift_at(y, m.predict_proba(X)[:, 1], 0.1))
