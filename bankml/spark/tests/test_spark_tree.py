"""fit_tree on Spark grows the same tree as InfoGainTreeClassifier.fit on the same rows."""

import shutil
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from bankml.errors import DataError, EngineNotAvailableError, InvalidParameterError, SchemaError  # noqa: E402
from bankml.rules import rules_from_tree  # noqa: E402
from bankml.spark import _tree as spark_tree  # noqa: E402
from bankml.spark import fit_tree, proba_column  # noqa: E402
from bankml.tree import InfoGainTreeClassifier  # noqa: E402

pytestmark = pytest.mark.spark

FEATURES = ["aum", "资产等级", "age", "has card.flag", "branch", "band"]  # a dot and a space: one name


def _data(n=2500, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "aum": rng.lognormal(10, 1, n),
        "资产等级": rng.choice(["高", "中", "低", "无"], n).astype(object),
        "age": rng.integers(18, 80, n).astype(float),
        "has card.flag": rng.integers(0, 2, n).astype(bool),
        "branch": rng.integers(1, 6, n),            # integers, split multiway when named
        "band": rng.choice([1.0, 2.0, 3.0, np.nan], n),  # NaN: a value to Spark, missing here
    })
    df.loc[rng.random(n) < 0.1, "aum"] = np.nan     # missing numbers and categories
    df.loc[rng.random(n) < 0.1, "资产等级"] = None
    signal = ((df["aum"].fillna(0) > 30_000) & (df["资产等级"] != "低") | (df["branch"] == 3) & (df["age"] > 50)
              | (df["band"] == 2) & (df["age"] < 30))
    df["wm_buyer"] = (signal | (rng.random(n) < 0.08)).astype(int)
    return df


@pytest.fixture(scope="module")
def data(spark):
    df = _data()
    return df, spark.createDataFrame(df)


def assert_same_tree(a, b, exact=True):
    ta, tb = a.tree_, b.tree_
    assert ta.node_count == tb.node_count > 1
    np.testing.assert_array_equal(ta.feature, tb.feature)
    np.testing.assert_array_equal(ta.threshold, tb.threshold)
    np.testing.assert_array_equal(ta.first_child, tb.first_child)
    np.testing.assert_array_equal(ta.missing_child, tb.missing_child)
    np.testing.assert_array_equal(ta.n_node_samples, tb.n_node_samples)
    if exact:
        np.testing.assert_array_equal(ta.value, tb.value)
    else:
        np.testing.assert_allclose(ta.value, tb.value, rtol=1e-12)
    assert ta.categories == tb.categories
    for node in np.flatnonzero(ta.feature >= 0):
        assert ta.branches(node) == tb.branches(node)
    np.testing.assert_array_equal(a.classes_, b.classes_)
    np.testing.assert_array_equal(a.categorical_features_, b.categorical_features_)


@pytest.mark.parametrize("params", [
    {"max_depth": 4, "max_bins": 6, "min_samples_split": 40, "min_weight_fraction_leaf": 0.02},
    {"max_depth": 5, "max_bins": 12, "criterion": "gain_ratio", "class_weight": {0: 1, 1: 3},
     "min_samples_leaf": 8, "pruning": "pessimistic", "categorical_features": ["资产等级", "branch", "band"],
     "min_gain": 0.001},
])
def test_identical_to_the_local_fit(data, params):
    df, sdf = data
    spark_fit = fit_tree(sdf, FEATURES, **params)
    local = InfoGainTreeClassifier(**params).fit(df[FEATURES], df["wm_buyer"])
    assert_same_tree(spark_fit, local)
    # max_bins is small enough that binning shapes the tree: fewer bins than distinct values
    assert np.unique(df["aum"].dropna()).size > 100 and spark_fit._coders[0].edges.size < 12
    X = df[FEATURES]
    np.testing.assert_array_equal(spark_fit.predict_proba(X), local.predict_proba(X))


