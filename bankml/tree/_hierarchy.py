"""Concept-hierarchy generalisation: numeric columns to ordered, labelled bands.

The paper generalises age to <=30 / 30-55 / >55 and deposit to <=500 / 500-2500 / >2500
before growing the tree; this transformer does the same inside a scikit-learn Pipeline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ..errors import DataError, check_is_fitted

__all__ = ["ConceptHierarchyBinner", "band_labels"]


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.3g}"


def band_labels(cuts) -> list[str]:
    """Labels of the bands that ``cuts`` make: ``<=c1``, ``c1-c2``, ..., ``>ck``.

    Bands are right-closed, as in the paper: age 30 is in ``<=30``, age 55 in ``30-55``.

    Examples
    --------
    >>> band_labels([30, 55])
    ['<=30', '30-55', '>55']
    """
    cuts = list(cuts)
    labels = [f"<={_fmt(cuts[0])}"]
    labels += [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(cuts[:-1], cuts[1:])]
    labels.append(f">{_fmt(cuts[-1])}")
    return labels


class ConceptHierarchyBinner(TransformerMixin, BaseEstimator):
    """Generalise numeric columns into ordered, labelled bands by configured cut points.

    Parameters
    ----------
    bands : dict of str -> list of float
        Column name to increasing cut points. Bands are right-closed: with cuts
        ``[30, 55]`` the bands are ``<=30``, ``30-55`` (30 < x <= 55) and ``>55``.
    labels : dict of str -> list of str, optional
        Custom band labels per column (one more label than cuts). Default
        :func:`band_labels`.
    keep_original : bool, default False
        Keep the numeric column beside its band (named ``<col>_band``); by default the
        band replaces the column (same name), so a Pipeline sees the generalised value.

    Attributes
    ----------
    cuts_ : dict of str -> ndarray of float
        The cut points per binned column, exactly as used by :meth:`transform`.
    band_labels_ : dict of str -> list of str
        The band labels per binned column, lowest band first.
    feature_names_in_ : ndarray of str
    n_features_in_ : int

    Notes
    -----
    Columns not named in ``bands`` pass through unchanged. Missing values stay missing
    (the tree sends them down its documented majority branch). Output bands are ordered
    pandas categoricals, so the information-gain tree splits them multiway.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [25, 30, 31, 60], "deposit": [100.0, 600.0, 3000.0, 2500.0]})
    >>> binner = ConceptHierarchyBinner({"age": [30, 55], "deposit": [500, 2500]})
    >>> binner.fit_transform(X)["age"].tolist()
    ['<=30', '<=30', '30-55', '>55']
    >>> binner.fit_transform(X)["deposit"].tolist()
    ['<=500', '500-2500', '>2500', '500-2500']
    """

    def __init__(self, bands=None, labels=None, keep_original=False):
        self.bands = bands
        self.labels = labels
        self.keep_original = keep_original

    def fit(self, X, y=None):
        """Check the configured columns, cut points and labels against ``X``; returns self."""
        if not isinstance(X, pd.DataFrame):
            raise DataError("ConceptHierarchyBinner needs a pandas DataFrame with named columns, "
                            f"got {type(X).__name__}")
        if not self.bands:
            raise DataError("ConceptHierarchyBinner: bands must map at least one column to cut points")
        missing = [c for c in self.bands if c not in X.columns]
        if missing:
            raise DataError(f"ConceptHierarchyBinner: columns {missing} are not in the data "
                            f"(columns: {list(X.columns)})")
        self._cuts = {}
        self._labels = {}
        for col, cuts in self.bands.items():
            cuts = np.asarray(cuts, dtype=float)
            if cuts.ndim != 1 or cuts.size == 0 or not np.all(np.isfinite(cuts)) or np.any(np.diff(cuts) <= 0):
                raise DataError(f"ConceptHierarchyBinner: cut points for {col!r} must be finite and "
                                f"strictly increasing, got {list(self.bands[col])}")
            if not pd.api.types.is_numeric_dtype(X[col].dtype):
                raise DataError(f"ConceptHierarchyBinner: column {col!r} must be numeric, "
                                f"got dtype {X[col].dtype}")
            labels = (self.labels or {}).get(col) or band_labels(cuts)
            if len(labels) != cuts.size + 1 or len(set(labels)) != len(labels):
                raise DataError(f"ConceptHierarchyBinner: {col!r} needs {cuts.size + 1} distinct "
                                f"labels for {cuts.size} cut points, got {labels}")
            self._cuts[col] = cuts
            self._labels[col] = list(labels)
        if self.keep_original:
            # the band would silently overwrite an input column of that name
            clash = [self.band_column(c) for c in self._cuts if self.band_column(c) in X.columns]
            if clash:
                raise DataError(f"ConceptHierarchyBinner: keep_original=True writes the bands to "
                                f"{clash}, which are already columns of the data; rename them")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def cuts_(self) -> dict:
        check_is_fitted(self, "feature_names_in_")
        return {c: v.copy() for c, v in self._cuts.items()}

    @property
    def band_labels_(self) -> dict:
        check_is_fitted(self, "feature_names_in_")
        return {c: list(v) for c, v in self._labels.items()}

    def band_column(self, column) -> str:
        """Name of the output column holding ``column``'s band (itself unless keep_original)."""
        return f"{column}_band" if self.keep_original else column

    def band_intervals(self, column) -> list:
        """The bands of ``column`` as ``(label, low, high)``: the band holds ``low < x <= high``.

        ``low`` is ``-inf`` for the first band and ``high`` ``+inf`` for the last; a missing
        value gets no band (it stays missing). This is the convention :meth:`transform`
        applies, so rules on the raw column can be written from it exactly.

        Examples
        --------
        >>> import pandas as pd
        >>> b = ConceptHierarchyBinner({"age": [30, 55]}).fit(pd.DataFrame({"age": [20, 60]}))
        >>> b.band_intervals("age")
        [('<=30', -inf, 30.0), ('30-55', 30.0, 55.0), ('>55', 55.0, inf)]
        """
        check_is_fitted(self, "feature_names_in_")
        if column not in self._cuts:
            raise KeyError(f"ConceptHierarchyBinner does not band column {column!r} "
                           f"(it bands {list(self._cuts)})")
        edges = [-np.inf, *(float(c) for c in self._cuts[column]), np.inf]
        return [(lab, edges[i], edges[i + 1]) for i, lab in enumerate(self._labels[column])]

    def transform(self, X):
        """A copy of ``X`` with each configured column replaced (or joined) by its band."""
        check_is_fitted(self, "feature_names_in_")
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"ConceptHierarchyBinner needs a DataFrame, got {type(X).__name__}")
        missing = [c for c in self._cuts if c not in X.columns]
        if missing:
            raise DataError(f"ConceptHierarchyBinner: columns {missing} are not in the data")
        out = X.copy()
        for col, cuts in self._cuts.items():
            if not pd.api.types.is_numeric_dtype(X[col].dtype):
                raise DataError(f"ConceptHierarchyBinner: column {col!r} must be numeric, "
                                f"got dtype {X[col].dtype}")
            values = X[col].to_numpy(dtype="float64", na_value=np.nan)
            codes = np.searchsorted(cuts, values, side="left")  # right-closed bands
            codes = np.where(np.isnan(values), -1, codes)
            band = pd.Categorical.from_codes(codes, categories=self._labels[col], ordered=True)
            if self.keep_original:
                out[self.band_column(col)] = band
            else:
                out[col] = band
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "feature_names_in_")
        names = list(self.feature_names_in_)
        if self.keep_original:
            names += [self.band_column(c) for c in self._cuts]
        return np.asarray(names, dtype=object)
