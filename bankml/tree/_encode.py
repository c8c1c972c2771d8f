"""Column encoding for the information-gain tree: numeric columns to quantile bins, categories to codes.

Fit-time codes drive the histogram split search (one counting pass per feature and level);
predict-time codes follow only the thresholds the fitted tree uses, so ``x <= threshold``
on the original scale decides every row exactly as in training.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from .._dtypes import is_categorical_dtype
from ..errors import DataError

# Bin edges come from a sample: quantiles of 200k rows are as good as of 1M, at a fifth of the sort.
_EDGE_SAMPLE = 200_000


def _is_category(dtype) -> bool:
    """Split multiway? Text, object and categorical columns are; bool columns stay 0/1 numbers,
    so a flag gets one threshold split (and its rules read ``> 0.5``)."""
    return is_categorical_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


# infer_dtype's answers for a column whose present values are all of one kind
_ONE_KIND = frozenset({"string", "integer", "floating", "mixed-integer-float", "boolean", "empty",
                       "decimal", "bytes", "datetime64", "datetime", "date", "timedelta64",
                       "timedelta", "time", "period", "interval", "complex", "categorical"})


def _value_kind(v) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, str):
        return "str"
    if isinstance(v, numbers.Number):
        return None if v != v else "number"
    return type(v).__name__


def check_one_kind(col, name) -> None:
    """Refuse a category column mixing text, numbers and bools (``1`` and ``'1'``).

    The tree would treat ``1`` and ``'1'`` as two categories, while a CSV, a SQL engine or a
    branch's spreadsheet shows them as one value: the rules could not reproduce the model.
    One C pass (``infer_dtype``) in the usual case; the row positions only on the error path.
    """
    if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
        col = col.cat.categories  # the values, once each; a category column has no positions
        positions = False
    else:
        positions = True
    if isinstance(col, (pd.Series, pd.Index)) and col.dtype != object:
        return
    values = np.asarray(col, dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in _ONE_KIND:
        return
    kinds = np.array([_value_kind(v) for v in values], dtype=object)
    # a dict or list cell cannot be a category at all (no hash: factorize fails inside pandas)
    odd = np.flatnonzero([not isinstance(v, Hashable) for v in values])
    if len(odd):
        where = f"rows {odd[:5].tolist()}" if positions else "categories"
        raise DataError(f"column {name!r}: {where} hold {kinds[odd[0]]} values, which cannot be "
                        "categories; a category is text, a number or a bool")
    found = list(dict.fromkeys(k for k in kinds if k is not None))
    if len(found) < 2:
        return
    parts = []
    for k in found[:3]:
        rows = np.flatnonzero(kinds == k)
        where = f"rows {rows[:5].tolist()}" if positions else "categories"
        parts.append(f"{where} hold {k} (e.g. {values[rows[0]]!r})")
    raise DataError(f"column {name!r} mixes {' and '.join(found)} values: {'; '.join(parts)}. "
                    "1 and '1' would be two different categories to the model but one value to "
                    "SQL or a spreadsheet; convert the column to one type first")


def count_below(U, x):
    """``np.searchsorted(U, x)`` (how many of the sorted ``U`` are < x), ``len(U) + 1`` for NaN.

    So code j means ``U[j-1] < x <= U[j]``. 2-5x faster than searchsorted: short lists
    count ``x > u`` in place; longer ones run a branch-free binary search, one vectorised
    step per bit.
    """
    tmp = np.empty(x.size, dtype=bool)
    if U.size <= 128:
        c = np.zeros(x.size, dtype=np.uint8)
        step = tmp.view(np.uint8)  # adding uint8 to uint8 skips a bool -> uint8 cast per pass
        for u in U:
            np.greater(x, u, out=tmp)
            np.add(c, step, out=c)
    else:
        width = 1 << int(np.ceil(np.log2(U.size + 1)))
        padded = np.full(width, np.inf)
        padded[:U.size] = U
        c = np.zeros(x.size, dtype=np.intp)
        cand = np.empty(x.size, dtype=np.intp)
        step = width // 2
        while step:
            np.add(c, step - 1, out=cand)
            np.less(padded[cand], x, out=tmp)
            c += tmp * step if step > 1 else tmp
            step //= 2
    if not np.isfinite(x.sum()):
        c[np.isnan(x)] = U.size + 1
    return c


def pa_types_string(t) -> bool:
    import pyarrow as pa
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _first_rows(mask, k=5):
    return np.flatnonzero(mask)[:k].tolist()


class _Columns:
    """Uniform column access for a DataFrame or a 2-D array (already validated for shape)."""

    def __init__(self, X):
        if isinstance(X, pd.DataFrame):
            self.frame = X
            self.array = None
            self.names = [str(c) for c in X.columns]
            self.n_rows, self.n_cols = X.shape
            if self.n_rows == 0 or self.n_cols == 0:
                raise ValueError(f"Found array with {self.n_rows} sample(s) and {self.n_cols} "
                                 "feature(s) while a minimum of 1 is required.")
        else:
            self.frame = None
            arr = check_array(X, dtype=None, ensure_all_finite=False, accept_sparse=False)
            if arr.dtype.kind in "biuf":
                arr = arr.astype(np.float64, copy=False)
            elif arr.dtype.kind != "O" and arr.dtype.kind not in "US":
                raise ValueError(f"Unsupported feature dtype {arr.dtype}")
            self.array = arr
            self.names = [f"x{j}" for j in range(arr.shape[1])]
            self.n_rows, self.n_cols = arr.shape

    def dtype(self, j):
        if self.frame is not None:
            return self.frame.dtypes.iloc[j]
        return self.array.dtype

    def raw(self, j):
        if self.frame is not None:
            return self.frame.iloc[:, j]
        return self.array[:, j]

    def numeric(self, j, name):
        """Column ``j`` as float64 with NaN for missing; a clear error when it is not numeric."""
        col = self.raw(j)
        kind = getattr(col.dtype, "kind", "")
        if (kind and kind in "mM") or isinstance(col.dtype, pd.DatetimeTZDtype):
            raise DataError(f"column {name!r} holds dates/durations (dtype {col.dtype}); convert it to "
                            "numbers first (e.g. days since an event) so thresholds mean something")
        try:
            if isinstance(col, pd.Series):
                if _is_category(col.dtype):
                    raise ValueError("text")
                x = col.to_numpy(dtype=np.float64, na_value=np.nan)
            elif col.dtype == object:
                x = np.asarray(pd.array(col, dtype="Float64").to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                x = np.asarray(col, dtype=np.float64)
        except TypeError:
            # e.g. a dict in an object column: the user must see the original TypeError
            np.asarray(self.raw(j), dtype=np.float64)
            raise
        except ValueError as exc:
            raise DataError(f"column {name!r} is not numeric (dtype {self.dtype(j)}); list it in "
                            "categorical_features to split it multiway") from exc
        if np.isfinite(x.sum()):  # one fast pass for the common case: nothing missing or infinite
            return x
        inf = np.isinf(x)
        if inf.any():
            raise ValueError(f"Input X contains infinity: column {name!r}, rows {_first_rows(inf)}")
        return x


def _numeric_convertible(col) -> bool:
    try:
        np.asarray(col, dtype=np.float64)
        return True
    except ValueError:
        return False


def resolve_categorical(spec, cols: _Columns, names_given: bool) -> np.ndarray:
    """Boolean mask of the columns split multiway, from ``categorical_features``.

    Each category column is checked here, on all rows, to hold one kind of value
    (:func:`check_one_kind`), so errors cite positions in the caller's ``X``.
    """
    mask = _categorical_mask(spec, cols, names_given)
    for j in np.flatnonzero(mask):
        check_one_kind(cols.raw(j), cols.names[j])
    return mask


def _categorical_mask(spec, cols: _Columns, names_given: bool) -> np.ndarray:
    n = cols.n_cols
    if isinstance(spec, str) and spec == "auto":
        mask = np.zeros(n, dtype=bool)
        for j in range(n):
            if cols.frame is not None:
                mask[j] = _is_category(cols.dtype(j))
            elif cols.array.dtype == object:
                # a TypeError (e.g. a dict) propagates: such a column is neither numbers nor text
                mask[j] = not _numeric_convertible(cols.array[:, j])
            elif cols.array.dtype.kind in "US":
                mask[j] = True
        return mask
    if spec is None:
        return np.zeros(n, dtype=bool)
    spec = list(np.asarray(spec).ravel()) if not isinstance(spec, (list, tuple)) else list(spec)
    if spec and all(isinstance(s, (bool, np.bool_)) for s in spec):
        if len(spec) != n:
            raise ValueError(f"categorical_features as a mask needs {n} entries, got {len(spec)}")
        return np.asarray(spec, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    for s in spec:
        if isinstance(s, str):
            if not names_given or s not in cols.names:
                raise ValueError(f"categorical_features names column {s!r}, which is not in X "
                                 f"(columns: {cols.names if names_given else 'unnamed array'})")
            mask[cols.names.index(s)] = True
        elif isinstance(s, numbers.Integral):
            if not -n <= int(s) < n:
                raise ValueError(f"categorical_features index {s} is out of range for {n} columns")
            mask[int(s)] = True
        else:
            raise ValueError(f"categorical_features entries must be column names or indices, got {s!r}")
    return mask


def _round_in_gap(e, a, b, digits):
    """The roundest number r with ``a <= r < b`` and at most ``digits`` significant figures.

    ``a`` and ``b`` are the known values either side of the edge ``e``, so ``x <= r`` splits
    them exactly as ``x <= e`` does (age <= 19, not 19.5). None when no such number exists.
    Decimal arithmetic on the float's exact value: 0.15 stays 0.15, never 0.1499999.
    """
    if a <= 0.0 < b:  # zero is the roundest number of all (products <= 0, not <= 0.5)
        return 0.0
    exact = Decimal(float(e))
    top = exact.adjusted()  # the exponent of the leading digit
    for d in range(1, digits + 1):
        quantum = Decimal(1).scaleb(top - d + 1)
        down = float(exact.quantize(quantum, rounding=ROUND_FLOOR))
        if down >= a:
            return down
        up = float(exact.quantize(quantum, rounding=ROUND_CEILING))
        if up < b:
            return up
    return None


def round_significant(edges, digits, values=None):
    """Bin edges moved to round numbers with at most ``digits`` significant figures, deduplicated.

    With ``values`` (the sorted distinct known values) an edge first becomes the roundest
    number that separates the values as it did (19 between ages 19 and 20); otherwise, and
    when there is none, the nearest number with ``digits`` significant figures (140000 for
    142013.57), which moves a few rows to the other side -- the price of a round threshold.

    >>> round_significant(np.array([142013.57, 139870.0, 0.14962]), 2).tolist()
    [0.15, 140000.0]
    >>> round_significant(np.array([18.5, 19.5, 25.0]), 2, values=np.array([18.0, 19.0, 20.0, 30.0])).tolist()
    [18.0, 19.0, 20.0]
    """
    out = np.array([float(f"{e:.{digits}g}") for e in edges], dtype=np.float64)
    if values is not None and values.size:
        at = np.searchsorted(values, edges, side="right")
        below = np.where(at > 0, values[np.maximum(at - 1, 0)], -np.inf)
        above = np.where(at < values.size, values[np.minimum(at, values.size - 1)], np.inf)
        for i, e in enumerate(edges):
            r = _round_in_gap(float(e), below[i], above[i], digits)
            if r is not None:
                out[i] = r
    return np.unique(out)


class NumericCoder:
    """Quantile bin edges of one numeric column; bin ``k`` holds ``edges[k-1] < x <= edges[k]``.

    With ``round_to`` the edges (the candidate thresholds) are round numbers with at most that
    many significant figures (:func:`round_significant`), so the split search itself picks
    among them and the fitted thresholds need no rounding afterwards.
    """

    kind = "num"

    def __init__(self, x, max_bins, rng, round_to=None):
        known = x[~np.isnan(x)]
        if known.size > _EDGE_SAMPLE:
            known = known[rng.choice(known.size, _EDGE_SAMPLE, replace=False)]
        uniq = np.unique(known)
        if uniq.size <= max_bins:
            mid = uniq[:-1] + (uniq[1:] - uniq[:-1]) / 2
            # adjacent floats can round the midpoint up to the upper value: keep the lower one
            edges = np.where(mid >= uniq[1:], uniq[:-1], mid)
        else:
            q = np.linspace(0, 100, max_bins + 1)[1:-1]
            edges = np.unique(np.percentile(known, q, method="midpoint"))
            edges = edges[edges < uniq[-1]]
        if round_to is not None and edges.size:
            edges = round_significant(edges, round_to, values=uniq)
        self.edges = np.ascontiguousarray(edges, dtype=np.float64)
        self.n_bins = self.edges.size + 2  # value bins plus the missing bin (last)

    def codes(self, x):
        dtype = np.uint8 if self.n_bins <= 256 else np.uint16
        return count_below(self.edges, x).astype(dtype, copy=False)


class CategoricalCoder:
    """The distinct values of one categorical column, in a stable order; code ``len`` = missing."""

    kind = "cat"

    def __init__(self, col, name, max_bins):
        if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(np.int64)
            cats = col.cat.categories.tolist()
        else:
            values = col if isinstance(col, pd.Series) else np.asarray(col, dtype=object)
            try:
                codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
            except TypeError:  # mixed types that do not sort (unhashable values never get
                # here: check_one_kind refuses them first, naming their row positions)
                codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
            cats = list(uniques.tolist() if hasattr(uniques, "tolist") else uniques)
        if len(cats) > max_bins:
            raise DataError(f"categorical column {name!r} has {len(cats)} distinct values, more than "
                            f"max_bins={max_bins}; group rare values or treat the column as numeric")
        self.name = name
        self.categories = [c.item() if isinstance(c, np.generic) else c for c in cats]
        self.n_bins = len(self.categories) + 1
        self._train_codes = codes
        self._index = None
        self._value_set = None

    def train_codes(self):
        c = self._train_codes
        dtype = np.uint8 if self.n_bins <= 256 else np.uint16
        out = np.where(c < 0, self.n_bins - 1, c).astype(dtype)
        self._train_codes = None
        return out

    def predict_codes(self, col, name=None):
        """Codes for new data: training categories 0..k-1, unseen k, missing k+1."""
        check_one_kind(col, name or getattr(self, "name", None) or getattr(col, "name", None))
        k = len(self.categories)
        if self._index is None:
            self._index = pd.Index(self.categories, dtype=object)
            self._value_set = None
            if self.categories and all(isinstance(c, str) for c in self.categories):
                import pyarrow as pa
                self._value_set = pa.array(self.categories, type=pa.large_string())
        if self._value_set is not None and isinstance(col, pd.Series) and hasattr(col.array, "__arrow_array__"):
            # pyarrow-backed strings: look each value up in the training values directly
            import pyarrow.compute as pc
            arr = col.array.__arrow_array__()
            if pa_types_string(arr.type):
                value_set = self._value_set if self._value_set.type == arr.type else self._value_set.cast(arr.type)
                idx = pc.index_in(arr, value_set=value_set)
                if arr.null_count:
                    idx = pc.if_else(pc.is_null(arr), k + 1, idx)
                return pc.fill_null(idx, k).to_numpy()
        if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
            raw = col.cat.codes.to_numpy()
            uniques = col.cat.categories
        else:
            # factorise first: the lookup then runs on the few distinct values, not every row
            values = col if isinstance(col, pd.Series) else np.asarray(col, dtype=object)
            # unhashable values (dicts, lists) were refused by check_one_kind above
            raw, uniques = pd.factorize(values, use_na_sentinel=True)
        lut = self._index.get_indexer(pd.Index(list(uniques), dtype=object))
        lut = np.append(np.where(lut < 0, k, lut), k + 1)  # position -1 (missing) -> k + 1
        return lut[raw]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_index"] = None
        state["_value_set"] = None
        return state
