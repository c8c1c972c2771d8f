"""The pipeline configuration: its schema, defaults and validation.

A config is read once (`load_config`), checked against `SCHEMA` and returned as a plain
nested dict with every default filled in; an unknown key or a wrong type names the key.
"""

from __future__ import annotations

import copy
from pathlib import Path

from ._resources import read_yaml
from .errors import ConfigError
from .schema import ID, LABEL

__all__ = ["SCHEMA", "load_config", "validate_config", "flatten_config"]

_REQUIRED = object()


class _Leaf:
    """One configurable value: accepted types, default, optional extra check."""

    def __init__(self, types, default=_REQUIRED, check=None, expected=None, choices=None):
        self.types = types if isinstance(types, tuple) else (types,)
        self.default = default
        self.check = check
        self.choices = choices
        self.expected = expected or " or ".join(
            "null" if t is type(None) else t.__name__ for t in self.types)
        if choices:
            self.expected = "one of " + ", ".join(repr(c) for c in choices)

    def validate(self, key, value):
        if value is None and self.default is None:  # an optional key given as null
            return None
        ok = isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in self.types)
        # YAML gives 1 for 1.0; an int is a fine float.
        if not ok and float in self.types and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ConfigError(f"config key {key!r}: expected {self.expected}, "
                              f"got {type(value).__name__} {value!r}")
        if self.choices and value not in self.choices:
            raise ConfigError(f"config key {key!r}: expected {self.expected}, got {value!r}")
        if self.check is not None and value is not None:
            problem = self.check(value)
            if problem:
                raise ConfigError(f"config key {key!r}: {problem}, got {value!r}")
        return value


def _positive(v):
    return None if v > 0 else "must be > 0"


def _non_negative(v):
    return None if v >= 0 else "must be >= 0"


def _fraction(v):
    return None if 0 < v < 1 else "must be strictly between 0 and 1"


def _str_list(v):
    if not all(isinstance(x, str) and x for x in v):
        return "must be a list of column names (non-empty strings)"
    if len(set(v)) != len(v):
        return "must not repeat a name"
    return None


def _bands(v):
    for col, cuts in v.items():
        if not isinstance(col, str) or not isinstance(cuts, list) or not cuts or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in cuts):
            return f"band {col!r} must map a column name to a non-empty list of numbers"
        if any(b <= a for a, b in zip(cuts[:-1], cuts[1:])):
            return f"cut points of band {col!r} must be strictly increasing"
    return None


def _n_clusters(v):
    if v == "auto" or (isinstance(v, int) and not isinstance(v, bool) and v >= 2):
        return None
    return "must be 'auto' or an integer >= 2"


def _name(v):
    return None if v.strip() else "must not be empty"


