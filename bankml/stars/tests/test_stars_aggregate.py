"""aggregate_half_year and rate_months on hand-computed raw rows, and every bad input."""

import numpy as np
import pandas as pd
import pytest

from bankml.datasets._raw import make_raw_activity
from bankml.errors import DataError, InvalidParameterError
from bankml.schema import ID, STAR_INPUTS
from bankml.stars import StarPolicy, StarScorer, aggregate_half_year, rate_months, window_of

AS_OF = "2024-06-30"   # window 2024-01-01 .. 2024-06-30 = 182 days


def bal(rows):
    return pd.DataFrame(rows, columns=[ID, "date", "product", "balance"]).astype({"date": "datetime64[s]"})


def tx(rows):
    return pd.DataFrame(rows, columns=[ID, "date", "business", "amount", "discount"]).astype(
        {"date": "datetime64[s]"})


NO_TX = tx([])
NO_BAL = bal([])


def test_window():
    assert window_of(AS_OF) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30"), 182)
    assert window_of("2024-07-31") == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-07-31"),
                                       29 + 31 + 30 + 31 + 30 + 31)  # Feb..Jul 2024
    with pytest.raises(DataError, match="as_of"):
        window_of("not a date")


def test_days_without_rows_count_as_zero():
    # 91 days at 18,200 yuan in a 182-day window: daily average 9,100.
    rows = [("a", d, "time_deposit", 18_200.0) for d in pd.date_range("2024-04-01", periods=91)]
    out = aggregate_half_year(bal(rows), NO_TX, AS_OF)
    assert out.loc[0, "long_term_assets"] == pytest.approx(9_100.0)
    assert out.loc[0, [c for c in STAR_INPUTS if c != "long_term_assets"]].sum() == 0


def test_products_map_to_their_categories_and_add_up():
    rows = [("a", "2024-01-01", "demand_savings", 182_000.0),   # 1,000 / day average
            ("a", "2024-01-02", "money_market_fund", 182_000.0),  # also short-term
            ("a", "2024-03-01", "housing_mortgage", 364_000.0),
            ("a", "2024-03-01", "consumer_loan", 1_820.0),
            ("a", "2024-06-30", "card_overdraft", 91.0)]
    out = aggregate_half_year(bal(rows), NO_TX, AS_OF).set_index(ID)
    assert out.loc["a", "short_term_assets"] == pytest.approx(2_000.0)
    assert out.loc["a", "mortgage_loans"] == pytest.approx(2_000.0)
    assert out.loc["a", "other_loans"] == pytest.approx(10.0)
    assert out.loc["a", "card_overdraft"] == pytest.approx(0.5)
    assert out.loc["a", "long_term_assets"] == 0


def test_capped_and_discounted_transactions():
    # remittance cap 50,000 (configs/star_policy.yaml); POS has no cap.
    rows = [("a", "2024-02-01", "remittance", 80_000.0, 1.0),   # capped: 50,000
            ("a", "2024-02-02", "remittance", 30_000.0, 1.0),   # under the cap: 30,000
            ("a", "2024-02-03", "pos_credit", 10_000.0, 0.8),   # discounted: 8,000
            ("a", "2024-02-04", "remittance", 90_000.0, 0.5),   # capped then discounted: 25,000
            ("a", "2024-02-05", "fund_subscription", 5_000.0, 0.0),  # fee waived: counts 0
            ("b", "2024-06-30", "offsite_withdrawal", 12_000.0, 1.0)]  # cap 10,000
    out = aggregate_half_year(NO_BAL, tx(rows), AS_OF).set_index(ID)
    assert out.loc["a", "settlement_tx"] == pytest.approx(105_000.0)
    assert out.loc["a", "card_spend"] == pytest.approx(8_000.0)
    assert out.loc["a", "investment_tx"] == 0
    assert out.loc["b", "settlement_tx"] == pytest.approx(10_000.0)
    # points: a = 105,000/10k x 200 + 8,000/10k x 400 = 2,100 + 320 = 2,420 -> 5 stars
    pts = StarScorer().star_points(out)
    assert pts["a"] == pytest.approx(2_420.0) and StarScorer().contribution_star(pts)["a"] == 5


def test_customers_from_either_table_in_order_of_appearance():
    out = aggregate_half_year(bal([("z", "2024-01-05", "fund", 1.0)]),
                              tx([("y", "2024-01-05", "pos_debit", 1.0, 1.0),
                                  ("z", "2024-01-05", "pos_debit", 1.0, 1.0)]), AS_OF)
    assert out[ID].tolist() == ["z", "y"] and list(out.columns) == [ID, *STAR_INPUTS]


