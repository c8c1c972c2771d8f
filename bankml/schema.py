"""The customer-table contract every bankml module reads: columns, dtypes, units, ranges.

`validate_customers` checks a table against it and reports every violation at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._dtypes import is_categorical_dtype
from ._messages import first_positions as _first_positions
from ._messages import positions_text as _positions_text
from .errors import SchemaError

__all__ = [
    "Column",
    "Problem",
    "COLUMNS",
    "ID",
    "LABEL",
    "DEMOGRAPHICS",
    "BALANCE_INPUTS",
    "TRANSACTION_INPUTS",
    "STAR_INPUTS",
    "HOLDING_FLAGS",
    "ACTIVITY_COLUMNS",
    "validate_customers",
    "describe_schema",
    "SNAPSHOT",
    "apply_column_mapping",
    "check_target",
    "check_extra_features",
]

ID = "customer_id"
LABEL = "wm_buyer"
#: The month a row's features were taken (one row per customer and month); the label is
#: what the customer did in the months after it. The out-of-time split reads it.
SNAPSHOT = "snapshot_month"


@dataclass(frozen=True)
class Column:
    """One documented column of the customer table.

    ``kind`` is one of ``id``, ``category``, ``integer``, ``amount``, ``flag``, ``count``,
    ``label``. ``allowed`` lists the permitted values of a category; ``minimum`` and
    ``maximum`` bound numeric values (inclusive).
    """

    name: str
    kind: str
    group: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    allowed: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


def _amount(name, description):
    return Column(name, "amount", "star_inputs", "yuan", minimum=0.0, description=description)


def _flag(name, description, required=False):
    return Column(name, "flag", "holdings", "0/1", required=required, allowed=(0, 1),
                  minimum=0, maximum=1, description=description)


_COLUMN_LIST = [
    Column(ID, "id", "id", description="Unique customer identifier (string or integer). Confidential."),
    Column("age", "integer", "demographics", "years", minimum=18, maximum=120,
           description="Age in whole years."),
    Column("gender", "category", "demographics", allowed=("F", "M"),
           description="F = female, M = male."),
    Column("education", "category", "demographics",
           allowed=("secondary", "college", "university", "postgraduate"),
           description="Highest education; 'university' and 'postgraduate' are the paper's "
                       "'university' (1)."),
    Column("occupation", "category", "demographics", required=False, nullable=True,
           allowed=("student", "employee", "civil_servant", "professional",
                    "business_owner", "retired", "other"),
           description="Occupation group; may be missing."),
    Column("city_tier", "integer", "demographics", "tier", required=False, nullable=True,
           minimum=1, maximum=4, description="City tier 1 (largest) to 4; may be missing."),
    Column("tenure_months", "integer", "demographics", "months", required=False, nullable=True,
           minimum=0, maximum=1440, description="Months since the customer opened the first account."),
    _amount("short_term_assets", "Half-year daily average of short-term assets: demand savings, "
            "third-party custody cash, overnight WM, money-market funds, credit-card deposits."),
    _amount("long_term_assets", "Half-year daily average of medium/long-term assets: time deposits, "
            "provident fund, WM (not overnight), funds, bonds, insurance, gold."),
    _amount("mortgage_loans", "Half-year daily average balance of housing mortgage loans."),
    _amount("other_loans", "Half-year daily average balance of other personal loans."),
    _amount("card_overdraft", "Half-year daily average interest-bearing credit-card overdraft."),
    _amount("investment_tx", "Half-year cumulative investment/WM transaction amount (after caps)."),
    _amount("card_spend", "Half-year cumulative POS card spending (after caps)."),
    _amount("settlement_tx", "Half-year cumulative settlement amount (after caps)."),
    _flag("has_private_banking", "Holds a private-banking agreement."),
    _flag("has_premier_wealth_card", "Holds a premier wealth-account card."),
    _flag("has_platinum_card", "Holds a platinum credit card."),
    _flag("has_wm_account", "Holds a wealth-management account."),
    _flag("has_gold_card", "Holds a gold credit card."),
    _flag("has_standard_card", "Holds a standard credit card."),
    _flag("has_fund", "Holds mutual funds."),
    _flag("has_insurance", "Holds insurance bought through the bank."),
    _flag("has_mortgage", "Has a housing mortgage."),
    _flag("has_gold", "Holds gold (paper, physical or branded)."),
    _flag("has_bonds", "Holds treasury bonds."),
    Column("tx_count_6m", "count", "activity", "transactions", required=False, minimum=0,
           description="Number of transactions in the half-year."),
    Column("digital_logins_6m", "count", "activity", "logins", required=False, minimum=0,
           description="Mobile/online banking logins in the half-year."),
    Column("max_daily_amount", "amount", "activity", "yuan", required=False, minimum=0.0,
           description="Largest single-day transaction amount in the half-year."),
    Column("max_daily_tx_count", "count", "activity", "transactions", required=False, minimum=0,
           description="Largest number of transactions on a single day in the half-year."),
    Column(LABEL, "label", "label", "0/1", required=False, allowed=(0, 1), minimum=0, maximum=1,
           description="1 if the customer bought a wealth-management product (the target)."),
]

COLUMNS: dict[str, Column] = {c.name: c for c in _COLUMN_LIST}


def _names(group):
    return tuple(c.name for c in _COLUMN_LIST if c.group == group)


DEMOGRAPHICS = _names("demographics")
BALANCE_INPUTS = ("short_term_assets", "long_term_assets", "mortgage_loans", "other_loans",
                  "card_overdraft")
TRANSACTION_INPUTS = ("investment_tx", "card_spend", "settlement_tx")
STAR_INPUTS = BALANCE_INPUTS + TRANSACTION_INPUTS
HOLDING_FLAGS = _names("holdings")
ACTIVITY_COLUMNS = _names("activity")


@dataclass
class Problem:
    """One violation: which column, which check, how many rows, and the first of them.

    ``rows`` are ROW POSITIONS (0 = first row), never index labels: an index often holds
    customer ids, which must not reach messages or logs.
    """

    column: str | None
    check: str
    expected: str
    rows: list = field(default_factory=list)
    n_rows: int = 0

    def __str__(self):
        where = f"column {self.column!r}" if self.column is not None else "table"
        text = f"{where}: {self.check} (expected {self.expected})"
        if self.n_rows:
            text += f"; {_positions_text(self.rows, self.n_rows)}"
        return text


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not is_categorical_dtype(s.dtype)


def _check_column(col: Column, s: pd.Series, problems: list[Problem], within=None) -> None:
    isna = s.isna().to_numpy()
    if isna.size and isna.all():
        # An all-blank column read from CSV arrives as float64 NaN whatever it should
        # hold: its dtype says nothing, so only "is a value allowed to be missing" applies.
        if not col.nullable:
            problems.append(Problem(col.name, "missing values (NaN/None): the column is "
                                    "entirely blank", "no missing values", *_first_positions(isna)))
        return
    if isna.any() and not col.nullable:
        rows, n = _first_positions(isna)
        problems.append(Problem(col.name, "missing values (NaN/None)", "no missing values", rows, n))

    if col.kind == "id":
        # Float ids are what a join leaves behind (1 -> 1.0, missing -> NaN); booleans are
        # not ids. Neither joins reliably with other tables, so only text or integers pass.
        if pd.api.types.is_bool_dtype(s.dtype) or not (
                is_categorical_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype)):
            problems.append(Problem(col.name, f"wrong dtype {s.dtype}",
                                    "text or integer customer ids"))
        # a table of monthly snapshots holds each customer once per month
        keys = s if within is None else pd.DataFrame({"id": s.to_numpy(), "month": within.to_numpy()})
        dup = keys.duplicated(keep=False).to_numpy() & ~isna
        if dup.any():
            rows, n = _first_positions(dup)
            problems.append(Problem(col.name, "duplicate customer ids", "each id once", rows, n))
        return

    if col.kind == "category":
        if not is_categorical_dtype(s.dtype):
            problems.append(Problem(col.name, f"wrong dtype {s.dtype}",
                                    "text/categorical values " + "/".join(col.allowed)))
            return
        bad = ~s.isin(col.allowed).to_numpy() & ~isna
        if bad.any():
            rows, n = _first_positions(bad)
            seen = sorted({str(v) for v in s[bad].unique()[:5]})
            problems.append(Problem(col.name, f"unknown values {seen}",
                                    "one of " + ", ".join(col.allowed), rows, n))
        return

    # numeric kinds: integer, amount, flag, count, label
    if pd.api.types.is_bool_dtype(s.dtype) and col.kind in ("flag", "label"):
        return
    if not _is_numeric(s):
        problems.append(Problem(col.name, f"wrong dtype {s.dtype}",
                                f"numeric ({col.kind}, {col.unit or 'unitless'})"))
        return
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    inf = ~finite & ~np.isnan(values)
    if inf.any():
        rows, n = _first_positions(inf)
        problems.append(Problem(col.name, "infinite values", "finite numbers", rows, n))
    if col.kind in ("integer", "flag", "count", "label"):
        frac = finite & (values != np.round(values))
        if frac.any():
            rows, n = _first_positions(frac)
            problems.append(Problem(col.name, "non-integer values", "whole numbers", rows, n))
    if col.minimum is not None:
        low = finite & (values < col.minimum)
        if low.any():
            rows, n = _first_positions(low)
            what = "negative balances/amounts" if col.minimum == 0 and col.kind == "amount" else "values too small"
            problems.append(Problem(col.name, what, f">= {col.minimum:g}", rows, n))
    if col.maximum is not None:
        high = finite & (values > col.maximum)
        if high.any():
            rows, n = _first_positions(high)
            problems.append(Problem(col.name, "values too large", f"<= {col.maximum:g}", rows, n))


def validate_customers(df: pd.DataFrame, *, require_label: bool = False,
                       required: tuple = (), snapshot: str | None = None) -> pd.DataFrame:
    """Check a customer table against the bankml contract and return it unchanged.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer. Required columns: ``customer_id``, ``age``, ``gender``,
        ``education`` and the eight star-point inputs. Optional documented columns (other
        demographics, ``has_*`` holdings flags, activity counts, ``wm_buyer``) are checked
        when present; any other ``has_*`` column is checked as a 0/1 flag; other extra
        columns are allowed and left alone.
    require_label : bool, default False
        Also require the ``wm_buyer`` label (for training).
    required : tuple of str
        More documented columns to require (e.g. ``HOLDING_FLAGS`` for service stars).
    snapshot : str, optional
        The snapshot-month column of a table of monthly snapshots: customer ids must then be
        unique within each month (a customer has one row per month), not in the whole table.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, so the call can be chained.

    Raises
    ------
    SchemaError
        Listing every violation: missing columns, wrong dtypes, missing values, negative
        balances, out-of-range or unknown values, duplicate ids, an empty table. Each names
        the column and the first offending rows (by position, 0 = first row, never by
        index label); ``err.problems`` holds
        them as :class:`Problem` objects.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(100, seed=1)
    >>> validate_customers(df, require_label=True) is df
    True
    >>> bad = df.assign(short_term_assets=-df["short_term_assets"])
    >>> validate_customers(bad)
    Traceback (most recent call last):
    ...
    bankml.errors.SchemaError: customer table violates the bankml schema (1 problem):
      - column 'short_term_assets': negative balances/amounts (expected >= 0); ...
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of customers, got {type(df).__name__}")
    problems: list[Problem] = []
    if df.columns.duplicated().any():
        dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        problems.append(Problem(", ".join(dups), "duplicate column names", "each column once"))
    if len(df) == 0:
        problems.append(Problem(None, "empty table (0 rows)", "at least one customer"))

    if isinstance(required, str):  # required="has_fund" means that column, not its letters
        required = (required,)
    need = {c.name for c in _COLUMN_LIST if c.required} | set(required)
    if require_label:
        need.add(LABEL)
    unknown_required = need - set(COLUMNS)
    if unknown_required:
        raise SchemaError(f"required={sorted(unknown_required)} are not documented columns; "
                          f"choose from {list(COLUMNS)}")
    for name in [c.name for c in _COLUMN_LIST if c.name in need and c.name not in df.columns]:
        problems.append(Problem(name, "missing column", COLUMNS[name].description or COLUMNS[name].kind))

    if not df.columns.duplicated().any() and len(df):
        for name in df.columns:
            if name in COLUMNS:
                col = COLUMNS[name]
            elif isinstance(name, str) and name.startswith("has_"):
                col = _flag(name, "Product holding flag.")
            else:
                continue
            within = df[snapshot] if (col.kind == "id" and snapshot is not None
                                      and snapshot in df.columns) else None
            _check_column(col, df[name], problems, within)

    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise SchemaError(
            f"customer table violates the bankml schema ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n{lines}", problems)
    return df


