"""Ranking metrics a campaign team reads: AUC, lift and capture rate in the top share, gains curves.

Scores are ranked highest first; tied scores are shared out evenly (the expected value under a
random order of the ties), so a coarse score such as a star level is judged fairly and the
result does not depend on the row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .errors import DataError

__all__ = ["auc", "lift_at", "capture_rate_at", "gains_curve", "ranking_report", "lift_scorer"]

# share of customers a campaign contacts: the top the lift scorer judges
LIFT_SCORER_TOP = 0.1


def _check(y_true, y_score):
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=float)
    if y.ndim != 1 or s.ndim != 1:
        raise DataError(f"y_true and y_score must be 1-d, got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise DataError(f"y_true has {y.size} rows but y_score has {s.size}")
    if y.size == 0:
        raise DataError("cannot rank an empty set of customers")
    bad = np.flatnonzero(np.isnan(s))
    if bad.size:
        raise DataError(f"y_score has {bad.size} NaN value(s), first at position {bad[0]}")
    try:
        yf = y.astype(float)
    except (TypeError, ValueError):
        raise DataError(f"y_true must be 0/1, got dtype {y.dtype}") from None
    if np.isnan(yf).any() or not np.isin(yf, (0.0, 1.0)).all():
        bad = np.flatnonzero(~np.isin(yf, (0.0, 1.0)))
        raise DataError(f"y_true must hold only 0 and 1; {bad.size} row(s) do not, "
                        f"first at position {bad[0]}")
    if yf.sum() == 0:
        raise DataError("y_true has no positive (1) customer: lift and capture are undefined")
    return yf, s


def _cumulative(y, s):
    """Counts and positives at the end of each tie group, ranked by score descending."""
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    ends = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True]) + 1  # exclusive end of each tie group
    cum_pos = np.cumsum(ys)[ends - 1]
    return np.r_[0, ends].astype(float), np.r_[0.0, cum_pos]


def _positives_in_top(y, s, k):
    counts, pos = _cumulative(y, s)
    # linear within a tie group == expected positives if the ties were ordered at random
    return np.interp(k, counts, pos)


def _top_k(n, fraction):
    if not 0 < fraction <= 1:
        raise DataError(f"fraction must be in (0, 1], got {fraction!r}")
    return max(1.0, fraction * n)


def _top_share(y_true, y_score, fraction):
    """Checked labels, expected positives among the top ``fraction`` and that top's size."""
    y, s = _check(y_true, y_score)
    k = _top_k(y.size, fraction)
    return y, _positives_in_top(y, s, k), k


def auc(y_true, y_score) -> float:
    """Area under the ROC curve.

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _check(y_true, y_score)
    if y.sum() == y.size:
        raise DataError("y_true has no negative (0) customer: AUC is undefined")
    return float(roc_auc_score(y, s))


def capture_rate_at(y_true, y_score, fraction=0.1) -> float:
    """Share of all positives found in the top ``fraction`` of customers by score.

    Examples
    --------
    >>> capture_rate_at([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 0.2)
    0.5
    """
    y, found, k = _top_share(y_true, y_score, fraction)
    return float(found / y.sum())


def lift_at(y_true, y_score, fraction=0.1, *, top=None) -> float:
    """Buyer rate in the top ``fraction`` divided by the overall buyer rate.

    ``top`` is another name for ``fraction`` (``lift_at(y, s, top=0.1)``); give one of them.

    Examples
    --------
    >>> lift_at([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 0.2)
    2.5
    """
    if top is not None:
        if fraction != 0.1:
            raise DataError(f"give the top share once: fraction={fraction!r} and top={top!r}")
        fraction = top
    y, found, k = _top_share(y_true, y_score, fraction)
    return float((found / k) / (y.sum() / y.size))


def gains_curve(y_true, y_score, n_points=101) -> pd.DataFrame:
    """Cumulative gains and lift at evenly spaced shares of customers.

    Returns
    -------
    pandas.DataFrame
        Columns ``share_customers`` (0..1), ``share_positives`` (capture rate) and ``lift``
        (NaN at share 0).

    Examples
    --------
    >>> g = gains_curve([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], n_points=5)
    >>> g["share_positives"].tolist()
    [0.0, 1.0, 1.0, 1.0, 1.0]
    """
    y, s = _check(y_true, y_score)
    share = np.linspace(0.0, 1.0, int(n_points))
    counts, pos = _cumulative(y, s)
    captured = np.interp(share * y.size, counts, pos) / y.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(share > 0, captured / share, np.nan)
    return pd.DataFrame({"share_customers": share, "share_positives": captured, "lift": lift})


def ranking_report(y_true, y_score, fractions=(0.1, 0.2)) -> dict:
    """AUC plus lift and capture rate at each top share, keyed for MLflow.

    Examples
    --------
    >>> r = ranking_report([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    >>> sorted(r)
    ['auc', 'capture_top10', 'capture_top20', 'lift_top10', 'lift_top20']
    >>> r["lift_top10"], r["capture_top20"]
    (5.0, 0.5)
    """
    out = {"auc": auc(y_true, y_score)}
    for f in fractions:
        pct = int(round(100 * f))
        out[f"lift_top{pct}"] = lift_at(y_true, y_score, f)
        out[f"capture_top{pct}"] = capture_rate_at(y_true, y_score, f)
    return out


def lift_scorer(estimator, X, y_true) -> float:
    """Lift in the top 10% of ``X`` by the fitted ``estimator``'s probability of ``classes_[1]``.

    A scikit-learn scorer (callable ``(estimator, X, y)``, greater is better), so
    ``GridSearchCV(..., scoring=lift_scorer)`` selects the model that concentrates buyers
    best in the share of customers a campaign contacts (``LIFT_SCORER_TOP``). Binary
    targets only; rows whose label is ``classes_[1]`` are the buyers.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]
    >>> y = ["no", "no", "no", "no", "no", "no", "no", "no", "yes", "yes"]
    >>> lift_scorer(LogisticRegression().fit(X, y), X, y)
    5.0
    """
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2:
        raise DataError("lift_scorer needs a fitted binary classifier (two classes_), got "
                        f"classes_ = {None if classes is None else list(classes)}")
    score = np.asarray(estimator.predict_proba(X))[:, 1]
    y = np.asarray(y_true.to_numpy() if isinstance(y_true, pd.Series) else y_true)
    return lift_at((y == classes[1]).astype(int), score, LIFT_SCORER_TOP)
