"""`engine: spark`: the main job on a Spark table -- stars, tree, rules, evaluation, scores.

Every step that touches all customers runs inside Spark (bankml.spark); only the tree's
histograms, the rules, counts per rule / itemset / segment and the metrics' few aggregated
numbers reach the driver. The branch files are the pandas job's, written by its own functions
(``_stages.write_rules``, ``write_cross_sell``, ``write_segments``) into a staging folder and
published as the pandas job publishes them (``_publish.Staging``). Tracked in MLflow as the
pandas job is, with no customer id in MLflow or in any file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import tracking
from ..errors import ConfigError, DataError
from ..schema import ID, LABEL, STAR_INPUTS

__all__ = ["run_spark", "SparkRunResult"]

# the charsets Spark 4's CSV reader takes without spark.sql.legacy.javaCharsets
_SPARK_CHARSETS = {"iso-8859-1", "us-ascii", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-8"}

# test customers are chosen by a hash of the id, so the split does not depend on partitioning
_HASH_BUCKETS = 1_000_000


@dataclass
class SparkRunResult:
    """What ``run`` returns for ``engine: spark``."""

    config: dict
    metrics: dict
    run_id: str
    tracking_uri: str
    model: object
    rules: object
    scores_written_to: str | None
    stages: list = field(default_factory=list)
    #: where the branch files were published (``output.reports_dir``)
    reports_dir: Path | None = None
    cross_sell: object = None  # _stages.CrossSell, when association ran
    segments: object = None  # _stages.Segments, when segments ran

    def summary(self, lang="en") -> str:
        head = "Spark 作业" if lang == "zh" else "Spark job"
        lines = [f"{head}: run {self.run_id}"]
        lines += [f"  {k}: {v:.4g}" for k, v in sorted(self.metrics.items())]
        lines += [f"  {r.stage}: {r.status.value if hasattr(r.status, 'value') else r.status} "
                  f"({r.seconds:.1f}s) {r.detail}".rstrip() for r in self.stages]
        if self.scores_written_to:
            lines.append(("  评分写入 " if lang == "zh" else "  scores -> ") + self.scores_written_to)
        if self.reports_dir is not None:
            lines.append(("  报告发布到 " if lang == "zh" else "  reports -> ") + str(self.reports_dir))
        return "\n".join(lines)


def spark_session(cfg: dict):
    """The Spark session of ``cfg['spark']`` (an active one is reused, settings applied)."""
    from ..spark._checks import functions, require_java
    functions("engine: spark")  # pyspark installed, else the extra to install
    from pyspark.sql import SparkSession
    # before the JVM launch: without Java, pyspark fails only after seconds, with a gateway
    # traceback that does not say Java is missing
    require_java("engine: spark")
    builder = SparkSession.builder.master(cfg["spark"]["master"]).appName("bankml")
    if cfg["spark"]["master"].startswith("local"):
        # local Python workers (the segmenter's pandas UDF) need this interpreter's packages,
        # not whatever `python3` is first on PATH (`make run` calls .venv/bin/bankml without
        # the venv on PATH). PySpark takes the workers' interpreter from PYSPARK_PYTHON, not
        # from the conf; spark.conf, then a PYSPARK_PYTHON already set, still have the say.
        exe = (cfg["spark"]["conf"].get("spark.pyspark.python")
               or os.environ.get("PYSPARK_PYTHON") or sys.executable)
        os.environ["PYSPARK_PYTHON"] = str(exe)
        builder = builder.config("spark.pyspark.python", str(exe))
    for k, v in cfg["spark"]["conf"].items():
        builder = builder.config(k, str(v))
    return builder.getOrCreate()


def _source(spark, cfg, data):
    """The customer table as a Spark DataFrame: ``data``, data.table, data.path or synthetic."""
    d = cfg["data"]
    if isinstance(data, (str, os.PathLike)):  # `bankml run --data PATH` replaces data.*
        d = {**d, "synthetic": None, "table": None, "path": os.fspath(data)}
        data = None
    if data is not None:
        if hasattr(data, "sparkSession"):
            return data, "Spark DataFrame"
        import pandas as pd
        if isinstance(data, pd.DataFrame):
            return spark.createDataFrame(data), f"pandas DataFrame ({len(data):,} rows)"
        raise ConfigError(f"engine: spark takes a Spark or pandas DataFrame as data, got {type(data).__name__}")
    if d["table"] is not None:
        from ..spark._checks import lookup_table  # quotes Chinese or odd names
        return lookup_table(d["table"], "data.table", spark), f"table {d['table']}"
    if d["path"] is not None:
        path = d["path"]
        if not os.path.exists(path) and "://" not in path:
            raise DataError(f"data.path {path!r} does not exist")
        kind = "CSV" if path.lower().endswith(".csv") else "Parquet"
        try:
            if kind == "CSV":
                if d["encoding"].lower().replace("_", "-") not in _SPARK_CHARSETS:
                    # a bank's GBK / GB18030 export: Spark 4 reads Java's other charsets
                    # only with this on (else "charset ... is invalid")
                    spark.conf.set("spark.sql.legacy.javaCharsets", "true")
                return (spark.read.option("header", True).option("inferSchema", True)
                        .option("encoding", d["encoding"]).csv(path)), f"CSV {path}"
            return spark.read.parquet(path), f"Parquet {path}"
        except Exception as exc:  # noqa: BLE001 -- Spark's Java errors: one line, naming the file
            # py4j's first line only names the Java call; the cause is the next one
            lines = [ln.strip(" :") for ln in str(exc).splitlines()
                     if ln.strip(" :") and not ln.startswith("An error occurred while calling")]
            first = lines[0][:300] if lines else type(exc).__name__
            raise DataError(f"data.path {path!r} cannot be read as {kind}: {first}") from None
    from ..datasets import make_customers
    syn = d["synthetic"]
    return spark.createDataFrame(make_customers(syn["n"], seed=syn["seed"])), \
        f"synthetic ({syn['n']:,} customers)"


def _check_frame(sdf, cfg, F):
    """The customer table's columns, ids and label, in one Spark job; counted, never listed."""
    feats = list(cfg["features"]["categorical"]) + list(cfg["features"]["numeric"])
    from pyspark.sql import types as T

    from ..errors import SchemaError
    from ..spark._checks import CountedProblem, check_columns, raise_problems
    check_columns(sdf, [ID, LABEL, *feats], "engine: spark")
    kind = sdf.schema[LABEL].dataType
    if not isinstance(kind, (T.NumericType, T.BooleanType)):
        raise_problems(SchemaError, "engine: spark: the customer table is invalid", [CountedProblem(
            LABEL, f"wrong dtype {kind.simpleString()}", "0/1 numbers")])
    lab = F.col(LABEL).cast("double")
    null_lab = lab.isNull() | F.isnan(lab)
    # per id first, then over ids: duplicates, NULL ids and the label in the same job
    per_id = sdf.groupBy(F.col(ID).alias("_id")).agg(
        F.count(F.lit(1)).alias("n"), F.sum(null_lab.cast("long")).alias("null_label"),
        F.sum((~null_lab & ~lab.isin(0.0, 1.0)).cast("long")).alias("bad_label"))
    repeated = F.col("_id").isNotNull() & (F.col("n") > 1)
    row = per_id.agg(F.sum("n").alias("rows"),
                     F.sum(F.when(F.col("_id").isNull(), F.col("n"))).alias("null_id"),
                     F.sum(F.when(repeated, F.col("n"))).alias("dup_rows"),
                     F.sum(F.when(repeated, F.lit(1))).alias("dup_ids"),
                     F.sum("null_label").alias("null_label"),
                     F.sum("bad_label").alias("bad_label")).first()
    if not row["rows"]:
        raise DataError("engine: spark: the customer table has no rows")
    problems = []
    if row["null_id"]:
        problems.append(CountedProblem(ID, "missing values (NULL)", "a customer id in every row",
                                       [], int(row["null_id"])))
    if row["dup_rows"]:
        # an id twice would be scored twice and could land in both train and test
        problems.append(CountedProblem(ID, "duplicate customer ids", "each id once", [],
                                       int(row["dup_rows"]), int(row["dup_ids"])))
    if row["null_label"]:
        problems.append(CountedProblem(LABEL, "missing values (NULL or NaN)", "0 or 1 in every row",
                                       [], int(row["null_label"])))
    if row["bad_label"]:
        problems.append(CountedProblem(LABEL, "values other than 0 and 1", "0 or 1", [],
                                       int(row["bad_label"])))
    if problems:
        raise_problems(SchemaError, "engine: spark: the customer table is invalid", problems)
    return feats


