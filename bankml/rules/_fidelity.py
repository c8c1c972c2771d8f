"""The fidelity gate: every way a branch can run the rules must equal the model, row by row.

RuleSet.predict, the JSON round trip, the generated Python, SQL in SQLite and in DuckDB are
each run on the same raw rows and compared with ``model.predict``; nothing is published otherwise.
"""

from __future__ import annotations

import numbers
import sqlite3
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import BankmlError, DataError, FidelityError
from ._model import RuleSet
from ._export import from_json, to_json, to_python, to_sql
from ._rate import rule_scores

__all__ = ["check_fidelity", "FidelityReport", "ENGINES"]

#: Every engine :func:`check_fidelity` knows, in the order it runs them.
ENGINES = ("predict", "json", "python", "sqlite", "duckdb")

_TABLE = "bankml_fidelity"


@dataclass
class FidelityReport:
    """How many rows each engine predicts differently from the model.

    Attributes
    ----------
    n_rows : int
        Rows compared.
    mismatches : dict of str -> int
        Engine name -> number of rows whose prediction differs from ``model.predict``.
    first_difference : dict or None
        The first differing row of the first engine with a difference: ``engine``,
        ``row`` (0-based POSITION in ``X``), ``rule_id`` (the rule that fired in that
        engine, None for the default), ``expected`` (the model's) and ``got``; when the
        engine failed outright, ``error`` holds its message (and ``row`` is 0).
    skipped : dict of str -> str
        Engines that could not run here (e.g. DuckDB not installed), with the reason.
    errors : dict of str -> str
        Engines that failed on these rows; every row counts as a mismatch.
    """

    n_rows: int
    mismatches: dict
    first_difference: dict | None = None
    skipped: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every engine that ran equals the model on every row."""
        return not any(self.mismatches.values())

    def raise_for_mismatch(self) -> None:
        """Raise :class:`~bankml.errors.FidelityError` unless :attr:`ok`."""
        if self.ok:
            return
        raise FidelityError(self._message())

    def _message(self) -> str:
        bad = {e: n for e, n in self.mismatches.items() if n}
        counts = ", ".join(f"{e} {n:,} of {self.n_rows:,} rows" for e, n in bad.items())
        text = f"the rules disagree with the model: {counts}"
        d = self.first_difference
        if d is not None and d.get("error"):
            text += f"; engine {d['engine']} failed: {d['error']}"
        elif d is not None:
            rule = "the default" if d["rule_id"] is None else f"rule {d['rule_id']}"
            text += (f"; first difference: engine {d['engine']}, row position {d['row']}, "
                     f"{rule} gives {d['got']!r} where the model gives {d['expected']!r}")
        for e, msg in self.errors.items():
            if d is None or d["engine"] != e:
                text += f"; engine {e} failed: {msg}"
        return text

    def __str__(self):
        if self.ok:
            text = (f"fidelity ok: {', '.join(self.mismatches)} equal the model on all "
                    f"{self.n_rows:,} rows")
        else:
            text = "fidelity FAILED: " + self._message()
        if self.skipped:
            text += "; not checked: " + "; ".join(f"{e} ({r})" for e, r in self.skipped.items())
        return text


# -- comparing labels --------------------------------------------------------------------------
def _kind(v):
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (str, np.str_)):
        return "str"
    if isinstance(v, numbers.Number):
        return "number"
    return None if v is None else type(v).__name__


def _same(expected, got) -> bool:
    """Labels match when equal AND of one kind: 1 == 1.0 (SQL engines may return either for a
    numeric class), but '1' != 1 and True != 1 (a different label to whoever reads it)."""
    if got is None or (isinstance(got, float) and got != got):
        return expected is None
    return _kind(expected) == _kind(got) and expected == got


def _scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def _count(expected, got, rule_ids):
    bad = [i for i, (e, g) in enumerate(zip(expected, got)) if not _same(e, g)]
    first = None
    if bad:
        i = bad[0]
        first = {"row": i, "rule_id": _scalar(rule_ids[i]), "expected": expected[i],
                 "got": _scalar(got[i])}
    return len(bad), first


# -- the engines -------------------------------------------------------------------------------
def _rule_ids(ruleset, X):
    idx = np.asarray(ruleset.apply(X))
    ids = [r.rule_id for r in ruleset.rules]
    return [None if i < 0 else ids[i] for i in idx]


def _carried_scores(ruleset, rule_ids):
    """The score each row gets from the rule set's own record (rules by rate only)."""
    rated = rule_scores(ruleset)
    if rated is None:
        return None
    scores, default_rate = rated
    return [default_rate if r is None else scores.get(r) for r in rule_ids]


