"""MLflow tracking for bankml runs: where the store is, what a run logs, how models are promoted.

A run logs the config as params, metrics, artifacts and the model (signature plus a synthetic
input example, never real rows). A model is registered only after its run FINISHED, and it
becomes ``@champion`` only when it beats the current champion on the same test customers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from .config import flatten_config
from .errors import ConfigError, DataError, TrackingError

__all__ = ["DEFAULT_TRACKING_URI", "ACCEPTED_SCHEMES", "resolve_tracking_uri", "prepare_store",
           "synthetic_input_example", "RunTracker", "ChampionComparison",
           "compare_with_champion", "register_and_promote", "CANDIDATE", "CHAMPION"]

#: The embedded store, in the working directory, used when nothing else is configured.
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: Store schemes bankml accepts (SQLAlchemy driver suffixes such as ``postgresql+psycopg2``
#: are allowed); anything else is refused before MLflow sees it.
ACCEPTED_SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql")
CANDIDATE = "candidate"
CHAMPION = "champion"
#: Model-version tag holding the candidate's test AUC (for people browsing the registry).
AUC_TAG = "test_auc"
_MAX_PARAM = 6000  # MLflow's limit on a param value
#: Seconds an unreachable server may cost before the run is refused.
PROBE_TIMEOUT = 5.0
# MLflow's own defaults retry an unreachable server for about four minutes; these bound every
# later call of the run too (a user's own settings win: setdefault)
_HTTP_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
             "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "mysql": 3306}
_SQLITE_MAGIC = b"SQLite format 3\x00"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The tracking URI: ``uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``.

    The default sqlite path is made absolute (the working directory at call time), so a later
    ``chdir`` does not move the store. Nothing is checked; see :func:`prepare_store`.

    Examples
    --------
    >>> resolve_tracking_uri("sqlite:////tmp/x.db")
    'sqlite:////tmp/x.db'
    """
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    if uri == DEFAULT_TRACKING_URI:
        uri = "sqlite:///" + str(Path.cwd() / "mlflow.db")
    return uri


def _shown(uri: str) -> str:
    """``uri`` fit for a message: a password in it is replaced by ``***``."""
    try:
        parts = urlsplit(uri)
        if parts.password:
            netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return uri


def _scheme(uri: str) -> str:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", uri)
    return match.group(1).lower().split("+", 1)[0] if match else ""


def prepare_store(uri: str | None = None) -> str:
    """Resolve the tracking URI, check the store is usable and create a new SQLite store.

    Parameters
    ----------
    uri : str, optional
        See :func:`resolve_tracking_uri`.

    Returns
    -------
    str
        The resolved URI.

    Raises
    ------
    TrackingError
        Naming the URI (a password in it hidden): an unknown scheme; an SQLite store
        whose folder does not exist (nothing is created: a typo never makes folders at ``/``),
        is not a folder or cannot be written; a file that is not an SQLite database; a server
        that does not answer within ``PROBE_TIMEOUT`` seconds.

    Notes
    -----
    Creating a new SQLite store runs MLflow's schema migrations; they are taken under an
    inter-process lock (``<db>.lock`` beside the database), so two first runs at once both
    work. For http(s) stores MLflow's request retries and timeout are bounded through its
    ``MLFLOW_HTTP_REQUEST_*`` environment variables unless already set. Cheap when the store
    exists; call it as often as needed.

    Examples
    --------
    >>> import tempfile
    >>> uri = "sqlite:///" + tempfile.mkdtemp() + "/mlflow.db"
    >>> prepare_store(uri) == uri
    True
    >>> prepare_store("bogus://x")
    Traceback (most recent call last):
    ...
    bankml.errors.TrackingError: tracking URI 'bogus://x': unknown scheme 'bogus'...
    """
    uri = resolve_tracking_uri(uri)
    if not isinstance(uri, str):
        raise TrackingError(f"tracking URI must be text, got {type(uri).__name__}")
    scheme = _scheme(uri)
    if scheme == "file":
        raise TrackingError(f"tracking URI {_shown(uri)!r}: MLflow no longer keeps runs in "
                            "folders; use an SQLite store, e.g. sqlite:///mlflow.db")
    if scheme not in ACCEPTED_SCHEMES:
        what = f"unknown scheme {scheme!r}" if scheme else "no scheme"
        raise TrackingError(
            f"tracking URI {_shown(uri)!r}: {what}; expected one of "
            + ", ".join(f"{s}://" for s in ACCEPTED_SCHEMES)
            + " (e.g. sqlite:///mlflow.db or http://host:5000)")
    if scheme == "sqlite":
        _prepare_sqlite(uri)
    else:
        if scheme in ("http", "https"):
            for key, value in _HTTP_ENV.items():
                os.environ.setdefault(key, value)
        _probe_server(uri, scheme)
    return uri


