"""The pipeline's stages: each takes typed inputs and returns a small frozen dataclass.

Stages write files only into the folder they are given (the run's staging folder); they never
touch MLflow, the registry or the published outputs: :mod:`._run` does that.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import config_columns, read_user_labels, split_month, target_list
from ..errors import ConfigError, DataError, EngineNotAvailableError
from ..metrics import gains_curve, ranking_report
from ..rules import (evaluate as evaluate_rules, simplify, to_csv, to_frame, to_html,
                     to_markdown, to_sql, to_text, with_evidence)
from ..schema import (COLUMNS, HOLDING_FLAGS, ID, LABEL, SNAPSHOT, STAR_INPUTS,
                      apply_column_mapping, check_extra_features, check_target,
                      validate_customers)
from ._data import DataResult, DataSource

from ..rules import check_fidelity, rules_from_pipeline

TREE, SKLEARN, STARS = "infogain_tree", "sklearn_entropy_tree", "star_baseline"
BOOSTING = "boosting_reference"
SCORECARD = "rule_scorecard"  # the main model's row with model.kind: rule_scorecard
_FRACTIONS = (0.1, 0.2)
# the cross-sell and segment reports are read by people: 0.720547, not 0.720547272746418
# (rules.csv keeps full precision: it is the rule set's own export)
_CSV_DECIMALS = 6


class StageUnavailable(EngineNotAvailableError):
    """A stage needs a bankml package (or name) that is not installed in this build."""


def _require(module: str, *names):
    """Import ``names`` from ``module``, or raise :class:`StageUnavailable` if it is absent.

    Only a missing module or name counts as "not available"; any other import error is a
    real failure and propagates.
    """
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module or module.startswith(exc.name + ".")):
            raise StageUnavailable(f"{module} is not available in this build") from None
        raise
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise StageUnavailable(f"{module}.{missing[0]} is not available in this build")
    return [getattr(mod, n) for n in names] if len(names) > 1 else getattr(mod, names[0])


def target(cfg: dict) -> str:
    """The 0/1 column this run's model predicts (one of :func:`bankml.config.target_list`)."""
    return cfg.get("target") or LABEL


def target_config(cfg: dict, name: str) -> dict:
    """The config of one product's run when ``targets:`` lists several (or one non-default).

    Its model is registered as ``<mlflow.registered_model>-<target>`` and saved as
    ``<output.model_name>-<target>``; with several targets its reports go to
    ``<output.reports_dir>/<target>/``. A single ``wm_buyer`` target keeps today's names, so
    an existing registry's champion stays the one compared against.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> cfg = validate_config({"data": {"synthetic": {"n": 10}}, "targets": ["wm_buyer", "has_fund"]})
    >>> fund = target_config(cfg, "has_fund")
    >>> fund["mlflow"]["registered_model"], fund["output"]["reports_dir"]
    ('bankml-wm-propensity-has_fund', 'outputs/has_fund')
    """
    several = len(target_list(cfg)) > 1
    out = copy.deepcopy(cfg)
    out["target"], out["targets"] = name, None
    if several or name != LABEL:
        out["mlflow"]["registered_model"] = f"{cfg['mlflow']['registered_model']}-{name}"
        out["output"]["model_name"] = f"{cfg['output']['model_name']}-{name}"
    if several:
        out["output"]["reports_dir"] = str(Path(cfg["output"]["reports_dir"]) / name)
    return out


def features(cfg: dict) -> list:
    """The model's input columns, categorical then numeric, as the config lists them.

    A model never reads its own target (with ``targets:`` the other products stay).
    """
    cols = list(cfg["features"]["categorical"]) + list(cfg["features"]["numeric"])
    return [c for c in cols if c != target(cfg)]


def _needed_columns(cfg):
    cols = features(cfg)
    if cfg["segments"]["enabled"]:
        cols += cfg["segments"]["features"]
    if cfg["outliers"]["enabled"]:
        cols += cfg["outliers"]["features"]
    return list(dict.fromkeys(cols))