def test_a_new_product_in_the_policy_needs_no_code():
    data = StarPolicy.default().to_dict()
    data["products"]["digital_currency_wallet"] = "short_term_assets"
    policy = StarPolicy.from_dict(data)
    rows = [("a", "2024-01-01", "digital_currency_wallet", 182_000.0)]
    assert aggregate_half_year(bal(rows), NO_TX, AS_OF, policy).loc[0, "short_term_assets"] == 1_000
    with pytest.raises(DataError, match="unknown codes"):
        aggregate_half_year(bal(rows), NO_TX, AS_OF)


def test_matches_a_pandas_reference_on_generated_rows():
    b, t = make_raw_activity(300, 5_000, seed=3)
    out = aggregate_half_year(b, t, AS_OF).set_index(ID)
    pol = StarPolicy.default()
    ref_b = (b.assign(cat=b["product"].map(pol.products)).groupby([ID, "cat"])["balance"].sum()
             .unstack(fill_value=0) / 182)
    cap = t["business"].map(pol.fee_caps).astype(float)
    counted = np.minimum(t["amount"], cap) * t["discount"]
    ref_t = (t.assign(cat=t["business"].map(pol.businesses), v=counted)
             .groupby([ID, "cat"])["v"].sum().unstack(fill_value=0))
    ref = ref_b.add(ref_t, fill_value=0).reindex(columns=list(STAR_INPUTS), fill_value=0)
    ref = ref.reindex(out.index, fill_value=0)
    np.testing.assert_allclose(out.to_numpy(), ref.to_numpy(), rtol=1e-10, atol=1e-6)
    assert t["discount"].lt(1).any() and (t["amount"] > cap).any()  # both rules exercised


# -- bad input ------------------------------------------------------------------------------
GOOD_B = [("a", "2024-01-01", "fund", 10.0), ("b", "2024-02-01", "fund", 10.0)]
GOOD_T = [("a", "2024-01-01", "pos_debit", 10.0, 1.0), ("b", "2024-02-01", "pos_debit", 10.0, 1.0)]


@pytest.mark.parametrize("table, col, value, match", [
    ("b", "balance", -5.0, "'balance': negative balances.*positions \\[1"),
    ("b", "balance", np.nan, "'balance': missing values.*positions \\[1"),
    ("b", "balance", np.inf, "'balance': infinite.*positions \\[1"),
    ("t", "amount", -1.0, "'amount': negative amounts.*positions \\[1"),
    ("t", "amount", np.nan, "'amount': missing values.*positions \\[1"),
    ("t", "discount", 1.5, "'discount': values above 1.*positions \\[1"),
    ("t", "discount", -0.1, "'discount': discount below 0.*positions \\[1"),
    ("t", "discount", np.nan, "'discount': missing values.*positions \\[1"),
    ("b", "product", "lottery", "'product': unknown codes \\['lottery'\\].*positions \\[1"),
    ("t", "business", "lottery", "'business': unknown codes \\['lottery'\\].*positions \\[1"),
    ("b", "product", None, "'product': missing values.*positions \\[1"),
    ("t", ID, None, "'customer_id': missing values.*positions \\[1"),
    ("b", "date", pd.Timestamp("2023-12-31"), "'date': dates outside the rating window.*positions \\[1"),
    ("t", "date", pd.Timestamp("2024-07-01"), "'date': dates outside the rating window.*positions \\[1"),
    ("t", "date", pd.NaT, "'date': missing values.*positions \\[1"),
])
def test_bad_values_name_table_column_and_rows(table, col, value, match):
    b, t = bal(GOOD_B), tx(GOOD_T)
    target = b if table == "b" else t
    if target[col].dtype.kind == "f" or col == "date":
        target.loc[1, col] = value
    else:
        target[col] = target[col].astype(object)
        target.loc[1, col] = value
    with pytest.raises(DataError, match=match) as err:
        aggregate_half_year(b, t, AS_OF)
    assert ("balances" if table == "b" else "transactions") in str(err.value)


def test_unparseable_dates_and_text_amounts():
    b = bal(GOOD_B).astype({"date": object})
    b.loc[0, "date"] = "sometime"
    with pytest.raises(DataError, match="'date': not a date.*positions \\[0"):
        aggregate_half_year(b, tx(GOOD_T), AS_OF)
    t = tx(GOOD_T).astype({"amount": str})
    with pytest.raises(DataError, match="'amount': wrong dtype"):
        aggregate_half_year(bal(GOOD_B), t, AS_OF)


