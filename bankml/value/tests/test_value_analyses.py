"""RFM, ABC, CLV and pyramid against hand-computed examples, and their bad inputs."""

import numpy as np
import pandas as pd
import pytest

from bankml.errors import ConfigError, DataError, InvalidParameterError
from bankml.value import abc, customer_lifetime_value, pyramid, rfm


# -- RFM ---------------------------------------------------------------------------------
def _tx(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    df["date"] = pd.to_datetime(df["date"])
    return df


@pytest.fixture
def ten_customers():
    # Customer k (0..9): k+1 purchases of 10*(k+1) yuan each, the last one 9-k days before
    # 2026-06-30, so customer 9 is the most recent, most frequent and biggest.
    rows = []
    for k in range(10):
        last = pd.Timestamp("2026-06-30") - pd.Timedelta(days=9 - k)
        for j in range(k + 1):
            rows.append((f"c{k}", last - pd.Timedelta(days=20 * j), 10.0 * (k + 1)))
    return _tx(rows)


def test_rfm_hand_computed(ten_customers):
    out = rfm(ten_customers, "2026-06-30")
    assert out.index.name == "customer_id"
    assert out.loc["c0", ["recency", "frequency", "monetary"]].tolist() == [9, 1, 10.0]
    assert out.loc["c9", ["recency", "frequency", "monetary"]].tolist() == [0, 10, 1000.0]
    assert out.loc["c4", "monetary"] == 5 * 50.0
    # 10 distinct customers: two per quintile, in order.
    expected = {f"c{k}": k // 2 + 1 for k in range(10)}
    assert out["R"].to_dict() == expected
    assert out["F"].to_dict() == expected
    assert out["M"].to_dict() == expected
    assert out.loc["c9", "RFM"] == "555" and out.loc["c9", "segment"] == "champions"
    assert out.loc["c0", "segment"] == "hibernating"
    assert out.loc["c4", "segment"] == "need_attention"       # R3 F3
    assert rfm(ten_customers, "2026-06-30", lang="zh").loc["c9", "segment_name"] == "冠军客户"
    assert out.loc["c9", "segment_name"] == "champions"


def test_rfm_ties_share_a_score_and_order_does_not_matter(ten_customers):
    tx = ten_customers.copy()
    tx["amount"] = 5.0                                        # same spend per purchase
    tx.loc[tx["customer_id"].isin(["c0", "c1"]), "date"] = pd.Timestamp("2026-06-30")
    out = rfm(tx, "2026-06-30")
    assert out.loc["c0", "R"] == out.loc["c1", "R"] == out.loc["c9", "R"]
    shuffled = rfm(tx.sample(frac=1.0, random_state=1), "2026-06-30")
    pd.testing.assert_frame_equal(out, shuffled)


def test_rfm_refunds_handling():
    tx = _tx([("a", "2026-01-01", 100.0), ("a", "2026-01-10", -30.0), ("b", "2026-01-05", 50.0)])
    with pytest.raises(DataError, match=r"'amount' is negative in 1 row\(s\), positions \[1\]"):
        rfm(tx, "2026-01-31")
    out = rfm(tx, "2026-01-31", refunds="net")
    # The refund lowers monetary but is not a purchase: recency stays at the purchase.
    assert out.loc["a", ["recency", "frequency", "monetary"]].tolist() == [30, 1, 70.0]
    only_refund = pd.concat([tx, _tx([("c", "2026-01-02", -5.0)])], ignore_index=True)
    with pytest.raises(DataError, match="refunds but no purchase"):
        rfm(only_refund, "2026-01-31", refunds="net")


@pytest.mark.parametrize("change, match", [
    (lambda d: d.iloc[:0], "empty"),
    (lambda d: d.assign(amount=np.nan), "'amount' is missing in every row"),
    (lambda d: d.assign(amount=d["amount"].where(d.index != 3)), r"'amount' is missing in 1 row\(s\), positions \[3\]"),
    (lambda d: d.drop(columns="date"), r"lacks column\(s\) \['date'\]"),
    (lambda d: d.assign(amount=d["amount"].astype(str)), "must be numeric"),
    (lambda d: d.assign(date="someday"), "'date' must hold year-first dates"),
])
def test_rfm_bad_input(ten_customers, change, match):
    with pytest.raises(DataError, match=match):
        rfm(change(ten_customers), "2026-06-30")


def test_rfm_refuses_transactions_after_as_of(ten_customers):
    with pytest.raises(DataError, match="dated after as_of 2026-06-29"):
        rfm(ten_customers, "2026-06-29")
    with pytest.raises(ValueError, match="lang"):
        rfm(ten_customers, "2026-06-30", lang="de")


# -- ABC ---------------------------------------------------------------------------------
def test_abc_hand_computed():
    v = pd.Series([2, 30, 10, 50, 3, 5], index=list("zvwuyx"), name="profit")
    classes, summary = abc(v)
    assert classes.index.tolist() == list("zvwuyx")            # input order kept
    assert classes["abc_class"].to_dict() == {"u": "A", "v": "A", "w": "B", "x": "B", "y": "C", "z": "C"}
    assert classes.loc["w", "cum_share"] == pytest.approx(0.9)
    assert summary["customers"].tolist() == [2, 2, 2]
    assert summary["value"].tolist() == [80.0, 15.0, 5.0]
    assert summary["value_share"].tolist() == pytest.approx([0.8, 0.15, 0.05])
    # Other cuts: A closes at 50%.
    classes, _ = abc(v, cuts=(0.5, 0.9))
    assert classes["abc_class"].to_dict() == {"u": "A", "v": "B", "w": "B", "x": "C", "y": "C", "z": "C"}


def test_abc_top_customer_always_a_and_ties_share_a_class():
    # The top customer alone holds 95%: still A (it crosses 80%), the next starts at 95%.
    classes, _ = abc([95.0, 3.0, 2.0])
    assert classes["abc_class"].tolist() == ["A", "C", "C"]
    classes, _ = abc([90.0, 6.0, 4.0])
    assert classes["abc_class"].tolist() == ["A", "B", "C"]
    classes, _ = abc([50.0, 30.0, 20.0, 20.0, 20.0])
    # 20s start at 57%, 71%, 86%: the first is A, its equals follow it.
    assert classes["abc_class"].tolist() == ["A", "A", "A", "A", "A"]


@pytest.mark.parametrize("values, match", [
    ([], "empty"),
    ([np.nan, np.nan], "all 2 values are missing"),
    ([1.0, np.nan, 2.0], r"1 value\(s\) are missing or infinite, at positions \[1\]"),
    ([1.0, -2.0], "negative"),
    ([0.0, 0.0], "sum to 0"),
    (pd.DataFrame({"a": [1]}), "one value per customer"),
    (["x", "y"], "numeric"),
])
def test_abc_bad_input(values, match):
    with pytest.raises(DataError, match=match):
        abc(values)


# Issue 16.3: a bad argument is InvalidParameterError (the rule of bankml/errors.py); a bad
# key of value.yaml stays a ConfigError naming the file.
@pytest.mark.parametrize("cuts", [(0.95, 0.8), "ab", (True, 0.9), (0.5,), (), (0, 1)])
def test_abc_bad_cuts(cuts):
    with pytest.raises(InvalidParameterError, match="cuts must"):
        abc([1.0, 2.0], cuts=cuts)


def test_bad_value_yaml_cuts_are_config_errors():
    import copy

    from bankml._resources import load_builtin_yaml
    from bankml.value._config import validate_value_config
    data = copy.deepcopy(load_builtin_yaml("value.yaml"))
    data["value"]["abc_cuts"] = [0.9, 0.8]
    with pytest.raises(ConfigError, match="value.yaml: value.abc_cuts must satisfy"):
        validate_value_config(data)


def test_rfm_bad_refunds_is_a_parameter_error(ten_customers):
    with pytest.raises(InvalidParameterError, match="refunds"):
        rfm(ten_customers, "2026-06-30", refunds="ignore")


# -- pyramid -----------------------------------------------------------------------------
def test_pyramid_hand_computed():
    v = pd.Series([10, -5, 30, 20, 0, 50, 40, 1, 2, 3], index=[f"k{i}" for i in range(10)])
    tiers, summary = pyramid(v)
    assert tiers.index.equals(v.index)
    high = set(tiers.index[tiers["tier"] == "high"])
    middle = set(tiers.index[tiers["tier"] == "middle"])
    assert high == {"k5", "k6"}                         # 50, 40
    assert middle == {"k2", "k3", "k0"}                 # 30, 20, 10
    assert summary["customers"].tolist() == [2, 3, 5]
    assert summary["value"].tolist() == [90.0, 60.0, 1.0]     # 0+1+2+3-5
    assert summary.loc["low", "value_share"] == pytest.approx(1 / 151)
    assert tiers.loc["k1", "tier_name"] == "low value"
    zh_tiers, zh_summary = pyramid(v, lang="zh")
    assert zh_summary["name"].tolist() == ["高价值客户", "中价值客户", "低价值客户"]


def test_pyramid_ties_and_bad_input():
    tiers, _ = pyramid([5, 5, 5, 1, 1])
    assert tiers["tier"].tolist() == ["high"] * 3 + ["low"] * 2
    with pytest.raises(DataError, match="empty"):
        pyramid(pd.Series([], dtype=float))
    with pytest.raises(DataError, match="missing"):
        pyramid([1.0, np.nan])
    with pytest.raises(InvalidParameterError, match="shares"):
        pyramid([1.0, 2.0], shares=(0.5, 0.5))


# -- CLV ---------------------------------------------------------------------------------
def test_clv_hand_computed():
    # 100/1.1 + 100*0.8/1.1^2 + 100*0.8^2/1.1^3
    hand = 100 / 1.1 + 80 / 1.21 + 64 / 1.331
    assert customer_lifetime_value(100, 0.8, 0.1, 3) == pytest.approx(hand)
    assert customer_lifetime_value(100, 0.8, 0.1) == pytest.approx(100 / (1 + 0.1 - 0.8))
    assert customer_lifetime_value(100, 0.8, 0.1, 0) == 0
    assert customer_lifetime_value(100, 1.0, 0.0, 4) == pytest.approx(400)
    assert customer_lifetime_value(-50, 0.0, 0.0, 10) == pytest.approx(-50)


def test_clv_vectorised_and_keeps_series_index():
    margin = pd.Series([100.0, 200.0, -10.0], index=["a", "b", "c"], name="margin")
    out = customer_lifetime_value(margin, [0.8, 0.5, 0.9], 0.1, [3, 1, np.inf])
    assert out.index.tolist() == ["a", "b", "c"] and out.name == "margin"
    assert out.tolist() == pytest.approx([100 / 1.1 + 80 / 1.21 + 64 / 1.331, 200 / 1.1, -10 / 0.2])
    grid = customer_lifetime_value(100, np.array([[0.5], [0.9]]), np.array([0.0, 0.1]), 2)
    assert grid.shape == (2, 2)
    assert grid[0, 0] == pytest.approx(150) and grid[1, 1] == pytest.approx(100 / 1.1 + 90 / 1.21)


@pytest.mark.parametrize("args, match", [
    ((100, 1.2, 0.1, 3), "retention"),
    ((100, 0.8, -0.1, 3), "discount"),
    ((100, 0.8, 0.1, 2.5), "whole number"),
    ((100, 0.8, 0.1, -1), "whole number"),
    ((np.nan, 0.8, 0.1, 3), r"margin is missing \(NaN\) in all values"),
    (([1.0, np.nan], 0.8, 0.1, 3), "1 of 2 values"),
    (([], 0.8, 0.1, 3), "empty"),
    ((100, 1.0, 0.0, np.inf), "infinite value"),
    (("abc", 0.8, 0.1, 3), "numeric"),
])
def test_clv_bad_input(args, match):
    with pytest.raises(DataError, match=match):
        customer_lifetime_value(*args)


# -- properties --------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_values = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=60).filter(
    lambda v: sum(v) > 0)


@settings(max_examples=150, deadline=None)
@given(_values)
def test_abc_properties(values):
    classes, summary = abc(values)
    assert summary["customers"].sum() == len(values)
    assert summary["value_share"].sum() == pytest.approx(1.0)
    # A holds at least 80% (it includes the customer that crosses 80%), A+B at least 95%.
    assert summary.loc["A", "value_share"] >= 0.8 - 1e-9
    assert summary.loc[["A", "B"], "value_share"].sum() >= 0.95 - 1e-9
    # A better class never holds a smaller value.
    codes = classes["abc_class"].cat.codes.to_numpy()
    v = classes["value"].to_numpy()
    for hi in range(2):
        if (codes == hi).any() and (codes > hi).any():
            assert v[codes == hi].min() >= v[codes > hi].max()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-50, max_value=50), min_size=1, max_size=60))