def _engine_predict(ruleset, X):
    ids = _rule_ids(ruleset, X)
    return list(map(_scalar, ruleset.predict(X))), ids, _carried_scores(ruleset, ids)


def _engine_json(ruleset, X):
    # a real round trip: the text a branch would receive, parsed again
    twin = from_json(to_json(ruleset))
    ids = _rule_ids(twin, X)
    return list(map(_scalar, twin.predict(X))), ids, _carried_scores(twin, ids)


def _records(X):
    """Rows as dicts of plain Python values; missing values are None."""
    cols = {}
    for name in X.columns:
        s = X[name]
        values = s.astype(object).to_numpy()
        missing = s.isna().to_numpy()
        cols[name] = [None if m else _scalar(v) for v, m in zip(values, missing)]
    names = list(X.columns)
    return [dict(zip(names, row)) for row in zip(*(cols[n] for n in names))] if names else \
        [{} for _ in range(len(X))]


def _engine_python(ruleset, X):
    namespace = {}
    exec(compile(to_python(ruleset, function_name="predict"), "<bankml rules>", "exec"), namespace)
    fn = namespace["predict"]
    records = _records(X)
    out = [fn(row, return_rule=True) for row in records]
    score = namespace.get("predict_score")
    scores = None if score is None else [score(row) for row in records]
    return [p for p, _ in out], [r for _, r in out], scores


def _id_column(X):
    name = "bankml_row_position"
    while name in X.columns:
        name += "_"
    return name


def _sql_rows(rows, n):
    preds, ids, scores = [None] * n, [None] * n, [None] * n
    rated = False
    for pos, pred, rid, *score in rows:
        preds[int(pos)] = pred
        ids[int(pos)] = rid
        if score:  # rules by rate carry a fourth column, the score
            scores[int(pos)] = score[0]
            rated = True
    return preds, ids, (scores if rated else None)


def _engine_sqlite(ruleset, X):
    # SQLite reads a double-quoted name that is no column as a string literal ("educaton"
    # = 'educaton'), so a rule on a missing column would run and answer; refuse it here
    missing = [f for f in ruleset.features if f not in set(map(str, X.columns))]
    if missing:
        raise DataError(f"no such column(s) in the table: {missing[:5]} (SQLite would read "
                        "a double-quoted missing column as text and still answer)")
    idc = _id_column(X)
    names = [idc, *map(str, X.columns)]
    q = lambda n: '"' + n.replace('"', '""') + '"'  # noqa: E731
    con = sqlite3.connect(":memory:")
    try:
        # no declared types: SQLite keeps each value as given (1 stays INTEGER, '1' TEXT)
        con.execute(f"CREATE TABLE {_TABLE} ({', '.join(q(n) for n in names)})")
        records = _records(X)
        cols = list(X.columns)
        con.executemany(f"INSERT INTO {_TABLE} VALUES ({', '.join('?' * len(names))})",
                        ([i, *(_sqlite_value(r[c]) for c in cols)] for i, r in enumerate(records)))
        rows = con.execute(to_sql(ruleset, _TABLE, idc, dialect="sqlite")).fetchall()
    finally:
        con.close()
    return _sql_rows(rows, len(X))


def _sqlite_value(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)