def test_missing_and_extra_columns():
    with pytest.raises(DataError, match="'discount': missing columns"):
        aggregate_half_year(bal(GOOD_B), tx(GOOD_T).drop(columns="discount"), AS_OF)
    with pytest.raises(DataError, match="'branch': unexpected columns"):
        aggregate_half_year(bal(GOOD_B).assign(branch="x"), tx(GOOD_T), AS_OF)
    with pytest.raises(DataError, match="DataFrame"):
        aggregate_half_year(GOOD_B, tx(GOOD_T), AS_OF)


def test_all_problems_reported_together():
    b = bal(GOOD_B)
    b.loc[0, "balance"] = -1.0
    b.loc[1, "date"] = pd.Timestamp("2025-01-01")
    with pytest.raises(DataError, match="2 problems") as err:
        aggregate_half_year(b, tx(GOOD_T), AS_OF)
    assert {p.column for p in err.value.problems} == {"balance", "date"}


def test_unknown_codes_can_be_dropped_with_a_counted_warning():
    t = tx(GOOD_T + [("a", "2024-03-01", "lottery", 99.0, 1.0), ("c", "2024-03-01", "lottery", 9.0, 1.0)])
    with pytest.warns(UserWarning, match="dropped 2 row.*lottery"):
        out = aggregate_half_year(bal(GOOD_B), t, AS_OF, unknown_codes="warn")
    assert out.set_index(ID).loc["a", "card_spend"] == 10.0
    with pytest.raises(ValueError, match="unknown_codes"):
        aggregate_half_year(bal(GOOD_B), t, AS_OF, unknown_codes="ignore")


# -- monthly re-rating ----------------------------------------------------------------------------
def test_rate_months_one_rating_per_customer_per_month_end():
    # a: 36,400 yuan on every day of Jan..Jul 2024 in demand savings.
    days = pd.date_range("2024-01-01", "2024-07-31")
    b = bal([("a", d, "demand_savings", 36_400.0) for d in days])
    t = tx([("b", "2024-01-15", "pos_debit", 10_000.0, 1.0)])
    out = rate_months(b, t, ["2024-06-30", "2024-07"])
    assert out[["month", ID]].astype(str).values.tolist() == [
        ["2024-06-30", "a"], ["2024-06-30", "b"], ["2024-07-31", "a"], ["2024-07-31", "b"]]
    # June: full window, 36,400 x 182 / 182 = 36,400 -> 3.64 x 135 = 491.4 points -> 3 stars.
    # July: window Feb..Jul (182 days), a full again; b's January spend leaves the window.
    assert out["star_points"].tolist() == pytest.approx([491.4, 400.0, 491.4, 0.0])
    assert out["contribution_star"].tolist() == [3, 3, 3, 0]
    single = aggregate_half_year(b[b["date"] <= "2024-06-30"], t, "2024-06-30")
    assert StarScorer().star_points(single).tolist() == pytest.approx([491.4, 400.0])


def test_rate_months_rejects_rows_outside_every_window_and_empty_months():
    b = bal([("a", "2023-06-01", "fund", 1.0)])
    with pytest.raises(DataError, match="outside the rating window"):
        rate_months(b, NO_TX, ["2024-06"])
    with pytest.raises(DataError, match="months is empty"):
        rate_months(NO_BAL, NO_TX, [])


def test_repeated_balance_day_is_an_error_not_a_double_count():
    rows = [("a", "2024-01-01", "fund", 10.0), ("b", "2024-01-01", "fund", 10.0),
            ("a", "2024-01-02", "fund", 10.0), ("a", "2024-01-01", "fund", 99.0)]
    with pytest.raises(DataError, match="more than one balance row.*positions \\[0, 3"):
        aggregate_half_year(bal(rows), NO_TX, AS_OF)
    # the same day in another product, or for another customer, is fine
    ok = rows[:3] + [("a", "2024-01-01", "time_deposit", 99.0)]
    assert len(aggregate_half_year(bal(ok), NO_TX, AS_OF)) == 2