def test_pyramid_properties(values):
    tiers, summary = pyramid(values)
    n = len(values)
    codes = tiers["tier"].cat.codes.to_numpy()
    v = tiers["value"].to_numpy()
    assert summary["customers"].sum() == n
    assert (codes == 0).sum() >= 1                         # someone is always on top
    for hi in range(2):
        if (codes == hi).any() and (codes > hi).any():
            assert v[codes == hi].min() > v[codes > hi].max()   # ties never split
    # Without ties the tier sizes are exactly ceil(0.2 n) and ceil(0.5 n) - ceil(0.2 n).
    if len(set(values)) == n:
        assert (codes == 0).sum() == -(-n // 5)
        assert (codes <= 1).sum() == -(-n // 2)


def test_rfm_any_string_dtype_for_ids(ten_customers):
    ref = rfm(ten_customers, "2026-06-30")
    for dtype in ("object", "string", "category"):
        tx = ten_customers.assign(customer_id=ten_customers["customer_id"].astype(dtype))
        out = rfm(tx, "2026-06-30")
        assert out.index.tolist() == ref.index.tolist()
        assert out["RFM"].tolist() == ref["RFM"].tolist()


# -- review additions: boundary semantics, ties by hand, infinite margin -----------------------
def test_abc_customer_crossing_80_percent_is_in_a():
    # Cumulative shares 50%, 90%, 96%, 100%: the second customer starts at 50% (< 80%) and
    # crosses 80%, so it is in A and A holds 90%; the third starts at 90% (< 95%): B.
    classes, summary = abc(pd.Series([40.0, 6.0, 50.0, 4.0], index=list("vwux")))
    assert classes["abc_class"].to_dict() == {"u": "A", "v": "A", "w": "B", "x": "C"}
    assert summary.loc["A", "value_share"] == pytest.approx(0.9)
    # Landing exactly on 80% closes A: the next customer starts at 80%, not below it, so
    # it is in B (it starts below 95%).
    classes, _ = abc([50.0, 30.0, 20.0])
    assert classes["abc_class"].tolist() == ["A", "A", "B"]


def test_rfm_tied_scores_by_hand():
    # Frequencies 1,1,1,1,1,1,2,2,3,4 over ten customers. Average ranks: the six 1s share
    # rank 3.5 -> percentile 0.35 -> ceil(5 * 0.35) = 2; the two 2s rank 7.5 -> 0.75 -> 4;
    # 3 ranks 9 -> 0.9 -> 5; 4 ranks 10 -> 1.0 -> 5. Nobody scores F = 1 or 3.
    freqs = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4]
    rows = [(f"c{k}", pd.Timestamp("2026-06-01") + pd.Timedelta(days=j), 10.0)
            for k, f in enumerate(freqs) for j in range(f)]
    out = rfm(_tx(rows), "2026-06-30")
    assert out["F"].tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]
    # Last purchases: the six one-timers on 06-01 (recency 29), c6/c7 on 06-02 (28), c8 on
    # 06-03 (27), c9 on 06-04 (26). R ranks -recency: the 29s share rank 3.5 -> 2, the 28s
    # rank 7.5 -> 4, 27 -> 5, 26 -> 5.
    assert out["recency"].tolist() == [29] * 6 + [28, 28, 27, 26]
    assert out["R"].tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]
    # Monetary 10, 10, ..., 20, 20, 30, 40: the same ranks again.
    assert out["M"].tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]


