"""Customer segments (k-means / k-prototypes) and concept description (t- and d-weights)."""

from ._concept import characterize, concept_text, discriminate
from ._segmenter import CustomerSegmenter

__all__ = ["CustomerSegmenter", "characterize", "discriminate", "concept_text"]