def _check_folder(uri: str, folder: Path, what: str = "folder") -> None:
    if not folder.exists():
        raise TrackingError(f"tracking URI {_shown(uri)!r}: the {what} {folder} does not exist; "
                            "create it first (bankml never creates it)")
    if not folder.is_dir():
        raise TrackingError(f"tracking URI {_shown(uri)!r}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TrackingError(f"tracking URI {_shown(uri)!r}: the {what} {folder} is not writable")


def _sqlite_path(uri: str) -> Path:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        database = make_url(uri).database
    except (ArgumentError, ValueError) as exc:
        raise TrackingError(f"tracking URI {_shown(uri)!r} is not a valid sqlite URI: {exc}") \
            from None
    if not database or database == ":memory:" or database.startswith("file:"):
        raise TrackingError(f"tracking URI {_shown(uri)!r}: an in-memory or URI-style SQLite "
                            "store cannot keep runs; give a file, e.g. sqlite:///mlflow.db")
    return Path(database)


def _prepare_sqlite(uri: str) -> None:
    db = _sqlite_path(uri)
    _check_folder(uri, db.parent if str(db.parent) else Path("."))
    if db.exists():
        if not db.is_file():
            raise TrackingError(f"tracking URI {_shown(uri)!r}: {db} is not a file")
        with open(db, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise TrackingError(f"tracking URI {_shown(uri)!r}: {db} is not an SQLite database")
    # an existing store in a read-only folder can still be read (bankml ui): no lock needed
    exists = db.is_file() and db.stat().st_size > 0
    with _file_lock(db.with_name(db.name + ".lock"), uri, required=not exists):
        _open_store(uri)


@contextlib.contextmanager
def _file_lock(path: Path, uri: str, required: bool = True):
    """An exclusive inter-process lock on ``path`` (no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: MLflow's own creation is then unguarded, as before
        yield
        return
    try:
        fh = open(path, "a")
    except OSError as exc:
        if not required:
            yield
            return
        raise TrackingError(f"tracking URI {_shown(uri)!r}: cannot create the lock file "
                            f"{path}: {exc.strerror or exc}") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts): go on unguarded
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _open_store(uri: str) -> None:
    """Build MLflow's tracking and registry stores once: a new database gets its tables here."""
    from mlflow import MlflowClient

    with _mlflow_errors(uri, "cannot open the store"), _quiet("mlflow.store.db.utils", "alembic"):
        client = MlflowClient(uri)
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)


@contextlib.contextmanager
def _quiet(*loggers):
    """Loggers held at WARNING: creating a store is routine, not news for the terminal."""
    import logging

    saved = [(lg, lg.level) for lg in map(logging.getLogger, loggers)]
    for lg, _ in saved:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)


