"""`engine: spark`: the main job on a Spark table -- stars, tree, rules, evaluation, scores.

Every step that touches all customers runs inside Spark (bankml.spark); only the tree's
histograms, the rules and the metrics' few aggregated numbers reach the driver. Tracked in
MLflow as the pandas job is, with no customer id in MLflow.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .. import tracking
from ..errors import ConfigError, DataError, EngineNotAvailableError
from ..schema import ID, LABEL, STAR_INPUTS
from ._summary import StageRecord, StageStatus

__all__ = ["run_spark", "SparkRunResult"]

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

    def summary(self, lang="en") -> str:
        head = "Spark 作业" if lang == "zh" else "Spark job"
        lines = [f"{head}: run {self.run_id}"]
        lines += [f"  {k}: {v:.4g}" for k, v in sorted(self.metrics.items())]
        lines += [f"  {r.stage}: {r.status.value if hasattr(r.status, 'value') else r.status} "
                  f"({r.seconds:.1f}s) {r.detail}".rstrip() for r in self.stages]
        if self.scores_written_to:
            lines.append(("  评分写入 " if lang == "zh" else "  scores -> ") + self.scores_written_to)
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
        # not whatever `python3` is first on PATH; spark.conf may still say otherwise
        builder = builder.config("spark.pyspark.python", sys.executable)
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
        if path.lower().endswith(".csv"):
            return (spark.read.option("header", True).option("inferSchema", True)
                    .option("encoding", d["encoding"]).csv(path)), f"CSV {path}"
        return spark.read.parquet(path), f"Parquet {path}"
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
    of each class), rules (``rules_from_tree``; ``predict_rules`` must agree with the tree on
    every test customer), evaluate (AUC, accuracy, precision, recall on the test customers),
    association and segments (the Spark engines, where this build has them), scores (every
    customer's score, prediction and rule written to ``spark.output_path`` /
    ``spark.output_table``). Metrics, the config and the model go to MLflow.

    Examples
    --------
    >>> from bankml.pipeline import run
    >>> run({"engine": "spark", "data": {"table": "customers"}})  # doctest: +SKIP
    """
    from ..rules import rules_from_tree
    from ..spark import fit_tree, predict_rules, proba_column, score_stars
    from ..spark._score import _functions

    F = _functions()
    spark = spark_session(cfg)
    records: list[StageRecord] = []
    metrics: dict = {}

    def stage(name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            out = fn(*args, **kwargs)
        except _Unavailable as exc:
            records.append(StageRecord(name, StageStatus.UNAVAILABLE, time.perf_counter() - t0, str(exc)))
            return None
        except BaseException as exc:
            records.append(StageRecord(name, StageStatus.FAILED, time.perf_counter() - t0, type(exc).__name__))
            raise
        records.append(StageRecord(name, StageStatus.OK, time.perf_counter() - t0))
        return out

    mc = cfg["mlflow"]
    with tracking.RunTracker(mc["experiment"], tracking_uri=tracking_uri,
                             run_name=cfg["output"]["model_name"],
                             tags={"bankml.pipeline": "wm_propensity", "bankml.engine": "spark"}) as rt:
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
        rules = stage("rules", rules_from_tree, model, model_version=f"{cfg['output']['model_name']}, "
                      f"MLflow run {rt.run_id}")
        score = proba_column(model)
        pred = F.when(score >= F.lit(0.5), F.lit(int(model.classes_[-1]))).otherwise(F.lit(int(model.classes_[0])))
        scored_test = test.select(ID, LABEL, score.alias("score"), pred.alias("predicted")).cache()
        try:
            metrics.update(stage("evaluate", _evaluate, F, scored_test, test, rules, predict_rules))
        finally:
            scored_test.unpersist()
        cross = stage("association", _cross_sell, train, cfg) if cfg["association"]["enabled"] else None
        segs = stage("segments", _segments, sdf, cfg) if cfg["segments"]["enabled"] else None
        if cross is not None:
            metrics["association.rules"] = float(len(cross))
        if segs is not None:
            metrics["segments.n"] = float(segs)
        where = stage("scores", _write_scores, sdf, model, rules, cfg, F, proba_column, predict_rules)
        n_rows = sdf.count()
        metrics.update({"data.customers": float(n_rows)})
        rt.log_metrics(metrics)
        rt.set_tags({"bankml.data_source": described.split(" (")[0][:250],
                     **{f"bankml.stage.{r.stage}": r.tag[:250] for r in records}})
        rt.log_metrics({f"time.{r.stage}_s": r.seconds for r in records})
        # the example is made-up rows from column statistics: no customer reaches MLflow
        example = train.select(*feats).limit(1000).toPandas()
        rt.log_model(model, example)
    result = SparkRunResult(cfg, metrics, rt.run_id, rt.tracking_uri, model, rules, where, records)
    if verbose:
        print(result.summary(lang))
    return result


class _Unavailable(Exception):
    """A stage this build cannot run (its Spark engine is not installed)."""


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


def _cross_sell(train, cfg):
    """Cross-sell rules among the holdings flags, on Spark MLlib's FPGrowth (engine="spark")."""
    from pyspark.sql import functions as F

    from ..association import mine_rules
    from ..schema import HOLDING_FLAGS
    a = cfg["association"]
    flags = [c for c in HOLDING_FLAGS if c in train.columns]
    if len(flags) < 2:
        raise _Unavailable(f"fewer than two holdings flags in the table ({flags})")
    # one basket per training customer: the names of the products held (an array column)
    items = F.filter(F.array(*[F.when(F.col(c) == 1, F.lit(c)) for c in flags]), lambda x: x.isNotNull())
    baskets = train.select(items.alias("items"))
    try:
        return mine_rules(baskets, min_support=a["min_support"], min_confidence=a["min_confidence"],
                          max_len=a["max_len"], engine="spark")
    except (TypeError, ValueError) as exc:
        if "engine" in str(exc).lower():
            raise _Unavailable("association engine 'spark' is not in this build") from None
        raise


def _segments(sdf, cfg):
    """Segments on Spark (:func:`bankml.spark.fit_segments`: the segmenter's scaling and k on a
    driver sample, MLlib k-means over every row); the number of segments."""
    from ..spark import fit_segments

    seg = cfg["segments"]
    model = fit_segments(sdf, list(seg["features"]), n_clusters=seg["n_clusters"],
                         method=seg["method"], sample_size=seg["sample_size"],
                         random_state=seg["seed"])
    return int(model.n_clusters_)


def _write_scores(sdf, model, rules, cfg, F, proba_column, predict_rules):
    """Every customer's score, predicted class, rule id and ``in_test`` (held out from training),
    as a Parquet directory or a table."""
    sp = cfg["spark"]
    if sp["output_path"] is None and sp["output_table"] is None:
        return None
    keep = [c for c in (ID, "star_points", "contribution_star") if c in sdf.columns] + ["in_test"]
    scored = sdf.withColumnRenamed("_bankml_test", "in_test") \
        .select(*keep, *[str(c) for c in model.feature_names_in_]) \
        .withColumn("score", proba_column(model))
    by_rules = predict_rules(scored, rules)
    out = scored.select(*keep, "score").join(by_rules, ID)
    if sp["output_table"] is not None:
        out.write.mode("overwrite").saveAsTable(sp["output_table"])
        return f"table {sp['output_table']}"
    out.write.mode("overwrite").parquet(sp["output_path"])
    return sp["output_path"]
