"""IF-THEN rules from bankml models: conversion, simplification, evidence and export.

A branch runs rules, a SQL query or a printed sheet, never a pickled model.

``RuleSet`` is plain data (rules, default, classes, label column, feature names, units,
weighted or not, provenance) that can ``predict``/``apply`` itself; everything else is a
free function here, one spelling per operation:

- converters: :func:`rules_from_tree` (a bankml or scikit-learn tree, or a fitted
  Pipeline), :func:`rules_from_association`;
- :func:`simplify` (lossless), :func:`generalize` (lossy, reported), :func:`evaluate`,
  :func:`with_evidence`;
- exporters: :func:`to_text`, :func:`to_markdown`, :func:`to_frame`, :func:`to_csv`,
  :func:`to_json` / :func:`from_json`, :func:`to_sql`, :func:`to_python`, :func:`to_html`.
"""

from ._evaluate import evaluate, with_evidence
from ._export import (format_number, from_json, to_csv, to_frame, to_html, to_json, to_markdown,
                      to_python, to_sql, to_text)
from ._extract import rules_from_association, rules_from_tree
from ._model import Condition, Rule, RuleSet
from ._simplify import generalize, simplify

__all__ = ["Condition", "Rule", "RuleSet", "rules_from_tree", "rules_from_association",
           "simplify", "generalize", "evaluate", "with_evidence", "to_text", "to_markdown",
           "to_frame", "to_csv", "to_json", "from_json", "to_sql", "to_python", "to_html",
           "format_number"]

# Slice RULES-FIDELITY adds, in rules/_pipeline.py and rules/_fidelity.py (the integrator
# appends these lines and the names to __all__ when merging):
#   from ._pipeline import rules_from_pipeline
#   from ._fidelity import FidelityReport, check_fidelity
