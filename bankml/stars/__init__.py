"""The bank's rule-based star rating (DOMAIN.md section 1): policy, scorer, raw-data
aggregation and a scikit-learn baseline classifier that ranks customers by star points.
"""

from ._aggregate import (BALANCE_COLUMNS, TRANSACTION_COLUMNS, aggregate_half_year, rate_months,
                         window_of)
from ._baseline import StarBaselineClassifier
from ._policy import NOT_RATED, QUASI_STAR, STAR_LEVELS, StarPolicy
from ._scorer import AUDIT_COLUMNS, MANUAL_COLUMNS, ServiceStars, StarScorer

__all__ = ["StarPolicy", "StarScorer", "StarBaselineClassifier", "aggregate_half_year",
           "rate_months", "window_of", "ServiceStars", "STAR_LEVELS", "QUASI_STAR", "NOT_RATED",
           "MANUAL_COLUMNS", "AUDIT_COLUMNS", "BALANCE_COLUMNS", "TRANSACTION_COLUMNS"]
