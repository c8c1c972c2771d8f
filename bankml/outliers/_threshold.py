"""The paper's outlier rule: per-account thresholds on daily amount and daily count.

An account crossing its threshold on at least ``min_days`` days is flagged; a threshold that
many accounts cross often is itself reported as suspect (wrong setting or an outside cause).
"""

from __future__ import annotations

from collections.abc import Hashable
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions

from .._dates import to_dates
from ..errors import DataError, check_is_fitted
from ..labels import check_lang
from .._messages import row_positions as _positions
from ._base import BaseDetector
from ._config import fmt_amount, outliers_config, reason_text

__all__ = ["ThresholdDetector"]

_METHODS = ("fixed", "learned")


class ThresholdDetector(BaseDetector):
    """Flag accounts whose daily amount or daily count crosses its threshold too often.

    Input is a table of daily totals, one row per account and active day (as made by
    :func:`bankml.datasets._daily.make_daily_transactions`). Scores, flags and reasons are
    per account (a Series indexed by account id).

    It shares the detectors' method names but is NOT a drop-in for
    :class:`IsolationForestDetector` / :class:`LocalOutlierDetector`: those take the
    customer table and answer per row; this one takes daily totals and answers per
    account, and ``threshold_`` is a number of days.

    Parameters
    ----------
    method : {"fixed", "learned"}, default "fixed"
        ``"fixed"``: every account has ``amount_threshold`` and ``count_threshold``.
        ``"learned"``: each account's threshold is ``factor`` times the ``quantile`` of its
        own active days (amount and count separately); an account with fewer than
        ``min_history`` active days gets the fixed thresholds.
    amount_threshold, count_threshold : float, optional
        Fixed thresholds, yuan per day and transactions per day.
    quantile, factor, min_history : optional
        Settings of the learned thresholds.
    min_days : int, optional
        An account crossing (amount or count) on at least this many days is flagged.
    window : int, optional
        Count crossings only on the last ``window`` calendar days of the table (ending at
        its last date). Default: all days given.
    suspect_share : float, optional
        A threshold is suspect when more than this share of the accounts it applies to
        cross it on at least ``min_days`` days.
    account, date, amount, count : str
        Column names of the daily table.

    Every optional setting defaults to configs/outliers.yaml (``outliers.threshold``).

    Attributes
    ----------
    thresholds_ : DataFrame
        Per fitted account: ``amount_threshold``, ``count_threshold``, ``source``
        ("fixed"/"learned"), ``active_days``.
    exceedances_ : DataFrame
        :meth:`exceedances` of the training table.
    threshold_ : int
        ``min_days``: an account is flagged when its score (days crossing) reaches it.
    labels_ : Series of 0/1 per account.

    Notes
    -----
    Days without transactions have no row; they count as days below every threshold and
    do not enter the learned quantile (it is taken over active days only). A row with
    amount 0 and count 0 is treated the same way. Negative amounts, missing values, a
    positive amount with count 0 and duplicate (account, date) rows are refused with a
    :class:`bankml.errors.DataError` naming the rows (by position, never by account id).

    Examples
    --------
    >>> import pandas as pd
    >>> daily = pd.DataFrame({"account_id": ["a"] * 4 + ["b"] * 2,
    ...                       "date": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03",
    ...                                               "2026-01-04", "2026-01-01", "2026-01-02"]),
    ...                       "amount": [60_000, 70_000, 55_000, 100, 60_000, 10],
    ...                       "count": [1, 2, 1, 1, 25, 1]})
    >>> det = ThresholdDetector(amount_threshold=50_000, count_threshold=20, min_days=3).fit(daily)
    >>> det.labels_.to_dict()
    {'a': 1, 'b': 0}
    >>> det.reasons(lang="zh")["a"]
    '日交易额有 3 天超过阈值 50,000'
    >>> det.reasons(lang="en")["a"]
    'daily amount exceeded threshold 50,000 on 3 days'
    """

    _parameter_constraints = {
        "method": [StrOptions(set(_METHODS))],
        "amount_threshold": [Interval(Real, 0, None, closed="left"), None],
        "count_threshold": [Interval(Real, 0, None, closed="left"), None],
        "quantile": [Interval(Real, 0, 1, closed="both"), None],
        "factor": [Interval(Real, 0, None, closed="left"), None],
        "min_history": [Interval(Integral, 1, None, closed="left"), None],
        "min_days": [Interval(Integral, 1, None, closed="left"), None],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "suspect_share": [Interval(Real, 0, 1, closed="both"), None],
        "account": [Hashable], "date": [Hashable], "amount": [Hashable], "count": [Hashable],
    }

    def __init__(self, method="fixed", amount_threshold=None, count_threshold=None, quantile=None,
                 factor=None, min_history=None, min_days=None, window=None, suspect_share=None,
                 account="account_id", date="date", amount="amount", count="count"):
        self.method = method
        self.amount_threshold = amount_threshold
        self.count_threshold = count_threshold
        self.quantile = quantile
        self.factor = factor
        self.min_history = min_history
        self.min_days = min_days
        self.window = window
        self.suspect_share = suspect_share
        self.account = account
        self.date = date
        self.amount = amount
        self.count = count

    # -- settings ----------------------------------------------------------------------
    def _settings(self) -> dict:
        # values were checked by _parameter_constraints in fit; None means the configured
        # default of configs/outliers.yaml (validated when that file is read)
        cfg = outliers_config()["threshold"]
        given = {"amount": self.amount_threshold, "count": self.count_threshold,
                 "quantile": self.quantile, "factor": self.factor,
                 "min_history": self.min_history, "min_days": self.min_days,
                 "suspect_share": self.suspect_share}
        return {k: (cfg[k] if v is None else v) for k, v in given.items()}

    # -- input -------------------------------------------------------------------------
    def _check_daily(self, daily) -> dict:
        name = "ThresholdDetector"
        if not isinstance(daily, pd.DataFrame):
            raise DataError(f"{name}: expected a DataFrame of daily totals with columns "
                            f"{[self.account, self.date, self.amount, self.count]}, "
                            f"got {type(daily).__name__}")
        cols = [self.account, self.date, self.amount, self.count]
        missing = [c for c in cols if c not in daily.columns]
        if missing:
            raise DataError(f"{name}: the daily table lacks column(s) {missing}; "
                            f"expected {cols} (set account=, date=, amount=, count=)")
        if len(daily) == 0:
            raise DataError(f"{name}: the daily table is empty")
        for c in cols:
            na = daily[c].isna().to_numpy()
            if na.any():
                raise DataError(f"{name}: column {c!r} is missing in {_positions(na)}")
        # year first only: 06/07/2024 is refused, not guessed month-first
        dates = to_dates(daily[self.date], f"{name}: column {self.date!r}")
        amount = daily[self.amount]
        count = daily[self.count]
        for c, col in ((self.amount, amount), (self.count, count)):
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                raise DataError(f"{name}: column {c!r} must be numeric, got dtype {col.dtype}")
        amount = amount.to_numpy(dtype=float)
        cnt = count.to_numpy(dtype=float)
        neg = amount < 0
        if neg.any():
            raise DataError(f"{name}: column {self.amount!r} has negative daily totals in "
                            f"{_positions(neg)}; daily totals are gross amounts >= 0 "
                            f"(net out reversals before, or pass their absolute value)")
        if not np.isfinite(amount).all():
            raise DataError(f"{name}: column {self.amount!r} has infinite values in "
                            f"{_positions(~np.isfinite(amount))}")
        bad = ~np.isfinite(cnt) | (cnt < 0) | (cnt != np.floor(cnt))
        if bad.any():
            raise DataError(f"{name}: column {self.count!r} must hold whole counts >= 0; "
                            f"bad values in {_positions(bad)}")
        inconsistent = (amount > 0) & (cnt == 0)
        if inconsistent.any():
            raise DataError(f"{name}: a positive {self.amount!r} with {self.count!r} 0 in "
                            f"{_positions(inconsistent)}; a day with an amount has transactions")
        # Accounts keep the caller's own ids; str/string/object/category are treated alike:
        # factorize once, then work on integer codes, with the ids sorted for the output.
        codes, uniques = pd.factorize(daily[self.account])
        accounts, order = pd.Index(np.asarray(uniques, dtype=object), dtype=object,
                                   name=self.account).sort_values(return_indexer=True)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = rank[codes]
        day = dates.dt.normalize().to_numpy(dtype="datetime64[D]").astype(np.int64)
        key = codes * (day.max() - day.min() + 1) + (day - day.min())
        # Tables usually come sorted by account and date: then strictly increasing keys
        # prove there is no duplicate without hashing every row.
        dup = np.zeros(len(key), dtype=bool)
        if len(key) > 1 and not (key[1:] > key[:-1]).all():
            order = np.argsort(key, kind="stable")
            ks = key[order]
            dup[order[1:][ks[1:] == ks[:-1]]] = True   # every repeat after the first
        if dup.any():
            raise DataError(f"{name}: more than one row for the same account and date in "
                            f"{_positions(dup)}; aggregate to one row per account and day")
        return {"accounts": accounts, "codes": codes, "day": day, "amount": amount,
                "count": cnt, "active": (amount > 0) | (cnt > 0)}

    # -- fitting -----------------------------------------------------------------------
    def _fit_scores(self, daily):
        s = self._settings()
        d = self._check_daily(daily)
        self.settings_ = s
        accounts, codes, active = d["accounts"], d["codes"], d["active"]
        n = len(accounts)
        n_active = np.bincount(codes[active], minlength=n)
        amount_th = np.full(n, float(s["amount"]))
        count_th = np.full(n, float(s["count"]))
        source = np.full(n, "fixed", dtype=object)
        if self.method == "learned":
            own = n_active >= s["min_history"]
            frame = pd.DataFrame({"amount": d["amount"][active], "count": d["count"][active]})
            q = frame.groupby(codes[active]).quantile(s["quantile"]).reindex(np.arange(n))
            amount_th[own] = s["factor"] * q["amount"].to_numpy()[own]
            count_th[own] = s["factor"] * q["count"].to_numpy()[own]
            source[own] = "learned"
        self.thresholds_ = pd.DataFrame({"amount_threshold": amount_th, "count_threshold": count_th,
                                         "source": source, "active_days": n_active}, index=accounts)
        self.exceedances_ = self._exceed(d)
        return self.exceedances_["days"].rename("anomaly_score")

    def _threshold_from(self, scores):
        return int(self.settings_["min_days"])

    def _flag(self, scores):
        return np.asarray(scores) >= self.threshold_

    # -- scoring -----------------------------------------------------------------------
    def _exceed(self, d: dict) -> pd.DataFrame:
        s = self.settings_
        accounts, codes = d["accounts"], d["codes"]
        n = len(accounts)
        # Thresholds of this table's accounts; accounts unseen at fit get the fixed ones.
        fitted = self.thresholds_.index.get_indexer(accounts)
        seen = fitted >= 0
        amount_th = np.full(n, float(s["amount"]))
        count_th = np.full(n, float(s["count"]))
        source = np.full(n, "fixed", dtype=object)
        amount_th[seen] = self.thresholds_["amount_threshold"].to_numpy()[fitted[seen]]
        count_th[seen] = self.thresholds_["count_threshold"].to_numpy()[fitted[seen]]
        source[seen] = self.thresholds_["source"].to_numpy()[fitted[seen]]
        rows = np.ones(len(codes), dtype=bool)
        if self.window is not None:
            rows = d["day"] >= d["day"].max() - int(self.window) + 1
        c = codes[rows]
        over_amount = d["amount"][rows] > amount_th[c]
        over_count = d["count"][rows] > count_th[c]
        days = np.bincount(c, weights=over_amount | over_count, minlength=n).astype(np.int64)
        out = pd.DataFrame({
            "active_days": np.bincount(c, weights=d["active"][rows], minlength=n).astype(np.int64),
            "amount_threshold": amount_th, "count_threshold": count_th, "source": source,
            "amount_days": np.bincount(c, weights=over_amount, minlength=n).astype(np.int64),
            "count_days": np.bincount(c, weights=over_count, minlength=n).astype(np.int64),
            "days": days, "flagged": (days >= int(s["min_days"])).astype(np.int64),
        }, index=accounts)
        return out

    def exceedances(self, daily) -> pd.DataFrame:
        """Per account, on how many days it crossed its thresholds (within ``window``).

        Returns
        -------
        pandas.DataFrame indexed by account
            ``active_days``, ``amount_threshold``, ``count_threshold``, ``source``,
            ``amount_days`` (days above the amount threshold), ``count_days``, ``days``
            (days above either) and ``flagged`` (``days >= min_days``).
        """
        check_is_fitted(self, "thresholds_")
        return self._exceed(self._check_daily(daily))

    def decision_function(self, daily) -> pd.Series:
        """Days on which each account crossed a threshold: higher = more abnormal."""
        return self.exceedances(daily)["days"].rename("anomaly_score")

    # -- explaining --------------------------------------------------------------------
    def reasons(self, daily=None, lang: str = "en") -> pd.Series:
        """Why each flagged account is flagged, e.g. "日交易额有 3 天超过阈值 50,000".

        Parameters
        ----------
        daily : DataFrame, optional
            Daily table to explain; default the training table.
        lang : {"zh", "en"}

        Returns
        -------
        pandas.Series of str indexed by the flagged accounts.
        """
        check_lang(lang)
        check_is_fitted(self, "thresholds_")
        ex = self.exceedances_ if daily is None else self.exceedances(daily)
        ex = ex[ex["flagged"] == 1]
        sep = reason_text("join", lang)
        texts = []
        for a_days, a_th, c_days, c_th in zip(ex["amount_days"], ex["amount_threshold"],
                                              ex["count_days"], ex["count_threshold"]):
            parts = []
            if a_days:
                parts.append(reason_text("amount", lang, days=a_days, threshold=fmt_amount(a_th)))
            if c_days:
                parts.append(reason_text("count", lang, days=c_days, threshold=fmt_amount(c_th)))
            texts.append(sep.join(parts))
        return pd.Series(texts, index=ex.index, name="reason", dtype=object)

    def suspect_thresholds(self, daily=None, lang: str = "en") -> pd.DataFrame:
        """Thresholds that many accounts cross often: review the setting or an outside cause.

        For each measure (amount, count) and kind of threshold (fixed, learned), the share
        of the accounts under it that crossed it on at least ``min_days`` days; the
        threshold is suspect when that share exceeds ``suspect_share``.

        Returns
        -------
        pandas.DataFrame
            ``measure``, ``source``, ``threshold`` (NaN for per-account learned ones),
            ``accounts``, ``frequent``, ``share``, ``suspect`` and ``reason`` (text in
            ``lang`` for suspect rows, empty otherwise).
        """
        check_lang(lang)
        check_is_fitted(self, "thresholds_")
        ex = self.exceedances_ if daily is None else self.exceedances(daily)
        min_days, limit = int(self.settings_["min_days"]), float(self.settings_["suspect_share"])
        rows = []
        for measure in ("amount", "count"):
            for source in ("fixed", "learned"):
                part = ex[ex["source"] == source]
                if part.empty:
                    continue
                frequent = int((part[f"{measure}_days"] >= min_days).sum())
                share = frequent / len(part)
                value = float(part[f"{measure}_threshold"].iloc[0]) if source == "fixed" else np.nan
                suspect = share > limit
                reason = ""
                if suspect:
                    shown = fmt_amount(value) if source == "fixed" else reason_text("learned", lang)
                    reason = reason_text("suspect", lang, measure=reason_text(f"measure_{measure}", lang),
                                         threshold=shown, share=f"{share:.1%}",
                                         frequent=frequent, accounts=len(part))
                rows.append({"measure": measure, "source": source, "threshold": value,
                             "accounts": len(part), "frequent": frequent, "share": share,
                             "suspect": bool(suspect), "reason": reason})
        return pd.DataFrame(rows)

