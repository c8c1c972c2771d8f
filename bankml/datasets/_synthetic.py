"""Synthetic retail-bank customers that follow the bankml schema.

Vectorised numpy only (no loop over rows), so a million customers take a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import HOLDING_FLAGS

_EDUCATION = np.array(["secondary", "college", "university", "postgraduate"])
_OCCUPATION = np.array(["student", "employee", "civil_servant", "professional",
                        "business_owner", "retired", "other"])

#: Share of customers whose activity is planted as anomalous (see ``make_customers``).
ANOMALY_RATE = 0.01


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _choice_rows(rng, probs):
    """Draw one category index per row from a (n, k) matrix of row-wise probabilities."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return (u > cum).sum(axis=1)


def _lognormal(rng, n, median, sigma):
    return median * np.exp(sigma * rng.standard_normal(n))


def _customer_ids(n, seed):
    # "C" + 3 seed digits + 9-digit serial: unique within a table, distinct across seeds.
    serial = np.char.zfill(np.arange(n).astype("U9"), 9)
    return pd.Series(np.char.add(f"C{seed % 1000:03d}", serial), dtype="string")


def wm_propensity(df: pd.DataFrame) -> np.ndarray:
    """The ground-truth probability that a customer buys a WM product.

    ``make_customers`` draws ``wm_buyer`` as Bernoulli(p) with::

        logit(p) = -4.2
                   + 0.9 * log10(1 + (short_term_assets + long_term_assets) / 10_000)
                   + 0.6 * [age > 55] + 0.3 * [30 < age <= 55]
                   + 0.5 * [education in {university, postgraduate}]
                   + 0.8 * has_fund + 0.7 * has_wm_account + 0.3 * has_insurance
                   + 0.4 * [investment_tx > 0] - 0.3 * [gender == M]

    Parameters
    ----------
    df : pandas.DataFrame
        A customer table with the columns named above.

    Returns
    -------
    numpy.ndarray of float
        One probability per row.

    Examples
    --------
    >>> df = make_customers(5_000, seed=3)
    >>> p = wm_propensity(df)
    >>> bool(((p > 0) & (p < 1)).all()), round(float(p.mean()), 2)
    (True, 0.17)
    """
    assets = df["short_term_assets"].to_numpy(float) + df["long_term_assets"].to_numpy(float)
    age = df["age"].to_numpy(float)
    edu = df["education"].isin(["university", "postgraduate"]).to_numpy()
    male = (df["gender"] == "M").to_numpy()
    z = (-4.2 + 0.9 * np.log10(1.0 + assets / 10_000.0)
         + 0.6 * (age > 55) + 0.3 * ((age > 30) & (age <= 55))
         + 0.5 * edu
         + 0.8 * df["has_fund"].to_numpy(float) + 0.7 * df["has_wm_account"].to_numpy(float)
         + 0.3 * df["has_insurance"].to_numpy(float)
         + 0.4 * (df["investment_tx"].to_numpy(float) > 0) - 0.3 * male)
    return _sigmoid(z)