# --------------------------------------------------------------------------- data
def load_data(cfg: dict, data=None) -> DataResult:
    """The validated customer table (with the label) and, for synthetic data, the truth.

    ``data`` (a DataFrame or a CSV/Parquet path) overrides the config's source; a
    :class:`DataResult` is taken as already read and checked. The bank's columns are renamed
    by ``data.columns`` (:func:`bankml.schema.apply_column_mapping`), then
    :func:`check_table` runs every check for every target before any model; targets come
    back as 0/1 ``int8``. Unpacks as ``frame, truth, source``.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> cfg = validate_config({"data": {"synthetic": {"n": 300, "seed": 1}}})
    >>> df, truth, source = load_data(cfg)
    >>> len(df), source.describe(len(df), lang="en")
    (300, 'synthetic make_customers(n=300, seed=1)')
    """
    if isinstance(data, DataResult):
        return data  # read and checked once for every target (a run of several products)
    source = data if isinstance(data, DataSource) else DataSource.from_config(cfg, data)
    # only what the job uses: the schema's columns and those the config names (a bank's
    # table may have hundreds more)
    got = source.read(columns=sorted(set(COLUMNS) | {SNAPSHOT} | config_columns(cfg)))
    # the reader may have renamed already (idempotent); the checks read bankml's names
    frame = apply_column_mapping(got.frame, cfg["data"]["columns"])
    check_table(frame, cfg)
    # checked 0/1: as small integers, so True/False or 0.0/1.0 give the classes 0 and 1
    # the rules (rules.target: 1) and the metrics expect
    odd = [t for t in target_list(cfg) if frame[t].dtype != np.int8]
    if odd:
        frame = frame.assign(**{t: frame[t].astype(np.int8) for t in odd})
    return got if frame is got.frame else DataResult(frame, got.truth, got.source)


def check_table(df: pd.DataFrame, cfg: dict) -> None:
    """Every check of the table a run makes before any model: targets 0/1, schema columns by
    the contract, extra features by kind, both classes, and the out-of-time split's months."""
    targets = target_list(cfg)
    for name in targets:
        check_target(df, name)
    snapshot = split_column(cfg, df)
    needed = _needed_columns(cfg) + targets
    validate_customers(df, require_label=LABEL in targets,
                       required=tuple(c for c in needed if c in COLUMNS), snapshot=snapshot)
    numeric = list(cfg["features"]["numeric"])
    for section in ("segments", "outliers"):  # their extra columns are numbers too
        if cfg[section]["enabled"]:
            numeric += cfg[section]["features"]
    check_extra_features(df, numeric=[c for c in numeric if c not in targets],
                         categorical=cfg["features"]["categorical"])
    for name in targets:
        _check_classes(df[name], cfg["split"]["test_size"], name)
        if snapshot is not None:
            _out_of_time_rows(df, cfg, snapshot, name)


def _check_classes(label: pd.Series, test_size: float, name: str = LABEL) -> None:
    """Refuse a label a stratified train/test split (and a propensity model) cannot use."""
    counts = label.value_counts()
    if len(counts) < 2:
        raise DataError(f"column {name!r} holds a single class ({_plain(counts.index[0])!r} in all "
                        f"{len(label):,} rows); a propensity model needs buyers and non-buyers")
    # a stratified split puts at least one of each class on each side
    if counts.min() < 2:
        rare = _plain(counts.idxmin())
        raise DataError(f"column {name!r} has {counts.min()} row(s) of class {rare!r}; a "
                        "train/test split stratified by the label needs at least 2 of each class")
    n_test = int(np.ceil(test_size * len(label)))
    if n_test < len(counts) or len(label) - n_test < len(counts):
        raise DataError(f"{len(label):,} customers are too few to split {test_size:.0%} off "
                        f"for testing with each class on both sides")


# --------------------------------------------------------------------------- stars, split
def _policy(cfg):
    StarPolicy = _require("bankml.stars", "StarPolicy")
    name = cfg["stars"]["policy"]
    return StarPolicy.default() if name == "default" else StarPolicy.from_yaml(name)


