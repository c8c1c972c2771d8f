"""Frequent itemsets from baskets with a choice of engine: mlxtend Apriori / FP-growth or pyfim.

Every engine only finds the itemsets; counting, support (count / n), the memory guard and
the canonical order are done here once, so all engines return exactly the same table.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd

from ..errors import DataError, EngineNotAvailableError, InvalidParameterError, ResourceLimitError
from ._transactions import _as_tx, _check_some_items, _is_missing_label, _Tx

__all__ = ["frequent_itemsets", "ENGINES"]

ENGINES = ("apriori", "fpgrowth", "fast")
# Spark MLlib's FPGrowth (bankml.spark._fpgrowth): accepted by engine=, but not in ENGINES,
# the in-process engines that tests and the config compare one with another.
SPARK_ENGINE = "spark"
# Above this many itemsets (each a frozenset plus its lookup entries, a few hundred bytes)
# a laptop runs out of memory; the guard refuses before mining starts.
DEFAULT_MAX_ITEMSETS = 2_000_000
_FAST_PIP = "pip install 'bankml[fast]'  (or: pip install pyfim)"
# pyfim (6.x) leaves out every itemset held by *all* transactions (it treats them as
# perfect extensions of the empty set, which it does not report): [["a"], ["a"]] gives
# nothing. One extra empty transaction makes no itemset universal and changes no count,
# since supports are passed to pyfim as absolute counts.
_FIM_PAD = [()]


def _check_support(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidParameterError(f"{name} must be a number in (0, 1], got {value!r}")
    if not 0.0 < float(value) <= 1.0:
        raise InvalidParameterError(f"{name} must be in (0, 1] (a share of all baskets), got {value!r}; "
                        "for an absolute count c of n baskets pass c / n")
    return float(value)


def _check_max_len(max_len):
    if max_len is None:
        return None
    if isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise InvalidParameterError(f"max_len must be a positive integer or None, got {max_len!r}")
    return int(max_len)


def _check_engine(engine: str) -> str:
    if engine not in ENGINES and engine != SPARK_ENGINE:
        raise InvalidParameterError(
            f"engine must be one of {[*ENGINES, SPARK_ENGINE]}, got {engine!r}")
    if engine == "fast":
        _fim()
    elif engine == SPARK_ENGINE:
        _spark_engine().check_available()
    return engine


def _spark_engine():
    # Imported only when asked for: pyspark (and a JVM) is an optional extra.
    from ..spark import _fpgrowth

    return _fpgrowth


def _fim():
    try:
        import fim
    except ImportError:
        raise EngineNotAvailableError(
            "engine='fast' needs the C library pyfim, which is not installed; install it with "
            f"{_FAST_PIP}, or use engine='fpgrowth' (mlxtend, same results)") from None
    return fim


def _min_count(min_support: float, n: int) -> int:
    """The smallest basket count c with c / n >= min_support, the test every engine applies."""
    c = max(1, math.ceil(min_support * n))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c / n < min_support:
        c += 1
    return c


@dataclass
class _Table:
    """Frequent itemsets in canonical order: by size, then count (descending), then items.

    ``pos[k]`` holds the sorted item positions of the size-k itemsets, one row each, and
    ``start[k]`` the table index of its first row; ``_keys``/``_order`` find any itemset's
    table index from its positions (see :meth:`_find`).
    """

    items: list
    n: int
    pos: dict
    counts: np.ndarray
    start: dict
    _keys: dict = field(default_factory=dict)
    _order: dict = field(default_factory=dict)

    @classmethod
    def build(cls, items, n, pos_by_size, counts_by_size):
        pos, counts, start, total = {}, [], {}, 0
        for k in sorted(pos_by_size):
            P, c = pos_by_size[k], counts_by_size[k]
            if not len(c):
                continue
            P = np.sort(P, axis=1)
            order = np.lexsort(tuple(P[:, j] for j in range(k - 1, -1, -1)) + (-c,))
            pos[k], start[k] = P[order], total
            counts.append(c[order])
            total += len(c)
        counts = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        table = cls(items, n, pos, counts.astype(np.int64), start)
        table._index()
        return table

    def _index(self):
        # id of an itemset of size k = (id of its first k-1 items) * n_items + last item:
        # unique, fits int64, and lets a query walk down one item at a time.
        m = len(self.items)
        for k in sorted(self.pos):
            P = self.pos[k]
            if k == 1:
                keys = P[:, 0].astype(np.int64)
            else:
                prefix = self._find(P[:, : k - 1])
                if (prefix < 0).any():  # cannot happen for a downward-closed result
                    raise DataError("internal: an engine returned an itemset without its subsets")
                keys = prefix * m + P[:, k - 1]
            order = np.argsort(keys, kind="stable")
            self._keys[k] = keys[order]
            self._order[k] = order + self.start[k]

    def _find(self, Q: np.ndarray) -> np.ndarray:
        """Table indices of the itemsets whose sorted positions are the rows of Q (-1: absent)."""
        m = len(self.items)
        out = np.full(len(Q), -1, dtype=np.int64)
        ok = np.ones(len(Q), dtype=bool)
        idx = None
        for j in range(Q.shape[1]):
            k = j + 1
            if k not in self._keys:
                return out
            keys = Q[:, 0].astype(np.int64) if j == 0 else idx * m + Q[:, j]
            found = np.searchsorted(self._keys[k], keys)
            found = np.minimum(found, len(self._keys[k]) - 1)
            ok &= self._keys[k][found] == keys
            idx = np.where(ok, self._order[k][found], 0)
        out[ok] = idx[ok]
        return out

    def sizes(self) -> np.ndarray:
        return np.concatenate([np.full(len(P), k) for k, P in self.pos.items()]) if self.pos \
            else np.zeros(0, dtype=np.intp)

    def frozensets_of(self, idx: np.ndarray) -> np.ndarray:
        """Frozensets of item labels of the itemsets at table indices ``idx``."""
        labels = np.asarray(self.items, dtype=object)
        sizes = self.sizes()
        out = np.empty(len(idx), dtype=object)
        for k, P in self.pos.items():
            at = np.flatnonzero(sizes[idx] == k)
            if len(at):
                out[at] = [frozenset(r) for r in labels[P[idx[at] - self.start[k]]].tolist()]
        return out

    def frozensets(self) -> np.ndarray:
        labels = np.asarray(self.items, dtype=object)
        out = np.empty(len(self.counts), dtype=object)
        i = 0
        for P in self.pos.values():
            out[i:i + len(P)] = [frozenset(r) for r in labels[P].tolist()]
            i += len(P)
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"support": self.counts / self.n, "itemsets": self.frozensets()},
                            columns=["support", "itemsets"])


def _estimate(tx: _Tx, min_count: int, max_len) -> int:
    """An upper bound on the number of frequent itemsets, from one pass over basket sizes.

    Each frequent itemset lies in at least ``min_count`` baskets, so it is counted at least
    ``min_count`` times among the subsets of the baskets (restricted to frequent items);
    an itemset of size k also needs ``min_count`` baskets of at least k frequent items.
    """
    frequent = np.count_nonzero(tx.X, axis=0) >= min_count
    f = int(frequent.sum())
    if f == 0:
        return 0
    sizes = np.count_nonzero(tx.X if frequent.all() else tx.X[:, frequent], axis=1)
    k_max = int(np.partition(sizes, len(sizes) - min_count)[len(sizes) - min_count]) \
        if min_count <= len(sizes) else 0
    if max_len is not None:
        k_max = min(k_max, max_len)
    by_items = sum(math.comb(f, k) for k in range(1, k_max + 1))
    hist = np.bincount(sizes)
    by_baskets = sum(int(h) * sum(math.comb(s, k) for k in range(1, min(s, k_max) + 1))
                     for s, h in enumerate(hist) if h) // min_count
    return min(by_items, by_baskets)


def _guard(tx: _Tx, min_support: float, min_count: int, max_len, max_itemsets) -> None:
    if max_itemsets is None:
        return
    estimate = _estimate(tx, min_count, max_len)
    if estimate <= max_itemsets:
        return
    hints = []
    s = min_support
    for _ in range(30):
        # check the value as printed, so the suggestion passes when the user types it
        s = float(f"{min(1.0, s * 1.5):.3g}")
        if _estimate(tx, _min_count(s, tx.n), max_len) <= max_itemsets or s == 1.0:
            hints.append(f"min_support={s:g}")
            break
    for L in range((max_len or tx.X.shape[1]) - 1, 0, -1):
        if _estimate(tx, min_count, L) <= max_itemsets:
            hints.append(f"max_len={L}")
            break
    raise ResourceLimitError(
        f"min_support={min_support:g} over {tx.n} baskets and {tx.X.shape[1]} items could give up "
        f"to {estimate:,} frequent itemsets, more than max_itemsets={max_itemsets:,}; that would "
        f"exhaust memory. Try {' or '.join(hints) or 'a higher min_support'}, drop rare items, "
        "or raise max_itemsets if the machine has the memory.")


def _group(sets, counts, code=None):
    """Itemsets as tuples plus counts -> {size: positions matrix}, {size: counts}.

    ``code`` maps an item to its position when the tuples hold labels.
    """
    sizes = np.fromiter(map(len, sets), dtype=np.intp, count=len(sets))
    flat = chain.from_iterable(sets)
    flat = np.fromiter(flat if code is None else map(code, flat), dtype=np.intp,
                       count=int(sizes.sum()))
    counts = np.asarray(counts, dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    pos, cnt = {}, {}
    for k in np.unique(sizes):
        rows = order[sizes[order] == k]
        # gather each row's k items from the flat list
        P = flat[starts[rows][:, None] + np.arange(k)[None, :]]
        pos[int(k)], cnt[int(k)] = P, counts[rows]
    return pos, cnt


def _mine_mlxtend(tx: _Tx, min_count: int, max_len, engine: str):
    from mlxtend.frequent_patterns import apriori, fpgrowth

    df = pd.DataFrame(tx.X, columns=range(tx.X.shape[1]))
    # Ask for half a basket less than needed, then apply the one exact test ourselves, so a
    # rounding difference inside mlxtend can never drop or add a borderline itemset.
    threshold = (min_count - 0.5) / tx.n
    miner = apriori if engine == "apriori" else fpgrowth
    found = miner(df, min_support=threshold, use_colnames=False, max_len=max_len)
    counts = np.rint(found["support"].to_numpy() * tx.n).astype(np.int64)
    keep = counts >= min_count
    sets = [tuple(s) for s in found["itemsets"].to_numpy()[keep]]
    return _group(sets, counts[keep])


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while pyfim returns many small tuples.

    They hold no cycles, yet their sheer number triggers full collections that can cost
    more than the mining itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _distinct_rows(X: np.ndarray):
    """Distinct rows of a boolean matrix and how often each occurs (rows packed to uint64)."""
    packed = np.packbits(X, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    keys = np.ascontiguousarray(packed).view(np.uint64)
    if keys.shape[1] == 1:
        order = np.argsort(keys[:, 0], kind="stable")
        ks = keys[order, 0]
        new = np.r_[True, ks[1:] != ks[:-1]]
    else:
        order = np.lexsort(keys.T[::-1])
        ks = keys[order]
        new = np.r_[True, (ks[1:] != ks[:-1]).any(axis=1)]
    starts = np.flatnonzero(new)
    return X[order[starts]], np.diff(np.r_[starts, len(order)])


def _mine_fast(tx: _Tx, min_count: int, max_len):
    fim = _fim()
    # Identical baskets go to fim once with their multiplicity: fewer rows to read.
    rows, mult = _distinct_rows(tx.X)
    r, c = np.nonzero(rows)
    bounds = np.searchsorted(r, np.arange(len(rows) + 1)).tolist()
    cols = c.tolist()
    tracts = {tuple(cols[a:b]): m for a, b, m in zip(bounds[:-1], bounds[1:], mult.tolist()) if b > a}
    tracts[()] = 1  # see _FIM_PAD
    kwargs = {} if max_len is None else {"zmax": max_len}
    with _gc_paused():
        found = fim.fpgrowth(tracts, target="s", supp=-min_count, zmin=1, report="a", **kwargs)
        sets, counts = zip(*found) if found else ((), ())
        return _group(sets, counts) if sets else ({}, {})


def _prepare(transactions, engine, what):
    """Check the engine and the input; a plain list of baskets for pyfim stays as it is.

    pyfim reads lists of labels in C, so converting them to a matrix first would cost more
    than the mining; every other input becomes a checked :class:`_Tx`.
    """
    _check_engine(engine)
    if engine == SPARK_ENGINE and _spark_engine().is_spark_frame(transactions):
        return _spark_engine().spark_baskets(transactions, what)
    if (engine == "fast" and type(transactions) is list and transactions
            and set(map(type, transactions)) <= {list, tuple}):
        return transactions
    return _as_tx(transactions, what=what)


def _universe(src) -> list:
    """Every item label of a prepared input."""
    if isinstance(src, _Tx) or getattr(src, "is_spark", False):
        return src.items
    return list(set(chain.from_iterable(src)))


def _mine_rows(rows: list, min_count: int, max_len, max_itemsets):
    """pyfim straight on the caller's baskets; None when the general path must decide."""
    if max_itemsets is not None:
        # the size bound without restricting baskets to frequent items: looser, so when it
        # is too high the exact estimate on the matrix path decides
        sizes = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
        k_max = int(np.partition(sizes, len(sizes) - min_count)[len(sizes) - min_count]) \
            if min_count <= len(sizes) else 0
        if max_len is not None:
            k_max = min(k_max, max_len)
        hist = np.bincount(sizes)
        bound = sum(int(h) * sum(math.comb(s, k) for k in range(1, min(s, k_max) + 1))
                    for s, h in enumerate(hist) if h) // min_count
        if bound > max_itemsets:
            return None
    fim = _fim()
    kwargs = {} if max_len is None else {"zmax": max_len}
    with _gc_paused():
        try:
            found = fim.fpgrowth(rows + _FIM_PAD, target="s", supp=-min_count, zmin=1, report="a",
                                 **kwargs)
            sets, counts = zip(*found) if found else ((), ())
            labels = sorted({s[0] for s in sets if len(s) == 1})
        except (TypeError, ValueError):  # unhashable/unsortable labels: the checked path says which
            return None
        if any(map(_is_missing_label, labels)):  # a None/NaN item: the checked path refuses it
            return None
        lookup = {item: j for j, item in enumerate(labels)}
        pos, cnt = _group(sets, counts, lookup.__getitem__) if sets else ({}, {})
    return _Table.build(labels, len(rows), pos, cnt)