def make_customers(n: int = 10_000, seed: int = 0, *, return_truth: bool = False):
    """A synthetic retail-bank customer table following :mod:`bankml.schema`.

    What is realistic about it:

    - balances are heavy-tailed (log-normal) and driven by one latent wealth factor that
      rises with age, education, occupation and city tier; many customers hold no
      medium/long-term assets or loans at all (exact zeros);
    - product holdings co-occur the way real ones do: a WM account goes with funds, a gold
      card and bonds far more often than with nothing; premium cards and private banking
      follow assets;
    - activity counts are Poisson around a customer-level rate; ``ANOMALY_RATE`` (1%) of
      customers have planted anomalous activity (a max daily amount 20-60x and a max daily
      count 8-20x their normal level);
    - ``wm_buyer`` is drawn from :func:`wm_propensity`, a documented function of balances,
      age, education, gender and holdings (base rate about 17%, the paper has 16%).

    Parameters
    ----------
    n : int
        Number of customers (>= 1).
    seed : int
        Seed of the random generator; the same seed gives the same table.
    return_truth : bool, default False
        Also return a frame with the ground truth: ``propensity`` (the true probability of
        ``wm_buyer``) and ``planted_anomaly`` (0/1), aligned to the table.

    Returns
    -------
    pandas.DataFrame, or (DataFrame, DataFrame) when ``return_truth``.

    Examples
    --------
    >>> df = make_customers(1000, seed=7)
    >>> df.shape[0], df["customer_id"].is_unique
    (1000, True)
    >>> bool(df.equals(make_customers(1000, seed=7)))
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer number of customers, got {n!r}")
    rng = np.random.default_rng(seed)
    n = int(n)

    # Demographics -------------------------------------------------------------------
    age = np.clip(np.round(18 + rng.gamma(4.0, 7.0, n)), 18, 95).astype(np.int64)
    male = rng.random(n) < 0.5
    young = np.clip((50 - age) / 32.0, 0, 1)           # 1 at 18, 0 at 50+
    edu_p = np.column_stack([0.45 - 0.25 * young, 0.25 + 0.0 * young,
                             0.24 + 0.17 * young, 0.06 + 0.08 * young])
    education = _choice_rows(rng, edu_p)
    student = (age < 24) * 0.6
    retired = (age >= 60) * 0.85
    working = 1.0 - np.maximum(student, retired)
    occ_p = np.column_stack([student, working * 0.45, working * 0.10, working * 0.17 * (1 + 0.5 * (education >= 2)),
                             working * 0.10, retired, working * 0.18])
    occupation = _choice_rows(rng, occ_p)
    city_tier = 1 + _choice_rows(rng, np.tile([0.2, 0.3, 0.3, 0.2], (n, 1)))
    tenure = np.minimum(np.round(rng.gamma(2.0, 40.0, n)), (age - 16) * 12).astype(np.int64)

    # Latent wealth and investor appetite ---------------------------------------------------
    occ_effect = np.array([-1.0, 0.0, 0.2, 0.6, 1.0, 0.1, -0.2])[occupation]
    wealth = (rng.standard_normal(n) + 0.025 * np.minimum(age - 18, 40) + 0.25 * education
              + occ_effect + 0.25 * (4 - city_tier) - 0.6)
    investor = rng.standard_normal(n) + 0.3 * wealth + 0.2 * (education >= 2)

    short_term = _lognormal(rng, n, 20_000.0, 1.1) * np.exp(0.9 * wealth)
    short_term[rng.random(n) < 0.03] = 0.0
    has_lt = rng.random(n) < _sigmoid(0.8 * wealth - 0.2)
    long_term = np.where(has_lt, _lognormal(rng, n, 80_000.0, 1.2) * np.exp(0.8 * wealth), 0.0)

    has_mortgage = rng.random(n) < _sigmoid(0.5 * wealth - 1.2 + 1.0 * ((age >= 27) & (age <= 55)))
    mortgage = np.where(has_mortgage, _lognormal(rng, n, 450_000.0, 0.6), 0.0)
    other_loans = np.where(rng.random(n) < 0.15, _lognormal(rng, n, 60_000.0, 0.9), 0.0)

    # Holdings: chained so that they co-occur -----------------------------------------------
    has_wm_account = rng.random(n) < _sigmoid(1.1 * investor + 0.6 * wealth - 2.2)
    has_fund = rng.random(n) < _sigmoid(1.0 * investor + 1.6 * has_wm_account - 1.8)
    has_bonds = rng.random(n) < _sigmoid(0.5 * investor + 1.2 * has_wm_account + 0.02 * (age - 45) - 2.8)
    has_gold = rng.random(n) < _sigmoid(0.4 * investor + 1.0 * has_wm_account - 2.6)
    has_insurance = rng.random(n) < _sigmoid(0.4 * wealth + 0.8 * has_wm_account - 1.6)
    total_assets = short_term + long_term
    has_private_banking = (total_assets > 6_000_000) & (rng.random(n) < 0.6)
    has_premier = rng.random(n) < _sigmoid(2.0 * (np.log10(1 + total_assets) - 6.0) + 0.8 * has_wm_account)
    card_draw = rng.random(n)
    has_platinum = card_draw < _sigmoid(2.0 * (np.log10(1 + total_assets) - 6.3))
    has_gold_card = ~has_platinum & (card_draw < _sigmoid(0.6 * wealth + 1.4 * has_wm_account - 2.0))
    has_standard = ~has_platinum & ~has_gold_card & (rng.random(n) < 0.45)
    any_card = has_platinum | has_gold_card | has_standard

    overdraft = np.where(any_card & (rng.random(n) < 0.2), _lognormal(rng, n, 8_000.0, 0.8), 0.0)
    investment = np.where(has_fund | has_wm_account | has_bonds | has_gold,
                          _lognormal(rng, n, 60_000.0, 1.2) * np.exp(0.5 * wealth), 0.0)
    spend_scale = np.where(any_card, 30_000.0, 6_000.0)
    card_spend = np.where(rng.random(n) < 0.9, spend_scale * np.exp(0.4 * wealth + 0.8 * rng.standard_normal(n)), 0.0)
    settlement = np.where(rng.random(n) < 0.6, _lognormal(rng, n, 20_000.0, 1.0) * np.exp(0.3 * wealth), 0.0)

    # Activity, with planted anomalies ------------------------------------------------------
    rate = np.exp(3.2 + 0.15 * wealth + 0.4 * any_card + 0.2 * rng.standard_normal(n))
    tx_count = rng.poisson(rate)
    logins = rng.poisson(np.exp(2.5 + 0.8 * young + 0.3 * rng.standard_normal(n)))
    daily_typical = np.maximum(500.0, (card_spend + settlement + investment) / 60.0)
    max_daily_amount = daily_typical * np.exp(0.5 * np.abs(rng.standard_normal(n)))
    max_daily_count = 1 + rng.poisson(3, n)
    planted = rng.random(n) < ANOMALY_RATE
    n_planted = int(planted.sum())
    max_daily_amount[planted] *= rng.uniform(20, 60, n_planted)
    max_daily_count[planted] = max_daily_count[planted] * rng.integers(8, 21, n_planted)
    tx_count[planted] += max_daily_count[planted]

    df = pd.DataFrame({
        "customer_id": _customer_ids(n, seed),
        "age": age,
        "gender": pd.Series(np.where(male, "M", "F")).astype("string"),
        "education": pd.Series(_EDUCATION[education]).astype("string"),
        "occupation": pd.Series(_OCCUPATION[occupation]).astype("string"),
        "city_tier": city_tier.astype(np.int64),
        "tenure_months": tenure,
        "short_term_assets": np.round(short_term, 2),
        "long_term_assets": np.round(long_term, 2),
        "mortgage_loans": np.round(mortgage, 2),
        "other_loans": np.round(other_loans, 2),
        "card_overdraft": np.round(overdraft, 2),
        "investment_tx": np.round(investment, 2),
        "card_spend": np.round(card_spend, 2),
        "settlement_tx": np.round(settlement, 2),
    })
    flags = {
        "has_private_banking": has_private_banking, "has_premier_wealth_card": has_premier,
        "has_platinum_card": has_platinum, "has_wm_account": has_wm_account,
        "has_gold_card": has_gold_card, "has_standard_card": has_standard, "has_fund": has_fund,
        "has_insurance": has_insurance, "has_mortgage": has_mortgage, "has_gold": has_gold,
        "has_bonds": has_bonds,
    }
    assert tuple(flags) == HOLDING_FLAGS
    for name, flag in flags.items():
        df[name] = flag.astype(np.int8)
    df["tx_count_6m"] = tx_count.astype(np.int64)
    df["digital_logins_6m"] = logins.astype(np.int64)
    df["max_daily_amount"] = np.round(max_daily_amount, 2)
    df["max_daily_tx_count"] = max_daily_count.astype(np.int64)
    p = wm_propensity(df)
    df["wm_buyer"] = (rng.random(n) < p).astype(np.int8)
    if return_truth:
        truth = pd.DataFrame({"propensity": p, "planted_anomaly": planted.astype(np.int8)}, index=df.index)
        return df, truth
    return df
