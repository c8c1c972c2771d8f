"""Converters into a RuleSet: a fitted tree (one IF-THEN rule per root-to-leaf path) and
mined association rules (a decision list).

Reads bankml's InfoGainTreeClassifier (multiway categorical branches) and scikit-learn
trees; a fitted scikit-learn Pipeline goes to ``rules_from_pipeline``.
"""

from __future__ import annotations

import datetime as _dt
import numbers

import numpy as np
import pandas as pd

from ..errors import DataError, NotFittedError
from ..labels import default_labels
from ._model import Condition, Rule, RuleSet
from ._rate import RATE_KEY, check_rate_params, rate_record, select_leaves

__all__ = ["tree_rules", "rules_from_association"]


def _f32_equivalent_threshold(t: float) -> float:
    """The float64 threshold t' with ``x <= t'`` iff ``float32(x) <= t``.

    scikit-learn casts X to float32 before comparing with its float64 thresholds, so a
    rule on the original float64 values must compare with the boundary of the float32
    rounding, or rows within half a float32 ulp of a threshold would go the other way.
    """
    if not np.isfinite(t):
        return float(t)
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    g = np.nextafter(f, np.float32(np.inf))
    if not np.isfinite(g) or not np.isfinite(f):
        return float(t)
    m = (float(f) + float(g)) / 2.0  # exact in float64
    # A float64 exactly half-way rounds to the float32 with an even mantissa.
    if int(np.asarray(f).view(np.uint32)) & 1 == 0:
        return m
    return float(np.nextafter(m, -np.inf))


def _feature_names(model, n_features):
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(n_features)], False
    return [str(n) for n in names], True


def _resolve_target(target, classes, label_column):
    if target is None:
        return None
    for c in classes:
        if c == target or (isinstance(c, (int, float)) and not isinstance(target, bool)
                           and str(c) == str(target)):
            return c
    if label_column is not None:
        labels = default_labels()
        for c in classes:
            if target in (labels.value(label_column, c, "zh"), labels.value(label_column, c, "en")):
                return c
    raise DataError(f"target {target!r} is not one of the model's classes {list(classes)}"
                    + (f" nor a label of {label_column!r}" if label_column else ""))


def _weighted(model, view) -> bool:
    """Whether the tree's class counts are weighted (class_weight or fit's sample_weight).

    "balanced" weights sum to the row count, so the root alone cannot tell: a node whose
    weighted total differs from its row count can.
    """
    if getattr(model, "class_weight", None) is not None:
        return True
    totals = view.counts.sum(axis=1)
    rows = np.array([view.n_samples(i) for i in range(len(totals))], dtype=float)
    return not np.allclose(totals, rows, rtol=1e-9, atol=1e-9)


class _SklearnView:
    def __init__(self, model):
        t = model.tree_
        if getattr(model, "n_outputs_", 1) != 1:
            raise DataError("multi-output trees are not supported: fit one tree per output")
        self.t = t
        self.names, self.named = _feature_names(model, model.n_features_in_)
        self.missing_left = getattr(t, "missing_go_to_left", None)
        self.counts = t.value[:, 0, :] * t.weighted_n_node_samples[:, None]

    def is_leaf(self, node):
        return self.t.children_left[node] == -1

    def leaf_class_index(self, node):
        return int(np.argmax(self.t.value[node, 0]))

    def score(self, node, k):
        # DecisionTreeClassifier.predict_proba: the leaf's value normalised to sum 1
        v = self.t.value[node, 0]
        s = float(v.sum())
        return float(v[k] / s) if s > 0 else 0.0

    def n_samples(self, node):
        return int(self.t.n_node_samples[node])

    def branches(self, node):
        name = self.names[self.t.feature[node]]
        thr = _f32_equivalent_threshold(float(self.t.threshold[node]))
        left_missing = bool(self.missing_left[node]) if self.missing_left is not None else False
        return [(int(self.t.children_left[node]), Condition(name, "<=", thr, left_missing)),
                (int(self.t.children_right[node]), Condition(name, ">", thr, not left_missing))]


