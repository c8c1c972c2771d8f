"""Shared wording of input-check messages.

Which rows failed a check, said without ever naming a customer.
"""

from __future__ import annotations

import numpy as np

_MAX_SHOWN = 5


def row_positions(mask) -> str:
    """Where a check failed, as text: the count and the first positions, never ids.

    Positions rather than index
    labels because an index often holds customer ids, which must not reach messages or logs.

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
