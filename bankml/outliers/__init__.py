"""Outlier analysis (DOMAIN.md 2, step 5): per-account thresholds and score-based detectors.

All detectors share one base (pyod style), so one can be swapped for another.
"""

from ._base import BaseDetector
from ._score import IsolationForestDetector, LocalOutlierDetector
from ._threshold import ThresholdDetector

__all__ = ["BaseDetector", "ThresholdDetector", "IsolationForestDetector", "LocalOutlierDetector"]
