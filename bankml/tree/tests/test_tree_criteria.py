"""entropy / information_gain / gain_ratio against hand counts and random data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.errors import DataError
from bankml.tree import entropy, gain_ratio, information_gain


def test_entropy_hand_values():
    assert entropy([0, 0, 1, 1]) == pytest.approx(1.0)
    assert entropy(["a", "a", "a"]) == 0.0
    assert entropy([0, 1, 2, 3]) == pytest.approx(2.0)
    # weights act like repeated rows
    assert entropy([0, 1], sample_weight=[3, 1]) == pytest.approx(entropy([0, 0, 0, 1]))


def test_information_gain_hand_value():
    x = ["a", "a", "b", "b", "b", "b"]
    y = [1, 1, 0, 0, 0, 1]
    parent = entropy(y)
    expected = parent - (2 / 6 * 0.0 + 4 / 6 * entropy([0, 0, 0, 1]))
    assert information_gain(x, y) == pytest.approx(expected)
    split_info = entropy(x)
    assert gain_ratio(x, y) == pytest.approx(expected / split_info)


def test_missing_x_joins_heaviest_branch():
    x = np.array([1.0, 1.0, 1.0, 2.0, np.nan])
    y = [0, 0, 0, 1, 0]
    assert information_gain(x, y) == pytest.approx(information_gain([1, 1, 1, 2, 1], y))


def test_bad_inputs():
    with pytest.raises(DataError, match="missing"):
        entropy([0, None, 1])
    with pytest.raises(DataError, match="same length"):
        information_gain([1, 2], [0, 1, 1])
    with pytest.raises(DataError, match="non-negative"):
        entropy([0, 1], sample_weight=[1, -1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=60))
def test_gain_non_negative_and_ratio_in_unit_interval(rows):
    x, y, w = (np.array(c) for c in zip(*rows))
    g = information_gain(x, y, sample_weight=w)
    r = gain_ratio(x, y, sample_weight=w)
    assert g >= 0
    assert g <= entropy(y, sample_weight=w) + 1e-12
    assert 0 <= r <= 1


def test_missing_tie_breaks_like_the_tree():
    # three equally heavy values: missing joins the first in the tree's order (sorted /
    # category order), so the public functions and the fitted root agree
    import pandas as pd

    from bankml.tree import InfoGainTreeClassifier
    y = np.array([0, 1, 1, 0, 0])
    w = np.array([1.0, 1.0, 1.0, 0.5, 0.5])
    for x in (pd.Series(pd.array(["b", "a", None, "c", "c"], dtype="str")),
              pd.Series(["b", "a", None, "c", "c"], dtype=object),
              pd.Series(pd.Categorical(["b", "a", None, "c", "c"], categories=["c", "b", "a"]))):
        t = InfoGainTreeClassifier(max_depth=1).fit(x.to_frame("x"), y, sample_weight=w).tree_
        assert information_gain(x, y, sample_weight=w) == pytest.approx(t.gain[0])
        assert gain_ratio(x, y, sample_weight=w) == pytest.approx(t.gain[0] / t.split_info[0])
