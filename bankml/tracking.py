"""MLflow tracking for bankml runs: where the store is, what a run logs, how models are promoted.

A run logs the config as params, metrics, artifacts and the model (signature plus a synthetic
input example, never real rows); registration happens only after every stage succeeded.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from .config import flatten_config

__all__ = ["DEFAULT_TRACKING_URI", "resolve_tracking_uri", "synthetic_input_example",
           "RunTracker", "register_and_promote", "CANDIDATE", "CHAMPION"]

#: The embedded store, in the working directory, used when nothing else is configured.
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
CANDIDATE = "candidate"
CHAMPION = "champion"
#: Model-version tag holding the test AUC a champion is judged by.
AUC_TAG = "test_auc"
_MAX_PARAM = 6000  # MLflow's limit on a param value


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The tracking URI: ``uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``.

    The default sqlite path is made absolute (the working directory at call time), so a later
    ``chdir`` does not move the store.

    Examples
    --------
    >>> resolve_tracking_uri("sqlite:////tmp/x.db")
    'sqlite:////tmp/x.db'
    """
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    if uri == DEFAULT_TRACKING_URI:
        uri = "sqlite:///" + str(Path.cwd() / "mlflow.db")
    return uri


def _artifact_root(uri: str) -> str | None:
    """Artifacts beside a sqlite file (MLflow would put them under the current directory)."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        return (db.parent / "mlartifacts").resolve().as_uri()
    return None


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


class RunTracker:
    """One MLflow run as a context manager; an exception inside marks the run FAILED.

    Time spent in MLflow calls is summed in ``seconds`` (to report MLflow's share of a run).

    Parameters
    ----------
    experiment : str
        Experiment name (created, with artifacts beside a sqlite store, if missing).
    tracking_uri : str, optional
        See :func:`resolve_tracking_uri`.
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
        self.seconds = 0.0
        self._mlflow = None

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self):
        t0 = time.perf_counter()
        import mlflow

        self._mlflow = mlflow
        mlflow.set_tracking_uri(self.tracking_uri)
        client = self.client
        exp = client.get_experiment_by_name(self.experiment)
        if exp is None:
            exp_id = client.create_experiment(self.experiment,
                                              artifact_location=_artifact_root(self.tracking_uri))
        else:
            exp_id = exp.experiment_id
        if mlflow.active_run() is not None:  # a notebook left one open
            mlflow.end_run()
        run = mlflow.start_run(experiment_id=exp_id, run_name=self.run_name,
                               tags={k: str(v) for k, v in self.tags.items()})
        self.run_id = run.info.run_id
        self.seconds += time.perf_counter() - t0
        return self

    def __exit__(self, exc_type, exc, tb):
        t0 = time.perf_counter()
        if exc_type is not None:
            # the error class only: a message could quote data
            self._mlflow.set_tag("bankml.error", exc_type.__name__)
            self._mlflow.end_run(status="FAILED")
        else:
            self._mlflow.end_run(status="FINISHED")
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


def _champion_auc(client, name):
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None, None
    auc = mv.tags.get(AUC_TAG)
    return mv, (float(auc) if auc is not None else None)


def register_and_promote(model_uri: str, name: str, test_auc: float, tracking_uri=None) -> dict:
    """Register ``model_uri`` under ``name`` as ``@candidate``; make it ``@champion`` if better.

    The new version becomes champion when there is no champion yet, or the champion's
    recorded test AUC is lower than ``test_auc`` (ties keep the current champion).

    Returns
    -------
    dict
        ``version``, ``promoted`` (bool), ``previous_champion`` (version or None) and
        ``previous_auc``.
    """
    import mlflow
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(tracking_uri)
    client = MlflowClient(uri)
    mlflow.set_tracking_uri(uri)
    mv = mlflow.register_model(model_uri, name)
    # repr round-trips the float exactly: a rounded tag would make a re-run of the same
    # model look strictly better than the champion it ties with
    client.set_model_version_tag(name, mv.version, AUC_TAG, repr(float(test_auc)))
    client.set_registered_model_alias(name, CANDIDATE, mv.version)
    champ, champ_auc = _champion_auc(client, name)
    promoted = champ is None or champ_auc is None or test_auc > champ_auc
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, mv.version)
    return {"version": int(mv.version), "promoted": promoted,
            "previous_champion": int(champ.version) if champ is not None else None,
            "previous_auc": champ_auc}
