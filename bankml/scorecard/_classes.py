"""RuleScorecardClassifier: an additive points model over a small set of IF-THEN rules
(RuleFit-style), read by a branch as a scorecard: base points, "IF ... add 12 points".

Candidates come from boosted shallow information-gain trees and single-feature thresholds;
an L1 logistic path keeps at most ``max_rules``; a light refit gives the weights, which are
rounded to integer points; probabilities are a monotone calibration of the integer total,
so every export that adds the points ranks customers exactly as ``predict_proba`` does.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import l1_min_c
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ..errors import DataError, check_is_fitted
from ..rules._apply import iter_rule_masks
from ..rules._model import Condition, Rule, RuleSet
from ..tree import InfoGainTreeClassifier
from ..tree._encode import _Columns, check_one_kind, resolve_categorical

__all__ = ["RuleScorecardClassifier"]

#: Quantiles whose (rounded) values are the single-feature thresholds.
_QUANTILES = np.linspace(0.1, 0.9, 9)
#: Significant figures of a single-feature threshold (140,000 reads better than 142,013.57).
_THRESHOLD_DIGITS = 2
#: Number of C values on the L1 path, from the smallest C that keeps any rule upward.
_PATH_STEPS = 30
#: Span of the L1 path: the largest C is this many times the smallest.
_PATH_SPAN = 1e4
#: L2 strength of the refit on the chosen rules: light, so rules seen on few customers do
#: not get extreme points, yet the fit stays close to maximum likelihood (calibrated).
_REFIT_C = 100.0
#: Shrinkage of each boosting step (the candidates only; the weights come from the refit).
_LEARNING_RATE = 0.3
#: Histogram bins of the candidate trees: coarse is enough to propose rules, and faster.
_TREE_BINS = 32
#: Share of rows each boosting round draws (without replacement), for varied candidates.
_SUBSAMPLE = 0.5


def _frame(X, names):
    if isinstance(X, pd.DataFrame):
        return X.set_axis(names, axis=1) if list(map(str, X.columns)) != list(names) else X
    arr = np.asarray(X)
    return pd.DataFrame(arr, columns=list(names))


def _round_sig(v: float, digits: int) -> float:
    if v == 0 or not math.isfinite(v):
        return float(v)
    return float(f"{v:.{digits}g}")


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) and \
        not isinstance(s.dtype, pd.CategoricalDtype)


def _tighten(conds) -> tuple:
    """The same test with one bound per column and direction: a tree path that splits a
    column twice the same way (``a <= 48 AND a <= 23``) reads as ``a <= 23``. A missing
    value passes the merged bound only if it passed both."""
    out, where = [], {}
    for c in conds:
        key = (c.feature, c.op)
        if c.op not in ("<=", "<", ">", ">=") or key not in where:
            where.setdefault(key, len(out))
            out.append(c)
            continue
        k = where[key]
        old = out[k]
        value = min(old.value, c.value) if c.op in ("<=", "<") else max(old.value, c.value)
        out[k] = Condition(c.feature, c.op, value, old.includes_missing and c.includes_missing)
    return tuple(out)


class RuleScorecardClassifier(ClassifierMixin, BaseEstimator):
    """A points scorecard over at most ``max_rules`` IF-THEN rules (binary targets).

    How it is built (fit):

    1. **Candidates.** ``n_estimators`` rounds of gradient boosting on the logistic loss
       with shallow :class:`~bankml.tree.InfoGainTreeClassifier` trees
       (``max_depth=max_conditions``): each round's tree is fitted to the labels weighted
       by the absolute residual ``|y - p|`` on a random half of the rows (``random_state``),
       which is the classification form of a gradient step; every node of every tree (not
       only leaves) is a candidate rule of at most ``max_conditions`` conditions. With
       ``single_feature_rules`` each numeric column adds ``column > t`` for its deciles,
       rounded to two significant figures. Duplicate and constant rules are dropped.
    2. **Selection.** An L1 logistic fit (liblinear) on the rule indicators, scaled to unit
       variance as RuleFit does, along a path of ``C`` from the smallest that keeps any
       rule: the largest ``C`` keeping at most ``max_rules`` rules wins (or the given ``C``,
       then the ``max_rules`` largest scaled weights).
    3. **Weights.** A lightly L2-penalised logistic refit on the chosen rules (close to
       maximum likelihood, hence calibrated).
    4. **Points.** Weights become integer points by the PDO convention: ``pdo`` points
       double the odds, ``base_score`` points are even odds; a rule of weight ``b`` adds
       ``round(b * pdo / ln 2)`` points, base points ``round(base_score + intercept *
       pdo / ln 2)``. Rules rounded to 0 points are dropped.
    5. **Probability.** ``predict_proba`` is ``expit(a * total + c)`` where ``total`` is the
       INTEGER points sum and ``a > 0``, ``c`` a one-feature logistic calibration of the
       total on the training rows. So the model ranks customers exactly by the integer
       points a branch adds up (ties included): SQL's sum of CASE terms ranks as
       ``predict_proba`` on every row, and the rounding is absorbed by the calibration.

    Monotonic constraints (``monotonic_cst``): a constrained column is kept OUT of the
    trees and enters only through single-feature rules ``column > t`` whose points are
    forced to the constraint's sign (rules of the wrong sign are dropped and the weights
    refitted). Guaranteed: for a constrained column, the total points (and probability)
    never decrease (+1) / increase (-1) when that column's present value grows and the
    other columns stay fixed. A missing value scores as the lowest one (``column > t``
    is false).

    Parameters
    ----------
    max_rules : int >= 1, default 30
        Rule budget: the scorecard has at most this many rules.
    max_conditions : int in 1..4, default 3
        Conditions per tree rule (depth of the candidate trees).
    n_estimators : int >= 0, default 20
        Boosting rounds generating candidate rules (0: single-feature rules only).
    single_feature_rules : bool, default True
        Add ``column > t`` candidates for numeric columns.
    C : float > 0 or None, default None
        Inverse L1 strength; None chooses it on the path as above.
    monotonic_cst : array-like of {-1, 0, 1}, dict {column: -1|0|1} or None
        Per-feature monotonic constraints on numeric columns (see above).
    pdo : float > 0, default 20
        Points to double the odds.
    base_score : float, default 600
        Points at even odds (1:1).
    min_samples_leaf : int >= 1, default 20
        Smallest node of the candidate trees (a rule covers at least this many rows of
        its round's sample).
    random_state : int, RandomState or None
        Row sampling of the boosting rounds.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    rules_ : list of tuple of Condition
        The conditions of each scorecard rule (all must hold).
    points_ : ndarray of int
        Points each rule adds (negative: subtracts).
    base_points_ : int
    calibration_ : tuple (a, c)
        ``predict_proba = expit(a * total_points + c)``.
    coef_ : ndarray
        Refitted logistic weights of the rules (before rounding).
    coverage_ : ndarray of float
        Share of the training rows each rule holds for.
    n_candidates_ : int
        Distinct candidate rules the selection saw.
    feature_names_in_, n_features_in_
        As in scikit-learn.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(1000, seed=0)
    >>> X = df[["age", "short_term_assets", "long_term_assets", "has_fund"]]
    >>> sc = RuleScorecardClassifier(max_rules=8, n_estimators=5, random_state=0)
    >>> sc = sc.fit(X, df["wm_buyer"])
    >>> len(sc.rules_) <= 8, sc.predict_proba(X).shape
    (True, (1000, 2))
    """

    _parameter_constraints = {
        "max_rules": [Interval(Integral, 1, None, closed="left")],
        "max_conditions": [Interval(Integral, 1, 4, closed="both")],
        "n_estimators": [Interval(Integral, 0, None, closed="left")],
        "single_feature_rules": ["boolean"],
        "C": [Interval(Real, 0, None, closed="neither"), None],
        "monotonic_cst": ["array-like", dict, None],
        "pdo": [Interval(Real, 0, None, closed="neither")],
        "base_score": [Interval(Real, None, None, closed="neither")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, max_rules=30, max_conditions=3, n_estimators=20,
                 single_feature_rules=True, C=None, monotonic_cst=None, pdo=20.0,
                 base_score=600.0, min_samples_leaf=20, random_state=None):
        self.max_rules = max_rules
        self.max_conditions = max_conditions
        self.n_estimators = n_estimators
        self.single_feature_rules = single_feature_rules
        self.C = C
        self.monotonic_cst = monotonic_cst
        self.pdo = pdo
        self.base_score = base_score
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    # ---- fitting --------------------------------------------------------------------------
    def fit(self, X, y):
        """Build the scorecard.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Numeric and categorical (text / category) columns; NaN allowed.
        y : array-like of shape (n_samples,), two classes

        Returns
        -------
        self
        """
        self._validate_params()
        frame = self._checked_frame(X, reset=True)
        names = self._names()
        n = len(frame)
        y = column_or_1d(y, warn=True)
        if len(y) != n:
            raise ValueError(f"X has {n} rows but y has {len(y)}")
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) > 2:
            # sklearn's wording (its contract checks it); then ours
            raise DataError(f"Only binary classification is supported. The type of the target "
                            f"is multiclass: RuleScorecardClassifier needs exactly two classes "
                            f"in y, got {len(self.classes_)}: {list(self.classes_)[:5]}")
        if len(self.classes_) < 2:
            raise DataError(f"RuleScorecardClassifier needs two classes in y, got one class "
                            f"{list(self.classes_)}: nothing to score")
        for name in frame.columns:
            if not _is_numeric(frame[name]):
                # every row, not only the rows a boosting round samples
                check_one_kind(frame[name], name)
        yi = yi.astype(float)
        cst = self._monotonic(frame, names)
        rng = check_random_state(self.random_state)

        candidates = self._candidates(frame, yi, cst, rng)
        masks, rules = self._dedupe(frame, candidates)
        self.n_candidates_ = len(rules)
        Z = masks.astype(float)
        chosen = self._select(Z, yi)
        chosen, coef, intercept = self._refit(Z, yi, chosen, rules, cst)
        factor = self.pdo / math.log(2.0)
        points = np.rint(coef * factor).astype(np.int64)
        keep = points != 0
        self.rules_ = [rules[j] for j, k in zip(chosen, keep) if k]
        self.points_ = points[keep]
        self.coef_ = coef[keep]
        used = [j for j, k in zip(chosen, keep) if k]
        self.coverage_ = Z[:, used].mean(axis=0) if used else np.zeros(0)
        self.base_points_ = int(np.rint(self.base_score + intercept * factor))
        total = self.base_points_ + (Z[:, [j for j, k in zip(chosen, keep) if k]]
                                     @ self.points_ if self.points_.size else 0.0)
        self.calibration_ = self._calibrate(np.asarray(total, dtype=float) *
                                            np.ones(n), yi, factor)
        return self

    def _names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(c) for c in names]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _monotonic(self, frame, names) -> dict:
        """{column: -1|1} of the constrained columns, checked (numeric columns only)."""
        m = self.monotonic_cst
        if m is None:
            return {}
        if isinstance(m, dict):
            unknown = [k for k in m if k not in names]
            if unknown:
                raise InvalidParameterError(f"The 'monotonic_cst' parameter names unknown "
                                            f"feature(s) {unknown[:5]}; features: {names[:10]}")
            pairs = list(m.items())
        else:
            arr = np.asarray(m)
            if arr.ndim != 1 or len(arr) != len(names):
                raise InvalidParameterError(f"The 'monotonic_cst' parameter must have one "
                                            f"value per feature ({len(names)}), got shape "
                                            f"{arr.shape}")
            pairs = list(zip(names, arr.tolist()))
        out = {}
        for name, v in pairs:
            if isinstance(v, bool) or v not in (-1, 0, 1):
                raise InvalidParameterError(f"The 'monotonic_cst' parameter must hold -1, 0 or "
                                            f"1, got {v!r} for feature {name!r}")
            if v == 0:
                continue
            if not _is_numeric(frame[name]):
                raise InvalidParameterError(f"The 'monotonic_cst' parameter constrains "
                                            f"feature {name!r}, which is categorical; "
                                            "constraints apply to numeric features only")
            out[name] = int(v)
        return out

    def _candidates(self, frame, y, cst, rng) -> list:
        out = []
        if self.single_feature_rules or cst:
            for name in frame.columns:
                s = frame[name]
                if not _is_numeric(s) or (not self.single_feature_rules and name not in cst):
                    continue
                x = s.to_numpy(dtype=float, na_value=np.nan)
                x = x[~np.isnan(x)]
                if x.size == 0:
                    continue
                uniq = np.unique(x)
                if len(uniq) <= len(_QUANTILES) + 1:
                    # few values (a 0/1 flag, a count): cut half-way between neighbours, so
                    # a flag reads "holds funds = yes", not "> 0"
                    qs = np.unique([_round_sig(t, _THRESHOLD_DIGITS)
                                    for t in (uniq[:-1] + uniq[1:]) / 2])
                else:
                    qs = np.unique([_round_sig(q, _THRESHOLD_DIGITS)
                                    for q in np.quantile(x, _QUANTILES)])
                out.extend((Condition(name, ">", float(t)),) for t in qs)
        free = [c for c in frame.columns if c not in cst]
        if self.n_estimators == 0 or not free:
            return out
        # the trees see only unconstrained columns: a constrained one enters through its
        # signed single-feature rules, which is what makes the guarantee hold
        Xt = frame[free]
        n = len(frame)
        F = np.full(n, math.log((y.mean() + 1e-12) / (1 - y.mean() + 1e-12)))
        take = max(2, int(round(_SUBSAMPLE * n)))
        # the trees' bins also bound a category count: a column of 40 customer types must
        # not be refused for the numeric columns' coarse binning
        cats = [Xt[c].nunique() for c in free if not _is_numeric(Xt[c])]
        bins = int(min(max([_TREE_BINS, *cats]), 65535))
        for _ in range(self.n_estimators):
            p = expit(F)
            r = y - p
            w = np.abs(r)
            rows = np.sort(rng.choice(n, size=take, replace=False)) if take < n else np.arange(n)
            if not (w[rows] > 0).any() or len(np.unique(y[rows])) < 2:
                break
            tree = InfoGainTreeClassifier(max_depth=self.max_conditions,
                                          min_samples_leaf=self.min_samples_leaf,
                                          max_bins=bins,
                                          random_state=rng.randint(2**31 - 1))
            tree.fit(Xt.iloc[rows], y[rows], sample_weight=w[rows])
            paths, leaf_of = self._tree_paths(tree)
            out.extend(paths)
            # Newton step per leaf, on all rows (the tree routes every row)
            leaf = tree.apply(Xt)
            num = np.bincount(leaf, weights=r, minlength=tree.tree_.node_count)
            den = np.bincount(leaf, weights=p * (1 - p), minlength=tree.tree_.node_count)
            step = np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)
            F = F + _LEARNING_RATE * np.clip(step, -4, 4)[leaf]
        return out

    @staticmethod
    def _tree_paths(tree):
        """The conditions leading to every non-root node (the tree/rules contract)."""
        t = tree.tree_
        names = [str(c) for c in getattr(tree, "feature_names_in_", [])] or \
            [f"x{i}" for i in range(tree.n_features_in_)]
        paths, stack, leaf_of = [], [(0, ())], {}
        while stack:
            node, conds = stack.pop()
            if conds:
                paths.append(_tighten(conds))
            if t.is_leaf(node):
                continue
            name = names[int(t.feature[node])]
            for b in t.branches(node):
                stack.append((int(b.child), conds + (Condition(name, b.op, b.value,
                                                               bool(b.includes_missing)),)))
        return paths, leaf_of

    @staticmethod
    def _dedupe(frame, candidates):
        rs = RuleSet([Rule(c, None) for c in candidates])
        seen, masks, rules = set(), [], []
        if candidates:
            _, gen = iter_rule_masks(rs, frame)
            for conds, m in zip(candidates, gen):
                if not m.any() or m.all():
                    continue
                key = np.packbits(m).tobytes()
                # a rule's complement is the same information once there is an intercept
                if key in seen or np.packbits(~m).tobytes() in seen:
                    continue
                seen.add(key)
                masks.append(m)
                rules.append(conds)
        if not masks:
            return np.zeros((len(frame), 0), dtype=bool), []
        return np.column_stack(masks), rules

    def _select(self, Z, y) -> list:
        if Z.shape[1] == 0:
            return []
        sd = Z.std(axis=0)
        Zs = (Z - Z.mean(axis=0)) / sd
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.C is not None:
                coef = self._l1(Zs, y, self.C)
                nz = np.flatnonzero(coef)
                return sorted(nz[np.argsort(-np.abs(coef[nz]), kind="stable")][:self.max_rules])
            try:
                c0 = l1_min_c(Zs, y, loss="log")
            except ValueError:
                return []
            best = []
            for c in c0 * np.logspace(0, math.log10(_PATH_SPAN), _PATH_STEPS)[1:]:
                nz = np.flatnonzero(self._l1(Zs, y, c))
                if len(nz) > self.max_rules:
                    break
                best = list(nz)
        return best

    def _l1(self, Zs, y, c):
        # a loose tolerance: only which rules are nonzero matters here, the refit sets weights
        m = LogisticRegression(C=c, l1_ratio=1.0, solver="liblinear", max_iter=200, tol=1e-3,
                               random_state=0).fit(Zs, y)
        return m.coef_[0]

    def _refit(self, Z, y, chosen, rules, cst):
        """Weights of the chosen rules; a rule against a monotonic constraint is dropped."""
        chosen = list(chosen)
        while True:
            if not chosen:
                p = min(max(y.mean(), 1e-12), 1 - 1e-12)
                return [], np.zeros(0), math.log(p / (1 - p))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m = LogisticRegression(C=_REFIT_C, max_iter=1000).fit(Z[:, chosen], y)
            coef = m.coef_[0]
            bad = [k for k, j in enumerate(chosen) if self._against(rules[j], coef[k], cst)]
            if not bad:
                return chosen, coef, float(m.intercept_[0])
            chosen = [j for k, j in enumerate(chosen) if k not in bad]

    @staticmethod
    def _against(conds, w, cst) -> bool:
        if len(conds) != 1 or conds[0].feature not in cst:
            return False
        c = conds[0]
        sign = cst[c.feature] * (1 if c.op in (">", ">=") else -1)
        return w * sign < 0

    def _calibrate(self, total, y, factor):
        """(a, c) with probability expit(a * total + c), a > 0 (ranking = points)."""
        a0, c0 = 1.0 / factor, -self.base_score / factor
        if np.ptp(total) == 0:
            p = min(max(y.mean(), 1e-12), 1 - 1e-12)
            return 0.0, math.log(p / (1 - p))
        z = (total - total.mean()) / total.std()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = LogisticRegression(C=1e6, max_iter=1000).fit(z[:, None], y)
        a = float(m.coef_[0, 0]) / total.std()
        if not a > 0:
            return a0, c0
        return a, float(m.intercept_[0]) - a * total.mean()

    # ---- prediction -----------------------------------------------------------------------
    def _checked_frame(self, X, reset):
        """X as a DataFrame on the fitted names, checked as InfoGainTreeClassifier checks."""
        cols = _Columns(X)  # sparse, 1-D, empty, complex ... refused with sklearn's words
        validate_data(self, X, skip_check_array=True, reset=reset)
        if cols.frame is None:
            arr = cols.array
            if arr.dtype.kind == "f" and np.isinf(arr).any():
                raise ValueError("Input X contains infinity or a value too large for "
                                 "dtype('float64').")
            names = self._names()
            if arr.dtype == object:
                # as the tree reads an object array: a column is numeric unless it holds text
                cat = resolve_categorical(None, cols, False)
                return pd.DataFrame({n: (cols.raw(j) if cat[j] else cols.numeric(j, n))
                                     for j, n in enumerate(names)}, columns=names)
            return pd.DataFrame(arr, columns=names)
        return _frame(cols.frame, self._names())

    def _frame_for(self, X):
        check_is_fitted(self, "rules_")
        return self._checked_frame(X, reset=False)

    def total_points(self, X) -> np.ndarray:
        """Integer points per row: base points plus the points of every rule that holds."""
        frame = self._frame_for(X)
        total = np.full(len(frame), self.base_points_, dtype=np.int64)
        if self.rules_:
            _, gen = iter_rule_masks(RuleSet([Rule(c, None) for c in self.rules_]), frame)
            for p, m in zip(self.points_, gen):
                total[m] += int(p)
        return total

    def decision_function(self, X) -> np.ndarray:
        """Calibrated log-odds of ``classes_[1]``: ``a * total_points + c``."""
        check_is_fitted(self, "rules_")
        a, c = self.calibration_
        return a * self.total_points(X).astype(float) + c

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, ranked exactly as the integer total points."""
        p1 = expit(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where its probability is at least one half."""
        p1 = self.predict_proba(X)[:, 1]
        return self.classes_[(p1 >= 0.5).astype(int)]
