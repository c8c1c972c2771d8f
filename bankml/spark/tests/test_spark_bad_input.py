"""Bad input on the Spark path: one bankml error naming the column or table, offending rows
counted and never listed by customer id; no Java refused before a JVM is launched.

(No pyspark: tests/test_no_pyspark.py, collected by the non-Spark legs.)
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

import bankml  # noqa: E402
from bankml.errors import DataError, SchemaError  # noqa: E402
from bankml.pipeline._spark import _check_frame, _source  # noqa: E402
from bankml.schema import ID, LABEL, STAR_INPUTS  # noqa: E402
from bankml.spark import score_stars  # noqa: E402

pytestmark = pytest.mark.spark

# ids that would be easy to spot in a message
SECRET = "SECRET-ID-"


def _stars_frame(n=10):
    df = pd.DataFrame({ID: [f"{SECRET}{i:03d}" for i in range(n)],
                       **{c: np.arange(n, dtype=float) * 100 for c in STAR_INPUTS}})
    return df


def _no_ids(text):
    assert SECRET not in text, text


def test_star_inputs_are_counted_per_column_never_listed(spark):
    df = _stars_frame()
    df.loc[3, "card_spend"] = None
    df.loc[4, "card_spend"] = np.nan
    df.loc[[7, 8], "other_loans"] = -5.0
    df.loc[9, "long_term_assets"] = np.inf
    with pytest.raises(SchemaError) as err:
        score_stars(spark.createDataFrame(df), service=False)  # the one Spark action here
    got = {(p.column, p.check): p.n_rows for p in err.value.problems}
    assert got == {("card_spend", "missing values (NULL or NaN)"): 2,
                   ("other_loans", "negative values"): 2,
                   ("long_term_assets", "infinite values"): 1}
    assert all(p.rows == [] for p in err.value.problems)
    text = str(err.value)
    _no_ids(text)
    assert "column 'other_loans': negative values" in text and "2 row(s)" in text

    # checked from the schema, no Spark job: every missing column at once (two inputs and,
    # for the service star, the holdings flags), and text inputs
    with pytest.raises(SchemaError) as err:
        score_stars(spark.createDataFrame(df.drop(columns=["card_spend", "other_loans"])))
    missing = [p.column for p in err.value.problems]
    assert missing[:2] == ["other_loans", "card_spend"] and "has_platinum_card" in missing
    assert "lacks column(s) ['other_loans', 'card_spend', 'has_" in str(err.value)
    with pytest.raises(SchemaError, match=r"column 'card_spend': wrong dtype string"):
        score_stars(spark.createDataFrame(df.astype({"card_spend": str})), service=False)


def test_table_names_chinese_odd_and_absent(spark):
    name = "客户 表-1"  # parses only when quoted
    df = spark.createDataFrame(_stars_frame(3))
    df.createOrReplaceTempView(f"`{name}`")
    try:
        assert score_stars(name, service=False).columns[-2:] == ["star_points", "contribution_star"]
        sdf, described = _source(spark, {"data": {"table": name}}, None)
        assert sdf.columns == df.columns and described == f"table {name}"
    finally:
        assert spark.catalog.dropTempView(name)  # the raw name, unparsed
    for absent in (name, "no_such_db.customers", "bad-name"):
        with pytest.raises(DataError, match=rf"data\.table: the table '{absent}' does not exist"):
            _source(spark, {"data": {"table": absent}}, None)
    with pytest.raises(DataError, match="score_stars: the table '不存在' does not exist"):
        score_stars("不存在")


def test_the_jobs_table_check_counts_without_ids(spark):
    from pyspark.sql import functions as F

    cfg = {"features": {"categorical": ["segment"], "numeric": ["age"]}}
    rows = [(f"{SECRET}{i}", "a", 40.0, i % 2) for i in range(8)]
    rows += [(f"{SECRET}2", "b", 41.0, 0),     # a repeated id: 2 rows of 1 customer
             (None, "a", 30.0, 1),              # a NULL id
             (f"{SECRET}90", "a", 30.0, None),  # a NULL label
             (f"{SECRET}91", "a", 30.0, 2)]     # a label other than 0/1
    sdf = spark.createDataFrame(rows, f"{ID} string, segment string, age double, {LABEL} int")
    with pytest.raises(SchemaError) as err:
        _check_frame(sdf, cfg, F)               # one Spark job
    got = {(p.column, p.check): (p.n_rows, p.n_customers) for p in err.value.problems}
    assert got == {(ID, "missing values (NULL)"): (1, None),
                   (ID, "duplicate customer ids"): (2, 1),
                   (LABEL, "missing values (NULL or NaN)"): (1, None),
                   (LABEL, "values other than 0 and 1"): (1, None)}
    _no_ids(str(err.value))

    with pytest.raises(DataError, match="the customer table has no rows"):
        _check_frame(sdf.limit(0), cfg, F)
    with pytest.raises(SchemaError, match=rf"column '{LABEL}': wrong dtype string"):
        _check_frame(sdf.withColumn(LABEL, F.lit("yes")), cfg, F)
    with pytest.raises(SchemaError, match=rf"lacks column\(s\) \['{LABEL}', 'age'\]"):
        _check_frame(sdf.drop(LABEL, "age"), cfg, F)


def test_no_java_is_refused_before_a_jvm_is_launched(tmp_path):
    # a fresh interpreter: no session running, PATH without java, JAVA_HOME unset, then bogus
    code = textwrap.dedent("""
        import os
        import pandas as pd
        from pyspark import SparkContext
        from bankml.association import mine_rules
        from bankml.config import load_config
        from bankml.errors import EngineNotAvailableError
        from bankml.pipeline._spark import spark_session

        cfg = load_config({"engine": "spark", "data": {"synthetic": {"n": 100, "seed": 0}}})
        baskets = pd.DataFrame({"fund": [True, True, False], "wm": [True, False, True]})
        calls = [lambda: spark_session(cfg),
                 lambda: mine_rules(baskets, 0.3, 0.3, engine="spark")]
        for java_home in (None, "/nonexistent/jdk"):
            if java_home:
                os.environ["JAVA_HOME"] = java_home
            for call in calls:
                try:
                    call()
                    print("STARTED")
                except EngineNotAvailableError as exc:
                    print("REFUSED", exc)
        print("JVM", SparkContext._gateway is not None)
    """)
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "java").exists()]
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_GATEWAY_PORT",
                                                             "SPARK_REMOTE")}
    env.update(PATH=os.pathsep.join(path), PYTHONPATH=str(Path(bankml.__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out[-1] == "JVM False" and len(out) == 5, out
    assert all(line.startswith("REFUSED") and "needs a Java runtime" in line for line in out[:4]), out
    assert "no `java` on PATH" in out[0] and "'/nonexistent/jdk' but it has no bin/java" in out[2]


def test_the_job_reads_a_gbk_csv_and_names_a_corrupt_parquet(spark, tmp_path):
    # hostile: a bank's GBK export (Spark 4 refused the charset with its own error), and a
    # Parquet folder holding a broken file (a py4j traceback naming no file)
    from bankml.datasets import make_customers
    from bankml.errors import DataError
    from bankml.pipeline import run

    df = make_customers(600, seed=8)
    df["education"] = df["education"].map(lambda v: f"{v}（学历）")  # characters GBK encodes
    df.to_csv(tmp_path / "gbk.csv", index=False, encoding="gbk")
    cfg = {"engine": "spark", "data": {"path": str(tmp_path / "gbk.csv"), "encoding": "gbk"},
           "spark": {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": 2}},
           "output": {"reports_dir": str(tmp_path / "out"), "model_name": "gbk"},
           "features": {"categorical": ["education"], "numeric": ["age"], "bands": {}},
           "tree": {"max_depth": 2, "min_samples_leaf": 20, "max_bins": 16},
           "association": {"enabled": False}, "segments": {"enabled": False},
           "outliers": {"enabled": False}, "mlflow": {"experiment": "gbk", "register": False}}
    res = run(cfg, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", verbose=False)
    assert res.metrics["data.customers"] == 600
    # decoded as written, not as mojibake that would still train
    from bankml.config import load_config
    from bankml.pipeline._spark import _source
    sdf, _ = _source(spark, load_config(cfg), None)
    got = sorted(r[0] for r in sdf.select("education").distinct().collect())
    assert got == sorted(df["education"].unique())

    broken = tmp_path / "broken.parquet"
    broken.mkdir()
    (broken / "part-0.parquet").write_bytes(b"not parquet")
    cfg["data"] = {"path": str(broken)}
    with pytest.raises(DataError, match=r"broken\.parquet' cannot be read as Parquet: .*Parquet"):
        run(cfg, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", verbose=False)
