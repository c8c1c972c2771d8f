import numpy as np
import pandas as pd
import pytest

from bankml.association import to_baskets, to_onehot, to_transactions
from bankml.datasets import make_customers
from bankml.errors import DataError
from bankml.schema import HOLDING_FLAGS


def test_holding_flags_become_items_and_match_the_table():
    df = make_customers(500, seed=3)
    tx = to_transactions(df)
    assert list(tx.columns) == list(HOLDING_FLAGS)
    assert tx.dtypes.eq(bool).all()
    assert tx.index.equals(df.index)
    np.testing.assert_array_equal(tx.to_numpy(), df[list(HOLDING_FLAGS)].to_numpy() == 1)


def test_banded_and_categorical_attributes_become_items():
    df = make_customers(300, seed=1)
    tx = to_transactions(df, items=["has_fund"], attributes=["gender"], bands={"age": [30, 55]})
    assert list(tx.columns) == ["has_fund", "gender=F", "gender=M", "age=<=30", "age=30-55", "age=>55"]
    age = df["age"].to_numpy()
    np.testing.assert_array_equal(tx["age=30-55"].to_numpy(), (age > 30) & (age <= 55))
    np.testing.assert_array_equal(tx["gender=F"].to_numpy(), (df["gender"] == "F").to_numpy())
    # every customer has exactly one age band and one gender
    assert (tx.filter(like="age=").sum(axis=1) == 1).all()


def test_star_level_with_few_values_needs_no_bands():
    df = pd.DataFrame({"has_fund": [1, 0, 1, 1], "star": [5, 3, 5, 7]})
    tx = to_transactions(df, attributes=["star"])
    assert list(tx.columns) == ["has_fund", "star=3", "star=5", "star=7"]
    assert to_baskets(tx)[1] == ["star=3"]


def test_onehot_and_baskets_round_trip():
    baskets = [["b", "a"], [], ["c"], ["a", "c", "b"]]
    onehot = to_onehot(baskets)
    assert list(onehot.columns) == ["a", "b", "c"]
    assert [sorted(b) for b in to_baskets(onehot)] == [sorted(b) for b in baskets]


@pytest.mark.parametrize("bad, match", [
    (pd.DataFrame({"has_fund": [1, 2, 0]}), r"has_fund.*values \['2'\]"),
    (pd.DataFrame({"has_fund": [1.0, np.nan, 0.0]}), "has_fund"),
    (pd.DataFrame({"has_fund": ["yes", "no", "no"]}), "dtype"),
    (pd.DataFrame({"has_fund": pd.Series([], dtype=int)}), "empty"),
    (pd.DataFrame([[1, 0]], columns=["has_fund", "has_fund"]), "duplicate column"),
])
def test_bad_tables_are_refused(bad, match):
    with pytest.raises(DataError, match=match):
        to_transactions(bad)


def test_missing_column_and_numeric_attribute_without_bands_are_refused():
    df = make_customers(200, seed=0)
    with pytest.raises(DataError, match="not in the table"):
        to_transactions(df, items=["has_yacht"])
    with pytest.raises(DataError, match="bands="):
        to_transactions(df, attributes=["short_term_assets"])


def test_basket_item_not_in_items_is_refused():
    with pytest.raises(DataError, match="'z'"):
        to_onehot([["a"], ["z"]], items=["a", "b"])
    with pytest.raises(DataError, match="basket 1"):
        to_onehot([["a"], "ab"])


def test_to_onehot_refuses_a_missing_item_label():
    with pytest.raises(DataError, match=r"missing item label .* position\(s\) \[1\]"):
        to_onehot([["has_fund"], ["has_gold", None]])
