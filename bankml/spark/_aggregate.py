"""From raw daily balances and transactions to the eight star inputs, inside Spark.

The Spark twins of :func:`bankml.stars.aggregate_half_year` and :func:`bankml.stars.rate_months`:
the same policy (codes, fee caps, discounts, window), the same checks, the same sums.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..errors import DataError, InvalidParameterError
from ..schema import ID, STAR_INPUTS, Problem
from ..stars._aggregate import BALANCE_COLUMNS, TRANSACTION_COLUMNS, window_of
from .._dates import EXPECTED, to_dates
from ._checks import CountedProblem, functions, lookup_table, raise_problems
from ._score import score_stars

__all__ = ["aggregate_half_year", "rate_months"]

_K = len(STAR_INPUTS)
# A sum of n finite values each at most m cannot overflow while n * m stays below this
# (the largest double is 1.797e308): the cheap test that spares a second pass.
_SAFE_TOTAL = 1e308
_SHOWN_CODES = 5


def _session(*tables):
    for t in tables:
        s = getattr(t, "sparkSession", None)
        if s is not None:
            return s
    from pyspark.sql import SparkSession

    # None when no session runs: _table then says what it was given, or that a table
    # name needs a session to be looked up in
    return SparkSession.getActiveSession()


def _table(obj, what, spark):
    """A Spark DataFrame from a DataFrame or a table name (resolved with ``spark.table``)."""
    if isinstance(obj, str):
        return lookup_table(obj, what, spark)
    if hasattr(obj, "sparkSession") and hasattr(obj, "schema"):
        return obj
    raise DataError(f"{what} must be a Spark DataFrame or a table name, got "
                    f"{type(obj).__name__} (for pandas tables use bankml.stars' functions)")


class _Raw:
    """One raw Spark table checked and reduced to columns: id, day, category, value."""

    def __init__(self, sdf, columns, code_col, value_col, what, code_map, unknown_codes, F, T):
        problems = []
        names = sdf.columns
        missing = [c for c in columns if c not in names]
        extra = [c for c in names if c not in columns]
        if missing:
            problems.append(Problem(", ".join(missing), "missing columns",
                                    f"the columns {list(columns)}"))
        if extra:
            problems.append(Problem(", ".join(extra), "unexpected columns",
                                    f"only {list(columns)} (select them first, e.g. "
                                    f"sdf.select({list(columns)}))"))
        if len(set(names)) != len(names):
            problems.append(Problem(None, "duplicate column names", "each column once"))
        if problems:
            raise_problems(DataError, f"{what} table is not usable", problems)
        self.what, self.F, self.sdf = what, F, sdf
        types = {f.name: f.dataType for f in sdf.schema.fields}
        self.id_type = types[ID]
        numeric = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType,
                   T.DoubleType, T.DecimalType)
        for col in (value_col, "discount") if value_col == "amount" else (value_col,):
            if not isinstance(types[col], numeric):
                problems.append(Problem(col, f"wrong dtype {types[col].simpleString()}", "numbers"))
        dt = types["date"]
        if isinstance(dt, T.DateType):
            day = F.col("date")
        elif isinstance(dt, (T.TimestampType, getattr(T, "TimestampNTZType", T.TimestampType))):
            day = F.to_date(F.col("date"))
        elif isinstance(dt, T.StringType):
            # try_cast: a text that is not a year-first date becomes NULL (counted below)
            # instead of failing the job under ANSI mode.
            day = F.expr("try_cast(`date` AS DATE)")
        else:
            problems.append(Problem("date", f"wrong dtype {dt.simpleString()}",
                                    "dates or text such as 2024-06-30"))
            day = F.lit(None).cast("date")
        if problems:
            raise_problems(DataError, f"{what} table is not usable", problems)

        code = F.col(code_col).cast("string")
        pairs = []
        for k, v in code_map.items():
            pairs += [F.lit(str(k)), F.lit(STAR_INPUTS.index(v))]
        cat = F.create_map(*pairs)[F.col("_code")] if pairs else F.lit(None).cast("int")
        extra = ([F.col("discount").cast("double").alias("_discount")]
                 if value_col == "amount" else [])
        self.wide = sdf.select("*", day.alias("_day"), code.alias("_code"),
                               F.col(value_col).cast("double").alias("_value"), *extra)
        self.wide = self.wide.select("*", cat.alias("_cat"))
        code, day = F.col("_code"), F.col("_day")
        ident = F.col(ID)
        id_null = ident.isNull()
        if isinstance(self.id_type, (T.FloatType, T.DoubleType)):
            id_null = id_null | F.isnan(ident)
        value = F.col(value_col).cast("double")
        low = "negative balances" if value_col == "balance" else "negative amounts"
        # (column, check, expected, condition): every row check, counted in one pass.
        self.checks = [
            (ID, "missing values", "a customer id in every row", id_null),
            ("date", "missing values", "a date in every row", F.col("date").isNull()),
            ("date", "not a date", EXPECTED, F.col("date").isNotNull() & day.isNull()),
            (code_col, "missing values", "a code in every row", code.isNull()),
            *_value_checks(value_col, value, 0.0, None, low, F),
        ]
        if value_col == "amount":
            self.checks += _value_checks("discount", F.col("discount").cast("double"), 0.0, 1.0,
                                         "discount below 0", F)
        self.unknown = code.isNotNull() & F.col("_cat").isNull()
        self.code_col, self.code_map, self.unknown_codes = code_col, code_map, unknown_codes
        self.value_col = value_col
        # What the sums read: id, day, category (NULL for a dropped unknown code), value.
        self.frame = self.wide.select(ident.alias(ID), day.alias("_day"), F.col("_cat"),
                                      F.col("_value"))

    def counts(self, window_cond, window_text):
        """A one-row frame counting every failed check (read by :meth:`problems`)."""
        F = self.F
        checks = list(self.checks)
        checks.append(("date", "dates outside the rating window", window_text,
                       F.col("date").isNotNull() & window_cond))
        if self.unknown_codes == "raise":
            checks.append((self.code_col, "unknown codes", "", self.unknown))
        self._all = checks
        p = self.what[0]
        exprs = [F.sum(c.cast("long")).alias(f"{p}c{i}") for i, (*_, c) in enumerate(checks)]
        exprs += [F.count(F.lit(1)).alias(f"{p}n"), F.max(F.col("_value")).alias(f"{p}mx"),
                  F.sum(self.unknown.cast("long")).alias(f"{p}unknown")]
        return self.wide.agg(*exprs)

    def problems(self, row):
        """Problems from the counts; on failure one more pass counts the customers concerned.
        Returns (problems, row count, largest value)."""
        F, p, checks = self.F, self.what[0], self._all
        bad = [(i, int(row[f"{p}c{i}"] or 0)) for i in range(len(checks))]
        bad = [(i, n) for i, n in bad if n]
        problems = []
        if bad:
            distinct = self.wide.agg(*[
                F.countDistinct(F.when(checks[i][3], F.col(ID))).alias(f"d{i}") for i, _ in bad
            ]).first()
            for i, n in bad:
                col, check, expected, cond = checks[i]
                if check == "unknown codes":
                    check = f"unknown codes {self._unknown_codes()}"
                    expected = (f"codes of the star policy ({len(self.code_map)}, e.g. "
                                f"{sorted(self.code_map)[:3]}); add them to "
                                "configs/star_policy.yaml or pass unknown_codes='warn' to drop "
                                "these rows")
                problems.append(CountedProblem(col, check, expected, [], n,
                                                int(distinct[f"d{i}"] or 0)))
        n_unknown = int(row[f"{p}unknown"] or 0)
        if n_unknown and self.unknown_codes == "warn":
            warnings.warn(f"{self.what}: dropped {n_unknown} row(s) with unknown {self.code_col} "
                          f"code(s) {self._unknown_codes()}", UserWarning, stacklevel=5)
        mx = row[f"{p}mx"]
        return problems, int(row[f"{p}n"]), float(mx) if mx is not None else 0.0

    def _unknown_codes(self):
        codes = (self.wide.where(self.unknown).select("_code").distinct().orderBy("_code")
                 .limit(_SHOWN_CODES).collect())
        return [r[0] for r in codes]


def _value_checks(col, value, lo, hi, what_low, F):
    checks = [
        (col, "missing values (NULL or NaN)", "a number in every row",
         value.isNull() | F.isnan(value)),
        (col, "infinite values", "finite numbers",
         value.isin(float("inf"), float("-inf"))),
        (col, what_low, f">= {lo:g}", value < F.lit(lo)),
    ]
    if hi is not None:
        checks.append((col, f"values above {hi:g}", f"values in [{lo:g}, {hi:g}]",
                       (value > F.lit(hi)) & (value != F.lit(float("inf")))))
    return checks


def _check_ids(bal, tx, T):
    """Ids stored as numbers in one table and as text in the other never match: every
    customer would be split in two, each half under-rated."""
    def kind(t):
        return "number" if isinstance(t, T.NumericType) else t.simpleString()

    kb, kt = kind(bal.id_type), kind(tx.id_type)
    if kb != kt:
        return [Problem(ID, f"ids are {kt} here but {kb} in the balances table",
                        "the same id type in both tables (cast one, e.g. "
                        "F.col('customer_id').cast('string'))")]
    return []


def _repeated_days(bal):
    """A one-row frame counting balance rows that repeat a customer, product and day (a
    repeat would count twice), and the customers concerned."""
    F = bal.F
    return (bal.wide.groupBy(ID, "_code", "_day").count().where(F.col("count") > 1)
            .agg(F.sum("count").alias("dup_rows"), F.countDistinct(ID).alias("dup_customers")))


class _Prepared:
    """Both raw tables checked, as one long frame: id, day, category, balance, counted amount."""

    def __init__(self, balances, transactions, policy, unknown_codes, lo, hi, window_text,
                 gaps=()):
        if unknown_codes not in ("raise", "warn"):
            raise InvalidParameterError(
                f"unknown_codes must be 'raise' or 'warn', got {unknown_codes!r}")
        F = functions()
        from pyspark.sql import types as T

        spark = _session(balances, transactions)
        balances = _table(balances, "balances", spark)
        transactions = _table(transactions, "transactions", spark)
        bal = _Raw(balances, BALANCE_COLUMNS, "product", "balance", "balances",
                   policy.products, unknown_codes, F, T)
        tx = _Raw(transactions, TRANSACTION_COLUMNS, "business", "amount", "transactions",
                  policy.businesses, unknown_codes, F, T)
        day = F.col("_day")
        outside = (day < F.lit(lo)) | (day > F.lit(hi))
        for g_lo, g_hi in gaps:
            outside = outside | ((day >= F.lit(g_lo)) & (day <= F.lit(g_hi)))
        # Every check of both tables in one Spark job; only a failure costs more passes.
        id_problems = _check_ids(bal, tx, T)
        row = (bal.counts(outside, window_text).crossJoin(tx.counts(outside, window_text))
               .crossJoin(_repeated_days(bal)).first())
        bal_problems, n_bal, max_bal = bal.problems(row)
        tx_problems, n_tx, max_tx = tx.problems(row)
        if bal_problems:
            raise_problems(DataError, "balances table has bad values", bal_problems)
        if tx_problems or id_problems:
            raise_problems(DataError, "transactions table has bad values",
                           tx_problems + id_problems)
        if row["dup_rows"]:
            raise_problems(DataError, "balances table has bad values", [CountedProblem(
                f"{ID}, product, date",
                "more than one balance row for a customer, product and day",
                "one row per customer, product and day", [], int(row["dup_rows"]),
                int(row["dup_customers"] or 0))])
        # Only when n * max could pass the largest double can a sum overflow; then the
        # result is checked (one more pass) instead of rating anyone infinite.
        self.may_overflow = max(n_bal * max_bal, n_tx * max_tx) >= _SAFE_TOTAL
        self.spark = spark

        caps = F.create_map(*[x for code, cap in policy.fee_caps.items()
                              for x in (F.lit(str(code)), F.lit(float(cap)))])
        cap = caps[F.col("_code")] if policy.fee_caps else F.lit(None).cast("double")
        # The same operations, in the same order, as the pandas path: min(amount, cap), then
        # times the discount share.
        counted = F.when(cap.isNull(), F.col("_value")).otherwise(
            F.least(F.col("_value"), cap)) * F.col("_discount")
        tx_frame = tx.wide.select(F.col(ID), F.col("_day"), F.col("_cat"),
                                  F.lit(None).cast("double").alias("_bal"),
                                  counted.alias("_tx"))
        bal_frame = bal.frame.select(F.col(ID), F.col("_day"), F.col("_cat"),
                                     F.col("_value").alias("_bal"),
                                     F.lit(None).cast("double").alias("_tx"))
        self.rows = bal_frame.unionByName(tx_frame)
        self.F = F


def _inputs(F, n_days):
    """The eight inputs from the pivoted sums: balances / days + counted amounts."""
    cols = []
    for k, name in enumerate(STAR_INPUTS):
        b = F.coalesce(F.col(f"{k}_b"), F.lit(0.0)) / F.lit(float(n_days))
        t = F.coalesce(F.col(f"{k}_t"), F.lit(0.0))
        cols.append((b + t).alias(name))
    return cols


def _pivot(rows, keys, F):
    # A row whose category is NULL (an unknown code dropped with a warning) still makes its
    # customer appear, with zeros, as in the pandas path.
    return (rows.groupBy(*keys).pivot("_cat", list(range(_K)))
            .agg(F.sum("_bal").alias("b"), F.sum("_tx").alias("t")))


def _check_overflow(out, F):
    bad = None
    for c in STAR_INPUTS:
        cond = F.col(c).isin(float("inf"), float("-inf")) | F.isnan(F.col(c))
        bad = cond if bad is None else bad | cond
    n = out.where(bad).agg(F.countDistinct(ID).alias("n")).first()["n"]
    if n:
        # counted per customer: the overflow is in a customer's sum, not in one row
        raise_problems(DataError, "star inputs would be infinite", [Problem(
            "balance, amount", f"sums beyond 1.8e308 (overflow) for {int(n)} customer(s)",
            "amounts in yuan; check the unit of these rows")])


def aggregate_half_year(balances, transactions, as_of, policy=None, *, unknown_codes="raise"):
    """The eight star inputs of every customer from raw Spark tables of balances and transactions.

    The Spark twin of :func:`bankml.stars.aggregate_half_year`: the same window, codes, fee
    caps and discounts (from one :class:`~bankml.stars.StarPolicy`), the same checks, the
    same sums. Balances become half-year daily averages (sum of daily balances / days in the
    window); each transaction is capped at its business's fee cap, then counted at its
    ``discount`` share.

    Parameters
    ----------
    balances, transactions : pyspark.sql.DataFrame or str
        Spark DataFrames with exactly :data:`bankml.stars.BALANCE_COLUMNS` /
        :data:`bankml.stars.TRANSACTION_COLUMNS`, or table names read with ``spark.table``.
        ``date`` is a date, a timestamp (its day in the session time zone) or year-first text.
    as_of : date-like
        Last day of the window, see :func:`bankml.stars.window_of`.
    policy : StarPolicy, optional
        Defaults to :meth:`bankml.stars.StarPolicy.default`.
    unknown_codes : {"raise", "warn"}
        Unknown codes raise DataError, or with ``"warn"`` their rows are dropped with a warning.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer found in either table (no defined order), columns
        ``customer_id`` and :data:`bankml.schema.STAR_INPUTS`; lazy. Equal to the pandas
        function's values up to the order of float additions (Spark adds in its own order:
        identical when the amounts are whole yuan, else within ~1e-15 relative).

    Raises
    ------
    DataError
        A table that does not exist, missing or extra columns, wrong dtypes, NULL ids, dates
        or codes, NULL/NaN, infinite or negative balances or amounts, discounts outside
        [0, 1], unknown codes, dates outside the window, repeated balance days: naming the
        table and column and COUNTING the offending rows and customers (Spark rows have no
        position, and ids are never listed); a table name given without a running Spark
        session.
    EngineNotAvailableError
        pyspark not installed.

    Examples
    --------
    >>> from pyspark.sql import SparkSession                        # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> bal = spark.createDataFrame([("a", "2024-06-01", "time_deposit", 182_000.0)],
    ...                             ["customer_id", "date", "product", "balance"])  # doctest: +SKIP
    >>> tx = spark.createDataFrame([("a", "2024-05-02", "remittance", 80_000.0, 1.0)],
    ...     ["customer_id", "date", "business", "amount", "discount"])  # doctest: +SKIP
    >>> row = aggregate_half_year(bal, tx, "2024-06-30").first()      # doctest: +SKIP
    >>> row["long_term_assets"], row["settlement_tx"]               # doctest: +SKIP
    (1000.0, 50000.0)
    """
    from ..stars import StarPolicy

    policy = StarPolicy.default() if policy is None else policy
    start, end, n_days = window_of(as_of, policy.window_months)
    text = (f"dates from {start.date()} to {end.date()} "
            f"(the {policy.window_months} months to as_of)")
    prep = _Prepared(balances, transactions, policy, unknown_codes, start.date(), end.date(),
                     text)
    F = prep.F
    out = _pivot(prep.rows, [ID], F).select(F.col(ID), *_inputs(F, n_days))
    if prep.may_overflow:
        _check_overflow(out, F)
    return out


def _month_windows(months, policy):
    """Month-ends, their windows, and the gaps between non-adjacent windows (as pandas')."""
    if isinstance(months, (str, pd.Timestamp)) or not hasattr(months, "__iter__"):
        raise DataError(f"months must be a list of months such as ['2024-06'], got {months!r}")
    ends = sorted({(to_dates(m, "each of months") + pd.offsets.MonthEnd(0)).normalize()
                   for m in months})
    if not ends:
        raise DataError("months is empty; give at least one month to rate")
    windows = [window_of(e, policy.window_months) for e in ends]
    gaps, covered = [], windows[0][1]
    for start, stop, _ in windows[1:]:
        if start > covered + pd.Timedelta(days=1):
            gaps.append(((covered + pd.Timedelta(days=1)).date(),
                         (start - pd.Timedelta(days=1)).date()))
        covered = max(covered, stop)
    text = (f"dates from {windows[0][0].date()} to {windows[-1][1].date()} "
            f"(the windows of months {ends[0]:%Y-%m} to {ends[-1]:%Y-%m})")
    if gaps:
        text += ", not " + ", ".join(f"{a} to {b}" for a, b in gaps) + " (in no month's window)"
    return ends, windows, gaps, text


def rate_months(balances, transactions, months, policy=None, *, unknown_codes="raise"):
    """Monthly re-rating in Spark: star points and contribution star per customer per month-end.

    The Spark twin of :func:`bankml.stars.rate_months`; each month is rated at its month-end
    over the half-year window ending that day, with the policy's weights and thresholds
    (the expressions of :func:`bankml.spark.score_stars`).

    Parameters
    ----------
    balances, transactions : pyspark.sql.DataFrame or str
        Raw tables as in :func:`aggregate_half_year`, covering all the months' windows.
    months : iterable of date-like
        The months to rate (``"2024-06"`` -> 2024-06-30).
    policy : StarPolicy, optional
    unknown_codes : {"raise", "warn"}

    Returns
    -------
    pyspark.sql.DataFrame
        Long table, one row per month and customer: ``month`` (the month-end, a Spark
        date), ``customer_id``, ``star_points``, ``contribution_star``; every customer found
        in the tables gets a row for every month (zero points, not rated, when idle).

    Raises
    ------
    DataError
        As :func:`aggregate_half_year`; a row outside every month's window is an error.

    Examples
    --------
    >>> rated = rate_months(bal, tx, ["2024-06", "2024-07"])  # doctest: +SKIP
    >>> rated.orderBy("month").select("contribution_star").collect()  # doctest: +SKIP
    """
    from ..stars import StarPolicy

    policy = StarPolicy.default() if policy is None else policy
    ends, windows, gaps, text = _month_windows(months, policy)
    prep = _Prepared(balances, transactions, policy, unknown_codes, windows[0][0].date(),
                     windows[-1][1].date(), text, gaps)
    F, spark = prep.F, prep.spark
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField("month", T.DateType()),
                           T.StructField("_lo", T.DateType()),
                           T.StructField("_hi", T.DateType()),
                           T.StructField("_days", T.IntegerType())])
    table = spark.createDataFrame(
        [(e.date(), a.date(), b.date(), int(n)) for e, (a, b, n) in zip(ends, windows)], schema)
    # Each row counts in every month whose window holds its day (windows overlap): a range
    # join against a handful of months, broadcast.
    rows = prep.rows.join(F.broadcast(table),
                          (F.col("_day") >= F.col("_lo")) & (F.col("_day") <= F.col("_hi")))
    sums = _pivot(rows, [ID, "month", "_days"], F)
    # Every customer gets every month, idle ones with zeros.
    grid = (prep.rows.select(ID).distinct().crossJoin(F.broadcast(table.select("month", "_days"))))
    full = grid.join(sums, [ID, "month", "_days"], "left")
    cols = []
    for k, name in enumerate(STAR_INPUTS):
        b = F.coalesce(F.col(f"{k}_b"), F.lit(0.0)) / F.col("_days").cast("double")
        cols.append((b + F.coalesce(F.col(f"{k}_t"), F.lit(0.0))).alias(name))
    inputs = full.select("month", ID, *cols)
    if prep.may_overflow:
        _check_overflow(inputs, F)
    rated = score_stars(inputs, policy, service=False, validate=False)
    return rated.select("month", ID, "star_points", "contribution_star")
