"""Per-rule evidence on labelled data: support, confidence, lift, coverage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import DataError
from ._apply import iter_rule_masks
from ._model import RuleSet, check_ruleset

__all__ = ["evaluate", "with_evidence"]


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
    check_ruleset(ruleset, "evaluate")
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
    """A copy of ``ruleset`` whose rules carry the metrics measured on ``(X, y)`` (e.g. a
    hold-out month), unweighted.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0, weighted=True)
    >>> m = with_evidence(rs, pd.DataFrame({"age": [60, 70, 20]}), [1, 0, 0])
    >>> m.rules[0].support, m.rules[0].confidence, m.weighted
    (2, 0.5, False)
    """
    check_ruleset(ruleset, "with_evidence")
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
    provenance = dict(ruleset.provenance, evidence="measured on given data",
                      n_samples=ev.attrs["n_rows"])
    return dataclasses.replace(ruleset, rules=rules, weighted=False, provenance=provenance)
