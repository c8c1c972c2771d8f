"""The main job: the config-driven WM-propensity pipeline, every run tracked in MLflow.

:func:`run` chains small stages (data, stars, split, models, evaluation, rules and their
fidelity gate, cross-sell, segments, outliers, plots), each returning a frozen dataclass,
then registers the model and publishes its files only if it became ``@champion``.
"""

from ._data import DataResult, DataSource
from ._plots import Plots, make_plots
from ._publish import Published, Staging, remove_stale_staging
from ._run import STAGE_NAMES, main, run
from ._stages import (BOOSTING, SKLEARN, STARS, TREE, CrossSell, Evaluation, FittedModels, Outliers,
                      RulesResult, Segments, Split, StageUnavailable, check_rules_fidelity,
                      evaluate, evaluate_models, extract_rules, features, fit_boosting,
                      fit_sklearn_tree,
                      fit_star_baseline, fit_tree, flag_outliers, load_data, mine_cross_sell,
                      score_stars, segment_customers, split_customers)
from ._summary import PipelineResult, StageRecord, StageStatus
from ._summary import TargetsResult
from ._next_best import NextBest, next_best_product

__all__ = ["run", "main", "PipelineResult", "StageStatus", "StageRecord", "StageUnavailable",
           "STAGE_NAMES", "DataSource", "DataResult", "Split", "FittedModels", "Evaluation",
           "RulesResult", "CrossSell", "Segments", "Outliers", "Plots", "Staging", "Published",
           "remove_stale_staging", "load_data", "score_stars", "split_customers", "fit_tree",
           "fit_sklearn_tree", "fit_star_baseline", "evaluate", "evaluate_models",
           "extract_rules", "check_rules_fidelity", "mine_cross_sell", "segment_customers",
           "flag_outliers", "make_plots", "features", "TREE", "SKLEARN", "STARS", "BOOSTING",
           "fit_boosting"]
__all__ += ["TargetsResult", "NextBest", "next_best_product"]

# issue 14: encoding detection for CSV sources
from ._data import detect_encoding  # noqa: E402

__all__ += ["detect_encoding"]

# issue 14: the monthly scoring job (`bankml score`)
from ._score import BATCH_ROWS, ScoreResult, score  # noqa: E402

__all__ += ["score", "ScoreResult", "BATCH_ROWS"]