def test_balanced_weights_agree_to_rounding(data):
    df, sdf = data
    params = {"max_depth": 4, "max_bins": 8, "class_weight": "balanced"}
    assert_same_tree(fit_tree(sdf, FEATURES, **params),
                     InfoGainTreeClassifier(**params).fit(df[FEATURES], df["wm_buyer"]), exact=False)


def test_the_result_is_an_ordinary_fitted_tree(spark, data, tmp_path):
    df, sdf = data
    tree = fit_tree(sdf, FEATURES, max_depth=3, max_bins=8)
    # scoring inside Spark equals predict_proba, also on values unseen in training and NULLs
    probe = df.copy()
    probe.loc[:30, "资产等级"] = "新"
    probe.loc[30:60, "branch"] = 99
    probe.loc[60:90, ["aum", "资产等级"]] = [np.nan, None]
    got = spark.createDataFrame(probe).select(proba_column(tree).alias("p")).toPandas()["p"]
    np.testing.assert_array_equal(got.to_numpy(), tree.predict_proba(probe[FEATURES])[:, 1])
    rules = rules_from_tree(tree)
    assert len(rules.rules) >= 2
    joblib.dump(tree, tmp_path / "t.joblib")
    again = joblib.load(tmp_path / "t.joblib")
    np.testing.assert_array_equal(again.predict(df[FEATURES]), tree.predict(df[FEATURES]))
    assert list(tree.feature_names_in_) == FEATURES


def test_one_class_gives_the_local_single_leaf(spark):
    df = _data(300)
    df["wm_buyer"] = 0
    tree = fit_tree(spark.createDataFrame(df), FEATURES, max_depth=3)
    local = InfoGainTreeClassifier(max_depth=3).fit(df[FEATURES], df["wm_buyer"])
    assert tree.tree_.node_count == local.tree_.node_count == 1
    np.testing.assert_array_equal(tree.tree_.value, local.tree_.value)
    np.testing.assert_array_equal(tree.classes_, local.classes_)


def test_stratified_sample_is_seeded_and_keeps_both_classes(data):
    df, sdf = data
    a = fit_tree(sdf, FEATURES, sample_fraction=0.5, max_depth=3, random_state=7)
    b = fit_tree(sdf, FEATURES, sample_fraction=0.5, max_depth=3, random_state=7)
    assert_same_tree(a, b)
    root = a.tree_.value[0]
    full = np.bincount(df["wm_buyer"])
    # each class sampled at about half (Bernoulli per row: within 5 standard deviations)
    assert np.all(np.abs(root - full / 2) < 5 * np.sqrt(full / 4))


def test_edges_from_a_sample_when_the_table_is_large(data, monkeypatch):
    df, sdf = data
    monkeypatch.setattr(spark_tree, "_EDGE_SAMPLE", 500)
    a = fit_tree(sdf, FEATURES, max_depth=3, max_bins=8, random_state=1)
    b = fit_tree(sdf, FEATURES, max_depth=3, max_bins=8, random_state=1)
    np.testing.assert_array_equal(a._coders[0].edges, b._coders[0].edges)
    full = InfoGainTreeClassifier(max_depth=3, max_bins=8).fit(df[FEATURES], df["wm_buyer"])
    # a sample places the edges elsewhere than all rows do, yet within the data's range
    assert not np.array_equal(a._coders[0].edges, full._coders[0].edges)
    assert df["aum"].min() < a._coders[0].edges.min() and a._coders[0].edges.max() < df["aum"].max()
    # counts are still over every row
    assert a.tree_.n_node_samples[0] == len(df)


# ---- bad input: one clear error each ------------------------------------------------------------
def test_missing_column(data):
    with pytest.raises(SchemaError, match="income"):
        fit_tree(data[1], ["aum", "income"])


