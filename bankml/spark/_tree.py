"""Information-gain trees trained on a Spark DataFrame: the counting in Spark, the choosing on the driver.

One Spark aggregation per tree level gives the weighted (node, feature, bin, class) counts of
every row still in play; the split search then runs on the driver with the very functions the
local tree uses (``bankml.tree._builder``), so the result is a normal fitted
:class:`~bankml.tree.InfoGainTreeClassifier`, identical to a local fit on the same rows.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ..errors import DataError, InvalidParameterError
from ..tree import InfoGainTreeClassifier
from ..tree._builder import _Levels, _xlogx, feature_gain, node_splittable, pick_feature
from ..tree._prune import prune_pessimistic
from ..tree._encode import _EDGE_SAMPLE, CategoricalCoder, NumericCoder
from ..tree._structure import Tree
from ._checks import check_columns, functions, lookup_table

__all__ = ["fit_tree"]

# Parameters of InfoGainTreeClassifier the Spark path does not implement, with the value that
# means "off". Listed by name so a parameter added later (by another slice) is refused here
# rather than silently ignored; a name the installed estimator does not have is skipped.
_UNSUPPORTED = {"max_leaf_nodes": None, "monotonic_cst": None, "round_thresholds": None,
                "missing": "majority", "ccp_alpha": 0.0, "cost": None}

# Spark types split multiway under categorical_features="auto" (as text/object columns locally)
_TEXT_TYPES = ("StringType", "VarcharType", "CharType")
_NUMERIC_TYPES = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType",
                  "DecimalType", "BooleanType")


def _estimator(tree_params):
    known = InfoGainTreeClassifier().get_params()
    unknown = sorted(set(tree_params) - set(known))
    if unknown:
        raise InvalidParameterError(f"fit_tree got unknown tree parameter(s) {unknown}; "
                                    f"InfoGainTreeClassifier takes {sorted(known)}")
    est = InfoGainTreeClassifier(**tree_params)
    est._validate_params()
    for name, off in _UNSUPPORTED.items():
        if name in known and not _same(getattr(est, name), off):
            raise InvalidParameterError(
                f"The {name!r} parameter of fit_tree is not supported on Spark (got "
                f"{getattr(est, name)!r}); leave it at {off!r} or fit InfoGainTreeClassifier "
                "locally on a sample")
    return est


def _same(value, off):
    if off is None:
        return value is None
    try:
        return bool(value == off)
    except (TypeError, ValueError):
        return False


def _resolve_frame(sdf):
    """A DataFrame, or a table name looked up in the active session (one clear error if absent)."""
    if isinstance(sdf, str):
        return lookup_table(sdf, "fit_tree")
    if not hasattr(sdf, "sparkSession") or not hasattr(sdf, "columns"):
        raise DataError(f"fit_tree needs a Spark DataFrame or a table name, got {type(sdf).__name__}")
    return sdf


def _kinds(sdf, features, spec):
    """Per feature: True = multiway (categorical), from categorical_features as the local tree."""
    types = {f.name: type(f.dataType).__name__ for f in sdf.schema.fields}
    for name in features:
        if types[name] not in _TEXT_TYPES + _NUMERIC_TYPES:
            raise DataError(f"column {name!r} has Spark type {types[name]}; the tree takes numbers, "
                            "booleans and text (convert dates to e.g. days since an event)")
    if isinstance(spec, str) and spec == "auto":
        return np.array([types[n] in _TEXT_TYPES for n in features])
    if spec is None:
        return np.zeros(len(features), dtype=bool)
    spec = list(np.asarray(spec).ravel()) if not isinstance(spec, (list, tuple)) else list(spec)
    if spec and all(isinstance(s, (bool, np.bool_)) for s in spec):
        if len(spec) != len(features):
            raise InvalidParameterError(f"categorical_features as a mask needs {len(features)} "
                                        f"entries, got {len(spec)}")
        mask = np.asarray(spec, dtype=bool)
    else:
        mask = np.zeros(len(features), dtype=bool)
        for s in spec:
            if isinstance(s, str) and s in features:
                mask[features.index(s)] = True
            elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and -len(features) <= s < len(features):
                mask[int(s)] = True
            else:
                raise InvalidParameterError(f"categorical_features names {s!r}, which is not one of "
                                            f"the features {features}")
    for j in np.flatnonzero(~mask):
        if types[features[j]] in _TEXT_TYPES:
            raise DataError(f"column {features[j]!r} is not numeric (Spark type "
                            f"{types[features[j]]}); list it in categorical_features to split it multiway")
    return mask


def _col(F, name):
    """A column by its exact name: a dot or a space in it is part of the name, not a path."""
    return F.col("`" + name.replace("`", "``") + "`")


def _count_below(F, col, edges, lo, hi):
    """Spark expression for ``count_below(edges, x)`` by binary search (depth log2 of the bins).

    The result c satisfies ``edges[c-1] < x <= edges[c]``, as the local coder's codes.
    """
    if lo == hi:
        return F.lit(lo)
    mid = (lo + hi) // 2
    return F.when(col > F.lit(float(edges[mid])), _count_below(F, col, edges, mid + 1, hi)) \
        .otherwise(_count_below(F, col, edges, lo, mid))


def _code_expr(F, name, coder, dtype):
    col = _col(F, name)
    missing = coder.n_bins - 1
    if coder.kind == "num":
        x = col.cast("double")
        return F.when(x.isNull() | F.isnan(x), F.lit(missing)) \
            .otherwise(_count_below(F, x, coder.edges, 0, coder.edges.size))
    lut = F.create_map(*[v for i, c in enumerate(coder.categories) for v in (F.lit(c).cast(dtype), F.lit(i))])
    return F.when(_is_missing(F, col, dtype), F.lit(missing)).otherwise(F.element_at(lut, col))


def _is_missing(F, col, dtype):
    """NULL, and NaN in a float column (a value to Spark, missing to pandas and the tree)."""
    if type(dtype).__name__ in ("FloatType", "DoubleType"):
        return col.isNull() | F.isnan(col)
    return col.isNull()


def _route(F, node, splits, active, code_cols):
    """Expression: the id of the node of this level a row is in, -1 once it sits in a leaf."""
    if node not in splits:
        return F.lit(int(node) if node in active else -1)
    f, lut = splits[node]
    code = _col(F, code_cols[f])
    children = {}
    for c, child in enumerate(lut):
        children.setdefault(int(child), []).append(c)
    # the child taking most codes is the "otherwise"; the others are listed explicitly
    order = sorted(children, key=lambda ch: -len(children[ch]))
    expr = None
    for child in order[1:]:
        cond = code.isin(children[child])
        sub = _route(F, child, splits, active, code_cols)
        expr = F.when(cond, sub) if expr is None else expr.when(cond, sub)
    last = _route(F, order[0], splits, active, code_cols)
    return last if expr is None else expr.otherwise(last)


def fit_tree(sdf, features, label="wm_buyer", *, sample_fraction=None, **tree_params):
    """Fit an :class:`~bankml.tree.InfoGainTreeClassifier` on a Spark DataFrame.

    The histograms the split search needs, weighted (node, feature, bin, class) counts, are
    computed by Spark, one aggregation per tree level over the rows still in play; choosing
    the splits, pruning and the fitted object are the local tree's own code. On the same
    rows (and the same bins) the result is identical to
    ``InfoGainTreeClassifier(**tree_params).fit(X[features], y)``: same ``tree_``, same
    rules, usable with ``rules_from_tree``, joblib and MLflow.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame or str
        Training rows, or the name of a table in the active Spark session.
    features : list of str
        Feature columns, in the order of ``feature_names_in_``. Text columns split
        multiway (``categorical_features="auto"``); numbers and booleans get thresholds.
    label : str, default "wm_buyer"
        A 0/1 column (no NULLs).
    sample_fraction : float in (0, 1], optional
        Train on a stratified sample: this fraction of each class, drawn by Spark
        (``sampleBy``, seeded from ``random_state``). None trains on all rows.
    **tree_params
        Parameters of :class:`~bankml.tree.InfoGainTreeClassifier` (criterion, max_depth,
        min_samples_split, min_samples_leaf, min_weight_fraction_leaf, min_gain, pruning,
        confidence, categorical_features, max_bins, class_weight, random_state). Those the
        Spark path does not implement (``missing="fractional"``, ``max_leaf_nodes``,
        ``monotonic_cst``, ``round_thresholds``, ``ccp_alpha``, ``cost``) raise
        :class:`~bankml.errors.InvalidParameterError` unless left at their defaults.

    Returns
    -------
    InfoGainTreeClassifier
        Fitted; ``feature_names_in_`` is ``features``.

    Notes
    -----
    Bin edges. With at most 200,000 training rows, every non-missing value is collected to
    the driver and the edges are those of the local fit. With more, Spark draws a row
    sample of about 240,000 rows (seeded from ``random_state``) and the local coder takes
    200,000 of its values, exactly as a local fit samples 200,000 of all rows: the edges are
    then quantiles of a sample of the table, as locally, but not the same sample. Categories
    are the distinct values of the whole table. Given the edges, the counts and hence the
    tree are exact: with unit or integer weights ``tree_`` is bit-for-bit the local one;
    with fractional class weights the weighted counts are summed in another order and agree
    to rounding.

    Examples
    --------
    >>> tree = fit_tree(spark.table("customers"), ["aum", "segment"], max_depth=3)  # doctest: +SKIP
    >>> rules_from_tree(tree)  # doctest: +SKIP
    """
    F = functions()
    est = _estimator(tree_params)
    if sample_fraction is not None and (not isinstance(sample_fraction, Real) or isinstance(sample_fraction, bool)
                                        or not 0 < sample_fraction <= 1):
        raise InvalidParameterError(f"The 'sample_fraction' parameter of fit_tree must be a float in "
                                    f"(0, 1] or None. Got {sample_fraction!r} instead.")
    if isinstance(features, str) or not features or not all(isinstance(f, str) for f in features):
        raise InvalidParameterError(f"The 'features' parameter of fit_tree must be a non-empty list "
                                    f"of column names. Got {features!r} instead.")
    features = list(features)
    if len(set(features)) != len(features) or label in features:
        raise InvalidParameterError(f"fit_tree: features {features} repeat a column or include the "
                                    f"label {label!r}")
    sdf = _resolve_frame(sdf)
    check_columns(sdf, [*features, label], "fit_tree")
    is_cat = _kinds(sdf, features, est.categorical_features)
    rng = check_random_state(est.random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))

    # -- the label: 0/1 and present, counted in one pass (Spark has no row positions to cite)
    lab = _col(F, label)
    from pyspark.sql import types as T
    ltype = sdf.schema[label].dataType
    if not isinstance(ltype, (T.NumericType, T.BooleanType)):
        raise DataError(f"label {label!r} has Spark type {ltype.simpleString()}; it must hold 0/1 "
                        "numbers")
    num = lab.cast("double")
    missing = num.isNull() | F.isnan(num)
    # every value other than 0/1 falls in one group: a label that is the wrong column (ids,
    # amounts) neither sends millions of groups to the driver nor shows its values
    key = (F.when(missing, F.lit("missing")).when(num.isin(0.0, 1.0), num.cast("string"))
           .otherwise(F.lit("other")))
    groups = sdf.groupBy(key.alias("_k")).agg(F.count(F.lit(1)).alias("n"),
                                               F.first(lab).alias("v")).collect()
    n_null = sum(r["n"] for r in groups if r["_k"] == "missing")
    n_bad = sum(r["n"] for r in groups if r["_k"] == "other")
    if n_null:
        raise DataError(f"label {label!r} is NULL/NaN in {n_null} row(s); drop or fill them first")
    if n_bad:
        raise DataError(f"label {label!r} must be 0/1; {n_bad} row(s) hold other values (counted, "
                        "not shown)")
    counts = {}
    for r in groups:  # the label's own values (0 or 0.0 or False...), as sampleBy needs them
        counts[r["v"]] = counts.get(r["v"], 0) + r["n"]
    if not counts:
        raise DataError("fit_tree: the training table has no rows")
    if sample_fraction is not None and sample_fraction < 1:
        present = [k for k in counts]
        sdf = sdf.sampleBy(lab, {k: float(sample_fraction) for k in present}, seed=seed)
        counts = {r[0]: r[1] for r in sdf.groupBy(lab).count().collect()}
        if not counts:
            raise DataError(f"fit_tree: the sample_fraction={sample_fraction} sample is empty")
    classes = np.array(sorted(int(k) for k in counts), dtype=np.int64)
    n_class = np.array([counts[k] for k in sorted(counts, key=int)], dtype=np.int64)
    C = classes.size

    # -- class weights exactly as sklearn's compute_sample_weight computes them
    if est.class_weight is None:
        cw = np.ones(C)
    elif isinstance(est.class_weight, str):  # "balanced"
        cw = n_class.sum() / (C * n_class.astype(np.float64))
    else:
        cw = np.array([float(est.class_weight.get(c, est.class_weight.get(int(c), 1.0))) for c in classes])
    if np.any(cw < 0) or not np.all(np.isfinite(cw)):
        raise InvalidParameterError(f"class_weight gives negative or non-finite weights {cw.tolist()}")
    if not (cw * n_class).sum() > 0:
        raise DataError("sample_weight (times class_weight) sums to zero: nothing to learn from")
    # zero-weight rows carry no information: dropped, as the local fit drops them
    kept = [int(c) for c, w_ in zip(classes, cw) if w_ > 0]
    if len(kept) < C:
        sdf = sdf.filter(lab.cast("double").isin([float(k) for k in kept]))
    y_expr = F.lit(0)
    w_expr = F.lit(float(cw[0]))
    lab_num = lab.cast("double")
    for i in range(1, C):
        y_expr = F.when(lab_num == F.lit(float(classes[i])), F.lit(i)).otherwise(y_expr)
        w_expr = F.when(lab_num == F.lit(float(classes[i])), F.lit(float(cw[i]))).otherwise(w_expr)
    n_rows = int(sum(n for n, w_ in zip(n_class, cw) if w_ > 0))
    total_w = float(sum(n * w_ for n, w_ in zip(n_class, cw)))

    # -- coders: infinities refused, categories from the whole table, edges from the sample
    num = [f for f, c in zip(features, is_cat) if not c]
    cat = [f for f, c in zip(features, is_cat) if c]
    aggs = [F.sum((_col(F, f).cast("double").isin(float("inf"), float("-inf"))).cast("long")).alias(f"inf{i}")
            for i, f in enumerate(num)]
    aggs += [F.approx_count_distinct(_col(F, f)).alias(f"nd{i}") for i, f in enumerate(cat)]
    row = sdf.agg(*aggs).first() if aggs else None
    for i, f in enumerate(num):
        if row[f"inf{i}"]:
            raise DataError(f"column {f!r} holds infinity in {row[f'inf{i}']} row(s); the tree needs "
                            "finite numbers or missing values")
    for i, f in enumerate(cat):
        # approx counts err by a few percent: anything near the limit is counted exactly below
        if row[f"nd{i}"] > 1.2 * est.max_bins + 10:
            raise DataError(f"categorical column {f!r} has about {row[f'nd{i}']} distinct values, more "
                            f"than max_bins={est.max_bins}; group rare values or treat it as numeric")
    coders = {}
    if cat:
        sets = sdf.agg(*[F.collect_set(F.when(~_is_missing(F, _col(F, f), sdf.schema[f].dataType), _col(F, f)))
                         .alias(f"s{i}") for i, f in enumerate(cat)]).first()
        for i, f in enumerate(cat):
            coders[f] = CategoricalCoder(pd.Series(list(sets[f"s{i}"]), dtype=object), f, est.max_bins)
            coders[f]._train_codes = None
    if num:
        frac = 1.0 if n_rows <= _EDGE_SAMPLE else min(1.0, 1.2 * _EDGE_SAMPLE / n_rows)
        src = sdf.select(*[_col(F, f).cast("double").alias(f) for f in num])
        if frac < 1.0:
            src = src.sample(fraction=frac, seed=seed)
        sample = src.toPandas()
        for f in num:
            x = sample[f].to_numpy(dtype=np.float64, na_value=np.nan)
            coders[f] = NumericCoder(x, est.max_bins, rng)
    coders = [coders[f] for f in features]
    nb = np.array([c.n_bins for c in coders], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(nb)[:-1]])

    # -- the coded table, cached: the level passes read it depth + 1 times
    code_cols = [f"_c{j}" for j in range(len(features))]
    coded = sdf.select(*[_code_expr(F, f, c, sdf.schema[f].dataType).cast("int").alias(cc)
                         for f, c, cc in zip(features, coders, code_cols)],
                       y_expr.alias("_y"), w_expr.alias("_w")).persist()
    try:
        nodes = _grow_on_spark(F, coded, code_cols, nb, offset, is_cat, C, est, n_rows,
                               n_class, cw, total_w)
    finally:
        coded.unpersist()
    # as the local fit: the confidence bound on case counts, errors at class-weighted rates
    class_scale = None if est.class_weight is None else cw
    pruned = (prune_pessimistic(nodes, est.confidence, None, class_scale)
              if est.pruning == "pessimistic" else None)

    est.classes_ = classes
    est.n_classes_ = C
    est.n_features_in_ = len(features)
    est.feature_names_in_ = np.asarray(features, dtype=object)
    est.categorical_features_ = is_cat
    est._coders = coders
    est.tree_ = Tree(nodes, pruned, coders)
    return est


def _grow_on_spark(F, coded, code_cols, nb, offset, is_cat, C, est, n_rows, n_class, cw, total_w):
    """Level-wise growth as ``bankml.tree._builder.grow``, with the histograms from Spark."""
    max_depth = np.iinfo(np.int64).max if est.max_depth is None else est.max_depth
    msl, mss = est.min_samples_leaf, est.min_samples_split
    mwl = est.min_weight_fraction_leaf * total_w
    rec = _Levels()
    # the root's class weights: count x weight per class (the local fit sums the same numbers)
    root_val = (n_class * cw).astype(np.float64)
    root_val[cw <= 0] = 0.0
    rec.created.append((np.array([0]), np.array([-1]), np.array([0]), root_val[None, :], np.array([n_rows])))
    next_id = 1
    splits = {}           # node -> (feature, lut: code -> child id), for routing rows
    lvl_ids, lvl_val, lvl_cnt, depth = np.array([0]), root_val[None, :], np.array([n_rows]), 0
    act = node_splittable(lvl_val, lvl_cnt, 0, max_depth, mss, msl, mwl)
    lvl_ids, lvl_val, lvl_cnt = lvl_ids[act], lvl_val[act], lvl_cnt[act]
    total_bins = int(nb.sum())
    keys = F.explode(F.array(*[_col(F, cc) + F.lit(int(o)) for cc, o in zip(code_cols, offset)]))
    while lvl_ids.size:
        K = lvl_ids.size
        active = set(int(i) for i in lvl_ids)
        nid = _route(F, 0, splits, active, code_cols)
        cells = (coded.select(nid.alias("_n"), keys.alias("_k"), "_y", "_w")
                 .filter(_col(F, "_n") >= 0)
                 .groupBy("_n", "_k", "_y").agg(F.sum("_w").alias("sw"), F.count(F.lit(1)).alias("n"))
                 .toPandas())
        local = np.searchsorted(lvl_ids, cells["_n"].to_numpy(np.int64))
        k_, y_ = cells["_k"].to_numpy(np.int64), cells["_y"].to_numpy(np.int64)
        Hall = np.zeros((K, total_bins, C))
        Call = np.zeros((K, total_bins, C))
        Hall[local, k_, y_] = cells["sw"].to_numpy(np.float64)
        Call[local, k_, y_] = cells["n"].to_numpy(np.float64)
        W = lvl_val.sum(axis=1)
        parent_term = _xlogx(lvl_val).sum(axis=1) - _xlogx(W)
        G = np.full((K, len(nb)), -np.inf)
        SI = np.zeros((K, len(nb)))
        detail = []
        for f in range(len(nb)):
            sl = slice(int(offset[f]), int(offset[f] + nb[f]))
            H, Hc = Hall[:, sl, :], Call[:, sl, :].sum(axis=2)
            G[:, f], SI[:, f], d1, d2 = feature_gain(H, Hc, is_cat[f], lvl_val, lvl_cnt, parent_term, msl, mwl)
            detail.append((d1, d2))
        bf, bg, split = pick_feature(G, SI, est.criterion, est.min_gain)
        S = np.flatnonzero(split)
        if S.size == 0:
            break
        fS = bf[S]
        nch = np.array([detail[f][1][i].sum() if is_cat[f] else 2 for i, f in zip(S, fS)], dtype=np.int64)
        first = next_id + np.concatenate([[0], np.cumsum(nch)[:-1]])
        n_new = int(nch.sum())
        split_rec = {"ids": lvl_ids[S], "feature": fS, "threshold_bin": np.full(S.size, -1),
                     "first_child": first, "n_children": nch, "gain": bg[S],
                     "split_info": SI[S, fS], "missing_child": np.empty(S.size, dtype=np.int64),
                     "cat_lut": {}}
        new_val = np.zeros((n_new, C))
        new_cnt = np.zeros(n_new)
        for s, (i, f) in enumerate(zip(S, fS)):
            d1, d2 = detail[f]
            nbf = int(nb[f])
            if is_cat[f]:  # one child per value present, missing (and unseen) with the majority
                rank = np.cumsum(d2[i]) - 1
                lut = first[s] + np.where(d2[i], rank, rank[d1[i]])
                lut = np.append(lut, lut[d1[i]])
                split_rec["cat_lut"][int(lvl_ids[i])] = lut[:-1]
            else:          # codes <= threshold bin left, above right, missing with the heavier
                lut = first[s] + (np.arange(nbf) > d1[i]).astype(np.int64)
                lut[-1] = first[s] + (not d2[i])
                split_rec["threshold_bin"][s] = d1[i]
            split_rec["missing_child"][s] = lut[-1]
            splits[int(lvl_ids[i])] = (int(f), lut)
            # children's totals from the parent's histogram of the split feature
            sl = slice(int(offset[f]), int(offset[f] + nbf))
            np.add.at(new_val, lut - next_id, Hall[i, sl, :])
            np.add.at(new_cnt, lut - next_id, Call[i, sl, :].sum(axis=1))
        rec.splits.append(split_rec)
        new_ids = np.arange(next_id, next_id + n_new)
        depth += 1
        new_cnt = new_cnt.astype(np.int64)
        rec.created.append((new_ids, np.repeat(lvl_ids[S], nch), np.full(n_new, depth), new_val, new_cnt))
        next_id += n_new
        act = node_splittable(new_val, new_cnt, depth, max_depth, mss, msl, mwl)
        lvl_ids, lvl_val, lvl_cnt = new_ids[act], new_val[act], new_cnt[act]
    return rec.finish(C)


def leaf_column(model):
    """Spark expression: the ``tree_`` leaf each row reaches, as ``model.apply`` decides it.

    Built from ``tree_.branches`` (the contract the rules are written from): missing values
    (NULL, NaN) take the branch that includes them, a numeric split compares ``<=`` its
    threshold, a multiway split lists its values, and anything else (a value not seen at
    the node) goes with the missing values' branch, the heaviest.

    Examples
    --------
    >>> sdf.withColumn("leaf", leaf_column(tree))  # doctest: +SKIP
    """
    F = functions()
    t = model.tree_
    names = [str(c) for c in model.feature_names_in_]

    def node_expr(node):
        if t.is_leaf(node):
            return F.lit(int(node))
        f = int(t.feature[node])
        col = _col(F, names[f])
        missing = col.isNull()
        cats = t.categories[f]
        if cats is not None and cats and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cats):
            missing = missing | F.isnan(col.cast("double"))  # NaN in a numeric category column
        if not model.categorical_features_[f]:
            col = col.cast("double")
            missing = col.isNull() | F.isnan(col)
        branches = t.branches(node)
        heavy = next(b for b in branches if b.includes_missing)
        # the heavy branch is the "otherwise" (missing and unseen values go there), so each
        # subtree appears once in the expression: repeating it per condition would grow the
        # CASE exponentially with depth and push Spark out of generated code
        expr = None
        for b in branches:
            if b is heavy:
                continue
            if b.op == "<=":
                cond = col <= F.lit(float(b.value))
            elif b.op == ">":
                cond = col > F.lit(float(b.value))  # NaN > x holds in Spark: hence ~missing
            elif b.op == "in":
                cond = col.isin(sorted(b.value, key=str))
            else:  # "not in"
                cond = ~col.isin(sorted(b.value, key=str))
            cond = ~missing & cond
            expr = F.when(cond, node_expr(b.child)) if expr is None else expr.when(cond, node_expr(b.child))
        last = node_expr(heavy.child)
        return last if expr is None else expr.otherwise(last)

    return node_expr(0)


def proba_column(model, class_index=-1):
    """Spark expression: ``model.predict_proba`` of one class (default the last, e.g. buyers).

    Examples
    --------
    >>> sdf.withColumn("score", proba_column(tree))  # doctest: +SKIP
    """
    F = functions()
    v = model.tree_.value
    p = (v + 1.0) / (v.sum(axis=1, keepdims=True) + model.n_classes_)
    probs = F.array(*[F.lit(float(x)) for x in p[:, class_index]])
    return F.element_at(probs, leaf_column(model) + F.lit(1))
