"""Per-rule evidence on labelled data: support, confidence, lift, coverage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import DataError
from ._apply import iter_rule_masks
from ._model import RuleSet, check_ruleset

__all__ = ["evaluate", "evaluate_counts", "with_evidence", "with_evaluation"]


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
        base = is_pred.mean() if n else np.nan
        rows.append(_row(rule, support, int((m & is_pred).sum()), base, n, int(fired.sum())))
    return _frame(rows, n)


_COLUMNS = ["rule_id", "prediction", "support", "n_correct", "confidence", "lift",
            "coverage", "fired"]


def _row(rule, support: int, correct: int, base: float, n: int, fired: int) -> dict:
    """One rule's measures from its counts (``base``: share of its class among all rows)."""
    conf = correct / support if support else np.nan
    return {"rule_id": rule.rule_id, "prediction": rule.prediction,
            "support": support, "n_correct": correct, "confidence": conf,
            "lift": conf / base if base else np.nan,
            "coverage": support / n if n else np.nan, "fired": fired}


def _frame(rows, n) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out.attrs["n_rows"] = n
    return out


def evaluate_counts(ruleset: RuleSet, counts) -> pd.DataFrame:
    """:func:`evaluate`'s table from counted rows instead of the rows themselves.

    ``counts`` maps ``(rule_id, label)`` to the number of rows that rule decides (the first
    that holds; ``rule_id`` None where the default applies) with that label: what a
    ``GROUP BY rule_id, label`` over the rules' SQL gives (e.g. inside Spark, where the
    customers stay). ``support`` and ``fired`` are then both the rows a rule decides, which
    is :func:`evaluate`'s support for disjoint rules -- one rule per leaf of a tree; a
    decision list whose rules overlap needs :func:`evaluate` on the rows.

    Examples
    --------
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    >>> ev = evaluate_counts(rs, {(1, 1): 1, (1, 0): 1, (None, 1): 1, (None, 0): 1})
    >>> ev[["support", "confidence", "lift", "coverage"]].iloc[0].tolist()
    [2.0, 0.5, 1.0, 0.5]
    """
    check_ruleset(ruleset, "evaluate_counts")
    # the default's rows: rule_id None (SQL NULL), or NaN once pandas has grouped them
    raw, counts = dict(counts), {}
    for (rid, lab), k in raw.items():
        key = (None if rid is None or rid != rid else rid, lab)
        counts[key] = counts.get(key, 0) + int(k)
    if any(k < 0 for k in counts.values()):
        raise DataError("evaluate_counts: a count is negative; counts are numbers of rows")
    missing = sum(k for (_, lab), k in counts.items() if lab is None or lab != lab)
    if missing:  # as evaluate: a missing label would count as a wrong prediction
        raise DataError(f"evaluate_counts: {missing} row(s) have a missing label")
    known = {r.rule_id for r in ruleset.rules}
    odd = sorted({rid for rid, _ in counts if rid is not None and rid not in known}, key=str)
    if odd:
        raise DataError(f"evaluate_counts: counts name rule id(s) {odd[:5]} that the rule set "
                        "does not have; count the rows with this rule set's own SQL")
    n = sum(counts.values())
    by_label: dict = {}
    for (_, lab), k in counts.items():
        by_label[lab] = by_label.get(lab, 0) + k
    rows = []
    for rule in ruleset.rules:
        mine = {lab: k for (rid, lab), k in counts.items() if rid == rule.rule_id}
        support = sum(mine.values())
        correct = sum(k for lab, k in mine.items() if lab == rule.prediction)
        in_class = sum(k for lab, k in by_label.items() if lab == rule.prediction)
        rows.append(_row(rule, support, correct, in_class / n if n else np.nan, n, support))
    return _frame(rows, n)


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
    return with_evaluation(ruleset, evaluate(ruleset, X, y))


def with_evaluation(ruleset: RuleSet, evaluation: pd.DataFrame) -> RuleSet:
    """:func:`with_evidence` from a table :func:`evaluate` or :func:`evaluate_counts` gave
    for this rule set (one row per rule, in order)."""
    check_ruleset(ruleset, "with_evaluation")
    ev = evaluation
    if list(ev["rule_id"]) != [r.rule_id for r in ruleset.rules] or "n_rows" not in ev.attrs:
        raise DataError("with_evaluation: the table is not this rule set's evaluation (one row "
                        "per rule, in order, from evaluate or evaluate_counts)")
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
