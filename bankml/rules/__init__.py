"""IF-THEN rules from bankml models: conversion, simplification, evidence and export.

A branch runs rules, a SQL query or a printed sheet, never a pickled model.

``RuleSet`` is plain data (rules, default, classes, label column, feature names, units,
weighted or not, provenance) that can ``predict``/``apply`` itself; everything else is a
free function here, one spelling per operation:

- converters: :func:`rules_from_tree` (a bankml or scikit-learn tree),
  :func:`rules_from_pipeline` (a fitted Pipeline: rules on the raw columns),
  :func:`rules_from_association`;
- :func:`check_fidelity`: the exports (SQL, Python, JSON) against the model, row by row;
- :func:`simplify` (lossless), :func:`generalize` (lossy, reported), :func:`evaluate`,
  :func:`with_evidence` (and :func:`evaluate_counts` / :func:`with_evaluation` from rows
  counted elsewhere, e.g. in Spark);
- :class:`Scorecard` / :func:`scorecard_from_model`: a RuleScorecardClassifier as plain
  data (base points + "IF ... add N points"); every exporter below and
  :func:`check_fidelity` accept it too;
- exporters: :func:`to_text`, :func:`to_markdown`, :func:`to_frame`, :func:`to_csv`,
  :func:`to_json` / :func:`from_json`, :func:`to_sql`, :func:`to_python`, :func:`to_html`.
"""

from ._evaluate import evaluate, evaluate_counts, with_evaluation, with_evidence
from ._export import format_number
from ._extract import rules_from_association
from ._fidelity import FidelityReport
from ._public import (check_fidelity, from_json, to_csv, to_frame, to_html, to_json, to_markdown,
                      to_python, to_sql, to_text)
from ._model import Condition, Rule, RuleSet
from ._pipeline import rules_from_pipeline, rules_from_tree
from ._scorecard_model import Scorecard, ScoreRule, scorecard_from_model
from ._simplify import generalize, simplify

__all__ = ["Condition", "Rule", "RuleSet", "rules_from_tree", "rules_from_pipeline",
           "rules_from_association", "check_fidelity", "FidelityReport",
           "simplify", "generalize", "evaluate", "evaluate_counts", "with_evidence",
           "with_evaluation", "to_text", "to_markdown",
           "to_frame", "to_csv", "to_json", "from_json", "to_sql", "to_python", "to_html",
           "format_number", "Scorecard", "ScoreRule", "scorecard_from_model"]