class _ContractView:
    """bankml.tree's ``tree_`` (see the tree/rules contract): multiway branches."""

    def __init__(self, model):
        t = model.tree_
        self.t = t
        self.names, self.named = _feature_names(model, model.n_features_in_)
        self.counts = np.array([np.asarray(t.value[i], dtype=float) for i in range(t.node_count)])

    def is_leaf(self, node):
        return bool(self.t.is_leaf(node))

    def leaf_class_index(self, node):
        return int(self.t.leaf_class_index(node))

    def score(self, node, k):
        # InfoGainTreeClassifier.predict_proba: Laplace-smoothed (w_k + 1) / (w + n_classes);
        # check_fidelity(on="score") compares this with the model's own predict_proba
        v = self.counts[node]
        return float((v[k] + 1.0) / (v.sum() + len(v)))

    def n_samples(self, node):
        return int(self.t.n_node_samples[node])

    def branches(self, node):
        name = self.names[int(self.t.feature[node])]
        out = []
        for b in self.t.branches(node):
            out.append((int(b.child), Condition(name, b.op, b.value, bool(b.includes_missing))))
        return out


def tree_rules(model, target=None, *, label_column=None, model_version=None, min_lift=None,
               top_fraction=None) -> RuleSet:
    """The rules of a fitted tree on the columns it reads; see :func:`bankml.rules.rules_from_tree`."""
    check_rate_params(min_lift, top_fraction)
    if label_column is not None and not isinstance(label_column, str):
        raise DataError(f"label_column must be a column name (text), got {label_column!r}")
    if not hasattr(model, "classes_") and not hasattr(model, "tree_"):
        raise NotFittedError(f"{type(model).__name__} is not fitted yet: call fit before "
                             "extracting rules")
    if not hasattr(model, "tree_") or not hasattr(model, "classes_"):
        raise NotFittedError(f"{type(model).__name__} is not a fitted tree classifier "
                             "(no tree_ / classes_)")
    t = model.tree_
    if hasattr(t, "branches") and hasattr(t, "is_leaf"):
        view = _ContractView(model)
    elif hasattr(t, "children_left"):
        view = _SklearnView(model)
    else:
        raise TypeError(f"{type(model).__name__}.tree_ is neither a bankml nor a scikit-learn tree")
    classes = [c.item() if isinstance(c, np.generic) else c for c in model.classes_]
    target_cls = _resolve_target(target, classes, label_column)

    root = view.counts[0]
    total = float(root.sum())
    prior = root / total if total > 0 else np.full(len(root), np.nan)
    n_root = view.n_samples(0)

    if min_lift is not None or top_fraction is not None:
        return _rate_rules(model, view, t, classes, target_cls, label_column, model_version,
                           min_lift, top_fraction)

    rules = []
    stack = [(0, ())]
    while stack:
        node, conds = stack.pop()
        if view.is_leaf(node):
            k = view.leaf_class_index(node)
            counts = view.counts[node]
            s = float(counts.sum())
            conf = counts[k] / s if s > 0 else np.nan
            n = view.n_samples(node)
            rules.append(Rule(conditions=conds, prediction=classes[k], support=n,
                              n_correct=conf * n if s > 0 else None,
                              confidence=conf if s > 0 else None,
                              lift=(conf / prior[k]) if s > 0 and prior[k] > 0 else None,
                              coverage=n / n_root if n_root else None))
            continue
        # Push in reverse so the left-most branch is expanded (and numbered) first.
        for child, cond in reversed(view.branches(node)):
            stack.append((child, conds + (cond,)))

    if target_cls is not None:
        rules = [r for r in rules if r.prediction == target_cls]
        others = [i for i, c in enumerate(classes) if c != target_cls]
        default = classes[max(others, key=lambda i: root[i])] if others else target_cls
    else:
        default = classes[int(np.argmax(root))]
    provenance = {"model": type(model).__name__, "model_version": model_version,
                  "created": _created(), "n_samples": n_root, "target": target_cls,
                  "exact": target_cls is None or len(classes) <= 2}
    return RuleSet(rules, default=default, classes=tuple(classes), label_column=label_column,
                   feature_names=tuple(view.names), weighted=_weighted(model, view),
                   provenance=provenance, categories=_categories(t, view.names))


def _leaves(view):
    """``(node, conditions)`` of every leaf, left-most first."""
    out, stack = [], [(0, ())]
    while stack:
        node, conds = stack.pop()
        if view.is_leaf(node):
            out.append((node, conds))
            continue
        for child, cond in reversed(view.branches(node)):
            stack.append((child, conds + (cond,)))
    return out


