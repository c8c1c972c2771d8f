"""Customer segments: k-means / k-prototypes on rank-scaled features, k chosen by silhouette.

Each segment gets a profile (size, share of star points, what sets it apart) and a
generated bilingual name such as "high balance, low activity" / "高余额低活跃".
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._dtypes import is_categorical_dtype
from .._messages import row_positions as _positions
from ..errors import DataError, InvalidParameterError, check_is_fitted
from ..labels import check_lang, column_label, value_label
from ..schema import ID
from ._config import segment_config

__all__ = ["CustomerSegmenter"]

_SEED_MAX = np.iinfo(np.int32).max


def _is_numeric(s: pd.Series) -> bool:
    # the one category-or-number answer (bankml._dtypes): a bool flag is a category
    return pd.api.types.is_numeric_dtype(s.dtype) and not is_categorical_dtype(s.dtype)


def _smd(mean_in, var_in, mean_out, var_out):
    """Standardised mean difference with the pooled (average) variance of the two groups."""
    diff = mean_in - mean_out
    pooled = np.sqrt(np.maximum((var_in + var_out) / 2.0, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(pooled > 0, diff / np.where(pooled > 0, pooled, 1.0),
                       np.sign(diff) * np.inf)
    return np.where(diff == 0, 0.0, out)


class CustomerSegmenter(ClusterMixin, BaseEstimator):
    """Segment customers with k-means (numeric) or k-prototypes (numeric + categorical).

    Bank amounts are zero-inflated (40% of customers hold no long-term assets) and
    heavy-tailed, so by default (``scaling="quantile"``) each numeric feature is mapped to
    its rank among the training customers (scikit-learn's ``QuantileTransformer``, uniform
    0..1, exact: no subsampling) and then standardised. Customers who hold none of a
    product tie at one value (0; holders start at the share of non-holders), so a holding
    acts as a flag one rank-step from the holders, not ten standard deviations away, and a tail of
    millionaires cannot pull a centre. ``scaling="log1p"`` is the earlier scaling:
    log1p for the ``segmenter.log_columns`` of ``configs/segment.yaml``, then standardised.

    ``n_clusters="auto"`` fits every k of ``k_range`` on a random sample of
    ``sample_size`` rows, scores each by silhouette on that sample (kept in ``k_scores_``),
    and refits on all rows the best-scoring k whose segments have useful sizes on the
    sample: none above ``segmenter.max_share`` (40%) or below ``segmenter.min_share`` (5%)
    of customers (when no k qualifies, the best-scoring k).

    Names follow the profile: "high balance" is given only to a segment whose median
    balance is above the median of all customers (and "low" only below it), and never to a
    segment of more than ``naming.max_high_share`` (40%) of customers, which is the
    mainstream, not the high end.

    Parameters
    ----------
    n_clusters : "auto" or int, default "auto"
        Number of segments, or ``"auto"`` to choose it by silhouette.
    method : {"kmeans", "kprototypes"}, default "kmeans"
        ``"kmeans"``: :class:`sklearn.cluster.KMeans`, all features numeric.
        ``"kprototypes"``: ``kmodes.kprototypes.KPrototypes`` (PyPI ``kmodes``); columns with
        a text/categorical dtype are the categorical features, compared by matching.
    features : list of str, optional
        Columns to segment on. Default: the configured customer features when the table
        has all of them (``segmenter.features``, plus ``categorical_features`` for
        k-prototypes), otherwise every column but ``customer_id``. Needs a DataFrame.
    k_range : (int, int), optional
        Smallest and largest k tried by ``"auto"`` (inclusive); default from the config,
        (3, 6). The largest k is capped at the sample's rows minus one.
    sample_size : int, optional
        Rows on which ``"auto"`` fits and scores candidate k; default from the config
        (10,000; 2,000 for k-prototypes, whose silhouette needs a full distance matrix).
    n_init : int, optional
        Restarts of k-means / k-prototypes; default from the config (3).
    random_state : int, RandomState or None, default 0
        Seeds the sample and every fit.
    scaling : {"quantile", "log1p"}, default "quantile"
        Scaling of the numeric features before clustering (see above). The profile's
        standardised mean differences are on this scale. (Not named ``transform``:
        scikit-learn would take that attribute for a transformer method.)

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Segment of each training row, 0 .. ``n_clusters_ - 1``.
    n_clusters_ : int
        Number of segments found.
    k_scores_ : pandas.Series or None
        Silhouette per candidate k (index ``k``) when ``n_clusters="auto"``, else None.
    cluster_centers_ : ndarray
        Segment centres in the scaled numeric space (k-means only; k-prototypes keeps them in
        ``model_``).
    model_ : KMeans or KPrototypes
        The fitted final model.
    features_ : list of str
        The columns used (for array input, ``x0``, ``x1``, ...).
    categorical_features_ : list of str
        The categorical ones among them (k-prototypes).
    mean_, scale_ : ndarray
        Centre and spread of the transformed (rank or log) numeric features.
    transformer_ : QuantileTransformer or None
        The fitted rank scaling (``scaling="quantile"``).
    n_features_in_, feature_names_in_ :
        As in scikit-learn.

    Notes
    -----
    scikit-learn's estimator checks pass for ``method="kmeans"`` on plain arrays; the
    k-prototypes variant needs a DataFrame with categorical columns, which those checks do
    not generate. Missing values are refused (impute first): neither algorithm defines
    distances to a missing value, and silently dropping customers would lose them.

    k-prototypes (``kmodes``) iterates in Python and is far slower than k-means: about
    2 s of CPU per 1,000 rows with ``n_init=3`` (k-means segments 1M customers in
    seconds). For large mixed tables fit on a random sample (``df.sample(20_000,
    random_state=0)``) and :meth:`predict` the rest, which is fast.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(2000, seed=0)
    >>> seg = CustomerSegmenter(n_clusters=3, random_state=0).fit(df)
    >>> seg.labels_.shape, seg.n_clusters_
    ((2000,), 3)
    >>> prof = seg.profile(lang="en")
    >>> int(prof["size"].sum())
    2000
    >>> list(prof.columns[:4])
    ['name', 'size', 'share', 'value_share']
    >>> from bankml.stars import StarScorer
    >>> shares = seg.profile(value=StarScorer().star_points(df))["value_share"]
    >>> round(float(shares.sum()), 6)
    1.0
    """

    _parameter_constraints = {
        "n_clusters": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"kmeans", "kprototypes"})],
        "features": [list, tuple, None],
        "k_range": [tuple, list, None],
        "sample_size": [Interval(Integral, 3, None, closed="left"), None],
        "n_init": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "scaling": [StrOptions({"quantile", "log1p"})],
    }

    def __init__(self, n_clusters="auto", method="kmeans", features=None, k_range=None,
                 sample_size=None, n_init=None, random_state=0, scaling="quantile"):
        self.n_clusters = n_clusters
        self.method = method
        self.features = features
        self.k_range = k_range
        self.sample_size = sample_size
        self.n_init = n_init
        self.random_state = random_state
        self.scaling = scaling

    # ------------------------------------------------------------------ input handling
    def _choose_features(self, X: pd.DataFrame) -> list:
        cfg = segment_config()["segmenter"]
        if self.features is not None:
            feats = list(self.features)
            if not feats:
                raise DataError("CustomerSegmenter: features= is empty; name at least one column")
            dup = sorted({f for f in feats if feats.count(f) > 1})
            if dup:
                raise DataError(f"CustomerSegmenter: features= repeats {dup}")
            missing = [f for f in feats if f not in X.columns]
            if missing:
                raise DataError(f"CustomerSegmenter: features {missing} are not columns of the data "
                                f"(columns: {list(X.columns)})")
            return feats
        default = list(cfg["features"])
        if self.method == "kprototypes":
            default += list(cfg["categorical_features"])
        if all(c in X.columns for c in default):
            return default
        return [c for c in X.columns if c != ID]

    def _split(self, X: pd.DataFrame):
        """Numeric and categorical columns of the selected frame."""
        num = [c for c in X.columns if _is_numeric(X[c])]
        cat = [c for c in X.columns if c not in num]
        if self.method == "kmeans" and cat:
            raise DataError(f"CustomerSegmenter(method='kmeans'): columns {cat} are not numeric "
                            f"(dtypes {[str(X[c].dtype) for c in cat]}); drop them from features=, "
                            "use method='kprototypes' for mixed data, or cast true/false flags "
                            "to 0/1 with .astype(int) to use them as numbers")
        if self.method == "kprototypes" and not cat:
            raise DataError("CustomerSegmenter(method='kprototypes') needs at least one "
                            "categorical (text/category) column among the features; "
                            "use method='kmeans' for all-numeric data")
        if self.method == "kprototypes" and not num:
            raise DataError("CustomerSegmenter(method='kprototypes') needs at least one numeric "
                            "feature; for all-categorical data use kmodes.KModes")
        return num, cat

    def _numeric_matrix(self, X: pd.DataFrame, num: list) -> np.ndarray:
        logs = set(segment_config()["segmenter"]["log_columns"])
        out = np.empty((len(X), len(num)), dtype=np.float64)
        for j, c in enumerate(num):
            v = X[c].to_numpy(dtype="float64", na_value=np.nan)
            nan = np.isnan(v)
            if nan.all():
                raise DataError(f"CustomerSegmenter: column {c!r} is entirely missing "
                                f"(all {v.size} values NaN); drop it from features=")
            if nan.any():
                raise DataError(f"CustomerSegmenter: column {c!r} has missing values (NaN) in "
                                f"{_positions(nan)}; impute them or drop those rows")
            inf = np.isinf(v)
            if inf.any():
                raise DataError(f"CustomerSegmenter: column {c!r} has infinite values (inf) in "
                                f"{_positions(inf)}")
            if c in logs:
                # amounts: checked under either scaling, a negative balance is a data error
                neg = v < 0
                if neg.any():
                    raise DataError(f"CustomerSegmenter: column {c!r} is an amount and must be "
                                    f">= 0 (log-scaled), but has negative values in {_positions(neg)}")
                if self.scaling == "log1p":
                    v = np.log1p(v)
            out[:, j] = v
        return out

    def _rank(self, Z, reset: bool):
        """The rank (quantile) scaling of ``scaling="quantile"``; identity for "log1p"."""
        if self.scaling != "quantile":
            if reset:
                self.transformer_ = None
            return Z
        if reset:
            # subsample=None: exact quantiles of every training row, nothing random
            self.transformer_ = QuantileTransformer(
                n_quantiles=max(1, min(1000, Z.shape[0])), subsample=None).fit(Z)
        return self.transformer_.transform(Z)

    def _categorical_matrix(self, X: pd.DataFrame, cat: list) -> np.ndarray:
        out = np.empty((len(X), len(cat)), dtype=object)
        for j, c in enumerate(cat):
            s = X[c]
            nan = s.isna().to_numpy()
            if nan.all():
                raise DataError(f"CustomerSegmenter: column {c!r} is entirely missing; "
                                "drop it from features=")
            if nan.any():
                raise DataError(f"CustomerSegmenter: column {c!r} has missing values in "
                                f"{_positions(nan)}; fill them (e.g. 'unknown') first")
            out[:, j] = s.astype(str).to_numpy(dtype=object)
        return out

    def _prepare(self, X, reset: bool):
        """Validated (scaled numeric matrix, categorical matrix or None, index)."""
        if isinstance(X, pd.DataFrame):
            if reset:
                feats = self._choose_features(X)
            else:
                feats = self.features_
                missing = [f for f in feats if f not in X.columns]
                if missing:
                    raise DataError(f"CustomerSegmenter: columns {missing} used in fit are "
                                    "missing from the data")
            Xs = X[feats]
            validate_data(self, Xs, reset=reset, skip_check_array=True)
            if reset:
                num, cat = self._split(Xs)
            else:
                num, cat = self._num_features, self.categorical_features_
            Z = self._numeric_matrix(Xs, num)
            C = self._categorical_matrix(Xs, cat) if cat else None
            index = X.index
        else:
            if self.features is not None:
                raise DataError("CustomerSegmenter: features= names columns, so X must be a "
                                f"pandas DataFrame, got {type(X).__name__}")
            if self.method == "kprototypes":
                raise DataError("CustomerSegmenter(method='kprototypes') needs a DataFrame whose "
                                f"categorical columns have a text/category dtype, got {type(X).__name__}")
            Z = validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_samples=1)
            if reset:
                num = [f"x{i}" for i in range(Z.shape[1])]
                cat = []
            C = None
            index = pd.RangeIndex(Z.shape[0])
        if reset:
            self.features_ = list(num) + list(cat)
            self._num_features = list(num)
            self.categorical_features_ = list(cat)
        return Z, C, index

    # ------------------------------------------------------------------ fitting
    def _settings(self):
        cfg = segment_config()["segmenter"]
        k_range = tuple(self.k_range) if self.k_range is not None else tuple(cfg["k_range"])
        if (len(k_range) != 2 or not all(isinstance(k, Integral) for k in k_range)
                or not 2 <= k_range[0] <= k_range[1]):
            raise InvalidParameterError(f"CustomerSegmenter: k_range must be (kmin, kmax) "
                                        f"integers with 2 <= kmin <= kmax, got {self.k_range!r}")
        if self.sample_size is not None:
            sample = self.sample_size
        elif self.method == "kprototypes":
            sample = cfg["kprototypes_sample_size"]
        else:
            sample = cfg["sample_size"]
        n_init = self.n_init if self.n_init is not None else cfg["n_init"]
        return k_range, sample, n_init

    def _fit_one(self, k, Z, C, n_init, seed):
        if C is None:
            return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(Z)
        from kmodes.kprototypes import KPrototypes

        model = KPrototypes(n_clusters=k, n_init=n_init, random_state=seed)
        model.fit(self._mixed(Z, C), categorical=self._cat_idx(Z))
        return model

    @staticmethod
    def _mixed(Z, C):
        X = np.empty((Z.shape[0], Z.shape[1] + C.shape[1]), dtype=object)
        X[:, :Z.shape[1]] = Z
        X[:, Z.shape[1]:] = C
        return X

    def _cat_idx(self, Z):
        return list(range(Z.shape[1], Z.shape[1] + self._cat_count))

    @staticmethod
    def _silhouette(Z, C, labels, gamma):
        if C is None:
            # column-major: sklearn's pairwise distances run ~1.5x faster on it (measured,
            # one thread) and silhouette is nearly all of an "auto" fit's time
            return float(silhouette_score(np.asfortranarray(Z), labels))
        # k-prototypes cost: squared Euclidean + gamma * number of mismatched categories
        sq = np.square(Z).sum(axis=1)
        d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * Z @ Z.T, 0.0)
        for j in range(C.shape[1]):
            d += gamma * (C[:, j][:, None] != C[:, j][None, :])
        np.fill_diagonal(d, 0.0)
        return float(silhouette_score(np.sqrt(d), labels, metric="precomputed"))

    def fit(self, X, y=None):
        """Fit the segments.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Customers. A ``star_points`` column (``segmenter.value_column``), when present,
            is remembered per segment for :meth:`profile` even if it is not a feature.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        k_range, sample, n_init = self._settings()
        Z, C, _ = self._prepare(X, reset=True)
        n = Z.shape[0]
        if self.n_clusters != "auto" and n < self.n_clusters:
            raise DataError(f"CustomerSegmenter: n_samples={n} is fewer than "
                            f"n_clusters={self.n_clusters}; need at least one row per segment")
        if self.n_clusters == "auto" and n < k_range[0] + 1:
            raise DataError(f"CustomerSegmenter: n_samples={n} is too few for n_clusters='auto' "
                            f"with k_range={k_range}; silhouette needs more than kmin={k_range[0]} rows")

        const = np.ptp(Z, axis=0) == 0 if n else np.zeros(Z.shape[1], bool)
        raw = Z
        Z = self._rank(Z, reset=True)
        self.mean_ = Z.mean(axis=0)
        std = Z.std(axis=0)
        if const.any() and n > 1:
            names = [self._num_features[j] for j in np.flatnonzero(const)]
            raise DataError(f"CustomerSegmenter: features {names} are constant (one value in all "
                            f"{n} rows) and cannot separate segments; drop them from features=")
        if C is not None and n > 1:
            flat = [c for j, c in enumerate(self.categorical_features_) if (C[:, j] == C[0, j]).all()]
            if flat:
                raise DataError(f"CustomerSegmenter: categorical features {flat} are constant (one "
                                f"value in all {n} rows) and cannot separate segments; drop them")
        self.scale_ = np.where(const, 1.0, std)
        Z = (Z - self.mean_) / self.scale_
        self._cat_count = 0 if C is None else C.shape[1]

        rng = check_random_state(self.random_state)
        if self.n_clusters == "auto":
            m = min(n, sample)
            idx = np.sort(rng.choice(n, m, replace=False)) if m < n else np.arange(n)
            Zs, Cs = Z[idx], (None if C is None else C[idx])
            kmax = min(k_range[1], m - 1)
            if kmax < k_range[0]:
                raise DataError(f"CustomerSegmenter: sample_size={m} rows leave no k of "
                                f"k_range={k_range} to score (silhouette needs more rows than "
                                f"k); raise sample_size above {k_range[0]}")
            scores, useful = {}, {}
            lo, hi = segment_config()["segmenter"]["min_share"], segment_config()["segmenter"]["max_share"]
            for k in range(k_range[0], kmax + 1):
                model = self._fit_one(k, Zs, Cs, n_init, rng.randint(_SEED_MAX))
                labels = np.asarray(model.labels_)
                if np.unique(labels).size < 2:
                    scores[k] = np.nan
                else:
                    scores[k] = self._silhouette(Zs, Cs, labels, getattr(model, "gamma", 0.0))
                shares = np.bincount(labels, minlength=k) / labels.size
                useful[k] = bool(shares.max() <= hi and shares.min() >= lo)
            self.k_scores_ = pd.Series(scores, name="silhouette", dtype="float64")
            self.k_scores_.index.name = "k"
            if self.k_scores_.isna().all():
                raise DataError("CustomerSegmenter: every candidate k collapsed to a single "
                                "segment on the sample; the features show no cluster structure")
            # a marketer cannot use a 52% "segment" or a 2% one: among the k whose segments
            # have useful sizes on the sample, the best silhouette; else the best overall
            ok = self.k_scores_[[useful[k] for k in self.k_scores_.index]].dropna()
            k = int(ok.idxmax()) if len(ok) else int(self.k_scores_.idxmax())
        else:
            self.k_scores_ = None
            k = int(self.n_clusters)

        self.model_ = self._fit_one(k, Z, C, n_init, rng.randint(_SEED_MAX))
        self.labels_ = np.asarray(self.model_.labels_, dtype=np.intp)
        self.n_clusters_ = k
        found = np.unique(self.labels_).size
        if found < k:
            raise DataError(f"CustomerSegmenter: only {found} of n_clusters={k} segments could be "
                            "formed: the data has fewer distinct customers (feature rows) than "
                            "segments; lower n_clusters")
        if C is None:
            self.cluster_centers_ = self.model_.cluster_centers_
        self._train_stats = self._stats(Z, C, self.labels_)
        self._train_stats["medians"] = self._medians(raw, self.labels_)
        # A star_points column that is not a feature must not stop the segmentation: its
        # problem (e.g. missing values) is reported when profile() needs it.
        try:
            self._train_value, self._train_value_error = self._value_sums(X, None, self.labels_), None
        except DataError as exc:
            self._train_value, self._train_value_error = None, str(exc)
        return self

    def predict(self, X):
        """Segment of each row of ``X`` (same columns as in fit).

        Returns
        -------
        ndarray of int
        """
        check_is_fitted(self, "labels_")
        Z, C, _ = self._scaled(X)
        return self._predict_scaled(Z, C)

    def _scaled(self, X, raw=False):
        Z, C, index = self._prepare(X, reset=False)
        scaled = (self._rank(Z, reset=False) - self.mean_) / self.scale_
        return (scaled, C, index, Z) if raw else (scaled, C, index)

    def _predict_scaled(self, Z, C):
        if C is None:
            return self.model_.predict(Z).astype(np.intp)
        return np.asarray(self.model_.predict(self._mixed(Z, C), categorical=self._cat_idx(Z)),
                          dtype=np.intp)

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    # ------------------------------------------------------------------ profiles
    def _medians(self, raw, labels):
        """(per-segment medians, medians of all rows) of the untransformed numeric features.

        Names are checked against these: a segment is "high balance" only if its median
        balance is above everyone's (under "log1p" the values are log1p amounts, which
        orders them the same way).
        """
        k = self.n_clusters_
        if not raw.shape[1] or not raw.shape[0]:
            return np.full((k, raw.shape[1]), np.nan), np.full(raw.shape[1], np.nan)
        seg = pd.DataFrame(raw).groupby(labels).median().reindex(range(k)).to_numpy(dtype=float)
        return seg, np.median(raw, axis=0)

    def _stats(self, Z, C, labels):
        k = self.n_clusters_
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.column_stack([np.bincount(labels, Z[:, j], k) for j in range(Z.shape[1])]) \
            if Z.shape[1] else np.zeros((k, 0))
        sumsq = np.column_stack([np.bincount(labels, Z[:, j] ** 2, k) for j in range(Z.shape[1])]) \
            if Z.shape[1] else np.zeros((k, 0))
        names = list(self._num_features)
        if C is not None:
            cols = []
            for j, c in enumerate(self.categorical_features_):
                levels, codes = np.unique(C[:, j], return_inverse=True)
                for li, lev in enumerate(levels):
                    hit = (codes == li).astype(np.float64)
                    cols.append(np.bincount(labels, hit, k))
                    names.append((c, lev))
            # a 0/1 indicator: sum of squares equals the sum
            csum = np.column_stack(cols)
            sums = np.hstack([sums, csum])
            sumsq = np.hstack([sumsq, csum])
        return {"counts": counts, "sums": sums, "sumsq": sumsq, "names": names}

    def _value_sums(self, X, value, labels):
        k = self.n_clusters_
        if value is None:
            col = segment_config()["segmenter"]["value_column"]
            if isinstance(X, pd.DataFrame) and col in X.columns:
                value = col
            else:
                return None
        what = f"column {value!r}" if isinstance(value, str) else "value"
        if isinstance(value, str):
            if not isinstance(X, pd.DataFrame) or value not in X.columns:
                raise DataError(f"profile: value={value!r} names a column, so pass the table with "
                                "that column as X (or pass the values as a Series)")
            v = X[value]
        else:
            v = value
        if isinstance(v, pd.Series):
            if isinstance(X, pd.DataFrame) and len(v) == len(X) and not v.index.equals(X.index):
                raise DataError("profile: the value Series' index does not match the table's "
                                "index; align it first")
            arr = v.to_numpy(dtype="float64", na_value=np.nan)
        else:
            arr = np.asarray(v, dtype="float64")
        if arr.ndim != 1 or arr.size != labels.size:
            raise DataError(f"profile: value has {arr.size} entries but the segmented table has "
                            f"{labels.size} rows")
        if np.isnan(arr).any():
            raise DataError(f"profile: {what} has {int(np.isnan(arr).sum())} missing entries; "
                            "star points must be known for every customer (or pass value=)")
        return np.bincount(labels, arr, k)

    def profile(self, X=None, *, value=None, lang="en"):
        """Per segment: name, size, share of customers, share of value, distinguishing features.

        Parameters
        ----------
        X : pandas.DataFrame, optional
            Profile these customers (segmented with :meth:`predict`). Default: the
            training rows.
        value : str, Series or array, optional
            Star points per customer, for ``value_share``: a column of ``X`` or values
            aligned with its rows (with ``X=None``, with the training rows), for example
            ``bankml.stars.StarScorer().star_points(df)``. Default: the ``star_points``
            column (``segmenter.value_column``) of the table when it has one, else
            ``value_share`` is NaN.
        lang : {"en", "zh"}
            Language of ``name`` and ``distinguishing``; with "zh" the headings too
            (``客群名称``, ``客户数``, ... and ``标准化均值差：<feature label>``), for a
            table a person reads; "en" keeps the column keys below, for code.

        Returns
        -------
        pandas.DataFrame
            Index ``segment``. Columns ``name``, ``size``, ``share``, ``value_share``,
            ``distinguishing`` (features with |SMD| >= ``naming.min_smd``, strongest first)
            and one ``smd_<feature>`` column per feature (k-prototypes: per
            ``<column>=<level>``): the standardised mean difference of the segment against
            all other customers, on the scale the clustering sees (log1p for balances).
        """
        out, names = self._profile(X, value, lang)
        if lang != "zh":
            return out
        from ..labels import term

        heads = {c: term(f"segment_{c}", lang) for c in
                 ("name", "size", "share", "value_share", "distinguishing")}
        smd_cols = [c for c in out.columns if c.startswith("smd_")]
        heads.update({c: term("segment_smd", lang).format(feature=self._feature_text(nm, lang))
                      for c, nm in zip(smd_cols, names)})
        out = out.rename(columns=heads)
        out.index.name = term("segment_segment", lang)
        return out

    def _profile(self, X, value, lang):
        check_is_fitted(self, "labels_")
        check_lang(lang)
        if X is None:
            stats, labels = self._train_stats, self.labels_
            if value is None and getattr(self, "_train_value_error", None):
                raise DataError(self._train_value_error)
            vsum = self._train_value if value is None else self._value_sums(None, value, labels)
        else:
            Z, C, _, raw = self._scaled(X, raw=True)
            labels = self._predict_scaled(Z, C)
            stats = self._stats(Z, C, labels)
            stats["medians"] = self._medians(raw, labels)
            vsum = self._value_sums(X, value, labels)
        counts, sums, sumsq = stats["counts"], stats["sums"], stats["sumsq"]
        n = counts.sum()
        rest = n - counts
        with np.errstate(divide="ignore", invalid="ignore"):
            m_in = sums / counts[:, None]
            v_in = sumsq / counts[:, None] - m_in ** 2
            tot, totsq = sums.sum(axis=0), sumsq.sum(axis=0)
            m_out = (tot - sums) / rest[:, None]
            v_out = (totsq - sumsq) / rest[:, None] - m_out ** 2
            smd = _smd(m_in, v_in, m_out, v_out)
        smd[(counts == 0) | (rest == 0)] = np.nan
        names = stats["names"]
        keys = [nm if isinstance(nm, str) else f"{nm[0]}={nm[1]}" for nm in names]
        frame = pd.DataFrame(smd, columns=[f"smd_{k}" for k in keys])
        cfg = segment_config()["naming"]
        seg_names, distinct = [], []
        seg_med, all_med = stats["medians"]
        share = counts / n if n else np.full(self.n_clusters_, np.nan)
        for i in range(self.n_clusters_):
            seg_names.append(self._name(smd[i], names, cfg, lang, seg_med[i], all_med, share[i]))
            distinct.append(self._distinguishing(smd[i], names, cfg, lang))
        seen = {}
        for i, nm in enumerate(seg_names):
            seen[nm] = seen.get(nm, 0) + 1
            if seen[nm] > 1:
                seg_names[i] = f"{nm} ({seen[nm]})"
        with np.errstate(divide="ignore", invalid="ignore"):
            vshare = vsum / vsum.sum() if vsum is not None else np.full(self.n_clusters_, np.nan)
        out = pd.DataFrame({"name": seg_names, "size": counts.astype(np.int64),
                            "share": counts / n if n else np.nan, "value_share": vshare,
                            "distinguishing": distinct})
        out = pd.concat([out, frame], axis=1)
        out.index.name = "segment"
        return out, names

    @staticmethod
    def _feature_text(name, lang):
        if isinstance(name, str):
            return column_label(name, lang)
        return f"{column_label(name[0], lang)}={value_label(name[0], name[1], lang)}"

    @staticmethod
    def _order(row, cfg):
        """Feature positions with |SMD| >= min_smd, strongest first (NaN never qualifies)."""
        strength = np.abs(np.nan_to_num(row, nan=0.0))
        return [j for j in np.argsort(-strength, kind="stable")
                if not np.isnan(row[j]) and strength[j] >= cfg["min_smd"]]

    def _distinguishing(self, row, names, cfg, lang):
        return "; ".join(f"{self._feature_text(names[j], lang)} {row[j]:+.2f}"
                         for j in self._order(row, cfg))

    def _name(self, row, names, cfg, lang, med, all_med, share):
        """The generated name: the strongest differences that the medians confirm.

        A term "high X" (or a "high" phrase such as "older") needs the segment's median of
        every feature named X to be at least everyone's median and one above it ("low X":
        the mirror), so a name never contradicts the profile; a segment of more than
        ``naming.max_high_share`` of customers is never called "high" anything.
        """
        terms, used = [], set()
        n_num = len(med)
        nouns = cfg.get("nouns") or {}
        for j in self._order(row, cfg):
            nm, high = names[j], row[j] > 0
            if not isinstance(nm, tuple):
                if high and not share <= cfg["max_high_share"]:
                    continue
                # every numeric feature said by the same word ("balance": short- and long-term)
                same = [i for i in range(n_num) if names[i] == nm
                        or (nm in nouns and nouns.get(names[i]) == nouns[nm])]
                diff = np.sign(med[same] - all_med[same])
                if high and not (np.all(diff >= 0) and np.any(diff > 0)):
                    continue
                if not high and not (np.all(diff <= 0) and np.any(diff < 0)):
                    continue
            if isinstance(nm, tuple):
                if not high:  # "mostly not female" names nothing useful
                    continue
                key = nm
                text = cfg["mostly"][lang].format(value=value_label(nm[0], nm[1], lang))
            elif nm in (cfg.get("phrases") or {}):
                key = ("phrase", nm)
                text = cfg["phrases"][nm]["high" if high else "low"][lang]
            else:
                noun = (cfg.get("nouns") or {}).get(nm)
                key = ("noun", noun["en"] if noun else nm)
                text = cfg["level_format"][lang].format(
                    level=cfg["high" if high else "low"][lang],
                    noun=noun[lang] if noun else column_label(nm, lang))
            if key in used:
                continue
            used.add(key)
            terms.append(text)
            if len(terms) == cfg["max_terms"]:
                break
        return cfg["separator"][lang].join(terms) if terms else cfg["typical"][lang]

    # ------------------------------------------------------------------ plots
    def plot_profiles(self, X=None, *, lang="en", ax=None, clip=3.0):
        """Heatmap of the standardised mean differences (segments x features).

        Rows are the segments (name and share of customers), columns the features
        (labels in ``lang``); colours are clipped at +/- ``clip``. Chinese labels use the
        font installed with bankml (:mod:`bankml._fonts`), else the first installed font of
        ``configs/segment.yaml: plot.cjk_fonts``.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .._fonts import font_context

        prof, names = self._profile(X, None, lang)
        smd_cols = [c for c in prof.columns if c.startswith("smd_")]
        mat = prof[smd_cols].to_numpy(dtype=float)
        plot_cfg = segment_config()["plot"]
        # the bundled CJK font first, then the configured system fonts
        with font_context(lang, extra=plot_cfg["cjk_fonts"]):
            if ax is None:
                import matplotlib.pyplot as plt

                fig, ax = plt.subplots(figsize=(5.0 + 0.5 * len(smd_cols), 2.0 + 0.5 * len(prof)),
                                       layout="constrained")
            fig = ax.figure
            im = ax.imshow(np.clip(mat, -clip, clip), cmap="RdBu_r", vmin=-clip, vmax=clip,
                           aspect="auto")
            ax.set_xticks(range(len(smd_cols)), [self._feature_text(nm, lang) for nm in names],
                          rotation=60, ha="right")
            ax.set_yticks(range(len(prof)), [f"{i}: {nm} ({s:.0%})" for i, (nm, s)
                                             in enumerate(zip(prof["name"], prof["share"]))])
            if mat.size <= plot_cfg["annotate_max_cells"]:
                for (i, j), v in np.ndenumerate(mat):
                    if np.isfinite(v):
                        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
                                color="white" if abs(v) > clip * 0.6 else "black")
            fig.colorbar(im, ax=ax, label="SMD")
        return fig

    def plot_k_scores(self, *, ax=None):
        """Silhouette per candidate k, the chosen k marked (needs ``n_clusters="auto"``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        check_is_fitted(self, "labels_")
        if self.k_scores_ is None:
            raise DataError("plot_k_scores: k scores exist only after fitting with "
                            "n_clusters='auto'")
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(5, 3.5))
        ks = self.k_scores_
        ax.plot(ks.index, ks.to_numpy(), marker="o")
        ax.axvline(self.n_clusters_, linestyle="--", color="grey")
        ax.set_xlabel("k")
        ax.set_ylabel("silhouette")
        ax.set_title(f"k = {self.n_clusters_}")
        return ax.figure
