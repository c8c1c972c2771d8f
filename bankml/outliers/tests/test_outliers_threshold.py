"""ThresholdDetector: hand-counted flags, learned thresholds, windows, suspect thresholds, bad input."""

import numpy as np
import pandas as pd
import pytest

from bankml.datasets._daily import make_daily_transactions
from bankml.errors import DataError, InvalidParameterError
from bankml.outliers import ThresholdDetector


def _daily(rows):
    df = pd.DataFrame(rows, columns=["account_id", "date", "amount", "count"])
    df["date"] = pd.to_datetime(df["date"])
    return df


@pytest.fixture
def hand():
    return _daily([
        ("a", "2026-03-01", 60_000, 1), ("a", "2026-03-02", 70_000, 2),
        ("a", "2026-03-03", 55_000, 1), ("a", "2026-03-04", 100, 1),
        ("b", "2026-03-01", 60_000, 25), ("b", "2026-03-02", 10, 1),
        ("b", "2026-03-04", 50_000, 21),          # equal to the threshold: not exceeded
        ("c", "2026-03-01", 51_000, 1), ("c", "2026-03-02", 10, 30),
        ("c", "2026-03-03", 20, 22), ("c", "2026-03-04", 30, 21),
        ("d", "2026-03-02", 0, 0),                # a row for a day without transactions
    ])


def test_flags_match_hand_count(hand):
    det = ThresholdDetector(amount_threshold=50_000, count_threshold=20, min_days=3).fit(hand)
    ex = det.exceedances_
    # Counted by hand from the table above.
    assert ex["amount_days"].to_dict() == {"a": 3, "b": 1, "c": 1, "d": 0}
    assert ex["count_days"].to_dict() == {"a": 0, "b": 2, "c": 3, "d": 0}
    assert ex["days"].to_dict() == {"a": 3, "b": 2, "c": 4, "d": 0}
    assert ex["active_days"].to_dict() == {"a": 4, "b": 3, "c": 4, "d": 0}
    assert det.labels_.to_dict() == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert det.threshold_ == 3
    assert det.predict(hand).to_dict() == det.labels_.to_dict()
    assert det.decision_function(hand).to_dict() == {"a": 3, "b": 2, "c": 4, "d": 0}
    zh = det.reasons(lang="zh")
    en = det.reasons(hand, lang="en")
    assert list(zh.index) == ["a", "c"]
    assert zh["a"] == "日交易额有 3 天超过阈值 50,000"
    assert zh["c"] == "日交易额有 1 天超过阈值 50,000；日交易笔数有 3 天超过阈值 20"
    assert en["c"] == ("daily amount exceeded threshold 50,000 on 1 days; "
                       "daily transaction count exceeded threshold 20 on 3 days")


def test_min_days_and_window(hand):
    det = ThresholdDetector(amount_threshold=50_000, count_threshold=20, min_days=2).fit(hand)
    assert det.labels_.to_dict() == {"a": 1, "b": 1, "c": 1, "d": 0}
    # The last two calendar days of the table: 03-03 and 03-04.
    det = ThresholdDetector(amount_threshold=50_000, count_threshold=20, min_days=2, window=2).fit(hand)
    assert det.exceedances_["days"].to_dict() == {"a": 1, "b": 1, "c": 2, "d": 0}
    assert det.labels_.to_dict() == {"a": 0, "b": 0, "c": 1, "d": 0}


def test_defaults_come_from_config(hand):
    det = ThresholdDetector().fit(hand)
    assert det.settings_["amount"] == 50_000 and det.settings_["count"] == 20
    assert det.settings_["min_days"] == 3


def test_learned_thresholds_hand_computed():
    dates = pd.date_range("2026-01-01", periods=13)
    rows = [("x", d, 1000.0, 2) for d in dates[:10]] + [("x", d, 8000.0, 11) for d in dates[10:]]
    rows += [("y", d, 60_000.0, 1) for d in dates[:5]]       # short history: fixed fallback
    daily = _daily(rows)
    det = ThresholdDetector(method="learned", quantile=0.5, factor=5, min_history=10,
                            amount_threshold=50_000, count_threshold=20, min_days=3).fit(daily)
    th = det.thresholds_
    # x: median of its 13 active days is 1,000 and 2 -> thresholds 5,000 and 10.
    assert th.loc["x", "amount_threshold"] == 5000 and th.loc["x", "count_threshold"] == 10
    assert th.loc["x", "source"] == "learned"
    assert th.loc["y", "source"] == "fixed" and th.loc["y", "amount_threshold"] == 50_000
    assert det.exceedances_.loc["x", "amount_days"] == 3
    assert det.exceedances_.loc["x", "count_days"] == 3
    assert det.labels_.to_dict() == {"x": 1, "y": 1}
    assert det.reasons(lang="en")["x"].startswith("daily amount exceeded threshold 5,000 on 3 days")
    # An account unseen at fit is scored against the fixed thresholds.
    new = _daily([("z", d, 70_000.0, 1) for d in dates[:4]])
    ex = det.exceedances(new)
    assert ex.loc["z", "source"] == "fixed" and ex.loc["z", "days"] == 4


