"""The pipeline configuration: its schema, defaults and validation.

A config is read once (`load_config`), checked against `SCHEMA` and returned as a plain
nested dict with every default filled in; an unknown key or a wrong type names the key.

Limits are not written twice: the ``tree:`` section's keys are exactly parameters of
:class:`~bankml.tree.InfoGainTreeClassifier`, checked by its own ``_parameter_constraints``
(so the pipeline builds it as ``InfoGainTreeClassifier(**cfg["tree"])``); ``segments:``
and ``outliers:`` are checked by :class:`~bankml.segment.CustomerSegmenter` and
:class:`~bankml.outliers.IsolationForestDetector` the same way, ``association.engine`` by
:data:`bankml.association.ENGINES`. Defaults the modules own (outlier contamination,
the segmenter's sample size) come from the modules' own config files.
"""

from __future__ import annotations

import codecs
import copy
import datetime as _dt
import inspect
import math
import re
from pathlib import Path

from ._resources import config_path, read_yaml
from ._yaml import short_repr
from .errors import ConfigError, InvalidParameterError
from .schema import COLUMNS, ID, LABEL, SNAPSHOT

__all__ = ["SCHEMA", "config_columns", "config_file", "load_config", "validate_config", "flatten_config",
           "target_list", "split_month", "read_user_labels"]

_REQUIRED = object()
_ANY = object()


class _Leaf:
    """One configurable value: accepted types, default, optional extra check.

    ``types=_ANY`` leaves the type to an estimator's constraints (any value but a bool);
    a callable ``default`` is asked at validation time (a default another file owns).
    """

    def __init__(self, types, default=_REQUIRED, check=None, expected=None, choices=None):
        self.types = types if types is _ANY or isinstance(types, tuple) else (types,)
        self._default = default
        self.check = check
        self.choices = choices
        if types is _ANY:
            self.expected = expected or "a number or text (not true/false)"
        else:
            self.expected = expected or " or ".join(
                "null" if t is type(None) else t.__name__ for t in self.types)
        if choices:
            self.expected = "one of " + ", ".join(repr(c) for c in choices)

    @property
    def default(self):
        return self._default() if callable(self._default) else self._default

    def validate(self, key, value):
        if value is None and self._default is None:  # an optional key given as null
            return None
        if value is None and callable(self._default):  # null = the owning module's default
            return self.default
        if self.types is _ANY:
            # no estimator parameter bankml configures is a flag, and YAML turns yes/no/on
            # into booleans that Python would then count as 1/0
            ok = not isinstance(value, bool)
        else:
            ok = isinstance(value, self.types) and not (
                isinstance(value, bool) and bool not in self.types)
        # YAML gives 1 for 1.0; an int is a fine float.
        if (not ok and self.types is not _ANY and float in self.types
                and isinstance(value, int) and not isinstance(value, bool)):
            value, ok = float(value), True
        if not ok:
            raise ConfigError(f"config key {short_repr(key)}: expected {self.expected}, "
                              f"got {type(value).__name__} {short_repr(value)}")
        if self.choices and value not in self.choices:
            raise ConfigError(f"config key {short_repr(key)}: expected {self.expected}, got {short_repr(value)}")
        if self.check is not None and value is not None:
            problem = self.check(value)
            if problem:
                raise ConfigError(f"config key {short_repr(key)}: {problem}, got {short_repr(value)}")
        return value


def _positive(v):
    return None if v > 0 else "must be > 0"


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
                isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                for c in cuts):
            return f"band {short_repr(col)} must map a column name to a non-empty list of finite numbers"
        if any(b <= a for a, b in zip(cuts[:-1], cuts[1:])):
            return f"cut points of band {short_repr(col)} must be strictly increasing"
    return None


def _name(v):
    return None if v.strip() else "must not be empty"


def _encoding(v):
    if v.lower() == "auto":  # UTF-8, else GBK/GB18030, detected by the reader
        return None
    try:
        codecs.lookup(v)
    except LookupError:
        return "must be a text encoding Python knows, such as 'utf-8', 'gbk' or 'gb18030'"
    return None


