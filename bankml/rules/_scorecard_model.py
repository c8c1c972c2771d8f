"""The plain-data form of a rule scorecard: base points plus "IF ... add N points" rules.

Like ``RuleSet`` it can apply itself (``total_points``/``predict_proba``) through the one
evaluation engine in ``_apply``; every export is a free function in ``_scorecard_export``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from ._apply import iter_rule_masks
from ._model import Condition, Rule, RuleSet, check_depth

__all__ = ["ScoreRule", "Scorecard", "scorecard_from_model"]


def _whole(v, where) -> int:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise DataError(f"{where} must be a whole number of points, got {v!r}")
    return int(v)


def _finite(v, where) -> float:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise DataError(f"{where} must be a finite number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class ScoreRule:
    """IF all ``conditions`` hold THEN add ``points`` (negative: subtract).

    Parameters
    ----------
    conditions : sequence of Condition
    points : int
    rule_id : int, optional
        A Scorecard numbers unnumbered rules 1, 2, ...
    coverage : float, optional
        Share of the training rows the rule holds for.

    Examples
    --------
    >>> ScoreRule([Condition("age", ">", 55)], 12).points
    12
    """

    conditions: tuple = ()
    points: int = 0
    rule_id: int | None = None
    coverage: float | None = None

    def __post_init__(self):
        r = Rule(self.conditions, None, rule_id=self.rule_id)  # Rule's own checks
        object.__setattr__(self, "conditions", r.conditions)
        object.__setattr__(self, "rule_id", r.rule_id)
        object.__setattr__(self, "points", _whole(self.points, "ScoreRule.points"))
        if self.coverage is not None:
            object.__setattr__(self, "coverage", _finite(self.coverage, "ScoreRule.coverage"))

    @property
    def features(self) -> list:
        return list(dict.fromkeys(c.feature for c in self.conditions))

    def __str__(self):
        cond = " AND ".join(str(c) for c in self.conditions) or "TRUE"
        return f"IF {cond} THEN {'+' if self.points >= 0 else ''}{self.points} points"


@dataclass
class Scorecard:
    """Base points plus rules that each add (or subtract) integer points.

    ``total = base_points + sum(points of every rule that holds)``; the probability of
    ``classes[1]`` is ``1 / (1 + exp(-(calibration[0] * total + calibration[1])))`` with
    ``calibration[0] > 0``, so it ranks customers exactly as the integer total does.

    Parameters
    ----------
    rules : sequence of ScoreRule
    base_points : int
    calibration : (float, float)
        ``(a, c)`` of the probability above; ``a >= 0``.
    classes : (negative, positive), optional
    label_column : str, optional
        What the probability is of (e.g. ``"wm_buyer"``), for the text.
    feature_names : sequence of str, optional
    pdo, base_score : float, optional
        The points convention (points to double the odds; points at even odds), printed.
    units : dict of str -> str, optional
    provenance : dict, optional
    categories : dict of str -> tuple, optional
        As in RuleSet: only for the human text of ``not in`` sets.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = Scorecard([ScoreRule([Condition("age", ">", 55)], 12)], base_points=500,
    ...                calibration=(0.05, -25.0))
    >>> sc.total_points(pd.DataFrame({"age": [60, 30, None]})).tolist()
    [512, 500, 500]
    """

    rules: list = field(default_factory=list)
    base_points: int = 0
    calibration: tuple = (0.0, 0.0)
    classes: tuple | None = None
    label_column: str | None = None
    feature_names: tuple | None = None
    pdo: float | None = None
    base_score: float | None = None
    units: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.rules, (str, bytes, dict)) or not hasattr(self.rules, "__iter__"):
            raise DataError(f"Scorecard.rules must be a sequence of ScoreRule, got {self.rules!r}")
        rules = []
        for i, r in enumerate(self.rules):
            if not isinstance(r, ScoreRule):
                raise DataError(f"Scorecard.rules must hold ScoreRule objects, got {r!r} at "
                                f"position {i}")
            if r.rule_id is None:
                r = ScoreRule(r.conditions, r.points, i + 1, r.coverage)
            rules.append(r)
        ids = [r.rule_id for r in rules]
        if len(set(ids)) != len(ids):
            raise DataError(f"Scorecard: rule_id values must be unique, got {ids}")
        self.rules = rules
        self.base_points = _whole(self.base_points, "Scorecard.base_points")
        cal = tuple(self.calibration) if hasattr(self.calibration, "__iter__") else None
        if cal is None or len(cal) != 2:
            raise DataError(f"Scorecard.calibration must be (a, c), got {self.calibration!r}")
        a, c = (_finite(v, "Scorecard.calibration") for v in cal)
        if a < 0:
            raise DataError(f"Scorecard.calibration slope must be >= 0 (more points, more "
                            f"likely), got {a}")
        self.calibration = (a, c)
        for name in ("pdo", "base_score"):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, _finite(v, f"Scorecard.{name}"))
        check_depth(self.provenance, "Scorecard.provenance")
        # RuleSet checks classes, label column, names, units and categories the same way
        shim = self.as_ruleset()
        self.feature_names = shim.feature_names
        if self.classes is not None:
            self.classes = tuple(c.item() if isinstance(c, np.generic) else c
                                 for c in self.classes)
            if len(self.classes) != 2:
                raise DataError(f"Scorecard.classes must be (negative, positive), got "
                                f"{self.classes!r}")
        self.units, self.categories = shim.units, shim.categories

    def as_ruleset(self) -> RuleSet:
        """The rules as a RuleSet (prediction = points): shares the condition machinery."""
        return RuleSet([Rule(r.conditions, r.points, rule_id=r.rule_id) for r in self.rules],
                       default=0, classes=None, label_column=self.label_column,
                       feature_names=self.feature_names, units=self.units,
                       provenance={}, categories=self.categories)

    def __len__(self):
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def __str__(self):
        lines = [f"base {self.base_points} points"]
        lines += [f"{r.rule_id}. {r}" for r in self.rules]
        return "\n".join(lines)

    @property
    def features(self) -> list:
        return list(dict.fromkeys(f for r in self.rules for f in r.features))

    def total_points(self, X) -> np.ndarray:
        """Integer total per row of ``X`` (a DataFrame, or an array in ``feature_names`` order)."""
        rs = self.as_ruleset()
        X, gen = iter_rule_masks(rs, X)
        total = np.full(len(X), self.base_points, dtype=np.int64)
        for r, m in zip(self.rules, gen):
            total[m] += r.points
        return total

    def predict_proba(self, X) -> np.ndarray:
        """Probability of ``classes[1]`` per row (1-D)."""
        a, c = self.calibration
        z = a * self.total_points(X).astype(float) + c
        return 1.0 / (1.0 + np.exp(-z))


def scorecard_from_model(model, *, label_column=None, model_version=None) -> Scorecard:
    """The plain-data scorecard of a fitted :class:`bankml.scorecard.RuleScorecardClassifier`.

    Parameters
    ----------
    model : RuleScorecardClassifier
        Fitted.
    label_column : str, optional
        The target's column (e.g. ``"wm_buyer"``) for the text.
    model_version : str, optional
        Recorded in ``provenance``.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> from bankml.scorecard import RuleScorecardClassifier
    >>> df = make_customers(600, seed=1)
    >>> X = df[["age", "long_term_assets", "has_fund"]]
    >>> est = RuleScorecardClassifier(max_rules=5, n_estimators=3, random_state=0)
    >>> sc = scorecard_from_model(est.fit(X, df["wm_buyer"]))
    >>> bool((sc.total_points(X) == est.total_points(X)).all())
    True
    """
    from ..errors import NotFittedError
    if not hasattr(model, "rules_") or not hasattr(model, "points_"):
        raise NotFittedError(f"{type(model).__name__} is not a fitted RuleScorecardClassifier "
                             "(no rules_ / points_): call fit first")
    import datetime as _dt
    names = getattr(model, "feature_names_in_", None)
    names = [str(n) for n in names] if names is not None else \
        [f"x{i}" for i in range(model.n_features_in_)]
    classes = tuple(c.item() if isinstance(c, np.generic) else c for c in model.classes_)
    cov = getattr(model, "coverage_", None)
    rules = [ScoreRule(conds, int(p), k + 1, None if cov is None else float(cov[k]))
             for k, (conds, p) in enumerate(zip(model.rules_, model.points_))]
    return Scorecard(rules, base_points=int(model.base_points_),
                     calibration=tuple(map(float, model.calibration_)), classes=classes,
                     label_column=label_column, feature_names=tuple(names),
                     pdo=float(model.pdo), base_score=float(model.base_score),
                     provenance={"model": type(model).__name__, "model_version": model_version,
                                 "created": _dt.datetime.now(_dt.timezone.utc).strftime(
                                     "%Y-%m-%d %H:%M UTC"),
                                 "n_candidates": int(getattr(model, "n_candidates_", 0))})