def _duckdb_frame(X, idc):
    """X with dtypes DuckDB reads unambiguously: numbers stay numbers, text stays text."""
    out = {idc: np.arange(len(X), dtype=np.int64)}
    for name in X.columns:
        s = X[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            s = s.astype(cats.dtype if pd.api.types.is_numeric_dtype(cats.dtype) and
                         not pd.api.types.is_integer_dtype(cats.dtype) else object)
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            out[str(name)] = s.to_numpy() if not s.hasnans else s.astype(
                "Float64" if pd.api.types.is_float_dtype(s.dtype) else
                "boolean" if pd.api.types.is_bool_dtype(s.dtype) else "Int64")
        else:
            obj = s.astype(object).where(s.notna(), None)
            out[str(name)] = pd.array([_scalar(v) for v in obj], dtype=object)
    return pd.DataFrame(out)


def _engine_duckdb(ruleset, X):
    import duckdb
    idc = _id_column(X)
    frame = _duckdb_frame(X, idc)
    con = duckdb.connect(":memory:")
    try:
        con.register("bankml_source", frame)
        con.execute(f"CREATE TABLE {_TABLE} AS SELECT * FROM bankml_source")
        rows = con.execute(to_sql(ruleset, _TABLE, idc, dialect="duckdb")).fetchall()
    finally:
        con.close()
    return _sql_rows(rows, len(X))


_RUN = {"predict": _engine_predict, "json": _engine_json, "python": _engine_python,
        "sqlite": _engine_sqlite, "duckdb": _engine_duckdb}


def _available(engine):
    if engine == "duckdb":
        try:
            import duckdb  # noqa: F401
        except ImportError:
            return "the duckdb package is not installed"
    return None


#: Relative tolerance of the score check: the rules carry the leaf's score as a float64
#: literal, the model recomputes it from the same counts.
SCORE_RTOL = 1e-9


def _close(a, b) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= SCORE_RTOL * max(
        1.0, abs(float(b)))


def _model_scores(ruleset, model, X):
    """The model's probability of the rule set's target for every row."""
    target = ruleset.provenance["rate_rules"].get("target")
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"check_fidelity(on='score') needs a model with predict_proba, got "
                        f"{type(model).__name__}")
    classes = [_scalar(c) for c in getattr(model, "classes_", [])]
    if target not in classes:
        raise DataError(f"check_fidelity(on='score'): the rules' target {target!r} is not one "
                        f"of the model's classes {classes}")
    try:
        proba = np.asarray(model.predict_proba(X), dtype=float)
    except BankmlError:
        raise
    except Exception as exc:  # noqa: BLE001 -- the model's own complaint, worded for the gate
        raise DataError(f"check_fidelity: the model cannot score these rows "
                        f"({type(exc).__name__}: {exc}); pass the raw columns it was fitted "
                        "on") from exc
    return proba[:, classes.index(target)]


def _count_scores(ruleset, expected, got, rule_ids):
    """Rows whose rule carries a score other than the model's, or that no rule covers
    although the model scores them as high as a rule's customers (the ranking broke)."""
    scores, default_rate = rule_scores(ruleset)
    floor = min(scores.values()) if scores else np.inf
    bad = []
    for i, (e, rid) in enumerate(zip(expected, rule_ids)):
        g = None if got is None else got[i]
        if rid is None:
            ok = e < floor * (1 - SCORE_RTOL) and (
                default_rate is None and g is None or _close(g, default_rate))
        else:
            ok = _close(g, e)
        if not ok:
            bad.append(i)
    first = None
    if bad:
        i = bad[0]
        first = {"row": i, "rule_id": _scalar(rule_ids[i]), "expected": float(expected[i]),
                 "got": None if got is None else _scalar(got[i])}
    return len(bad), first


