"""The stages of a job: each run, timed and recorded; a stage a build lacks is "unavailable".

Shared by the pandas job (``_run``) and the Spark job (``_spark``).
"""

from __future__ import annotations

import sys
import time

from .._stop import check_stop
from ._stages import StageUnavailable
from ._summary import StageRecord, StageStatus


class _Runner:
    """Runs stages under one tqdm bar and keeps a :class:`StageRecord` per stage."""

    def __init__(self, progress: bool, total: int):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc="bankml", unit="stage", disable=not progress,
                         file=sys.stderr, leave=False)
        self.records: list[StageRecord] = []

    def __call__(self, name, fn, *args, optional=True, enabled=True, why="", **kwargs):
        """``fn(*args, **kwargs)`` as stage ``name``; None when skipped or unavailable.

        A stage not ``enabled`` is skipped: by the config, or for ``why`` (a status term).
        """
        self._bar.set_description(f"bankml: {name}")
        t0, out, status, detail = time.perf_counter(), None, StageStatus.OK, ""
        try:
            check_stop()  # a SIGTERM whose exception Python dropped stops the job here
            if enabled:
                out = fn(*args, **kwargs)
            else:
                status, detail = StageStatus.SKIPPED, why
        except StageUnavailable as exc:
            if not optional:
                status, detail = StageStatus.FAILED, type(exc).__name__
                raise
            status, detail = StageStatus.UNAVAILABLE, str(exc)
        except BaseException as exc:
            status, detail = StageStatus.FAILED, type(exc).__name__  # a message may quote data
            raise
        finally:
            self.records.append(StageRecord(name, status, time.perf_counter() - t0, detail))
            self._bar.update(1)
        return out

    def note(self, name, seconds):
        """A step timed elsewhere (MLflow's setup), recorded as done."""
        self.records.append(StageRecord(name, StageStatus.OK, seconds))

    def seconds(self, name) -> float:
        return sum(r.seconds for r in self.records if r.stage == name)

    def close(self):
        self._bar.close()


def _tag_stages(rt, st: _Runner) -> None:
    rt.set_tags({f"bankml.stage.{r.stage}": r.tag[:250] for r in st.records})