def score_stars(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Star points and contribution star of every customer (the bank's baseline rating)."""
    StarScorer = _require("bankml.stars", "StarScorer")
    scorer = StarScorer(_policy(cfg))
    points = scorer.star_points(df)
    return pd.DataFrame({"star_points": points.to_numpy(float),
                         "contribution_star": scorer.contribution_star(points).to_numpy()},
                        index=df.index)


@dataclass(frozen=True, eq=False)
class Split:
    """Train/test row positions (sorted) and the model's inputs on each side.

    Unpacks as ``train, test``.
    """

    train: np.ndarray
    test: np.ndarray
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    #: how the rows were split: {"by": "customer", "test_size": ...} or {"by": column,
    #: "test": month, "train_months": [...], "later_months": [...]} (out of time)
    how: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.train, self.test))

    def describe(self, lang: str) -> str:
        """Which split was used, for the summary, the report and the model card."""
        from ._text import text

        h = self.how
        if h.get("by", "customer") == "customer":
            return text("pipeline_split_customer", lang, share=f"{h.get('test_size', 0):.0%}",
                        n_train=f"{len(self.train):,}", n_test=f"{len(self.test):,}")
        months = h["train_months"]
        span = months[0] if len(months) == 1 else f"{months[0]}–{months[-1]}"
        return text("pipeline_split_month", lang, column=h["by"], train=span, test=h["test"],
                    n_train=f"{len(self.train):,}", n_test=f"{len(self.test):,}")

    def tag(self) -> str:
        """The split in one line of English, for the MLflow tag ``bankml.split``."""
        h = self.how
        if h.get("by", "customer") == "customer":
            return f"random by customer, test_size={h.get('test_size')}, seed={h.get('seed')}"
        return (f"out of time by {h['by']}: train {','.join(h['train_months'])}; "
                f"test {h['test']}; unused later months {','.join(h['later_months']) or 'none'}")


def _plain(value):
    """A NumPy scalar as the Python value it holds, so a message reads 1, not np.int64(1)."""
    return value.item() if isinstance(value, np.generic) else value


def split_customers(df: pd.DataFrame, cfg: dict) -> Split:
    """Train/test split by customer, stratified by the label.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> from bankml.datasets import make_customers
    >>> cfg = validate_config({"data": {"synthetic": {"n": 1000}}, "split": {"test_size": 0.25}})
    >>> train, test = split_customers(make_customers(1000), cfg)
    >>> len(train), len(test)
    (750, 250)
    """
    from sklearn.model_selection import train_test_split

    label = target(cfg)
    column = split_column(cfg, df)
    if column is not None:
        train, test, how = _out_of_time_rows(df, cfg, column, label)
    else:
        _check_classes(df[label], cfg["split"]["test_size"], label)
        # ids are unique (validated), so splitting rows splits customers
        pos = np.arange(len(df))
        train, test = train_test_split(pos, test_size=cfg["split"]["test_size"],
                                       random_state=cfg["split"]["seed"], stratify=df[label])
        if np.intersect1d(df[ID].to_numpy()[train], df[ID].to_numpy()[test]).size:
            raise DataError(f"a customer id is in both train and test; ids in {ID!r} must be unique")
        how = {"by": "customer", "test_size": cfg["split"]["test_size"],
               "seed": cfg["split"]["seed"]}
    how["target"] = label
    train, test = np.sort(train), np.sort(test)
    feats, y = features(cfg), df[label].to_numpy()
    return Split(train, test, df.iloc[train][feats], df.iloc[test][feats], y[train], y[test], how)


def split_column(cfg: dict, df: pd.DataFrame) -> str | None:
    """The snapshot-month column of an out-of-time split, or None for a split by customer.

    ``split.by`` names it (``customer``: never); unset, a ``snapshot_month`` column in the
    table makes the split out of time, the honest test of a model that predicts next months.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> from bankml.datasets import make_customer_snapshots
    >>> cfg = validate_config({"data": {"synthetic": {"n": 10}}})
    >>> split_column(cfg, make_customer_snapshots(50, months=2))
    'snapshot_month'
    >>> split = split_customers(make_customer_snapshots(500, months=3), cfg)
    >>> split.describe("en")
    'out-of-time split by snapshot_month: train on 2024-04–2024-05 (1,000 rows), test on 2024-06 (500 rows)'
    """
    by = cfg["split"]["by"]
    if by == "customer":
        return None
    if by is None:
        return SNAPSHOT if SNAPSHOT in df.columns else None
    if by not in df.columns:
        raise ConfigError(f"config key 'split.by': the table has no column {by!r} (give the "
                          "snapshot-month column, or split.by: customer)")
    return by


