"""Customer segments on Spark: the bankml segmenter with MLlib's k-means over every row.

Scaling and the choice of k are the pandas segmenter's, fitted on a driver sample; the
centres are refined by MLlib's k-means over all rows; sizes, profiles and names are counted
in Spark and read by the segmenter's own profile code, so they are the same kind of result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, InvalidParameterError
from ._checks import lookup_table
from ._checks import functions

__all__ = ["fit_segments", "assign_segments"]

_SEGMENT = "segment"


def _numeric_types():
    from pyspark.sql import types as T

    return (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
            T.DecimalType)


def _check(sdf, seg, F):
    """Features chosen as the segmenter chooses them; one pass counting bad values."""
    if not (hasattr(sdf, "sparkSession") and hasattr(sdf, "schema")):
        raise DataError(f"fit_segments needs a Spark DataFrame, got {type(sdf).__name__} "
                        "(for pandas use bankml.segment.CustomerSegmenter)")
    features = seg._choose_features(sdf)
    types = {f.name: f.dataType for f in sdf.schema.fields}
    bad_types = [f"{c} ({types[c].simpleString()})" for c in features
                 if not isinstance(types[c], _numeric_types())]
    if bad_types:
        raise DataError(f"fit_segments: columns {bad_types} are not numeric; MLlib k-means needs "
                        "numbers (cast true/false flags to 0/1, drop text columns from features=)")
    from ..segment._config import segment_config

    logs = set(segment_config()["segmenter"]["log_columns"])
    exprs = [F.count(F.lit(1)).alias("n")]
    for j, c in enumerate(features):
        v = F.col(c).cast("double")
        exprs += [F.sum((v.isNull() | F.isnan(v)).cast("long")).alias(f"na{j}"),
                  F.sum(v.isin(float("inf"), float("-inf")).cast("long")).alias(f"inf{j}"),
                  F.sum((v < 0).cast("long")).alias(f"neg{j}") if c in logs
                  else F.lit(0).alias(f"neg{j}")]
    row = sdf.agg(*exprs).first()
    problems = []
    for j, c in enumerate(features):
        for key, text in (("na", "missing values (NULL or NaN); impute them or drop those rows"),
                          ("inf", "infinite values"),
                          ("neg", "negative values, but it is an amount and must be >= 0")):
            k = int(row[f"{key}{j}"] or 0)
            if k:
                problems.append(f"column {c!r} has {text} in {k} row(s)")
    if problems:
        raise DataError("fit_segments: " + "; ".join(problems))
    return features, int(row["n"])


def _scaled_batches(seg, features, value):
    """mapInPandas body: segment, scaled and raw features (and value) of each row."""
    def run(batches):
        for df in batches:
            Z, C, _, raw = seg._scaled(df[features], raw=True)
            out = {_SEGMENT: seg._predict_scaled(Z, C).astype("int32")}
            for j in range(len(features)):
                out[f"z{j}"] = Z[:, j]
                out[f"r{j}"] = raw[:, j]
            if value is not None:
                out["v"] = df[value].to_numpy(dtype="float64", na_value=np.nan)
            yield pd.DataFrame(out)
    return run


def fit_segments(sdf, features=None, *, max_iter=20, **params):
    """Segment the customers of a Spark DataFrame into a fitted ``CustomerSegmenter``.

    The segmenter's rank (or log1p) scaling, its choice of k by silhouette and its first
    centres come from a local fit on ``sample_size`` rows drawn on the driver (all rows when
    the table is no larger); MLlib's k-means then refines those centres over every row
    (Lloyd iterations started from them). Sizes, standardised mean differences, medians and
    value sums per segment are aggregated in Spark over every row, and read by the
    segmenter's own ``profile``/naming code.

    What is equal to ``CustomerSegmenter(**params).fit(pdf)`` on the same rows: when the table
    fits in one sample, the scaling, k, ``k_scores_`` and the starting centres exactly; the
    segments (sizes, names, distinguishing features) whenever the local k-means has
    converged, since its centres are then a fixed point of MLlib's iterations; the
    standardised mean differences up to the order of float additions. On larger tables the
    scaling is fitted on the sample (the pandas segmenter ranks every row).

    The scaling runs in Python workers (pandas UDFs), so the executors need bankml and
    its dependencies: the driver's environment (locally, ``PYSPARK_PYTHON`` set to this
    interpreter).

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame or str
        One row per customer (or the name of such a table, looked up in the active session)
        with the feature columns (numeric, no NULL/NaN) and, when
        present, ``star_points`` for the value shares.
    features : list of str, optional
        As for :class:`~bankml.segment.CustomerSegmenter`.
    max_iter : int, default 20
        Most MLlib k-means iterations over all rows.
    **params
        Parameters of :class:`~bankml.segment.CustomerSegmenter` (``n_clusters``,
        ``k_range``, ``sample_size``, ``n_init``, ``random_state``, ``scaling``);
        ``method="kmeans"`` only.

    Returns
    -------
    CustomerSegmenter
        Fitted: ``profile(lang=)``, ``plot_profiles``, ``predict`` on pandas rows, and
        :func:`assign_segments` for Spark rows. ``labels_`` are those of the driver sample
        (``sample_rows_`` rows); ``cluster_centers_`` are MLlib's; ``n_rows_`` counts all rows.

    Raises
    ------
    DataError
        Not a Spark DataFrame, unknown or non-numeric features, NULL/NaN, infinite or
        negative amounts (counted per column, never listed).
    InvalidParameterError
        A bad segmenter parameter, ``method="kprototypes"``, a bad ``max_iter``.

    Examples
    --------
    >>> seg = fit_segments(sdf, n_clusters=4, random_state=0)   # doctest: +SKIP
    >>> seg.profile(lang="zh")                                  # doctest: +SKIP
    >>> assign_segments(sdf, seg).groupBy("segment").count()    # doctest: +SKIP
    """
    F = functions()
    from pyspark.mllib.clustering import KMeans, KMeansModel

    from ..segment import CustomerSegmenter
    from ..segment._config import segment_config

    seg = CustomerSegmenter(features=features, **params)
    seg._validate_params()
    if seg.method != "kmeans":
        raise InvalidParameterError("fit_segments: method must be 'kmeans' on Spark (MLlib "
                                    f"k-means), got {seg.method!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise InvalidParameterError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if isinstance(sdf, str):
        sdf = lookup_table(sdf, "fit_segments")
    features, n = _check(sdf, seg, F)
    if n == 0:
        raise DataError("fit_segments: the table has no rows")
    seg.features = features
    value = segment_config()["segmenter"]["value_column"]
    value = value if value in sdf.columns and value not in features else None
    cols = features + ([value] if value else [])
    _, sample, _ = seg._settings()
    if n <= sample:
        pdf = sdf.select(*cols).toPandas()
    else:  # a little more than needed, then exactly `sample` rows, seeded
        seed = params.get("random_state", 0)
        seed = seed if isinstance(seed, int) else 0
        pdf = (sdf.select(*cols).sample(fraction=min(1.0, 1.2 * sample / n), seed=seed)
               .limit(sample).toPandas())
    seg.fit(pdf)
    k = seg.n_clusters_

    # MLlib's k-means over every scaled row, started from the local centres.
    scaled = sdf.select(*cols).mapInPandas(_scaled_batches(seg, features, value), _schema(
        len(features), value is not None))
    vectors = scaled.select([f"z{j}" for j in range(len(features))]).rdd.map(list)
    start = KMeansModel([np.asarray(c, dtype=float) for c in seg.cluster_centers_])
    model = KMeans.train(vectors, k, maxIterations=max_iter, initialModel=start)
    centres = np.array([np.asarray(c, dtype=float) for c in model.clusterCenters])
    seg.model_.cluster_centers_ = centres
    seg.cluster_centers_ = centres

    # Per-segment statistics over every row, assigned to the final centres.
    scaled = sdf.select(*cols).mapInPandas(_scaled_batches(seg, features, value), _schema(
        len(features), value is not None))
    p = len(features)
    aggs = [F.count(F.lit(1)).alias("count")]
    aggs += [F.sum(f"z{j}").alias(f"s{j}") for j in range(p)]
    aggs += [F.sum(F.col(f"z{j}") * F.col(f"z{j}")).alias(f"q{j}") for j in range(p)]
    # exact medians (linear interpolation, as pandas): the names are checked against them
    aggs += [F.expr(f"percentile(r{j}, 0.5)").alias(f"m{j}") for j in range(p)]
    if value:
        aggs += [F.sum("v").alias("v"), F.sum(F.col("v").isNull().cast("long")).alias("v_na")]
    rows = {r[_SEGMENT]: r for r in scaled.groupBy(_SEGMENT).agg(*aggs).collect()}
    overall = scaled.agg(*[F.expr(f"percentile(r{j}, 0.5)").alias(f"m{j}")
                           for j in range(p)]).first()
    counts = np.zeros(k)
    sums, sumsq, med = np.zeros((k, p)), np.zeros((k, p)), np.full((k, p), np.nan)
    vsum = np.zeros(k) if value else None
    n_value_na = 0
    for i, r in rows.items():
        counts[i] = r["count"]
        sums[i] = [r[f"s{j}"] for j in range(p)]
        sumsq[i] = [r[f"q{j}"] for j in range(p)]
        med[i] = [r[f"m{j}"] for j in range(p)]
        if value:
            vsum[i] = r["v"] or 0.0
            n_value_na += int(r["v_na"] or 0)
    seg._train_stats = {"counts": counts, "sums": sums, "sumsq": sumsq,
                        "names": list(seg._num_features),
                        "medians": (med, np.array([overall[f"m{j}"] for j in range(p)]))}
    seg._train_value, seg._train_value_error = vsum, None
    if value and n_value_na:
        seg._train_value = None
        seg._train_value_error = (f"profile: column {value!r} has {n_value_na} missing entries; "
                                  "star points must be known for every customer")
    seg.n_rows_ = n
    seg.sample_rows_ = len(pdf)
    return seg


def _schema(p, with_value):
    from pyspark.sql import types as T

    fields = [T.StructField(_SEGMENT, T.IntegerType())]
    for j in range(p):
        fields += [T.StructField(f"z{j}", T.DoubleType()), T.StructField(f"r{j}", T.DoubleType())]
    if with_value:
        fields.append(T.StructField("v", T.DoubleType()))
    return T.StructType(fields)


def assign_segments(sdf, model, column=_SEGMENT):
    """Add the segment of every row of a Spark DataFrame (an int column, lazy).

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame or str
        Rows with the model's feature columns (or a table name, looked up in the active
        session).
    model : CustomerSegmenter
        From :func:`fit_segments` (or any fitted k-means ``CustomerSegmenter``).
    column : str, default "segment"
        Name of the new column; an existing column of that name is refused.

    Returns
    -------
    pyspark.sql.DataFrame
        ``sdf`` with ``column``: the nearest centre after the model's scaling, as
        ``model.predict`` gives on the same rows.

    Examples
    --------
    >>> assign_segments(sdf, seg).select("customer_id", "segment").show(3)  # doctest: +SKIP
    """
    F = functions()
    from ..errors import check_is_fitted

    check_is_fitted(model, "labels_")
    if model.categorical_features_:
        raise InvalidParameterError("assign_segments: a k-prototypes segmenter cannot run on "
                                    "Spark; use method='kmeans'")
    if isinstance(sdf, str):
        sdf = lookup_table(sdf, "assign_segments")
    features = list(model.features_)
    missing = [c for c in features if c not in sdf.columns]
    if missing:
        raise DataError(f"assign_segments: the Spark DataFrame lacks feature column(s) {missing}; "
                        f"the model reads {features}")
    if column in sdf.columns:
        raise DataError(f"assign_segments: the Spark DataFrame already has a column {column!r}; "
                        "pass column= another name")

    def predict(*cols):
        df = pd.DataFrame(dict(zip(features, cols)))
        # the model's own checks run here; a NULL reaching them is named by column
        return pd.Series(model.predict(df).astype("int32"))

    udf = F.pandas_udf(predict, "int")
    return sdf.withColumn(column, udf(*[F.col(c) for c in features]))
