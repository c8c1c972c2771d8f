"""The one rule representation every bankml model is turned into: Condition, Rule, RuleSet.

Extraction, simplification, evaluation and every export (text, SQL, Python, HTML) read it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Condition", "Rule", "RuleSet", "OPS"]

#: Operators a condition may use. ``==``/``!=`` are one-value shorthands of ``in``/``not in``.
NUMERIC_OPS = ("<=", "<", ">", ">=")
SET_OPS = ("in", "not in")
EQ_OPS = ("==", "!=")
OPS = NUMERIC_OPS + EQ_OPS + SET_OPS


def _py_scalar(value, where):
    """A plain Python scalar (str/int/float/bool) for JSON, SQL and source export."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"{where}: NaN cannot be a condition value; missing values are "
                             "matched with includes_missing=True")
        return value
    raise TypeError(f"{where}: condition values must be str, int, float or bool, "
                    f"got {type(value).__name__} {value!r}")


def _sort_key(v):
    return (type(v).__name__, v)


@dataclass(frozen=True)
class Condition:
    """One test on one column: ``feature op value``.

    Parameters
    ----------
    feature : str
        Column name.
    op : {"<=", "<", ">", ">=", "==", "!=", "in", "not in"}
        Comparison. Numeric operators need a number; ``in``/``not in`` a collection of
        values (stored as a frozenset); ``==``/``!=`` one value.
    value : number, str or collection
        What the column is compared with.
    includes_missing : bool, default False
        Whether a missing value (NaN, None, pd.NA) satisfies the condition. A missing value
        satisfies a condition ONLY when this is True; a present value must pass ``op``.

    Examples
    --------
    >>> print(Condition("age", ">", 55))
    age > 55
    >>> print(Condition("education", "in", ["university", "postgraduate"], includes_missing=True))
    education in {'postgraduate', 'university'} or missing
    """

    feature: str
    op: str
    value: object
    includes_missing: bool = False

    def __post_init__(self):
        if not isinstance(self.feature, str) or not self.feature:
            raise TypeError(f"Condition.feature must be a non-empty column name, got {self.feature!r}")
        if self.op not in OPS:
            raise ValueError(f"Condition on {self.feature!r}: unknown operator {self.op!r}; "
                             f"expected one of {list(OPS)}")
        where = f"Condition on {self.feature!r}"
        if self.op in NUMERIC_OPS:
            v = self.value.item() if isinstance(self.value, np.generic) else self.value
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{where}: operator {self.op!r} needs a number, got {self.value!r}")
            v = float(v)
            if math.isnan(v):
                raise ValueError(f"{where}: threshold is NaN")
            object.__setattr__(self, "value", v)
        elif self.op in SET_OPS:
            if isinstance(self.value, (str, bytes)) or not hasattr(self.value, "__iter__"):
                raise TypeError(f"{where}: operator {self.op!r} needs a collection of values, "
                                f"got {self.value!r}")
            object.__setattr__(self, "value", frozenset(_py_scalar(v, where) for v in self.value))
        else:
            object.__setattr__(self, "value", _py_scalar(self.value, where))
        object.__setattr__(self, "includes_missing", bool(self.includes_missing))

    @property
    def values(self) -> frozenset:
        """The value set of a set/equality condition (``==`` v is ``in {v}``)."""
        if self.op in SET_OPS:
            return self.value
        if self.op in EQ_OPS:
            return frozenset([self.value])
        raise AttributeError(f"numeric condition {self} has no value set")

    @property
    def is_numeric(self) -> bool:
        return self.op in NUMERIC_OPS

    @property
    def is_positive_set(self) -> bool:
        """True for ``in``/``==`` (membership), False for ``not in``/``!=``."""
        return self.op in ("in", "==")

    def __str__(self):
        if self.op in SET_OPS:
            vals = ", ".join(repr(v) for v in sorted(self.value, key=_sort_key))
            text = f"{self.feature} {self.op} {{{vals}}}"
        elif self.op in EQ_OPS:
            text = f"{self.feature} {self.op} {self.value!r}"
        else:
            text = f"{self.feature} {self.op} {_short_number(self.value)}"
        return text + (" or missing" if self.includes_missing else "")

    def to_dict(self) -> dict:
        d = {"feature": self.feature, "op": self.op}
        if self.op in SET_OPS:
            d["value"] = sorted(self.value, key=_sort_key)
        else:
            d["value"] = self.value
        d["includes_missing"] = self.includes_missing
        return d

    @classmethod
    def from_dict(cls, d) -> "Condition":
        return cls(d["feature"], d["op"], d["value"], d.get("includes_missing", False))


