"""Impurity criteria of the ID3 / C4.5 family: entropy, information gain and gain ratio, in bits.

The public functions work on one attribute at a time; the tree builder uses the vectorised
count-based helpers (``_xlogx``) on whole histograms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["entropy", "information_gain", "gain_ratio"]


def _xlogx(a):
    """``a * log2(a)`` elementwise, with ``0 log 0 = 0`` (and tiny negative residues as 0)."""
    a = np.asarray(a, dtype=np.float64)
    pos = a > 0
    return np.where(pos, a * np.log2(np.where(pos, a, 1.0)), 0.0)


def _entropy_counts(counts, axis=-1):
    """Entropy in bits of (weighted) class counts along ``axis``; 0 for an empty node."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = (_xlogx(total) - _xlogx(counts).sum(axis=axis)) / total
    return np.where(total > 0, np.maximum(h, 0.0), 0.0)


def _as_1d(name, a):
    if isinstance(a, (pd.Series, pd.Index)):
        a = a.to_numpy(dtype=object) if not pd.api.types.is_numeric_dtype(a.dtype) else a.to_numpy()
    a = np.asarray(a)
    if a.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


def _weights(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise DataError(f"sample_weight must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise DataError("sample_weight must be finite and non-negative")
    return w


def _codes(name, a):
    """Value codes in the tree's order (category order, else sorted), -1 for missing.

    The order matters only for ties of the missing-value majority rule, which must break
    the same way as in :class:`InfoGainTreeClassifier` (first value in this order).
    """
    if isinstance(a, pd.Series) and isinstance(a.dtype, pd.CategoricalDtype):
        return a.cat.codes.to_numpy().astype(np.int64)
    a = _as_1d(name, a)
    try:
        codes, _ = pd.factorize(a, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed types that do not sort (the tree falls back the same way)
        codes, _ = pd.factorize(a, sort=False, use_na_sentinel=True)
    return codes


def _class_codes(y):
    y = _as_1d("y", y)
    missing = pd.isna(y)
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise DataError(f"y has missing values (first rows {rows}); every row needs a class")
    return _codes("y", y)


def entropy(y, sample_weight=None):
    """Entropy of the class labels ``y`` in bits: ``I = -sum p_c log2 p_c``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (any hashable values; missing labels are an error).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights; class probabilities are weighted shares.

    Returns
    -------
    float

    Examples
    --------
    The paper's 100 customers, 16 of them wealth-management buyers:

    >>> from bankml.datasets import load_seed_example
    >>> df = load_seed_example()
    >>> round(entropy(df["wm_buyer"]), 5)
    0.63431
    """
    codes = _class_codes(y)
    w = _weights(sample_weight, codes.size)
    if codes.size == 0:
        return 0.0
    counts = np.bincount(codes, weights=w)
    return float(_entropy_counts(counts))


def _split_counts(x, y, sample_weight):
    ycodes = _class_codes(y)
    xcodes = _codes("x", x)
    if xcodes.size != ycodes.size:
        raise DataError(f"x and y must have the same length, got {xcodes.size} and {ycodes.size}")
    w = _weights(sample_weight, ycodes.size)
    n_classes = int(ycodes.max()) + 1 if ycodes.size else 1
    n_values = int(xcodes.max()) + 1 if (xcodes >= 0).any() else 1
    table = np.zeros((n_values, n_classes))
    known = xcodes >= 0
    np.add.at(table, (xcodes[known], ycodes[known]), w[known])
    if (~known).any():
        # the tree's documented majority rule: missing values go with the heaviest branch
        missing = np.bincount(ycodes[~known], weights=w[~known], minlength=n_classes)
        table[int(np.argmax(table.sum(axis=1)))] += missing
    return table


def information_gain(x, y, sample_weight=None):
    """Information gain in bits of splitting ``y`` multiway on the values of ``x`` (ID3).

    ``Gain(A) = I(y) - E(A)`` where ``E(A) = sum_v |S_v| / |S| * I(S_v)`` runs over the
    distinct values of ``x``, each its own branch. Missing values of ``x`` go with the
    branch of the most (weighted) rows, the same majority rule as
    :class:`InfoGainTreeClassifier`.

    Parameters
    ----------
    x : array-like of shape (n_samples,)
        The attribute (discrete values; band a numeric column first).
    y : array-like of shape (n_samples,)
        Class labels.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        Never negative.

    Examples
    --------
    On the paper's worked example deposit has the highest gain and becomes the root:

    >>> from bankml.datasets import load_seed_example
    >>> df = load_seed_example()
    >>> gains = {c: information_gain(df[c], df["wm_buyer"])
    ...          for c in ["age_band", "deposit_band", "education", "gender"]}
    >>> max(gains, key=gains.get)
    'deposit_band'
    >>> round(gains["deposit_band"], 5), round(gains["education"], 5)
    (0.01854, 0.01772)
    """
    table = _split_counts(x, y, sample_weight)
    total = table.sum()
    if total <= 0:
        return 0.0
    parent = _entropy_counts(table.sum(axis=0))
    children = (table.sum(axis=1) / total * _entropy_counts(table, axis=1)).sum()
    return float(max(parent - children, 0.0))


def gain_ratio(x, y, sample_weight=None):
    """C4.5 gain ratio: information gain divided by the split information of ``x``.

    ``SplitInfo(A) = -sum_v |S_v| / |S| log2(|S_v| / |S|)``; the ratio is 0 when ``x`` has
    a single value (no split). Missing values follow the same majority rule as
    :func:`information_gain`.

    Parameters
    ----------
    x, y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> from bankml.datasets import load_seed_example
    >>> df = load_seed_example()
    >>> round(gain_ratio(df["deposit_band"], df["wm_buyer"]), 5)
    0.01367
    >>> gain_ratio([1, 1, 2, 2], ["a", "a", "b", "b"])
    1.0
    """
    table = _split_counts(x, y, sample_weight)
    split_info = float(_entropy_counts(table.sum(axis=1)))
    if split_info <= 0:
        return 0.0
    return float(min(information_gain(x, y, sample_weight) / split_info, 1.0))
