"""Information-gain decision trees (ID3 / C4.5) and concept-hierarchy binning."""

from ._hierarchy import ConceptHierarchyBinner, band_labels

__all__ = ["ConceptHierarchyBinner", "band_labels"]
