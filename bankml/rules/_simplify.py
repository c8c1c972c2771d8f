"""Rule simplification: a lossless pass (never changes a prediction) and a lossy C4.5 pass.

`simplify` rewrites each rule's conditions per column; `generalize` drops conditions and
reports every change it made.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import pandas as pd

from ..errors import DataError
from ._apply import _as_frame, _check_columns, _Columns, condition_mask
from ._evaluate import _check_y, with_evidence
from ._model import NUMERIC_OPS, Condition, Rule, RuleSet, check_ruleset

__all__ = ["simplify", "generalize"]


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _merge_feature(feature, conds):
    """Equivalent conditions on one column, [] if always true, None if never true."""
    miss = all(c.includes_missing for c in conds)
    lo = hi = None  # (value, closed)
    for c in conds:
        if c.op in (">", ">="):
            cand = (c.value, c.op == ">=")
            # Larger bound is tighter; at the same value the open bound is tighter.
            if lo is None or cand[0] > lo[0] or (cand[0] == lo[0] and not cand[1]):
                lo = cand
        elif c.op in ("<", "<="):
            cand = (c.value, c.op == "<=")
            if hi is None or cand[0] < hi[0] or (cand[0] == hi[0] and not cand[1]):
                hi = cand
    pos = [c.values for c in conds if c.op in ("in", "==")]
    neg = frozenset().union(*[c.values for c in conds if c.op in ("not in", "!=")])
    keep = frozenset(set.intersection(*map(set, pos))) - neg if pos else None
    if keep is not None:
        neg = frozenset()

    def inside(v):
        if lo is not None and not (v > lo[0] or (lo[1] and v == lo[0])):
            return False
        if hi is not None and not (v < hi[0] or (hi[1] and v == hi[0])):
            return False
        return True

    has_interval = lo is not None or hi is not None
    if has_interval:
        if keep is not None and all(_is_number(v) for v in keep):
            keep = frozenset(v for v in keep if inside(v))
            lo = hi = None
            has_interval = False
        elif neg:
            # Numbers outside the interval are already excluded by it.
            neg = frozenset(v for v in neg if not _is_number(v) or inside(v))
    empty_interval = has_interval and lo is not None and hi is not None and (
        lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1])))
    if empty_interval or (keep is not None and not keep):
        # No present value passes: only a missing one can, if every condition lets it.
        return [Condition(feature, "in", frozenset(), includes_missing=True)] if miss else None
    out = []
    if lo is not None:
        out.append(Condition(feature, ">=" if lo[1] else ">", lo[0], miss))
    if hi is not None:
        out.append(Condition(feature, "<=" if hi[1] else "<", hi[0], miss))
    if keep is not None:
        out.append(Condition(feature, "==", next(iter(keep)), miss) if len(keep) == 1
                   else Condition(feature, "in", keep, miss))
    elif neg:
        out.append(Condition(feature, "!=", next(iter(neg)), miss) if len(neg) == 1
                   else Condition(feature, "not in", neg, miss))
    if not out and not miss:
        out.append(Condition(feature, "not in", frozenset(), False))  # "is present"
    return out


def _simplify_rule(rule: Rule):
    groups = {}
    for c in rule.conditions:
        groups.setdefault(c.feature, []).append(c)
    conds = []
    for feature, cs in groups.items():
        merged = _merge_feature(feature, cs) if len(cs) > 1 or _trivial(cs[0]) else cs
        if merged is None:
            return None
        conds.extend(merged)
    return dataclasses.replace(rule, conditions=tuple(conds))


def _trivial(c: Condition) -> bool:
    """A lone condition worth rewriting: always true, or an empty value set."""
    if c.op in ("in", "not in") and not c.value:
        return c.op == "not in" and c.includes_missing or c.op == "in" and not c.includes_missing
    return c.op in NUMERIC_OPS and math.isinf(c.value) and c.includes_missing and (
        (c.op in ("<=", "<") and c.value > 0) or (c.op in (">=", ">") and c.value < 0))


def simplify(ruleset: RuleSet) -> RuleSet:
    """Lossless simplification: the result predicts exactly what ``ruleset`` predicts.

    Per rule and per column, conditions are merged into one interval and/or one value set
    (``age > 30 AND age > 55`` -> ``age > 55``; ``x in {a, b} AND x != a`` -> ``x == b``),
    with NaN kept exact (a missing value passes the merged condition only if it passed
    every original one). Always-true conditions are dropped and rules that can never hold
    are removed.

    Examples
    --------
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 30), Condition("deposit", "<=", 9000),
    ...                     Condition("age", ">", 55), Condition("deposit", ">", 2500)], 1)])
    >>> print(simplify(rs).rules[0])
    IF age > 55 AND deposit > 2500 AND deposit <= 9000 THEN 1
    """
    check_ruleset(ruleset, "simplify")
    rules = []
    for r in ruleset.rules:
        s = _simplify_rule(r)
        if s is not None:
            rules.append(s)
    return dataclasses.replace(ruleset, rules=rules,
                               provenance=dict(ruleset.provenance, simplified="lossless"))


def _pessimistic_error(errors: int, n: int, cf: float) -> float:
    """C4.5's upper confidence limit of the error rate (binomial, one-sided, level cf)."""
    from scipy.stats import beta
    if n <= 0:
        return 1.0
    if errors >= n:
        return 1.0
    return float(beta.ppf(1.0 - cf, errors + 1, n - errors))