def _rate_rules(model, view, t, classes, target_cls, label_column, model_version, min_lift,
                top_fraction) -> RuleSet:
    """Leaves chosen by the model's score for ``target_cls``, best first (issue 13, item 6)."""
    if target_cls is None:
        if len(classes) != 2:
            raise DataError(f"rules by rate need target= (one of {list(classes)}) for a model "
                            f"with {len(classes)} classes")
        target_cls = classes[1]
    k = classes.index(target_cls)
    root = view.counts[0]
    total = float(root.sum())
    prior = float(root[k] / total) if total > 0 else 0.0
    n_root = view.n_samples(0)
    leaves = _leaves(view)
    scores = [view.score(node, k) for node, _ in leaves]
    sizes = [view.n_samples(node) for node, _ in leaves]
    chosen = select_leaves(scores, sizes, prior, min_lift=min_lift, top_fraction=top_fraction)
    rules, pairs = [], []
    for rid, i in enumerate(chosen, start=1):
        node, conds = leaves[i]
        counts = view.counts[node]
        s = float(counts.sum())
        rate = counts[k] / s if s > 0 else None
        n = sizes[i]
        rules.append(Rule(conditions=conds, prediction=target_cls, support=n,
                          n_correct=rate * n if rate is not None else None, confidence=rate,
                          lift=rate / prior if rate is not None and prior > 0 else None,
                          coverage=n / n_root if n_root else None, rule_id=rid))
        pairs.append((rid, scores[i]))
    taken = set(chosen)
    rest = [node for j, (node, _) in enumerate(leaves) if j not in taken]
    rest_w = sum(float(view.counts[node].sum()) for node in rest)
    default_rate = (sum(float(view.counts[node][k]) for node in rest) / rest_w) if rest_w > 0 \
        else None
    others = [i for i, c in enumerate(classes) if c != target_cls]
    default = classes[max(others, key=lambda i: root[i])] if others else target_cls
    provenance = {"model": type(model).__name__, "model_version": model_version,
                  "created": _created(), "n_samples": n_root, "target": target_cls,
                  # the rules carry the model's ranking, not its classes: check on="score"
                  "exact": False,
                  RATE_KEY: rate_record(target_cls, pairs, default_rate, prior, min_lift,
                                        top_fraction)}
    return RuleSet(rules, default=default, classes=tuple(classes), label_column=label_column,
                   feature_names=tuple(view.names), weighted=_weighted(model, view),
                   provenance=provenance, categories=_categories(t, view.names))


def _categories(t, names) -> dict:
    """The training values of each categorical feature (bankml trees record them), so the
    text can name the values a ``not in`` set leaves; plain scalars only (they go to JSON)."""
    out = {}
    for f, cats in enumerate(getattr(t, "categories", None) or []):
        if cats is None:
            continue
        vals = [c.item() if isinstance(c, np.generic) else c for c in cats]
        if all(isinstance(v, (str, bool, int, float)) and v == v for v in vals):
            out[names[f]] = tuple(vals)
    return out


def _created() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _item_conditions(item, spec) -> list:
    """The conditions an item stands for: its recorded meaning, or ``item == 1``."""
    meaning = spec.get(item) if spec else None
    if meaning is None:
        if not isinstance(item, str) or not item:
            raise DataError(f"rules_from_association: item {item!r} is not a column name and "
                            "has no recorded meaning; build the transactions with "
                            "bankml.association.to_transactions")
        return [Condition(item, "==", 1)]
    try:
        return [Condition(col, op, value) for col, op, value in meaning]
    except (DataError, TypeError, ValueError) as err:
        raise DataError(f"rules_from_association: item {item!r} has an unusable recorded "
                        f"meaning {meaning!r}: {err}") from None


