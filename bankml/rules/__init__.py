"""IF-THEN rules from bankml models: extraction, simplification, evidence and export.

A branch runs rules, a SQL query or a printed sheet, never a pickled model.
"""

from ._evaluate import evaluate
from ._export import format_number
from ._extract import rules_from_association, rules_from_tree
from ._model import Condition, Rule, RuleSet
from ._simplify import generalize, simplify

__all__ = ["Condition", "Rule", "RuleSet", "rules_from_tree", "rules_from_association", "simplify", "generalize",
           "evaluate", "format_number"]