def _auc(F, scored):
    """Exact ROC AUC from (score, label) counts: the scores take one value per leaf."""
    from sklearn.metrics import roc_auc_score
    rows = scored.groupBy("score").agg(F.sum(F.col(LABEL).cast("long")).alias("pos"),
                                       F.count(F.lit(1)).alias("n")).collect()
    s = np.array([r["score"] for r in rows] * 2, dtype=float)
    y = np.repeat([1, 0], len(rows))
    w = np.array([r["pos"] for r in rows] + [r["n"] - r["pos"] for r in rows], dtype=float)
    if w[y == 1].sum() == 0 or w[y == 0].sum() == 0:
        return float("nan")
    return float(roc_auc_score(y, s, sample_weight=w))


def run_spark(cfg, data=None, tracking_uri=None, verbose=True, lang="en") -> SparkRunResult:
    """Run the WM-propensity job on Spark (``engine: spark``); see :func:`bankml.pipeline.run`.

    Stages: data (table / Parquet / synthetic), stars (``bankml.spark.score_stars``, when the
    star inputs are present), split (test customers by a hash of the id and ``split.seed``),
    tree (``bankml.spark.fit_tree`` on all training customers or ``spark.sample_fraction``
    of each class), rules (``rules_from_tree`` for ``rules.target``, simplified, as the
    pandas job's), evaluate (AUC, accuracy, precision, recall on the test customers; the
    fidelity gate: ``predict_rules`` must agree with the tree on every test customer),
    rule_files (each rule's evidence counted in Spark: GROUP BY rule, label), association
    (MLlib FPGrowth, rules whose consequent is ``association.target``) and segments
    (``bankml.spark.fit_segments``), then scores: every customer's score, prediction, rule
    id (of the published rules; NULL for "otherwise"), ``in_test`` and, with segments,
    ``segment``, written to ``spark.output_path`` / ``spark.output_table`` only after every
    other stage passed. Metrics, the config, the staged files and the model go to MLflow.

    Files, the pandas job's names and contents (its own writers), in ``output.reports_dir``:
    ``rules/`` (``rules_zh.txt``, ``rules_en.txt``, ``rules.md``, ``rules_zh.md``,
    ``rules.csv``, ``rules_zh.csv``, ``rules.sql``, ``rules_zh.html``, ``rules_en.html``,
    ``rules_test_evaluation.csv``), ``cross_sell_rules.csv``, ``cross_sell_rules_zh.csv``,
    ``cross_sell_rules_en.csv``, ``segments_en.csv``, ``segments_zh.csv``: aggregates, no
    customer id. They are written into a staging folder and published only after the MLflow
    run FINISHED; any failure leaves ``output.reports_dir`` as it was and the run FAILED.
    The published set replaces the folder's whole set (``_publish.REPORT_ENTRIES``): the
    pandas job's plots and report pages, which this job does not make, are removed.

    Examples
    --------
    >>> from bankml.pipeline import run
    >>> run({"engine": "spark", "data": {"table": "customers"}})  # doctest: +SKIP
    """
    from ._publish import Published, Staging, output_dirs
    from ._runner import _Runner, _tag_stages  # the pandas job's stage runner and stage tags

    (reports_dir,), fresh = output_dirs([cfg["output"]["reports_dir"]])
    st = _Runner(progress=False, total=0)
    staging = None
    try:
        spark = spark_session(cfg)
        mc = cfg["mlflow"]
        with tracking.RunTracker(mc["experiment"], tracking_uri=tracking_uri,
                                 run_name=cfg["output"]["model_name"],
                                 tags={"bankml.pipeline": "wm_propensity", "bankml.engine": "spark"}) as rt:
            staging = Staging.open(reports_dir, None, rt.run_id, created=fresh)
            try:
                done = _tracked(spark, cfg, data, rt, st, staging)
                _tag_stages(rt, st)
                rt.log_metrics({f"time.{r.stage}_s": r.seconds for r in st.records})
            except BaseException:
                with contextlib.suppress(Exception):  # the stage's own error is the one to report
                    _tag_stages(rt, st)
                raise
        # only a run that FINISHED publishes its files
        published = st("publish", staging.publish, None) or Published(None, None)
    finally:
        st.close()
        if staging is not None:
            staging.discard()
        else:  # failed before staging: an output folder this run created goes again
            for folder in fresh:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    result = SparkRunResult(cfg, done["metrics"], rt.run_id, rt.tracking_uri, done["model"],
                            done["rules"].ruleset, done["scores"], st.records,
                            published.reports_dir, done["cross_sell"], done["segments"])
    if verbose:
        print(result.summary(lang))
    return result