def _mine(src, min_support, max_len, engine, max_itemsets, what="frequent_itemsets") -> _Table:
    """Frequent itemsets of a :func:`_prepare`-d input as the canonical :class:`_Table`."""
    min_support = _check_support(min_support, "min_support")
    max_len = _check_max_len(max_len)
    if max_itemsets is not None and (isinstance(max_itemsets, bool) or not isinstance(
            max_itemsets, numbers.Integral) or max_itemsets < 1):
        raise InvalidParameterError(f"max_itemsets must be a positive integer or None, got {max_itemsets!r}")
    if getattr(src, "is_spark", False):  # baskets in Spark: mined there, guarded there
        items, n, sets, counts = _spark_engine().mine_spark(
            src, _min_count(min_support, src.n), max_len, min_support, max_itemsets)
        pos, cnt = _group(sets, counts) if sets else ({}, {})
        return _Table.build(items, n, pos, cnt)
    if not isinstance(src, _Tx):
        if not any(src):
            raise DataError(f"{what}: every basket is empty (no customer holds any item); "
                            "nothing to mine")
        table = _mine_rows(src, _min_count(min_support, len(src)), max_len, max_itemsets)
        if table is not None:
            return table
        src = _as_tx(src, what=what)
    tx = src
    _check_some_items(tx, what)
    min_count = _min_count(min_support, tx.n)
    _guard(tx, min_support, min_count, max_len, max_itemsets)
    if (np.count_nonzero(tx.X, axis=0) >= min_count).any():
        if engine == "fast":
            pos, cnt = _mine_fast(tx, min_count, max_len)
        elif engine == SPARK_ENGINE:
            _, _, sets, counts = _spark_engine().mine_spark(tx, min_count, max_len)
            pos, cnt = _group(sets, counts) if sets else ({}, {})
        else:
            pos, cnt = _mine_mlxtend(tx, min_count, max_len, engine)
    else:
        pos, cnt = {}, {}
    return _Table.build(tx.items, tx.n, pos, cnt)