def _short_number(v: float) -> str:
    # Seven significant digits: scikit-learn thresholds are float32 boundaries, and the
    # exact value lives in to_json / to_sql / to_python.
    return f"{float(v):.7g}"


@dataclass(frozen=True)
class Rule:
    """IF all ``conditions`` hold THEN ``prediction``, with the evidence behind it.

    Parameters
    ----------
    conditions : sequence of Condition
        All must hold (an empty sequence always holds).
    prediction : scalar
        The class the rule predicts.
    support : int, optional
        Number of rows the rule covers (all conditions hold) in the data it was measured on.
    n_correct : float, optional
        Of those, how many have the predicted class (weighted when the model was).
    confidence : float, optional
        ``n_correct / support``: share of covered rows with the predicted class.
    lift : float, optional
        ``confidence`` divided by the share of the predicted class in all rows.
    coverage : float, optional
        ``support`` divided by the number of rows.
    rule_id : int, optional
        Stable number; a RuleSet numbers unnumbered rules 1, 2, ... in order.

    Examples
    --------
    >>> r = Rule([Condition("age", ">", 55)], prediction=1, support=12, confidence=0.83)
    >>> print(r)
    IF age > 55 THEN 1  [support 12, confidence 83%]
    """

    conditions: tuple = ()
    prediction: object = None
    support: int | None = None
    n_correct: float | None = None
    confidence: float | None = None
    lift: float | None = None
    coverage: float | None = None
    rule_id: int | None = None

    def __post_init__(self):
        conds = tuple(self.conditions)
        for c in conds:
            if not isinstance(c, Condition):
                raise TypeError(f"Rule.conditions must hold Condition objects, got {c!r}")
        object.__setattr__(self, "conditions", conds)
        if isinstance(self.prediction, np.generic):
            object.__setattr__(self, "prediction", self.prediction.item())
        for name in ("support",):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, int(v))
        for name in ("n_correct", "confidence", "lift", "coverage"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, float(v))

    @property
    def features(self) -> list:
        """Columns the rule reads, in first-use order."""
        return list(dict.fromkeys(c.feature for c in self.conditions))

    def __str__(self):
        cond = " AND ".join(str(c) for c in self.conditions) or "TRUE"
        ev = []
        if self.support is not None:
            ev.append(f"support {self.support}")
        if self.confidence is not None:
            ev.append(f"confidence {self.confidence:.0%}")
        tail = f"  [{', '.join(ev)}]" if ev else ""
        return f"IF {cond} THEN {self.prediction!r}{tail}"

    def to_dict(self) -> dict:
        d = {"rule_id": self.rule_id, "conditions": [c.to_dict() for c in self.conditions],
             "prediction": self.prediction}
        for name in ("support", "n_correct", "confidence", "lift", "coverage"):
            d[name] = getattr(self, name)
        return d

    @classmethod
    def from_dict(cls, d) -> "Rule":
        return cls(conditions=[Condition.from_dict(c) for c in d.get("conditions", [])],
                   prediction=d.get("prediction"), support=d.get("support"),
                   n_correct=d.get("n_correct"), confidence=d.get("confidence"),
                   lift=d.get("lift"), coverage=d.get("coverage"), rule_id=d.get("rule_id"))


