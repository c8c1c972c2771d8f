"""Differentiating customers by value: ABC (Pareto, 80/20) classes and the value pyramid.

Both take one value per customer (profit, star points, balances) and keep the caller's index.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import DataError
from ..labels import check_lang
from ._config import check_cuts, value_config

__all__ = ["abc", "pyramid", "ABCResult", "PyramidResult"]

_MAX_SHOWN = 5


class ABCResult(NamedTuple):
    """``classes``: per customer; ``summary``: per class. Unpacks as ``classes, summary``."""

    classes: pd.DataFrame
    summary: pd.DataFrame


class PyramidResult(NamedTuple):
    """``tiers``: per customer; ``summary``: per tier. Unpacks as ``tiers, summary``."""

    tiers: pd.DataFrame
    summary: pd.DataFrame


def _check_values(values, func) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        raise DataError(f"{func}: pass one value per customer (a Series or 1-d array), "
                        f"got a DataFrame with columns {list(values.columns)}")
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values).ravel()
                                                               if np.ndim(values) else [values])
    if len(s) == 0:
        raise DataError(f"{func}: no customers (the values are empty)")
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise DataError(f"{func}: values must be numeric, got dtype {s.dtype}")
    x = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.all():
        raise DataError(f"{func}: all {len(x)} values are missing or infinite")
    if bad.any():
        pos = np.flatnonzero(bad)
        raise DataError(f"{func}: {len(pos)} value(s) are missing or infinite, at positions "
                        f"{pos[:_MAX_SHOWN].tolist()}{'...' if len(pos) > _MAX_SHOWN else ''}; "
                        f"fill them (e.g. 0 for no business) or drop those customers")
    return pd.Series(x, index=s.index, name=s.name)


def _descending_positions(x: np.ndarray):
    """Order by value, highest first, and each customer's tie-aware position in it.

    Equal values share the position of the first of them, so ties never straddle a class
    boundary: equal customers always land in the same class or tier.
    """
    order = np.argsort(-x, kind="stable")
    xs = x[order]
    starts = np.r_[True, xs[1:] != xs[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(xs)), 0))
    return order, xs, first


def abc(values, cuts=None) -> ABCResult:
    """ABC (Pareto) classes: A the top customers holding the first 80% of value, B to 95%, C the rest.

    Customers are sorted by value, highest first. A customer is in A when the customers
    ranked above it hold less than ``cuts[0]`` of the total value (so the customer that
    crosses 80% is still in A, and the top customer always is), in B when they hold less
    than ``cuts[1]``, otherwise in C. Customers with equal values share the class of the
    first of them.

    Parameters
    ----------
    values : Series or 1-d array
        One non-negative value per customer (profit, star points, balance). The index is kept.
    cuts : (float, float), optional
        Cumulative value shares closing A and B, ``0 < a < b <= 1``. Default (0.8, 0.95)
        from configs/value.yaml.
    Returns
    -------
    ABCResult
        ``classes``: DataFrame in the input order with ``value``, ``share`` (of total value),
        ``cum_share`` (cumulative share down to this customer, in value order) and
        ``abc_class`` (ordered categorical A < B < C).
        ``summary``: one row per class with ``customers``, ``customer_share``, ``value``,
        ``value_share``.

    Raises
    ------
    DataError
        Empty input, missing values, negative values (a below-zero customer has no share of
        the value pool; analyse losses separately or clip at 0), or a total of 0.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.Series([50, 30, 10, 5, 3, 2], index=list("uvwxyz"))
    >>> classes, summary = abc(v)
    >>> classes["abc_class"].tolist()
    ['A', 'A', 'B', 'B', 'C', 'C']
    >>> summary["value_share"].round(2).tolist()
    [0.8, 0.15, 0.05]
    """
    a, b = check_cuts(value_config()["abc_cuts"] if cuts is None else cuts)
    s = _check_values(values, "abc")
    x = s.to_numpy()
    neg = x < 0
    if neg.any():
        pos = np.flatnonzero(neg)
        raise DataError(f"abc: {len(pos)} negative value(s), at positions "
                        f"{pos[:_MAX_SHOWN].tolist()}; Pareto shares need values >= 0 "
                        f"(clip below-zero customers at 0 or analyse them separately)")
    total = x.sum()
    if total <= 0:
        raise DataError("abc: the values sum to 0; there is no value to share out")
    order, xs, first = _descending_positions(x)
    cum = np.cumsum(xs) / total
    before = np.r_[0.0, cum[:-1]]
    cls_sorted = np.where(before < a - 1e-12, 0, np.where(before < b - 1e-12, 1, 2))
    cls_sorted = cls_sorted[first]
    codes = np.empty(len(x), dtype=np.int64)
    codes[order] = cls_sorted
    cum_share = np.empty(len(x))
    cum_share[order] = cum
    cat = pd.CategoricalDtype(["A", "B", "C"], ordered=True)
    classes = pd.DataFrame({"value": x, "share": x / total, "cum_share": cum_share,
                            "abc_class": pd.Categorical.from_codes(codes, dtype=cat)}, index=s.index)
    summary = _summary(classes["abc_class"], x, total)
    summary.index.name = "abc_class"
    return ABCResult(classes, summary)


def _summary(groups: pd.Series, x: np.ndarray, total: float) -> pd.DataFrame:
    codes = groups.cat.codes.to_numpy()
    k = len(groups.cat.categories)
    n = np.bincount(codes, minlength=k)
    v = np.bincount(codes, weights=x, minlength=k)
    return pd.DataFrame({"customers": n, "customer_share": n / len(x), "value": v,
                         "value_share": v / total if total else np.nan},
                        index=pd.Index(list(groups.cat.categories)))


def pyramid(values, shares=None, lang: str = "en") -> PyramidResult:
    """High / middle / low value tiers: the top 20% of customers, down to 50%, the rest.

    Tiers are by rank, not by value share (that is :func:`abc`): with ``shares=(0.2,
    0.5)`` a customer is *high* when fewer than 20% of the customers rank above it,
    *middle* when fewer than 50% do. Equal values share a tier. Negative values (below-zero
    customers) are allowed and land at the bottom.

    Parameters
    ----------
    values : Series or 1-d array
        One value per customer; the index is kept.
    shares : (float, float), optional
        Customer shares closing the high and the middle tier, ``0 < a < b <= 1``.
        Default (0.2, 0.5) from configs/value.yaml.
    lang : {"en", "zh"}
        Language of ``tier_name``.

    Returns
    -------
    PyramidResult
        ``tiers``: DataFrame with ``value``, ``tier`` (ordered categorical high < middle <
        low as written: "high", "middle", "low") and ``tier_name`` (in ``lang``).
        ``summary``: per tier ``customers``, ``customer_share``, ``value``, ``value_share``
        (of the net total; NaN when it is 0) and ``name``.

    Examples
    --------
    >>> tiers, summary = pyramid(range(10, 0, -1), lang="zh")
    >>> tiers["tier"].tolist()[:4], tiers["tier_name"].iloc[0]
    (['high', 'high', 'middle', 'middle'], '高价值客户')
    >>> summary["customers"].tolist()
    [2, 3, 5]
    """
    check_lang(lang)
    a, b = check_cuts(value_config()["pyramid_shares"] if shares is None else shares, "shares")
    s = _check_values(values, "pyramid")
    x = s.to_numpy()
    n = len(x)
    order, _, first = _descending_positions(x)
    tier_sorted = np.where(first < a * n - 1e-9, 0, np.where(first < b * n - 1e-9, 1, 2))
    codes = np.empty(n, dtype=np.int64)
    codes[order] = tier_sorted
    keys = ["high", "middle", "low"]
    names = value_config()["tiers"]
    tier = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(keys, ordered=True))
    tiers = pd.DataFrame({"value": x, "tier": tier}, index=s.index)
    tiers["tier_name"] = np.array([names[k][lang] for k in keys], dtype=object)[codes]
    summary = _summary(tiers["tier"], x, float(x.sum()))
    summary["name"] = [names[k][lang] for k in keys]
    summary.index.name = "tier"
    return PyramidResult(tiers, summary)
