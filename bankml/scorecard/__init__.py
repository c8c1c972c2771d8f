"""Rule scorecards: an additive points model over a small set of IF-THEN rules.

:class:`RuleScorecardClassifier` is the estimator; its plain-data form and exports
(``scorecard_from_model``, ``to_text``, ``to_sql`` ...) live in :mod:`bankml.rules`.
"""

from ._classes import RuleScorecardClassifier

__all__ = ["RuleScorecardClassifier"]
