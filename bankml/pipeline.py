"""The main job: the config-driven WM-propensity pipeline, every run tracked in MLflow.

One function per stage (data, stars, split, models, evaluation, rules, cross-sell, segments,
outliers, plots); :func:`run` chains them, times them, and logs everything to MLflow.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import load_config
from .errors import DataError, EngineNotAvailableError
from .metrics import gains_curve, ranking_report
from .schema import HOLDING_FLAGS, ID, LABEL, STAR_INPUTS, validate_customers

__all__ = ["run", "main", "PipelineResult", "StageUnavailable", "load_data", "score_stars",
           "split_customers", "fit_tree", "fit_sklearn_tree", "fit_star_baseline",
           "evaluate_models", "extract_rules", "mine_cross_sell", "segment_customers",
           "flag_outliers"]

TREE, SKLEARN, STARS = "infogain_tree", "sklearn_entropy_tree", "star_baseline"
_FRACTIONS = (0.1, 0.2)


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


# --------------------------------------------------------------------------- stages
def load_data(cfg: dict, data=None):
    """The customer table (validated, with the label) and, for synthetic data, the truth.

    ``data`` (a DataFrame or a CSV/Parquet path) overrides the config's source.

    Returns
    -------
    (DataFrame, DataFrame or None, str)
        Customers, ground truth (synthetic only) and a description of the source that
        names no customer.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> cfg = validate_config({"data": {"synthetic": {"n": 300, "seed": 1}}})
    >>> df, truth, source = load_data(cfg)
    >>> len(df), source
    (300, 'synthetic make_customers(n=300, seed=1)')
    """
    truth = None
    source = data if data is not None else cfg["data"]["path"]
    if isinstance(source, pd.DataFrame):
        df, desc = source, f"DataFrame ({len(source):,} rows)"
    elif source is not None:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"data file {path} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            df = pd.read_csv(path, dtype={ID: "string"})
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            raise DataError(f"data file {path.name}: expected a .csv or .parquet file")
        desc = f"file {path.name} ({len(df):,} rows)"
    else:
        from .datasets import make_customers

        syn = cfg["data"]["synthetic"]
        df, truth = make_customers(syn["n"], seed=syn["seed"], return_truth=True)
        desc = f"synthetic make_customers(n={syn['n']:,}, seed={syn['seed']})"
    needed = _needed_columns(cfg)
    validate_customers(df, require_label=True, required=tuple(needed))
    if df[LABEL].nunique() < 2:
        raise DataError(f"column {LABEL!r} holds a single class; a propensity model needs buyers "
                        "and non-buyers")
    return df.reset_index(drop=True), truth, desc


def _needed_columns(cfg):
    cols = list(cfg["features"]["categorical"]) + list(cfg["features"]["numeric"])
    if cfg["segments"]["enabled"]:
        cols += cfg["segments"]["features"]
    if cfg["outliers"]["enabled"]:
        cols += cfg["outliers"]["features"]
    return list(dict.fromkeys(cols))


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


def split_customers(df: pd.DataFrame, cfg: dict):
    """Train/test row positions, split by customer and stratified by the label.

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

    # ids are unique (validated), so splitting rows splits customers
    pos = np.arange(len(df))
    train, test = train_test_split(pos, test_size=cfg["split"]["test_size"],
                                   random_state=cfg["split"]["seed"], stratify=df[LABEL])
    if np.intersect1d(df[ID].to_numpy()[train], df[ID].to_numpy()[test]).size:
        raise DataError(f"a customer id is in both train and test; ids in {ID!r} must be unique")
    return np.sort(train), np.sort(test)


def _features(cfg):
    return list(cfg["features"]["categorical"]) + list(cfg["features"]["numeric"])


def _binner(cfg):
    bands = cfg["features"]["bands"]
    if not bands:
        return "passthrough"
    from .tree import ConceptHierarchyBinner

    return ConceptHierarchyBinner(bands={k: list(v) for k, v in bands.items()})