def _months(df: pd.DataFrame, column: str) -> np.ndarray:
    """The column as "YYYY-MM" text per row; a missing or unreadable month names its rows."""
    from .._messages import row_positions

    s = df[column]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.strftime("%Y-%m").to_numpy(dtype=object)
    else:
        if pd.api.types.is_float_dtype(s.dtype):
            # 202406 read back as 202406.0 (a CSV column with a blank): whole numbers, as ints
            whole = s.notna() & (s == s.round())
            s = s.astype(object).where(~whole, s.where(whole).astype("Int64").astype(object))
        text_values = s.astype("string")
        lookup = {v: split_month(v) for v in text_values.dropna().unique()}
        out = text_values.map(lookup).to_numpy(dtype=object, na_value=None)
    bad = np.array([m is None or m is pd.NA or m != m for m in out], bool)
    if bad.any():
        raise DataError(f"column {column!r} (the snapshot month) is missing or not a month such "
                        f"as '2024-06' in {row_positions(bad)}")
    return out.astype(str)


def _out_of_time_rows(df: pd.DataFrame, cfg: dict, column: str, label: str):
    """Train on the months before the test month, test on it; later months are left out
    (their labels would come from after the test period)."""
    months = _months(df, column)
    present = sorted(set(months))
    test_month = cfg["split"]["test"] or present[-1]
    if test_month not in present:
        raise ConfigError(f"config key 'split.test': month {test_month} is not in column "
                          f"{column!r} (months present: {', '.join(present)})")
    earlier = [m for m in present if m < test_month]
    if not earlier:
        raise ConfigError(f"config key 'split.test': no month before {test_month} to train on "
                          f"(months present: {', '.join(present)})")
    train, test = np.flatnonzero(months < test_month), np.flatnonzero(months == test_month)
    y = df[label].to_numpy()
    for side, rows, when in (("training", train, f"before {test_month}"),
                             ("test", test, f"in {test_month}")):
        if len(np.unique(y[rows])) < 2:
            raise DataError(f"column {label!r} holds a single class in the {side} months "
                            f"({when}, {len(rows):,} rows); the model needs buyers and non-buyers")
    how = {"by": column, "test": test_month, "train_months": earlier,
           "later_months": [m for m in present if m > test_month]}
    return train, test, how


# --------------------------------------------------------------------------- models
def _binner(cfg):
    bands = cfg["features"]["bands"]
    if not bands:
        return "passthrough"
    from ..tree import ConceptHierarchyBinner

    return ConceptHierarchyBinner(bands={k: list(v) for k, v in bands.items()})


def fit_tree(X: pd.DataFrame, y, cfg: dict):
    """The information-gain tree (bankml.tree) behind the concept-hierarchy binner (with
    ``model.kind: rule_scorecard`` the job runs :func:`._scorecard.fit_scorecard` instead).

    The ``tree:`` section's keys are the estimator's parameter names; the estimator's own
    constraints validate them.
    """
    from sklearn.pipeline import Pipeline

    InfoGainTreeClassifier = _require("bankml.tree", "InfoGainTreeClassifier")
    model = InfoGainTreeClassifier(**cfg["tree"])
    m = cfg["model"]
    if m["select"]:
        # the subtree is chosen by cross-validation within the rule budget, then refitted
        InfoGainTreeCV = _require("bankml.tree", "InfoGainTreeCV")
        model = InfoGainTreeCV(estimator=model, max_rules=m["max_rules"], scoring=m["scoring"],
                               cv=m["cv"], random_state=cfg["split"]["seed"])
    return Pipeline([("bands", _binner(cfg)), ("tree", model)]).fit(X, y)


def _coded_columns(cfg):
    """The model's banded and categorical columns (the encoder puts them first, in order)."""
    feats = set(features(cfg))
    return ([b for b in cfg["features"]["bands"] if b in feats],
            [c for c in cfg["features"]["categorical"] if c in feats])


def _ordinal_encoder(cfg):
    """Categories (and bands, in band order) as ordinal codes, for scikit-learn's models."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    from ..tree import band_labels

    bands, cats = _coded_columns(cfg)
    parts = []
    if bands:
        parts.append(("bands", OrdinalEncoder(categories=[band_labels(cfg["features"]["bands"][b])
                                                          for b in bands]), bands))
    if cats:
        parts.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                      cats))
    return ColumnTransformer(parts, remainder="passthrough", verbose_feature_names_out=False)


def fit_sklearn_tree(X: pd.DataFrame, y, cfg: dict):
    """scikit-learn's entropy CART tree on the same features and limits, for comparison.

    Categories (and bands, in band order) are ordinal-encoded, since CART splits binary.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    t = cfg["tree"]
    encode = _ordinal_encoder(cfg)
    # the CART analogues of the information-gain tree's limits (its own names differ)
    tree = DecisionTreeClassifier(
        criterion="entropy", max_depth=t["max_depth"], min_samples_split=t["min_samples_split"],
        min_samples_leaf=t["min_samples_leaf"], class_weight=t["class_weight"],
        random_state=t["random_state"])
    return Pipeline([("bands", _binner(cfg)), ("encode", encode), ("tree", tree)]).fit(X, y)


