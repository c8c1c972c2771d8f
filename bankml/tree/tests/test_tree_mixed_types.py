"""Issue 12.11 (tree side): a category column mixing 1 and '1' (or bools and text) is refused."""

import numpy as np
import pandas as pd
import pytest

from bankml.errors import DataError
from bankml.tree import InfoGainTreeClassifier


def _frame(values):
    return pd.DataFrame({"code": pd.Series(values, dtype=object), "x": np.arange(len(values), dtype=float)})


def test_ints_and_numeric_strings_refused_at_fit_with_positions():
    X = _frame(["1", "2", "1", 1, "2", 2, "1", "2"])
    X.index = [f"C{i}" for i in range(8)][::-1]  # labels must not appear, positions must
    with pytest.raises(DataError) as err:
        InfoGainTreeClassifier().fit(X, [0, 1] * 4)
    msg = str(err.value)
    assert "'code'" in msg and "str" in msg and "number" in msg
    assert "rows [0, 1, 2, 4, 6]" in msg and "rows [3, 5]" in msg
    assert "C7" not in msg


def test_refused_at_fit_even_when_zero_weight_rows_are_dropped():
    X = _frame(["a", "b", "a", 1, "b", "a"])
    with pytest.raises(DataError, match=r"rows \[3\] hold number"):
        InfoGainTreeClassifier().fit(X, [0, 1, 0, 1, 0, 1], sample_weight=[1, 1, 1, 0, 1, 1])


def test_bools_and_text_refused():
    with pytest.raises(DataError, match="mixes bool and str"):
        InfoGainTreeClassifier().fit(_frame([True, "yes", False, "no"]), [0, 1, 0, 1])


def test_refused_at_predict_with_positions():
    model = InfoGainTreeClassifier().fit(_frame(["1", "2", "1", "2"]), [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"'code' mixes str and number.*rows \[2\] hold number"):
        model.predict(_frame(["1", "2", 1, "2"]))


@pytest.mark.parametrize("cell", [{"a": 1}, [1, 2]])
def test_unhashable_cells_refused_with_positions(cell):
    # hostile T18: a column of dicts (or lists) ended in pandas' "unhashable type" TypeError
    X = _frame(["a", "b", cell, "a"])
    X.index = ["C3", "C2", "C1", "C0"]
    with pytest.raises(DataError, match=r"'code': rows \[2\] hold (dict|list) values") as err:
        InfoGainTreeClassifier().fit(X, [0, 1, 0, 1])
    assert "C1" not in str(err.value)
    model = InfoGainTreeClassifier().fit(_frame(["a", "b", "a", "b"]), [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"rows \[0\] hold"):
        model.predict(_frame([cell, "b", "a", "b"]))


def test_categorical_dtype_with_mixed_categories_refused():
    X = pd.DataFrame({"code": pd.Categorical([1, "1", 2, "2"]), "x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="'code' mixes"):
        InfoGainTreeClassifier().fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("values", [
    ["a", None, "b", np.nan],          # text with missing values
    [1, 2, None, 2.5],                 # numbers of two Python types are one kind
    [True, False, None, True],
])
def test_one_kind_with_missing_values_is_fine(values):
    y = [0, 1, 0, 1]
    model = InfoGainTreeClassifier(min_samples_split=2).fit(_frame(values), y)
    assert model.predict(_frame(values)).shape == (4,)


def test_bool_columns_stay_numeric_flags():
    """Moving to bankml._dtypes.is_categorical_dtype keeps bool (and nullable boolean) columns
    as 0/1 numbers split by one threshold, as before."""
    X = pd.DataFrame({"flag": pd.array([True, False, True, None] * 5, dtype="boolean"),
                      "b": np.array([True, False] * 10)})
    model = InfoGainTreeClassifier().fit(X, [1, 0, 1, 0] * 5)
    assert not model.categorical_features_.any()


def test_unhashable_values_refused_at_fit_with_positions():
    # hostile T18: a column of dicts ended in pandas' "unhashable type" TypeError
    X = _frame([{"a": 1}, {"b": 2}, {"a": 1}, {"c": 3}])
    X.index = ["C9", "C8", "C7", "C6"]
    with pytest.raises(DataError, match=r"'code'.*rows \[0, 1, 2, 3\].*cannot be categories") as err:
        InfoGainTreeClassifier().fit(X, [0, 1, 0, 1])
    assert "C9" not in str(err.value)
    model = InfoGainTreeClassifier().fit(_frame(["a", "b", "a", "b"]), [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"'code'.*rows \[0, 1, 2\].*cannot be categories"):
        model.predict(_frame([{"b": 2}, {"a": 1}, {"c": 3}]))