def _tracked(spark, cfg, data, rt, stage, staging) -> dict:
    """The stages inside the MLflow run; files go to ``staging`` only, the scores last."""
    from ..spark import fit_tree, predict_rules, proba_column, score_stars
    from ..spark._checks import functions

    F = functions()
    metrics: dict = {}
    rt.log_config(cfg)
    sdf, described = stage("data", _source, spark, cfg, data)
    feats = stage("check", _check_frame, sdf, cfg, F)
    if all(c in sdf.columns for c in STAR_INPUTS):
        sdf = stage("stars", score_stars, sdf, service=False)
    seed = int(cfg["split"]["seed"])
    bucket = F.abs(F.xxhash64(F.col(ID).cast("string"), F.lit(seed))) % F.lit(_HASH_BUCKETS)
    sdf = sdf.withColumn("_bankml_test", bucket < F.lit(int(cfg["split"]["test_size"] * _HASH_BUCKETS)))
    train = sdf.filter(~F.col("_bankml_test"))
    test = sdf.filter(F.col("_bankml_test"))
    tree_params = {k: v for k, v in cfg["tree"].items()}
    tree_params["categorical_features"] = list(cfg["features"]["categorical"])
    if tree_params.get("random_state") is None:  # the sample and the bin edges: reproducible
        tree_params["random_state"] = seed
    model = stage("tree", fit_tree, train, feats, LABEL,
                  sample_fraction=cfg["spark"]["sample_fraction"], **tree_params)
    version = f"{cfg['output']['model_name']}, MLflow run {rt.run_id}"
    # the pandas job's rule set (and `bankml score`'s): the target's leaves, simplified
    rules = stage("rules", _rules, model, cfg, version)
    score = proba_column(model)
    pred = F.when(score >= F.lit(0.5), F.lit(int(model.classes_[-1]))).otherwise(F.lit(int(model.classes_[0])))
    scored_test = test.select(ID, LABEL, score.alias("score"), pred.alias("predicted")).cache()
    try:
        metrics.update(stage("evaluate", _evaluate, F, scored_test, test, rules, predict_rules))
    finally:
        scored_test.unpersist()
    rules_out, n_rows = stage("rule_files", _rule_files, sdf, rules, cfg, staging.reports / "rules",
                              version, predict_rules)
    metrics.update(rules_out.metrics())
    metrics["tree.test.rule_precision"] = rules_out.precision
    cross = stage("association", _cross_sell, train, cfg, staging.reports) \
        if cfg["association"]["enabled"] else None
    segs = stage("segments", _segments, sdf, cfg, staging.reports) \
        if cfg["segments"]["enabled"] else None
    for part in (cross, segs):
        if part is not None:
            metrics.update(part.metrics())
    metrics["data.customers"] = float(n_rows)
    rt.log_metrics(metrics)
    rt.set_tags({"bankml.data_source": described.split(" (")[0][:250]})
    for entry in staging.report_entries():  # aggregates only: the same files as published
        (rt.log_artifacts if entry.is_dir() else rt.log_artifact)(
            entry, "reports/" + entry.name if entry.is_dir() else "reports")
    # the example is made-up rows from column statistics: no customer reaches MLflow
    example = train.select(*feats).limit(1000).toPandas()
    rt.log_model(model, example)
    # last: a scores table is never written for a run whose other stages did not all pass
    where = stage("scores", _write_scores, sdf, model, rules, cfg, F, proba_column, predict_rules,
                  None if segs is None else segs.segmenter, run_id=rt.run_id)
    return {"metrics": metrics, "model": model, "rules": rules_out, "scores": where,
            "cross_sell": cross, "segments": segs}


