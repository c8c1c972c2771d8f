"""Synthetic daily per-account transaction totals, with planted anomalous accounts.

The input of :class:`bankml.outliers.ThresholdDetector`: one row per account and active
day (days without transactions have no row), vectorised numpy, reproducible by ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_daily_transactions"]


def make_daily_transactions(n_accounts: int = 1000, n_days: int = 90, seed: int = 0, *,
                            anomaly_rate: float = 0.01, start: str = "2026-01-01",
                            return_truth: bool = False):
    """Daily transaction totals per account, a few accounts with planted abnormal days.

    Each account has its own activity level: it is active on a share of days drawn from
    Beta(2, 3); on an active day its amount is log-normal around its own typical amount
    (median 2,000 yuan, heavy-tailed across accounts) and its count is ``1 + Poisson(2)``.
    ``anomaly_rate`` of the accounts (at least one) get 3 to 8 abnormal days on which the
    amount is multiplied by 20-60 and the count by 8-20, the pattern the paper's daily
    thresholds are meant to catch.

    Parameters
    ----------
    n_accounts : int
        Number of accounts (>= 1).
    n_days : int
        Number of calendar days (>= 8).
    seed : int
        Seed of the random generator; the same seed gives the same table.
    anomaly_rate : float, default 0.01
        Share of accounts with planted abnormal days, in [0, 1].
    start : str
        First calendar day.
    return_truth : bool, default False
        Also return a per-account frame: ``account_id``, ``planted_anomaly`` (0/1),
        ``anomalous_days`` (how many planted days).

    Returns
    -------
    pandas.DataFrame with columns ``account_id`` (string), ``date`` (datetime64),
    ``amount`` (float, yuan), ``count`` (int64), sorted by account and date;
    or (daily, truth) when ``return_truth``.

    Examples
    --------
    >>> daily, truth = make_daily_transactions(200, 30, seed=1, return_truth=True)
    >>> list(daily.columns)
    ['account_id', 'date', 'amount', 'count']
    >>> int(truth["planted_anomaly"].sum()), bool((daily["amount"] > 0).all())
    (2, True)
    """
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, (int, np.integer)) or n_accounts < 1:
        raise ValueError(f"n_accounts must be a positive integer, got {n_accounts!r}")
    if isinstance(n_days, bool) or not isinstance(n_days, (int, np.integer)) or n_days < 8:
        raise ValueError(f"n_days must be an integer >= 8 (room for 8 abnormal days), got {n_days!r}")
    if not 0 <= anomaly_rate <= 1:
        raise ValueError(f"anomaly_rate must be a share in [0, 1], got {anomaly_rate!r}")
    rng = np.random.default_rng(seed)
    n, d = int(n_accounts), int(n_days)

    p_active = rng.beta(2.0, 3.0, n)
    typical = 2_000.0 * np.exp(0.8 * rng.standard_normal(n))
    active = rng.random((n, d)) < p_active[:, None]
    amount = typical[:, None] * np.exp(0.4 * rng.standard_normal((n, d)))
    count = 1 + rng.poisson(2.0, (n, d))

    n_planted = int(round(anomaly_rate * n))
    if anomaly_rate > 0:
        n_planted = max(1, n_planted)
    planted = np.zeros(n, dtype=bool)
    planted[rng.choice(n, n_planted, replace=False)] = True
    bad_days = np.zeros(n, dtype=np.int64)
    for i in np.flatnonzero(planted):  # ~1% of accounts: a loop over them is cheap
        k = int(rng.integers(3, 9))
        days = rng.choice(d, k, replace=False)
        active[i, days] = True
        amount[i, days] *= rng.uniform(20, 60, k)
        count[i, days] *= rng.integers(8, 21, k)
        bad_days[i] = k

    rows, cols = np.nonzero(active)
    ids = np.char.add(f"A{seed % 1000:03d}", np.char.zfill(np.arange(n).astype("U9"), 9))
    daily = pd.DataFrame({
        "account_id": pd.Series(ids[rows], dtype="string"),
        "date": pd.Timestamp(start) + pd.to_timedelta(cols, unit="D"),
        "amount": np.round(amount[rows, cols], 2),
        "count": count[rows, cols].astype(np.int64),
    })
    if return_truth:
        truth = pd.DataFrame({"account_id": pd.Series(ids, dtype="string"),
                              "planted_anomaly": planted.astype(np.int8),
                              "anomalous_days": bad_days})
        return daily, truth
    return daily
