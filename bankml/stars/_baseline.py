"""The star rating as a scikit-learn classifier, so models and baseline share one evaluation.

``predict_proba`` is a monotone function of the star points, so its AUC and lift are those
of ranking customers by the bank's own star policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from ..errors import DataError, check_is_fitted
from ..schema import STAR_INPUTS
from ._policy import StarPolicy

__all__ = ["StarBaselineClassifier"]


def _slog(x):
    # log1p on the magnitude: monotone, and defined for the signed sums of weights="equal"
    return np.sign(x) * np.log1p(np.abs(x))


class StarBaselineClassifier(ClassifierMixin, BaseEstimator):
    """Rank customers by star points (the bank's rule-based baseline) as a classifier.

    The score of a customer is its star-point value under ``policy``. Fitting learns only
    how to turn points into a probability: ``threshold_``, the points above which the same
    share of training customers lies as the share of positives, and ``scale_``, the spread
    of ``log1p(points)``. Then ``decision_function = (log1p(points) - log1p(threshold_)) /
    scale_`` and ``predict_proba[:, 1] = sigmoid(decision_function)``, both increasing in the
    star points, so AUC and lift equal those of the star ranking itself.

    Parameters
    ----------
    policy : StarPolicy, optional
        The star policy; ``None`` means :meth:`StarPolicy.default`.
    weights : {"policy", "equal"}, default "policy"
        ``"policy"``: the score is the star-point value of the eight star inputs.
        ``"equal"``: the score is the plain sum of the columns of ``X``, whatever their
        number and sign (a naive "total business volume" baseline).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    threshold_ : float
        Star points above which a customer is predicted positive.
    scale_ : float
    n_features_in_ : int
        8 with ``weights="policy"``.
    feature_names_in_ : ndarray of str
        Set when ``X`` has column names (must be the eight star inputs, in any order).

    Notes
    -----
    ``X`` holds the eight star inputs of :data:`bankml.schema.STAR_INPUTS` (yuan, >= 0).
    A DataFrame is matched by column name (a customer table's other columns must be dropped
    first: ``X = customers[list(STAR_INPUTS)]``); an array without names must have its eight
    columns in the order of ``STAR_INPUTS``. Binary targets only.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> from bankml.schema import LABEL, STAR_INPUTS
    >>> from sklearn.metrics import roc_auc_score
    >>> df = make_customers(2_000, seed=2)
    >>> X, y = df[list(STAR_INPUTS)], df[LABEL]
    >>> clf = StarBaselineClassifier().fit(X, y)
    >>> proba = clf.predict_proba(X)[:, 1]
    >>> from bankml.stars import StarScorer
    >>> points = StarScorer().star_points(df)
    >>> bool(roc_auc_score(y, proba) == roc_auc_score(y, points))
    True
    """

    _parameter_constraints = {
        "policy": [StarPolicy, None],
        "weights": [StrOptions({"policy", "equal"})],
    }

    def __init__(self, policy=None, weights="policy"):
        self.policy = policy
        self.weights = weights

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.weights == "policy"  # amounts in yuan
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True  # a fixed business rule, not fitted to X
        return tags

    def _policy(self):
        return StarPolicy.default() if self.policy is None else self.policy

    def _check_names(self, X):
        if self.weights == "policy" and isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns]
            missing = [c for c in STAR_INPUTS if c not in names]
            extra = [c for c in names if c not in STAR_INPUTS]
            if missing or extra:
                raise DataError(
                    "StarBaselineClassifier takes exactly the eight star inputs "
                    f"{list(STAR_INPUTS)}; missing columns {missing}, extra columns {extra}")

    def _points(self, Xa):
        if self.weights == "equal":
            return Xa.sum(axis=1)
        neg = Xa < 0
        if neg.any():
            rows, cols = np.nonzero(neg)
            names = getattr(self, "feature_names_in_", None)
            shown = sorted({str(names[c]) if names is not None else
                            STAR_INPUTS[c]
                            for c in cols})
            raise DataError(f"Negative values in data passed to StarBaselineClassifier: star "
                             f"inputs must be >= 0; columns {shown}, rows (positions) "
                             f"{rows[:5].tolist()}")
        if Xa.shape[1] != len(STAR_INPUTS):
            raise DataError(
                f"X has {Xa.shape[1]} feature(s), but StarBaselineClassifier takes the "
                f"{len(STAR_INPUTS)} star inputs in the order {list(STAR_INPUTS)}")
        names = getattr(self, "feature_names_in_", None)
        order = (np.arange(len(STAR_INPUTS)) if names is None
                 else np.array([list(names).index(c) for c in STAR_INPUTS]))
        pol = self._policy()
        return Xa[:, order] @ pol.weight_vector / pol.unit

    def fit(self, X, y):
        """Learn the points-to-probability mapping from training customers.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, 8)
            The eight star inputs (see Notes).
        y : array-like of shape (n_samples,)
            Binary target (e.g. ``wm_buyer``).

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_names(X)
        Xa, y = validate_data(self, X, y, dtype="float64")
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise DataError("Only binary classification is supported. The type of the target "
                             f"is {y_type}.")
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise DataError(f"StarBaselineClassifier needs 2 classes in y; got only one class "
                             f"{classes.tolist()}")
        points = self._points(Xa)
        self.classes_ = classes
        share = float(np.mean(y_idx == 1))
        self.threshold_ = float(np.quantile(points, 1.0 - share))
        spread = float(np.std(_slog(points)))
        self.scale_ = spread if spread > 0 else 1.0
        return self

    def decision_function(self, X):
        """``(log1p(points) - log1p(threshold_)) / scale_``: positive above the threshold."""
        check_is_fitted(self)
        self._check_names(X)
        points = self._points(validate_data(self, X, reset=False, dtype="float64"))
        return (_slog(points) - _slog(self.threshold_)) / self.scale_

    def predict_proba(self, X):
        """Probabilities of the two classes; column 1 increases with the star points."""
        d = self.decision_function(X)
        p1 = 1.0 / (1.0 + np.exp(-d))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X):
        """The positive class above ``threshold_`` star points, else the negative class."""
        above = self.decision_function(X) > 0
        return self.classes_[above.astype(int)]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        d = self.decision_function(X)
        # log sigmoid without overflow: log p1 = -log1p(exp(-d)), log p0 = -log1p(exp(d))
        return np.column_stack([-np.logaddexp(0.0, d), -np.logaddexp(0.0, -d)])
