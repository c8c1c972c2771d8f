"""`run`: the stages in order, inside one MLflow run, then registration and publication."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import tracking
from ..config import load_config, target_list
from ..labels import DEFAULT_LANG, LANGS, check_lang
from ..persistence import model_card, save_model
from ..schema import LABEL, STAR_INPUTS
from . import _scorecard
from . import _stages as S
from ._plots import make_plots
from ._publish import Published, Staging, output_dirs
from ._report import make_reports
from ._runner import _Runner, _tag_stages
from ._summary import (PipelineResult, StageStatus, TargetsResult, card_metrics,
                       stage_table)

__all__ = ["run", "main"]


STAGE_NAMES = ("data", "stars", "split", "tree", "sklearn_tree", "star_baseline", "boosting", "evaluate",
               "rules", "fidelity", "association", "segments", "outliers", "plots", "report",
               "save", "champion", "mlflow_log", "register", "publish")


def _fidelity_gate(rt, report) -> None:
    """Log the rules' fidelity, then fail the run if any engine disagrees with the model."""
    rt.log_metrics(S.fidelity_metrics(report))
    skipped = "; ".join(f"{k}: {v}" for k, v in sorted(report.skipped.items()))
    rt.set_tags({"bankml.rules.fidelity": "ok" if report.ok else "mismatch",
                 "bankml.rules.fidelity_skipped": skipped[:250] or "none"})
    report.raise_for_mismatch()


def _save(model, data, split, ev, rules, cfg, staging: Staging, notes) -> Path:
    out = cfg["output"]
    df, target = data.frame, S.target(cfg)
    data_desc = {"source": data.describe("en"), "customers": f"{len(df):,}"}
    if split.how.get("by", "customer") == "customer":
        data_desc["test share"] = f"{cfg['split']['test_size']:.0%}"
    data_desc["split"] = split.describe("en")
    data_desc["WM buyer rate" if target == LABEL else f"{target} rate"] = f"{df[target].mean():.1%}"
    data_desc["features"] = ", ".join(S.features(cfg))
    from ..labels import column_label

    what = "WM" if target == LABEL else column_label(target, "en")
    card = model_card(f"{what} propensity ({out['model_name']})", data=data_desc,
                      metrics=card_metrics(ev.metrics),
                      rules=rules.top_markdown, notes=notes)
    path = staging.models / f"{out['model_name']}.joblib"
    save_model(model, path, card={"en": card,
                                  "zh": _card_zh(data, df, cfg, ev, rules, notes, split)})
    return path


def _card_zh(data, df, cfg, ev, rules, notes, split) -> str:
    """The model card in Chinese (``<model>_zh.md``): the same facts, Chinese words."""
    from ..labels import column_label, term
    from ._text import text

    target = S.target(cfg)
    data_desc = {term("card_source", "zh"): data.describe("zh"),
                 term("card_customers", "zh"): f"{len(df):,}"}
    if split.how.get("by", "customer") == "customer":
        data_desc[term("card_test_share", "zh")] = f"{cfg['split']['test_size']:.0%}"
    data_desc[term("pipeline_stage_split", "zh")] = split.describe("zh")
    rate_key = (term("card_buyer_rate", "zh") if target == LABEL
                else f"{column_label(target, 'zh')}比例")
    data_desc[rate_key] = f"{df[target].mean():.1%}"
    data_desc[term("card_features", "zh")] = "、".join(S.features(cfg))
    rows = [{text(f"pipeline_{k}", "zh"): (text(f"pipeline_{v}", "zh") if k == "model" else v)
             for k, v in row.items()} for row in card_metrics(ev.metrics)]
    what = "理财产品" if target == LABEL else column_label(target, "zh")
    return model_card(f"{what}购买倾向（{cfg['output']['model_name']}）", data=data_desc,
                      metrics=rows, rules=rules.top_markdown_zh if rules else None,
                      notes=notes, lang="zh")


def _compare(model, split, cfg, rt):
    mc = cfg["mlflow"]
    return tracking.compare_with_champion(
        mc["registered_model"], model, split.X_test, split.y_test, features=S.features(cfg),
        min_positives=mc["champion_min_positives"], tracking_uri=rt.tracking_uri)


