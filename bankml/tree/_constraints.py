"""Checking ``monotonic_cst`` of the information-gain tree against the data it is fitted on.

The parameter's type is checked by ``_parameter_constraints``; what it may say depends on
X and y (feature names, which features are categorical, the number of classes), so that
part is checked here, in fit, with errors naming the parameter and the feature.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import InvalidParameterError


def _bad(msg):
    return InvalidParameterError(f"The 'monotonic_cst' parameter of InfoGainTreeClassifier {msg}")


def resolve_monotonic(spec, cols, names_given, is_cat, n_classes):
    """``monotonic_cst`` as an int8 array of -1/0/1 per feature, or None when unconstrained.

    Parameters
    ----------
    spec : None, array-like or dict
        The estimator's ``monotonic_cst``.
    cols : bankml.tree._encode._Columns
    names_given : bool
        Whether X had column names (a dict needs them).
    is_cat : ndarray of bool
        Which features split multiway (they have no order to constrain).
    n_classes : int

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.tree._encode import _Columns
    >>> X = pd.DataFrame({"assets": [1.0, 2.0], "age": [30, 40]})
    >>> resolve_monotonic({"assets": 1}, _Columns(X), True, np.array([False, False]), 2).tolist()
    [1, 0]
    """
    if spec is None:
        return None
    n = cols.n_cols
    if isinstance(spec, dict):
        if not names_given:
            raise _bad("can be a dict only when X is a DataFrame with column names; "
                       "pass a list of -1/0/1 per feature instead")
        unknown = [k for k in spec if str(k) not in cols.names]
        if unknown:
            raise _bad(f"names features not in X: {unknown[:5]} (columns: {cols.names})")
        cst = np.zeros(n, dtype=np.int64)
        values = list(spec.values())
        where = [cols.names.index(str(k)) for k in spec]
    else:
        values = list(np.asarray(spec, dtype=object).ravel()) if not isinstance(spec, (list, tuple)) else list(spec)
        if len(values) != n:
            raise _bad(f"must have one entry per feature: X has {n} features, got {len(values)} entries")
        cst = np.zeros(n, dtype=np.int64)
        where = list(range(n))
    for j, v in zip(where, values):
        ok = isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_)) and v in (-1, 0, 1)
        if not ok:
            raise _bad(f"must hold -1, 0 or 1 per feature; feature {cols.names[j]!r} has {v!r}")
        cst[j] = int(v)
    if not cst.any():
        return None
    cat = np.flatnonzero((cst != 0) & is_cat)
    if cat.size:
        raise _bad(f"constrains categorical feature(s) {[cols.names[j] for j in cat]}, which split "
                   "multiway (one branch per value) and so cannot be kept in order; constrain a numeric "
                   "feature, or give this one as ordered numbers")
    if n_classes > 2:
        raise _bad(f"supports binary targets only (monotone in the probability of classes_[1]); "
                   f"y has {n_classes} classes")
    return cst
