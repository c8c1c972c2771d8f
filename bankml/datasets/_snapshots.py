"""Monthly snapshots of synthetic customers: the table an out-of-time split reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import SNAPSHOT
from ._synthetic import make_customers, wm_propensity

#: Month-to-month spread of a customer's balances and amounts (log scale): balances wander,
#: so a model trained on earlier months meets slightly different customers in the test month.
_MONTHLY_DRIFT = 0.08
_DRIFTING = ("short_term_assets", "long_term_assets", "mortgage_loans", "other_loans",
             "card_overdraft", "investment_tx", "card_spend", "settlement_tx")


def _months(months) -> list:
    if isinstance(months, (int, np.integer)) and not isinstance(months, bool):
        if months < 1:
            raise ValueError(f"months must be >= 1 or a list of 'YYYY-MM' months, got {months!r}")
        return [str(p) for p in pd.period_range(end="2024-06", periods=int(months), freq="M")]
    try:
        out = [str(pd.Period(str(m), freq="M")) for m in months]
    except (TypeError, ValueError):
        raise ValueError(f"months must be a count or a list of 'YYYY-MM' months, got {months!r}") from None
    if not out or len(set(out)) != len(out):
        raise ValueError(f"months must be distinct and at least one, got {months!r}")
    return sorted(out)


def make_customer_snapshots(n: int = 5_000, months=6, seed: int = 0, *, return_truth: bool = False):
    """The same ``n`` synthetic customers at several month ends, one row per customer and month.

    Month 1 is :func:`make_customers`; each later month every balance and amount moves by a
    random factor (log-normal, 8% spread), demographics and holdings stay, and ``wm_buyer``
    is drawn afresh from :func:`wm_propensity` of that month's features: the label says what
    the customer did in the months after the snapshot, as in a bank's training table.

    Parameters
    ----------
    n : int
        Customers per month.
    months : int or list of str, default 6
        A count (the months ending 2024-06) or the months themselves (``"2024-01"``, ...).
    seed : int
        Seed; the same seed gives the same table.
    return_truth : bool, default False
        Also return the true ``propensity`` and ``planted_anomaly`` per row.

    Returns
    -------
    pandas.DataFrame (and the truth frame when ``return_truth``), sorted by month then
    customer, with a ``snapshot_month`` column (text ``"YYYY-MM"``).

    Examples
    --------
    >>> df = make_customer_snapshots(100, months=["2024-05", "2024-06"], seed=1)
    >>> df.shape[0], sorted(df["snapshot_month"].unique()), df["customer_id"].nunique()
    (200, ['2024-05', '2024-06'], 100)
    """
    names = _months(months)
    base, truth = make_customers(n, seed=seed, return_truth=True)
    rng = np.random.default_rng([seed, 2024])
    frames, truths = [], []
    drift = np.zeros((len(base), len(_DRIFTING)))
    for i, month in enumerate(names):
        df = base.copy()
        if i:
            drift += _MONTHLY_DRIFT * rng.standard_normal(drift.shape)
            for j, col in enumerate(_DRIFTING):
                df[col] = np.round(base[col].to_numpy(float) * np.exp(drift[:, j]), 2)
            p = wm_propensity(df)
            df["wm_buyer"] = (rng.random(len(df)) < p).astype(np.int8)
        else:
            p = truth["propensity"].to_numpy()
        df.insert(1, SNAPSHOT, pd.Series([month] * len(df), dtype="string"))
        frames.append(df)
        truths.append(pd.DataFrame({"propensity": p,
                                    "planted_anomaly": truth["planted_anomaly"].to_numpy()}))
    out = pd.concat(frames, ignore_index=True)
    if return_truth:
        return out, pd.concat(truths, ignore_index=True)
    return out