def _log(rt, data, split, ev, parts, staging: Staging, model_file: Path, model, comparison):
    """Metrics, the staged reports and card, the comparison and the model, into the run."""
    for name, row in ev.metrics.iterrows():
        rt.log_metrics(row.to_dict(), prefix=f"{name}.test.")
    df = data.frame
    target = split.how.get("target", LABEL)
    extra = {"data.customers": len(df), "data.test_customers": len(split.test),
             "data.target_rate": float(df[target].mean())}
    if target == LABEL:  # the name dashboards of earlier runs read
        extra["data.wm_rate"] = extra["data.target_rate"]
    for part in parts:
        if part is not None:
            extra.update(part.metrics())
    rt.log_metrics(extra)
    if comparison is not None:
        rt.set_tags({"bankml.champion.decision": comparison.decision})
    for entry in staging.report_entries():
        (rt.log_artifacts if entry.is_dir() else rt.log_artifact)(
            entry, "reports/" + entry.name if entry.is_dir() else "reports")
    rt.log_artifact(model_file.with_name(model_file.stem + ".md"), "model_card")
    zh_card = model_file.with_name(model_file.stem + "_zh.md")
    if zh_card.exists():
        rt.log_artifact(zh_card, "model_card")
    return rt.log_model(model, split.X_train)


def _notes(records) -> str | None:
    missing = [f"- {r.stage}: {r.tag}" for r in records if r.status is not StageStatus.OK]
    return "\n".join(missing) if missing else None


@dataclass(frozen=True, eq=False)
class _Tracked:
    """What the stages inside the MLflow run produced."""

    data: object
    models: S.FittedModels
    evaluation: S.Evaluation
    rules: S.RulesResult
    fidelity: object
    cross_sell: object
    segments: object
    outliers: object
    plots: object
    model_file: Path
    comparison: object
    model_info: object
    source_text: dict = None  # the data and the split, per language


@dataclass(frozen=True)
class _StillChampion:
    """Asked just before publishing: is this run's version still ``@champion``?"""

    mlflow_cfg: dict
    registered: dict | None
    tracking_uri: str

    def __call__(self) -> bool:
        if not self.mlflow_cfg["register"]:
            return True  # no registry: the latest successful run publishes
        from mlflow import MlflowClient

        name = self.mlflow_cfg["registered_model"]
        champion = MlflowClient(self.tracking_uri).get_model_version_by_alias(
            name, tracking.CHAMPION)
        return int(champion.version) == int(self.registered["version"])


def _tracked_stages(cfg, source, st: _Runner, rt, staging: Staging) -> _Tracked:
    """The stages inside the MLflow run; a failed run is tagged with how far it got."""
    try:
        return _stages_in_order(cfg, source, st, rt, staging)
    except BaseException:
        try:
            _tag_stages(rt, st)
        except Exception:  # noqa: BLE001 -- the stage's own error is the one to report
            pass
        raise