@contextlib.contextmanager
def _mlflow_errors(uri: str, doing: str):
    """MLflow's and SQLAlchemy's exceptions as one TrackingError naming the URI."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except ImportError as exc:  # a database driver (psycopg, MySQLdb) is not installed
        raise TrackingError(f"tracking URI {_shown(uri)!r}: {doing}: the Python package "
                            f"{exc.name or exc} it needs is not installed") from exc
    except (MlflowException, SQLAlchemyError, OSError) as exc:
        text = " ".join(str(getattr(exc, "message", None) or exc).split())
        with contextlib.suppress(ValueError):
            secret = urlsplit(uri).password
            if secret:  # MLflow's own message may quote the URI
                text = text.replace(secret, "***")
        if len(text) > 300:
            text = text[:297] + "..."
        raise TrackingError(f"tracking URI {_shown(uri)!r}: {doing}: {text}") from exc


def _probe_server(uri: str, scheme: str) -> None:
    """Fail within ``PROBE_TIMEOUT`` seconds when nothing answers at the server's address."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise TrackingError(f"tracking URI {_shown(uri)!r} is not a valid URI: {exc}") from None
    if not host:
        raise TrackingError(f"tracking URI {_shown(uri)!r} names no host")
    if scheme in ("http", "https"):
        import urllib.error
        import urllib.request

        # the health endpoint of an MLflow server; any HTTP answer (even 404) proves a server
        base = urlunsplit(parts._replace(netloc=f"{host}:{port}" if ":" not in host
                                         else f"[{host}]:{port}"))
        context = None
        if scheme == "https":
            import ssl

            # the same certificate rules MLflow's own requests will follow
            if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
                context = ssl._create_unverified_context()
            elif os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
                context = ssl.create_default_context(
                    cafile=os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"])
        try:
            urllib.request.urlopen(base.rstrip("/") + "/health", timeout=PROBE_TIMEOUT,
                                   context=context).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(f"tracking URI {_shown(uri)!r}: no MLflow server answers at "
                                f"{host}:{port} ({reason}; waited at most {PROBE_TIMEOUT:g} s)") \
                from None
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        raise TrackingError(f"tracking URI {_shown(uri)!r}: nothing answers at {host}:{port} "
                            f"({exc.strerror or exc}; waited at most {PROBE_TIMEOUT:g} s)") \
            from None


def _artifact_root(uri: str) -> str | None:
    """Artifacts beside a sqlite file (MLflow would put them under the current directory)."""
    if _scheme(uri) != "sqlite":
        return None
    try:
        db = _sqlite_path(uri)
    except TrackingError:
        return None
    return (db.parent / "mlartifacts").resolve().as_uri()
def synthetic_input_example(X: pd.DataFrame, n_rows: int = 3) -> pd.DataFrame:
    """A few made-up rows with ``X``'s columns and dtypes, for the MLflow input example.

    Every column is filled on its own from rounded quantiles (numbers) or the most common
    values (categories), so no row is a customer's row, and no identifier appears.

    Examples
    --------
    >>> X = pd.DataFrame({"age": [23, 41, 67, 35], "gender": ["F", "M", "F", "F"]})
    >>> synthetic_input_example(X, 2)
       age gender
    0   32      F
    1   48      M
    """
    out = {}
    qs = np.linspace(0.25, 0.75, n_rows) if n_rows > 1 else np.array([0.5])
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.dropna().quantile(qs, interpolation="linear").to_numpy(float) if s.notna().any() \
                else np.zeros(n_rows)
            # two significant digits: a round figure, not any one customer's balance
            mag = 10.0 ** np.floor(np.log10(np.maximum(np.abs(v), 1e-9)) - 1)
            v = np.round(v / mag) * mag
            if s.dropna().between(0, 1).all() and pd.api.types.is_integer_dtype(s.dtype):
                v = np.arange(n_rows) % 2  # a flag: show both values
            out[col] = pd.Series(v, dtype=s.dtype) if pd.api.types.is_integer_dtype(s.dtype) \
                else pd.Series(v.astype(float))
        else:
            common = s.dropna().astype(str).value_counts().index.tolist() or ["unknown"]
            vals = [common[i % len(common)] for i in range(n_rows)]
            ser = pd.Series(vals, dtype=s.dtype if not isinstance(s.dtype, pd.CategoricalDtype)
                            else "object")
            if isinstance(s.dtype, pd.CategoricalDtype):
                ser = pd.Series(pd.Categorical(vals, categories=s.cat.categories,
                                               ordered=s.cat.ordered))
            out[col] = ser
    return pd.DataFrame(out)


def _param_value(v) -> str:
    text = "null" if v is None else str(v)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 3] + "..."


