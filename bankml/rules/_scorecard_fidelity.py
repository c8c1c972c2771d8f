"""The fidelity gate for a Scorecard: every engine's total points must equal the model's,
row by row (integers, so equal totals rank exactly as the model's probabilities)."""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pandas as pd

from ..errors import BankmlError, DataError
from ._fidelity import (_TABLE, FidelityReport, _available, _duckdb_frame, _id_column, _records,
                        _sqlite_value)
from ._scorecard_export import sc_from_json, sc_json, sc_python, sc_sql
from ._scorecard_model import Scorecard

__all__ = ["check_scorecard_fidelity"]


def _engine_predict(sc, X):
    return sc.total_points(X).tolist()


def _engine_json(sc, X):
    return sc_from_json(sc_json(sc, 2)).total_points(X).tolist()


def _engine_python(sc, X):
    ns = {}
    exec(compile(sc_python(sc, "score"), "<bankml scorecard>", "exec"), ns)
    return [ns["score"](row) for row in _records(X)]


def _sql_points(rows, n):
    out = [None] * n
    for pos, pts in rows:
        out[int(pos)] = pts
    return out


def _engine_sqlite(sc, X):
    missing = [f for f in sc.features if f not in set(map(str, X.columns))]
    if missing:
        raise DataError(f"no such column(s) in the table: {missing[:5]}")
    idc = _id_column(X)
    names = [idc, *map(str, X.columns)]
    q = lambda n: '"' + n.replace('"', '""') + '"'  # noqa: E731
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"CREATE TABLE {_TABLE} ({', '.join(q(n) for n in names)})")
        records = _records(X)
        cols = list(X.columns)
        con.executemany(f"INSERT INTO {_TABLE} VALUES ({', '.join('?' * len(names))})",
                        ([i, *(_sqlite_value(r[c]) for c in cols)] for i, r in enumerate(records)))
        rows = con.execute(sc_sql(sc, _TABLE, idc, "sqlite")).fetchall()
    finally:
        con.close()
    return _sql_points(rows, len(X))


def _engine_duckdb(sc, X):
    import duckdb
    idc = _id_column(X)
    con = duckdb.connect(":memory:")
    try:
        con.register("bankml_source", _duckdb_frame(X, idc))
        con.execute(f"CREATE TABLE {_TABLE} AS SELECT * FROM bankml_source")
        rows = con.execute(sc_sql(sc, _TABLE, idc, "duckdb")).fetchall()
    finally:
        con.close()
    return _sql_points(rows, len(X))


_RUN = {"predict": _engine_predict, "json": _engine_json, "python": _engine_python,
        "sqlite": _engine_sqlite, "duckdb": _engine_duckdb}


def _model_points(sc, model, X):
    """The model's integer totals, or (a model without them) its probabilities."""
    try:
        if hasattr(model, "total_points"):
            return np.asarray(model.total_points(X)), True
        return np.asarray(model.predict_proba(X))[:, 1], False
    except BankmlError:
        raise
    except Exception as exc:  # noqa: BLE001 -- the model's own complaint, worded for the gate
        raise DataError(f"check_fidelity: the model cannot score these rows "
                        f"({type(exc).__name__}: {exc}); pass the raw columns it was fitted "
                        "on") from exc


def check_scorecard_fidelity(sc: Scorecard, model, X, engines) -> FidelityReport:
    """See :func:`bankml.rules.check_fidelity`: totals compared exactly (integers); for a
    model without ``total_points`` the scorecard's probability is compared with the model's
    ``predict_proba`` to a relative 1e-9."""
    if isinstance(engines, str):
        engines = (engines,)
    engines = tuple(engines)
    if not engines or any(e not in _RUN for e in engines):
        from ..errors import InvalidParameterError   # a setting (errors.py's rule)
        raise InvalidParameterError(f"engines must be a non-empty selection of {list(_RUN)}, "
                                    f"got {list(engines)}")
    if not isinstance(sc, Scorecard):
        raise DataError(f"expected a bankml.rules.Scorecard, got {type(sc).__name__}")
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"check_fidelity needs the raw columns as a pandas DataFrame, got "
                        f"{type(X).__name__}")
    if len(X) == 0:
        raise DataError("check_fidelity got 0 rows: an empty check proves nothing")
    if X.columns.has_duplicates:
        dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise DataError(f"check_fidelity: X has duplicated columns {dup}")
    expected, exact = _model_points(sc, model, X)
    if len(expected) != len(X):
        raise DataError(f"the model returned {len(expected)} scores for {len(X)} rows")
    frame = X.reset_index(drop=True)
    a, c = sc.calibration
    mismatches, skipped, errors, first = {}, {}, {}, None
    for engine in engines:
        reason = _available(engine)
        if reason:
            skipped[engine] = reason
            warnings.warn(f"check_fidelity: engine {engine!r} not checked: {reason}",
                          RuntimeWarning, stacklevel=3)
            continue
        try:
            got = _RUN[engine](sc, frame)
        except Exception as exc:  # noqa: BLE001 -- any failure is a fidelity failure, reported
            errors[engine] = f"{type(exc).__name__}: {exc}"
            mismatches[engine] = len(frame)
            if first is None:
                first = {"engine": engine, "row": 0, "rule_id": None, "expected": None,
                         "got": None, "error": errors[engine]}
            continue
        if exact:
            bad = [i for i, (e, g) in enumerate(zip(expected, got))
                   if g is None or int(g) != g or int(g) != int(e)]
        else:
            prob = [None if g is None else 1.0 / (1.0 + np.exp(-(a * float(g) + c))) for g in got]
            bad = [i for i, (e, p) in enumerate(zip(expected, prob))
                   if p is None or abs(p - e) > 1e-9 * max(1.0, abs(e))]
        mismatches[engine] = len(bad)
        if bad and first is None:
            i = bad[0]
            first = {"engine": engine, "row": i, "rule_id": None,
                     "expected": expected[i].item(), "got": got[i]}
    return FidelityReport(n_rows=len(frame), mismatches=mismatches, first_difference=first,
                          skipped=skipped, errors=errors)
