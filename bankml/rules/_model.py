"""The one rule representation every bankml model is turned into: Condition, Rule, RuleSet.

Plain data: converters (``_extract``), simplification (``_simplify``), evidence
(``_evaluate``) and every export (``_export``) import this module, never the other way
round. The only behaviour a RuleSet has is applying itself (``predict``/``apply``), done
by the evaluation engine in ``_apply``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from . import _apply
from ._ops import EQ_OPS, NUMERIC_OPS, OPS, SET_OPS

__all__ = ["Condition", "Rule", "RuleSet", "OPS", "NUMERIC_OPS", "SET_OPS", "EQ_OPS"]


def check_ruleset(ruleset, what: str):
    """``ruleset`` itself, or a DataError saying ``what`` needed a RuleSet."""
    if not isinstance(ruleset, RuleSet):
        raise DataError(f"{what}: expected a bankml.rules.RuleSet, got {type(ruleset).__name__}")
    return ruleset


#: How deep the free ``provenance`` record may nest (it is written to JSON as it is).
MAX_PROVENANCE_DEPTH = 16


def check_depth(value, where: str, limit: int = MAX_PROVENANCE_DEPTH) -> None:
    """Refuse a nested record deeper than ``limit`` (or cyclic), without recursing."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise DataError(f"{where} is nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((x, depth + 1) for x in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((x, depth + 1) for x in item)


def _is_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_))


def _py_scalar(value, where):
    """A plain Python scalar (str/int/float/bool) for JSON, SQL and source export."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            raise DataError(f"{where}: NaN cannot be a condition value; missing values are "
                            "matched with includes_missing=True")
        return value
    raise DataError(f"{where}: condition values must be str, int, float or bool, "
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

    Raises
    ------
    bankml.errors.DataError
        An empty or non-text feature, an unknown operator, a value of the wrong kind, or an
        ``includes_missing`` that is not a real bool (the text ``"false"`` would read as True).

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
            raise DataError(f"Condition.feature must be a non-empty column name, got {self.feature!r}")
        where = f"Condition on {self.feature!r}"
        if not isinstance(self.op, str) or self.op not in OPS:
            raise DataError(f"{where}: unknown operator {self.op!r}; expected one of {list(OPS)}")
        if self.op in NUMERIC_OPS:
            v = self.value.item() if isinstance(self.value, np.generic) else self.value
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise DataError(f"{where}: operator {self.op!r} needs a number, got {self.value!r}")
            v = float(v)
            if math.isnan(v):
                raise DataError(f"{where}: threshold is NaN")
            object.__setattr__(self, "value", v)
        elif self.op in SET_OPS:
            if isinstance(self.value, (str, bytes, dict)) or not hasattr(self.value, "__iter__"):
                raise DataError(f"{where}: operator {self.op!r} needs a collection of values, "
                                f"got {self.value!r}")
            object.__setattr__(self, "value", frozenset(_py_scalar(v, where) for v in self.value))
        else:
            object.__setattr__(self, "value", _py_scalar(self.value, where))
        if not _is_bool(self.includes_missing):
            raise DataError(f"{where}: includes_missing must be True or False, "
                            f"got {self.includes_missing!r}")
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
            # Seven significant digits for people; the exact value is in the JSON/SQL/Python.
            text = f"{self.feature} {self.op} {self.value:.7g}"
        return text + (" or missing" if self.includes_missing else "")


def _optional_number(name, v, *, integral=False):
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise DataError(f"Rule.{name} must be a number or None, got {v!r}")
    if integral:
        if not (isinstance(v, numbers.Integral) or float(v).is_integer()) or v < 0:
            raise DataError(f"Rule.{name} must be a whole number >= 0, got {v!r}")
        return int(v)
    return float(v)


def _check_prediction(v, where):
    if v is None:
        return None
    return _py_scalar(v, where)


@dataclass(frozen=True)
class Rule:
    """IF all ``conditions`` hold THEN ``prediction``, with the evidence behind it.

    Parameters
    ----------
    conditions : sequence of Condition
        All must hold (an empty sequence always holds).
    prediction : str, int, float or bool
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
        Stable number (a real int: not 1.5, not True); a RuleSet numbers unnumbered rules
        1, 2, ... in order.

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
        if isinstance(self.conditions, (str, bytes, dict)) or not hasattr(self.conditions, "__iter__"):
            raise DataError(f"Rule.conditions must be a sequence of Condition, got {self.conditions!r}")
        conds = tuple(self.conditions)
        for c in conds:
            if not isinstance(c, Condition):
                raise DataError(f"Rule.conditions must hold Condition objects, got {c!r}")
        object.__setattr__(self, "conditions", conds)
        object.__setattr__(self, "prediction", _check_prediction(self.prediction, "Rule.prediction"))
        rid = self.rule_id.item() if isinstance(self.rule_id, np.generic) else self.rule_id
        if rid is not None and (isinstance(rid, bool) or not isinstance(rid, numbers.Integral)):
            raise DataError(f"Rule.rule_id must be an integer, got {self.rule_id!r}")
        object.__setattr__(self, "rule_id", None if rid is None else int(rid))
        object.__setattr__(self, "support", _optional_number("support", self.support, integral=True))
        for name in ("n_correct", "confidence", "lift", "coverage"):
            object.__setattr__(self, name, _optional_number(name, getattr(self, name)))

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