#: The configuration schema: section -> key -> leaf (or a nested section).
SCHEMA = {
    "data": {
        # exactly one of the two (checked in validate_config)
        "synthetic": {"n": _Leaf(int, check=_positive), "seed": _Leaf(int, 0)},
        "path": _Leaf(str, None, check=_name),
    },
    "stars": {"policy": _Leaf(str, "default", check=_name)},
    "split": {"test_size": _Leaf(float, 0.3, check=_fraction), "seed": _Leaf(int, 0)},
    "features": {
        "categorical": _Leaf(list, ["gender", "education"], check=_str_list),
        "numeric": _Leaf(list, ["age", "short_term_assets", "long_term_assets"], check=_str_list),
        "bands": _Leaf(dict, {}, check=_bands),
    },
    "tree": {
        "criterion": _Leaf(str, "gain", choices=("gain", "gain_ratio")),
        "max_depth": _Leaf((int, type(None)), 4, check=_positive),
        "min_samples_split": _Leaf(int, 2, check=lambda v: None if v >= 2 else "must be >= 2"),
        "min_samples_leaf": _Leaf(int, 20, check=_positive),
        "min_gain": _Leaf(float, 0.0, check=_non_negative),
        "pruning": _Leaf((str, type(None)), None, choices=(None, "pessimistic")),
        "confidence": _Leaf(float, 0.25, check=_fraction),
        "class_weight": _Leaf((str, type(None)), "balanced", choices=(None, "balanced")),
        "random_state": _Leaf(int, 0),
    },
    "rules": {
        "target": _Leaf(int, 1, choices=(0, 1)),
        "sql_table": _Leaf(str, "customers", check=_name),
        "top": _Leaf(int, 5, check=_positive),
    },
    "association": {
        "enabled": _Leaf(bool, True),
        "target": _Leaf(str, "has_wm_account", check=_name),
        "min_support": _Leaf(float, 0.02, check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
        "min_confidence": _Leaf(float, 0.3, check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
        "max_len": _Leaf(int, 3, check=lambda v: None if v >= 2 else "must be >= 2"),
        "engine": _Leaf(str, "fpgrowth", check=_name),
        "top": _Leaf(int, 10, check=_positive),
    },
    "segments": {
        "enabled": _Leaf(bool, True),
        "n_clusters": _Leaf((str, int), "auto", check=_n_clusters),
        "method": _Leaf(str, "kmeans", choices=("kmeans", "kprototypes")),
        # rows on which n_clusters="auto" scores each k (silhouette is quadratic in it)
        "sample_size": _Leaf(int, 3000, check=lambda v: None if v >= 100 else "must be >= 100"),
        "features": _Leaf(list, ["short_term_assets", "long_term_assets", "card_spend",
                                 "tx_count_6m", "digital_logins_6m"], check=_str_list),
        "seed": _Leaf(int, 0),
    },
    "outliers": {
        "enabled": _Leaf(bool, True),
        "contamination": _Leaf(float, 0.01, check=lambda v: None if 0 < v <= 0.5 else "must be in (0, 0.5]"),
        "features": _Leaf(list, ["max_daily_amount", "max_daily_tx_count", "tx_count_6m"],
                          check=_str_list),
        "seed": _Leaf(int, 0),
    },
    "mlflow": {
        "experiment": _Leaf(str, "bankml-wm-propensity", check=_name),
        "registered_model": _Leaf(str, "bankml-wm-propensity", check=_name),
        "register": _Leaf(bool, True),
    },
    "output": {
        "models_dir": _Leaf(str, "models", check=_name),
        "reports_dir": _Leaf(str, "outputs", check=_name),
        "model_name": _Leaf(str, "wm_propensity", check=_name),
        "progress": _Leaf(bool, True),
        "plots": _Leaf(bool, True),
    },
}


def _validate(spec: dict, data, prefix: str) -> dict:
    where = prefix.rstrip(".") or "top level"
    if not isinstance(data, dict):
        raise ConfigError(f"config key {where!r}: expected a mapping, got {type(data).__name__} {data!r}")
    unknown = [k for k in data if k not in spec]
    if unknown:
        raise ConfigError(f"unknown config key {prefix + str(unknown[0])!r}"
                          f" (allowed under {where}: {', '.join(spec)})")
    out = {}
    for key, sub in spec.items():
        full = prefix + key
        if isinstance(sub, dict):
            if key in data and not (full == "data.synthetic" and data[key] is None):
                out[key] = _validate(sub, data[key], full + ".")
            elif full == "data.synthetic":
                out[key] = None
            else:
                out[key] = _validate(sub, {}, full + ".")
        elif key in data:
            out[key] = sub.validate(full, data[key])
        elif sub.default is _REQUIRED:
            raise ConfigError(f"missing config key {full!r} ({sub.expected})")
        else:
            out[key] = copy.deepcopy(sub.default)
    return out


def validate_config(data) -> dict:
    """Check a config mapping against :data:`SCHEMA` and fill in the defaults.

    Parameters
    ----------
    data : dict
        The parsed config (e.g. from YAML).

    Returns
    -------
    dict
        A new nested dict with every section and key present.

    Raises
    ------
    ConfigError
        Naming the offending key: unknown key, wrong type, bad value, missing data source.

    Examples
    --------
    >>> cfg = validate_config({"data": {"synthetic": {"n": 1000}}})
    >>> cfg["data"]["synthetic"], cfg["tree"]["criterion"]
    ({'n': 1000, 'seed': 0}, 'gain')
    >>> validate_config({"data": {"synthetic": {"n": 10}}, "tree": {"depth": 3}})
    Traceback (most recent call last):
    ...
    bankml.errors.ConfigError: unknown config key 'tree.depth' (allowed under tree: ...)
    >>> validate_config({"data": {"synthetic": {"n": "ten"}}})
    Traceback (most recent call last):
    ...
    bankml.errors.ConfigError: config key 'data.synthetic.n': expected int, got str 'ten'
    """
    if "data" not in (data or {}):
        raise ConfigError("missing config key 'data' (give data.synthetic: {n, seed} or data.path)")
    cfg = _validate(SCHEMA, data, "")
    has_syn, has_path = cfg["data"]["synthetic"] is not None, cfg["data"]["path"] is not None
    if has_syn == has_path:
        raise ConfigError("config key 'data': give exactly one of data.synthetic: {n, seed} "
                          "or data.path (a CSV or Parquet file)")
    feats = cfg["features"]
    both = set(feats["categorical"]) & set(feats["numeric"])
    if both:
        raise ConfigError(f"config key 'features': {sorted(both)} listed as both categorical and numeric")
    if not feats["categorical"] and not feats["numeric"]:
        raise ConfigError("config key 'features': list at least one categorical or numeric feature")
    # the id as an input would reach the model and MLflow's input example; the label as an
    # input would leak the answer
    for section, kind in (("features", "categorical"), ("features", "numeric"),
                          ("segments", "features"), ("outliers", "features")):
        banned = {ID: "the customer identifier", LABEL: "the label the model predicts"}
        if section != "features":
            banned.pop(LABEL)
        for col, why in banned.items():
            if col in cfg[section][kind]:
                raise ConfigError(f"config key '{section}.{kind}': {col!r} is {why}; "
                                  "it cannot be a feature")
    stray = [c for c in feats["bands"] if c not in feats["numeric"]]
    if stray:
        raise ConfigError(f"config key 'features.bands.{stray[0]}': banded columns must be "
                          f"listed in features.numeric")
    return cfg


def load_config(source) -> dict:
    """Read and validate a pipeline config once.

    Parameters
    ----------
    source : str, Path or dict
        A YAML file path, or an already parsed mapping (validated too).

    Returns
    -------
    dict
        The validated config (see :func:`validate_config`).

    Examples
    --------
    >>> from bankml._resources import config_path
    >>> load_config(config_path("quickstart.yaml"))["data"]["synthetic"]["n"] > 0
    True
    """
    if isinstance(source, (str, Path)):
        data = read_yaml(source)
        try:
            return validate_config(data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    if isinstance(source, dict):
        return validate_config(copy.deepcopy(source))
    raise ConfigError(f"a config is a YAML path or a mapping, got {type(source).__name__}")


def flatten_config(cfg: dict, prefix: str = "") -> dict:
    """Dotted keys to values, e.g. ``{"tree.max_depth": 4}`` (for MLflow params).

    Examples
    --------
    >>> flatten_config({"tree": {"max_depth": 4}, "data": {"synthetic": {"n": 10}}})
    {'tree.max_depth': 4, 'data.synthetic.n': 10}
    """
    out = {}
    for key, value in cfg.items():
        if isinstance(value, dict) and not (prefix + key).endswith("bands"):
            out.update(flatten_config(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out