def fit_boosting(X: pd.DataFrame, y, cfg: dict):
    """Gradient boosting (scikit-learn's HistGradientBoostingClassifier, its defaults) on the
    same features: the reference row of the comparison -- how much ranking the readable model
    gives up -- never published or turned into rules."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    n_cat, n = sum(map(len, _coded_columns(cfg))), len(features(cfg))
    gbm = HistGradientBoostingClassifier(
        categorical_features=[i < n_cat for i in range(n)] if n_cat else None,
        random_state=cfg["split"]["seed"])
    return Pipeline([("bands", _binner(cfg)), ("encode", _ordinal_encoder(cfg)),
                     ("boosting", gbm)]).fit(X, y)


def fit_star_baseline(df_train: pd.DataFrame, y, cfg: dict):
    """The star baseline as a classifier: ranks customers by star points."""
    StarBaselineClassifier = _require("bankml.stars", "StarBaselineClassifier")
    return StarBaselineClassifier(policy=_policy(cfg)).fit(df_train[list(STAR_INPUTS)], y)


@dataclass(frozen=True)
class FittedModels:
    """The main model (a Pipeline: binner + information-gain tree) and its comparators."""

    tree: object
    sklearn: object = None
    stars: object = None
    boosting: object = None
    #: the main model's row in the comparison table: TREE, or SCORECARD (model.kind)
    kind: str = TREE


# --------------------------------------------------------------------------- evaluation
def evaluate_models(scores: dict, y_test, predictions: dict | None = None):
    """AUC, lift and capture in the top 10%/20% per model; gains curves for the plot.

    ``predictions`` (0/1 per model) adds ``precision``: the buyer rate among the customers a
    model flags, i.e. the precision of its IF-THEN rules (a tree's rules are exactly its
    leaves; the star baseline's rule is "star points above its threshold"), and
    ``flagged_share``.

    Examples
    --------
    >>> table, curves = evaluate_models({"perfect": [0.9, 0.1, 0.2, 0.8]}, [1, 0, 0, 1],
    ...                                 predictions={"perfect": [1, 0, 1, 1]})
    >>> table.loc["perfect", ["auc", "capture_top20", "precision"]].round(3).tolist()
    [1.0, 0.5, 0.667]
    """
    rows, curves = {}, {}
    y = np.asarray(y_test)
    for name, s in scores.items():
        rows[name] = ranking_report(y_test, s, _FRACTIONS)
        curves[name] = gains_curve(y_test, s)
        if predictions is not None and name in predictions:
            flagged = np.asarray(predictions[name]) == 1
            rows[name]["precision"] = float(y[flagged].mean()) if flagged.any() else float("nan")
            rows[name]["flagged_share"] = float(flagged.mean())
    return pd.DataFrame(rows).T.rename_axis("model"), curves


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Test-set metrics per model (rows: TREE, SKLEARN, STARS) and their gains curves."""

    metrics: pd.DataFrame
    curves: dict

    def with_rule_precision(self, precision: float, row: str = TREE) -> "Evaluation":
        """A copy whose main model's row holds the precision of its exported rules."""
        metrics = self.metrics.copy()
        metrics.loc[row, "rule_precision"] = precision
        return Evaluation(metrics, self.curves)


def evaluate(models: FittedModels, df: pd.DataFrame, split: Split) -> Evaluation:
    """Score every fitted model on the same test customers."""
    fitted = {models.kind: (models.tree, split.X_test)}
    if models.sklearn is not None:
        fitted[SKLEARN] = (models.sklearn, split.X_test)
    if models.stars is not None:
        fitted[STARS] = (models.stars, df.iloc[split.test][list(STAR_INPUTS)])
    if models.boosting is not None:
        fitted[BOOSTING] = (models.boosting, split.X_test)
    scores = {k: m.predict_proba(X)[:, 1] for k, (m, X) in fitted.items()}
    preds = {k: m.predict(X) for k, (m, X) in fitted.items()}
    return Evaluation(*evaluate_models(scores, split.y_test, preds))


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True, eq=False)
class RulesResult:
    """The tree's IF-THEN rules (on the raw columns), their test precision and texts."""

    ruleset: object
    precision: float
    coverage: float
    n_rules: int
    top_markdown: str
    text_en: str
    text_zh: str
    markdown: str
    top_markdown_zh: str = ""  # the same top rules in Chinese, for the Chinese model card
    labels: object = None  # the labels the texts were written with (user labels included)
    #: "rules" (a RuleSet) or SCORECARD (``ruleset`` is a bankml.rules.Scorecard: every
    #: customer gets a total, so there is no rule coverage)
    kind: str = "rules"

    def metrics(self) -> dict:
        if self.kind == SCORECARD:
            return {"scorecard.n_rules": self.n_rules,
                    "scorecard.base_points": self.ruleset.base_points}
        return {"rules.n": self.n_rules, "rules.coverage": self.coverage}


