"""ConceptHierarchyBinner: the paper's bands, right-closed, usable in a Pipeline."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from bankml.errors import DataError
from bankml.tree import ConceptHierarchyBinner, band_labels


def test_paper_bands_are_right_closed():
    X = pd.DataFrame({"age": [18, 30, 30.5, 55, 56, np.nan], "deposit": [0, 500, 501, 2500, 2501, 1]})
    out = ConceptHierarchyBinner({"age": [30, 55], "deposit": [500, 2500]}).fit_transform(X)
    assert out["age"].tolist()[:5] == ["<=30", "<=30", "30-55", "30-55", ">55"]
    assert pd.isna(out["age"].iloc[5])
    assert out["deposit"].tolist()[:5] == ["<=500", "<=500", "500-2500", "500-2500", ">2500"]
    assert out["age"].cat.ordered and list(out["age"].cat.categories) == band_labels([30, 55])


def test_keep_original_and_passthrough():
    X = pd.DataFrame({"age": [20, 60], "city": ["a", "b"]})
    b = ConceptHierarchyBinner({"age": [30]}, keep_original=True).fit(X)
    out = b.transform(X)
    assert list(out.columns) == ["age", "city", "age_band"]
    assert out["age"].tolist() == [20, 60] and out["city"].tolist() == ["a", "b"]
    assert list(b.get_feature_names_out()) == ["age", "city", "age_band"]


def test_custom_labels_and_clone():
    b = ConceptHierarchyBinner({"age": [30, 55]}, labels={"age": ["young", "middle", "senior"]})
    out = clone(b).fit_transform(pd.DataFrame({"age": [10, 40, 70]}))
    assert out["age"].tolist() == ["young", "middle", "senior"]


@pytest.mark.parametrize("bands, match", [
    ({"age": [55, 30]}, "strictly increasing"),
    ({"age": []}, "strictly increasing"),
    ({"nope": [1]}, "not in the data"),
    ({}, "at least one column"),
    ({"city": [1]}, "must be numeric"),
])
def test_bad_bands(bands, match):
    X = pd.DataFrame({"age": [20, 60], "city": ["a", "b"]})
    with pytest.raises(DataError, match=match):
        ConceptHierarchyBinner(bands).fit(X)


def test_wrong_label_count_and_numpy_input():
    X = pd.DataFrame({"age": [20, 60]})
    with pytest.raises(DataError, match="needs 3 distinct labels"):
        ConceptHierarchyBinner({"age": [30, 55]}, labels={"age": ["a", "b"]}).fit(X)
    with pytest.raises(DataError, match="DataFrame"):
        ConceptHierarchyBinner({"age": [30]}).fit(np.array([[1.0]]))


def test_band_intervals_say_the_exact_cuts_and_convention():
    X = pd.DataFrame({"age": [18, 30, 31, 60], "deposit": [1.0, 2.0, 3.0, 4.0]})
    b = ConceptHierarchyBinner({"age": [30, 55], "deposit": [1234567.891]}).fit(X)
    assert b.band_intervals("deposit") == [("<=1.23e+06", -np.inf, 1234567.891),
                                           (">1.23e+06", 1234567.891, np.inf)]
    out = b.transform(X)["age"].tolist()
    # every value lies in the band whose (low, high] holds it
    for v, band in zip(X["age"], out):
        (low, high), = [(lo, hi) for lab, lo, hi in b.band_intervals("age") if lab == band]
        assert low < v <= high
    assert list(b.cuts_) == ["age", "deposit"] and b.band_labels_["age"] == band_labels([30, 55])
    with pytest.raises(KeyError, match="does not band"):
        b.band_intervals("city")


def test_keep_original_refuses_to_overwrite_a_column():
    X = pd.DataFrame({"age": [20, 60], "age_band": ["x", "y"]})
    with pytest.raises(DataError, match="age_band"):
        ConceptHierarchyBinner({"age": [30]}, keep_original=True).fit(X)
