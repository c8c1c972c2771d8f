"""Shared wording of input-check messages.

Which rows failed a check, said without ever naming a customer.
"""

from __future__ import annotations

import numpy as np

_MAX_SHOWN = 5


def row_positions(mask) -> str:
    """Where a check failed, as text: the count and the first positions, never ids.

    Positions rather than index labels because an index often holds customer ids, which
    must not reach messages or logs.

    Examples
    --------
    >>> row_positions([False, True, False, True])
    '2 row(s), positions [1, 3]'
    >>> row_positions(range(1, 8))
    '7 row(s), positions [0, 1, 2, 3, 4]...'
    """
    pos = np.flatnonzero(np.asarray(mask))
    more = "..." if len(pos) > _MAX_SHOWN else ""
    return f"{len(pos)} row(s), positions {pos[:_MAX_SHOWN].tolist()}{more}"


def first_labels(index, mask, limit=_MAX_SHOWN) -> tuple[list, int]:
    """The index labels of the first rows where ``mask`` holds, and how many rows it holds in.

    Labels come back as plain Python values, so a message reads 11, not np.int64(11).

    Examples
    --------
    >>> import pandas as pd
    >>> first_labels(pd.Index([10, 11, 12]), [False, True, True])
    ([11, 12], 2)
    """
    pos = np.flatnonzero(mask)
    return index[pos[:limit]].tolist(), int(pos.size)


def index_rows(index, mask) -> str:
    """Where a check failed, as text naming the first rows by index label.

    Examples
    --------
    >>> import pandas as pd
    >>> index_rows(pd.RangeIndex(10), [True] * 7 + [False] * 3)
    '7 row(s), first at index 0, 1, 2, 3, 4 and 2 more'
    """
    return labels_text(*first_labels(index, mask))


def labels_text(shown, n) -> str:
    """``n`` rows of which ``shown`` are the first labels, as :func:`index_rows` words it."""
    more = f" and {n - len(shown)} more" if n > len(shown) else ""
    return f"{n} row(s), first at index {', '.join(map(repr, shown))}{more}"