@dataclass
class RuleSet:
    """An ordered list of rules plus a default: the first rule that holds decides.

    Plain data. Rules from a tree are disjoint (one per leaf), so their order does not
    matter; rules from other sources (e.g. association rules) form a decision list. Build
    one with a converter (``rules_from_tree``, ``rules_from_pipeline``,
    ``rules_from_association``) or by hand; simplify, measure and export it with the free
    functions of :mod:`bankml.rules`.

    Parameters
    ----------
    rules : sequence of Rule
    default : scalar, optional
        Prediction when no rule holds (``None`` -> missing / SQL NULL).
    classes : sequence, optional
        The model's classes (gives ``predict`` its dtype).
    label_column : str, optional
        Name of the predicted column (e.g. ``"wm_buyer"``), used to label predictions.
    feature_names : sequence of str, optional
        The model's input columns in order (lets ``predict`` take a plain 2-D array).
    units : dict of str -> str, optional
        Unit text per feature (``{"deposit": "元"}``), printed after its thresholds.
    weighted : bool, default False
        Whether the rules' evidence counts are class/sample weighted (then confidence is not
        a share of customers; exports say so until re-measured with ``with_evidence``).
    provenance : dict, optional
        Free record of where the rules come from (``model``, ``model_version``,
        ``created``, ``n_samples`` ...). No code depends on its keys.
    categories : dict of str -> tuple, optional
        The values a categorical feature took when the model was fitted
        (``rules_from_tree`` fills it). Used only for the human text: a ``not in`` set
        on such a feature is read as the values that remain ("= 本科 或其他值"). SQL and
        Python exports, and ``predict``, never use it.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.rules import Condition, Rule, RuleSet, to_text
    >>> rs = RuleSet([Rule([Condition("has_fund", "==", 1), Condition("age", ">", 55)], 1)],
    ...              default=0, label_column="wm_buyer")
    >>> X = pd.DataFrame({"has_fund": [1, 1, 0], "age": [60, 40, 70]})
    >>> rs.predict(X).tolist()
    [1, 0, 0]
    >>> print(to_text(rs, "en"))
    1. IF holds funds = yes AND age > 55 THEN WM buyer
    OTHERWISE not a WM buyer
    """

    rules: list = field(default_factory=list)
    default: object = None
    classes: tuple | None = None
    label_column: str | None = None
    feature_names: tuple | None = None
    units: dict = field(default_factory=dict)
    weighted: bool = False
    provenance: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.rules, (str, bytes, dict)) or not hasattr(self.rules, "__iter__"):
            raise DataError(f"RuleSet.rules must be a sequence of Rule, got {self.rules!r}")
        rules = []
        for i, r in enumerate(self.rules):
            if not isinstance(r, Rule):
                raise DataError(f"RuleSet.rules must hold Rule objects, got {r!r} at position {i}")
            if r.rule_id is None:
                r = dataclasses.replace(r, rule_id=i + 1)
            rules.append(r)
        ids = [r.rule_id for r in rules]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise DataError(f"RuleSet: rule_id values must be unique, {dup} repeat")
        self.rules = rules
        self.default = _check_prediction(self.default, "RuleSet.default")
        if self.classes is not None:
            self.classes = tuple(_check_prediction(c, "RuleSet.classes") for c in self.classes)
            # a hand-edited prediction outside the model's classes would be exported as is:
            # a branch would act on a class the model never predicts
            odd = [(f"rule {r.rule_id}", r.prediction) for r in rules
                   if r.prediction is not None and r.prediction not in self.classes]
            if self.default is not None and self.default not in self.classes:
                odd.append(("the default", self.default))
            if odd:
                raise DataError(f"RuleSet: {odd[0][0]} predicts {odd[0][1]!r}, which is not among "
                                f"the classes {list(self.classes)!r}"
                                + (f" ({len(odd)} predictions in all)" if len(odd) > 1 else ""))
        if self.label_column is not None and not isinstance(self.label_column, str):
            raise DataError(f"RuleSet.label_column must be text or None, got {self.label_column!r}")
        if self.feature_names is not None:
            names = tuple(self.feature_names)
            if not all(isinstance(n, str) and n for n in names):
                raise DataError(f"RuleSet.feature_names must be column names (text), got {names!r}")
            self.feature_names = names
        units = dict(self.units or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in units.items()):
            raise DataError(f"RuleSet.units must map feature names to unit text, got {units!r}")
        self.units = units
        if not _is_bool(self.weighted):
            raise DataError(f"RuleSet.weighted must be True or False, got {self.weighted!r}")
        self.weighted = bool(self.weighted)
        if not isinstance(self.provenance or {}, dict):
            raise DataError(f"RuleSet.provenance must be a dict, got {self.provenance!r}")
        self.provenance = dict(self.provenance or {})
        check_depth(self.provenance, "RuleSet.provenance")
        if not isinstance(self.categories or {}, dict):
            raise DataError(f"RuleSet.categories must be a dict, got {self.categories!r}")
        cats = {}
        for k, vals in (self.categories or {}).items():
            if not isinstance(k, str) or isinstance(vals, (str, bytes, dict)) or \
                    not hasattr(vals, "__iter__"):
                raise DataError("RuleSet.categories must map feature names to sequences of "
                                f"values, got {k!r}: {vals!r}")
            vals = tuple(v.item() if isinstance(v, np.generic) else v for v in vals)
            if not all(isinstance(v, (str, bool, int, float)) and v == v for v in vals):
                raise DataError(f"RuleSet.categories[{k!r}] must hold text, numbers or "
                                f"true/false, got {vals!r}")
            cats[k] = vals
        self.categories = cats

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

    def apply(self, X) -> np.ndarray:
        """Index (0-based position in ``rules``) of the first rule holding per row, -1 if none."""
        return _apply.apply_rules(self, X)

    def predict(self, X) -> np.ndarray:
        """Prediction per row of ``X`` (first rule that holds, else ``default``)."""
        return _apply.predict(self, X)