def _evaluate(F, scored, test, rules, predict_rules):
    """Test metrics, and the rules' fidelity: their SQL must predict what the tree predicts."""
    agg = scored.agg(F.count(F.lit(1)).alias("n"),
                     F.sum((F.col("predicted") == F.col(LABEL)).cast("long")).alias("right"),
                     F.sum(((F.col("predicted") == 1) & (F.col(LABEL) == 1)).cast("long")).alias("tp"),
                     F.sum((F.col("predicted") == 1).cast("long")).alias("pp"),
                     F.sum(F.col(LABEL).cast("long")).alias("p")).first()
    n = agg["n"]
    if not n:
        raise DataError("the test split is empty: raise split.test_size or give more customers")
    by_rules = predict_rules(test, rules).select(ID, F.col("prediction").alias("_rule_pred"))
    differ = scored.join(by_rules, ID).filter(F.col("_rule_pred").cast("long") != F.col("predicted")).count()
    if differ:
        from ..errors import FidelityError
        raise FidelityError(f"the rules' Spark SQL predicts differently from the tree for {differ} "
                            "test customer(s)")
    return {"tree.test.auc": _auc(F, scored), "tree.test.accuracy": agg["right"] / n,
            "tree.test.precision": (agg["tp"] / agg["pp"]) if agg["pp"] else float("nan"),
            "tree.test.recall": (agg["tp"] / agg["p"]) if agg["p"] else float("nan"),
            "data.test_customers": float(n), "rules.fidelity_mismatches": float(differ)}


