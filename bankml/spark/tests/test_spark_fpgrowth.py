"""engine="spark" (Spark MLlib's FPGrowth) gives exactly the tables of the local engines, on
the same baskets or on a Spark DataFrame of baskets, and refuses bad baskets clearly."""

import shutil

import numpy as np
import pytest

pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from pyspark.sql import types as T  # noqa: E402

from bankml.association import frequent_itemsets, mine_rules, to_transactions  # noqa: E402
from bankml.datasets import make_customers  # noqa: E402
from bankml.errors import DataError, ResourceLimitError  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def onehot():
    return to_transactions(make_customers(1_500, seed=11), attributes=["gender", "city_tier"])


def test_one_hot_baskets_give_the_local_tables(spark, onehot):
    local = frequent_itemsets(onehot, 0.05, engine="fpgrowth")
    got = frequent_itemsets(onehot, 0.05, engine="spark")
    assert len(local) > 30 and local["itemsets"].map(len).max() >= 3
    assert got.equals(local)           # itemsets, supports and order, exactly
    rules = mine_rules(onehot, 0.05, 0.3, consequents=["has_wm_account"], max_len=3,
                       engine="spark")
    expected = mine_rules(onehot, 0.05, 0.3, consequents=["has_wm_account"], max_len=3)
    assert len(expected) > 3 and rules.equals(expected)   # support ... conviction, exactly
    assert rules.attrs == expected.attrs                   # item meanings carried on


def test_spark_baskets_give_the_local_tables_with_exact_borderline(spark):
    rng = np.random.default_rng(2)
    names = ["fund", "gold", "wm", "card", "loan", "insurance"]
    baskets = [sorted(set(rng.choice(names, rng.integers(0, 5)).tolist())) for _ in range(400)]
    baskets += [[], ["fund", "fund", "wm"]]          # an empty basket, an item twice
    n = len(baskets)
    local = frequent_itemsets(baskets, 0.1, engine="fpgrowth")
    # A support exactly equal to an itemset's share keeps it: count / n >= min_support.
    edge = local.iloc[len(local) // 2]
    at_edge = float(edge["support"])
    schema = T.StructType([T.StructField("customer", T.IntegerType()),
                           T.StructField("holdings", T.ArrayType(T.StringType()))])
    sdf = spark.createDataFrame(list(enumerate(baskets)), schema)
    for min_support in (0.1, at_edge):
        got = frequent_itemsets(sdf, min_support, engine="spark")
        assert got.equals(frequent_itemsets(baskets, min_support, engine="fpgrowth"))
    assert edge["itemsets"] in set(got["itemsets"]) and got["support"].min() == at_edge
    assert round(at_edge * n) == at_edge * n
    rules = mine_rules(sdf, 0.05, 0.2, max_len=2, engine="spark")
    assert rules.equals(mine_rules(baskets, 0.05, 0.2, max_len=2, engine="fpgrowth"))
    with pytest.raises(DataError, match=r"item\(s\) \['bitcoin'\] never appear"):
        mine_rules(sdf, 0.05, 0.2, consequents=["bitcoin"], engine="spark")


def test_bad_spark_baskets_are_refused_clearly(spark):
    schema = T.StructType([T.StructField("holdings", T.ArrayType(T.StringType()))])
    holes = spark.createDataFrame([(["fund", None],), (None,), (None,), (["wm"],)], schema)
    with pytest.raises(DataError, match=r"column 'holdings': 2 basket\(s\) are NULL.*1 basket\(s\) "
                                        r"hold a missing item label"):
        frequent_itemsets(holes, 0.1, engine="spark")
    two = holes.selectExpr("holdings", "holdings AS again")
    with pytest.raises(DataError, match="exactly one array column"):
        frequent_itemsets(two, 0.1, engine="spark")
    empty = spark.createDataFrame([([],), ([],)], schema)
    with pytest.raises(DataError, match="every basket is empty"):
        mine_rules(empty, 0.1, 0.5, engine="spark")
    many = [f"item{i}" for i in range(22)]
    full = spark.createDataFrame([(many,)] * 3, schema)
    with pytest.raises(ResourceLimitError, match="max_itemsets=1,000.*max_len=2"):
        frequent_itemsets(full, 0.5, engine="spark", max_itemsets=1_000)
