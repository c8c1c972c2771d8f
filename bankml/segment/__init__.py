"""Customer segments (k-means / k-prototypes) and concept description (t- and d-weights)."""

from ._segmenter import CustomerSegmenter

__all__ = ["CustomerSegmenter"]
