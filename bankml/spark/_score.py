"""The Spark path: star ratings and IF-THEN rules on a Spark DataFrame, for whole-bank runs.

Models are trained in pandas on a sample; what has to touch every account (re-rating all
customers every month, scoring them with a branch rule set) runs here, inside Spark, with the
same policy and rules as the pandas path, so the two give the same answers.
"""

from __future__ import annotations

import itertools

from ..errors import SchemaError
from ..schema import ID, STAR_INPUTS
from ._checks import CountedProblem, check_columns, functions, lookup_table, raise_problems

__all__ = ["score_stars", "predict_rules"]

_view_ids = itertools.count()

def _frame(sdf, what):
    """A Spark DataFrame, or a table name looked up in the active session."""
    return lookup_table(sdf, what) if isinstance(sdf, str) else sdf


def _check_inputs(sdf, F):
    """One aggregation pass counting, per star input, the rows with NULL/NaN, infinite and
    negative values. Counted only: the table is one row per customer, so citing a row would
    cite a customer."""
    from pyspark.sql import types as T

    # text would fail the cast below (ANSI mode) with a Java traceback naming no column
    types = {f.name: f.dataType for f in sdf.schema.fields}
    wrong = [CountedProblem(c, f"wrong dtype {types[c].simpleString()}", "numbers")
             for c in STAR_INPUTS if not isinstance(types[c], T.NumericType)]
    if wrong:
        raise_problems(SchemaError, "score_stars: star inputs are not numbers", wrong)
    checks = []
    for c in STAR_INPUTS:
        v = F.col(c).cast("double")
        checks += [(c, "missing values (NULL or NaN)", v.isNull() | F.isnan(v)),
                   (c, "infinite values", v.isin(float("inf"), float("-inf"))),
                   (c, "negative values", v < F.lit(0.0))]
    row = sdf.agg(*[F.sum(m.cast("long")).alias(f"c{i}") for i, (*_, m) in enumerate(checks)]).first()
    problems = [CountedProblem(c, check, "a finite amount >= 0 in yuan", [], int(row[f"c{i}"]))
                for i, (c, check, _) in enumerate(checks) if row[f"c{i}"]]
    if problems:
        raise_problems(SchemaError, "score_stars: star inputs are invalid", problems)


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
    sdf : pyspark.sql.DataFrame or str
        Customer table (or the name of one, looked up in the active session) with the eight star inputs (:data:`bankml.schema.STAR_INPUTS`) and,
        for ``service=True``, every holdings flag the policy's upgrades name.
    policy : StarPolicy, optional
        Defaults to the published policy, ``StarPolicy.default()``.
    service : bool
        Also add ``service_star``.
    validate : bool
        Run one aggregation pass first and raise :class:`~bankml.errors.SchemaError`
        counting, per input column, the rows with NULL, NaN, infinite or negative values
        (Spark would otherwise propagate NULL points silently); rows are counted, never
        listed. Turn off only for data already validated.

    Returns
    -------
    pyspark.sql.DataFrame
        ``sdf`` with the new columns (lazy; nothing is computed until an action).
    """
    F = functions()
    from ..stars import StarPolicy
    from ..stars._policy import NOT_RATED, QUASI_STAR

    policy = StarPolicy.default() if policy is None else policy
    sdf = _frame(sdf, "score_stars")
    # every missing column in one error: the star inputs, and the upgrades' holdings flags
    # when the service star is asked for
    check_columns(sdf, [*STAR_INPUTS, *(policy.upgrades if service else ())],
                   "score_stars(service=True)" if service else "score_stars")
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

    ``sdf`` may also be a table name, looked up in the active session.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``id_column``, ``prediction``, ``rule_id`` (NULL where the default applied).
    """
    from ..rules import to_sql

    functions()
    sdf = _frame(sdf, "predict_rules")
    needed = sorted({cond.feature for rule in ruleset.rules for cond in rule.conditions})
    check_columns(sdf, [id_column, *needed], "predict_rules")
    view = f"bankml_rules_input_{next(_view_ids)}"
    sdf.createOrReplaceTempView(view)
    try:
        # Spark resolves the view when the query is analysed, so the result stays valid
        # after the view is dropped.
        return sdf.sparkSession.sql(to_sql(ruleset, view, id_column, dialect="spark"))
    finally:
        sdf.sparkSession.catalog.dropTempView(view)
