"""The one way bankml reads dates from users: year first, never guessed.

``06/07/2024`` is June 7th in one country and July 6th in the next, so text must be ISO 8601
(``2024-06-07``); numbers are refused (``20240607`` would be read as nanoseconds).
"""

from __future__ import annotations

import datetime as _dt
import warnings

import numpy as np
import pandas as pd

from ._messages import row_positions
from ._yaml import short_repr
from .errors import DataError

__all__ = ["to_dates", "parse_dates", "EXPECTED"]

#: How messages describe what is accepted.
EXPECTED = "year-first dates such as 2024-06-30 (ISO 8601; 06/07/2024 is ambiguous)"


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))


def parse_dates(values) -> tuple[pd.Series, np.ndarray, str | None]:
    """Read a column of dates without raising, for checks that report every problem at once.

    Returns
    -------
    dates : Series of tz-naive datetime64 (index reset to 0..n-1); NaT where missing or bad
    bad : ndarray of bool
        Non-missing values that are not year-first dates.
    problem : str or None
        A problem of the whole column (wrong dtype, mixed time zones); then every date
        is NaT.

    Examples
    --------
    >>> d, bad, problem = parse_dates(["2024-06-07", "06/07/2024", None])
    >>> d.dt.strftime("%Y-%m-%d").tolist(), bad.tolist(), problem
    (['2024-06-07', nan, nan], [False, True, False], None)
    """
    s = pd.Series(values).reset_index(drop=True)
    nat = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    none = np.zeros(len(s), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = s
    elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return nat, none, f"wrong dtype {s.dtype}"
    else:
        numbers = none
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in (
                "string", "datetime", "datetime64", "date", "empty"):
            numbers = s.map(_is_number).to_numpy(dtype=bool)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = pd.to_datetime(s.mask(numbers), errors="coerce", format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            return nat, none, f"dates not readable together ({str(exc).split('.')[0][:120]})"
        if not pd.api.types.is_datetime64_any_dtype(d.dtype):
            return nat, none, "dates not readable together (mixed time zones)"
        none = (d.isna().to_numpy() & s.notna().to_numpy()) | numbers
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)       # the wall-clock day the bank booked it
    return d, none, None


def to_dates(values, what: str):
    """Year-first dates, or a DataError naming ``what`` (and row positions for a column).

    Parameters
    ----------
    values : scalar or column
        A date, ``datetime``, ``Timestamp``, ISO text; or a Series / array / list of them.
    what : str
        How the message names it, e.g. ``"as_of"`` or ``"column 'date'"``.

    Returns
    -------
    pandas.Timestamp (tz-naive) for a scalar; for a column a Series of tz-naive
    datetime64 with the column's index, NaT where a value is missing.

    Raises
    ------
    DataError
        Ambiguous or unreadable text, numbers, mixed time zones.

    Examples
    --------
    >>> to_dates("2024-06-07", "as_of")
    Timestamp('2024-06-07 00:00:00')
    >>> to_dates("06/07/2024", "as_of")
    Traceback (most recent call last):
    ...
    bankml.errors.DataError: as_of must be a year-first date such as 2024-06-30 (ISO 8601; 06/07/2024 is ambiguous), got '06/07/2024'
    >>> to_dates(["2024-06-07", "07.06.2024"], "column 'when'")
    Traceback (most recent call last):
    ...
    bankml.errors.DataError: column 'when' must hold year-first dates such as 2024-06-30 (ISO 8601; 06/07/2024 is ambiguous); not in 1 row(s), positions [1]
    """
    if isinstance(values, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        index = values.index if isinstance(values, pd.Series) else None
        d, bad, problem = parse_dates(values)
        if problem is not None:
            raise DataError(f"{what} must hold {EXPECTED}; {problem}")
        if bad.any():
            raise DataError(f"{what} must hold {EXPECTED}; not in {row_positions(bad)}")
        if index is not None:
            d.index = index
        return d
    single = f"{what} must be a year-first date such as 2024-06-30 (ISO 8601; 06/07/2024 is " \
             f"ambiguous), got {short_repr(values)}"
    if isinstance(values, str):
        try:
            ts = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            raise DataError(single) from None
    elif isinstance(values, (_dt.date, np.datetime64)):
        ts = pd.Timestamp(values)
    else:
        raise DataError(single)
    if pd.isna(ts):
        raise DataError(single)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts
