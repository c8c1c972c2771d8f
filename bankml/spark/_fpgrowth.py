"""Frequent itemsets on Spark MLlib's FPGrowth: ``engine="spark"`` of bankml.association.

Spark only finds the itemsets and their basket counts; the exact support test, the memory
guard, the canonical order and the rule metrics stay in bankml.association, so the table is
the one every other engine returns.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, EngineNotAvailableError, ResourceLimitError
from ._checks import PIP, require_java

__all__ = ["SparkBaskets", "check_available", "is_spark_frame", "spark_baskets", "mine_spark"]


def check_available():
    """Raise EngineNotAvailableError naming the extra when pyspark cannot be imported."""
    try:
        import pyspark.ml.fpm  # noqa: F401
    except ImportError:
        raise EngineNotAvailableError(
            f"engine='spark' needs pyspark (and Java 17+), which is not installed: {PIP}; "
            "or use engine='fpgrowth' (mlxtend, same results)") from None


def is_spark_frame(obj) -> bool:
    return hasattr(obj, "sparkSession") and hasattr(obj, "schema") and hasattr(obj, "rdd")


class SparkBaskets:
    """A Spark DataFrame of baskets (one array column), checked, with its item counts.

    ``items`` (sorted labels, as the local engines order them), ``item_counts`` and ``n``
    come from two Spark jobs; the baskets themselves never leave Spark.
    """

    is_spark = True

    def __init__(self, sdf, column, items, item_counts, n):
        self.sdf, self.column, self.items, self.item_counts, self.n = (
            sdf, column, items, item_counts, n)


def _basket_column(sdf, what):
    from pyspark.sql import types as T

    arrays = [f.name for f in sdf.schema.fields if isinstance(f.dataType, T.ArrayType)]
    if len(arrays) != 1:
        raise DataError(f"{what}: a Spark DataFrame of baskets needs exactly one array column "
                        f"(the items of each basket), found {arrays or 'none'} among "
                        f"{sdf.columns}")
    return arrays[0]


def spark_baskets(sdf, what) -> SparkBaskets:
    """Check a Spark DataFrame of baskets: NULL baskets or NULL items are refused (counted)."""
    from pyspark.sql import functions as F

    col = _basket_column(sdf, what)
    items = F.col(col)
    row = sdf.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(items.isNull().cast("long")).alias("null_baskets"),
        # a NULL element is a hole in the source data, never a product
        F.sum(F.coalesce(F.exists(items, lambda x: x.isNull()), F.lit(False)).cast("long"))
        .alias("null_items"),
    ).first()
    n = int(row["n"])
    if n == 0:
        raise DataError(f"{what}: no baskets given; need at least one transaction")
    bad = [(int(row[k] or 0), text) for k, text in (
        ("null_baskets", "are NULL instead of an array (use an empty array for no items)"),
        ("null_items", "hold a missing item label (NULL); drop the missing values before "
                       "building baskets"))]
    bad = [f"{k} basket(s) {text}" for k, text in bad if k]
    if bad:
        raise DataError(f"{what}: column {col!r}: " + "; ".join(bad))
    counts = (sdf.select(F.explode(F.array_distinct(items)).alias("item"))
              .groupBy("item").count().collect())
    if not counts:
        raise DataError(f"{what}: every basket is empty (no customer holds any item); "
                        "nothing to mine")
    try:
        counts.sort(key=lambda r: r[0])
    except TypeError:  # pragma: no cover - a Spark array holds one element type
        pass
    return SparkBaskets(sdf, col, [r[0] for r in counts],
                        np.array([r[1] for r in counts], dtype=np.int64), n)


def _session():
    from pyspark.sql import SparkSession

    # engine="spark" asks for Spark: use the running session, or start a local one (after
    # checking there is a Java to start it with).
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    require_java("engine='spark'")
    return SparkSession.builder.getOrCreate()


def _bound(frequent_sizes_hist, f, min_count, max_len):
    """The upper bound of bankml.association's memory guard from basket-size counts."""
    hist = np.asarray(frequent_sizes_hist, dtype=np.int64)
    if f == 0:
        return 0, 0
    # the min_count-th largest basket size (restricted to frequent items)
    above = np.cumsum(hist[::-1])[::-1]     # baskets of size >= s
    reach = np.flatnonzero(above >= min_count)
    k_max = int(reach.max()) if reach.size else 0
    k_cap = min(k_max, max_len) if max_len else k_max
    by_items = sum(math.comb(f, k) for k in range(1, k_cap + 1))
    by_baskets = sum(int(h) * sum(math.comb(s, k) for k in range(1, min(s, k_cap) + 1))
                     for s, h in enumerate(hist) if h) // min_count
    return min(by_items, by_baskets), k_max