def test_text_column_dtypes_are_treated_alike():
    b, t = make_raw_activity(50, 500, seed=4)
    ref = aggregate_half_year(b, t, AS_OF)
    for dtype in ("object", "category", "string"):
        b2 = b.astype({ID: dtype, "product": dtype})
        t2 = t.astype({ID: dtype, "business": dtype, "date": str})
        out = aggregate_half_year(b2, t2, AS_OF)
        assert out[ID].astype(str).tolist() == ref[ID].astype(str).tolist()
        np.testing.assert_allclose(out[list(STAR_INPUTS)].to_numpy(), ref[list(STAR_INPUTS)].to_numpy())


def test_numeric_codes_match_policy_codes_as_text():
    data = StarPolicy.default().to_dict()
    data["products"][1001] = "short_term_assets"
    policy = StarPolicy.from_dict(data)
    b = bal([("a", "2024-01-01", 1001, 182_000.0)])
    assert aggregate_half_year(b, NO_TX, AS_OF, policy).loc[0, "short_term_assets"] == 1_000


# -- review R1: window edges, gaps between monthly windows, id types ------------------------------
def test_window_edges_are_inclusive_for_both_tables():
    # 2024-01-01 and 2024-06-30 are the first and last days of the June window (182 days).
    b = bal([("a", "2024-01-01", "demand_savings", 182.0), ("a", "2024-06-30", "fund", 364.0)])
    t = tx([("a", "2024-01-01", "pos_debit", 7.0, 1.0), ("a", "2024-06-30", "remittance", 3.0, 1.0)])
    out = aggregate_half_year(b, t, AS_OF).set_index(ID)
    assert out.loc["a", "short_term_assets"] == pytest.approx(1.0)     # 182 / 182
    assert out.loc["a", "long_term_assets"] == pytest.approx(2.0)      # 364 / 182
    assert out.loc["a", "card_spend"] == 7.0 and out.loc["a", "settlement_tx"] == 3.0
    # The July window is 2024-02-01 .. 2024-07-31: January 31 leaves it, February 1 stays.
    t = tx([("a", "2024-01-31", "pos_debit", 10_000.0, 1.0),
            ("a", "2024-02-01", "pos_debit", 20_000.0, 1.0)])
    out = rate_months(NO_BAL, t, ["2024-06", "2024-07"])
    # June: 30,000 / 10k x 400 = 1,200 points; July: only February's 20,000 -> 800 points.
    assert out["star_points"].tolist() == pytest.approx([1_200.0, 800.0])


def test_rate_months_rows_between_far_apart_windows_are_an_error_not_dropped():
    # Windows of 2023-12 (2023-07-01..2023-12-31) and 2024-12 (2024-07-01..2024-12-31) leave
    # the first half of 2024 uncounted: a row there would silently vanish.
    b = bal([("a", "2023-08-01", "fund", 1.0), ("a", "2024-03-15", "fund", 100.0)])
    assert rate_months(b.iloc[:1], NO_TX, ["2023-12", "2024-12"])["star_points"].tolist() == [
        pytest.approx(1.0 / 184 * 100 / 10_000), 0.0]
    with pytest.raises(DataError, match=r"'date': dates outside the rating window.*"
                                        r"2024-01-01 to 2024-06-30.*positions \[1"):
        rate_months(b, NO_TX, ["2023-12", "2024-12"])
    # adjacent or overlapping windows have no gap
    assert len(rate_months(b.iloc[1:], NO_TX, ["2024-03", "2024-06"])) == 2


def test_ids_as_numbers_in_one_table_and_text_in_the_other_are_an_error():
    # 1 and "1" never match, so every customer would be split in two, each half under-rated.
    b = bal([(1, "2024-01-01", "fund", 10.0)])
    t = tx([("1", "2024-01-01", "pos_debit", 10.0, 1.0)])
    with pytest.raises(DataError, match="'customer_id': ids are string here but number"):
        aggregate_half_year(b, t, AS_OF)
    t[ID] = t[ID].astype(int)
    assert aggregate_half_year(b, t, AS_OF)[ID].tolist() == [1]
    # categorical and plain text ids do match
    t[ID] = pd.Categorical(["1"])
    b[ID] = "1"
    assert aggregate_half_year(b, t, AS_OF)[ID].tolist() == ["1"]


def test_window_of_rejects_a_bad_number_of_months():
    for months in (0, -6, 2.5, True):
        with pytest.raises(InvalidParameterError, match="months must be an integer"):
            window_of(AS_OF, months)


