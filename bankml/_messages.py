"""Shared wording of input-check messages.

Which rows failed a check, said by ROW POSITION (0 = the first row), never by index label:
an index often holds customer ids, which must not reach messages or logs.
"""

from __future__ import annotations

import numpy as np

_MAX_SHOWN = 5


def first_positions(mask, limit: int = _MAX_SHOWN) -> tuple[list[int], int]:
    """The positions of the first rows where ``mask`` holds, and how many rows it holds in.

    Examples
    --------
    >>> first_positions([False, True, True])
    ([1, 2], 2)
    """
    pos = np.flatnonzero(np.asarray(mask))
    return pos[:limit].tolist(), int(pos.size)


def positions_text(shown, n) -> str:
    """``n`` failing rows of which ``shown`` are the first positions, as one phrase.

    Examples
    --------
    >>> positions_text([1, 3], 2)
    '2 row(s), positions [1, 3]'
    >>> positions_text([0, 1, 2, 3, 4], 7)
    '7 row(s), positions [0, 1, 2, 3, 4]...'
    >>> positions_text([], 3)  # counted only (Spark rows have no position)
    '3 row(s)'
    """
    if not shown:
        return f"{n} row(s)"
    more = "..." if n > len(shown) else ""
    return f"{n} row(s), positions {list(shown)}{more}"


def row_positions(mask) -> str:
    """Where a check failed, as text: the count and the first positions, never ids.

    Examples
    --------
    >>> row_positions([False, True, False, True])
    '2 row(s), positions [1, 3]'
    >>> row_positions(range(1, 8))
    '7 row(s), positions [0, 1, 2, 3, 4]...'
    """
    return positions_text(*first_positions(mask))


def raise_problems(error, what, problems):
    """Raise one ``error`` listing every problem, one per line; ``problems`` kept on it.

    Examples
    --------
    >>> raise_problems(ValueError, "star inputs are not usable", ["column 'age': text"])
    Traceback (most recent call last):
    ...
    ValueError: star inputs are not usable (1 problem):
      - column 'age': text
    """
    n = len(problems)
    lines = "\n".join(f"  - {p}" for p in problems)
    exc = error(f"{what} ({n} problem{'s' if n != 1 else ''}):\n{lines}")
    exc.problems = list(problems)
    raise exc