def _guard_spark(src, col, min_support, min_count, max_len, max_itemsets, F):
    if max_itemsets is None:
        return
    frequent = [item for item, c in zip(src.items, src.item_counts) if c >= min_count]
    if not frequent:
        return
    size = F.size(F.array_intersect(F.array_distinct(F.col(col)),
                                    F.array(*[F.lit(x) for x in frequent])))
    rows = src.sdf.groupBy(size.alias("s")).count().collect()
    hist = np.zeros(max(r["s"] for r in rows) + 1, dtype=np.int64)
    for r in rows:
        hist[r["s"]] = r["count"]
    estimate, k_max = _bound(hist, len(frequent), min_count, max_len)
    if estimate <= max_itemsets:
        return
    hint = next((f"max_len={L}" for L in range((max_len or k_max) - 1, 0, -1)
                 if _bound(hist, len(frequent), min_count, L)[0] <= max_itemsets), None)
    raise ResourceLimitError(
        f"min_support={min_support:g} over {src.n} baskets and {len(src.items)} items could "
        f"give up to {estimate:,} frequent itemsets, more than max_itemsets={max_itemsets:,}; "
        f"that would exhaust memory. Try a higher min_support{' or ' + hint if hint else ''}, "
        "or raise max_itemsets if the machine has the memory.")


def mine_spark(src, min_count, max_len, min_support=None, max_itemsets=None):
    """Itemsets of ``src`` (a bankml ``_Tx`` or :class:`SparkBaskets`) with count >= min_count.

    Returns ``(items, n, sets, counts)``: the item labels, the number of baskets, and each
    frequent itemset as a tuple of positions into ``items`` with its basket count.

    MLlib's FPGrowth has no length limit: with ``max_len`` the longer itemsets are still
    mined in Spark and dropped before they reach the driver, so the memory guard bounds
    what is collected, not the executors' work.
    """
    check_available()
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(src, SparkBaskets):
        items, n, col = src.items, src.n, src.column
        _guard_spark(src, col, min_support, min_count, max_len, max_itemsets, F)
        lookup = {item: j for j, item in enumerate(items)}
        # FPGrowth refuses a basket with a repeated item; a basket is a set of holdings.
        df = src.sdf.select(F.array_distinct(F.col(col)).alias("items"))
    else:
        items, n = src.items, src.n
        lookup = None
        rows = [(np.flatnonzero(r).tolist(),) for r in src.X]
        schema = T.StructType([T.StructField("items", T.ArrayType(T.IntegerType()))])
        df = _session().createDataFrame(rows, schema)
    # Ask for half a basket less than needed, then apply the one exact count test here, so
    # Spark's own rounding (ceil(minSupport * n)) can never drop a borderline itemset.
    model = FPGrowth(itemsCol="items", minSupport=(min_count - 0.5) / n).fit(df)
    found = model.freqItemsets.where(F.col("freq") >= min_count)
    if max_len is not None:  # MLlib has no length limit: keep the sets that fit
        found = found.where(F.size("items") <= max_len)
    sets, counts = [], []
    for r in found.collect():
        s = r["items"]
        sets.append(tuple(s) if lookup is None else tuple(lookup[x] for x in s))
        counts.append(r["freq"])
    return items, n, sets, counts