def frequent_itemsets(transactions, min_support, max_len=None, engine="fpgrowth",
                      max_itemsets=DEFAULT_MAX_ITEMSETS) -> pd.DataFrame:
    """Itemsets held together by at least ``min_support`` of all baskets.

    Parameters
    ----------
    transactions : pandas.DataFrame or list of baskets
        The one-hot boolean (or 0/1) frame from :func:`to_transactions` /
        :func:`to_onehot`, or baskets as lists of item labels.
    min_support : float in (0, 1]
        Minimum share of baskets holding every item of the set (count / n >= min_support).
    max_len : int, optional
        Largest itemset size; default no limit.
    engine : {"fpgrowth", "apriori", "fast", "spark"}
        ``"apriori"`` and ``"fpgrowth"`` call mlxtend; ``"fast"`` calls the C library pyfim
        (``pip install 'bankml[fast]'``); ``"spark"`` runs Spark MLlib's FPGrowth
        (``pip install 'bankml[spark]'``; the running Spark session, or a local one), and
        also takes a Spark DataFrame of baskets (one array column of item labels), which
        stays in Spark. All give exactly the same table.
    max_itemsets : int or None, default 2,000,000
        Refuse up front (``ResourceLimitError``) when an upper bound on the number of
        itemsets exceeds this; None disables the guard.

    Returns
    -------
    pandas.DataFrame
        Columns ``support`` (count / n) and ``itemsets`` (frozensets of item labels), as
        mlxtend returns them, ordered by size, then support (descending), then item order.

    Raises
    ------
    DataError
        Bad transactions (see :func:`to_transactions`), every basket empty.
    InvalidParameterError
        ``min_support`` outside (0, 1], a bad ``max_len``, an unknown engine.
    EngineNotAvailableError
        ``engine="fast"`` without pyfim, ``engine="spark"`` without pyspark installed (the
        message gives the pip command).
    ResourceLimitError
        Too many itemsets would be found; the message gives the estimate and a remedy.

    Examples
    --------
    >>> baskets = [["has_fund", "has_wm_account"], ["has_fund"], ["has_fund", "has_wm_account"],
    ...            ["has_gold"]]
    >>> fi = frequent_itemsets(baskets, min_support=0.5)
    >>> [(sorted(s), p) for s, p in zip(fi["itemsets"], fi["support"])]
    [(['has_fund'], 0.75), (['has_wm_account'], 0.5), (['has_fund', 'has_wm_account'], 0.5)]
    >>> frequent_itemsets(baskets, 0.5, engine="fast").equals(frequent_itemsets(baskets, 0.5))
    True
    """
    src = _prepare(transactions, engine, "frequent_itemsets")
    return _mine(src, min_support, max_len, engine, max_itemsets).frame()
