"""The Spark path: star ratings and IF-THEN rules on a Spark DataFrame, for whole-bank runs.

Models are trained in pandas on a sample; what has to touch every account (re-rating all
customers every month, scoring them with a branch rule set) runs here, inside Spark, with the
same policy and rules as the pandas path, so the two give the same answers.
"""

from __future__ import annotations

import itertools

from ..errors import EngineNotAvailableError, SchemaError
from ..schema import ID, STAR_INPUTS, Problem

__all__ = ["score_stars", "predict_rules"]

_view_ids = itertools.count()
_MAX_SHOWN = 5


def _functions():
    try:
        from pyspark.sql import functions as F
    except ImportError:  # pragma: no cover - depends on the environment
        raise EngineNotAvailableError(
            "the Spark path needs pyspark: pip install 'bankml[spark]'") from None
    return F


def _check_columns(sdf, required, what):
    missing = [c for c in required if c not in sdf.columns]
    if missing:
        problems = [Problem(c, "missing column", f"a column named {c!r}") for c in missing]
        raise SchemaError(f"{what}: the Spark DataFrame lacks column(s) {missing}; it has "
                          f"{sdf.columns}", problems=problems)


def _check_inputs(sdf, F):
    """One aggregation pass counting NULL, NaN and negative values per star input."""
    bad = {c: F.col(c).isNull() | F.isnan(F.col(c)) | (F.col(c) < 0) for c in STAR_INPUTS}
    row = sdf.agg(*[F.sum(m.cast("long")).alias(c) for c, m in bad.items()]).first()
    problems = []
    for c in STAR_INPUTS:
        n_bad = int(row[c] or 0)
        if n_bad:
            first = []
            if ID in sdf.columns:  # name the first offenders, as validate_customers does
                first = [r[0] for r in sdf.filter(bad[c]).select(ID).limit(_MAX_SHOWN).collect()]
            problems.append(Problem(c, "NULL, NaN or negative values",
                                    "a finite amount >= 0 in yuan", first, n_bad))
    if problems:
        raise SchemaError("star inputs are invalid:\n  " + "\n  ".join(map(str, problems)),
                          problems=problems)


def score_stars(sdf, policy=None, *, service=True, validate=True):
    """Add ``star_points``, ``contribution_star`` and (optionally) ``service_star`` columns.

    The expressions are built from the same :class:`bankml.stars.StarPolicy` as
    :class:`bankml.stars.StarScorer`: points are the weighted sum of the eight half-year
    inputs divided by the policy unit, levels come from the policy thresholds (a threshold
    value itself belongs to the higher level, zero is not rated, anything above zero and
    below the lowest threshold is quasi-star), and the service star applies the instant
    upgrades of the holdings flags present. Manual adjustments are a pandas-side step
    (:meth:`bankml.stars.StarScorer.service_star`); they concern few customers.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Customer table with the eight star inputs (:data:`bankml.schema.STAR_INPUTS`) and,
        for ``service=True``, every holdings flag the policy's upgrades name.
    policy : StarPolicy, optional
        Defaults to the published policy, ``StarPolicy.default()``.
    service : bool
        Also add ``service_star``.
    validate : bool
        Run one aggregation pass first and raise :class:`~bankml.errors.SchemaError`
        naming every input column with NULL, NaN or negative values (Spark would otherwise
        propagate NULL points silently). Turn off only for data already validated.

    Returns
    -------
    pyspark.sql.DataFrame
        ``sdf`` with the new columns (lazy; nothing is computed until an action).
    """
    F = _functions()
    from ..stars import StarPolicy
    from ..stars._policy import NOT_RATED, QUASI_STAR

    policy = StarPolicy.default() if policy is None else policy
    _check_columns(sdf, STAR_INPUTS, "score_stars")
    if service:
        _check_columns(sdf, list(policy.upgrades), "score_stars(service=True)")
    if validate:
        _check_inputs(sdf, F)

    total = None
    for c in STAR_INPUTS:
        term = F.col(c).cast("double") * F.lit(float(policy.weights[c]))
        total = term if total is None else total + term
    points = total / F.lit(float(policy.unit))
    out = sdf.withColumn("star_points", points)

    level = F.when(F.col("star_points") <= 0, F.lit(NOT_RATED))
    for lv in sorted(policy.thresholds, reverse=True):
        level = level.when(F.col("star_points") >= F.lit(float(policy.thresholds[lv])), F.lit(lv))
    level = level.otherwise(F.lit(QUASI_STAR)).cast("tinyint")
    out = out.withColumn("contribution_star", level)
    if service:
        lifts = [F.when(F.col(flag) == 1, F.lit(lv)).otherwise(F.lit(NOT_RATED))
                 for flag, lv in policy.upgrades.items()]
        out = out.withColumn("service_star",
                             F.greatest(F.col("contribution_star"), *lifts).cast("tinyint"))
    return out


def predict_rules(sdf, ruleset, id_column=ID):
    """Score a Spark DataFrame with a :class:`bankml.rules.RuleSet`.

    Runs the rule set's own Spark SQL (``bankml.rules.to_sql(ruleset, ..., dialect="spark")``) over a
    temporary view, so what a branch reads, what a database runs and what Spark runs are one
    and the same CASE expression.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``id_column``, ``prediction``, ``rule_id`` (NULL where the default applied).
    """
    from ..rules import to_sql

    _functions()
    needed = sorted({cond.feature for rule in ruleset.rules for cond in rule.conditions})
    _check_columns(sdf, [id_column, *needed], "predict_rules")
    view = f"bankml_rules_input_{next(_view_ids)}"
    sdf.createOrReplaceTempView(view)
    try:
        # Spark resolves the view when the query is analysed, so the result stays valid
        # after the view is dropped.
        return sdf.sparkSession.sql(to_sql(ruleset, view, id_column, dialect="spark"))
    finally:
        sdf.sparkSession.catalog.dropTempView(view)
