"""`engine: spark`: the main job on Spark gives the tree's own scores and is tracked in MLflow."""

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


def test_the_job_on_spark(spark, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assoc = {"enabled": True, "min_support": 0.05, "min_confidence": 0.3, "max_len": 2}
    res = run(_cfg(tmp_path, association=assoc), tracking_uri=uri, verbose=False)
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
    # cross-sell on Spark: the rules the local engine finds among the training customers
    from bankml.association import mine_rules
    from bankml.schema import HOLDING_FLAGS
    local = mine_rules(scores.loc[~scores["in_test"], list(HOLDING_FLAGS)].astype(bool),
                       min_support=0.05, min_confidence=0.3, max_len=2)
    assert res.metrics["association.rules"] == len(local) > 0
    # the rules' prediction is the tree's
    np.testing.assert_array_equal(scores["prediction"].astype(int), res.model.predict(scores[feats]))
    from mlflow import MlflowClient
    run_ = MlflowClient(uri).get_run(res.run_id)
    assert run_.data.tags["bankml.engine"] == "spark"
    assert run_.data.metrics["tree.test.auc"] == pytest.approx(res.metrics["tree.test.auc"])
    logged = " ".join(map(str, [run_.data.params, run_.data.tags, run_.data.metrics]))
    assert not any(str(i) in logged for i in df[ID].head(50) if len(str(i)) > 4)


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
])
def test_config_errors_name_the_key(tmp_path, over, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(_cfg(tmp_path, **over))


def test_a_table_needs_the_spark_engine(tmp_path):
    with pytest.raises(ConfigError, match="data.table"):
        load_config({"data": {"table": "customers"}})