def _column_map(v):
    if not all(isinstance(k, str) and k.strip() and isinstance(x, str) and x.strip()
               for k, x in v.items()):
        return "must map each of your column names to a bankml or feature name (non-empty text)"
    return None


def split_month(value) -> str | None:
    """A month as ``"YYYY-MM"``: from ``"2024-06"``, ``"2024-06-30"``, ``202406`` or a date.

    None when ``value`` is not a month (the caller names what it was reading).

    Examples
    --------
    >>> split_month("2024-06"), split_month(202406), split_month("2024-06-30"), split_month("June")
    ('2024-06', '2024-06', '2024-06', None)
    """
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})(?:-\d{2}(?:[ T].*)?)?", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return f"{m.group(1)}-{m.group(2)}"


def _month(v):
    return None if split_month(v) else "must be a month such as '2024-06'"


def _check_data_sql(v) -> None:
    """``data.sql``: {url, table} or {url, query}, all non-empty text (data sources, slice E2)."""
    if v is None:
        return
    problem = _data_sql(v)
    if problem:
        raise ConfigError(f"config key 'data.sql': {problem}")


def _data_sql(v):
    unknown = [k for k in v if k not in ("url", "table", "query")]
    if unknown:
        return f"unknown key {short_repr(unknown[0])} (allowed: url, table, query)"
    if not isinstance(v.get("url"), str) or not v["url"].strip():
        return "needs url: a SQLAlchemy URL such as sqlite:///bank.db or postgresql://host/db"
    if ("table" in v) == ("query" in v):
        return "needs exactly one of table (a table name) or query (a SELECT statement)"
    which = "table" if "table" in v else "query"
    if not isinstance(v[which], str) or not v[which].strip():
        return f"{which} must be non-empty text"
    return None


def _association_engine(v):
    from .association import ENGINES

    return None if v in ENGINES else f"must be one of {', '.join(map(repr, ENGINES))}"


def _tree_class():
    from .tree import InfoGainTreeClassifier

    return InfoGainTreeClassifier


#: Tree parameters the pipeline sets itself (which features are categorical follows
#: features.categorical and features.bands), so a config cannot set them.
_TREE_NOT_CONFIGURABLE = ("categorical_features",)
#: Where the main job's tree differs from the estimator's own defaults (a pipeline on
#: 100k rows with rare buyers wants a shallow, balanced tree with a fixed seed).
_TREE_JOB_DEFAULTS = {"max_depth": 4, "min_samples_leaf": 20, "class_weight": "balanced",
                      "random_state": 0}


def _tree_section() -> dict:
    params = inspect.signature(_tree_class().__init__).parameters
    return {name: _Leaf(_ANY, _TREE_JOB_DEFAULTS.get(name, p.default))
            for name, p in params.items()
            if name != "self" and name not in _TREE_NOT_CONFIGURABLE}


def _scorecard_class():
    from .scorecard import RuleScorecardClassifier

    return RuleScorecardClassifier


#: Where the main job's scorecard differs from the estimator's defaults: a fixed seed, so
#: two runs of one config give one scorecard.
_SCORECARD_JOB_DEFAULTS = {"random_state": 0}


def _scorecard_section() -> dict:
    # keys and defaults: RuleScorecardClassifier's parameters (model.kind: rule_scorecard)
    params = inspect.signature(_scorecard_class().__init__).parameters
    # a flag (single_feature_rules) is a YAML true/false; _ANY refuses booleans
    return {name: _Leaf(bool if isinstance(p.default, bool) else _ANY,
                        _SCORECARD_JOB_DEFAULTS.get(name, p.default))
            for name, p in params.items() if name != "self"}


def _outliers_default_contamination():
    from .outliers._config import outliers_config

    return outliers_config()["contamination"]


#: The models the main job can train (config key model.kind).
MODEL_KINDS = ("infogain_tree", "rule_scorecard")