def test_threshold_crossed_often_by_many_accounts_is_suspect():
    dates = pd.date_range("2026-01-01", periods=5)
    rows = []
    for i in range(20):
        amount = 5000.0 if i < 10 else 500.0      # half the accounts sit above 1,000 daily
        rows += [(f"acc{i:02d}", d, amount, 1) for d in dates]
    det = ThresholdDetector(amount_threshold=1000, count_threshold=20, min_days=3,
                            suspect_share=0.05).fit(_daily(rows))
    sus = det.suspect_thresholds(lang="en").set_index("measure")
    assert sus.loc["amount", "frequent"] == 10 and sus.loc["amount", "accounts"] == 20
    assert sus.loc["amount", "share"] == 0.5 and bool(sus.loc["amount", "suspect"])
    assert not sus.loc["count", "suspect"] and sus.loc["count", "reason"] == ""
    assert "daily amount threshold 1,000 is crossed often by 50.0%" in sus.loc["amount", "reason"]
    zh = det.suspect_thresholds(lang="zh").set_index("measure")
    assert zh.loc["amount", "reason"].startswith("日交易额阈值 1,000 被 50.0% 的账户频繁超过")


def test_planted_accounts_in_generated_daily_table():
    daily, truth = make_daily_transactions(2000, 60, seed=3, return_truth=True)
    y = truth.set_index("account_id")["planted_anomaly"]
    for method in ("fixed", "learned"):
        det = ThresholdDetector(method=method).fit(daily)
        flags = det.labels_.reindex(y.index, fill_value=0)
        recall = flags[y == 1].mean()
        precision = y[flags == 1].mean()
        assert recall > 0.8 and precision > 0.8, (method, recall, precision)


def test_generator_is_reproducible_and_days_absent():
    a = make_daily_transactions(300, 20, seed=9)
    assert a.equals(make_daily_transactions(300, 20, seed=9))
    assert not a.equals(make_daily_transactions(300, 20, seed=10))
    assert not a.duplicated(["account_id", "date"]).any()
    assert len(a) < 300 * 20          # inactive days have no row
    assert (a["count"] >= 1).all()


def test_account_ids_of_any_string_dtype(hand):
    ref = ThresholdDetector(amount_threshold=50_000, count_threshold=20).fit(hand).labels_
    for dtype in ("object", "string", "category"):
        h = hand.assign(account_id=hand["account_id"].astype(dtype))
        assert ThresholdDetector(amount_threshold=50_000, count_threshold=20).fit(h).labels_.to_dict() == ref.to_dict()


@pytest.mark.parametrize("change, match", [
    (lambda d: d.assign(amount=d["amount"].where(d.index != 2, -5.0)), r"negative daily totals in 1 row\(s\), positions \[2\]"),
    (lambda d: d.assign(amount=d["amount"].where(d.index != 1, np.nan)), r"'amount' is missing in 1 row"),
    (lambda d: d.assign(amount=np.nan), r"'amount' is missing in 12 row"),
    (lambda d: d.assign(count=d["count"].where(d.index != 0, 1.5)), "whole counts"),
    (lambda d: d.assign(count=d["count"].where(d.index != 0, 0)), "positive 'amount' with 'count' 0"),
    (lambda d: pd.concat([d, d.iloc[[3]]], ignore_index=True), r"same account and date in 1 row\(s\), positions \[12\]"),
    (lambda d: d.drop(columns="count"), r"lacks column\(s\) \['count'\]"),
    (lambda d: d.iloc[:0], "empty"),
    (lambda d: d.assign(date="not a date"), "'date' must hold year-first dates"),
    (lambda d: d.assign(amount=d["amount"].astype(str)), "must be numeric"),
])
def test_bad_daily_tables(hand, change, match):
    with pytest.raises(DataError, match=match):
        ThresholdDetector().fit(change(hand))