def rules_from_association(rules, consequent=None, *, default=0, n_transactions=None) -> RuleSet:
    """A decision list from association rules (``bankml.association.mine_rules`` / mlxtend).

    Each row ``A => {consequent}`` becomes ``IF <conditions of A> THEN 1``; rows keep their
    order (strongest first), so the first rule that holds decides and ``default`` applies
    otherwise. What an item means comes from ``rules.attrs["bankml.items"]``, which
    :func:`bankml.association.to_transactions` records and ``mine_rules`` passes on; the
    item names are never parsed. With that record the rules read the RAW customer table:

    - a 0/1 holding flag ``has_fund`` -> ``has_fund == 1``;
    - a band ``age=30-55`` -> ``age > 30 AND age <= 55`` with the exact cut points
      (bands are right-closed; the first band is ``<= c1``, the last ``> ck``);
    - a value ``gender=F`` or ``age_group=18-30`` -> ``gender == 'F'``,
      ``age_group == '18-30'`` (the value as it was in the table: text stays text).

    An item without a recorded meaning (rules mined from baskets or by mlxtend directly)
    is read as a 0/1 column of that name, ``item == 1``: the rules then read the one-hot
    item table.

    Parameters
    ----------
    rules : DataFrame
        Columns ``antecedents``, ``consequents`` (collections of item names), and
        ``antecedent support``, ``confidence``, ``lift`` when present.
    consequent : str, optional
        Keep rules whose consequent is exactly this one item; required when the frame holds
        several consequents. A consequent no rule has is an error.
    default : scalar, default 0
        Prediction when no rule holds.
    n_transactions : int, optional
        Number of baskets, to turn antecedent support into a row count (defaults to
        ``rules.attrs["n_transactions"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> ar = pd.DataFrame({"antecedents": [frozenset({"has_fund", "has_gold"})],
    ...                    "consequents": [frozenset({"has_wm_account"})],
    ...                    "antecedent support": [0.1], "confidence": [0.8], "lift": [2.0]})
    >>> rs = rules_from_association(ar, n_transactions=1000)
    >>> print(rs)
    1. IF has_fund == 1 AND has_gold == 1 THEN 1  [support 100, confidence 80%]
    OTHERWISE 0
    """
    what = "rules_from_association"
    if not isinstance(rules, pd.DataFrame) or not {"antecedents", "consequents"} <= set(rules):
        raise DataError(f"{what}: association rules must be a DataFrame with 'antecedents' and "
                        "'consequents' columns (as mine_rules / mlxtend return)")
    sides = []
    for name in ("antecedents", "consequents"):
        col = []
        for pos, v in enumerate(rules[name]):
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise DataError(f"{what}: {name} at row position {pos} is {v!r}; expected a "
                                "collection of item names")
            col.append(frozenset(v))
        sides.append(col)
    ante, cons = sides
    targets = sorted({next(iter(c)) for c in cons if len(c) == 1}, key=str)
    if consequent is None:
        if len(set(cons)) != 1 or any(len(c) != 1 for c in cons):
            shown = sorted(sorted(map(str, c)) for c in set(cons))[:5]
            raise DataError(f"{what}: the rules have {'no' if not cons else 'several'} "
                            f"consequents {shown}; pass consequent= (the one product to predict)")
        consequent = targets[0]
    keep = [c == frozenset([consequent]) for c in cons]
    if not any(keep):
        raise DataError(f"{what}: no rule has the consequent {consequent!r}; single-item "
                        f"consequents present: {targets[:20]}")
    n = n_transactions if n_transactions is not None else rules.attrs.get("n_transactions")
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise DataError(f"{what}: n_transactions must be a whole number >= 1, got {n!r}")
    from ..association import ITEMS_ATTR  # data flows association -> rules, never back
    spec = rules.attrs.get(ITEMS_ATTR) or {}

    def column(name):
        if name not in rules.columns:
            return np.full(len(rules), np.nan)
        return pd.to_numeric(rules[name], errors="coerce").to_numpy(dtype=float)

    conf, lift, cover = column("confidence"), column("lift"), column("antecedent support")
    out = []
    for pos in np.flatnonzero(keep):
        items = sorted(ante[pos], key=str)
        conditions = [c for item in items for c in _item_conditions(item, spec)]
        cv, cf, lf = cover[pos], conf[pos], lift[pos]
        known = n is not None and not np.isnan(cv)
        out.append(Rule(conditions, 1,
                        support=round(cv * n) if known else None,
                        n_correct=cv * n * cf if known and not np.isnan(cf) else None,
                        confidence=None if np.isnan(cf) else cf,
                        lift=None if np.isnan(lf) else lf,
                        coverage=None if np.isnan(cv) else cv))
    label = consequent if isinstance(consequent, str) else str(consequent)
    return RuleSet(out, default=default, classes=(0, 1), label_column=label,
                   provenance={"model": "association rules", "consequent": label,
                               "n_samples": n, "created": _created()})
