"""bankml: bank customer-value analytics.

Star scorer baseline, information-gain trees, IF-THEN rules, cross-sell association rules,
segments, outliers and customer value, every run tracked in MLflow.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import BankmlError, SchemaError

# Public names are imported on first use, so `import bankml` stays fast and a missing
# optional dependency only matters to the feature that needs it.
_LAZY = {
    # star scorer: the rule-based baseline
    "StarPolicy": "bankml.stars",
    "StarScorer": "bankml.stars",
    "StarBaselineClassifier": "bankml.stars",
    "aggregate_half_year": "bankml.stars",
    "rate_months": "bankml.stars",
    # information-gain trees and the IF-THEN rules drawn from them
    "InfoGainTreeClassifier": "bankml.tree",
    "ConceptHierarchyBinner": "bankml.tree",
    "entropy": "bankml.tree",
    "information_gain": "bankml.tree",
    "gain_ratio": "bankml.tree",
    "RuleSet": "bankml.rules",
    "Rule": "bankml.rules",
    "Condition": "bankml.rules",
    "rules_from_tree": "bankml.rules",
    "rules_from_association": "bankml.rules",
    # cross-sell association rules
    "to_transactions": "bankml.association",
    "frequent_itemsets": "bankml.association",
    "mine_rules": "bankml.association",
    "recommend": "bankml.association",
    # segments, concept description, outliers, customer value
    "CustomerSegmenter": "bankml.segment",
    "characterize": "bankml.segment",
    "discriminate": "bankml.segment",
    "concept_text": "bankml.segment",
    "ThresholdDetector": "bankml.outliers",
    "IsolationForestDetector": "bankml.outliers",
    "LocalOutlierDetector": "bankml.outliers",
    "rfm": "bankml.value",
    "abc": "bankml.value",
    "customer_lifetime_value": "bankml.value",
    "pyramid": "bankml.value",
    # the main job, models on disk
    "load_config": "bankml.config",
    "config_file": "bankml.config",
    "run": "bankml.pipeline",
    "load_model": "bankml.persistence",
    "save_model": "bankml.persistence",
    # data
    "make_customers": "bankml.datasets",
    "load_seed_example": "bankml.datasets",
    "validate_customers": "bankml.schema",
}

__all__ = ["__version__", "BankmlError", "SchemaError", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bankml' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
