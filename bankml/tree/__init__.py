"""Information-gain decision trees (ID3 / C4.5) and concept-hierarchy binning."""

from ._classes import InfoGainTreeClassifier
from ._criteria import entropy, gain_ratio, information_gain
from ._hierarchy import ConceptHierarchyBinner, band_labels
from ._html import export_html
from ._select import InfoGainTreeCV
from ._plot import export_text, plot_tree
from ._structure import Branch

__all__ = ["InfoGainTreeClassifier", "InfoGainTreeCV", "Branch", "entropy", "information_gain", "gain_ratio",
           "export_text", "export_html", "plot_tree", "ConceptHierarchyBinner", "band_labels"]
