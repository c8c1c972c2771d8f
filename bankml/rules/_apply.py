"""The evaluation engine: which rule holds for each row, and the resulting predictions.

Conditions become NumPy masks (one per distinct condition, shared between rules), no row
loops. It reads a rule set through its fields only and imports no sibling but ``_ops``, so
``RuleSet.predict`` (in ``_model``) can call it without an import cycle.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._dtypes import is_categorical_dtype
from ..errors import DataError, SchemaError
from ._ops import NUMERIC_OPS

__all__ = ["apply_rules", "predict", "iter_rule_masks", "condition_mask"]


def _as_frame(X, ruleset) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, dict):
        return pd.DataFrame(X)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"X must be a DataFrame or a 2-D array, got shape {arr.shape}")
    names = ruleset.feature_names
    if names is None or len(names) != arr.shape[1]:
        raise DataError("X is an array without column names and the rule set does not record "
                        f"{arr.shape[1]} feature names; pass a DataFrame")
    return pd.DataFrame(arr, columns=list(names))


class _Columns:
    """Per-column views computed once per call: float values or factorised codes."""

    def __init__(self, X: pd.DataFrame):
        self.X = X
        self._num = {}
        self._cat = {}

    def series(self, name):
        return self.X[name]

    def numeric(self, name, cond):
        if name not in self._num:
            s = self.X[name]
            if isinstance(s.dtype, pd.CategoricalDtype):
                cats = s.cat.categories
                s = s.astype(cats.dtype if pd.api.types.is_numeric_dtype(cats.dtype) else object)
            if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
                vals = s.to_numpy(dtype=float, na_value=np.nan)
            else:
                # Text never compares as a number: '9' > 10 differs between pandas and SQL.
                obj = s.astype(object)
                present = obj.notna().to_numpy()
                kind = pd.api.types.infer_dtype(obj, skipna=True)
                if kind not in ("integer", "floating", "mixed-integer-float", "boolean",
                                "decimal", "empty"):
                    vals = obj.to_numpy()
                    bad = present & np.array([not isinstance(v, numbers.Real) or isinstance(v, str)
                                              for v in vals], dtype=bool)  # error path only
                    raise DataError(
                        f"column {name!r}: rule condition '{cond}' compares with a number, but "
                        f"{int(bad.sum())} row(s) hold non-numeric values "
                        f"(e.g. {vals[bad][0]!r}); expected a numeric column")
                vals = obj.where(present, np.nan).to_numpy(dtype=float)
            self._num[name] = vals
        return self._num[name]

    def factorized(self, name):
        if name not in self._cat:
            s = self.X[name]
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            uniques = np.asarray(uniques, dtype=object)
            self._cat[name] = (np.asarray(codes), uniques)
        return self._cat[name]


def _kind(v):
    if isinstance(v, str):
        return "text"
    if isinstance(v, (bool, np.bool_, numbers.Number)):
        return "number"
    return type(v).__name__


def _set_mask(cols: _Columns, cond) -> np.ndarray:
    name = cond.feature
    values = cond.values
    s = cols.series(name)
    if is_categorical_dtype(s.dtype):
        codes, uniques = cols.factorized(name)
        if values:
            col_kinds = {_kind(u) for u in uniques}
            val_kinds = {_kind(v) for v in values}
            if col_kinds and not (val_kinds & col_kinds):
                raise DataError(
                    f"column {name!r}: rule condition '{cond}' compares with "
                    f"{'/'.join(sorted(val_kinds))} values, but the column holds "
                    f"{'/'.join(sorted(col_kinds))} values; expected the same type")
        member = np.fromiter((u in values for u in uniques), dtype=bool, count=len(uniques))
        present = codes >= 0
        hit = np.append(member, False)[codes]
    else:
        bad = [v for v in values if _kind(v) != "number"]
        if bad:
            raise DataError(f"column {name!r}: rule condition '{cond}' compares with text "
                            f"values {bad[:3]!r}, but the column is numeric ({s.dtype})")
        if pd.api.types.is_signed_integer_dtype(s.dtype):
            # Compare integers as integers: through float64, 2**53 + 1 would equal 2**53,
            # while SQL and the generated Python compare them exactly.
            present = s.notna().to_numpy()
            ints = s.to_numpy(dtype=np.int64, na_value=0)
            wanted = [int(v) for v in values if float(v).is_integer()
                      and -2**63 <= int(v) < 2**63]
            hit = present & np.isin(ints, np.array(sorted(wanted), dtype=np.int64))
        else:
            vals = cols.numeric(name, cond)
            present = ~np.isnan(vals)
            hit = np.isin(vals, np.array(sorted(float(v) for v in values), dtype=float))
    if cond.is_positive_set:
        mask = hit
    else:
        mask = present & ~hit
    if cond.includes_missing:
        mask = mask | ~present
    return mask


def _numeric_mask(cols: _Columns, cond) -> np.ndarray:
    vals = cols.numeric(cond.feature, cond)
    t = cond.value
    with np.errstate(invalid="ignore"):
        if cond.op == "<=":
            mask = vals <= t
        elif cond.op == "<":
            mask = vals < t
        elif cond.op == ">":
            mask = vals > t
        else:
            mask = vals >= t
    if cond.includes_missing:
        mask = mask | np.isnan(vals)
    return mask


def condition_mask(cols: _Columns, cond) -> np.ndarray:
    if cond.op in NUMERIC_OPS:
        return _numeric_mask(cols, cond)
    return _set_mask(cols, cond)


def _check_columns(ruleset, X: pd.DataFrame):
    missing = [f for f in ruleset.features if f not in X.columns]
    if missing:
        used = {f: [r.rule_id for r in ruleset.rules if f in r.features] for f in missing}
        detail = "; ".join(f"{f!r} (rules {ids[:5]}{'...' if len(ids) > 5 else ''})"
                           for f, ids in used.items())
        raise SchemaError(f"the data lacks column(s) the rules read: {detail}")


# Bytes of condition masks kept for reuse between rules that do not share a prefix.
_CACHE_BYTES = 64 * 2**20


def iter_rule_masks(ruleset, X):
    """``(X, generator)``: the generator yields one boolean mask per rule (all its
    conditions hold), independent of rule order.

    Tree rules come in depth-first order, so consecutive rules share a path prefix: the
    masks of the shared prefix are kept on a stack and only the new conditions are
    evaluated. Memory stays at (path depth + a small cache) masks, not one per rule.
    """
    X = _as_frame(X, ruleset)
    _check_columns(ruleset, X)
    cols = _Columns(X)
    n = len(X)
    max_cached = max(8, _CACHE_BYTES // max(n, 1))

    def gen():
        cache = {}
        prefix, stack = [], [np.ones(n, dtype=bool)]
        for rule in ruleset.rules:
            conds = rule.conditions
            k = 0
            while k < len(prefix) and k < len(conds) and prefix[k] == conds[k]:
                k += 1
            del prefix[k:]
            del stack[k + 1:]
            for c in conds[k:]:
                m = cache.get(c)
                if m is None:
                    m = condition_mask(cols, c)
                    if len(cache) < max_cached:
                        cache[c] = m
                stack.append(stack[-1] & m)
                prefix.append(c)
            yield stack[-1]

    return X, gen()


def apply_rules(ruleset, X) -> np.ndarray:
    """Position of the first rule holding for each row (-1 when none holds).

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1), Rule([], 0)])
    >>> apply_rules(rs, pd.DataFrame({"age": [60.0, 20.0, None]})).tolist()
    [0, 1, 1]
    """
    X, masks = iter_rule_masks(ruleset, X)
    out = np.full(len(X), -1, dtype=np.int64)
    for i, m in enumerate(masks):
        out[m & (out < 0)] = i
    return out


def _prediction_array(ruleset) -> np.ndarray:
    preds = [r.prediction for r in ruleset.rules] + [ruleset.default]
    kinds = {type(p) for p in preds}
    # One NumPy dtype only when every prediction has the same Python type: np.asarray would
    # otherwise turn 1 and "1" (or 1 and True) into one value silently.
    if len(kinds) == 1 and kinds <= {int, float, str, bool}:
        classes = ruleset.classes
        if classes is not None and {type(c) for c in classes} == kinds and all(
                p in classes for p in preds):
            return np.asarray(preds, dtype=np.asarray(classes).dtype)
        return np.asarray(preds)
    return np.asarray(preds, dtype=object)


def predict(ruleset, X) -> np.ndarray:
    """Prediction of the first rule that holds per row, else the rule set's default."""
    idx = apply_rules(ruleset, X)
    return _prediction_array(ruleset)[idx]  # -1 picks the default appended last
