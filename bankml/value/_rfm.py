"""RFM analysis: recency, frequency and monetary quintile scores and the classic segments.

Turns a raw transaction table into one row per customer (the lifetimes-style summary step).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._dates import to_dates
from ..errors import DataError, InvalidParameterError
from ..labels import check_lang
from .._messages import row_positions as _positions
from ._config import value_config

__all__ = ["rfm"]

_REFUNDS = ("error", "net")


def _score(x: np.ndarray, bins: int) -> np.ndarray:
    # Percentile rank by average rank, so that equal values always share a score.
    ranks = pd.Series(x).rank(method="average", pct=True).to_numpy()
    return np.clip(np.ceil(ranks * bins - 1e-9), 1, bins).astype(np.int64)


def rfm(transactions, as_of, customer="customer_id", date="date", amount="amount",
        refunds="error", lang="en") -> pd.DataFrame:
    """Recency, frequency and monetary value per customer, their quintile scores and segment.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction (or per customer-day total); days without transactions
        simply have no row.
    as_of : date-like
        The day the analysis is made; recency is counted in whole days up to it.
        Transactions after it are refused (they would make recency negative).
    customer, date, amount : str
        Column names.
    refunds : {"error", "net"}, default "error"
        Negative amounts: ``"error"`` refuses them; ``"net"`` treats them as refunds that
        lower the monetary value but are not purchases (they count neither for frequency
        nor for recency). A customer with refunds only is refused (no purchase to score).
    lang : {"en", "zh"}
        Language of ``segment_name``.

    Returns
    -------
    pandas.DataFrame indexed by customer
        ``recency`` (days since the last purchase), ``frequency`` (purchases), ``monetary``
        (total amount), the scores ``R``, ``F``, ``M`` (1..5, 5 best: most recent, most
        frequent, highest amount), ``RFM`` (e.g. "545"), ``segment`` (key of the classic
        R x F grid in configs/value.yaml) and ``segment_name``.

    Notes
    -----
    A score is ``ceil(5 * p)`` where ``p`` is the customer's percentile rank (average rank
    / number of customers): with distinct values each score holds a fifth of the customers
    (10 customers: two per score); tied customers share the score of their average rank,
    so a large tie group sits mid-scale rather than being split arbitrarily (6 of 10
    customers with one purchase all score F = 2, and nobody scores 1); with fewer than five
    customers the lowest does not reach score 1 (3 customers score 2, 4, 5). As in the
    classic grid, the segment follows R and F; M is scored and reported.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c", "c"],
    ...                    "date": pd.to_datetime(["2026-01-05", "2026-03-01", "2026-02-01",
    ...                                            "2026-03-20", "2026-03-25", "2026-03-30"]),
    ...                    "amount": [100.0, 50.0, 20.0, 300.0, 10.0, 40.0]})
    >>> out = rfm(tx, "2026-03-31")
    >>> out[["recency", "frequency", "monetary"]].to_dict("list")
    {'recency': [30, 58, 1], 'frequency': [2, 1, 3], 'monetary': [150.0, 20.0, 350.0]}
    >>> out["RFM"].tolist(), out["segment"].tolist()
    (['444', '222', '555'], ['loyal', 'hibernating', 'champions'])
    """
    check_lang(lang)
    if refunds not in _REFUNDS:
        raise InvalidParameterError(f"rfm: refunds must be one of {_REFUNDS}, got {refunds!r}")
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(f"rfm: transactions must be a DataFrame, got {type(transactions).__name__}")
    cols = [customer, date, amount]
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise DataError(f"rfm: the transaction table lacks column(s) {missing}; expected {cols} "
                        f"(set customer=, date=, amount=)")
    if len(transactions) == 0:
        raise DataError("rfm: the transaction table is empty; no customer to score")
    for c in cols:
        na = transactions[c].isna().to_numpy()
        if na.any():
            what = "every row" if na.all() else _positions(na)
            raise DataError(f"rfm: column {c!r} is missing in {what}")
    amt = transactions[amount]
    if not pd.api.types.is_numeric_dtype(amt) or pd.api.types.is_bool_dtype(amt):
        raise DataError(f"rfm: column {amount!r} must be numeric, got dtype {amt.dtype}")
    amounts = amt.to_numpy(dtype=float)
    if not np.isfinite(amounts).all():
        raise DataError(f"rfm: column {amount!r} is infinite in {_positions(~np.isfinite(amounts))}")
    # year first only: 06/07/2024 is refused, not guessed month-first
    dates = to_dates(transactions[date], f"rfm: column {date!r}").dt.normalize().to_numpy()
    as_of_day = to_dates(as_of, "rfm: as_of").normalize()
    late = dates > as_of_day.to_datetime64()
    if late.any():
        raise DataError(f"rfm: {_positions(late)} are dated after as_of {as_of_day.date()}; "
                        f"choose a later as_of or drop them")
    neg = amounts < 0
    if neg.any() and refunds == "error":
        raise DataError(f"rfm: column {amount!r} is negative in {_positions(neg)}; pass "
                        f"refunds='net' to treat them as refunds")
    ids = transactions[customer].astype(object).to_numpy()
    frame = pd.DataFrame({"c": ids, "d": dates, "a": amounts, "buy": ~neg})
    monetary = frame.groupby("c", sort=True)["a"].sum()
    buys = frame[frame["buy"]].groupby("c", sort=True)
    last = buys["d"].max().reindex(monetary.index)
    frequency = buys.size().reindex(monetary.index, fill_value=0)
    no_buy = last.isna().to_numpy()
    if no_buy.any():
        raise DataError(f"rfm: {int(no_buy.sum())} customer(s) have refunds but no purchase; "
                        f"drop them before scoring")
    recency = ((as_of_day - pd.to_datetime(last)).dt.days).astype(np.int64)

    cfg = value_config()
    bins = cfg["rfm_bins"]
    r = _score(-recency.to_numpy(float), bins)
    f = _score(frequency.to_numpy(float), bins)
    m = _score(monetary.to_numpy(float), bins)
    grid = np.array(cfg["rfm_grid"], dtype=object)
    segment = grid[r - 1, f - 1]
    names = cfg["rfm_segments"]
    out = pd.DataFrame({"recency": recency.to_numpy(), "frequency": frequency.to_numpy(np.int64),
                        "monetary": monetary.to_numpy(), "R": r, "F": f, "M": m},
                       index=pd.Index(monetary.index, name=customer))
    out["RFM"] = [f"{a}{b}{c}" for a, b, c in zip(r, f, m)]
    out["segment"] = segment
    out["segment_name"] = np.array([names[k][lang] for k in segment], dtype=object)
    return out