#: The configuration schema: section -> key -> leaf (or a nested section).
SCHEMA = {
    # the 0/1 column the model predicts, or several (one model per product, see target_list)
    "target": _Leaf(str, LABEL, check=_name),
    "targets": _Leaf(list, None, check=_str_list),
    # a YAML file {column: {zh: ..., en: ...}} labelling extra features in rules and reports
    "labels": _Leaf(str, None, check=_name),
    "data": {
        # exactly one of the two (checked in validate_config)
        "synthetic": {"n": _Leaf(int, check=_positive), "seed": _Leaf(int, 0)},
        "path": _Leaf(str, None, check=_name),
        # of a CSV file (bank exports are often GBK); Parquet carries its own
        "encoding": _Leaf(str, "utf-8", check=_encoding),
        # {their column name: bankml schema name or feature name}, applied right after reading
        "columns": _Leaf(dict, {}, check=_column_map),
        # a database table or query through SQLAlchemy: {url, table | query}
        # (checked by _check_data_sql: a message must never quote the URL's password)
        "sql": _Leaf(dict, None),
        # engine: spark -- a table in the Spark catalog (instead of synthetic or path)
        "table": _Leaf(str, None, check=_name),
    },
    "stars": {"policy": _Leaf(str, "default", check=_name)},
    "split": {"test_size": _Leaf(float, 0.3, check=_fraction), "seed": _Leaf(int, 0),
              # out of time: "by" a snapshot-month column, testing on month "test" (default:
              # the latest); "customer" = the random split by customer. Unset: out of time
              # when the table has a snapshot_month column, else by customer.
              "by": _Leaf(str, None, check=_name),
              "test": _Leaf((str, int, _dt.date), None, check=_month,
                            expected="a month such as '2024-06'")},
    "features": {
        "categorical": _Leaf(list, ["gender", "education"], check=_str_list),
        "numeric": _Leaf(list, ["age", "short_term_assets", "long_term_assets"], check=_str_list),
        "bands": _Leaf(dict, {}, check=_bands),
    },
    # keys and limits: InfoGainTreeClassifier's parameters and _parameter_constraints
    "tree": _tree_section(),
    # which model the job trains, publishes and turns into rules, and how its complexity is
    # chosen; the comparison table adds gradient boosting as a reference (never published)
    "model": {
        "kind": _Leaf(str, "infogain_tree", choices=MODEL_KINDS),
        # true: InfoGainTreeCV picks the pruned subtree of the tree: section's tree by
        # cross-validated `scoring` among subtrees with at most `max_rules` leaves
        "select": _Leaf(bool, False),
        "max_rules": _Leaf(int, 30, check=_positive),
        "scoring": _Leaf(str, "roc_auc", choices=("roc_auc", "lift", "neg_log_loss")),
        "cv": _Leaf(int, 5, check=lambda v: None if v >= 2 else "must be >= 2"),
        "boosting_reference": _Leaf(bool, True),
    },
    # keys and limits: RuleScorecardClassifier's parameters and _parameter_constraints
    # (used when model.kind is rule_scorecard)
    "scorecard": _scorecard_section(),
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
        "engine": _Leaf(str, "fpgrowth", check=_association_engine),
        "top": _Leaf(int, 10, check=_positive),
    },
    # limits: CustomerSegmenter's _parameter_constraints (seed is its random_state)
    "segments": {
        "enabled": _Leaf(bool, True),
        "n_clusters": _Leaf(_ANY, "auto"),
        "method": _Leaf(_ANY, "kmeans"),
        # rows on which n_clusters="auto" scores each k; null = the segmenter's own
        # default (configs/segment.yaml, which has one for k-means and one for k-prototypes)
        "sample_size": _Leaf(_ANY, None),
        "features": _Leaf(list, ["short_term_assets", "long_term_assets", "card_spend",
                                 "tx_count_6m", "digital_logins_6m"], check=_str_list),
        "seed": _Leaf(int, 0),
    },
    # limits: IsolationForestDetector's _parameter_constraints (seed is its random_state)
    "outliers": {
        "enabled": _Leaf(bool, True),
        "contamination": _Leaf(_ANY, _outliers_default_contamination),
        "features": _Leaf(list, ["max_daily_amount", "max_daily_tx_count", "tx_count_6m"],
                          check=_str_list),
        "seed": _Leaf(int, 0),
    },
    # engine: spark runs the job on Spark (bankml.pipeline._spark); checked in _check_spark
    "engine": _Leaf(str, "pandas", choices=("pandas", "spark")),
    "spark": {
        "master": _Leaf(str, "local[2]", check=_name),
        "conf": _Leaf(dict, {}),
        # train on this stratified fraction of the training customers (null: all of them)
        "sample_fraction": _Leaf(_ANY, None),
        # scores written back: a Parquet directory, or a table name (one of them, or neither)
        "output_path": _Leaf(str, None, check=_name),
        "output_table": _Leaf(str, None, check=_name),
    },
    "mlflow": {
        "experiment": _Leaf(str, "bankml-wm-propensity", check=_name),
        "registered_model": _Leaf(str, "bankml-wm-propensity", check=_name),
        "register": _Leaf(bool, True),
        # the champion comparison refuses a test set with fewer positives: an AUC on a
        # handful of buyers is noise, and would replace a champion measured on many
        "champion_min_positives": _Leaf(int, 30, check=lambda v: None if v >= 1 else "must be >= 1"),
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
        raise ConfigError(f"config key {short_repr(where)}: expected a mapping, got {type(data).__name__} {short_repr(data)}")
    unknown = [k for k in data if k not in spec]
    if unknown:
        raise ConfigError(f"unknown config key {short_repr(prefix + str(unknown[0]))}"
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
            raise ConfigError(f"missing config key {short_repr(full)} ({sub.expected})")
        else:
            out[key] = copy.deepcopy(sub.default)
    return out


def _check_with_estimator(section: str, estimator, values: dict, rename: dict) -> None:
    """Let ``estimator``'s own constraints judge a section; name the key on failure."""
    try:
        estimator(**{rename.get(k, k): v for k, v in values.items()})._validate_params()
    except InvalidParameterError as exc:
        text = str(exc)
        m = re.match(r"The '(\w+)' parameter of (\w+) (must be .*?)\. Got (.*) instead\.$",
                     text, re.S)
        if not m:
            raise ConfigError(f"config section {short_repr(section)}: {text[:200]}") from None
        back = {v: k for k, v in rename.items()}
        key = back.get(m.group(1), m.group(1))
        raise ConfigError(f"config key '{section}.{key}': {m.group(3)} ({m.group(2)}'s own "
                          f"limit), got {short_repr(values.get(key))}") from None


def _check_estimator_sections(cfg: dict) -> None:
    from .outliers import IsolationForestDetector
    from .segment import CustomerSegmenter

    _check_with_estimator("tree", _tree_class(), cfg["tree"], {})
    _check_with_estimator("scorecard", _scorecard_class(), cfg["scorecard"], {})
    weights = cfg["tree"]["class_weight"]
    # the constraints accept any dict; its content only fails deep inside fit
    if isinstance(weights, dict) and (set(weights) - {0, 1} or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and 0 < w < float("inf")
            for w in weights.values())):
        raise ConfigError(f"config key 'tree.class_weight': a mapping must give classes 0 and/or "
                          f"1 a positive finite weight, got {short_repr(weights)}")
    if cfg["association"]["enabled"] and cfg["association"]["engine"] == "fast":
        # an engine that is not installed would fail the run after the model and rules
        from .association._itemsets import _fim
        from .errors import EngineNotAvailableError

        try:
            _fim()
        except EngineNotAvailableError as exc:
            raise ConfigError(f"config key 'association.engine': {exc}") from None
    seg = {k: cfg["segments"][k] for k in ("n_clusters", "method", "sample_size", "features", "seed")}
    _check_with_estimator("segments", CustomerSegmenter, seg, {"seed": "random_state"})
    out = {k: cfg["outliers"][k] for k in ("contamination", "features", "seed")}
    _check_with_estimator("outliers", IsolationForestDetector, out, {"seed": "random_state"})


def _check_spark(cfg: dict) -> None:
    """The ``engine`` / ``spark`` keys and what the Spark job does not do (yet)."""
    sp = cfg["spark"]
    frac = sp["sample_fraction"]
    if frac is not None and (isinstance(frac, bool) or not isinstance(frac, (int, float))
                             or not 0 < frac <= 1):
        raise ConfigError(f"config key 'spark.sample_fraction': must be a number in (0, 1] or "
                          f"null, got {short_repr(frac)}")
    bad = [k for k, v in sp["conf"].items() if not isinstance(k, str) or isinstance(v, (dict, list))]
    if bad:
        raise ConfigError(f"config key 'spark.conf.{bad[0]}': Spark settings are name: value pairs")
    if sp["output_path"] is not None and sp["output_table"] is not None:
        raise ConfigError("config key 'spark': give at most one of output_path and output_table")
    for out_key, in_key in (("output_table", "table"), ("output_path", "path")):
        given = cfg["data"].get(in_key)
        if given is not None and sp[out_key] is not None and \
                str(sp[out_key]).strip().rstrip("/") == str(given).strip().rstrip("/"):
            # the scores would replace the customer table they are computed from
            raise ConfigError(f"config key 'spark.{out_key}': the same as data.{in_key} "
                              f"({short_repr(given)}); write the scores elsewhere")
    if cfg["engine"] == "spark":
        pandas_only = {"targets": cfg["targets"], "data.sql": cfg["data"]["sql"],
                       "data.columns": cfg["data"]["columns"] or None,
                       "model.kind": cfg["model"]["kind"] != "infogain_tree" or None,
                       "model.select": cfg["model"]["select"] or None}
        given = [k for k, v in pandas_only.items() if v]
        if given:
            raise ConfigError(f"config key {given[0]!r}: not available with engine: spark (the "
                              "Spark job trains one information-gain tree on a table or Parquet "
                              "directory); remove it or use engine: pandas")
        if cfg["features"]["bands"]:
            raise ConfigError("config key 'features.bands': concept-hierarchy bands are not "
                              "available with engine: spark; remove them (the tree finds its "
                              "own thresholds)")
    elif cfg["data"]["table"] is not None:
        raise ConfigError("config key 'data.table': a Spark table needs engine: spark")


def _check_scorecard_monotonic(cfg: dict) -> None:
    """A constraint by name must name an unbanded numeric feature: a banded column reaches
    the scorecard as band labels (categorical), so it cannot be constrained; found now, not
    after the data is read."""
    cst = cfg["scorecard"]["monotonic_cst"]
    if cfg["model"]["kind"] != "rule_scorecard" or not isinstance(cst, dict):
        return
    feats = cfg["features"]
    for name in cst:
        if name not in feats["numeric"] or name in feats["bands"]:
            why = ("is banded (features.bands): the scorecard sees its bands, not numbers"
                   if name in feats["bands"] else "is not in features.numeric")
            raise ConfigError(f"config key 'scorecard.monotonic_cst': {short_repr(name)} {why}; "
                              "a constraint applies to an unbanded numeric feature")


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
    _check_estimator_sections(cfg)
    _check_spark(cfg)
    sources = [cfg["data"][k] is not None for k in ("synthetic", "path", "sql", "table")]
    if sum(sources) != 1:
        raise ConfigError("config key 'data': give exactly one of data.synthetic: {n, seed}, "
                          "data.path (a CSV or Parquet file, or a folder of Parquet files), "
                          "data.sql: {url, table | query} or, with engine: spark, data.table")
    _check_data_sql(cfg["data"]["sql"])
    if cfg["model"]["kind"] == "rule_scorecard" and cfg["model"]["select"]:
        # InfoGainTreeCV selects a tree's subtree; a scorecard's budget is its own max_rules
        raise ConfigError("config key 'model.select': selects the information-gain tree's "
                          "complexity; with model.kind rule_scorecard set the rule budget with "
                          "scorecard.max_rules (and leave model.select false)")
    feats = cfg["features"]
    _check_scorecard_monotonic(cfg)
    both = set(feats["categorical"]) & set(feats["numeric"])
    if both:
        raise ConfigError(f"config key 'features': {sorted(both)} listed as both categorical and numeric")
    if not feats["categorical"] and not feats["numeric"]:
        raise ConfigError("config key 'features': list at least one categorical or numeric feature")
    # the id as an input would reach the model and MLflow's input example; the label as an
    # input would leak the answer
    for section, kind in (("features", "categorical"), ("features", "numeric"),
                          ("segments", "features"), ("outliers", "features")):
        banned = {ID: "the customer identifier"}
        if section == "features" and not cfg["targets"]:
            # with `targets:` each model leaves its own target out (see target_list)
            banned[cfg["target"]] = "the label the model predicts"
        for col, why in banned.items():
            if col in cfg[section][kind]:
                raise ConfigError(f"config key '{section}.{kind}': {short_repr(col)} is {why}; "
                                  "it cannot be a feature")
    for section in ("segments", "outliers"):
        if cfg[section]["enabled"] and not cfg[section]["features"]:
            raise ConfigError(f"config key '{section}.features': list at least one column, or "
                              f"set {section}.enabled: false")
    stray = [c for c in feats["bands"] if c not in feats["numeric"]]
    if stray:
        raise ConfigError(f"config key 'features.bands.{stray[0]}': banded columns must be "
                          f"listed in features.numeric")
    _check_targets(cfg, data)
    _check_column_map(cfg)
    _check_labels(cfg)
    return cfg


def target_list(cfg: dict) -> list:
    """The 0/1 columns a run models: ``targets`` if given, else ``[target]``.

    With ``targets:`` each product's model leaves its own column out of its features (the
    other products' holdings stay: owning a fund says something about buying insurance).

    Examples
    --------
    >>> target_list(validate_config({"data": {"synthetic": {"n": 10}}}))
    ['wm_buyer']
    >>> target_list(validate_config({"data": {"synthetic": {"n": 10}},
    ...                              "targets": ["wm_buyer", "has_fund"]}))
    ['wm_buyer', 'has_fund']
    """
    return list(cfg["targets"]) if cfg.get("targets") else [cfg.get("target") or LABEL]


def _check_targets(cfg: dict, data: dict) -> None:
    if cfg["targets"] is not None:
        if "target" in data:
            raise ConfigError("config keys 'target' and 'targets': give one of them (target: "
                              "one 0/1 column, or targets: a list of them)")
        if not cfg["targets"]:
            raise ConfigError("config key 'targets': list at least one 0/1 column")
    for t in target_list(cfg):
        if t == ID:
            raise ConfigError(f"config key {'targets' if cfg['targets'] else 'target'!r}: "
                              f"{ID!r} is the customer identifier, not a 0/1 target")
    by = cfg["split"]["by"]
    if by is not None and by != "customer" and (by in target_list(cfg) or by in
                                                 cfg["features"]["categorical"] + cfg["features"]["numeric"]):
        raise ConfigError(f"config key 'split.by': {short_repr(by)} is a target or a feature; "
                          "the split column is the snapshot month")
    if cfg["split"]["test"] is not None:
        if by == "customer":
            raise ConfigError("config key 'split.test': a test month needs an out-of-time split "
                              "(split.by: a snapshot-month column), not split.by: customer")
        cfg["split"]["test"] = split_month(cfg["split"]["test"])


def config_columns(cfg: dict) -> set:
    """Every column name the config itself uses (features, targets, split, segments...).

    Examples
    --------
    >>> sorted(config_columns(validate_config({"data": {"synthetic": {"n": 10}}})))[:3]
    ['age', 'card_spend', 'digital_logins_6m']
    """
    names = set(cfg["features"]["categorical"]) | set(cfg["features"]["numeric"])
    names |= set(target_list(cfg)) | set(cfg["segments"]["features"])
    names |= set(cfg["outliers"]["features"]) | {cfg["association"]["target"]}
    if cfg["split"]["by"] not in (None, "customer"):
        names.add(cfg["split"]["by"])
    return names


def _check_column_map(cfg: dict) -> None:
    """``data.columns`` maps onto known names only, and never two columns onto one."""
    mapping = cfg["data"]["columns"]
    known = set(COLUMNS) | {SNAPSHOT} | config_columns(cfg)
    for theirs, ours in mapping.items():
        if ours not in known:
            raise ConfigError(
                f"config key 'data.columns.{theirs}': maps to {short_repr(ours)}, which is neither "
                "a bankml schema column (see bankml.schema.describe_schema()) nor a column this "
                "config uses (features, target(s), split.by)")
    seen = {}
    for theirs, ours in mapping.items():
        if ours in seen:
            raise ConfigError(f"config key 'data.columns': {short_repr(seen[ours])} and "
                              f"{short_repr(theirs)} are both mapped to {short_repr(ours)}")
        seen[ours] = theirs


def _check_labels(cfg: dict) -> None:
    """A user labels file: readable, and each entry ``column: {zh: ..., en: ...}``."""
    if cfg["labels"] is None:
        return
    try:
        read_user_labels(cfg["labels"])
    except ConfigError as exc:
        raise ConfigError(f"config key 'labels': {exc}") from None


def read_user_labels(path) -> dict:
    """The user labels file as ``{column: {"zh": ..., "en": ...}}`` (validated).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.yaml"
    >>> _ = p.write_text("branch_score: {zh: 客户经理评分, en: RM score}", encoding="utf-8")
    >>> read_user_labels(p)["branch_score"]["zh"]
    '客户经理评分'
    """
    from .labels import check_bilingual

    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}: expected a mapping column -> {{zh: ..., en: ...}}, got "
                          f"{short_repr(data)}")
    return {str(col): check_bilingual(leaf, f"{Path(path).name}: {col}")
            for col, leaf in data.items()}