def _stages_in_order(cfg, source, st: _Runner, rt, staging: Staging) -> _Tracked:
    """The stages inside the MLflow run, in order; files go to ``staging`` only."""
    out, register = cfg["output"], cfg["mlflow"]["register"]
    data = st("data", S.load_data, cfg, source, optional=False)
    df = data.frame
    stars = st("stars", S.score_stars, df, cfg)
    split = st("split", S.split_customers, df, cfg, optional=False)
    rt.set_tags({"bankml.split": split.tag()[:250], "bankml.target": S.target(cfg)})
    # the report, the plots and the card name the split beside the data source
    source_text = {lg: f"{data.describe(lg)}; {split.describe(lg)}" for lg in LANGS}
    # the plots and the report read the label under its schema name
    view = df if S.target(cfg) == LABEL else df.assign(**{LABEL: df[S.target(cfg)]})
    # config key model.kind: the same stages, the other model
    card = cfg["model"]["kind"] == S.SCORECARD
    fit_model = _scorecard.fit_scorecard if card else S.fit_tree
    extract = _scorecard.extract_scorecard if card else S.extract_rules
    models = S.FittedModels(
        st("tree", fit_model, split.X_train, split.y_train, cfg, optional=False),
        st("sklearn_tree", S.fit_sklearn_tree, split.X_train, split.y_train, cfg),
        st("star_baseline", S.fit_star_baseline, df.iloc[split.train], split.y_train, cfg),
        st("boosting", S.fit_boosting, split.X_train, split.y_train, cfg,
           enabled=cfg["model"]["boosting_reference"]),
        kind=S.SCORECARD if cfg["model"]["kind"] == S.SCORECARD else S.TREE)
    ev = st("evaluate", S.evaluate, models, df, split, optional=False)
    rules = st("rules", extract, models.tree, split, cfg, staging.reports / "rules",
               model_version=f"{out['model_name']}, MLflow run {rt.run_id}", optional=False)
    ev = ev.with_rule_precision(rules.precision, models.kind)
    fidelity = st("fidelity", S.check_rules_fidelity, rules, models.tree, split, optional=False)
    _fidelity_gate(rt, fidelity)
    cross = st("association", S.mine_cross_sell, df.iloc[split.train], cfg, staging.reports,
               enabled=cfg["association"]["enabled"])
    segs = st("segments", S.segment_customers, df, cfg,
              None if stars is None else stars["star_points"], staging.reports,
              enabled=cfg["segments"]["enabled"])
    outl = st("outliers", S.flag_outliers, df, cfg, data.truth,
              enabled=cfg["outliers"]["enabled"])
    # every figure in English (gains_lift.png) and Chinese (gains_lift_zh.png)
    plots = st("plots", make_plots, ev.curves, view, models.tree, stars, segs,
               out_dir=staging.reports / "plots", lang=("en", "zh"), enabled=out["plots"])
    # the page for the people who decide, published and logged with the other reports
    st("report", make_reports, ev, rules, view, stars=stars, segments=segs,
       data_source=source_text, target=S.target(cfg),
       model_name=out["model_name"], run_id=rt.run_id, out_dir=staging.reports)
    model_file = st("save", _save, models.tree, data, split, ev, rules, cfg, staging,
                    _notes(st.records), optional=False)
    comparison = st("champion", _compare, models.tree, split, cfg, rt, optional=False,
                    enabled=register)
    info = st("mlflow_log", _log, rt, data, split, ev, (rules, cross, segs, outl), staging,
              model_file, models.tree, comparison, optional=False)
    _tag_stages(rt, st)
    rt.log_metrics({f"time.{r.stage}_s": r.seconds for r in st.records})
    rt.log_metrics({"time.mlflow_s": rt.seconds})
    return _Tracked(data, models, ev, rules, fidelity, cross, segs, outl, plots, model_file,
                    comparison, info, source_text)


def run(config, data=None, tracking_uri=None, progress=None, verbose=True,
        lang=DEFAULT_LANG):
    """Run the WM-propensity pipeline end to end, tracked in MLflow.

    ``config`` is a config path or dict (:mod:`bankml.config`); ``data`` a DataFrame, a
    CSV/Parquet path or a :class:`DataSource` replacing the config's source; ``tracking_uri``
    defaults to ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``; ``progress`` to the
    config's ``output.progress``; ``lang`` is the printed summary's language.

    The stages write into staging folders; the rules must reproduce the model on every test
    customer (the fidelity gate). After the run FINISHED the model is registered as
    ``@candidate``; only a new ``@champion`` (or any run, with registration off) publishes its
    files into ``output.reports_dir`` and ``output.models_dir``. A failure anywhere leaves
    both folders as they were and the run FAILED.

    With ``targets:`` (several 0/1 product columns) the table is read and checked once for
    all of them before anything is written, then each product runs as above (its own MLflow
    run, ``<registered_model>-<target>``, reports in ``<reports_dir>/<target>/``), and a
    next-best-product table goes into ``output.reports_dir``; the result is then a
    :class:`TargetsResult`.
    """
    check_lang(lang)
    cfg = load_config(config)
    if cfg["engine"] == "spark":  # the whole job inside Spark: bankml/pipeline/_spark.py
        from ._spark import run_spark
        return run_spark(cfg, data=data, tracking_uri=tracking_uri, verbose=verbose, lang=lang)
    targets = target_list(cfg)
    if len(targets) > 1:  # a bad table stops the job before the first product writes
        data = S.load_data(cfg, data)
    results = {t: _run_target(S.target_config(cfg, t), data, tracking_uri, progress)
               for t in targets}
    result = results[targets[0]] if len(targets) == 1 else _next_best(cfg, data, results)
    if verbose:
        print(result.summary(lang))
    return result


