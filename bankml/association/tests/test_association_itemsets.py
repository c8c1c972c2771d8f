import re
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from bankml.association import ENGINES, frequent_itemsets
from bankml.errors import (DataError, EngineNotAvailableError, InvalidParameterError,
                           ResourceLimitError)


def _brute_force(onehot, min_support, max_len=None):
    X = onehot.to_numpy()
    n, m = X.shape
    found = {}
    for k in range(1, (max_len or m) + 1):
        for combo in combinations(range(m), k):
            count = int(X[:, combo].all(axis=1).sum())
            if count / n >= min_support:
                found[frozenset(onehot.columns[list(combo)])] = count / n
    return found


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("min_support", [0.05, 0.2])
def test_every_engine_equals_brute_force_count(seed, min_support, random_onehot):
    onehot = random_onehot(seed, n=120, strength=0.4)
    expected = _brute_force(onehot, min_support)
    tables = {e: frequent_itemsets(onehot, min_support, engine=e) for e in ENGINES}
    for engine, table in tables.items():
        assert dict(zip(table["itemsets"], table["support"])) == expected, engine
        assert table["itemsets"].is_unique
    # not just the same sets: the same frame, row for row, bit for bit
    assert tables["apriori"].equals(tables["fpgrowth"])
    assert tables["fast"].equals(tables["fpgrowth"])


@pytest.mark.parametrize("engine", ENGINES)
def test_max_len_limits_size_on_every_engine(engine, random_onehot):
    onehot = random_onehot(11, n=120, strength=0.4)
    table = frequent_itemsets(onehot, 0.05, max_len=2, engine=engine)
    assert dict(zip(table["itemsets"], table["support"])) == _brute_force(onehot, 0.05, max_len=2)
    assert table["itemsets"].map(len).max() == 2


def test_support_exactly_at_threshold_is_kept_by_every_engine():
    # 3 of 10 baskets: 3 / 10 >= 0.3 must hold although 0.3 * 10 is 3.0000000000000004
    baskets = [["a", "b"]] * 3 + [["a"]] * 4 + [["c"]] * 3
    for engine in ENGINES:
        table = frequent_itemsets(baskets, 0.3, engine=engine)
        assert frozenset({"a", "b"}) in set(table["itemsets"]), engine


def test_order_is_size_then_support_then_items(random_onehot):
    onehot = random_onehot(2, n=120, strength=0.4)
    table = frequent_itemsets(onehot, 0.05)
    sizes = table["itemsets"].map(len).to_numpy()
    assert (np.diff(sizes) >= 0).all()
    for k in np.unique(sizes):
        assert (np.diff(table["support"].to_numpy()[sizes == k]) <= 0).all()


def test_baskets_and_01_frames_give_the_same_table(random_onehot):
    onehot = random_onehot(4, n=120, strength=0.4)
    baskets = [list(onehot.columns[row]) for row in onehot.to_numpy()]
    as_int = onehot.astype("int8")
    reference = frequent_itemsets(onehot, 0.1)
    assert frequent_itemsets(baskets, 0.1).equals(reference)
    assert frequent_itemsets(as_int, 0.1).equals(reference)


def test_nothing_frequent_gives_an_empty_table():
    table = frequent_itemsets([["a"], ["b"], ["c"]], 0.5, engine="fast")
    assert list(table.columns) == ["support", "itemsets"] and len(table) == 0


@pytest.mark.parametrize("support", [0, -0.1, 1.5, float("nan"), "0.1", True])
def test_support_outside_unit_interval_is_refused(support):
    with pytest.raises(InvalidParameterError, match="min_support"):
        frequent_itemsets([["a"], ["b"]], support)


def test_bad_transactions_are_refused():
    with pytest.raises(DataError, match="every basket is empty"):
        frequent_itemsets([[], []], 0.1)
    with pytest.raises(DataError, match="every basket is empty"):
        frequent_itemsets(pd.DataFrame({"a": [False, False]}), 0.1)
    with pytest.raises(DataError, match="no baskets"):
        frequent_itemsets([], 0.1)
    with pytest.raises(DataError, match="duplicate column"):
        frequent_itemsets(pd.DataFrame([[1, 0]], columns=["a", "a"]), 0.1)
    with pytest.raises(DataError, match=r"column 'b'.*values \['3'\]"):
        frequent_itemsets(pd.DataFrame({"a": [1, 0], "b": [3, 1]}), 0.1)
    with pytest.raises(DataError, match="column 'b'.*dtype"):
        frequent_itemsets(pd.DataFrame({"a": [1, 0], "b": ["x", "y"]}), 0.1)
    with pytest.raises(InvalidParameterError, match="max_len"):
        frequent_itemsets([["a"]], 0.1, max_len=0)


def test_unknown_engine_is_refused():
    with pytest.raises(InvalidParameterError, match="'eclat'"):
        frequent_itemsets([["a"]], 0.5, engine="eclat")


def test_missing_fast_engine_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fim", None)  # makes `import fim` fail
    with pytest.raises(EngineNotAvailableError, match="pip install"):
        frequent_itemsets([["a"]], 0.5, engine="fast")


