"""A stop asked for by SIGTERM, kept until a long job has seen it.

Python drops an exception raised by a signal handler while a garbage-collector callback or
a ``__del__`` runs (it prints "Exception ignored"): the job would go on and publish after
the operator stopped it. The request stays here, and the jobs check it between stages.
"""

from __future__ import annotations

__all__ = ["Terminated", "request_stop", "check_stop", "reset"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the job is, so its cleanup runs as for Ctrl-C (the MLflow run
    marked FAILED, staging removed); Python's default SIGTERM ends the process without it."""


_requested = False


def request_stop(signum=None, frame=None):
    """The SIGTERM handler: remember the request, and stop here."""
    global _requested
    _requested = True
    raise Terminated()


def check_stop() -> None:
    """Raise :class:`Terminated` if a stop was asked for (its first raise may have been lost)."""
    if _requested:
        raise Terminated()


def reset() -> None:
    """Forget a request (a new command in the same process starts clean)."""
    global _requested
    _requested = False