@dataclass
class RuleSet:
    """An ordered list of rules plus a default: the first rule that holds decides.

    Rules from a tree are disjoint (one per leaf), so their order does not matter; rules
    from other sources (e.g. association rules) form a decision list.

    Parameters
    ----------
    rules : sequence of Rule
    default : scalar, optional
        Prediction when no rule holds (``None`` -> missing / SQL NULL).
    classes : sequence, optional
        The model's classes (gives ``predict`` its dtype).
    label_column : str, optional
        Name of the predicted column (e.g. ``"wm_buyer"``), used to label predictions.
    meta : dict, optional
        Free provenance: ``model``, ``model_version``, ``created``, ``n_samples`` ...

    Examples
    --------
    Any source of rules (e.g. association rules) can build a RuleSet directly:

    >>> import pandas as pd
    >>> rs = RuleSet([Rule([Condition("has_fund", "==", 1), Condition("age", ">", 55)], 1)],
    ...              default=0, label_column="wm_buyer")
    >>> X = pd.DataFrame({"has_fund": [1, 1, 0], "age": [60, 40, 70]})
    >>> rs.predict(X).tolist()
    [1, 0, 0]
    >>> print(rs.to_text("en"))
    1. IF holds funds = 1 AND age > 55 THEN WM buyer
    OTHERWISE not a WM buyer
    """

    rules: list = field(default_factory=list)
    default: object = None
    classes: tuple | None = None
    label_column: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        rules = []
        for i, r in enumerate(self.rules):
            if not isinstance(r, Rule):
                raise TypeError(f"RuleSet.rules must hold Rule objects, got {r!r} at position {i}")
            if r.rule_id is None:
                r = dataclasses.replace(r, rule_id=i + 1)
            rules.append(r)
        ids = [r.rule_id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError("RuleSet: rule_id values must be unique")
        self.rules = rules
        if isinstance(self.default, np.generic):
            self.default = self.default.item()
        if self.classes is not None:
            self.classes = tuple(c.item() if isinstance(c, np.generic) else c for c in self.classes)
        self.meta = dict(self.meta or {})

    def __len__(self):
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def __getitem__(self, i):
        return self.rules[i]

    def __str__(self):
        lines = [f"{r.rule_id}. {r}" for r in self.rules]
        lines.append(f"OTHERWISE {self.default!r}")
        return "\n".join(lines)

    @property
    def features(self) -> list:
        """Columns any rule reads, in first-use order."""
        return list(dict.fromkeys(f for r in self.rules for f in r.features))

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_tree(cls, model, target=None, *, label_column=None, model_version=None):
        """One rule per root-to-leaf path of a fitted tree.

        See :func:`bankml.rules.rules_from_tree`.
        """
        from ._extract import rules_from_tree
        return rules_from_tree(model, target=target, label_column=label_column,
                               model_version=model_version)

    @classmethod
    def from_association(cls, rules, consequent=None, *, default=0, n_transactions=None):
        """A decision list from association rules; see
        :func:`bankml.rules.rules_from_association`."""
        from ._extract import rules_from_association
        return rules_from_association(rules, consequent, default=default,
                                      n_transactions=n_transactions)

    @classmethod
    def from_json(cls, text) -> "RuleSet":
        """Rebuild a RuleSet written by :meth:`to_json`."""
        from ._export import from_json
        return from_json(text)

    # -- transformation -----------------------------------------------------------------
    def simplify(self) -> "RuleSet":
        """Lossless simplification; see :func:`bankml.rules.simplify`."""
        from ._simplify import simplify
        return simplify(self)

    def generalize(self, X, y, cf=0.25):
        """Lossy C4.5-rules generalisation; see :func:`bankml.rules.generalize`."""
        from ._simplify import generalize
        return generalize(self, X, y, cf=cf)

    # -- application --------------------------------------------------------------------
    def apply(self, X) -> np.ndarray:
        """Index (0-based position in ``rules``) of the first rule holding per row, -1 if none."""
        from ._evaluate import apply_rules
        return apply_rules(self, X)

    def predict(self, X) -> np.ndarray:
        """Prediction per row of ``X`` (first rule that holds, else ``default``)."""
        from ._evaluate import predict
        return predict(self, X)

    def evaluate(self, X, y):
        """Per-rule support, confidence, lift and coverage on ``(X, y)``; see
        :func:`bankml.rules.evaluate`."""
        from ._evaluate import evaluate
        return evaluate(self, X, y)

    def with_evidence(self, X, y) -> "RuleSet":
        """A copy whose rule metrics are measured on ``(X, y)`` (e.g. a hold-out month)."""
        from ._evaluate import with_evidence
        return with_evidence(self, X, y)

    # -- export -------------------------------------------------------------------------
    def to_text(self, lang="zh", labels=None) -> str:
        from ._export import to_text
        return to_text(self, lang=lang, labels=labels)

    def to_markdown(self, lang="en", labels=None) -> str:
        from ._export import to_markdown
        return to_markdown(self, lang=lang, labels=labels)

    def to_frame(self, lang="en", labels=None):
        from ._export import to_frame
        return to_frame(self, lang=lang, labels=labels)

    def to_csv(self, path=None, lang="en", labels=None):
        """Write (or return) :meth:`to_frame` as CSV."""
        return self.to_frame(lang=lang, labels=labels).to_csv(path, index=False)

    def to_json(self, indent=2) -> str:
        from ._export import to_json
        return to_json(self, indent=indent)

    def to_sql(self, table, id_column, dialect="ansi") -> str:
        from ._export import to_sql
        return to_sql(self, table, id_column, dialect=dialect)

    def to_python(self, function_name="predict") -> str:
        from ._export import to_python
        return to_python(self, function_name=function_name)

    def to_html(self, title=None, lang="zh", labels=None, model_version=None, date=None) -> str:
        from ._export import to_html
        return to_html(self, title=title, lang=lang, labels=labels,
                       model_version=model_version, date=date)