def check_fidelity(ruleset, model, X, *, engines=ENGINES, on=None) -> FidelityReport:
    """Run the rules in every engine on ``X`` and count rows that differ from ``model.predict``.

    Parameters
    ----------
    ruleset : RuleSet
    model : fitted estimator or Pipeline
        What the rules must reproduce: ``model.predict(X)`` is the truth.
    X : DataFrame
        The RAW columns a branch has (the pipeline's input, not its bands or codes). Loaded
        into SQL with an id column of row POSITIONS; differences name positions too.
    engines : sequence of str
        Any of ``"predict"`` (RuleSet.predict), ``"json"`` (to_json -> from_json ->
        predict), ``"python"`` (to_python, executed in a fresh namespace), ``"sqlite"`` and
        ``"duckdb"`` (to_sql in an in-memory database). DuckDB is optional: without it the
        engine is listed in ``skipped`` and a warning is issued, never counted as passed.
    on : {"class", "score"}, optional
        What must be equal. ``"class"``: each engine's prediction equals ``model.predict``.
        ``"score"`` (rules BY RATE, ``rules_from_tree(..., min_lift=...)``; the default for
        them): on every row covered by a rule, the score that engine carries for the rule
        equals the model's ``predict_proba`` for the target (to a relative 1e-9), and every
        row no rule covers scores strictly below every rule's score and gets the other
        customers' rate: sorting by the exported score ranks customers as the model does.


    Returns
    -------
    FidelityReport
        Labels compare by value within a kind: ``1 == 1.0`` (SQL may return either for a
        numeric class), but ``'1' != 1`` and ``True != 1``: the model's ``classes_`` decide.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from bankml.rules import rules_from_tree
    >>> X = pd.DataFrame({"age": [20, 30, 60, 70], "deposit": [100, 3000, 3000, 200]})
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    >>> report = check_fidelity(rules_from_tree(tree), tree, X, engines=("predict", "sqlite"))
    >>> report.ok, report.mismatches
    (True, {'predict': 0, 'sqlite': 0})
    """
    rated = rule_scores(ruleset) if isinstance(ruleset, RuleSet) else None
    if on is None:
        on = "class" if rated is None else "score"
    if on not in ("class", "score"):
        from ..errors import InvalidParameterError
        raise InvalidParameterError(f"The 'on' parameter of check_fidelity must be 'class' or "
                                    f"'score', got {on!r}")
    if on == "score" and rated is None:
        from ..errors import InvalidParameterError
        raise InvalidParameterError("check_fidelity(on='score') needs rules by rate "
                                    "(rules_from_tree(..., min_lift=... or top_fraction=...)); "
                                    "these rules carry no scores")
    if isinstance(engines, str):
        engines = (engines,)
    engines = tuple(engines)
    unknown = [e for e in engines if e not in _RUN]
    if unknown or not engines:
        from ..errors import InvalidParameterError   # a setting (errors.py's rule)
        raise InvalidParameterError(f"engines must be a non-empty selection of {list(ENGINES)}, "
                                    f"got {list(engines)}")
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"check_fidelity needs the raw columns as a pandas DataFrame, got "
                        f"{type(X).__name__}")
    if len(X) == 0:
        raise DataError("check_fidelity got 0 rows: an empty check proves nothing")
    if X.columns.has_duplicates:
        dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise DataError(f"check_fidelity: X has duplicated columns {dup}")
    if not hasattr(model, "predict"):
        raise TypeError(f"model must be a fitted estimator with predict, got {type(model).__name__}")
    if on == "score":
        return _check_scores(ruleset, model, X, engines)
    try:
        predicted = model.predict(X)
    except BankmlError:
        raise
    except Exception as exc:  # noqa: BLE001 -- the model's own complaint, worded for the gate
        raise DataError(f"check_fidelity: the model cannot predict these rows "
                        f"({type(exc).__name__}: {exc}); pass the raw columns it was fitted "
                        "on") from exc
    expected = [_scalar(v) for v in np.asarray(predicted, dtype=object)]
    if len(expected) != len(X):
        raise DataError(f"model.predict returned {len(expected)} predictions for {len(X)} rows")
    frame = X.reset_index(drop=True)

    mismatches, skipped, errors, first = {}, {}, {}, None
    for engine in engines:
        reason = _available(engine)
        if reason:
            skipped[engine] = reason
            warnings.warn(f"check_fidelity: engine {engine!r} not checked: {reason}",
                          RuntimeWarning, stacklevel=2)
            continue
        try:
            got, rule_ids, _ = _RUN[engine](ruleset, frame)
        except Exception as exc:  # noqa: BLE001 -- any failure is a fidelity failure, reported
            errors[engine] = f"{type(exc).__name__}: {exc}"
            mismatches[engine] = len(frame)
            if first is None:
                first = {"engine": engine, "row": 0, "rule_id": None,
                         "expected": expected[0], "got": None, "error": errors[engine]}
            continue
        n_bad, diff = _count(expected, got, rule_ids)
        mismatches[engine] = n_bad
        if diff is not None and first is None:
            first = {"engine": engine, **diff}
    return FidelityReport(n_rows=len(frame), mismatches=mismatches, first_difference=first,
                          skipped=skipped, errors=errors)


def _check_scores(ruleset, model, X, engines) -> FidelityReport:
    """check_fidelity(on="score"): the same engines, compared on the ranking."""
    expected = _model_scores(ruleset, model, X)
    if len(expected) != len(X):
        raise DataError(f"model.predict_proba returned {len(expected)} rows for {len(X)} rows")
    frame = X.reset_index(drop=True)
    mismatches, skipped, errors, first = {}, {}, {}, None
    for engine in engines:
        reason = _available(engine)
        if reason:
            skipped[engine] = reason
            warnings.warn(f"check_fidelity: engine {engine!r} not checked: {reason}",
                          RuntimeWarning, stacklevel=3)
            continue
        try:
            _, rule_ids, got = _RUN[engine](ruleset, frame)
        except Exception as exc:  # noqa: BLE001 -- any failure is a fidelity failure, reported
            errors[engine] = f"{type(exc).__name__}: {exc}"
            mismatches[engine] = len(frame)
            if first is None:
                first = {"engine": engine, "row": 0, "rule_id": None,
                         "expected": float(expected[0]), "got": None, "error": errors[engine]}
            continue
        n_bad, diff = _count_scores(ruleset, expected, got, rule_ids)
        mismatches[engine] = n_bad
        if diff is not None and first is None:
            first = {"engine": engine, **diff}
    return FidelityReport(n_rows=len(frame), mismatches=mismatches, first_difference=first,
                          skipped=skipped, errors=errors)