def fail_active_run() -> None:
    """End this process's active MLflow run, if any, as FAILED (best effort).

    For an interrupt that arrives where no ``with RunTracker`` can end the run: while it
    is being started, or inside MLflow's own ``end_run``."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    try:
        if mlflow.active_run() is not None:
            mlflow.end_run(status="FAILED")
    except Exception:  # noqa: BLE001 -- the interrupt is the error to report
        pass


class RunTracker:
    """One MLflow run as a context manager; an exception inside marks the run FAILED.

    The run is tagged with the process id and host (``bankml.pid``, ``bankml.host``); on
    entering, runs of the same experiment left RUNNING by a process of this host that no
    longer exists are marked FAILED (tag ``bankml.recovered``) and listed in ``recovered``.
    Time spent in MLflow calls is summed in ``seconds`` (to report MLflow's share of a run).

    Parameters
    ----------
    experiment : str
        Experiment name (created, with artifacts beside a sqlite store, if missing).
    tracking_uri : str, optional
        See :func:`prepare_store` (checked, and a new SQLite store created, on entering).
    run_name : str, optional
    tags : dict, optional

    Examples
    --------
    >>> import tempfile, mlflow
    >>> uri = "sqlite:///" + tempfile.mkdtemp() + "/mlflow.db"
    >>> with RunTracker("doc", tracking_uri=uri) as rt:
    ...     rt.log_metrics({"auc": 0.8})
    >>> mlflow.MlflowClient(uri).get_run(rt.run_id).info.status
    'FINISHED'
    """

    def __init__(self, experiment, tracking_uri=None, run_name=None, tags=None):
        self.experiment = experiment
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.run_id = None
        self.recovered: list[str] = []
        self.seconds = 0.0
        self._mlflow = None

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self):
        t0 = time.perf_counter()
        self.tracking_uri = prepare_store(self.tracking_uri)
        import mlflow

        self._mlflow = mlflow
        starting = False
        try:
            with _mlflow_errors(self.tracking_uri, f"cannot start a run in {self.experiment!r}"):
                mlflow.set_tracking_uri(self.tracking_uri)
                exp_id = self._experiment_id(self.client)
                self.recovered = _fail_dead_runs(self.client, exp_id)
                if mlflow.active_run() is not None:  # a notebook left one open
                    mlflow.end_run()
                tags = {k: str(v) for k, v in self.tags.items()}
                tags.update(_process_tags())
                starting = True
                run = mlflow.start_run(experiment_id=exp_id, run_name=self.run_name, tags=tags)
            self.run_id = run.info.run_id
        except BaseException:
            # Ctrl-C or SIGTERM while the run was being started: `with` calls no __exit__
            # when __enter__ raises, so end a run already created here, or it stays RUNNING
            # (before start_run, an active run is a notebook's own: not ours to fail)
            if starting:
                fail_active_run()
            raise
        self.seconds += time.perf_counter() - t0
        return self

    def _experiment_id(self, client) -> str:
        from mlflow.exceptions import MlflowException

        exp = client.get_experiment_by_name(self.experiment)
        if exp is None:
            try:
                return client.create_experiment(
                    self.experiment, artifact_location=_artifact_root(self.tracking_uri))
            except MlflowException:
                # another process created it in between: use theirs
                exp = client.get_experiment_by_name(self.experiment)
                if exp is None:
                    raise
        if exp.lifecycle_stage != "active":
            raise TrackingError(
                f"tracking URI {_shown(self.tracking_uri)!r}: experiment {self.experiment!r} "
                "was deleted; restore it (mlflow experiments restore) or name another one")
        return exp.experiment_id

    def __exit__(self, exc_type, exc, tb):
        t0 = time.perf_counter()
        try:
            if exc_type is not None:
                try:
                    # the error class only: a message could quote data
                    self._mlflow.set_tag("bankml.error", exc_type.__name__)
                finally:  # the tag failing (or a second signal) must still end the run
                    self._mlflow.end_run(status="FAILED")
            else:
                self._mlflow.end_run(status="FINISHED")
        except Exception:
            if exc_type is None:
                raise
            # the store failing too must not hide the error that ended the run
        finally:
            self.seconds += time.perf_counter() - t0
        return False

    @property
    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(self.tracking_uri)

    def _timed(self, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    # --- logging -------------------------------------------------------------------------
    def log_config(self, cfg: dict) -> None:
        """The validated config as params with dotted keys (``tree.max_depth``)."""
        flat = {k: _param_value(v) for k, v in flatten_config(cfg).items()}
        self._timed(self._mlflow.log_params, flat)

    def log_metrics(self, metrics: dict, prefix: str = "") -> None:
        clean = {prefix + k: float(v) for k, v in metrics.items()
                 if v is not None and np.isfinite(float(v))}
        self._timed(self._mlflow.log_metrics, clean)

    def set_tags(self, tags: dict) -> None:
        self._timed(self._mlflow.set_tags, {k: str(v) for k, v in tags.items()})

    def log_artifact(self, path, artifact_path=None) -> None:
        self._timed(self._mlflow.log_artifact, str(path), artifact_path)

    def log_artifacts(self, folder, artifact_path=None) -> None:
        self._timed(self._mlflow.log_artifacts, str(folder), artifact_path)

    def log_model(self, model, X_like: pd.DataFrame, name="model", method="predict_proba"):
        """Log a fitted scikit-learn model with its signature and a synthetic input example.

        ``X_like`` gives the columns and dtypes only; the example is built by
        :func:`synthetic_input_example`. The pyfunc flavour calls ``method``.
        Returns MLflow's ``ModelInfo`` (``model_uri`` is what to register).
        """
        import mlflow.sklearn
        import sklearn
        from mlflow.models import infer_signature

        def _log():
            with warnings.catch_warnings():
                # MLflow's generic hint about integer columns and a pandas 3 deprecation
                # inside MLflow: noise on every run's terminal, nothing the user can act on
                warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer")
                warnings.filterwarnings("ignore", message=r"Operation with range is deprecated")
                return _log_unfiltered()

        def _log_unfiltered():
            example = synthetic_input_example(X_like)
            signature = infer_signature(example, getattr(model, method)(example))
            # explicit requirements: MLflow's inference reloads the model in a subprocess
            reqs = [f"scikit-learn=={sklearn.__version__}", f"pandas=={pd.__version__}",
                    f"numpy=={np.__version__}"]
            common = dict(name=name, signature=signature, input_example=example,
                          pyfunc_predict_fn=method, pip_requirements=reqs,
                          metadata={"requires": "bankml (the model holds bankml estimators)"})
            trusted = _skops_trusted_types(model)
            if trusted is not None:
                return mlflow.sklearn.log_model(model, serialization_format="skops",
                                                skops_trusted_types=trusted, **common), "skops"
            return mlflow.sklearn.log_model(model, serialization_format="cloudpickle",
                                            **common), "cloudpickle"
        info, fmt = self._timed(_log)
        self.set_tags({"bankml.model_format": fmt})
        return info


def _process_gone(pid: int, started_ms) -> bool:
    """True only when no process ``pid`` runs here, or it is a later one reusing the number."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
            # a process started after the run did is a different one with the same pid
            return started_ms is not None and proc.create_time() > started_ms / 1000 + 1
        except psutil.NoSuchProcess:
            return True
        except psutil.Error:
            return False
    if os.name == "nt":  # os.kill would terminate the process there; without psutil, unknown
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    return False


def _process_tags() -> dict:
    """Who runs this: pid and host, plus the pid namespace where there is one.

    Two containers may share a hostname and a store; a pid means something only inside its
    own namespace, so a run is judged only by a process that sees the same one.
    """
    tags = {"bankml.pid": str(os.getpid()), "bankml.host": socket.gethostname()}
    with contextlib.suppress(OSError, AttributeError):
        tags["bankml.pidns"] = os.readlink("/proc/self/ns/pid")
    return tags


def _fail_dead_runs(client, experiment_id) -> list[str]:
    """Mark FAILED the runs of this experiment left RUNNING by a dead process of this host."""
    me = _process_tags()
    gone = []
    runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'",
                              max_results=1000)
    for run in runs:
        tags = run.data.tags
        pid = tags.get("bankml.pid", "")
        same_place = (tags.get("bankml.host") == me["bankml.host"]
                      and tags.get("bankml.pidns") == me.get("bankml.pidns"))
        if not same_place or not pid.isdigit() or int(pid) == os.getpid():
            continue  # another machine's, not bankml's, or ours: nothing can be known
        if _process_gone(int(pid), run.info.start_time):
            client.set_tag(run.info.run_id, "bankml.recovered", "dead process")
            client.set_terminated(run.info.run_id, status="FAILED")
            gone.append(run.info.run_id)
    return gone


