"""Staging and publishing a run's files: all of them, after success, or none.

Each run writes into ``<dir>/.staging-<run_id>/`` (with an ``owner.json`` naming its process)
beside ``output.reports_dir`` and ``output.models_dir``; only a run that finished, registered
and became ``@champion`` swaps its files in. A later run removes staging left by a dead process.
The Spark job (no model file: its model is in MLflow) stages and publishes the reports only.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Staging", "Published", "remove_stale_staging", "output_dirs", "REPORT_ENTRIES"]

PREFIX = ".staging-"
OWNER = "owner.json"
#: Everything a run publishes in the reports folder: a published set replaces all of these,
#: so the folder never mixes files of two runs (an entry the new run lacks is removed).
REPORT_ENTRIES = ("rules", "plots", "cross_sell_rules.csv", "cross_sell_rules_zh.csv",
                  "cross_sell_rules_en.csv", "segments_en.csv", "segments_zh.csv",
                  "report_zh.html", "report_en.html")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _owner_is_dead(folder: Path) -> bool:
    """True when ``folder``'s owner process is gone from this host.

    A staging folder is renamed into place with its owner.json already inside, so a folder
    without a readable one was left by an older bankml or a crash mid-write: stale too.
    Staging of another host, or of another pid namespace (two containers may share a
    hostname and a mounted folder), is left alone: its process cannot be checked from here.
    """
    try:
        owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return True
    same_place = host == socket.gethostname() and owner.get("pidns") == _pid_namespace()
    return same_place and not _alive(pid)


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove the staging folders in ``parent`` whose process is dead; return them."""
    removed = []
    if not parent.is_dir():
        return removed
    for folder in sorted(parent.glob(PREFIX + "*")):
        if folder.is_dir() and _owner_is_dead(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _make_staging(parent: Path, name: str) -> Path:
    """``parent/.staging-<name>`` created whole, owner.json included (atomic rename)."""
    target = parent / f"{PREFIX}{name}"
    # not matching PREFIX: another run's cleanup must not take it for a stale folder
    tmp = parent / f".bankml-tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "pidns": _pid_namespace(),
             "run_id": name.split("-")[0],
             "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    (tmp / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    os.rename(tmp, target)
    return target


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive inter-process lock on ``path`` (held until the block ends)."""
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def output_dirs(folders):
    """The output folders, checked usable before any work, and those that did not exist.

    A refused folder leaves nothing behind: a folder the check created is removed again.
    """
    from ..errors import PublishError
    from ..persistence import check_output_dir

    wanted = [Path(p) for p in folders]
    fresh = tuple(p.absolute() for p in wanted if not p.exists())
    try:
        return [check_output_dir(p) for p in wanted], fresh
    except PublishError:
        for folder in sorted(fresh, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _move_model(model_file: Path, folder: Path) -> Path:
    from ..persistence import move_model

    return move_model(model_file, folder)


@dataclass(frozen=True)
class Published:
    """Where a run's files went: the reports folder and the model file (or None)."""

    reports_dir: Path | None
    model_path: Path | None


@dataclass(frozen=True)
class Staging:
    """A run's two staging folders and the output folders they publish into."""

    run_id: str
    reports_dir: Path
    models_dir: Path | None  # None: a run without a model file (the Spark job)
    reports: Path
    models: Path | None
    created: tuple  # output folders this run created (removed again if left empty)

    @classmethod
    def open(cls, reports_dir, models_dir, run_id: str, created=None) -> "Staging":
        """Remove stale staging, then create this run's (folders must pass check_output_dir).

        ``created``: the output folders this run made (default: those missing now); they
        are removed again by :meth:`discard` if the run leaves them empty. ``models_dir``
        None: reports only.
        """
        reports_dir = Path(reports_dir)
        models_dir = None if models_dir is None else Path(models_dir)
        folders = [p for p in dict.fromkeys((reports_dir, models_dir)) if p is not None]
        if created is None:
            created = [p for p in folders if not p.exists()]
        created = tuple(dict.fromkeys(Path(p) for p in created))
        for p in folders:
            p.mkdir(parents=True, exist_ok=True)
            remove_stale_staging(p)
        same = models_dir is not None and reports_dir.resolve() == models_dir.resolve()
        return cls(run_id, reports_dir, models_dir,
                   _make_staging(reports_dir, f"{run_id}-reports" if same else run_id),
                   None if models_dir is None else _make_staging(models_dir, run_id), created)

    def report_entries(self) -> list[Path]:
        """The staged report files and folders (owner.json excluded)."""
        return [self.reports / n for n in REPORT_ENTRIES if (self.reports / n).exists()]

    def publish(self, model_file: Path | None, still_champion=None) -> Published:
        """Swap the staged reports and model into the output folders, then drop staging.

        A folder (``rules``, ``plots``) is swapped whole by two renames, so a reader sees the
        old set or the new one, never a mix; the model moves checksum first (persistence).
        Runs publishing at once take turns (a lock file in the reports folder), and
        ``still_champion()``, asked under that lock, can call the publication off: a run that
        lost ``@champion`` to a later one meanwhile must not overwrite that one's files.
        An interruption half-way puts the old files back.
        """
        with _lock(self.reports_dir / ".bankml-publish.lock"):
            if still_champion is not None and not still_champion():
                return Published(None, None)
            self._swap_reports()
            model_path = None if model_file is None else _move_model(model_file, self.models_dir)
        self.discard()
        return Published(self.reports_dir, model_path)

    def _swap_reports(self) -> None:
        trash = self.reports / ".replaced"
        trash.mkdir()
        done = []
        try:
            for name in REPORT_ENTRIES:
                new, live = self.reports / name, self.reports_dir / name
                if live.exists() or live.is_symlink():
                    os.rename(live, trash / name)
                done.append(name)
                if new.exists():
                    os.rename(new, live)
        except BaseException:
            for name in reversed(done):  # undo: the old set, whole, as it was
                live, old = self.reports_dir / name, trash / name
                if (live.exists() or live.is_symlink()) and not (self.reports / name).exists():
                    os.rename(live, self.reports / name)
                if old.exists() or old.is_symlink():
                    os.rename(old, live)
            raise

    def discard(self) -> None:
        """Remove the staging folders (and output folders this run created, if empty)."""
        for folder in (self.reports, self.models):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:  # not empty: it holds something now, keep it
                pass