def _rules(model, cfg, model_version):
    """The tree's rules for ``rules.target`` (the other class is the default), simplified:
    the rule set the pandas job publishes and ``bankml score`` reads back."""
    from ..rules import rules_from_tree, simplify

    return simplify(rules_from_tree(model, cfg["rules"]["target"], label_column=LABEL,
                                    model_version=model_version))


def _rule_files(sdf, rules, cfg, out_dir, model_version, predict_rules):
    """The pandas job's rule files, each rule's evidence counted inside Spark.

    One job: every customer's deciding rule (the rules' own Spark SQL) grouped by side
    (train / test), rule and label; only those counts reach the driver. Tree rules are
    disjoint, so a rule's rows are the rows it decides (``bankml.rules.evaluate_counts``).
    Returns the ``RulesResult`` and the number of customers.
    """
    from ..rules import evaluate_counts, with_evaluation
    from . import _stages as S

    sides = sdf.select(ID, LABEL, "_bankml_test")
    rows = (predict_rules(sdf, rules).join(sides, ID)
            .groupBy("_bankml_test", "rule_id", LABEL).count().collect())
    counts: dict = {True: {}, False: {}}
    for r in rows:
        counts[bool(r["_bankml_test"])][(r["rule_id"], r[LABEL])] = int(r["count"])
    train_ev, test_ev = evaluate_counts(rules, counts[False]), evaluate_counts(rules, counts[True])
    # support and confidence of the training customers, unweighted (as the pandas job's)
    rules = with_evaluation(rules, train_ev)
    target = cfg["rules"]["target"]
    hit = test_ev[test_ev["prediction"] == target]  # the default is the other class
    fired, n_test = int(hit["fired"].sum()), test_ev.attrs["n_rows"]
    precision = float(hit["n_correct"].sum() / fired) if fired else float("nan")
    coverage = fired / n_test if n_test else float("nan")
    out = S.write_rules(rules, test_ev, cfg, out_dir, model_version=model_version,
                        evidence_rows=train_ev.attrs["n_rows"], precision=precision,
                        coverage=coverage)
    return out, train_ev.attrs["n_rows"] + n_test


def _cross_sell(train, cfg, out_dir):
    """Cross-sell rules among the holdings flags on Spark MLlib's FPGrowth (engine="spark"),
    written as the pandas job writes them (``_stages.write_cross_sell``)."""
    from pyspark.sql import functions as F

    from ..association import mine_rules
    from . import _stages as S

    a = cfg["association"]
    flags = S.cross_sell_items(train.columns, cfg)
    if len(flags) < 2:
        raise S.StageUnavailable(f"fewer than two holdings flags in the table ({flags})")
    # one basket per training customer: the names of the products held (an array column)
    items = F.filter(F.array(*[F.when(F.col(c) == 1, F.lit(c)) for c in flags]), lambda x: x.isNotNull())
    baskets = train.select(items.alias("items"))
    try:
        rules = mine_rules(baskets, min_support=a["min_support"], min_confidence=a["min_confidence"],
                           consequents=[a["target"]], max_len=a["max_len"], engine="spark")
    except (TypeError, ValueError) as exc:
        if "engine" in str(exc).lower():
            raise S.StageUnavailable("association engine 'spark' is not in this build") from None
        raise
    return S.write_cross_sell(rules, cfg, out_dir)


