"""`run`: the stages in order, inside one MLflow run, then registration and publication."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .. import tracking
from ..config import load_config
from ..labels import DEFAULT_LANG, LANGS, check_lang
from ..persistence import model_card, save_model
from ..schema import LABEL, STAR_INPUTS
from . import _compat as C
from . import _stages as S
from ._plots import make_plots
from ._publish import Published, Staging
from ._summary import PipelineResult, StageRecord, StageStatus, card_metrics, stage_table

__all__ = ["run", "main"]

_PUBLISHING = ("promote", "no_champion")


class _Runner:
    """Runs stages under one tqdm bar and keeps a :class:`StageRecord` per stage."""

    def __init__(self, progress: bool, total: int):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc="bankml", unit="stage", disable=not progress,
                         file=sys.stderr, leave=False)
        self.records: list[StageRecord] = []

    def __call__(self, name, fn, *args, optional=True, enabled=True, why="", **kwargs):
        """``fn(*args, **kwargs)`` as stage ``name``; None when skipped or unavailable.

        A stage not ``enabled`` is skipped: by the config, or for ``why`` (a status term).
        """
        self._bar.set_description(f"bankml: {name}")
        t0, out, status, detail = time.perf_counter(), None, StageStatus.OK, ""
        try:
            if enabled:
                out = fn(*args, **kwargs)
            else:
                status, detail = StageStatus.SKIPPED, why
        except S.StageUnavailable as exc:
            if not optional:
                status = StageStatus.FAILED
                raise
            status, detail = StageStatus.UNAVAILABLE, str(exc)
        except BaseException as exc:
            status, detail = StageStatus.FAILED, type(exc).__name__  # a message may quote data
            raise
        finally:
            self.records.append(StageRecord(name, status, time.perf_counter() - t0, detail))
            self._bar.update(1)
        return out

    def note(self, name, seconds):
        """A step timed elsewhere (MLflow's setup), recorded as done."""
        self.records.append(StageRecord(name, StageStatus.OK, seconds))

    def seconds(self, name) -> float:
        return sum(r.seconds for r in self.records if r.stage == name)

    def close(self):
        self._bar.close()


STAGE_NAMES = ("data", "stars", "split", "tree", "sklearn_tree", "star_baseline", "evaluate",
               "rules", "fidelity", "association", "segments", "outliers", "plots", "save",
               "champion", "mlflow_log", "register", "publish")


def _fidelity_gate(rt, report) -> None:
    """Log the rules' fidelity, then fail the run if any engine disagrees with the model."""
    rt.log_metrics(S.fidelity_metrics(report))
    rt.set_tags({"bankml.rules.fidelity": "ok" if report.ok else "mismatch"})
    report.raise_for_mismatch()


def _save(model, data, split, ev, rules, cfg, staging: Staging, notes) -> Path:
    out = cfg["output"]
    df = data.frame
    data_desc = {"source": data.describe("en"), "customers": f"{len(df):,}",
                 "test share": f"{cfg['split']['test_size']:.0%}",
                 "WM buyer rate": f"{df[LABEL].mean():.1%}",
                 "features": ", ".join(S.features(cfg))}
    card = model_card(f"WM propensity ({out['model_name']})", data=data_desc,
                      metrics=card_metrics(ev.metrics),
                      rules=rules.top_markdown if rules else None, notes=notes)
    path = staging.models / f"{out['model_name']}.joblib"
    save_model(model, path, card=card)
    return path


def _compare(model, split, cfg, rt):
    mc = cfg["mlflow"]
    return C.compare_with_champion(
        mc["registered_model"], model, split.X_test, split.y_test, features=S.features(cfg),
        min_positives=mc.get("champion_min_positives", 30), tracking_uri=rt.tracking_uri)


def _log(rt, data, split, ev, parts, staging: Staging, model_file: Path, model, comparison):
    """Metrics, the staged reports and card, the comparison and the model, into the run."""
    for name, row in ev.metrics.iterrows():
        rt.log_metrics(row.to_dict(), prefix=f"{name}.test.")
    df = data.frame
    extra = {"data.customers": len(df), "data.test_customers": len(split.test),
             "data.wm_rate": float(df[LABEL].mean())}
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
    return rt.log_model(model, split.X_train)


def _notes(records) -> str | None:
    missing = [f"- {r.stage}: {r.tag}" for r in records if r.status is not StageStatus.OK]
    return "\n".join(missing) if missing else None


def run(config, data=None, tracking_uri=None, progress=None, verbose=True,
        lang=DEFAULT_LANG) -> PipelineResult:
    """Run the WM-propensity pipeline end to end and track it in MLflow.

    Parameters
    ----------
    config : str, Path or dict
        A pipeline config (see :mod:`bankml.config`), e.g. ``configs/quickstart.yaml``.
    data : DataFrame, path or DataSource, optional
        Customer table to use instead of the config's data source.
    tracking_uri : str, optional
        MLflow store; default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` here.
    progress : bool, optional
        Show the tqdm bar (default: the config's ``output.progress``).
    verbose : bool
        Print the summary at the end.
    lang : {"zh", "en"}
        Language of the printed summary.

    Notes
    -----
    Every stage runs inside one MLflow run and writes into staging folders; the rules must
    reproduce the model on every test customer (the fidelity gate). After the run FINISHED the
    model is registered as ``@candidate`` and, when it beats ``@champion`` on the same test
    customers (or there is none), becomes ``@champion`` and only then are its rule sheets,
    reports and model published into ``output.reports_dir``/``output.models_dir``. Any
    failure leaves those folders as they were and the run FAILED.
    """
    check_lang(lang)
    cfg = load_config(config)
    out = cfg["output"]
    dirs = [C.check_output_dir(out["reports_dir"]), C.check_output_dir(out["models_dir"])]
    source = S.DataSource.from_config(cfg, data) if not isinstance(data, S.DataSource) else data
    st = _Runner(out["progress"] if progress is None else progress, len(STAGE_NAMES))
    staging = None
    try:
        with tracking.RunTracker(cfg["mlflow"]["experiment"], tracking_uri=tracking_uri,
                                 run_name=out["model_name"],
                                 tags={"bankml.pipeline": "wm_propensity"}) as rt:
            st.note("mlflow_setup", rt.seconds)
            staging = Staging.open(*dirs, rt.run_id)
            rt.log_config(cfg)
            data = st("data", S.load_data, cfg, source, optional=False)
            df = data.frame
            stars = st("stars", S.score_stars, df, cfg)
            split = st("split", S.split_customers, df, cfg, optional=False)
            models = S.FittedModels(
                st("tree", S.fit_tree, split.X_train, split.y_train, cfg, optional=False),
                st("sklearn_tree", S.fit_sklearn_tree, split.X_train, split.y_train, cfg),
                st("star_baseline", S.fit_star_baseline, df.iloc[split.train], split.y_train, cfg))
            ev = st("evaluate", S.evaluate, models, df, split, optional=False)
            rules = st("rules", S.extract_rules, models.tree, split, cfg, staging.reports / "rules",
                       model_version=f"{out['model_name']}, MLflow run {rt.run_id}", optional=False)
            ev = ev.with_rule_precision(rules.precision)
            fidelity = st("fidelity", S.check_rules_fidelity, rules, models.tree, split,
                          optional=False)
            _fidelity_gate(rt, fidelity)
            cross = st("association", S.mine_cross_sell, df.iloc[split.train], cfg,
                       staging.reports, enabled=cfg["association"]["enabled"])
            segs = st("segments", S.segment_customers, df, cfg,
                      None if stars is None else stars["star_points"], staging.reports,
                      enabled=cfg["segments"]["enabled"])
            outl = st("outliers", S.flag_outliers, df, cfg, data.truth,
                      enabled=cfg["outliers"]["enabled"])
            plots = st("plots", make_plots, ev.curves, df, models.tree, stars, segs,
                       out_dir=staging.reports / "plots", enabled=out["plots"])
            model_file = st("save", _save, models.tree, data, split, ev, rules, cfg, staging,
                            _notes(st.records), optional=False)
            register = cfg["mlflow"]["register"]
            comparison = st("champion", _compare, models.tree, split, cfg, rt, optional=False,
                            enabled=register)
            info = st("mlflow_log", _log, rt, data, split, ev, (rules, cross, segs, outl),
                      staging, model_file, models.tree, comparison, optional=False)
            rt.set_tags({f"bankml.stage.{r.stage}": r.tag[:250] for r in st.records})
            rt.log_metrics({f"time.{r.stage}_s": r.seconds for r in st.records})
            rt.log_metrics({"time.mlflow_s": rt.seconds})
        # registration only after the run FINISHED: a version never points at a failed run
        registered = st("register", C.register_and_promote, info.model_uri,
                        cfg["mlflow"]["registered_model"], comparison, rt.run_id,
                        rt.tracking_uri, optional=False, enabled=register)
        publish = not register or comparison.decision in _PUBLISHING
        published = st("publish", staging.publish, model_file, optional=False,
                       enabled=publish, why="not_champion") or Published(None, None)
    finally:
        st.close()
        if staging is not None:
            staging.discard()
    result = PipelineResult(
        config=cfg, metrics=ev.metrics, stages=stage_table(st.records), run_id=rt.run_id,
        tracking_uri=rt.tracking_uri, model=models.tree, model_path=published.model_path,
        registered=registered, comparison=comparison, fidelity=fidelity, rules=rules,
        cross_sell=cross, segments=segs, outliers=outl, artifacts=plots.paths if plots else (),
        mlflow_seconds=rt.seconds + st.seconds("register"),
        data_source={lg: data.describe(lg) for lg in LANGS}, reports_dir=published.reports_dir)
    if verbose:
        print(result.summary(lang))
    return result


def main(config_path, data=None, tracking_uri=None, lang=DEFAULT_LANG) -> PipelineResult:
    """Entry point of ``bankml run``."""
    return run(config_path, data=data, tracking_uri=tracking_uri, lang=lang)
