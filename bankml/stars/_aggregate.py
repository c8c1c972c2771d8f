"""From raw daily balances and transactions to the eight half-year star inputs.

Ids and codes are factorised once; sums are ``np.bincount`` with weights (capped and
discounted amounts, balances divided by the days in the window), never a Python loop.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._dates import EXPECTED, parse_dates, to_dates
from ..errors import DataError, InvalidParameterError
from ..schema import ID, STAR_INPUTS, Problem
from ._policy import StarPolicy
from .._messages import first_positions as _first_positions
from .._messages import raise_problems as _raise
from ._scorer import StarScorer

__all__ = ["aggregate_half_year", "rate_months", "BALANCE_COLUMNS", "TRANSACTION_COLUMNS",
           "window_of"]

#: Columns of the raw daily-balance table (one row per customer, day and product held).
BALANCE_COLUMNS = (ID, "date", "product", "balance")
#: Columns of the raw transaction table; ``discount`` is the share of the normal fee charged
#: (1 = no discount, 0.8 = a 20% fee discount, 0 = fee waived), so the transaction counts at
#: that share of its (capped) amount.
TRANSACTION_COLUMNS = (ID, "date", "business", "amount", "discount")
_K = len(STAR_INPUTS)
_DAY = np.timedelta64(1, "D")


def window_of(as_of, months: int = 6) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """The rating window ending on ``as_of``: first day, last day (inclusive), days.

    Examples
    --------
    >>> window_of("2024-06-30")
    (Timestamp('2024-01-01 00:00:00'), Timestamp('2024-06-30 00:00:00'), 182)
    """
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
        raise InvalidParameterError(f"months must be an integer >= 1, got {months!r}")
    end = to_dates(as_of, "as_of")
    end = end.tz_localize(None).normalize() if end.tzinfo else end.normalize()
    start = end + pd.Timedelta(days=1) - pd.DateOffset(months=months)
    return start, end, int((end - start).days) + 1


class _Raw:
    """One raw table validated and reduced to arrays: customer, day, category, value."""

    def __init__(self, df, columns, code_col, value_col, what, code_map, policy, unknown_codes):
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"{what} must be a pandas DataFrame with columns {list(columns)}, "
                            f"got {type(df).__name__}")
        problems = []
        missing = [c for c in columns if c not in df.columns]
        extra = [str(c) for c in df.columns if c not in columns]
        if missing:
            problems.append(Problem(", ".join(missing), "missing columns", f"the columns {list(columns)}"))
        if extra:
            problems.append(Problem(", ".join(extra), "unexpected columns", f"only {list(columns)}"))
        if df.columns.duplicated().any():
            problems.append(Problem(None, "duplicate column names", "each column once"))
        if problems:
            _raise(DataError, f"{what} table is not usable", problems)
        self.what = what

        ids = df[ID]
        self.id_codes, self.id_uniques = pd.factorize(ids)
        if self.id_codes.size and self.id_codes.min() < 0:
            problems.append(Problem(ID, "missing values", "a customer id in every row",
                                    *_first_positions(self.id_codes < 0)))

        self.dates = self._dates(df["date"], problems)

        codes, uniques = pd.factorize(df[code_col])
        # Policy codes are text (YAML keys); numeric codes from a core system match as text.
        uniques = [str(u) for u in uniques]
        cat_of = np.array([STAR_INPUTS.index(code_map[u]) if u in code_map else -1
                           for u in uniques], dtype="int8")
        if codes.size and codes.min() < 0:
            problems.append(Problem(code_col, "missing values", "a code in every row",
                                    *_first_positions(codes < 0)))
        self.keep = None
        unknown = [u for u, c in zip(uniques, cat_of) if c < 0]
        if unknown:
            bad = np.isin(codes, np.flatnonzero(cat_of < 0))
            shown = sorted(map(str, unknown))[:5]
            if unknown_codes == "raise":
                problems.append(Problem(code_col, f"unknown codes {shown}",
                                        f"codes of the star policy ({len(code_map)}, e.g. "
                                        f"{sorted(code_map)[:3]}); "
                                        "add them to configs/star_policy.yaml or pass "
                                        "unknown_codes='warn' to drop these rows",
                                        *_first_positions(bad)))
            else:
                warnings.warn(f"{what}: dropped {int(bad.sum())} row(s) with {len(unknown)} unknown "
                              f"{code_col} code(s) {shown}", UserWarning, stacklevel=4)
                self.keep = ~bad
        self.codes, self.cat_of, self.code_uniques = codes, cat_of, uniques
        self.values = self._amounts(df, value_col, problems, low_text=(
            "negative balances" if value_col == "balance" else "negative amounts"))
        self.extra = problems
        self.df = df

    @staticmethod
    def _dates(s, problems):
        # Year first only: 06/07/2024 (June 7th or July 6th?) is refused, not guessed.
        d, bad, problem = parse_dates(s)
        if problem is not None:
            problems.append(Problem("date", problem, "dates or text such as 2024-06-30, "
                                                     "all in one time zone"))
        if bad.any():
            problems.append(Problem("date", "not a date", EXPECTED, *_first_positions(bad)))
        arr = d.to_numpy().astype("datetime64[D]")
        na = s.isna().to_numpy()
        if problem is None and na.any():
            problems.append(Problem("date", "missing values", "a date in every row",
                                    *_first_positions(na)))
        return arr

    @staticmethod
    def _amounts(df, col, problems, hi=np.inf, low_text="negative amounts"):
        s = df[col]
        if len(s) == 0:  # an empty table built from [] has object columns
            return np.zeros(0)
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            problems.append(Problem(col, f"wrong dtype {s.dtype}", "numbers"))
            return None
        a = (s.to_numpy() if isinstance(s.dtype, np.dtype)
             else s.to_numpy(dtype="float64", na_value=np.nan))
        # min() propagates NaN, so two reductions decide whether a full diagnosis is needed.
        if a.size and not (a.min() >= 0 and a.max() <= hi and a.max() < np.inf):
            _value_problems(col, a, problems, 0.0, hi, low_text)
        return a

    def check_window(self, lo, hi, window_text, gaps=()):
        """Rows dated before ``lo``, after ``hi`` or inside a gap (``(first, last)`` days
        between non-adjacent windows) are reported: they would count in no window."""
        problems = self.extra
        if self.dates.size and not np.isnat(self.dates).all():
            days = self.dates
            out = None
            if days.min() < lo or days.max() > hi:
                out = (days < lo) | (days > hi)
            for g_lo, g_hi in gaps:
                in_gap = (days >= g_lo) & (days <= g_hi)
                out = in_gap if out is None else out | in_gap
            if out is not None and out.any():
                problems.append(Problem("date", "dates outside the rating window", window_text,
                                        *_first_positions(out)))

    def finish(self):
        if self.extra:
            _raise(DataError, f"{self.what} table has bad values", self.extra)


def _value_problems(col, a, problems, lo, hi, what_low):
    na = np.isnan(a)
    if na.any():
        problems.append(Problem(col, "missing values (NaN)", "a number in every row", *_first_positions(na)))
    inf = np.isinf(a)
    if inf.any():
        problems.append(Problem(col, "infinite values", "finite numbers", *_first_positions(inf)))
    low = a < lo
    if low.any():
        problems.append(Problem(col, what_low, f">= {lo:g}", *_first_positions(low)))
    high = (a > hi) & ~inf
    if high.any():
        problems.append(Problem(col, f"values above {hi:g}", f"values in [{lo:g}, {hi:g}]",
                                *_first_positions(high)))


def _check_no_repeated_days(bal, lo, hi):
    """A customer's product has at most one balance row per day: a repeat would count twice."""
    if bal.id_codes.size < 2:
        return
    span = int((hi - lo) // _DAY) + 1
    key = bal.id_codes.astype("int64") * int(bal.codes.max() + 1) + bal.codes
    key *= span
    key += (bal.dates - lo) // _DAY
    key.sort()
    if (key[1:] == key[:-1]).any():
        dup = bal.df.duplicated([ID, "product", "date"], keep=False).to_numpy()
        _raise(DataError, "balances table has bad values", [Problem(
            f"{ID}, product, date", "more than one balance row for a customer, product and day",
            "one row per customer, product and day", *_first_positions(dup))])


def _id_kind(uniques):
    if isinstance(uniques.dtype, pd.CategoricalDtype):
        uniques = uniques.categories
    kind = pd.api.types.infer_dtype(uniques, skipna=True)
    return "number" if kind in ("integer", "floating", "decimal") else kind


def _check_id_kinds(bal, tx):
    """Ids stored as numbers in one table and as text in the other never match: every
    customer would be split in two, each half under-rated, so this is an error."""
    if len(bal.id_uniques) and len(tx.id_uniques):
        kb, kt = _id_kind(bal.id_uniques), _id_kind(tx.id_uniques)
        if kb != kt:
            tx.extra.append(Problem(ID, f"ids are {kt} here but {kb} in the balances table",
                                    "the same id type in both tables (convert one, e.g. "
                                    "with .astype(str))"))


class _Prepared:
    """Both raw tables validated, with one shared customer numbering."""

    def __init__(self, balances, transactions, policy, unknown_codes, lo, hi, window_text,
                 gaps=()):
        if unknown_codes not in ("raise", "warn"):
            raise InvalidParameterError(f"unknown_codes must be 'raise' or 'warn', got {unknown_codes!r}")
        bal = _Raw(balances, BALANCE_COLUMNS, "product", "balance", "balances",
                   policy.products, policy, unknown_codes)
        tx = _Raw(transactions, TRANSACTION_COLUMNS, "business", "amount", "transactions",
                  policy.businesses, policy, unknown_codes)
        disc = tx._amounts(tx.df, "discount", tx.extra, hi=1.0,
                           low_text="discount below 0")
        bal.check_window(lo, hi, window_text, gaps)
        tx.check_window(lo, hi, window_text, gaps)
        _check_id_kinds(bal, tx)
        bal.finish()
        tx.finish()
        _check_no_repeated_days(bal, lo, hi)

        # One numbering of customers across both tables, in order of first appearance.
        ids = pd.Index(bal.id_uniques).append(pd.Index(tx.id_uniques)).unique()
        self.ids = ids
        self.n = len(ids)
        bal_map = ids.get_indexer(pd.Index(bal.id_uniques))
        tx_map = ids.get_indexer(pd.Index(tx.id_uniques))

        caps = np.array([policy.fee_caps.get(u, np.inf) for u in tx.code_uniques], dtype="float64")
        counted = np.minimum(tx.values, caps[tx.codes]) if caps.size else tx.values
        counted = counted * disc
        self.parts = []
        for raw, cmap, vals in ((bal, bal_map, bal.values), (tx, tx_map, counted)):
            key = cmap[raw.id_codes].astype("int64")
            key *= _K
            key += raw.cat_of[raw.codes]
            days = raw.dates
            rows = np.arange(key.size)
            if raw.keep is not None:
                key, days, vals, rows = key[raw.keep], days[raw.keep], vals[raw.keep], rows[raw.keep]
            self.parts.append((key, days, vals, raw is bal, rows, raw.what))

    def sums(self, lo=None, hi=None, n_days=1):
        """(n, 8) matrix: balance sums / n_days and transaction sums within [lo, hi]."""
        total = np.zeros(self.n * _K, dtype="float64")
        for key, days, vals, is_balance, _, _ in self.parts:
            if lo is not None:
                m = (days >= lo) & (days <= hi)
                key, vals = key[m], vals[m]
            with np.errstate(over="ignore"):
                s = np.bincount(key, weights=vals, minlength=self.n * _K).astype("float64", copy=False)
                if is_balance:
                    s /= n_days
                total += s
        if not np.isfinite(total).all():
            self._overflow(np.flatnonzero(~np.isfinite(total)), lo, hi)
        return total.reshape(self.n, _K)

    def _overflow(self, bad_keys, lo, hi):
        """Finite inputs whose sum exceeds the largest float: refuse rather than rate inf."""
        problems = []
        for key, days, _, _, rows, what in self.parts:
            hit = np.isin(key, bad_keys)
            if lo is not None:
                hit &= (days >= lo) & (days <= hi)
            for k in np.unique(key[hit] % _K):
                mask = np.zeros(int(rows.max()) + 1 if rows.size else 0, dtype=bool)
                mask[rows[hit & (key % _K == k)]] = True
                col = "balance" if what == "balances" else "amount"
                problems.append(Problem(
                    col, f"{what} rows whose {STAR_INPUTS[k]} sum overflows (beyond 1.8e308)",
                    "amounts in yuan; check the unit of these rows", *_first_positions(mask)))
        _raise(DataError, "star inputs would be infinite", problems)


def _inputs_frame(prep, matrix):
    out = pd.DataFrame(matrix, columns=list(STAR_INPUTS))
    out.insert(0, ID, prep.ids.to_numpy())
    return out


def aggregate_half_year(balances: pd.DataFrame, transactions: pd.DataFrame, as_of,
                        policy: StarPolicy | None = None, *,
                        unknown_codes: str = "raise") -> pd.DataFrame:
    """The eight star inputs of every customer from raw daily balances and transactions.

    Balances become half-year daily averages: the sum of a customer's daily balances in the
    window divided by the number of days in the window (a day without a row counts as a
    zero balance). Transactions become half-year cumulative amounts: each transaction is
    capped at its business's fee cap, then counted at its ``discount`` share.

    Parameters
    ----------
    balances : pandas.DataFrame
        Columns :data:`BALANCE_COLUMNS`: ``customer_id``, ``date``, ``product`` (a product
        code of the policy), ``balance`` (yuan, >= 0; loans as positive balances).
    transactions : pandas.DataFrame
        Columns :data:`TRANSACTION_COLUMNS`: ``customer_id``, ``date``, ``business`` (a
        business code of the policy), ``amount`` (yuan, >= 0), ``discount`` (share of the
        normal fee charged, in [0, 1]; 1 when there was no fee discount).
    as_of : date-like
        Last day of the window (a month-end for the monthly rating). The window is the
        ``policy.window_months`` months ending that day, see :func:`window_of`.
    policy : StarPolicy, optional
        Defaults to :meth:`StarPolicy.default`.
    unknown_codes : {"raise", "warn"}
        Unknown product/business codes raise DataError (default), or with ``"warn"`` their
        rows are dropped with a warning giving the count dropped.

    Returns
    -------
    pandas.DataFrame
        One row per customer found in either table (order of first appearance, balances
        first), columns ``customer_id`` and :data:`bankml.schema.STAR_INPUTS`.

    Raises
    ------
    DataError
        Missing or extra columns, missing ids/dates/codes, NaN, negative or infinite
        balances or amounts, discounts outside [0, 1], unknown codes, dates outside the
        window: naming the table, column and the first offending rows (index labels).

    Examples
    --------
    >>> import pandas as pd
    >>> bal = pd.DataFrame({"customer_id": ["a"] * 91, "product": "time_deposit",
    ...                     "date": pd.date_range("2024-04-01", periods=91), "balance": 20_000.0})
    >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "date": ["2024-05-02", "2024-06-30"],
    ...                    "business": ["remittance", "pos_credit"],
    ...                    "amount": [80_000.0, 1_000.0], "discount": [1.0, 0.5]})
    >>> out = aggregate_half_year(bal, tx, "2024-06-30")
    >>> out[["customer_id", "long_term_assets", "settlement_tx", "card_spend"]]
      customer_id  long_term_assets  settlement_tx  card_spend
    0           a           10000.0        50000.0         0.0
    1           b               0.0            0.0       500.0
    """
    policy = StarPolicy.default() if policy is None else policy
    start, end, n_days = window_of(as_of, policy.window_months)
    lo, hi = np.datetime64(start.date(), "D"), np.datetime64(end.date(), "D")
    text = f"dates from {start.date()} to {end.date()} (the {policy.window_months} months to as_of)"
    prep = _Prepared(balances, transactions, policy, unknown_codes, lo, hi, text)
    return _inputs_frame(prep, prep.sums(n_days=n_days))


def rate_months(balances: pd.DataFrame, transactions: pd.DataFrame, months,
                policy: StarPolicy | None = None, *, unknown_codes: str = "raise") -> pd.DataFrame:
    """Monthly re-rating: star points and contribution star per customer per month-end.

    Parameters
    ----------
    balances, transactions : pandas.DataFrame
        Raw tables as in :func:`aggregate_half_year`, covering all the months' windows.
    months : iterable of date-like
        The months to rate; each is rated at its month-end (``"2024-06"`` -> 2024-06-30)
        over the half-year window ending that day.
    policy : StarPolicy, optional
    unknown_codes : {"raise", "warn"}

    Returns
    -------
    pandas.DataFrame
        Long table, one row per month and customer: ``month`` (month-end), ``customer_id``,
        ``star_points``, ``contribution_star``. Every customer found in the tables gets a
        row for every month (zero points, not rated, when idle in that window).

    Raises
    ------
    DataError
        As :func:`aggregate_half_year`; a row outside every month's window is an error.

    Examples
    --------
    >>> import pandas as pd
    >>> bal = pd.DataFrame({"customer_id": "a", "product": "demand_savings",
    ...                     "date": pd.date_range("2024-01-01", "2024-07-31"), "balance": 10_000.0})
    >>> tx = pd.DataFrame({"customer_id": ["a"], "date": ["2024-07-15"], "business": ["pos_debit"],
    ...                    "amount": [5_000.0], "discount": [1.0]})
    >>> rate_months(bal, tx, ["2024-06", "2024-07"])
           month customer_id  star_points  contribution_star
    0 2024-06-30           a        135.0                  3
    1 2024-07-31           a        335.0                  3
    """
    policy = StarPolicy.default() if policy is None else policy
    if isinstance(months, (str, pd.Timestamp)) or not np.iterable(months):
        raise DataError(f"months must be a list of months such as ['2024-06'], got {months!r}")
    ends = sorted({(to_dates(m, "each of months") + pd.offsets.MonthEnd(0)).normalize()
                   for m in months})
    if not ends:
        raise DataError("months is empty; give at least one month to rate")
    windows = [window_of(e, policy.window_months) for e in ends]
    lo = np.datetime64(windows[0][0].date(), "D")
    hi = np.datetime64(windows[-1][1].date(), "D")
    # Months far apart leave days between their windows that no rating counts.
    gaps, covered = [], windows[0][1]
    for start, stop, _ in windows[1:]:
        if start > covered + pd.Timedelta(days=1):
            gaps.append((np.datetime64((covered + pd.Timedelta(days=1)).date(), "D"),
                         np.datetime64((start - pd.Timedelta(days=1)).date(), "D")))
        covered = max(covered, stop)
    text = (f"dates from {windows[0][0].date()} to {windows[-1][1].date()} "
            f"(the windows of months {ends[0]:%Y-%m} to {ends[-1]:%Y-%m})")
    if gaps:
        text += ", not " + ", ".join(f"{a} to {b}" for a, b in gaps) + " (in no month's window)"
    prep = _Prepared(balances, transactions, policy, unknown_codes, lo, hi, text, gaps)
    scorer = StarScorer(policy)
    frames = []
    for end, (start, stop, n_days) in zip(ends, windows):
        m = prep.sums(np.datetime64(start.date(), "D"), np.datetime64(stop.date(), "D"), n_days)
        inputs = _inputs_frame(prep, m)
        points = scorer.star_points(inputs)
        frames.append(pd.DataFrame({"month": end, ID: inputs[ID], "star_points": points,
                                    "contribution_star": scorer.contribution_star(points)}))
    return pd.concat(frames, ignore_index=True)