@pytest.mark.parametrize("kw, match", [
    ({"n_customers": 0}, "n_customers"), ({"n_customers": 2.5}, "n_customers"),
    ({"n_transactions": -1}, "n_transactions"), ({"months": 0}, "months"),
    ({"holdings_per_customer": 0.5}, "holdings_per_customer"),
    ({"days_per_holding": 0}, "days_per_holding"),
])
def test_make_raw_activity_rejects_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        make_raw_activity(**({"n_customers": 10, "n_transactions": 10} | kw))


def test_make_raw_activity_is_deterministic_and_aggregates_without_unknown_codes():
    a, b = make_raw_activity(40, 300, seed=9), make_raw_activity(40, 300, seed=9)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[1]["amount"].equals(make_raw_activity(40, 300, seed=8)[1]["amount"])
    pol = StarPolicy.default()
    assert set(a[0]["product"]) <= set(pol.products) and set(a[1]["business"]) <= set(pol.businesses)


def test_ambiguous_numeric_and_mixed_zone_dates_are_refused_not_guessed():
    # 06/07/2024 is June 7th in one convention and July 6th in another: refuse, name the row.
    t = tx(GOOD_T).astype({"date": object})
    t.loc[1, "date"] = "06/07/2024"
    with pytest.raises(DataError, match="'date': not a date.*positions \\[1"):
        aggregate_half_year(bal(GOOD_B), t, AS_OF)
    t.loc[1, "date"] = "2024/06/07"        # year first is unambiguous
    assert aggregate_half_year(bal(GOOD_B), t, AS_OF)["card_spend"].sum() == 20.0
    t["date"] = [20240101, 20240201]       # would be nanoseconds after 1970
    with pytest.raises(DataError, match="'date': wrong dtype int64"):
        aggregate_half_year(bal(GOOD_B), t, AS_OF)
    t["date"] = ["2024-01-01", "2024-02-01T00:00:00+08:00"]
    with pytest.raises(DataError, match="'date': dates not readable together"):
        aggregate_half_year(bal(GOOD_B), t, AS_OF)


def test_as_of_and_months_must_be_unambiguous_dates():
    with pytest.raises(DataError, match="as_of must be a year-first date.*got .06/30/2024."):
        aggregate_half_year(bal(GOOD_B), tx(GOOD_T), "06/30/2024")
    with pytest.raises(DataError, match="each of months must be a year-first date"):
        rate_months(bal(GOOD_B), tx(GOOD_T), ["06/2024"])
    with pytest.raises(DataError, match="months must be a list"):
        rate_months(bal(GOOD_B), tx(GOOD_T), "2024-06")   # not iterated letter by letter
    assert window_of(pd.Timestamp("2024-06-30 13:00")) == window_of("2024-06-30")


def test_rows_are_cited_by_position_when_the_table_is_indexed_by_customer():
    # Issue 12.7: a raw table indexed by customer id must not put the id in the message.
    b = bal([("CUST-1", "2024-03-01", "fund", 100.0), ("CUST-2", "2024-03-01", "fund", -5.0)])
    b.index = pd.Index(["CUST-1", "CUST-2"], name=ID)
    with pytest.raises(DataError, match=r"'balance': negative balances.*positions \[1\]") as info:
        aggregate_half_year(b, NO_TX, as_of=AS_OF)
    assert "CUST-" not in str(info.value)


# Issue 12.13: finite amounts whose sum overflowed came back as inf star inputs.
def test_overflowing_sums_are_refused_naming_column_and_rows():
    huge = bal([("a", "2024-03-01", "fund", 1.0), ("b", "2024-03-01", "fund", 1.5e308),
                ("b", "2024-03-02", "fund", 1.5e308)])
    with pytest.raises(DataError, match=r"column 'balance': balances rows whose long_term_assets "
                                        r"sum overflows.*positions \[1, 2\]"):
        aggregate_half_year(huge, NO_TX, AS_OF)
    t = tx([("a", "2024-05-02", "pos_debit", 1.7e308, 1.0), ("a", "2024-05-03", "pos_debit", 1.7e308, 1.0)])
    with pytest.raises(DataError, match=r"column 'amount': transactions rows whose card_spend sum "
                                        r"overflows.*positions \[0, 1\]"):
        aggregate_half_year(NO_BAL, t, AS_OF)
    with pytest.raises(DataError, match="overflows"):
        rate_months(NO_BAL, t, ["2024-06"])
    # each value alone is fine: the same rows split between customers aggregate to finite sums
    t.loc[1, "customer_id"] = "b"
    out = aggregate_half_year(NO_BAL, t, AS_OF)
    assert np.isfinite(out[list(STAR_INPUTS)].to_numpy()).all()
