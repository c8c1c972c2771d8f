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