def _next_best(cfg, data, results) -> TargetsResult:
    """The next-best-product table of a run of several products, published only when every
    product's model was (otherwise the table would mix this run's and @champion's models)."""
    from ._next_best import ProductModel, log_summary, next_best_product, write_next_best

    products = {t: ProductModel(S.target_config(cfg, t), r.model, r.rules.ruleset, r.rules.labels)
                for t, r in results.items()}
    nb = next_best_product(data.frame, products)
    unpublished = [t for t, r in results.items() if r.model_path is None]
    paths = None if unpublished else write_next_best(nb, products, cfg["output"]["reports_dir"])
    log_summary([r.run_id for r in results.values()], nb, products,
                next(iter(results.values())).tracking_uri)
    return TargetsResult(config=cfg, results=results, next_best=nb, next_best_paths=paths,
                         not_published=tuple(unpublished), products=products)


def _run_target(cfg, data, tracking_uri, progress) -> PipelineResult:
    """One product's run (see :func:`run`): stages, registration, publication."""
    out, mc = cfg["output"], cfg["mlflow"]
    dirs, fresh = output_dirs([out["reports_dir"], out["models_dir"]])
    source = (data if isinstance(data, (S.DataSource, S.DataResult))
              else S.DataSource.from_config(cfg, data))
    st = _Runner(out["progress"] if progress is None else progress, len(STAGE_NAMES))
    staging = None
    try:
        with tracking.RunTracker(mc["experiment"], tracking_uri=tracking_uri,
                                 run_name=out["model_name"],
                                 tags={"bankml.pipeline": "wm_propensity",
                                       "bankml.target": S.target(cfg)}) as rt:
            st.note("mlflow_setup", rt.seconds)
            staging = Staging.open(*dirs, rt.run_id, created=fresh)
            rt.log_config(cfg)
            done = _tracked_stages(cfg, source, st, rt, staging)
        # registration only after the run FINISHED: a version never points at a failed run
        registered = st("register", tracking.register_and_promote, done.model_info.model_uri,
                        mc["registered_model"], done.comparison, rt.run_id,
                        tracking_uri=rt.tracking_uri, optional=False, enabled=mc["register"])
        # registration has the last word: a champion that changed meanwhile makes it "keep"
        publish = not mc["register"] or registered["promoted"]
        published = st("publish", staging.publish, done.model_file,
                       _StillChampion(mc, registered, rt.tracking_uri), optional=False,
                       enabled=publish, why="not_champion") or Published(None, None)
    finally:
        st.close()
        if staging is not None:
            staging.discard()
    result = PipelineResult(
        config=cfg, metrics=done.evaluation.metrics, stages=stage_table(st.records),
        run_id=rt.run_id, tracking_uri=rt.tracking_uri, model=done.models.tree,
        model_path=published.model_path, registered=registered, comparison=done.comparison,
        fidelity=done.fidelity, rules=done.rules, cross_sell=done.cross_sell,
        segments=done.segments, outliers=done.outliers,
        artifacts=done.plots.paths if done.plots else (),
        mlflow_seconds=rt.seconds + st.seconds("register"),
        data_source=done.source_text, reports_dir=published.reports_dir,
        target=S.target(cfg), registered_name=mc["registered_model"])
    return result


def main(config_path, data=None, tracking_uri=None, lang=DEFAULT_LANG) -> PipelineResult:
    """Entry point of ``bankml run``."""
    return run(config_path, data=data, tracking_uri=tracking_uri, lang=lang)
