"""Score-based outlier detectors on customer tables: isolation forest and local outlier factor.

scikit-learn does the modelling; this module picks and log-scales the activity columns, sets
the threshold from ``contamination`` and explains every flag in zh or en.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._dtypes import is_categorical_dtype
from ..errors import DataError, check_is_fitted
from ..labels import check_lang, column_label
from ..schema import ACTIVITY_COLUMNS
from ._base import BaseDetector
from ._config import fmt_amount, reason_text

__all__ = ["IsolationForestDetector", "LocalOutlierDetector"]

_MAX_SHOWN = 5


def _signed_log(Z):
    # log1p keeps zero at zero and tames heavy-tailed amounts; the sign keeps it defined
    # for negative inputs (net flows) so one transform serves every numeric column.
    return np.sign(Z) * np.log1p(np.abs(Z))


class _ScoreDetector(BaseDetector):
    """Column selection, validation, scaling and reasons shared by the score detectors."""

    def _select(self, X, fitting):
        if not isinstance(X, pd.DataFrame):
            if fitting and hasattr(self, "_columns"):
                del self._columns       # a refit on an array forgets earlier column names
            return X
        if fitting:
            if self.features is not None:
                cols = [self.features] if isinstance(self.features, str) else list(self.features)
            elif all(c in X.columns for c in ACTIVITY_COLUMNS):
                cols = list(ACTIVITY_COLUMNS)
            else:
                cols = list(X.columns)
            self._columns = cols
        else:
            cols = self._columns if hasattr(self, "_columns") else list(X.columns)
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise DataError(f"{type(self).__name__}: the table lacks the feature column(s) "
                            f"{missing}; expected numeric columns {cols}")
        sub = X[cols]
        # the one category-or-number answer (bankml._dtypes): a bool flag is a category
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(sub[c])
               or is_categorical_dtype(sub[c].dtype)]
        if bad:
            raise DataError(f"{type(self).__name__}: feature column(s) {bad} are not numeric "
                            f"(dtypes {[str(sub[c].dtype) for c in bad]}); pass numeric "
                            f"features=... (the default is {list(ACTIVITY_COLUMNS)}), or cast "
                            f"true/false flags to 0/1 with .astype(int)")
        for c in cols:
            na = sub[c].isna().to_numpy()
            if na.any():
                pos = np.flatnonzero(na)
                more = "..." if len(pos) > _MAX_SHOWN else ""
                what = "all values" if na.all() else f"{len(pos)} of {len(na)} rows"
                raise DataError(f"{type(self).__name__}: column {c!r} is missing in {what} "
                                f"(row positions {pos[:_MAX_SHOWN].tolist()}{more}); fill or "
                                f"drop them before scoring")
        sub = sub.astype(float)
        for c in cols:
            inf = np.isinf(sub[c].to_numpy())
            if inf.any():
                pos = np.flatnonzero(inf)
                more = "..." if len(pos) > _MAX_SHOWN else ""
                raise DataError(f"{type(self).__name__}: column {c!r} is infinite in {len(pos)} of "
                                f"{len(inf)} rows (row positions {pos[:_MAX_SHOWN].tolist()}{more}); "
                                f"amounts and counts must be finite")
        return sub

    def _prepare(self, X, fitting):
        sub = self._select(X, fitting)
        Z = validate_data(self, sub, reset=fitting, dtype=np.float64, ensure_min_samples=1)
        if self.log_scale:
            Z = _signed_log(Z)
        if fitting:
            self.center_ = np.median(Z, axis=0)
            q75, q25 = np.percentile(Z, [75, 25], axis=0)
            scale = q75 - q25
            std = Z.std(axis=0)
            # Counts with a narrow middle have IQR 0: fall back to the spread, then to 1 for
            # a constant column (it then never makes a row unusual).
            scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
            self.scale_ = scale
        return Z, sub

    def _output(self, scores, X):
        if isinstance(X, pd.DataFrame):
            return pd.Series(scores, index=X.index, name="anomaly_score")
        return scores

    def _fit_scores(self, X):
        Z, sub = self._prepare(X, fitting=True)
        self.feature_medians_ = np.median(np.asarray(sub, dtype=float), axis=0)
        self._fit_model(Z)
        scores = self._score(Z)
        self._fit_data = (Z, sub)   # reused by fit for the reasons, then dropped
        return self._output(scores, X)

    def decision_function(self, X):
        """Anomaly score per row: higher = more abnormal; compare with ``threshold_``."""
        check_is_fitted(self, "threshold_")
        Z, _ = self._prepare(X, fitting=False)
        return self._output(self._score(Z), X)

    def fit(self, X, y=None):
        """Fit on ``X``, flag its rows, and keep what explains the flagged ones."""
        super().fit(X, y)
        Z, sub = self._fit_data
        del self._fit_data
        scores = np.asarray(self.decision_scores_, dtype=float)
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(scores))
        # Only the flagged rows are kept: their score, top feature and its value.
        self._train_reasons = self._reason_parts(Z, np.asarray(sub, dtype=float), scores, index)
        return self

    def _reason_parts(self, Z, raw, scores, index) -> pd.DataFrame:
        flagged = np.flatnonzero(self._flag(scores))
        z = np.abs((Z[flagged] - self.center_) / self.scale_)
        top = z.argmax(axis=1) if len(flagged) else np.array([], dtype=np.int64)
        return pd.DataFrame({"score": scores[flagged], "feature": top,
                             "value": raw[flagged, top] if len(flagged) else np.array([])},
                            index=index[flagged])

    def reasons(self, X=None, lang: str = "en") -> pd.Series:
        """Why each flagged row is flagged, in ``lang`` ("zh" or "en").

        The reason gives the score against ``threshold_`` and the feature that sits furthest
        from the training median (in robust, log-scaled units), with its value and median.

        Parameters
        ----------
        X : DataFrame or array, optional
            Rows to explain; default the training rows flagged in ``labels_``.
        lang : {"zh", "en"}

        Returns
        -------
        pandas.Series of str
            Indexed like ``X`` (positions for an array), only the flagged rows.
        """
        check_lang(lang)
        check_is_fitted(self, "threshold_")
        if X is None:
            parts = self._train_reasons
        else:
            Z, sub = self._prepare(X, fitting=False)
            index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(Z.shape[0])
            parts = self._reason_parts(Z, np.asarray(sub, dtype=float), self._score(Z), index)
        names = (list(self.feature_names_in_) if hasattr(self, "feature_names_in_")
                 else [f"x{i}" for i in range(self.n_features_in_)])
        sep = reason_text("join", lang)
        threshold = f"{self.threshold_:.3f}"
        texts = [
            reason_text("score", lang, score=f"{score:.3f}", threshold=threshold)
            + sep + reason_text("feature", lang, feature=column_label(names[j], lang),
                                value=fmt_amount(round(value, 2)),
                                median=fmt_amount(round(self.feature_medians_[j], 2)))
            for score, j, value in zip(parts["score"], parts["feature"], parts["value"])]
        return pd.Series(texts, index=parts.index, name="reason", dtype=object)


_COMMON = {
    "contamination": [Interval(Real, 0, 0.5, closed="right"), None],
    "features": [list, tuple, str, None],
    "log_scale": ["boolean"],
    "n_jobs": [Integral, None],
}


class IsolationForestDetector(_ScoreDetector):
    """Isolation forest (scikit-learn) on log-scaled activity columns, with reasons.

    Parameters
    ----------
    contamination : float, optional
        Share of training rows to flag; sets ``threshold_``. Default from
        configs/outliers.yaml (0.01).
    features : list of str, optional
        Columns to use from a DataFrame. Default: ``bankml.schema.ACTIVITY_COLUMNS`` when
        all are present, else every column.
    log_scale : bool, default True
        Apply ``sign(x) * log1p(|x|)`` first (amounts are heavy-tailed).
    n_estimators, max_samples, max_features, n_jobs :
        Passed to :class:`sklearn.ensemble.IsolationForest`.
    random_state : int, default 0

    Attributes
    ----------
    threshold_ : float
    labels_ : Series or ndarray of 0/1
        Flags of the training rows.
    decision_scores_ : Series or ndarray
        Training scores.
    model_ : sklearn.ensemble.IsolationForest
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(2000, seed=3)
    >>> det = IsolationForestDetector(random_state=0).fit(df)
    >>> int(det.labels_.sum())
    20
    >>> det.reasons(lang="en").iloc[0].startswith("anomaly score")
    True
    >>> det.reasons(lang="zh").index.equals(det.labels_.index[det.labels_ == 1])
    True
    """

    _parameter_constraints = {
        **_COMMON,
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"),
                        Interval(Real, 0, 1, closed="right")],
        "max_features": [Interval(Integral, 1, None, closed="left"),
                         Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(self, contamination=None, features=None, log_scale=True, n_estimators=100,
                 max_samples="auto", max_features=1.0, random_state=0, n_jobs=None):
        self.contamination = contamination
        self.features = features
        self.log_scale = log_scale
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_model(self, Z):
        self.model_ = IsolationForest(
            n_estimators=self.n_estimators, max_samples=self.max_samples,
            max_features=self.max_features, random_state=self.random_state, n_jobs=self.n_jobs,
        ).fit(Z)

    def _score(self, Z):
        return -self.model_.score_samples(Z)


class LocalOutlierDetector(_ScoreDetector):
    """Local outlier factor (scikit-learn) on log-scaled, robust-scaled activity columns.

    Parameters
    ----------
    contamination : float, optional
        Share of training rows to flag; default from configs/outliers.yaml (0.01).
    n_neighbors : int or "auto", default "auto"
        ``"auto"`` uses ``max(20, ceil(2.5 * contamination * n_fit))`` (at most
        ``n_fit - 1``): a group of similar anomalies larger than the neighbourhood looks
        like a normal cluster to LOF, so the neighbourhood must outgrow the expected number
        of anomalies in the fitted sample. 20 is scikit-learn's default (the floor for
        small samples); the factor 2.5 leaves room for a sample holding more anomalies than
        ``contamination`` predicts. With 1% on the default 2,000-row sample this is 50
        neighbours, where 20 finds under half of ``make_customers``' planted anomalies
        (``test_lof_neighbourhood_must_outgrow_the_planted_group``).
    max_samples : int or None, default 2000
        LOF is fitted on a random sample of this many rows (``random_state``) and every
        row is scored against it (``novelty=True``); None fits on all rows.
    features, log_scale, random_state, n_jobs :
        As in :class:`IsolationForestDetector`.

    Notes
    -----
    Training rows are scored like new rows, so rows inside the fitted sample count
    themselves among their neighbours; this makes them look slightly more normal.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(2000, seed=3)
    >>> det = LocalOutlierDetector().fit(df)
    >>> int(det.labels_.sum())
    20
    """

    _parameter_constraints = {
        **_COMMON,
        "n_neighbors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_samples": [Interval(Integral, 2, None, closed="left"), None],
        # seeds numpy's default_rng, which takes no RandomState instance
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, contamination=None, n_neighbors="auto", max_samples=2000, features=None,
                 log_scale=True, random_state=0, n_jobs=None):
        self.contamination = contamination
        self.n_neighbors = n_neighbors
        self.max_samples = max_samples
        self.features = features
        self.log_scale = log_scale
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_model(self, Z):
        n = Z.shape[0]
        if n < 2:
            raise DataError(f"LocalOutlierDetector needs at least 2 rows, got {n} sample")
        if self.max_samples is not None and self.max_samples < n:
            rows = np.random.default_rng(self.random_state).choice(n, int(self.max_samples), replace=False)
            Z = Z[np.sort(rows)]
        n_fit = Z.shape[0]
        if isinstance(self.n_neighbors, str):      # "auto", the only text the constraints allow
            k = max(20, math.ceil(2.5 * self._contamination() * n_fit))
        else:
            k = int(self.n_neighbors)
        self.n_neighbors_ = max(1, min(k, n_fit - 1))
        self.model_ = LocalOutlierFactor(n_neighbors=self.n_neighbors_, novelty=True,
                                         n_jobs=self.n_jobs).fit((Z - self.center_) / self.scale_)

    def _score(self, Z):
        return -self.model_.score_samples((Z - self.center_) / self.scale_)