def test_itemset_explosion_is_refused_up_front_with_a_remedy():
    rng = np.random.default_rng(0)
    dense = pd.DataFrame(rng.random((200, 30)) < 0.9, columns=[f"i{j}" for j in range(30)])
    with pytest.raises(ResourceLimitError, match=r"up to [\d,]+ frequent itemsets.*(min_support|max_len)="):
        frequent_itemsets(dense, 0.01, max_itemsets=100_000)
    # the bound is an upper bound: a small problem passes and matches brute force
    small = dense.iloc[:, :6]
    table = frequent_itemsets(small, 0.5, max_itemsets=63)
    assert len(table) <= 63



@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("min_support", [0.01, 0.05, 0.2])
@pytest.mark.parametrize("max_len", [None, 2])
def test_memory_guard_estimate_never_undercounts(seed, min_support, max_len, random_onehot):
    from bankml.association._itemsets import _estimate, _min_count
    from bankml.association._transactions import _as_tx

    onehot = random_onehot(seed, n=100, m=8, strength=0.8)
    tx = _as_tx(onehot)
    actual = len(_brute_force(onehot, min_support, max_len))
    estimate = _estimate(tx, _min_count(min_support, tx.n), max_len)
    assert actual <= estimate
    # refused exactly when the bound is above the limit; the suggested remedy then passes
    limit = max(1, actual - 1)
    if estimate > limit:
        with pytest.raises(ResourceLimitError, match=r"min_support=([\d.e-]+)") as err:
            frequent_itemsets(onehot, min_support, max_len=max_len, max_itemsets=limit)
        hint = float(re.search(r"Try min_support=([\d.e-]+)", str(err.value))[1])
        assert len(frequent_itemsets(onehot, hint, max_len=max_len, max_itemsets=limit)) <= limit

def test_fast_engine_on_plain_basket_lists_matches_the_checked_path(random_onehot):
    onehot = random_onehot(9, n=120, strength=0.4)
    baskets = [list(onehot.columns[row]) for row in onehot.to_numpy()]
    reference = frequent_itemsets(onehot, 0.05, engine="apriori")
    assert frequent_itemsets(baskets, 0.05, engine="fast").equals(reference)
    as_tuples = [tuple(b) for b in baskets]
    assert frequent_itemsets(as_tuples, 0.05, engine="fast").equals(reference)
    as_generator = (set(b) for b in baskets)  # not a list: goes through the checked path
    assert frequent_itemsets(as_generator, 0.05, engine="fast").equals(reference)
    # an item repeated inside a basket counts once, as in the one-hot frame
    doubled = [b + b[:1] for b in baskets]
    assert frequent_itemsets(doubled, 0.05, engine="fast").equals(reference)


def test_fast_engine_on_lists_refuses_bad_baskets_clearly():
    with pytest.raises(DataError, match="hashable"):
        frequent_itemsets([["a", ["x"]], ["a"]], 0.5, engine="fast")
    with pytest.raises(DataError, match="basket 1 is str"):
        frequent_itemsets([["a"], "ab"], 0.5, engine="fast")
    with pytest.raises(DataError, match="every basket is empty"):
        frequent_itemsets([[], []], 0.5, engine="fast")
    # labels of mixed types cannot be sorted: kept in first-seen order, same on every engine
    mixed = [[1, "a"], [1, "a"], [2]]
    assert frequent_itemsets(mixed, 0.5, engine="fast").equals(frequent_itemsets(mixed, 0.5))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_a_missing_item_label_is_refused_not_mined(engine, missing):
    # before: None / NaN became an item of its own, with support and rules
    baskets = [["has_fund", missing], ["has_fund"], ["has_fund", missing]]
    with pytest.raises(DataError, match=r"2 basket\(s\) hold a missing item label .* \[0, 2\]"):
        frequent_itemsets(baskets, 0.5, engine=engine)


def test_guard_also_protects_the_basket_list_path():
    rng = np.random.default_rng(1)
    dense = [[f"i{j}" for j in np.flatnonzero(row)] for row in rng.random((200, 30)) < 0.9]
    with pytest.raises(ResourceLimitError, match="max_itemsets=100,000"):
        frequent_itemsets(dense, 0.01, engine="fast", max_itemsets=100_000)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sets(st.sampled_from("abcdef"), max_size=6), min_size=1, max_size=40),
       st.sampled_from([0.01, 0.1, 0.25, 1 / 3, 0.5, 1.0]))
def test_engines_agree_with_brute_force_on_any_small_baskets(baskets, min_support):
    baskets = [sorted(b) for b in baskets]
    if not any(baskets):
        return  # every basket empty: refused, tested above
    onehot = pd.DataFrame({i: [i in b for b in baskets] for i in "abcdef"})
    onehot = onehot.loc[:, onehot.any()]
    expected = _brute_force(onehot, min_support)
    for engine in ENGINES:
        for data in (baskets, onehot):
            table = frequent_itemsets(data, min_support, engine=engine)
            assert dict(zip(table["itemsets"], table["support"])) == expected, engine


@pytest.mark.parametrize("baskets", [[["a"]], [["a", "b"], ["a"]], [["a", "b"]] * 3])
def test_an_item_every_basket_holds_is_found_by_every_engine(baskets):
    # pyfim alone drops itemsets held by all transactions; bankml must not
    expected = frequent_itemsets(baskets, 0.1, engine="apriori")
    assert frozenset({"a"}) in set(expected["itemsets"])
    assert frequent_itemsets(baskets, 0.1, engine="fast").equals(expected)
    assert frequent_itemsets(pd.DataFrame({"a": [True] * 3, "b": [True, False, True]}), 0.1,
                             engine="fast")["support"].iloc[0] == 1.0
