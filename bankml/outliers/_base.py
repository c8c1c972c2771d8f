"""The shared base of bankml's outlier detectors, in the style of pyod.

Every detector: ``fit``; ``decision_function`` (higher = more abnormal); ``predict`` (0/1);
``threshold_`` set from ``contamination``; ``labels_``; ``fit_predict``; ``reasons(lang=)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..errors import check_is_fitted
from ._config import outliers_config

__all__ = ["BaseDetector"]


class BaseDetector(BaseEstimator):
    """Common behaviour of the detectors; a detector is a small subclass.

    Subclasses declare ``_parameter_constraints`` (checked by ``fit``, scikit-learn's
    ``InvalidParameterError`` on a bad value) and implement ``_fit_scores(X)`` (fit,
    return the training scores) and ``decision_function(X)``; they may override ``_flag``
    (how a score becomes a flag) and ``_threshold_from`` (how ``threshold_`` is set).

    What is swappable: :class:`IsolationForestDetector` and :class:`LocalOutlierDetector`
    take the same customer table (one row per customer) and return one score and flag per
    row, so one replaces the other without changing the calling code.
    :class:`ThresholdDetector` shares the method names (``fit``, ``decision_function``,
    ``predict``, ``labels_``, ``threshold_``, ``reasons``) but NOT the input or output:
    it takes a table of daily totals (one row per account and active day) and answers
    per account, and its ``threshold_`` is a number of days, not a score quantile.

    Parameters of a subclass include ``contamination``: the share of training rows to flag
    (default from configs/outliers.yaml); ``threshold_`` is the ``1 - contamination``
    quantile of the training scores and a row is flagged when its score is above it.

    Examples
    --------
    >>> import numpy as np
    >>> from numbers import Real
    >>> from sklearn.utils._param_validation import Interval
    >>> class DistanceDetector(BaseDetector):
    ...     _parameter_constraints = {"contamination": [Interval(Real, 0, 0.5, closed="right"), None]}
    ...     def __init__(self, contamination=None):
    ...         self.contamination = contamination
    ...     def _fit_scores(self, X):
    ...         self.center_ = np.median(X, axis=0)
    ...         return self.decision_function(X)
    ...     def decision_function(self, X):
    ...         return np.abs(np.asarray(X, dtype=float) - self.center_).sum(axis=1)
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    >>> DistanceDetector(contamination=0.2).fit_predict(X).tolist()
    [0, 0, 0, 0, 1]
    """

    def _contamination(self) -> float:
        # checked by _parameter_constraints in fit; None means the configured default
        c = getattr(self, "contamination", None)
        return outliers_config()["contamination"] if c is None else float(c)

    def _threshold_from(self, scores: np.ndarray) -> float:
        # The (1 - contamination) quantile of the training scores: about that share of the
        # training rows scores strictly above it.
        return float(np.quantile(np.asarray(scores, dtype=float), 1.0 - self._contamination()))

    def _flag(self, scores):
        return np.asarray(scores, dtype=float) > self.threshold_

    def fit(self, X, y=None):
        """Fit the detector on ``X`` and flag its rows; ``y`` is ignored."""
        self._validate_params()
        scores = self._fit_scores(X)
        self.threshold_ = self._threshold_from(scores)
        self.decision_scores_ = scores
        self.labels_ = self._as_output(self._flag(scores).astype(np.int64), scores, "outlier")
        return self

    def predict(self, X):
        """0/1 per row (per account for :class:`ThresholdDetector`): 1 = flagged as abnormal."""
        check_is_fitted(self, "threshold_")
        scores = self.decision_function(X)
        return self._as_output(self._flag(scores).astype(np.int64), scores, "outlier")

    def fit_predict(self, X, y=None):
        """Fit on ``X`` and return ``labels_``."""
        return self.fit(X, y).labels_

    @staticmethod
    def _as_output(values, like, name):
        # Pandas in, pandas out: keep the caller's index when the scores carry one.
        if isinstance(like, pd.Series):
            return pd.Series(np.asarray(values), index=like.index, name=name)
        return np.asarray(values)