def _write_text(path: Path, text) -> None:
    text = str(text)
    # a file a person opens ends with a newline (``cat`` would run into the prompt)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def extract_rules(model, split: Split, cfg: dict, out_dir: Path, *,
                  model_version=None) -> RulesResult:
    """IF-THEN rules of the tree in the raw columns' units, and the files a branch reads.

    Support and confidence are counted on the training customers without weights (a
    ``class_weight="balanced"`` tree's own leaf shares would overstate the buyer rate);
    ``rules_test_evaluation.csv`` holds the same measures on the test set. ``model_version``
    is printed on the HTML sheets, so a branch can tell which model its sheet came from.
    (With ``model.kind: rule_scorecard`` the job runs :func:`._scorecard.extract_scorecard`
    instead.)
    """
    rc = cfg["rules"]
    rules = rules_from_pipeline(model, rc["target"], label_column=target(cfg))
    rules = simplify(rules)  # lossless: merges conditions on one feature
    rules = with_evidence(rules, split.X_train, split.y_train)
    fired = np.asarray(rules.predict(split.X_test)) == rc["target"]
    y = np.asarray(split.y_test)
    precision = float((y[fired] == rc["target"]).mean()) if fired.any() else float("nan")
    return write_rules(rules, evaluate_rules(rules, split.X_test, split.y_test), cfg, out_dir,
                       model_version=model_version, evidence_rows=len(split.X_train),
                       precision=precision, coverage=float(fired.mean()))


