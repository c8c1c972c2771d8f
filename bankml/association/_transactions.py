"""Customer rows to market baskets: holding flags and banded attributes become items.

Also the single place where any transactions input (one-hot frame or list of baskets) is
checked and turned into the boolean matrix the engines, metrics and recommender share.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain

import numpy as np
import pandas as pd

from .._messages import row_positions
from ..errors import DataError

__all__ = ["to_transactions", "to_onehot", "to_baskets", "ITEMS_ATTR"]

#: Key of the transactions' (and mined rules') ``attrs`` recording what each item means:
#: item -> tuple of ``(column, op, value)`` tests on the customer table, all of which hold
#: for a customer who has the item. ``bankml.rules.rules_from_association`` reads it, so
#: item names are never parsed back.
ITEMS_ATTR = "bankml.items"

# A numeric attribute with more distinct values than this needs bands: one item per value
# would swamp the miner with rare items.
_MAX_ATTRIBUTE_VALUES = 50
_MAX_SHOWN = 5


def _check_frame(df, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.columns.duplicated().any():
        dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"{what}: duplicate column names {dups}; each item must be one column")
    if len(df) == 0:
        raise DataError(f"{what}: the table is empty (0 rows); need at least one customer")


def _flag_column(s: pd.Series, name, what: str) -> np.ndarray:
    """One 0/1 or boolean column as a numpy bool vector, or a DataError naming the rows."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if s.isna().any():
            raise DataError(f"{what}: column {name!r} has missing values in "
                            f"{row_positions(s.isna().to_numpy())}; expected True/False")
        return s.to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(dtype):
        raise DataError(f"{what}: column {name!r} has dtype {dtype}; expected boolean or 0/1 "
                        "values (build items with to_transactions(df) or to_onehot(baskets))")
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~((values == 0) | (values == 1))
    if bad.any():
        seen = sorted({_value_text(v) for v in pd.unique(values[bad])[:_MAX_SHOWN]})
        raise DataError(f"{what}: column {name!r} has values {seen} in {row_positions(bad)}; "
                        "expected only 0/1 or True/False (no missing values)")
    return values == 1


@dataclass
class _Tx:
    """Transactions as a boolean matrix: ``X[i, j]`` is True when basket i holds item j."""

    X: np.ndarray
    items: list
    index: pd.Index

    @property
    def n(self) -> int:
        return self.X.shape[0]


def _is_missing_label(item) -> bool:
    return item is None or item is pd.NA or (isinstance(item, float) and item != item)


def _check_no_missing_label(distinct, rows, what: str) -> None:
    """A None/NaN item is a hole in the source data, never a product: refuse it."""
    if any(_is_missing_label(i) for i in distinct):
        where = [i for i, b in enumerate(rows) if any(_is_missing_label(x) for x in b)]
        raise DataError(f"{what}: {len(where)} basket(s) hold a missing item label (None/NaN), "
                        f"first at position(s) {where[:_MAX_SHOWN]}; drop the missing values "
                        "before building baskets")


def _baskets_to_tx(baskets, items=None, what="transactions") -> _Tx:
    if isinstance(baskets, (str, bytes)) or not hasattr(baskets, "__iter__"):
        raise DataError(f"{what}: expected a one-hot DataFrame or a list of baskets "
                        f"(iterables of item labels), got {type(baskets).__name__}")
    rows = baskets if isinstance(baskets, list) else list(baskets)
    # lists/tuples (the usual case) are checked in one C-speed pass; anything else per basket
    if not all(type(b) is list or type(b) is tuple for b in rows):
        rows = list(rows)
        for i, basket in enumerate(rows):
            if isinstance(basket, (str, bytes)) or not hasattr(basket, "__iter__"):
                raise DataError(f"{what}: basket {i} is {type(basket).__name__} {basket!r}; each "
                                "basket must be a list/tuple/set of item labels (wrap a single "
                                "item in a list)")
            if not isinstance(basket, (list, tuple)):
                rows[i] = list(basket)
    if not rows:
        raise DataError(f"{what}: no baskets given; need at least one transaction")
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    flat = list(chain.from_iterable(rows))
    if items is None:
        try:
            distinct = set(flat)
        except TypeError:
            bad = next(i for i in flat if not isinstance(i, Hashable))
            raise DataError(f"{what}: item labels must be hashable (str, int ...), got "
                            f"{type(bad).__name__} {bad!r}") from None
        _check_no_missing_label(distinct, rows, what)
        try:
            items = sorted(distinct)
        except TypeError:  # mixed label types: keep first-seen order instead
            items = list(dict.fromkeys(flat))
    else:
        items = list(items)
        if len(set(items)) != len(items):
            dups = sorted({str(i) for i in items if items.count(i) > 1})
            raise DataError(f"{what}: duplicate item names {dups} in items=")
    lookup = {item: j for j, item in enumerate(items)}
    try:
        cols = np.fromiter(map(lookup.__getitem__, flat), dtype=np.intp, count=len(flat))
    except KeyError as err:
        raise DataError(f"{what}: item {err.args[0]!r} is in a basket but not in items={items[:20]}"
                        ) from None
    X = np.zeros((len(rows), len(items)), dtype=bool)
    X[np.repeat(np.arange(len(rows)), lengths), cols] = True
    return _Tx(X, items, pd.RangeIndex(len(rows)))