def generalize(ruleset: RuleSet, X, y, cf: float = 0.25):
    """Lossy C4.5-rules generalisation: drop conditions while the pessimistic error does
    not grow. THIS CHANGES PREDICTIONS; every change is reported.

    For each rule, repeatedly drop the condition whose removal gives the lowest pessimistic
    error rate (upper ``cf`` confidence limit of the binomial error on the rows of ``X, y``
    the rule covers) as long as it is no higher than the current one. Generalised rules may
    overlap, so they are ordered by pessimistic error (most reliable first) and duplicates
    are removed; metrics are re-measured on ``(X, y)``.

    Parameters
    ----------
    ruleset : RuleSet
    X : DataFrame
    y : array-like
    cf : float, default 0.25
        C4.5's confidence factor; smaller prunes more.

    Returns
    -------
    generalized : RuleSet
    changes : DataFrame
        One row per dropped condition (``rule_id``, ``dropped``, ``error_before``,
        ``error_after``); ``changes.attrs["changed_predictions"]`` counts rows of ``X``
        whose prediction changed and ``changes.attrs["removed_duplicates"]`` maps the id of
        each rule removed because it became identical to another to the id of the rule kept.
        A rule that covers no row of ``X`` is kept unchanged (no evidence to generalise on)
        and ordered last.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> X = pd.DataFrame({"age": [60, 70, 65, 80, 20], "city": ["a", "b", "a", "b", "a"]})
    >>> rs = RuleSet([Rule([Condition("age", ">", 55), Condition("city", "==", "a")], 1)],
    ...              default=0)
    >>> g, changes = generalize(rs, X, [1, 1, 1, 1, 0])
    >>> [str(c) for c in g.rules[0].conditions], changes["dropped"].tolist()
    (['age > 55'], ["city == 'a'"])
    """
    check_ruleset(ruleset, "generalize")
    if isinstance(cf, bool) or not isinstance(cf, numbers.Real) or not 0 < cf < 1:
        raise DataError(f"cf must be in (0, 1), got {cf!r}")
    X = _as_frame(X, ruleset)
    _check_columns(ruleset, X)
    y = _check_y(y, len(X), ruleset)
    cols = _Columns(X)
    cache = {}
    n = len(X)
    new_rules, changes, errs = [], [], []
    for rule in ruleset.rules:
        conds = list(rule.conditions)
        for c in conds:
            if c not in cache:
                cache[c] = condition_mask(cols, c)
        is_pred = y == rule.prediction

        def err(masks):
            m = np.ones(n, dtype=bool)
            for mk in masks:
                m &= mk
            cov = int(m.sum())
            return _pessimistic_error(cov - int((m & is_pred).sum()), cov, cf)

        full = np.ones(n, dtype=bool)
        for c in conds:
            full &= cache[c]
        if not full.any():
            # No covered row is no evidence: C4.5's test would accept every drop (an
            # uncovered rule's error is already 1) and grow it into a catch-all.
            new_rules.append(rule)
            errs.append(1.0)
            continue
        current = err([cache[c] for c in conds])
        while conds:
            best = None
            for j in range(len(conds)):
                e = err([cache[c] for i, c in enumerate(conds) if i != j])
                if e <= current and (best is None or e < best[1]):
                    best = (j, e)
            if best is None:
                break
            dropped = conds.pop(best[0])
            changes.append({"rule_id": rule.rule_id, "dropped": str(dropped),
                            "error_before": current, "error_after": best[1]})
            current = best[1]
        new_rules.append(dataclasses.replace(rule, conditions=tuple(conds)))
        errs.append(current)
    order = np.argsort(np.asarray(errs), kind="stable")
    seen, ordered, duplicates = {}, [], {}
    for i in order:
        r = new_rules[i]
        key = (frozenset(r.conditions), r.prediction)
        if key not in seen:
            seen[key] = r.rule_id
            ordered.append(r)
        else:
            duplicates[r.rule_id] = seen[key]
    out = dataclasses.replace(ruleset, rules=ordered, provenance=dict(
        ruleset.provenance, simplified=f"lossy C4.5 generalisation (cf={cf})"))
    out = with_evidence(out, X, y)
    report = pd.DataFrame(changes, columns=["rule_id", "dropped", "error_before", "error_after"])
    report.attrs["removed_duplicates"] = duplicates
    report.attrs["changed_predictions"] = int(
        (np.asarray(ruleset.predict(X), dtype=object) != np.asarray(out.predict(X), dtype=object)).sum())
    return out, report