def fit_tree(X: pd.DataFrame, y, cfg: dict):
    """The information-gain tree (bankml.tree) behind the concept-hierarchy binner."""
    from sklearn.pipeline import Pipeline

    InfoGainTreeClassifier = _require("bankml.tree", "InfoGainTreeClassifier")
    t = cfg["tree"]
    tree = InfoGainTreeClassifier(
        criterion=t["criterion"], max_depth=t["max_depth"], min_samples_split=t["min_samples_split"],
        min_samples_leaf=t["min_samples_leaf"], min_gain=t["min_gain"], pruning=t["pruning"],
        confidence=t["confidence"], class_weight=t["class_weight"], random_state=t["random_state"])
    return Pipeline([("bands", _binner(cfg)), ("tree", tree)]).fit(X, y)


def fit_sklearn_tree(X: pd.DataFrame, y, cfg: dict):
    """scikit-learn's entropy CART tree on the same features and limits, for comparison.

    Categories (and bands, in band order) are ordinal-encoded, since CART splits binary.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from sklearn.tree import DecisionTreeClassifier

    from .tree import band_labels

    t = cfg["tree"]
    bands = cfg["features"]["bands"]
    parts = []
    if bands:
        parts.append(("bands", OrdinalEncoder(categories=[band_labels(c) for c in bands.values()]),
                      list(bands)))
    if cfg["features"]["categorical"]:
        parts.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                      list(cfg["features"]["categorical"])))
    encode = ColumnTransformer(parts, remainder="passthrough", verbose_feature_names_out=False)
    tree = DecisionTreeClassifier(
        criterion="entropy", max_depth=t["max_depth"], min_samples_split=t["min_samples_split"],
        min_samples_leaf=t["min_samples_leaf"], class_weight=t["class_weight"],
        random_state=t["random_state"])
    return Pipeline([("bands", _binner(cfg)), ("encode", encode), ("tree", tree)]).fit(X, y)


def fit_star_baseline(df_train: pd.DataFrame, y, cfg: dict):
    """The star baseline as a classifier: ranks customers by star points."""
    StarBaselineClassifier = _require("bankml.stars", "StarBaselineClassifier")
    return StarBaselineClassifier(policy=_policy(cfg)).fit(df_train[list(STAR_INPUTS)], y)


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


def extract_rules(model, X_test: pd.DataFrame, y_test, cfg: dict, out_dir: Path, *,
                  X_train=None, y_train=None, model_version=None) -> dict:
    """IF-THEN rules of the tree, their test precision, and the zh/en/md/csv/sql/html files.

    The support and confidence the exported rules show are counted on ``(X_train, y_train)``
    without weights (a ``class_weight="balanced"`` tree's own leaf shares are weighted and
    would overstate the buyer rate); without them the tree's leaf evidence is kept.
    ``rules_test_evaluation.csv`` holds the same measures on the test set. ``model_version``
    is printed on the HTML sheets, so a branch can tell which model its sheet came from.
    """
    RuleSet = _require("bankml.rules", "RuleSet")
    rc = cfg["rules"]
    # lossless: merges conditions on one feature, never changes a prediction
    rules = RuleSet.from_tree(model[-1], target=rc["target"], label_column=LABEL).simplify()
    if X_train is not None:
        rules = rules.with_evidence(model[:-1].transform(X_train), np.asarray(y_train))
    Xb = model[:-1].transform(X_test)
    fired = np.asarray(rules.predict(Xb)) == rc["target"]
    y = np.asarray(y_test)
    precision = float((y[fired] == rc["target"]).mean()) if fired.any() else float("nan")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "rules_zh.txt": rules.to_text(lang="zh"),
        "rules_en.txt": rules.to_text(lang="en"),
        "rules.md": rules.to_markdown(),
        "rules.sql": rules.to_sql(rc["sql_table"], ID),
        "rules_zh.html": rules.to_html(title="理财产品购买倾向规则", lang="zh",
                                       model_version=model_version),
        "rules_en.html": rules.to_html(title="WM purchase propensity rules", lang="en",
                                       model_version=model_version),
    }
    for name, text in files.items():
        text = str(text)
        # a file a person opens ends with a newline (``cat`` would run into the prompt)
        (out_dir / name).write_text(text if text.endswith("\n") else text + "\n",
                                    encoding="utf-8")
    rules.to_frame().to_csv(out_dir / "rules.csv", index=False)
    held = rules.evaluate(Xb, y_test)
    if isinstance(held, pd.DataFrame):
        held.to_csv(out_dir / "rules_test_evaluation.csv", index=False)
    frame = rules.to_frame(lang="en")
    top = frame.sort_values(["confidence", "support"], ascending=False).head(rc["top"])
    top_md = "\n".join(f"{i}. IF {r.conditions} THEN {r.prediction_label} (support {r.support}, "
                       f"confidence {r.confidence:.0%}, lift {r.lift:.2f})"
                       for i, r in enumerate(top.itertuples(index=False), 1))
    return {"ruleset": rules, "precision": precision, "coverage": float(fired.mean()),
            "n_rules": len(frame), "markdown": files["rules.md"], "top_markdown": top_md,
            "text_en": files["rules_en.txt"], "text_zh": files["rules_zh.txt"]}


# the cross-sell and segment reports are read by people: 0.720547, not 0.720547272746418
# (rules.csv keeps full precision: it is the rule set's own export)
_CSV_DECIMALS = 6


def mine_cross_sell(df_train: pd.DataFrame, cfg: dict, out_dir: Path) -> dict:
    """Association rules whose consequent is the configured target product."""
    to_transactions, mine_rules = _require("bankml.association", "to_transactions", "mine_rules")
    ac = cfg["association"]
    items = [c for c in HOLDING_FLAGS if c in df_train.columns]
    if ac["target"] not in items:
        raise DataError(f"association.target {ac['target']!r} is not a holding flag column "
                        f"of the data ({', '.join(items)})")
    tx = to_transactions(df_train, items=items)
    rules = mine_rules(tx, min_support=ac["min_support"], min_confidence=ac["min_confidence"],
                       consequents=[ac["target"]], max_len=ac["max_len"], engine=ac["engine"])
    top = rules.sort_values(["lift", "confidence"], ascending=False).head(ac["top"]).copy()
    for col in ("antecedents", "consequents"):
        if col in top:
            top[col] = top[col].map(lambda s: " & ".join(sorted(map(str, s))))
    out_dir.mkdir(parents=True, exist_ok=True)
    top.round(_CSV_DECIMALS).to_csv(out_dir / "cross_sell_rules.csv", index=False)
    return {"n_rules": int(len(rules)), "top": top,
            "best_lift": float(top["lift"].max()) if len(top) else float("nan"),
            "best_confidence": float(top["confidence"].max()) if len(top) else float("nan")}


def segment_customers(df: pd.DataFrame, cfg: dict, star_points, out_dir: Path) -> dict:
    """Customer segments with bilingual profiles (and the profile heatmap)."""
    CustomerSegmenter = _require("bankml.segment", "CustomerSegmenter")
    sc = cfg["segments"]
    seg = CustomerSegmenter(n_clusters=sc["n_clusters"], method=sc["method"],
                            features=list(sc["features"]), sample_size=sc["sample_size"],
                            random_state=sc["seed"])
    X = df[list(sc["features"])]
    seg.fit(X)
    value = None if star_points is None else np.asarray(star_points, float)
    out_dir.mkdir(parents=True, exist_ok=True)
    profiles = {}
    for lang in ("en", "zh"):
        profiles[lang] = seg.profile(value=value, lang=lang)
        profiles[lang].round(_CSV_DECIMALS).to_csv(out_dir / f"segments_{lang}.csv")
    return {"segmenter": seg, "profile": profiles["en"], "n_segments": int(seg.n_clusters_)}


def flag_outliers(df: pd.DataFrame, cfg: dict, truth=None) -> dict:
    """Isolation-forest flags on activity columns; counts only (never which customers)."""
    IsolationForestDetector = _require("bankml.outliers", "IsolationForestDetector")
    oc = cfg["outliers"]
    det = IsolationForestDetector(contamination=oc["contamination"],
                                  features=list(oc["features"]), random_state=oc["seed"])
    det.fit(df[list(oc["features"])])
    flags = np.asarray(det.labels_).astype(bool)
    out = {"detector": det, "n_flagged": int(flags.sum()), "share_flagged": float(flags.mean())}
    if truth is not None and "planted_anomaly" in truth:
        planted = np.asarray(truth["planted_anomaly"]).astype(bool)
        if planted.any():
            out["planted_recall"] = float(flags[planted].mean())
    return out


# --------------------------------------------------------------------------- plots
def _plot_gains(curves: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, g in curves.items():
        ax1.plot(g["share_customers"], g["share_positives"], label=name)
        ax2.plot(g["share_customers"][1:], g["lift"][1:], label=name)
    ax1.plot([0, 1], [0, 1], "k:", lw=1, label="random")
    ax1.set(xlabel="share of customers contacted", ylabel="share of WM buyers reached",
            title="Cumulative gains (test set)")
    ax2.axhline(1, color="k", ls=":", lw=1)
    ax2.set(xlabel="share of customers contacted", ylabel="lift", title="Cumulative lift")
    ax1.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_stars(stars: pd.Series, y, path: Path) -> Path:
    import matplotlib.pyplot as plt

    names = {0: "not rated", 1: "quasi", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7"}
    levels = sorted(names)
    counts = stars.value_counts().reindex(levels, fill_value=0)
    rate = pd.Series(np.asarray(y, float), index=stars.index).groupby(stars.to_numpy()).mean()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([names[k] for k in levels], counts.to_numpy(), color="#4878a8")
    ax.set(xlabel="contribution star", ylabel="customers", title="Star-level distribution")
    ax2 = ax.twinx()
    ax2.plot([names[k] for k in levels], rate.reindex(levels).to_numpy(), "o-", color="#c44e52")
    ax2.set_ylabel("WM buyer rate")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_tree(model, path: Path) -> Path:
    import matplotlib.pyplot as plt

    tree = model[-1]
    leaves = tree.get_n_leaves() if hasattr(tree, "get_n_leaves") else 16
    depth = tree.get_depth() if hasattr(tree, "get_depth") else 4
    # wide enough that leaf boxes do not overlap
    fig, ax = plt.subplots(figsize=(max(14.0, 1.7 * leaves), max(6.0, 1.6 * (depth + 1))))
    tree.plot(ax=ax)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_segments(seg, path: Path) -> Path:
    import matplotlib.pyplot as plt

    ax = seg.plot_profiles(lang="en")
    fig = ax.figure
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- running
@dataclass
class PipelineResult:
    """What :func:`run` produced; no customer rows are kept."""

    config: dict
    metrics: pd.DataFrame
    stages: pd.DataFrame
    run_id: str | None = None
    tracking_uri: str | None = None
    model: object = None
    model_path: Path | None = None
    registered: dict | None = None
    rules: dict | None = None
    cross_sell: dict | None = None
    segments: dict | None = None
    outliers: dict | None = None
    artifacts: list = field(default_factory=list)
    mlflow_seconds: float = 0.0
    data_source: str | None = None
    reports_dir: Path | None = None

    def summary(self, lang: str = "en") -> str:
        """The model-vs-baseline table and the stage table, as printed by ``bankml run``.

        ``lang="zh"`` gives the headings, model names and metric names in Chinese.
        """
        from .labels import check_lang, term

        check_lang(lang)

        def t(key, **values):
            return term(f"pipeline_{key}", lang).format(**values)
        fmt = pd.DataFrame({c: [_metric_cell(c, v) for v in self.metrics[c]]
                            for c in self.metrics.columns}, index=self.metrics.index)
        fmt = fmt.rename(index=lambda k: t(k), columns=lambda k: t(k))
        fmt.index.name = t("model")
        st = self.stages.copy()
        st["status"] = st["status"].map(lambda s: _status_text(s, t)).str.slice(0, 70)
        st = st.rename(columns={"status": t("status"), "seconds": t("seconds")})
        st.index.name = t("stage")
        lines = []
        if self.data_source:
            lines += [t("data", source=_source_text(self.data_source, t)), ""]
        # Chinese characters are two columns wide on a terminal
        with pd.option_context("display.unicode.east_asian_width", lang == "zh"):
            table = fmt.to_string()
        lines += [t("vs_baseline"), table, "",
                  t("stages"), st.to_string(float_format=lambda v: f"{v:.2f}")]
        if self.registered:
            r = self.registered
            lines += ["", t("registered", version=r["version"])
                      + (t("promoted") if r["promoted"] else
                         t("not_promoted", previous=r["previous_champion"]))]
        total = float(self.stages["seconds"].sum())
        if total:
            lines += [t("mlflow_time", mlflow=self.mlflow_seconds, total=total,
                        share=self.mlflow_seconds / total)]
        if self.run_id:
            lines += [t("mlflow_run", run_id=self.run_id, uri=self.tracking_uri)]
        if self.reports_dir is not None:
            lines += [t("reports", path=self.reports_dir.resolve())]
        if self.model_path is not None:
            card = self.model_path.with_name(self.model_path.stem + ".md")
            lines += [t("model_file", path=self.model_path.resolve(),
                        checksum=self.model_path.name + ".sha256", card=card.name)]
        return "\n".join(lines)


def _metric_cell(name, v) -> str:
    """One metric for a person: AUC to 3 places, lifts to 2, the shares (capture,
    precision, flagged) as percentages, a metric a model lacks as "-"."""
    v = float(v)
    if v != v:
        return "-"
    if name == "auc":
        return f"{v:.3f}"
    return f"{v:.2f}" if name.startswith("lift") else f"{v:.1%}"


def _card_metrics(metrics: pd.DataFrame) -> list:
    """The metrics table as the model card prints it (see :func:`_metric_cell`)."""
    return [{"model": k, **{c: _metric_cell(c, v) for c, v in r.items()}}
            for k, r in metrics.iterrows()]


_SKIPPED = "skipped (disabled in config)"
_UNAVAILABLE = "not available: "


def _status_text(status, t):
    """A stage's status in the summary's language (the MLflow tags keep the English)."""
    if status == "ok":
        return t("status_ok")
    if status == _SKIPPED:
        return t("status_skipped")
    if status.startswith(_UNAVAILABLE):
        return t("status_unavailable", reason=status[len(_UNAVAILABLE):])
    return status


def _source_text(desc, t):
    """The data description from :func:`load_data` in the summary's language."""
    m = re.fullmatch(r"synthetic (make_customers\(.*\))", desc)
    if m:
        return t("source_synthetic", call=m.group(1))
    m = re.fullmatch(r"file (.+) \(([\d,]+) rows\)", desc)
    if m:
        return t("source_file", name=m.group(1), rows=m.group(2))
    return desc


