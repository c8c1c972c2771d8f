"""Synthetic customers follow the contract and behave like a bank's; the seed example matches the paper."""

import math

import numpy as np
import pandas as pd
import pytest

from bankml.datasets import ANOMALY_RATE, load_seed_example, make_customers, wm_propensity
from bankml.schema import HOLDING_FLAGS, LABEL, STAR_INPUTS, validate_customers


@pytest.fixture(scope="module")
def big():
    return make_customers(50_000, seed=11, return_truth=True)


def test_follows_the_contract(big):
    df, _ = big
    validate_customers(df, require_label=True, required=HOLDING_FLAGS)


def test_deterministic_and_seed_dependent():
    a, b, c = make_customers(500, seed=1), make_customers(500, seed=1), make_customers(500, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["short_term_assets"].equals(c["short_term_assets"])
    assert set(a["customer_id"]).isdisjoint(c["customer_id"])


@pytest.mark.parametrize("n", [0, -3, 2.5, "10", True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="positive integer"):
        make_customers(n)


def test_balances_are_heavy_tailed(big):
    df, _ = big
    sta = df["short_term_assets"]
    assert sta.mean() > 2 * sta.median()           # right-skewed
    top1 = sta.nlargest(len(sta) // 100).sum() / sta.sum()
    assert top1 > 0.08                             # the top 1% hold a large share
    assert (df["long_term_assets"] == 0).mean() > 0.2   # many hold none


def test_holdings_co_occur(big):
    df, _ = big
    wm = df["has_wm_account"] == 1
    for product in ["has_fund", "has_gold_card", "has_bonds"]:
        assert df.loc[wm, product].mean() > 2 * df.loc[~wm, product].mean(), product


def test_demographics_are_correlated(big):
    df, _ = big
    univ = df["education"].isin(["university", "postgraduate"])
    assert df.loc[df["age"] < 30, "education"].isin(["university", "postgraduate"]).mean() > \
        df.loc[df["age"] > 60, "education"].isin(["university", "postgraduate"]).mean()
    assert (df.loc[df["age"] >= 65, "occupation"] == "retired").mean() > 0.7
    assert df.loc[univ, "short_term_assets"].median() > df.loc[~univ, "short_term_assets"].median()


def test_label_follows_documented_propensity(big):
    df, truth = big
    np.testing.assert_allclose(truth["propensity"], wm_propensity(df))
    assert abs(df[LABEL].mean() - truth["propensity"].mean()) < 0.01
    hi = truth["propensity"] > truth["propensity"].quantile(0.9)
    lo = truth["propensity"] < truth["propensity"].quantile(0.1)
    assert df.loc[hi, LABEL].mean() > 4 * df.loc[lo, LABEL].mean()
    assert 0.08 < df[LABEL].mean() < 0.3


def test_planted_anomalies(big):
    df, truth = big
    planted = truth["planted_anomaly"] == 1
    assert abs(planted.mean() - ANOMALY_RATE) < 0.003
    assert df.loc[planted, "max_daily_amount"].median() > 10 * df.loc[~planted, "max_daily_amount"].median()
    assert df.loc[planted, "max_daily_tx_count"].median() > 5 * df.loc[~planted, "max_daily_tx_count"].median()


def test_star_inputs_non_negative_floats(big):
    df, _ = big
    for col in STAR_INPUTS:
        assert df[col].dtype == np.float64 and (df[col] >= 0).all()


# --- the paper's worked example -----------------------------------------------------------

def _H(counts):
    counts = np.asarray(counts, float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _gain(df, col):
    base = _H(df["wm_buyer"].value_counts())
    cond = sum(len(g) / len(df) * _H(g["wm_buyer"].value_counts())
               for _, g in df.groupby(col, observed=True))
    return base - cond


def test_seed_example_matches_published_figures():
    df = load_seed_example()
    assert len(df) == 100 and df["wm_buyer"].sum() == 16
    assert round(_H(df["wm_buyer"].value_counts()), 5) == 0.63431
    band1 = df[df["deposit_band"] == 1]
    assert round(_H(band1["wm_buyer"].value_counts()), 5) == 0.59167
    band3 = df[df["deposit_band"] == 3]
    assert abs(_H(band3["wm_buyer"].value_counts()) - 0.82685) < 0.0013
    gains = {c: _gain(df, c) for c in ["deposit_band", "education", "gender", "age_band"]}
    assert abs(gains["deposit_band"] - 0.01852) < 0.00005
    assert round(gains["education"], 5) == 0.01772
    assert abs(gains["gender"] - 0.01447) < 0.0001
    assert gains["deposit_band"] > gains["education"] > gains["gender"] > gains["age_band"]


def test_seed_example_0_82685_is_unreachable():
    # The docstring's claim: no split of at most 100 customers has entropy 0.82685.
    reachable = {round(_H([b, n - b]), 5) for n in range(1, 101) for b in range(n + 1)}
    assert 0.82685 not in reachable and 0.82563 in reachable


def test_seed_example_codes():
    df = load_seed_example(categorical=False)
    assert df.dtypes.eq(np.int64).all()
    assert set(df["age_band"]) == set(df["deposit_band"]) == {1, 2, 3}
    assert set(df["education"]) == set(df["gender"]) == {0, 1}
    cat = load_seed_example()
    assert isinstance(cat["deposit_band"].dtype, pd.CategoricalDtype) and cat["deposit_band"].cat.ordered