#: Modules whose types a logged bankml model may hold; skops refuses anything else on load.
_TRUSTED_MODULES = ("sklearn.", "bankml.", "numpy.", "scipy.", "builtins.", "collections.")


def _skops_trusted_types(model):
    """The types to trust when MLflow reloads ``model`` with skops, or None if skops can't.

    skops (MLflow's default) loads without running pickled code, but only types named as
    trusted; we name exactly the types this model holds, and only from reviewed modules.
    """
    try:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    except Exception:  # skops cannot represent some object: fall back to cloudpickle
        return None
    if any(not t.startswith(_TRUSTED_MODULES) for t in untrusted):
        return None
    return list(untrusted)


@dataclasses.dataclass(frozen=True)
class ChampionComparison:
    """Candidate vs the current ``@champion``, both scored on the same test customers.

    Attributes
    ----------
    decision : {"promote", "keep", "no_champion", "refused"}
        "promote" only when the candidate's AUC is strictly higher (a tie keeps the champion);
        "refused" when the test set cannot support a comparison or the features differ.
    reason : str
        One sentence saying why.
    candidate_auc, champion_auc : float or None
        On these rows; None when not computed.
    n_test, n_positives, n_negatives : int
    champion_version : int or None
    """

    decision: str
    reason: str
    candidate_auc: float | None
    champion_auc: float | None
    n_test: int
    n_positives: int
    champion_version: int | None = None
    n_negatives: int = 0

    def metrics(self) -> dict:
        """The comparison as MLflow metrics (those computed)."""
        out = {"candidate.auc": self.candidate_auc, "champion.auc_same_rows": self.champion_auc,
               "comparison.n_test": self.n_test, "comparison.n_positives": self.n_positives,
               "comparison.n_negatives": self.n_negatives}
        return {k: float(v) for k, v in out.items() if v is not None}

    def tags(self) -> dict:
        """The comparison as MLflow tags."""
        return {"bankml.champion.decision": self.decision,
                "bankml.champion.reason": self.reason[:5000],
                "bankml.champion.version": "" if self.champion_version is None
                else str(self.champion_version)}