def write_rules(rules, test_evaluation: pd.DataFrame, cfg: dict, out_dir: Path, *,
                model_version, evidence_rows: int, precision: float,
                coverage: float) -> RulesResult:
    """The rule files a branch reads, from rules that carry their training evidence.

    ``test_evaluation`` is :func:`bankml.rules.evaluate`'s table on the test customers (or
    :func:`bankml.rules.evaluate_counts`' from counts made in Spark); ``precision`` and
    ``coverage`` the rules' on the test customers. Shared by the pandas and Spark jobs, so
    both write the same files under the same names.
    """
    rc = cfg["rules"]
    lab = rule_labels(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = _rules_titles(cfg, lab)
    files = {
        "rules_zh.txt": to_text(rules, lang="zh", labels=lab),
        "rules_en.txt": to_text(rules, lang="en", labels=lab),
        "rules.md": to_markdown(rules, lang="en", labels=lab),  # rules.md / rules.csv: English, as before
        "rules_zh.md": to_markdown(rules, lang="zh", labels=lab),
        "rules.sql": to_sql(rules, rc["sql_table"], ID),
        "rules_zh.html": to_html(rules, title=titles["zh"], lang="zh", labels=lab,
                                 model_version=model_version, evidence_rows=evidence_rows),
        "rules_en.html": to_html(rules, title=titles["en"], lang="en", labels=lab,
                                 model_version=model_version, evidence_rows=evidence_rows),
    }
    for name, text in files.items():
        _write_text(out_dir / name, text)
    to_csv(rules, out_dir / "rules.csv", lang="en", labels=lab)
    to_csv(rules, out_dir / "rules_zh.csv", lang="zh", labels=lab)
    test_evaluation.to_csv(out_dir / "rules_test_evaluation.csv", index=False)
    frame = to_frame(rules, lang="en", labels=lab)
    top = frame.sort_values(["confidence", "support"], ascending=False).head(rc["top"])
    top_md = "\n".join(f"{i}. IF {r.conditions} THEN {r.prediction_label} (support {r.support}, "
                       f"confidence {r.confidence:.0%}, lift {r.lift:.2f})"
                       for i, r in enumerate(top.itertuples(index=False), 1))
    zh = to_frame(rules, lang="zh", labels=lab).loc[top.index]
    top_zh = "\n".join(f"{i}. 如果 {r.conditions} 则 {r.prediction_label}（支持 {r.support} 人，"
                       f"置信度 {r.confidence:.0%}，提升度 {r.lift:.2f}）"
                       for i, r in enumerate(zh.itertuples(index=False), 1))
    return RulesResult(rules, precision, coverage, len(frame), top_md,
                       str(files["rules_en.txt"]), str(files["rules_zh.txt"]),
                       str(files["rules.md"]), top_zh, lab)


def _rules_titles(cfg: dict, lab) -> dict:
    """The rule sheets' titles: today's for the WM buyer, the product's name for another."""
    name = target(cfg)
    if name == LABEL:
        return {"zh": "理财产品购买倾向规则", "en": "WM purchase propensity rules"}
    from ..labels import default_labels

    lab = lab or default_labels()
    return {"zh": f"{lab.column(name, 'zh')}购买倾向规则",
            "en": f"{lab.column(name, 'en')}: purchase propensity rules"}


def rule_labels(cfg: dict):
    """bankml's labels with the user's column labels (top-level ``labels:``) on top, so a rule
    reads ``客户经理评分 > 80``; None (the built-in labels) without a user file."""
    if cfg.get("labels") is None:
        return None
    from .._resources import load_builtin_yaml
    from ..labels import Labels

    data = copy.deepcopy(load_builtin_yaml("labels.yaml"))
    data["columns"] = {**(data.get("columns") or {}), **read_user_labels(cfg["labels"])}
    return Labels(data)


def check_rules_fidelity(rules: RulesResult, model, split: Split):
    """The fidelity gate's measurement: every export engine vs ``model.predict`` on the test
    customers' RAW columns. Returns the FidelityReport; the caller logs it, then raises."""
    return check_fidelity(rules.ruleset, model, split.X_test)


def fidelity_metrics(report) -> dict:
    """``rules.fidelity_rows``, ``rules.fidelity_mismatches`` (all engines) and per engine."""
    out = {"rules.fidelity_rows": report.n_rows,
           "rules.fidelity_mismatches": int(sum(report.mismatches.values()))}
    out.update({f"rules.fidelity_mismatches.{k}": v for k, v in report.mismatches.items()})
    return out


# --------------------------------------------------------------------------- cross-sell etc.
@dataclass(frozen=True, eq=False)
class CrossSell:
    """Association rules whose consequent is the target product (the top ones kept)."""

    n_rules: int
    top: pd.DataFrame
    best_lift: float
    best_confidence: float

    def metrics(self) -> dict:
        return {"cross_sell.n_rules": self.n_rules, "cross_sell.best_lift": self.best_lift}


def mine_cross_sell(df_train: pd.DataFrame, cfg: dict, out_dir: Path) -> CrossSell:
    """Association rules whose consequent is the configured target product."""
    to_transactions, mine_rules = _require("bankml.association", "to_transactions", "mine_rules")
    ac = cfg["association"]
    tx = to_transactions(df_train, items=cross_sell_items(df_train.columns, cfg))
    rules = mine_rules(tx, min_support=ac["min_support"], min_confidence=ac["min_confidence"],
                       consequents=[ac["target"]], max_len=ac["max_len"], engine=ac["engine"])
    return write_cross_sell(rules, cfg, out_dir)


def cross_sell_items(columns, cfg: dict) -> list:
    """The holdings flags among ``columns``; ``association.target`` must be one of them."""
    items = [c for c in HOLDING_FLAGS if c in columns]
    target_item = cfg["association"]["target"]
    if target_item not in items:
        raise DataError(f"association.target {target_item!r} is not a holding flag column "
                        f"of the data ({', '.join(items)})")
    return items


def write_cross_sell(rules: pd.DataFrame, cfg: dict, out_dir: Path) -> CrossSell:
    """The cross-sell files from :func:`bankml.association.mine_rules`' table (any engine,
    Spark's included): the ``association.top`` rules by lift, for code and for people."""
    ac = cfg["association"]
    top = rules.sort_values(["lift", "confidence"], ascending=False).head(ac["top"]).copy()
    for col in ("antecedents", "consequents"):
        top[col] = top[col].map(lambda s: " & ".join(sorted(map(str, s))))
    out_dir.mkdir(parents=True, exist_ok=True)
    # cross_sell_rules.csv keeps mlxtend's column names and item keys (code reads it back);
    # the _zh / _en files are for people: product names and plain headings
    top.round(_CSV_DECIMALS).to_csv(out_dir / "cross_sell_rules.csv", index=False)
    for lang in ("zh", "en"):
        _readable_cross_sell(top, lang).round(_CSV_DECIMALS).to_csv(
            out_dir / f"cross_sell_rules_{lang}.csv", index=False)
    return CrossSell(int(len(rules)), top,
                     float(top["lift"].max()) if len(top) else float("nan"),
                     float(top["confidence"].max()) if len(top) else float("nan"))


#: mlxtend's measures a person needs, with their labels.yaml terms; the rest stay in the
#: machine-readable file only
_CROSS_SELL_COLUMNS = {"antecedents": "cross_sell_antecedents",
                       "consequents": "cross_sell_consequents",
                       "antecedent support": "cross_sell_antecedent_support",
                       "support": "cross_sell_support", "confidence": "confidence",
                       "lift": "lift"}


def _readable_cross_sell(top: pd.DataFrame, lang: str) -> pd.DataFrame:
    from ..labels import column_label, term

    sep = "、" if lang == "zh" else " & "
    out = top[[c for c in _CROSS_SELL_COLUMNS if c in top]].copy()
    for col in ("antecedents", "consequents"):
        if col in out:
            out[col] = out[col].map(lambda s: sep.join(column_label(i, lang)
                                                        for i in str(s).split(" & ")))
    return out.rename(columns={c: term(k, lang) for c, k in _CROSS_SELL_COLUMNS.items()})


@dataclass(frozen=True, eq=False)
class Segments:
    """The fitted segmenter and its English profile."""

    segmenter: object
    profile: pd.DataFrame
    n_segments: int

    def metrics(self) -> dict:
        return {"segments.n": self.n_segments}


def segment_customers(df: pd.DataFrame, cfg: dict, star_points, out_dir: Path) -> Segments:
    """Customer segments with bilingual profiles."""
    CustomerSegmenter = _require("bankml.segment", "CustomerSegmenter")
    sc = cfg["segments"]
    seg = CustomerSegmenter(n_clusters=sc["n_clusters"], method=sc["method"],
                            features=list(sc["features"]), sample_size=sc["sample_size"],
                            random_state=sc["seed"])
    seg.fit(df[list(sc["features"])])
    return write_segments(seg, None if star_points is None else np.asarray(star_points, float),
                          out_dir)


def write_segments(seg, value, out_dir: Path) -> Segments:
    """The bilingual segment profiles of a fitted segmenter (pandas, or
    :func:`bankml.spark.fit_segments`' whose counts were made in Spark); ``value``: star
    points per training customer, or None for the segmenter's own (its ``star_points``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profiles = {}
    for lang in ("en", "zh"):
        profiles[lang] = seg.profile(value=value, lang=lang)
        profiles[lang].round(_CSV_DECIMALS).to_csv(out_dir / f"segments_{lang}.csv")
    return Segments(seg, profiles["en"], int(seg.n_clusters_))


@dataclass(frozen=True, eq=False)
class Outliers:
    """Isolation-forest flags: counts only, never which customers."""

    detector: object
    n_flagged: int
    share_flagged: float
    planted_recall: float | None = None

    def metrics(self) -> dict:
        out = {"outliers.n_flagged": self.n_flagged, "outliers.share_flagged": self.share_flagged}
        if self.planted_recall is not None:
            out["outliers.planted_recall"] = self.planted_recall
        return out


def flag_outliers(df: pd.DataFrame, cfg: dict, truth=None) -> Outliers:
    """Isolation-forest flags on activity columns."""
    IsolationForestDetector = _require("bankml.outliers", "IsolationForestDetector")
    oc = cfg["outliers"]
    det = IsolationForestDetector(contamination=oc["contamination"],
                                  features=list(oc["features"]), random_state=oc["seed"])
    det.fit(df[list(oc["features"])])
    flags = np.asarray(det.labels_).astype(bool)
    recall = None
    if truth is not None and "planted_anomaly" in truth:
        planted = np.asarray(truth["planted_anomaly"]).astype(bool)
        if planted.any():
            recall = float(flags[planted].mean())
    return Outliers(det, int(flags.sum()), float(flags.mean()), recall)