def describe_schema(lang: str = "en") -> pd.DataFrame:
    """The contract as a table: column, label (zh or en), kind, unit, required, range.

    Examples
    --------
    >>> describe_schema("zh").loc["short_term_assets", "label"]
    '短期资产'
    """
    from .labels import column_label

    rows = []
    for c in _COLUMN_LIST:
        if c.allowed:
            rng = "/".join(map(str, c.allowed))
        else:
            lo = "" if c.minimum is None else f"{c.minimum:g}"
            hi = "" if c.maximum is None else f"{c.maximum:g}"
            rng = (f"[{lo}, {hi}]" if lo and hi else f">= {lo}" if lo
                   else f"<= {hi}" if hi else "")
        rows.append({"column": c.name, "label": column_label(c.name, lang), "group": c.group,
                     "kind": c.kind, "unit": c.unit, "required": c.required,
                     "nullable": c.nullable, "range": rng, "description": c.description})
    return pd.DataFrame(rows).set_index("column")


def apply_column_mapping(df: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    """Rename a bank's own columns to bankml's names (``data.columns: {theirs: ours}``).

    Run right after reading, before any check. Idempotent: a column already under its
    bankml name (the reader renamed it) is left alone. ``mapping`` was validated by the
    config (known targets, no two columns to one name); here only the table can be wrong.

    Raises
    ------
    DataError
        A mapped column the table lacks (and whose new name is absent too), or a new name
        that is already another column of the table.

    Examples
    --------
    >>> t = pd.DataFrame({"年龄": [30, 40], "客户号": ["a", "b"]})
    >>> apply_column_mapping(t, {"年龄": "age", "客户号": "customer_id"}).columns.tolist()
    ['age', 'customer_id']
    """
    from .errors import DataError

    if not mapping:
        return df
    cols = set(df.columns)
    todo = {}
    for theirs, ours in mapping.items():
        if theirs in cols:
            if ours in cols and ours != theirs:
                raise DataError(f"data.columns maps column {theirs!r} to {ours!r}, but the table "
                                f"already has a column {ours!r}; drop one or map it elsewhere")
            todo[theirs] = ours
        elif ours not in cols:
            shown = ", ".join(map(repr, list(df.columns)[:20]))
            raise DataError(f"data.columns maps column {theirs!r} to {ours!r}, but the table has "
                            f"no column {theirs!r} (columns: {shown})")
    return df.rename(columns=todo) if todo else df


def check_target(df: pd.DataFrame, target: str) -> None:
    """Refuse a target column that is absent or not 0/1 (missing values included).

    Raises
    ------
    DataError
        Naming the column and the first offending ROW POSITIONS (never ids or labels).

    Examples
    --------
    >>> check_target(pd.DataFrame({"has_fund": [0, 1, 1]}), "has_fund")
    >>> check_target(pd.DataFrame({"has_fund": [0, 2, 1]}), "has_fund")
    Traceback (most recent call last):
    ...
    bankml.errors.DataError: target column 'has_fund' must hold 0/1 in every row; 1 row(s), positions [1] hold something else (e.g. '2')
    """
    from .errors import DataError

    if target not in df.columns:
        raise DataError(f"target column {target!r} is not in the table")
    s = df[target]
    if pd.api.types.is_bool_dtype(s.dtype):
        bad = s.isna().to_numpy()
    elif _is_numeric(s):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isin(values, (0.0, 1.0))  # NaN is never in the set
    else:  # text "0"/"1" is not a 0/1 label: a numeric column was read as text somewhere
        bad = np.ones(len(s), bool)
    if bad.any():
        rows, n = _first_positions(bad)
        raise DataError(f"target column {target!r} must hold 0/1 in every row; "
                        f"{_positions_text(rows, n)} hold something else ({_what_else(s, bad)})")


# a label column has a handful of values; one with more is another column (an id, an amount)
# named by mistake, whose values are not shown
_LABEL_VALUES_SHOWN = 20


def _what_else(s: pd.Series, bad: np.ndarray) -> str:
    """What a non-0/1 target holds: its few distinct values, or only how many there are."""
    distinct = s.nunique(dropna=True)
    if distinct > _LABEL_VALUES_SHOWN:
        return f"{distinct:,} distinct values of type {s.dtype}: is it the right column?"
    wrong = pd.unique(s[bad].dropna())
    parts = [", ".join(repr(str(v.item() if isinstance(v, np.generic) else v)[:20])
                       for v in wrong[:3])] if len(wrong) else []
    if s[bad].isna().any():
        parts.append("missing values")
    text = "" if pd.api.types.is_bool_dtype(s.dtype) or _is_numeric(s) else "text, not numbers: "
    if parts == ["missing values"]:
        return parts[0]
    return text + "e.g. " + ", ".join(parts)


def check_extra_features(df: pd.DataFrame, numeric=(), categorical=()) -> None:
    """Check features that are not schema columns by kind: numbers must be finite, categories
    must be text (or whole numbers). Schema columns are left to :func:`validate_customers`.

    Raises
    ------
    SchemaError
        Listing every problem, each naming the column and the first ROW POSITIONS.

    Examples
    --------
    >>> t = pd.DataFrame({"branch_score": [80.0, float("inf")], "region": ["north", "south"]})
    >>> check_extra_features(t, numeric=["branch_score"], categorical=["region"])
    Traceback (most recent call last):
    ...
    bankml.errors.SchemaError: extra feature columns are unusable (1 problem):
      - column 'branch_score': missing or infinite values (expected finite numbers); 1 row(s), positions [1]
    """
    problems: list[Problem] = []
    for name in [c for c in numeric if c not in COLUMNS]:
        if name not in df.columns:
            problems.append(Problem(name, "missing column", "a feature listed in features.numeric"))
            continue
        s = df[name]
        if not (_is_numeric(s) or pd.api.types.is_bool_dtype(s.dtype)):
            problems.append(Problem(name, f"wrong dtype {s.dtype}", "numbers (features.numeric)"))
            continue
        bad = ~np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan))
        if bad.any():
            problems.append(Problem(name, "missing or infinite values", "finite numbers",
                                    *_first_positions(bad)))
    for name in [c for c in categorical if c not in COLUMNS]:
        if name not in df.columns:
            problems.append(Problem(name, "missing column", "a feature listed in features.categorical"))
            continue
        s = df[name]
        if is_categorical_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            continue  # string or category dtype
        if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue  # coded categories (1, 2, 3)
        if pd.api.types.is_object_dtype(s.dtype):
            present = s.notna().to_numpy()
            is_text = np.array([isinstance(v, str) for v in s[present]], bool)
            if is_text.all():
                continue
            # mixed kinds (1 and "a") would be told apart in one place and merged in another
            bad = present.copy()
            bad[present] = ~is_text
            problems.append(Problem(name, "values that are not text", "one kind: text categories",
                                    *_first_positions(bad)))
            continue
        problems.append(Problem(name, f"wrong dtype {s.dtype}",
                                "text categories or whole-number codes (features.categorical)"))
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise SchemaError(f"extra feature columns are unusable ({len(problems)} problem"
                          f"{'s' if len(problems) != 1 else ''}):\n{lines}", problems)
