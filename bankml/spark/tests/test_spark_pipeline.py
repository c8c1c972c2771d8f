"""`engine: spark`: the main job on Spark gives the tree's own scores, writes the pandas job's
branch files (published only after the run FINISHED) and is tracked in MLflow."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from sklearn.metrics import roc_auc_score  # noqa: E402

from bankml.config import load_config  # noqa: E402
from bankml.datasets import make_customers  # noqa: E402
from bankml.errors import ConfigError, DataError, SchemaError  # noqa: E402
from bankml.pipeline import run  # noqa: E402
from bankml.schema import ID, LABEL  # noqa: E402

pytestmark = pytest.mark.spark


def _cfg(tmp_path, **over):
    cfg = {"engine": "spark",
           "spark": {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": 2},
                     "output_path": str(tmp_path / "scores")},
           "output": {"reports_dir": str(tmp_path / "outputs"), "model_name": "spark-test"},
           "data": {"synthetic": {"n": 3000, "seed": 3}},
           "features": {"categorical": ["gender", "education"],
                        "numeric": ["age", "short_term_assets", "long_term_assets", "has_fund"],
                        "bands": {}},
           "tree": {"max_depth": 4, "min_samples_leaf": 20, "max_bins": 32},
           "association": {"enabled": False}, "segments": {"enabled": False},
           "outliers": {"enabled": False},
           "mlflow": {"experiment": "spark-test", "register": False}}
    cfg.update(over)
    return cfg


# the pandas job's files (bankml/pipeline/_stages.py: write_rules, write_cross_sell,
# write_segments); the Spark job writes them with the same functions
RULE_FILES = {"rules_zh.txt", "rules_en.txt", "rules.md", "rules_zh.md", "rules.sql",
              "rules_zh.html", "rules_en.html", "rules.csv", "rules_zh.csv",
              "rules_test_evaluation.csv"}
REPORT_FILES = {"rules", "cross_sell_rules.csv", "cross_sell_rules_zh.csv",
                "cross_sell_rules_en.csv", "segments_en.csv", "segments_zh.csv"}
ASSOC = {"enabled": True, "min_support": 0.05, "min_confidence": 0.3, "max_len": 2}
SEGMENTS = {"enabled": True, "n_clusters": 3, "features": ["short_term_assets", "long_term_assets"]}
# make_customers ids: "C" + 3 seed digits + 9-digit serial (tests/test_privacy.py)
ID_PATTERN = re.compile(rb"C\d{12}")


def _full_cfg(tmp_path):
    return _cfg(tmp_path, association=ASSOC, segments=SEGMENTS)


def _snapshot(*folders):
    """Every file under ``folders`` (path -> bytes), hidden (staging) folders included."""
    return {str(p): p.read_bytes() for f in folders if f.exists()
            for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def spark_run(spark, tmp_path_factory):
    """One successful job with cross-sell and segments: (folder, result, tracking uri)."""
    tmp_path = tmp_path_factory.mktemp("spark_job")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    return tmp_path, run(_full_cfg(tmp_path), tracking_uri=uri, verbose=False), uri


def test_the_job_on_spark(spark_run):
    tmp_path, res, uri = spark_run
    df = make_customers(3000, seed=3)
    scores = pd.read_parquet(tmp_path / "scores").merge(df, on=ID)
    assert len(scores) == len(df) and scores[ID].is_unique
    feats = list(res.model.feature_names_in_)
    # the scores written back are the fitted tree's own probabilities, for every customer
    np.testing.assert_array_equal(scores["score"], res.model.predict_proba(scores[feats])[:, 1])
    # trained on the training customers only, evaluated on the others
    test = scores[scores["in_test"]]
    assert 0.2 < len(test) / len(df) < 0.4
    assert res.model.tree_.n_node_samples[0] == len(df) - len(test)
    assert res.metrics["tree.test.auc"] == pytest.approx(roc_auc_score(test[LABEL], test["score"]), abs=1e-12)
    assert res.metrics["rules.fidelity_mismatches"] == 0
    assert res.metrics["data.customers"] == len(df)
    # the rules' prediction is the tree's
    np.testing.assert_array_equal(scores["prediction"].astype(int), res.model.predict(scores[feats]))
    from mlflow import MlflowClient
    run_ = MlflowClient(uri).get_run(res.run_id)
    assert run_.info.status == "FINISHED"
    assert run_.data.tags["bankml.engine"] == "spark"
    assert run_.data.metrics["tree.test.auc"] == pytest.approx(res.metrics["tree.test.auc"])
    assert {r.stage: r.tag for r in res.stages}["publish"] == "ok"
    logged = " ".join(map(str, [run_.data.params, run_.data.tags, run_.data.metrics]))
    assert not any(str(i) in logged for i in df[ID].head(50) if len(str(i)) > 4)


def test_the_job_publishes_the_pandas_jobs_files(spark_run, tmp_path):
    from bankml.config import load_config
    from bankml.pipeline import _stages as S
    from bankml.rules import evaluate, rules_from_tree, simplify, to_csv, with_evidence

    work, res, uri = spark_run
    out = work / "outputs"
    assert res.reports_dir == out
    # and no staging folder left (the publication's lock file stays, as the pandas job's)
    assert {p.name for p in out.iterdir()} - {".bankml-publish.lock"} == REPORT_FILES
    assert {p.name for p in (out / "rules").iterdir()} == RULE_FILES
    df = make_customers(3000, seed=3)
    scores = pd.read_parquet(work / "scores").merge(df, on=ID)
    train, test = scores[~scores["in_test"]], scores[scores["in_test"]]
    feats = list(res.model.feature_names_in_)

    # rule evidence counted in Spark = the pandas job's, measured on the same customers
    local = with_evidence(simplify(rules_from_tree(res.model, 1, label_column=LABEL)),
                          train[feats], train[LABEL])
    to_csv(local, tmp_path / "rules.csv", lang="en")
    assert (out / "rules" / "rules.csv").read_bytes() == (tmp_path / "rules.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(out / "rules" / "rules_test_evaluation.csv"),
                                  evaluate(local, test[feats], test[LABEL]), check_dtype=False)
    assert f"MLflow run {res.run_id}" in (out / "rules" / "rules_zh.html").read_text(encoding="utf-8")
    # the scores' rule ids are those of the published rules (NULL: "otherwise")
    ids = np.asarray([r.rule_id for r in local.rules] + [-1])  # apply: -1 where none holds
    np.testing.assert_array_equal(scores["rule_id"].fillna(-1).astype(int),
                                  ids[local.apply(scores[feats])])

    # cross-sell: byte for byte what the pandas job writes from the same training customers
    cfg = load_config(_full_cfg(work))
    S.mine_cross_sell(train[list(df.columns)], cfg, tmp_path)
    for name in ("cross_sell_rules.csv", "cross_sell_rules_zh.csv", "cross_sell_rules_en.csv"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert res.metrics["cross_sell.n_rules"] > 0

    # segments: the profiles of the Spark model, and every customer's segment in the scores
    seg = res.segments.segmenter
    np.testing.assert_array_equal(scores["segment"], seg.predict(scores[SEGMENTS["features"]]))
    profile = pd.read_csv(out / "segments_en.csv", index_col=0)
    assert len(profile) == res.metrics["segments.n"] == 3
    assert profile["size"].to_dict() == scores["segment"].value_counts().to_dict()
    assert "客群名称" in (out / "segments_zh.csv").read_text(encoding="utf-8")

    # aggregates only: no customer id in any published file or MLflow artifact
    from mlflow import MlflowClient
    logged = {a.path for a in MlflowClient(uri).list_artifacts(res.run_id, "reports")}
    assert {"reports/rules", "reports/cross_sell_rules.csv", "reports/segments_zh.csv"} <= logged
    files = _snapshot(out, work / "mlartifacts")
    assert any(k.endswith("rules_test_evaluation.csv") for k in files if "mlartifacts" in k)
    leaks = [k for k, data in files.items() if ID_PATTERN.search(data)
             or any(str(i).encode() in data for i in df[ID].head(20))]
    assert not leaks, leaks


def test_a_failed_run_leaves_the_published_files_and_scores_as_they_were(spark_run, monkeypatch):
    from mlflow import MlflowClient

    from bankml.pipeline import _stages as S

    work, res, uri = spark_run
    before = _snapshot(work / "outputs", work / "scores")
    assert any(k.endswith("segments_en.csv") for k in before)

    def boom(*a, **k):
        raise RuntimeError("segments broke")
    # late: the rules and cross-sell files are staged by then, the scores not yet written
    monkeypatch.setattr(S, "write_segments", boom)
    with pytest.raises(RuntimeError, match="segments broke"):
        run(_full_cfg(work), tracking_uri=uri, verbose=False)
    assert _snapshot(work / "outputs", work / "scores") == before
    assert not list(work.rglob(".staging-*"))
    client = MlflowClient(uri)
    last = client.search_runs([client.get_experiment_by_name("spark-test").experiment_id],
                              order_by=["attributes.start_time DESC"])[0]
    assert last.info.run_id != res.run_id and last.info.status == "FAILED"
    tags = last.data.tags
    assert tags["bankml.stage.rule_files"] == tags["bankml.stage.association"] == "ok"
    assert tags["bankml.stage.segments"] == "failed: RuntimeError"
    assert "bankml.stage.scores" not in tags


def test_bad_sources_and_keys(spark, tmp_path):
    with pytest.raises(DataError, match="no_such_table.*does not exist"):
        run(_cfg(tmp_path, data={"table": "no_such_table"}), verbose=False,
            tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    with pytest.raises(DataError, match="nowhere.parquet.*does not exist"):
        run(_cfg(tmp_path), data=str(tmp_path / "nowhere.parquet"), verbose=False,
            tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    df = make_customers(200, seed=1).drop(columns=["education"])
    with pytest.raises(SchemaError, match="education"):
        run(_cfg(tmp_path), data=spark.createDataFrame(df), verbose=False,
            tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.parametrize("over, key", [
    ({"engine": "dask"}, "engine"),
    ({"spark": {"sample_fraction": 1.5}}, "spark.sample_fraction"),
    ({"spark": {"output_path": "a", "output_table": "b"}}, "output_path and output_table"),
    ({"spark": {"conf": {"spark.x": {"nested": 1}}}}, "spark.conf.spark.x"),
    ({"features": {"numeric": ["age"], "bands": {"age": [30, 55]}}}, "features.bands"),
    ({"data": {"table": "crm.customers"}, "spark": {"output_path": None,
                                                    "output_table": "crm.customers"}},
     "spark.output_table"),
])
def test_config_errors_name_the_key(tmp_path, over, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(_cfg(tmp_path, **over))


def test_a_table_needs_the_spark_engine(tmp_path):
    with pytest.raises(ConfigError, match="data.table"):
        load_config({"data": {"table": "customers"}})


def _scores(spark, n, fail=False):
    from pyspark.sql import functions as F
    sdf = spark.range(n).withColumn("score", F.col("id") / F.lit(n))
    # a job that fails inside Spark, after the write began (as a lost executor would)
    return sdf.withColumn("score", F.raise_error(F.lit("executor lost"))) if fail else sdf


def test_scores_are_swapped_in_whole_or_not_at_all(spark, tmp_path):
    from bankml.pipeline._spark import _replace_path, _replace_table

    path = str(tmp_path / "scores")
    _replace_path(_scores(spark, 10), path, "r1")
    _replace_path(_scores(spark, 20), path, "r2")       # replaces, leaves nothing beside it
    assert spark.read.parquet(path).count() == 20
    with pytest.raises(Exception, match="executor lost"):
        _replace_path(_scores(spark, 30, fail=True), path, "r3")
    # mode("overwrite") would have deleted the old scores before failing: they are whole
    assert spark.read.parquet(path).count() == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores"]

    # a table in a database (Spark's own catalog takes only letters, digits and _ there)
    spark.sql("CREATE DATABASE IF NOT EXISTS branch_db")
    name = "branch_db.wm_scores"
    _replace_table(_scores(spark, 10), name, "r1")
    _replace_table(_scores(spark, 20), name, "r2")
    assert spark.table(name).count() == 20
    with pytest.raises(Exception, match="executor lost"):
        _replace_table(_scores(spark, 30, fail=True), name, "r3")
    assert spark.table(name).count() == 20
    assert [t.name for t in spark.catalog.listTables("branch_db")] == ["wm_scores"]


def test_bankml_run_from_a_shell_without_the_venv_on_path(tmp_path):
    # hostile: the test session sets PYSPARK_PYTHON, which hid that the job's Python workers
    # (the segmenter's UDF) started `python3` from PATH, without bankml (`make run` calls
    # .venv/bin/bankml with the venv not on PATH): ModuleNotFoundError inside Spark
    import os
    import subprocess
    import sys

    import yaml

    cfg = _full_cfg(tmp_path)
    cfg["data"] = {"synthetic": {"n": 1500, "seed": 5}}
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    venv_bin = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if os.path.abspath(p) != os.path.abspath(venv_bin))
    done = subprocess.run([sys.executable, "-m", "bankml", "run", "job.yaml", "--tracking-uri",
                           f"sqlite:///{tmp_path / 'cli.db'}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    scores = pd.read_parquet(tmp_path / "scores")
    assert len(scores) == 1500 and scores["segment"].notna().all()
    assert (tmp_path / "outputs" / "segments_zh.csv").stat().st_size > 0
