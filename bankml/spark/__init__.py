"""The Spark path: bankml's jobs on Spark DataFrames, for a whole bank.

The same policy, rules and models as the pandas path, run inside Spark so that the two give
the same answers (``pip install "bankml[spark]"``).
"""

from ._aggregate import aggregate_half_year, rate_months
from ._score import predict_rules, score_stars
from ._segment import assign_segments, fit_segments
from ._tree import fit_tree, leaf_column, proba_column

__all__ = ["score_stars", "predict_rules"]
__all__ += ["aggregate_half_year", "rate_months", "fit_segments", "assign_segments"]
__all__ += ["fit_tree", "leaf_column", "proba_column"]
