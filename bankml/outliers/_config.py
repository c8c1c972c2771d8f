"""Defaults and bilingual reason texts of bankml.outliers, read from configs/outliers.yaml.

Loaded once per process and validated here so that a typo in the file fails loudly.
"""

from __future__ import annotations

import functools
import math

from .._resources import load_builtin_yaml
from .._yaml import short_repr
from ..errors import ConfigError
from ..labels import check_bilingual

_REASON_KEYS = ("amount", "count", "join", "score", "feature", "suspect", "learned",
                "measure_amount", "measure_count")
_THRESHOLD_KEYS = ("amount", "count", "quantile", "factor", "min_history", "min_days",
                   "suspect_share")


def _number(where, value, low=None, high=None, integer=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and low is not None:
        ok = value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bounds = f" in [{low}, {high}]" if low is not None or high is not None else ""
        kind = "an integer" if integer else "a finite number"
        raise ConfigError(f"outliers.yaml: {where} must be {kind}{bounds}, got {short_repr(value)}")
    return int(value) if integer else float(value)


def validate_outliers_config(data: dict) -> dict:
    """Check the ``outliers`` section of outliers.yaml and return it with typed values."""
    section = data.get("outliers")
    if not isinstance(section, dict):
        raise ConfigError("outliers.yaml: missing the 'outliers' mapping")
    th = section.get("threshold")
    if not isinstance(th, dict) or set(th) != set(_THRESHOLD_KEYS):
        raise ConfigError(f"outliers.yaml: outliers.threshold must have exactly the keys "
                          f"{list(_THRESHOLD_KEYS)}, got {short_repr(sorted(th) if isinstance(th, dict) else th)}")
    threshold = {
        "amount": _number("outliers.threshold.amount", th["amount"], low=0),
        "count": _number("outliers.threshold.count", th["count"], low=0),
        "quantile": _number("outliers.threshold.quantile", th["quantile"], 0, 1),
        "factor": _number("outliers.threshold.factor", th["factor"], low=0),
        "min_history": _number("outliers.threshold.min_history", th["min_history"], 1, integer=True),
        "min_days": _number("outliers.threshold.min_days", th["min_days"], 1, integer=True),
        "suspect_share": _number("outliers.threshold.suspect_share", th["suspect_share"], 0, 1),
    }
    reasons = section.get("reasons")
    if not isinstance(reasons, dict) or set(reasons) != set(_REASON_KEYS):
        raise ConfigError(f"outliers.yaml: outliers.reasons must have exactly the keys "
                          f"{list(_REASON_KEYS)}")
    for key, leaf in reasons.items():
        check_bilingual(leaf, f"outliers.yaml: outliers.reasons.{key}")
    contamination = _number("outliers.contamination", section.get("contamination"), 0, 0.5)
    return {"contamination": contamination, "threshold": threshold, "reasons": reasons}


@functools.lru_cache(maxsize=None)
def outliers_config() -> dict:
    """The validated ``outliers`` section of the built-in configs/outliers.yaml."""
    return validate_outliers_config(load_builtin_yaml("outliers.yaml"))


def reason_text(key: str, lang: str, **fields) -> str:
    """One bilingual reason template of outliers.yaml, filled in."""
    return outliers_config()["reasons"][key][lang].format(**fields)


def fmt_amount(x) -> str:
    """Thousands-separated number as bankers read it: 50,000 or 1,234.5."""
    x = float(x)
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")