def _segments(sdf, cfg, out_dir):
    """Segments on Spark (:func:`bankml.spark.fit_segments`: the segmenter's scaling and k on a
    driver sample, MLlib k-means over every row); profiles written as the pandas job writes
    them (``_stages.write_segments``; value shares from the ``star_points`` column)."""
    from ..spark import fit_segments
    from . import _stages as S

    seg = cfg["segments"]
    model = fit_segments(sdf, list(seg["features"]), n_clusters=seg["n_clusters"],
                         method=seg["method"], sample_size=seg["sample_size"],
                         random_state=seg["seed"])
    return S.write_segments(model, None, out_dir)


def _write_scores(sdf, model, rules, cfg, F, proba_column, predict_rules, segmenter, *,
                  run_id):
    """Every customer's score, predicted class, rule id (of the published rules), segment
    (with segments) and ``in_test`` (held out from training), as a Parquet directory or a
    table."""
    sp = cfg["spark"]
    if sp["output_path"] is None and sp["output_table"] is None:
        return None
    if segmenter is not None:
        from ..spark import assign_segments
        sdf = assign_segments(sdf, segmenter)
    keep = [c for c in (ID, "star_points", "contribution_star") if c in sdf.columns] + ["in_test"]
    keep += ["segment"] if segmenter is not None else []
    scored = sdf.withColumnRenamed("_bankml_test", "in_test") \
        .select(*keep, *[str(c) for c in model.feature_names_in_]) \
        .withColumn("score", proba_column(model))
    by_rules = predict_rules(scored, rules)
    out = scored.select(*keep, "score").join(by_rules, ID)
    if sp["output_table"] is not None:
        _replace_table(out, sp["output_table"], run_id)
        return f"table {sp['output_table']}"
    _replace_path(out, sp["output_path"], run_id)
    return sp["output_path"]


# Scores are written whole beside the old ones, then swapped in: a write that fails (or a
# killed job) leaves yesterday's scores as they were, never a half-deleted directory, which
# is what Spark's mode("overwrite") leaves when it fails after deleting.
def _replace_table(out, name, run_id):
    from ..spark._checks import quote_table_name

    spark = out.sparkSession
    target = quote_table_name(name)
    parts = name.rsplit(".", 1)
    tmp_name = (parts[0] + "." if len(parts) == 2 else "") + f"__bankml_tmp_{run_id}"
    tmp = quote_table_name(tmp_name)
    spark.sql(f"DROP TABLE IF EXISTS {tmp}")
    try:
        out.write.mode("errorifexists").saveAsTable(tmp)
    except BaseException:
        spark.sql(f"DROP TABLE IF EXISTS {tmp}")
        raise
    spark.sql(f"DROP TABLE IF EXISTS {target}")
    spark.sql(f"ALTER TABLE {tmp} RENAME TO {target}")


def _replace_path(out, path, run_id):
    spark = out.sparkSession
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    final = jvm.org.apache.hadoop.fs.Path(path)
    fs = final.getFileSystem(conf)
    tmp = jvm.org.apache.hadoop.fs.Path(f"{path}.tmp-{run_id}")
    old = jvm.org.apache.hadoop.fs.Path(f"{path}.old-{run_id}")
    try:
        out.write.mode("overwrite").parquet(tmp.toString())
    except BaseException:
        fs.delete(tmp, True)
        raise
    had_old = fs.exists(final)
    if had_old and not fs.rename(final, old):
        fs.delete(tmp, True)
        raise OSError(f"spark.output_path {path!r}: cannot move the old scores aside")
    if not fs.rename(tmp, final):
        if had_old:
            fs.rename(old, final)
        raise OSError(f"spark.output_path {path!r}: cannot move the new scores in "
                      f"(they are in {tmp.toString()!r})")
    if had_old:
        fs.delete(old, True)