# Issue 16.3: a bad parameter is scikit-learn's InvalidParameterError, from the constraints.
@pytest.mark.parametrize("params, name", [
    ({"method": "auto"}, "method"), ({"min_days": 0}, "min_days"), ({"quantile": 2}, "quantile"),
    ({"window": 0}, "window"), ({"amount_threshold": float("inf")}, "amount_threshold"),
    ({"factor": -1}, "factor"), ({"suspect_share": 1.5}, "suspect_share"),
    ({"min_history": 2.5}, "min_history"), ({"account": ["a"]}, "account"),
])
def test_bad_settings(hand, params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of ThresholdDetector"):
        ThresholdDetector(**params).fit(hand)


def test_bad_input_type(hand):
    with pytest.raises(DataError, match="DataFrame"):
        ThresholdDetector().fit(np.zeros((3, 4)))


def test_row_order_does_not_matter():
    daily = make_daily_transactions(300, 30, seed=4)
    shuffled = daily.sample(frac=1.0, random_state=0)
    for method in ("fixed", "learned"):
        a = ThresholdDetector(method=method).fit(daily)
        b = ThresholdDetector(method=method).fit(shuffled)
        pd.testing.assert_frame_equal(a.exceedances_, b.exceedances_)
        pd.testing.assert_frame_equal(a.thresholds_, b.thresholds_)
    with pytest.raises(DataError, match="same account and date"):
        ThresholdDetector().fit(pd.concat([shuffled, shuffled.iloc[[7]]]))


def test_planted_accounts_found_on_held_out_seed():
    # A seed the configured thresholds (outliers.yaml) were not chosen on.
    daily, truth = make_daily_transactions(3000, 90, seed=2027, return_truth=True)
    y = truth.set_index("account_id")["planted_anomaly"]
    for method in ("fixed", "learned"):
        flags = ThresholdDetector(method=method).fit(daily).labels_.reindex(y.index, fill_value=0)
        assert flags[y == 1].mean() > 0.8, method


def test_counts_match_an_independent_pandas_count():
    # The same rule written plainly with pandas on a generated table: per account, the days
    # above 50,000 yuan or 20 transactions; learned: 5 x the median of the account's days
    # when it has at least 10 of them.
    daily = make_daily_transactions(500, 40, seed=21)
    fixed = ThresholdDetector(amount_threshold=50_000, count_threshold=20, min_days=3).fit(daily)
    acc = daily["account_id"].astype(object)
    over_a, over_c = daily["amount"] > 50_000, daily["count"] > 20
    days = (over_a | over_c).groupby(acc).sum()
    ex = fixed.exceedances_
    assert ex["days"].to_dict() == days.to_dict()
    assert ex["amount_days"].to_dict() == over_a.groupby(acc).sum().to_dict()
    assert ex["count_days"].to_dict() == over_c.groupby(acc).sum().to_dict()
    assert fixed.labels_.to_dict() == (days >= 3).astype(int).to_dict()

    learned = ThresholdDetector(method="learned", quantile=0.5, factor=5, min_history=10,
                                amount_threshold=50_000, count_threshold=20).fit(daily)
    g = daily.groupby(acc)
    own = g.size() >= 10
    th_a = (5 * g["amount"].median()).where(own, 50_000.0)
    th_c = (5 * g["count"].median()).where(own, 20.0)
    over = (daily["amount"] > acc.map(th_a)) | (daily["count"] > acc.map(th_c))
    assert learned.exceedances_["days"].to_dict() == over.groupby(acc).sum().to_dict()
    np.testing.assert_allclose(learned.thresholds_["amount_threshold"], th_a.sort_index())


# Issue 12.10: ambiguous dates were guessed month-first; now year-first ISO only.
def test_ambiguous_dates_are_refused_iso_accepted(hand):
    text = hand.assign(date=hand["date"].dt.strftime("%Y-%m-%d"))
    iso = ThresholdDetector().fit(text)
    pd.testing.assert_frame_equal(iso.exceedances_, ThresholdDetector().fit(hand).exceedances_)
    text.loc[2, "date"] = "03/06/2026"
    with pytest.raises(DataError, match=r"'date' must hold year-first dates.*positions \[2\]"):
        ThresholdDetector().fit(text)
    with pytest.raises(DataError, match="'date' must hold year-first dates"):
        ThresholdDetector().fit(hand.assign(date=20260301))
