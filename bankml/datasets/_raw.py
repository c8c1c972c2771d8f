"""Synthetic raw bank activity: daily balance rows and transaction rows for star aggregation.

Vectorised numpy only; codes come from ``configs/star_policy.yaml`` so the rows aggregate
without unknown codes under the default policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._resources import load_builtin_yaml
from ..schema import ID

__all__ = ["make_raw_activity"]

# Median amounts (yuan) per category of code: balances and single transactions.
_BALANCE_MEDIAN = {"short_term_assets": 20_000, "long_term_assets": 80_000,
                   "mortgage_loans": 400_000, "other_loans": 60_000, "card_overdraft": 5_000}
_TX_MEDIAN = {"investment_tx": 20_000, "card_spend": 300, "settlement_tx": 5_000}
_DISCOUNTS = np.array([1.0, 0.9, 0.8, 0.5, 0.0])
_DISCOUNT_P = np.array([0.8, 0.08, 0.06, 0.04, 0.02])


def make_raw_activity(n_customers: int = 1_000, n_transactions: int = 20_000, *,
                      as_of="2024-06-30", months: int = 6, holdings_per_customer: float = 1.5,
                      days_per_holding: float = 6.0, seed: int = 0):
    """Raw daily balances and transactions of ``n_customers`` over the months to ``as_of``.

    Each customer has one to three product holdings (distinct products); a holding has a
    row on a run of consecutive days (about ``days_per_holding`` on average), so days
    without a row (zero balance) are the rule, and no customer, product and day repeats.
    Transactions fall on random customers, businesses and days of the window, with a
    fee-discount share of 1 for most and 0.9, 0.8, 0.5 or 0 for some.

    Parameters
    ----------
    n_customers, n_transactions : int
        Number of customers (ids ``"R<seed>"`` + serial) and of transaction rows.
    as_of : date-like
        Last day of the window; the window is the ``months`` months ending that day.
    holdings_per_customer, days_per_holding : float
        Mean holdings per customer (1 to 3) and mean days with a row per holding.
    seed : int
        Random seed; the same arguments give the same rows.

    Returns
    -------
    balances, transactions : pandas.DataFrame
        Columns ``customer_id, date, product, balance`` and
        ``customer_id, date, business, amount, discount`` (the layout
        ``bankml.stars.aggregate_half_year`` reads).

    Examples
    --------
    >>> bal, tx = make_raw_activity(100, 1_000, seed=1)
    >>> list(bal.columns), list(tx.columns), len(tx)
    (['customer_id', 'date', 'product', 'balance'], ['customer_id', 'date', 'business', 'amount', 'discount'], 1000)
    >>> bool(bal.duplicated(["customer_id", "product", "date"]).any())
    False
    """
    def _whole(name, value, low):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")

    _whole("n_customers", n_customers, 1)
    _whole("n_transactions", n_transactions, 0)
    _whole("months", months, 1)
    if not 1 <= holdings_per_customer <= 3:
        raise ValueError(f"holdings_per_customer must be in [1, 3], got {holdings_per_customer!r}")
    if not days_per_holding > 0:
        raise ValueError(f"days_per_holding must be > 0, got {days_per_holding!r}")
    policy = load_builtin_yaml("star_policy.yaml")
    products = np.array(list(policy["products"]))
    prod_cat = [policy["products"][p] for p in products]
    businesses = np.array(list(policy["businesses"]))
    biz_cat = [policy["businesses"][b]["category"] for b in businesses]
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(as_of).normalize()
    start = end + pd.Timedelta(days=1) - pd.DateOffset(months=months)
    n_days = int((end - start).days) + 1
    day0 = np.datetime64(start.date(), "D")
    ids = np.char.add(f"R{seed % 1000:03d}", np.char.zfill(np.arange(n_customers).astype("U9"), 9))

    # Balances: holdings -> runs of consecutive days.
    h = np.clip(rng.poisson(holdings_per_customer - 1, n_customers) + 1, 1, 3)
    cust = np.repeat(np.arange(n_customers), h)
    first = np.cumsum(h) - h
    within = np.arange(cust.size) - np.repeat(first, h)
    prod = (rng.integers(0, len(products), n_customers)[cust] + within) % len(products)
    length = np.clip(rng.poisson(days_per_holding, cust.size), 1, n_days)
    begin = (rng.random(cust.size) * (n_days - length + 1)).astype(np.int64)
    rows = np.repeat(np.arange(cust.size), length)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(length) - length, length)
    b_prod = prod[rows]
    median = np.array([_BALANCE_MEDIAN[c] for c in prod_cat])[b_prod]
    balances = pd.DataFrame({
        ID: ids[cust[rows]],
        "date": (day0 + begin[rows] + offset).astype("datetime64[s]"),
        "product": products[b_prod],
        "balance": np.round(median * np.exp(rng.standard_normal(rows.size)), 2),
    })

    # Transactions.
    t_cust = rng.integers(0, n_customers, n_transactions)
    t_biz = rng.integers(0, len(businesses), n_transactions)
    t_median = np.array([_TX_MEDIAN[c] for c in biz_cat])[t_biz]
    transactions = pd.DataFrame({
        ID: ids[t_cust],
        "date": (day0 + rng.integers(0, n_days, n_transactions)).astype("datetime64[s]"),
        "business": businesses[t_biz],
        "amount": np.round(t_median * np.exp(1.2 * rng.standard_normal(n_transactions)), 2),
        "discount": rng.choice(_DISCOUNTS, n_transactions, p=_DISCOUNT_P),
    })
    return balances, transactions
