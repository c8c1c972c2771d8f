"""The star-rating policy: weights, thresholds, product and business codes, caps, upgrades.

Loaded from ``configs/star_policy.yaml`` and validated once, so a bank changes its policy
(a weight, a new product code) by editing YAML, never code.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._resources import load_builtin_yaml, read_yaml
from .._yaml import short_repr
from ..errors import ConfigError, PolicyError
from ..schema import HOLDING_FLAGS, STAR_INPUTS

__all__ = ["StarPolicy", "STAR_LEVELS", "QUASI_STAR", "NOT_RATED"]

#: Level codes: 7..3 stars, 1 = quasi-star (准星级), 0 = not rated.
STAR_LEVELS = (0, 1, 3, 4, 5, 6, 7)
QUASI_STAR = 1
NOT_RATED = 0
_RATED = (3, 4, 5, 6, 7)
_MEASURES = ("daily_average", "cumulative")
_KEYS = ("unit", "window_months", "categories", "levels", "products", "businesses",
         "upgrades", "manual_can_lower")


def _number(where, value, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PolicyError(f"star policy: {where} must be a finite number, got {short_repr(value)}")
    if value < 0 or (positive and value == 0):
        raise PolicyError(f"star policy: {where} must be {'> 0' if positive else '>= 0'}, "
                          f"got {short_repr(value)}")
    return float(value)


def _level_key(k):
    """A level written as 3 or "3" (JSON keys are text); None for 3.7, True, "three"."""
    if isinstance(k, bool):
        return None
    if isinstance(k, int):
        return k
    if isinstance(k, str) and k.strip().isdigit():
        return int(k)
    return None


def _mapping(where, value):
    if not isinstance(value, dict) or not value:
        raise PolicyError(f"star policy: {where} must be a non-empty mapping, got {short_repr(value)}")
    return value


class StarPolicy:
    """A validated star-rating policy (DOMAIN.md section 1).

    Parameters
    ----------
    data : dict
        The parsed policy mapping with the keys of ``configs/star_policy.yaml``:
        ``unit``, ``window_months``, ``categories`` (the eight star inputs, each with
        ``measure`` and ``weight``), ``levels`` (3..7 -> lowest points), ``products``
        (balance code -> category), ``businesses`` (transaction code -> category and
        ``fee_cap``), ``upgrades`` (holdings flag -> level), ``manual_can_lower``.

    Raises
    ------
    PolicyError
        For an unknown key or category, a negative weight or cap, thresholds that do not
        increase with the level, a code mapped to a category of the wrong measure, or an
        upgrade to a level that does not exist.

    Examples
    --------
    >>> policy = StarPolicy.default()
    >>> policy.weights["card_spend"], policy.thresholds[7]
    (400.0, 80000.0)
    >>> StarPolicy.from_dict({**policy.to_dict(), "levels": {3: 50, 4: 40, 5: 2000, 6: 10000, 7: 80000}})
    Traceback (most recent call last):
    ...
    bankml.errors.PolicyError: star policy: levels must increase with the level; ...
    """

    def __init__(self, data: dict):
        if not isinstance(data, dict):
            raise PolicyError(f"star policy must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(_KEYS))
        if unknown:
            raise PolicyError(f"star policy: unknown keys {unknown}; expected {list(_KEYS)}")
        missing = [k for k in _KEYS if k not in data]
        if missing:
            raise PolicyError(f"star policy: missing keys {missing}")

        self.unit = _number("unit", data["unit"], positive=True)
        wm = data["window_months"]
        if isinstance(wm, bool) or not isinstance(wm, int) or wm < 1:
            raise PolicyError(f"star policy: window_months must be an integer >= 1, got {short_repr(wm)}")
        self.window_months = wm

        cats = _mapping("categories", data["categories"])
        unknown = sorted(set(map(str, cats)) - set(STAR_INPUTS))
        if unknown:
            raise PolicyError(f"star policy: unknown categories {unknown}; the categories are "
                              f"the star inputs {list(STAR_INPUTS)}")
        absent = [c for c in STAR_INPUTS if c not in cats]
        if absent:
            raise PolicyError(f"star policy: categories {absent} are missing")
        weights, measures = {}, {}
        for c in STAR_INPUTS:
            spec = cats[c]
            if not isinstance(spec, dict) or set(spec) != {"measure", "weight"}:
                raise PolicyError(f"star policy: categories.{c} must have exactly 'measure' and "
                                  f"'weight', got {short_repr(spec)}")
            if spec["measure"] not in _MEASURES:
                raise PolicyError(f"star policy: categories.{c}.measure must be one of "
                                  f"{list(_MEASURES)}, got {short_repr(spec['measure'])}")
            weights[c] = _number(f"categories.{c}.weight (points per {self.unit:g} yuan)",
                                 spec["weight"])
            measures[c] = spec["measure"]
        self.weights = MappingProxyType(weights)
        self.measures = MappingProxyType(measures)

        raw_levels = _mapping("levels", data["levels"])
        levels = {}
        for k, v in raw_levels.items():
            lv = _level_key(k)
            if lv is None:
                # int(3.7) would silently make it level 3
                raise PolicyError(f"star policy: levels keys must be the whole-number star "
                                  f"levels {list(_RATED)}, got {short_repr(k)}")
            if lv in levels:
                raise PolicyError(f"star policy: levels gives level {lv} twice")
            levels[lv] = v
        if sorted(levels) != list(_RATED):
            raise PolicyError(f"star policy: levels must give exactly the levels {list(_RATED)}, "
                              f"got {sorted(levels)}")
        th = {lv: _number(f"levels.{lv}", levels[lv], positive=True) for lv in _RATED}
        if any(th[a] >= th[b] for a, b in zip(_RATED, _RATED[1:])):
            raise PolicyError("star policy: levels must increase with the level; got "
                              + ", ".join(f"{lv}: {th[lv]:g}" for lv in _RATED))
        self.thresholds = MappingProxyType(th)

        self.products = MappingProxyType(self._codes("products", data["products"], "daily_average"))
        biz = _mapping("businesses", data["businesses"])
        cats_of, caps = {}, {}
        for code, spec in biz.items():
            if not isinstance(spec, dict) or set(spec) != {"category", "fee_cap"}:
                raise PolicyError(f"star policy: businesses.{code} must have exactly 'category' "
                                  f"and 'fee_cap', got {short_repr(spec)}")
            cats_of[str(code)] = spec["category"]
            caps[str(code)] = (math.inf if spec["fee_cap"] is None
                               else _number(f"businesses.{code}.fee_cap", spec["fee_cap"],
                                            positive=True))
        self.businesses = MappingProxyType(self._codes("businesses", cats_of, "cumulative"))
        self.fee_caps = MappingProxyType(caps)

        ups = _mapping("upgrades", data["upgrades"])
        unknown = sorted(set(map(str, ups)) - set(HOLDING_FLAGS))
        if unknown:
            raise PolicyError(f"star policy: upgrades name unknown holdings flags {unknown}; "
                              f"expected some of {list(HOLDING_FLAGS)}")
        for flag, lv in ups.items():
            if isinstance(lv, bool) or not isinstance(lv, int) or lv not in _RATED:
                raise PolicyError(f"star policy: upgrades.{flag} must be a star level "
                                  f"{list(_RATED)}, got {short_repr(lv)}")
        # Highest level first, so the first matching flag is the rule that decided an upgrade.
        self.upgrades = MappingProxyType(dict(sorted(ups.items(), key=lambda kv: -kv[1])))
        mcl = data["manual_can_lower"]
        if not isinstance(mcl, bool):
            raise PolicyError(f"star policy: manual_can_lower must be true or false, got {short_repr(mcl)}")
        self.manual_can_lower = mcl

        # Arrays the scorer uses on every call.
        self.weight_vector = np.array([weights[c] for c in STAR_INPUTS], dtype="float64")
        smallest = np.nextafter(0.0, 1.0)
        self.edges = np.array([smallest] + [th[lv] for lv in _RATED], dtype="float64")
        self.level_of_bin = np.array((NOT_RATED, QUASI_STAR) + _RATED, dtype="int8")

    def _codes(self, where, mapping, measure):
        mapping = _mapping(where, mapping)
        out = {}
        for code, cat in mapping.items():
            if cat not in STAR_INPUTS:
                raise PolicyError(f"star policy: {where}.{code} names unknown category {short_repr(cat)}; "
                                  f"expected one of {list(STAR_INPUTS)}")
            if self.measures[cat] != measure:
                raise PolicyError(f"star policy: {where}.{code} maps to {short_repr(cat)}, which is "
                                  f"measured as {self.measures[cat]}, not {measure}")
            out[str(code)] = cat
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "StarPolicy":
        """Validate a policy mapping (same layout as the YAML file)."""
        return cls(data)

    @classmethod
    def from_yaml(cls, path) -> "StarPolicy":
        """Load and validate a policy file.

        Raises
        ------
        PolicyError
            If the file is missing, is not valid YAML, or breaks a policy rule.
        """
        try:
            data = read_yaml(Path(path))
        except ConfigError as exc:
            raise PolicyError(f"star policy: {exc}") from exc
        try:
            return cls(data)
        except PolicyError as exc:
            raise PolicyError(f"{path}: {exc}") from None

    @classmethod
    def default(cls) -> "StarPolicy":
        """The published policy shipped in ``configs/star_policy.yaml``."""
        try:
            return cls(load_builtin_yaml("star_policy.yaml"))
        except ConfigError as exc:
            if isinstance(exc, PolicyError):
                raise
            raise PolicyError(f"star policy: {exc}") from exc

    def to_dict(self) -> dict:
        """The policy as a plain mapping that :meth:`from_dict` accepts."""
        return {
            "unit": self.unit,
            "window_months": self.window_months,
            "categories": {c: {"measure": self.measures[c], "weight": self.weights[c]}
                           for c in STAR_INPUTS},
            "levels": dict(self.thresholds),
            "products": dict(self.products),
            "businesses": {k: {"category": v,
                               "fee_cap": None if math.isinf(self.fee_caps[k]) else self.fee_caps[k]}
                           for k, v in self.businesses.items()},
            "upgrades": dict(self.upgrades),
            "manual_can_lower": self.manual_can_lower,
        }

    def __eq__(self, other):
        return isinstance(other, StarPolicy) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(sorted(self.weights.items())))

    def __repr__(self):
        return (f"StarPolicy(weights={dict(self.weights)}, "
                f"levels={ {k: v for k, v in self.thresholds.items()} }, "
                f"{len(self.products)} products, {len(self.businesses)} businesses)")