_DECISIONS = ("promote", "keep", "no_champion", "refused")


def _positive_scores(model, X, who: str) -> np.ndarray:
    """The probability of the larger class (scikit-learn's positive label)."""
    proba = np.asarray(model.predict_proba(X))
    if proba.ndim != 2 or proba.shape[0] != len(X):
        raise TrackingError(f"the {who}'s predict_proba returned shape {proba.shape}, "
                            f"expected ({len(X)}, n_classes)")
    return proba[:, -1].astype(float)


def _champion_version(client, name):
    """The ``@champion`` version of ``name``, or None when the model or alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc).lower():
            return None
        raise


def _champion_features(name, version):
    from mlflow.models import get_model_info

    sig = get_model_info(f"models:/{name}/{version}").signature
    if sig is None or sig.inputs is None:
        return None
    return list(sig.inputs.input_names())


def _load_champion(name, version):
    """The champion as logged by :meth:`RunTracker.log_model`: scikit-learn flavour, else pyfunc."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    uri = f"models:/{name}/{version}"
    try:
        return mlflow.sklearn.load_model(uri)
    except MlflowException as exc:
        if "flavor" not in str(exc).lower():
            raise
    pyfunc = mlflow.pyfunc.load_model(uri)

    class _Proba:  # pyfunc's predict is the logged method, predict_proba
        def predict_proba(self, X):
            return np.asarray(pyfunc.predict(X))
    return _Proba()


