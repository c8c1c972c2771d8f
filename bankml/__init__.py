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
    "StarPolicy": "bankml.stars",
    "StarScorer": "bankml.stars",
    "InfoGainTreeClassifier": "bankml.tree",
    "ConceptHierarchyBinner": "bankml.tree",
    "RuleSet": "bankml.rules",
    "mine_rules": "bankml.association",
    "CustomerSegmenter": "bankml.segment",
    "load_model": "bankml.persistence",
    "save_model": "bankml.persistence",
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