def _plain_onehot(df: pd.DataFrame):
    """The whole frame as a bool matrix in one pass when it is plainly valid, else None."""
    kinds = {d.kind if isinstance(d, np.dtype) else "?" for d in df.dtypes}
    if kinds == {"b"}:
        return df.to_numpy(dtype=bool)
    if kinds <= {"i", "u"}:
        V = df.to_numpy()
        ok = (V == 0) | (V == 1)
        return V == 1 if ok.all() else None
    return None


def _as_tx(transactions, needed=None, what="transactions") -> _Tx:
    """Check a one-hot frame or a list of baskets and return it as a :class:`_Tx`.

    With ``needed`` (item labels), a frame may carry other columns (a customer table): only
    the needed item columns are read and checked.
    """
    if isinstance(transactions, _Tx):
        return transactions
    if isinstance(transactions, pd.DataFrame):
        _check_frame(transactions, what)
        if needed is not None:
            missing = [c for c in needed if c not in transactions.columns]
            if missing:
                raise DataError(f"{what}: item(s) {missing} used by the rules are not columns of the "
                                "data; build it with the same to_transactions(...) call as the rules")
            cols = list(needed)
        else:
            cols = list(transactions.columns)
        if not cols:
            raise DataError(f"{what}: no item columns")
        X = _plain_onehot(transactions if needed is None else transactions[cols])
        if X is None:  # not plain numpy bool/0-1: per column, so an error names the column
            X = np.empty((len(transactions), len(cols)), dtype=bool)
            for j, c in enumerate(cols):
                X[:, j] = _flag_column(transactions[c], c, what)
        return _Tx(X, cols, transactions.index)
    if isinstance(transactions, (np.ndarray, pd.Series)):
        raise DataError(f"{what}: expected a one-hot DataFrame (item columns) or a list of baskets, "
                        f"got {type(transactions).__name__}")
    tx = _baskets_to_tx(transactions, None, what)
    if needed is None:
        return tx
    # baskets name only what they hold: a needed item nobody holds is an all-False column
    X = np.zeros((tx.n, len(needed)), dtype=bool)
    lookup = {item: j for j, item in enumerate(tx.items)}
    for j, item in enumerate(needed):
        if item in lookup:
            X[:, j] = tx.X[:, lookup[item]]
    return _Tx(X, list(needed), tx.index)


def _check_some_items(tx: _Tx, what: str) -> None:
    if tx.X.shape[1] == 0 or not tx.X.any():
        raise DataError(f"{what}: every basket is empty (no customer holds any item); "
                        "nothing to mine")


def to_onehot(baskets, items=None) -> pd.DataFrame:
    """Baskets (lists of item labels) to the one-hot boolean frame that mlxtend takes.

    Parameters
    ----------
    baskets : iterable of iterables
        One basket per customer; an empty basket is kept as a row of False.
    items : list, optional
        The item columns, in order. Default: every label seen, sorted. An item listed
        here but never seen is an all-False column; a basket item not listed is an error.

    Returns
    -------
    pandas.DataFrame
        Boolean, one row per basket, one column per item.

    Examples
    --------
    >>> to_onehot([["has_fund", "has_gold"], ["has_fund"], []]).astype(int)
       has_fund  has_gold
    0         1         1
    1         1         0
    2         0         0
    """
    tx = _baskets_to_tx(baskets, items, "to_onehot")
    return pd.DataFrame(tx.X, columns=pd.Index(tx.items, dtype=object))