def test_clv_refuses_infinite_margin():
    with pytest.raises(DataError, match="margin is infinite in 1 of 2 values"):
        customer_lifetime_value([100.0, np.inf], 0.8, 0.1, 3)


# Issue 12.10: ambiguous dates were guessed month-first; now year-first ISO only.
def test_rfm_refuses_ambiguous_dates_and_accepts_iso(ten_customers):
    with pytest.raises(DataError, match=r"rfm: as_of must be a year-first date.*'06/07/2026'"):
        rfm(ten_customers, "06/07/2026")
    text = ten_customers.assign(date=ten_customers["date"].dt.strftime("%Y-%m-%d").astype(object))
    text.loc[4, "date"] = "06/07/2026"
    with pytest.raises(DataError, match=r"'date' must hold year-first.*positions \[4\]"):
        rfm(text, "2026-06-30")
    text.loc[4, "date"] = ten_customers.loc[4, "date"].strftime("%Y-%m-%d")
    pd.testing.assert_frame_equal(rfm(text, "2026-06-30"), rfm(ten_customers, "2026-06-30"))
    early = rfm(ten_customers.assign(date=ten_customers["date"] - pd.Timedelta(days=23)), "2026-06-07")
    assert early.equals(rfm(ten_customers.assign(date=ten_customers["date"] - pd.Timedelta(days=23)),
                            pd.Timestamp("2026-06-07")))
    with pytest.raises(DataError, match="as_of must be a year-first date"):
        rfm(ten_customers, 20260630)     # a number is not a date (nanoseconds since 1970)