class _Stages:
    """Runs stages under one tqdm bar, timing each; an unavailable optional stage is recorded."""

    def __init__(self, names, progress):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=len(names), desc="bankml", unit="stage", disable=not progress,
                        file=sys.stderr, leave=False)
        self.rows = []

    def __call__(self, name, fn, *args, optional=True, enabled=True, **kwargs):
        self.bar.set_description(f"bankml: {name}")
        t0 = time.perf_counter()
        out, status = None, "ok"
        try:
            if not enabled:
                status = _SKIPPED
            else:
                out = fn(*args, **kwargs)
        except StageUnavailable as exc:
            if not optional:
                raise
            status = f"{_UNAVAILABLE}{exc}"
        finally:
            self.rows.append({"stage": name, "status": status,
                              "seconds": time.perf_counter() - t0})
            self.bar.update(1)
        return out

    def status(self, name):
        return next(r["status"] for r in self.rows if r["stage"] == name)

    def table(self):
        return pd.DataFrame(self.rows).set_index("stage")

    def close(self):
        self.bar.close()


_STAGE_NAMES = ("data", "stars", "split", "tree", "sklearn_tree", "star_baseline", "evaluate",
                "rules", "association", "segments", "outliers", "plots", "save", "mlflow_log",
                "register")


def run(config, data=None, tracking_uri=None, progress=None, verbose=True,
        lang="en") -> PipelineResult:
    """Run the WM-propensity pipeline end to end and track it in MLflow.

    Parameters
    ----------
    config : str, Path or dict
        A pipeline config (see :mod:`bankml.config`), e.g. ``configs/quickstart.yaml``.
    data : DataFrame or path, optional
        Customer table to use instead of the config's data source.
    tracking_uri : str, optional
        MLflow store; default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` here.
    progress : bool, optional
        Show the tqdm bar (default: the config's ``output.progress``).
    verbose : bool
        Print the summary table at the end.
    lang : {"en", "zh"}
        Language of the printed summary.

    Returns
    -------
    PipelineResult

    Notes
    -----
    Every stage runs inside one MLflow run; an exception marks the run FAILED and nothing is
    registered. A stage whose bankml package is not in this build is recorded as
    "not available" (stage status and MLflow tag) unless the main model needs it.
    Outputs go to ``output.reports_dir`` and ``output.models_dir`` relative to the working
    directory.
    """
    from .persistence import model_card, move_model, save_model
    from .tracking import RunTracker, register_and_promote

    from .labels import check_lang

    check_lang(lang)
    cfg = load_config(config)
    out = cfg["output"]
    reports = Path(out["reports_dir"])
    reports.mkdir(parents=True, exist_ok=True)
    progress = out["progress"] if progress is None else progress
    stages = _Stages(_STAGE_NAMES, progress)
    staging = None
    try:
        with RunTracker(cfg["mlflow"]["experiment"], tracking_uri=tracking_uri,
                        run_name=out["model_name"], tags={"bankml.pipeline": "wm_propensity"}) as rt:
            stages.rows.append({"stage": "mlflow_setup", "status": "ok", "seconds": rt.seconds})
            rt.log_config(cfg)
            df, truth, source = stages("data", load_data, cfg, data, optional=False)
            stars = stages("stars", score_stars, df, cfg)
            train, test = stages("split", split_customers, df, cfg, optional=False)
            feats = _features(cfg)
            X_train, X_test = df.iloc[train][feats], df.iloc[test][feats]
            y_train, y_test = df[LABEL].to_numpy()[train], df[LABEL].to_numpy()[test]
            model = stages("tree", fit_tree, X_train, y_train, cfg, optional=False)
            sk = stages("sklearn_tree", fit_sklearn_tree, X_train, y_train, cfg)
            base = stages("star_baseline", fit_star_baseline, df.iloc[train], y_train, cfg)

            def _evaluate():
                fitted = {TREE: (model, X_test)}
                if sk is not None:
                    fitted[SKLEARN] = (sk, X_test)
                if base is not None:
                    fitted[STARS] = (base, df.iloc[test][list(STAR_INPUTS)])
                scores = {k: m.predict_proba(X)[:, 1] for k, (m, X) in fitted.items()}
                preds = {k: m.predict(X) for k, (m, X) in fitted.items()}
                return evaluate_models(scores, y_test, preds)
            metrics, curves = stages("evaluate", _evaluate, optional=False)

            rules = stages("rules", extract_rules, model, X_test, y_test, cfg, reports / "rules",
                           X_train=X_train, y_train=y_train,
                           model_version=f"{out['model_name']}, MLflow run {rt.run_id}")
            if rules is not None:
                metrics.loc[TREE, "rule_precision"] = rules["precision"]
            cross = stages("association", mine_cross_sell, df.iloc[train], cfg, reports,
                           enabled=cfg["association"]["enabled"])
            points = None if stars is None else stars["star_points"]
            segs = stages("segments", segment_customers, df, cfg, points, reports,
                          enabled=cfg["segments"]["enabled"])
            outl = stages("outliers", flag_outliers, df, cfg, truth,
                          enabled=cfg["outliers"]["enabled"])

            def _plots():
                plots = reports / "plots"
                plots.mkdir(parents=True, exist_ok=True)
                made = [_plot_gains(curves, plots / "gains_lift.png")]
                if stars is not None:
                    made.append(_plot_stars(stars["contribution_star"], df[LABEL],
                                            plots / "star_distribution.png"))
                if hasattr(model[-1], "plot"):
                    made.append(_plot_tree(model, plots / "tree.png"))
                if segs is not None:
                    made.append(_plot_segments(segs["segmenter"], plots / "segment_profiles.png"))
                return made
            plots = stages("plots", _plots, enabled=out["plots"]) or []

            def _save():
                data_desc = {"source": source, "customers": f"{len(df):,}",
                             "test share": f"{cfg['split']['test_size']:.0%}",
                             "WM buyer rate": f"{df[LABEL].mean():.1%}",
                             "features": ", ".join(feats)}
                table = _card_metrics(metrics)
                card = model_card(f"WM propensity ({out['model_name']})", data=data_desc,
                                  metrics=table, rules=rules["top_markdown"] if rules else None,
                                  notes=_availability_note(stages))
                # Saved beside models/ first and published only once the run has succeeded,
                # so a failed run never replaces the model a branch is using.
                path = staging / f"{out['model_name']}.joblib"
                save_model(model, path, card=card)
                return path
            staging = Path(out["models_dir"]) / f".staging-{rt.run_id}"
            model_path = stages("save", _save, optional=False)

            def _log():
                for name, row in metrics.iterrows():
                    rt.log_metrics(row.to_dict(), prefix=f"{name}.test.")
                extra = {"data.customers": len(df), "data.test_customers": len(test),
                         "data.wm_rate": float(df[LABEL].mean())}
                if rules:
                    extra.update({"rules.n": rules["n_rules"], "rules.coverage": rules["coverage"]})
                if cross:
                    extra.update({"cross_sell.n_rules": cross["n_rules"],
                                  "cross_sell.best_lift": cross["best_lift"]})
                if segs:
                    extra["segments.n"] = segs["n_segments"]
                if outl:
                    extra.update({f"outliers.{k}": v for k, v in outl.items() if k != "detector"})
                rt.log_metrics(extra)
                rt.log_artifacts(reports, "reports")
                rt.log_artifact(model_path.with_name(model_path.stem + ".md"), "model_card")
                return rt.log_model(model, X_train)
            info = stages("mlflow_log", _log, optional=False)
            rt.set_tags({f"bankml.stage.{r['stage']}": r["status"][:250] for r in stages.rows})
            rt.log_metrics({f"time.{r['stage']}_s": r["seconds"] for r in stages.rows})

            registered = None
            if cfg["mlflow"]["register"]:
                # registration is last: reached only when every stage above succeeded
                registered = stages("register", register_and_promote, info.model_uri,
                                    cfg["mlflow"]["registered_model"],
                                    float(metrics.loc[TREE, "auc"]), rt.tracking_uri,
                                    optional=False)
                rt.seconds += stages.rows[-1]["seconds"]  # registry calls are MLflow time too
            rt.log_metrics({"time.mlflow_s": rt.seconds})
            model_path = move_model(model_path, Path(out["models_dir"]))
    finally:
        stages.close()
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    result = PipelineResult(
        config=cfg, metrics=metrics, stages=stages.table(), run_id=rt.run_id,
        tracking_uri=rt.tracking_uri, model=model, model_path=model_path, registered=registered,
        rules=rules, cross_sell=cross, segments=segs, outliers=outl,
        artifacts=[str(p) for p in plots], mlflow_seconds=rt.seconds, data_source=source,
        reports_dir=reports)
    if verbose:
        print(result.summary(lang))
    return result


def _availability_note(stages) -> str | None:
    missing = [f"- {r['stage']}: {r['status']}" for r in stages.rows if r["status"] != "ok"]
    return "\n".join(missing) if missing else None


def main(config_path, data=None, tracking_uri=None, lang="en") -> PipelineResult:
    """Entry point of ``bankml run``."""
    return run(config_path, data=data, tracking_uri=tracking_uri, lang=lang)
