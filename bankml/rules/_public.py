"""The public exporters and fidelity gate of :mod:`bankml.rules`, each accepting a RuleSet or
a Scorecard: one spelling per operation, whatever the rules are.

A thin type switch over ``_export``/``_fidelity`` (RuleSet) and ``_scorecard_export``/
``_scorecard_fidelity`` (Scorecard), kept here so neither family imports the other.
"""

from __future__ import annotations

from ..labels import DEFAULT_LANG
from . import _export, _fidelity, _scorecard_export, _scorecard_fidelity
from ._scorecard_model import Scorecard

__all__ = ["to_text", "to_markdown", "to_frame", "to_csv", "to_json", "from_json", "to_sql",
           "to_python", "to_html", "check_fidelity"]

_NOTE = "\n    A :class:`~bankml.rules.Scorecard` is accepted too (base points, then one line per rule).\n"


def _doc(original, note=_NOTE):
    def deco(fn):
        fn.__doc__ = (original.__doc__ or "") + note
        return fn
    return deco


@_doc(_export.to_text)
def to_text(ruleset, lang=DEFAULT_LANG, labels=None) -> str:
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_text(ruleset, lang, labels)
    return _export.to_text(ruleset, lang, labels)


@_doc(_export.to_markdown)
def to_markdown(ruleset, lang=DEFAULT_LANG, labels=None) -> str:
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_markdown(ruleset, lang, labels)
    return _export.to_markdown(ruleset, lang, labels)


@_doc(_export.to_frame, "\n    A Scorecard gives ``rule_id, conditions, points, n_conditions, coverage``.\n")
def to_frame(ruleset, lang=DEFAULT_LANG, labels=None):
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_frame(ruleset, lang, labels)
    return _export.to_frame(ruleset, lang, labels)


@_doc(_export.to_csv, "\n    A Scorecard is written as :func:`to_frame` gives it.\n")
def to_csv(ruleset, path=None, lang=DEFAULT_LANG, labels=None):
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_frame(ruleset, lang, labels).to_csv(
            path, index=False, lineterminator="\r\n")
    return _export.to_csv(ruleset, path, lang, labels)


@_doc(_export.to_json, "\n    A Scorecard is written as a ``bankml.scorecard/1`` document.\n")
def to_json(ruleset, indent=2) -> str:
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_json(ruleset, indent)
    return _export.to_json(ruleset, indent)


@_doc(_export.from_json, "\n    A ``bankml.scorecard/1`` document gives back its Scorecard, checked field "
      "by field the same way.\n")
def from_json(text):
    doc = _export._load_doc(text)
    if isinstance(doc, dict) and doc.get("format") == _scorecard_export.JSON_FORMAT:
        return _scorecard_export.sc_from_doc(doc)
    return _export.from_json(text)  # the text as given: its own errors name the document


@_doc(_export.to_sql, "\n    A Scorecard gives ``id_column, points``: its base points plus one "
      "``CASE WHEN <rule> THEN <points> ELSE 0 END`` term per rule.\n")
def to_sql(ruleset, table, id_column, dialect="ansi") -> str:
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_sql(ruleset, table, id_column, dialect)
    return _export.to_sql(ruleset, table, id_column, dialect)


@_doc(_export.to_python, "\n    A Scorecard gives ``score(row)`` (integer points; ``function_name`` "
      "other than the default names it) and ``score_proba(row)``.\n")
def to_python(ruleset, function_name="predict") -> str:
    if isinstance(ruleset, Scorecard):
        name = "score" if function_name == "predict" else function_name
        return _scorecard_export.sc_python(ruleset, name)
    return _export.to_python(ruleset, function_name)


@_doc(_export.to_html, "\n    A Scorecard gives a points sheet (``evidence_rows`` is not used).\n")
def to_html(ruleset, title=None, lang=DEFAULT_LANG, labels=None, model_version=None, date=None,
            evidence_rows=None) -> str:
    if isinstance(ruleset, Scorecard):
        return _scorecard_export.sc_html(ruleset, title, lang, labels, model_version, date)
    return _export.to_html(ruleset, title, lang, labels, model_version, date, evidence_rows)


@_doc(_fidelity.check_fidelity, "\n    A Scorecard is always checked on its integer total points: "
      "each engine's total equals ``model.total_points`` on every row (for a model without "
      "them, the scorecard's probability equals ``predict_proba`` to a relative 1e-9).\n")
def check_fidelity(ruleset, model, X, *, engines=_fidelity.ENGINES, on=None):
    if isinstance(ruleset, Scorecard):
        return _scorecard_fidelity.check_scorecard_fidelity(ruleset, model, X, engines)
    return _fidelity.check_fidelity(ruleset, model, X, engines=engines, on=on)