def config_file(name: str) -> Path:
    """Path of one of bankml's own YAML files (``quickstart.yaml``, ``labels.yaml``, ...).

    The public way for notebooks and scripts to reach the shipped configs, wherever the
    package is installed (``BANKML_CONFIG_DIR`` overrides); copy the file to edit it.

    Parameters
    ----------
    name : str
        File name inside the configs folder.

    Returns
    -------
    Path
        The file's path; :class:`~bankml.errors.ConfigError` if it does not exist.

    Examples
    --------
    >>> config_file("quickstart.yaml").name
    'quickstart.yaml'
    """
    return config_path(name)


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
    >>> load_config(config_file("quickstart.yaml"))["data"]["synthetic"]["n"] > 0
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


def _url_without_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: keep its scheme only
        return url.split(":", 1)[0] + ":..."


def flatten_config(cfg: dict, prefix: str = "") -> dict:
    """Dotted keys to values, e.g. ``{"tree.max_depth": 4}`` (for MLflow params).

    Examples
    --------
    >>> flatten_config({"tree": {"max_depth": 4}, "data": {"synthetic": {"n": 10}}})
    {'tree.max_depth': 4, 'data.synthetic.n': 10}
    """
    out = {}
    for key, value in cfg.items():
        if prefix + key == "data.columns":
            # one text value: a bank's headers may not be valid MLflow keys
            out[prefix + key] = ", ".join(f"{a} -> {b}" for a, b in value.items())
        elif isinstance(value, dict) and not (prefix + key).endswith("bands"):
            out.update(flatten_config(value, f"{prefix}{key}."))
        elif prefix + key == "data.sql.url" and isinstance(value, str):
            out[prefix + key] = _url_without_password(value)  # params reach MLflow
        else:
            out[prefix + key] = value
    return out
