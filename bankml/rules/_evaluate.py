"""Vectorised rule evaluation: which rule holds for each row, predictions, per-rule evidence.

Conditions become NumPy masks (one per distinct condition, shared between rules), no row loops.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..errors import DataError, SchemaError
from ._model import NUMERIC_OPS, RuleSet

__all__ = ["apply_rules", "predict", "evaluate", "with_evidence", "iter_rule_masks"]


def _as_frame(X, ruleset) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, dict):
        return pd.DataFrame(X)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"X must be a DataFrame or a 2-D array, got shape {arr.shape}")
    names = ruleset.meta.get("feature_names")
    if names is None or len(names) != arr.shape[1]:
        raise DataError("X is an array without column names and the rule set does not record "
                        f"{arr.shape[1]} feature names; pass a DataFrame")
    return pd.DataFrame(arr, columns=list(names))


def _is_text_dtype(s: pd.Series) -> bool:
    return (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
            or isinstance(s.dtype, pd.CategoricalDtype))


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
    if _is_text_dtype(s):
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


def _check_columns(ruleset: RuleSet, X: pd.DataFrame):
    missing = [f for f in ruleset.features if f not in X.columns]
    if missing:
        used = {f: [r.rule_id for r in ruleset.rules if f in r.features] for f in missing}
        detail = "; ".join(f"{f!r} (rules {ids[:5]}{'...' if len(ids) > 5 else ''})"
                           for f, ids in used.items())
        raise SchemaError(f"the data lacks column(s) the rules read: {detail}")


# Bytes of condition masks kept for reuse between rules that do not share a prefix.
_CACHE_BYTES = 64 * 2**20


def iter_rule_masks(ruleset: RuleSet, X):
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


def apply_rules(ruleset: RuleSet, X) -> np.ndarray:
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


def _prediction_array(ruleset: RuleSet) -> np.ndarray:
    preds = [r.prediction for r in ruleset.rules] + [ruleset.default]
    if ruleset.classes is not None and all(p in ruleset.classes for p in preds):
        return np.asarray(preds, dtype=np.asarray(ruleset.classes).dtype)
    if any(p is None for p in preds):
        return np.asarray(preds, dtype=object)
    return np.asarray(preds)


def predict(ruleset: RuleSet, X) -> np.ndarray:
    """Prediction of the first rule that holds per row, else the rule set's default."""
    idx = apply_rules(ruleset, X)
    return _prediction_array(ruleset)[idx]  # -1 picks the default appended last


def _check_y(y, n, ruleset=None):
    y = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y)
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"y must be 1-D with one label per row of X ({n}), got shape {y.shape}")
    missing = pd.isna(y)
    if missing.any():
        pos = np.flatnonzero(missing)
        raise DataError(f"y has {pos.size} missing label(s), first at row position(s) "
                        f"{pos[:5].tolist()}; a missing label would count as a wrong prediction")
    if ruleset is not None and n:
        known = [r.prediction for r in ruleset.rules] + [ruleset.default]
        known += list(ruleset.classes or ())
        seen = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(y)]
        if not any(v == k for v in seen[:50] for k in known if k is not None):
            # e.g. "1" against 1: every rule would look 0% confident
            raise DataError(f"y holds labels {sorted(seen, key=str)[:5]} but the rules predict "
                            f"{sorted({k for k in known if k is not None}, key=str)}; pass y with "
                            "the model's classes (same values and type)")
    return y


def evaluate(ruleset: RuleSet, X, y) -> pd.DataFrame:
    """Per-rule evidence on any labelled data (e.g. a hold-out month).

    Each rule is measured on its own (independent of order): ``support`` rows where all
    its conditions hold, ``n_correct`` of them with the predicted class, ``confidence`` =
    n_correct / support, ``lift`` = confidence / share of the predicted class in ``y``,
    ``coverage`` = support / rows. ``fired`` counts rows the rule actually decides (first
    rule that holds), which equals ``support`` for disjoint tree rules.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    >>> X = pd.DataFrame({"age": [60, 70, 20, 30]})
    >>> evaluate(rs, X, [1, 0, 0, 1])[["support", "confidence", "lift", "coverage"]].iloc[0].tolist()
    [2.0, 0.5, 1.0, 0.5]
    """
    X, masks = iter_rule_masks(ruleset, X)
    n = len(X)
    y = _check_y(y, n, ruleset)
    first = np.full(n, -1, dtype=np.int64)
    rows, by_class = [], {}
    for i, (rule, m) in enumerate(zip(ruleset.rules, masks)):
        fired = m & (first < 0)
        first[fired] = i
        support = int(m.sum())
        if rule.prediction not in by_class:
            by_class[rule.prediction] = y == rule.prediction
        is_pred = by_class[rule.prediction]
        correct = int((m & is_pred).sum())
        base = is_pred.mean() if n else np.nan
        conf = correct / support if support else np.nan
        rows.append({"rule_id": rule.rule_id, "prediction": rule.prediction,
                     "support": support, "n_correct": correct, "confidence": conf,
                     "lift": conf / base if base else np.nan,
                     "coverage": support / n if n else np.nan,
                     "fired": int(fired.sum())})
    cols = ["rule_id", "prediction", "support", "n_correct", "confidence", "lift",
            "coverage", "fired"]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["n_rows"] = n
    return out


def with_evidence(ruleset: RuleSet, X, y) -> RuleSet:
    """A copy of ``ruleset`` whose rules carry the metrics measured on ``(X, y)``."""
    import dataclasses
    ev = evaluate(ruleset, X, y)
    rules = []
    for rule, row in zip(ruleset.rules, ev.itertuples(index=False)):
        def _f(v):
            return None if pd.isna(v) else float(v)
        rules.append(dataclasses.replace(rule, support=int(row.support),
                                         n_correct=float(row.n_correct),
                                         confidence=_f(row.confidence), lift=_f(row.lift),
                                         coverage=_f(row.coverage)))
    # the counts are now plain rows of (X, y): no class_weight / sample_weight left in them
    meta = dict(ruleset.meta, evidence="measured on given data", n_samples=ev.attrs["n_rows"],
                weighted_evidence=False)
    return RuleSet(rules, default=ruleset.default, classes=ruleset.classes,
                   label_column=ruleset.label_column, meta=meta)
