"""Helpers shared by the benchmark scripts (imported as ``_common``: a script's own folder is
on ``sys.path`` when it runs as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import time


def best_of(fn, repeat=3, clock=time.perf_counter):
    """Best-of-``repeat`` time of ``fn()`` in seconds, and its (last) result.

    The minimum, not the mean: on a shared machine other load only ever adds time.
    ``clock`` is wall time by default; ``time.process_time`` measures this process's CPU.

    Examples
    --------
    >>> t, out = best_of(lambda: sum(range(10)), repeat=2)
    >>> out, t >= 0
    (45, True)
    """
    best, out = float("inf"), None
    for _ in range(repeat):
        t = clock()
        out = fn()
        best = min(best, clock() - t)
    return best, out
