"""TEMPORARY bridges to interfaces other slices are landing in this sprint.

Every name here is looked up at call time in its real home (``bankml.rules``,
``bankml.tracking``, ``bankml.persistence``); the fallback below each one runs ONLY while that
home lacks the agreed name. TODO(integrator): once rules/tracking/persistence are merged,
replace each function by a direct import and delete this module.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FidelityError, PublishError


# ------------------------------------------------------------------ bankml.rules
def _rules():
    from .. import rules

    return rules


def new_rules_api() -> bool:
    """True when ``bankml.rules`` has the agreed free functions (rules on RAW columns)."""
    r = _rules()
    return all(hasattr(r, n) for n in ("rules_from_pipeline", "check_fidelity", "with_evidence",
                                        "to_text", "to_sql", "to_html", "to_markdown", "to_csv"))


def rules_input(model, X):
    """The columns the rules test: RAW with the new API; the fallback's rules test bands."""
    return X if new_rules_api() else model[:-1].transform(X)


def rules_from_pipeline(model, target, label_column):
    r = _rules()
    if new_rules_api():
        return r.rules_from_pipeline(model, target=target, label_column=label_column)
    # fallback: rules on the binner's output (band labels), as before this sprint
    return r.RuleSet.from_tree(model[-1], target=target, label_column=label_column)


def simplify(rs):
    return _rules().simplify(rs)


def with_evidence(rs, X, y):
    r = _rules()
    return r.with_evidence(rs, X, y) if hasattr(r, "with_evidence") else rs.with_evidence(X, y)


def evaluate(rs, X, y):
    return _rules().evaluate(rs, X, y)


def export(kind: str, rs, *args, **kwargs):
    """``bankml.rules.to_<kind>(rs, ...)``, or the old method of the same name."""
    r = _rules()
    fn = getattr(r, f"to_{kind}", None)
    if fn is not None and new_rules_api():
        return fn(rs, *args, **kwargs)
    if kind == "csv":
        return rs.to_frame().to_csv(args[0], index=False)
    return getattr(rs, f"to_{kind}")(*args, **kwargs)


@dataclass(frozen=True)
class _Fidelity:
    """Fallback FidelityReport: only the "predict" engine (RuleSet.predict vs the model)."""

    n_rows: int
    mismatches: dict
    first_difference: dict | None

    @property
    def ok(self) -> bool:
        return not any(self.mismatches.values())

    def raise_for_mismatch(self) -> None:
        if not self.ok:
            d = self.first_difference
            raise FidelityError(
                f"the rules disagree with the model on {self.mismatches['predict']:,} of "
                f"{self.n_rows:,} test customers (engine predict; first at row position "
                f"{d['row']}, rule {d['rule_id']})")


def check_fidelity(rs, model, X):
    r = _rules()
    if new_rules_api():
        return r.check_fidelity(rs, model, X)
    want = np.asarray(model.predict(X))
    Xr = rules_input(model, X)
    got = np.asarray(rs.predict(Xr))
    bad = np.flatnonzero(got != want)
    first = None
    if bad.size:
        fired = np.asarray(rs.apply(Xr))
        first = {"engine": "predict", "row": int(bad[0]), "rule_id": int(fired[bad[0]])}
    return _Fidelity(len(want), {"predict": int(bad.size)}, first)


# ------------------------------------------------------------------ bankml.tracking
@dataclass(frozen=True)
class _Comparison:
    """Fallback ChampionComparison: judged by the champion's recorded AUC, as before."""

    decision: str
    reason: str
    candidate_auc: float
    champion_auc: float | None
    n_test: int
    n_positives: int
    champion_version: int | None


def compare_with_champion(name, model, X_test, y_test, *, features, min_positives,
                          tracking_uri):
    from .. import tracking

    if hasattr(tracking, "compare_with_champion"):
        return tracking.compare_with_champion(name, model, X_test, y_test, features=features,
                                              min_positives=min_positives,
                                              tracking_uri=tracking_uri)
    from mlflow import MlflowClient
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y_test)
    auc = float(roc_auc_score(y, model.predict_proba(X_test)[:, 1]))
    mv, champ_auc = tracking._champion_auc(MlflowClient(tracking_uri), name)
    common = dict(candidate_auc=auc, champion_auc=champ_auc, n_test=len(y),
                  n_positives=int((y == 1).sum()),
                  champion_version=None if mv is None else int(mv.version))
    if mv is None:
        return _Comparison("no_champion", "no @champion yet", **common)
    if champ_auc is None or auc > champ_auc:
        return _Comparison("promote", "higher test AUC than @champion's recorded AUC", **common)
    return _Comparison("keep", "test AUC not above @champion's recorded AUC", **common)


def register_and_promote(model_uri, name, comparison, run_id, tracking_uri):
    """Register after the run FINISHED; a failure marks the run FAILED (the agreed contract)."""
    from .. import tracking

    fn = tracking.register_and_promote
    if "comparison" in inspect.signature(fn).parameters:
        return fn(model_uri, name, comparison, run_id, tracking_uri=tracking_uri)
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    try:
        if comparison.decision in ("promote", "no_champion"):
            return fn(model_uri, name, comparison.candidate_auc, tracking_uri)
        # keep / refused: @candidate only; @champion does not move
        mlflow.set_tracking_uri(tracking_uri)
        mv = mlflow.register_model(model_uri, name)
        client.set_registered_model_alias(name, tracking.CANDIDATE, mv.version)
        return {"version": int(mv.version), "promoted": False,
                "previous_champion": comparison.champion_version,
                "previous_auc": comparison.champion_auc}
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise


# ------------------------------------------------------------------ bankml.persistence
def check_output_dir(path) -> Path:
    from .. import persistence

    if hasattr(persistence, "check_output_dir"):
        return persistence.check_output_dir(path)
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise PublishError(f"output folder {path}: {p} is a file, not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise PublishError(f"output folder {path}: {p} is not writable")
            break
    return path