def to_baskets(transactions) -> list:
    """The one-hot frame back to baskets: a list of item-label lists, one per row.

    Examples
    --------
    >>> import pandas as pd
    >>> to_baskets(pd.DataFrame({"has_fund": [1, 0], "has_gold": [1, 0]}))
    [['has_fund', 'has_gold'], []]
    """
    tx = _as_tx(transactions, what="to_baskets")
    rows, cols = np.nonzero(tx.X)
    labels = np.asarray(tx.items, dtype=object)[cols].tolist()
    bounds = np.searchsorted(rows, np.arange(tx.n + 1))
    return [labels[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _value_text(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _exact_number(x: float) -> str:
    """A cut point as people read it, exactly: ``1,234,567``, ``0.1``, ``-2,500.5``.

    Shortest round-trip digits, never an exponent, so a label always names the very cut
    the band uses (``1.23e+06`` would not).

    >>> _exact_number(1234567.0), _exact_number(0.1), _exact_number(-2500.5), _exact_number(1e-7)
    ('1,234,567', '0.1', '-2,500.5', '0.0000001')
    """
    d = Decimal(repr(float(x)))
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return format(d, ",f")


def _band_labels(cuts) -> list | None:
    """Exact band labels ``<=c1``, ``c1-c2`` ... ``>ck``; None when the cuts are unusable
    (the binner then refuses them with its own message)."""
    try:
        text = [_exact_number(c) for c in np.asarray(cuts, dtype=float).ravel()]
    except (TypeError, ValueError, ArithmeticError):
        return None
    if not text:
        return None
    return ([f"<={text[0]}"] + [f"{a}-{b}" for a, b in zip(text[:-1], text[1:])]
            + [f">{text[-1]}"])


def _band_meaning(col, cuts, k) -> tuple:
    """Band k of right-closed ``cuts`` as tests on the raw column, with the exact cuts."""
    cuts = [float(c) for c in np.asarray(cuts, dtype=float).ravel()]
    tests = []
    if k > 0:
        tests.append((col, ">", cuts[k - 1]))
    if k < len(cuts):
        tests.append((col, "<=", cuts[k]))
    return tuple(tests)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _attribute_items(df: pd.DataFrame, col, cuts) -> tuple[list, np.ndarray, list]:
    """Items ``col=value`` for one attribute: labels, the (n, k) boolean block and what
    each item means on the customer table."""
    s = df[col]
    if cuts is not None:
        from ..tree import ConceptHierarchyBinner

        labels = _band_labels(cuts)
        try:
            binner = ConceptHierarchyBinner({col: cuts},
                                            labels=None if labels is None else {col: labels})
            banded = binner.fit_transform(df[[col]])[col]
        except DataError as err:
            raise DataError(f"to_transactions: attribute {col!r}: {err}") from None
        cat = banded.cat
        codes = cat.codes.to_numpy()
        values = list(cat.categories)
        meanings = [_band_meaning(col, cuts, k) for k in range(len(values))]
    else:
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("object")
        if isinstance(s.dtype, pd.CategoricalDtype):
            values = list(s.cat.categories)
            codes = s.cat.codes.to_numpy()
        else:
            codes, uniques = pd.factorize(s, sort=True)
            values = list(uniques)
            if pd.api.types.is_numeric_dtype(s.dtype) and len(values) > _MAX_ATTRIBUTE_VALUES:
                raise DataError(f"to_transactions: numeric attribute {col!r} has {len(values)} "
                                f"distinct values; give cut points in bands={{{col!r}: [...]}} "
                                "so it becomes a few banded items")
        meanings = [((col, "==", _plain(v)),) for v in values]
    labels = [f"{col}={_value_text(v)}" for v in values]
    block = codes[:, None] == np.arange(len(values))[None, :]  # code -1 (missing): no item
    return labels, block, meanings


def to_transactions(df, items=None, attributes=None, bands=None) -> pd.DataFrame:
    """Customer rows to transactions: the one-hot boolean frame of items each customer has.

    Product holding flags (``has_fund`` ...) are items named by their column; attributes
    become items ``column=value`` (``gender=F``, ``star=5``), numeric ones first generalised
    into bands by :class:`bankml.tree.ConceptHierarchyBinner` (``age=30-55``).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer.
    items : list of str, optional
        0/1 or boolean columns to use as items (``wm_buyer`` may be one). Default: every
        ``has_*`` column of ``df``, in table order.
    attributes : list of str, optional
        Columns whose values become items. A numeric attribute needs cut points in
        ``bands`` unless it has few distinct values (a star level, a city tier).
    bands : dict of str -> list of float, optional
        Cut points per numeric attribute, right-closed as in the paper: ``{"age": [30, 55]}``
        gives ``age=<=30``, ``age=30-55``, ``age=>55``. A column named here is an attribute
        even when not listed in ``attributes``.

    Returns
    -------
    pandas.DataFrame
        Boolean, same index as ``df``, one column per item: the item columns first, then
        each attribute's values (band order, category order or sorted values).
        Turn it into baskets with :func:`to_baskets`. Band labels print the cut points
        exactly with thousands separators (``balance=1,000,000-1,234,567``).
        ``attrs["bankml.items"]`` (:data:`ITEMS_ATTR`) records what each item means on
        ``df``: a flag ``has_fund`` is ``has_fund == 1``, a band ``age=30-55`` is
        ``age > 30 and age <= 55``, a value ``gender=F`` is ``gender == 'F'``.

    Raises
    ------
    DataError
        Duplicate column names, an empty table, a missing column, an item column that is
        not 0/1 or boolean (names the rows), a numeric attribute without bands.

    Notes
    -----
    A customer who holds none of the items (and has no attribute item) is an *empty
    basket*: it stays in the table and counts in the number of transactions, so it lowers
    every support -- support is a share of all customers, not of product holders. Drop
    those rows first if support should be relative to holders. A missing attribute value
    gives no item for that attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"has_fund": [1, 0, 1], "has_gold": [0, 0, 1],
    ...                    "age": [25, 40, 60]})
    >>> t = to_transactions(df, bands={"age": [30, 55]})
    >>> list(t.columns)
    ['has_fund', 'has_gold', 'age=<=30', 'age=30-55', 'age=>55']
    >>> to_baskets(t)
    [['has_fund', 'age=<=30'], ['age=30-55'], ['has_fund', 'has_gold', 'age=>55']]
    """
    _check_frame(df, "to_transactions")
    bands = dict(bands or {})
    attributes = list(attributes or [])
    attributes += [c for c in bands if c not in attributes]
    if items is None:
        items = [c for c in df.columns if isinstance(c, str) and c.startswith("has_")]
        if not items and not attributes:
            raise DataError("to_transactions: no has_* holding columns in the table; name the "
                            "item columns with items=[...] or give attributes=[...]")
    else:
        items = [items] if isinstance(items, str) else list(items)
    overlap = sorted(set(items) & set(attributes), key=str)
    if overlap:
        raise DataError(f"to_transactions: {overlap} are both items and attributes; choose one")
    missing = [c for c in items + attributes if c not in df.columns]
    if missing:
        raise DataError(f"to_transactions: columns {missing} are not in the table")
    names: list = []
    blocks = []
    meanings: list = []
    for c in items:
        names.append(c)
        blocks.append(_flag_column(df[c], c, "to_transactions")[:, None])
        meanings.append(((c, "==", 1),))
    for c in attributes:
        labels, block, means = _attribute_items(df, c, bands.get(c))
        names += labels
        blocks.append(block)
        meanings += means
    X = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(df), 0), dtype=bool)
    if len(set(names)) != len(names):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"to_transactions: item labels {dups} would repeat; rename the columns")
    out = pd.DataFrame(X, index=df.index, columns=pd.Index(names, dtype=object))
    out.attrs[ITEMS_ATTR] = dict(zip(names, meanings))
    return out