@pytest.mark.parametrize("label, match", [
    ([0, 1, 2, 1] * 25, r"0/1; 25 row\(s\) hold other values \(counted, not shown\)$"),
    ([0, 1, None, 1] * 25, "NULL/NaN in 25 row"),
    ([0.0, 1.0, float("nan"), 1.0] * 25, "NULL/NaN in 25 row"),
])
def test_bad_label(spark, label, match):
    df = _data(100)
    df["wm_buyer"] = pd.Series(label, dtype=object if None in label else None)
    sdf = spark.createDataFrame(df)
    with pytest.raises(DataError, match=match):
        fit_tree(sdf, FEATURES)


def test_table_not_found(spark):
    with pytest.raises(DataError, match="no_such_table.*does not exist"):
        fit_tree("no_such_table", ["aum"])


def test_infinity_and_too_many_categories(spark):
    df = _data(200)
    df.loc[[3, 9], "aum"] = np.inf
    with pytest.raises(DataError, match="'aum' holds infinity in 2 row"):
        fit_tree(spark.createDataFrame(df), FEATURES)
    df = _data(200)
    df["id"] = [f"c{i}" for i in range(200)]
    with pytest.raises(DataError, match="'id' has .*distinct values.*max_bins=50"):
        fit_tree(spark.createDataFrame(df), ["id", "aum"], max_bins=50)


def test_empty_table(data):
    with pytest.raises(DataError, match="no rows"):
        fit_tree(data[1].limit(0), FEATURES)


@pytest.mark.parametrize("kwargs, name", [
    ({"max_depth": 0}, "max_depth"),
    ({"depth": 3}, "depth"),
    ({"sample_fraction": 1.5}, "sample_fraction"),
    ({"sample_fraction": 0}, "sample_fraction"),
])
def test_bad_parameters(data, kwargs, name):
    with pytest.raises(InvalidParameterError, match=name):
        fit_tree(data[1], FEATURES, **kwargs)


def test_parameters_spark_does_not_implement_are_refused(data, monkeypatch):
    # the mechanism, on a parameter every version has ...
    monkeypatch.setitem(spark_tree._UNSUPPORTED, "min_gain", 0.0)
    with pytest.raises(InvalidParameterError, match="'min_gain'.*not supported on Spark"):
        fit_tree(data[1], FEATURES, min_gain=0.1)
    # ... and on the real ones, where the installed tree has them
    known = InfoGainTreeClassifier().get_params()
    for name, value in [("missing", "fractional"), ("max_leaf_nodes", 8), ("ccp_alpha", 0.01)]:
        if name in known:
            with pytest.raises(InvalidParameterError, match=name):
                fit_tree(data[1], FEATURES, **{name: value})


def test_no_pyspark(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineNotAvailableError, match="pyspark"):
        fit_tree(data[1], FEATURES)


def test_scoring_a_deep_tree_equals_predict_proba_with_nan_and_null(spark, data):
    """A NaN double (Spark orders it above every number) and NULL both take the missing
    branch; each subtree appears once in the expression, so depth 8 stays compact."""
    from pyspark.sql import functions as F

    df, sdf = data
    tree = fit_tree(sdf, FEATURES, max_depth=8, min_samples_leaf=5, max_bins=16)
    assert tree.get_depth() >= 6
    probe = df.copy()
    nan_rows = np.arange(len(df)) % 7 == 0
    probe["_nan"] = nan_rows
    s = spark.createDataFrame(probe.assign(aum=probe["aum"].fillna(-1.0)))
    # aum: NaN (not NULL) on every 7th row; NULL where pandas had NaN
    s = s.withColumn("aum", F.when(F.col("_nan"), F.lit(float("nan")))
                     .when(F.col("aum") == -1.0, F.lit(None).cast("double")).otherwise(F.col("aum")))
    got = s.select(proba_column(tree).alias("p")).toPandas()["p"].to_numpy()
    local = probe.copy()
    local.loc[nan_rows, "aum"] = np.nan
    np.testing.assert_array_equal(got, tree.predict_proba(local[FEATURES])[:, 1])
    # the expression grows with the tree's nodes, not exponentially with its depth
    assert len(str(proba_column(tree)._jc.toString())) < 400 * tree.tree_.node_count