def _same_label(a, b) -> bool:
    numbers = (int, float, np.number, np.bool_)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return bool(a == b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _positive_labels(y_test, n_rows: int, classes) -> np.ndarray:
    """True where ``y_test`` is the positive class: the candidate's last class (scikit-learn's)."""
    y = y_test if isinstance(y_test, pd.Series) else pd.Series(np.asarray(y_test, dtype=object)
                                                                .ravel())
    if len(y) != n_rows:
        raise DataError(f"y_test has {len(y)} values but X_test has {n_rows} rows")
    missing = np.flatnonzero(y.isna().to_numpy())
    if len(missing):
        raise DataError(f"y_test has missing labels at row positions "
                        f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}")
    values = list(pd.unique(y))
    if len(values) > 2:
        raise DataError(f"y_test must hold two classes for an AUC, got {len(values)}: "
                        f"{sorted(map(repr, values))[:5]}")
    if classes is None or len(classes) != 2:
        raise DataError(f"the candidate must be a fitted binary classifier (classes_ of length "
                        f"2), got classes_ {None if classes is None else list(classes)}")
    # 1 and '1' are different labels: matching by equality would count them silently wrong
    unknown = [v for v in values if not any(_same_label(v, c) for c in classes)]
    if unknown:
        rows = np.flatnonzero(y.isin(unknown).to_numpy())[:5]
        raise DataError(f"y_test holds labels {unknown[:3]!r} that are not the candidate's "
                        f"classes {list(classes)!r} (row positions {', '.join(map(str, rows))})")
    return (y == classes[-1]).to_numpy(dtype=bool)


def _auc(model, X, is_pos, who, error):
    """AUC of ``model``'s positive-class scores on ``X``; a model that cannot score is
    ``error(reason)`` (the caller says whose fault it is), a TrackingError passes as it is."""
    from sklearn.metrics import roc_auc_score

    try:
        return float(roc_auc_score(is_pos, _positive_scores(model, X, who)))
    except TrackingError:
        raise
    except Exception as exc:
        raise error(f"{type(exc).__name__}: {str(exc)[:300]}") from exc


def compare_with_champion(name, candidate, X_test, y_test, *, features, min_positives,
                          tracking_uri=None) -> ChampionComparison:
    """Score the current ``@champion`` of ``name`` on the candidate's test rows and compare.

    Parameters
    ----------
    name : str
        Registered model name.
    candidate : fitted estimator or Pipeline
        Has ``predict_proba``; the last column is the positive class.
    X_test : DataFrame
        The candidate's test customers (raw columns; at least ``features``).
    y_test : array-like of shape (n_rows,)
        Binary labels; the larger value is the positive class.
    features : list of str
        The candidate's input columns.
    min_positives : int >= 1
        Fewer positives (or negatives) than this in ``y_test``: "refused", no promotion.
    tracking_uri : str, optional

    Returns
    -------
    ChampionComparison
        Record it with :func:`register_and_promote` (or log ``.metrics()``/``.tags()``).

    Raises
    ------
    TrackingError
        The champion exists but cannot be loaded or cannot score these rows.
    DataError
        ``X_test`` lacks a feature, or ``y_test`` is not binary / does not match ``X_test``.
    """
    from mlflow import MlflowClient

    if isinstance(min_positives, bool) or not isinstance(min_positives, (int, np.integer)) \
            or min_positives < 1:
        raise ConfigError(f"min_positives must be an integer >= 1, got {min_positives!r}")
    if isinstance(features, str) or not all(isinstance(f, str) for f in features):
        raise DataError(f"features must be a list of column names, got {features!r}"[:300])
    features = list(features)
    if not isinstance(X_test, pd.DataFrame):
        raise DataError(f"X_test must be a DataFrame with the raw columns, got "
                        f"{type(X_test).__name__}")
    missing = [f for f in features if f not in X_test.columns]
    if missing:
        raise DataError(f"X_test lacks the candidate's feature columns {missing}")
    is_pos = _positive_labels(y_test, len(X_test), getattr(candidate, "classes_", None))
    n_pos, n = int(is_pos.sum()), len(is_pos)
    n_neg = n - n_pos
    counts = dict(n_test=n, n_positives=n_pos, n_negatives=n_neg)
    cand_auc = None
    if n_pos and n_neg:
        cand_auc = _auc(candidate, X_test[features], is_pos, "candidate",
                        lambda why: DataError(f"the candidate cannot score X_test: {why}"))
    if n_pos < min_positives or n_neg < min_positives:
        return ChampionComparison(
            "refused", f"the test set has {n_pos} positives and {n_neg} negatives in {n} rows; "
            f"at least {min_positives} of each are needed to compare models", cand_auc, None,
            **counts)

    uri = prepare_store(tracking_uri)
    client = MlflowClient(uri)
    with _mlflow_errors(uri, f"cannot look up the champion of {name!r}"):
        mv = _champion_version(client, name)
    if mv is None:
        return ChampionComparison("no_champion", f"{name!r} has no @champion yet", cand_auc,
                                  None, **counts)
    version = int(mv.version)
    try:
        champ_feats = _champion_features(name, version)
        champion = _load_champion(name, version)
    except Exception as exc:
        raise TrackingError(
            f"the champion of {name!r} (version {version}) cannot be loaded, so the candidate "
            f"cannot be compared: {type(exc).__name__}: {str(exc)[:300]}; fix or delete that "
            "version, or remove its @champion alias") from exc
    if champ_feats is None:
        champ_feats = list(getattr(champion, "feature_names_in_", []) or [])
    if sorted(champ_feats) != sorted(features):
        only_c = sorted(set(features) - set(champ_feats))
        only_h = sorted(set(champ_feats) - set(features))
        return ChampionComparison(
            "refused", f"the champion (version {version}) uses other input features: "
            f"candidate only {only_c}, champion only {only_h}", cand_auc, None,
            champion_version=version, **counts)
    champ_auc = _auc(champion, X_test[champ_feats], is_pos, "champion",
                     lambda why: TrackingError(f"the champion of {name!r} (version {version}) "
                                               f"cannot score the test rows: {why}"))
    if cand_auc > champ_auc:
        decision, word = "promote", "beats"
    else:
        decision, word = "keep", "does not beat"
    return ChampionComparison(
        decision, f"on the same {n} test rows ({n_pos} positives) the candidate's AUC "
        f"{cand_auc:.4f} {word} the champion's (version {version}) {champ_auc:.4f}",
        cand_auc, champ_auc, champion_version=version, **counts)


def register_and_promote(model_uri: str, name: str, comparison: ChampionComparison, run_id: str,
                         tracking_uri=None) -> dict:
    """Register a FINISHED run's model as ``@candidate``; move ``@champion`` if it won.

    Call it after the run ended. ``@champion`` moves only when ``comparison.decision`` is
    "promote" or "no_champion" and the champion is still the one compared against (a run
    that promoted in between wins). The comparison is recorded on the run (metrics
    ``candidate.auc``, ``champion.auc_same_rows``, tags ``bankml.champion.*``).

    Returns
    -------
    dict
        ``version``, ``promoted`` (bool), ``previous_champion`` (version or None),
        ``previous_auc`` (the champion's AUC on the same rows, or None), ``decision`` and
        ``reason``.

    Raises
    ------
    TrackingError
        The run is not FINISHED (nothing registered), or registering failed: the run is then
        marked FAILED and a half-made version deleted, so every version points at a
        FINISHED run.
    """
    from mlflow import MlflowClient

    if not isinstance(comparison, ChampionComparison) or comparison.decision not in _DECISIONS:
        raise TrackingError("register_and_promote needs the ChampionComparison returned by "
                            f"compare_with_champion, got {type(comparison).__name__}")
    uri = prepare_store(tracking_uri)
    client = MlflowClient(uri)
    with _mlflow_errors(uri, f"cannot read run {run_id}"):
        status = client.get_run(run_id).info.status
    if status != "FINISHED":
        raise TrackingError(f"run {run_id} is {status}, not FINISHED: nothing was registered "
                            f"under {name!r}")
    state = {"mv": None, "new_model": False, "candidate": None}
    try:
        result = _register(client, uri, model_uri, name, comparison, run_id, state)
    except BaseException as exc:
        _undo_registration(client, name, run_id, state, exc)
        if not isinstance(exc, Exception):
            raise
        raise TrackingError(
            f"registering run {run_id} as {name!r} failed; the run is marked FAILED and no "
            f"version was left behind: {type(exc).__name__}: {str(exc)[:300]}") from exc
    return result


def _register(client, uri, model_uri, name, comparison, run_id, state) -> dict:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        state["new_model"] = True
    if not state["new_model"]:
        with contextlib.suppress(MlflowException):
            state["candidate"] = client.get_model_version_by_alias(name, CANDIDATE).version
    mlflow.set_tracking_uri(uri)
    mv = mlflow.register_model(model_uri, name)
    state["mv"] = mv
    if mv.run_id and mv.run_id != run_id:
        raise TrackingError(f"{model_uri} was logged by run {mv.run_id}, not by run {run_id}")
    for key, value in comparison.metrics().items():
        client.log_metric(run_id, key, value)
    for key, value in comparison.tags().items():
        client.set_tag(run_id, key, value)
    if comparison.candidate_auc is not None:
        # repr round-trips the float exactly
        client.set_model_version_tag(name, mv.version, AUC_TAG, repr(comparison.candidate_auc))
    client.set_model_version_tag(name, mv.version, "bankml.champion.decision", comparison.decision)
    client.set_registered_model_alias(name, CANDIDATE, mv.version)
    current = _champion_version(client, name)
    current_v = int(current.version) if current is not None else None
    decision, reason = comparison.decision, comparison.reason
    promoted = decision in ("promote", "no_champion") and current_v == comparison.champion_version
    if decision in ("promote", "no_champion") and not promoted:
        decision, reason = "keep", (f"the champion changed to version {current_v} after the "
                                    "comparison; compare again")
        client.set_tag(run_id, "bankml.champion.decision", decision)
        client.set_tag(run_id, "bankml.champion.reason", reason)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, mv.version)
    return {"version": int(mv.version), "promoted": promoted,
            "previous_champion": current_v, "previous_auc": comparison.champion_auc,
            "decision": decision, "reason": reason}


def _undo_registration(client, name, run_id, state, exc) -> None:
    """Leave no version pointing at a run that did not end well; every step best effort."""
    mv = state["mv"]
    if mv is not None:
        with contextlib.suppress(Exception):
            client.delete_model_version(name, mv.version)
        if state["candidate"] is not None:
            with contextlib.suppress(Exception):
                client.set_registered_model_alias(name, CANDIDATE, state["candidate"])
    if state["new_model"]:
        with contextlib.suppress(Exception):
            if not client.search_model_versions(f"name = '{name}'"):
                client.delete_registered_model(name)
    with contextlib.suppress(Exception):
        client.set_tag(run_id, "bankml.error", f"registration: {type(exc).__name__}")
        client.set_terminated(run_id, status="FAILED")
