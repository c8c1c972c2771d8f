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
]

ID = "customer_id"
LABEL = "wm_buyer"


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


def _check_column(col: Column, s: pd.Series, problems: list[Problem]) -> None:
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
        dup = s.duplicated(keep=False).to_numpy() & ~isna
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
                       required: tuple = ()) -> pd.DataFrame:
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
            _check_column(col, df[name], problems)

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
