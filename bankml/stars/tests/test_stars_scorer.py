"""StarScorer against hand-computed examples from DOMAIN.md section 1."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.errors import DataError, SchemaError
from bankml.schema import HOLDING_FLAGS, ID, STAR_INPUTS
from bankml.stars import StarPolicy, StarScorer


def table(rows, flags=False):
    """Customers from {input: yuan} dicts; unspecified inputs are zero."""
    df = pd.DataFrame([dict.fromkeys(STAR_INPUTS, 0.0) | r for r in rows])
    if flags:
        for f in HOLDING_FLAGS:
            df[f] = np.int8(0)
        df[ID] = [f"c{i}" for i in range(len(df))]
    return df


@pytest.fixture(scope="module")
def scorer():
    return StarScorer()


# (inputs in yuan, hand-computed points): points = yuan / 10,000 x weight per 10k yuan.
HAND = [
    ({"short_term_assets": 10_000}, 135.0),                       # 1 x 135
    ({"long_term_assets": 10_000}, 100.0),                        # 1 x 100
    ({"mortgage_loans": 10_000}, 100.0),
    ({"other_loans": 10_000}, 200.0),
    ({"card_overdraft": 10_000}, 200.0),
    ({"investment_tx": 10_000}, 200.0),
    ({"card_spend": 10_000}, 400.0),
    ({"settlement_tx": 10_000}, 200.0),
    # a mixed customer: 3 x 135 + 50 x 100 + 20 x 100 + 2 x 400 = 405 + 5000 + 2000 + 800
    ({"short_term_assets": 30_000, "long_term_assets": 500_000, "mortgage_loans": 200_000,
      "card_spend": 20_000}, 8205.0),
]


@pytest.mark.parametrize("inputs, points", HAND)
def test_points_match_hand_computation(scorer, inputs, points):
    assert scorer.star_points(table([inputs])).iloc[0] == pytest.approx(points, rel=1e-12)


# One example per level plus every boundary (P in points, level expected).
LEVELS = [
    (0.0, 0), (0.0001, 1), (1.0, 1), (49.99, 1), (50.0, 3), (300.0, 3), (499.99, 3),
    (500.0, 4), (1_000.0, 4), (1_999.99, 4), (2_000.0, 5), (5_000.0, 5), (9_999.99, 5),
    (10_000.0, 6), (50_000.0, 6), (79_999.99, 6), (80_000.0, 7), (1e9, 7),
]


@pytest.mark.parametrize("points, level", LEVELS)
def test_contribution_star_boundaries_from_points(scorer, points, level):
    assert scorer.contribution_star(pd.Series([points])).iloc[0] == level


@pytest.mark.parametrize("points, level", LEVELS)
def test_contribution_star_boundaries_from_inputs(scorer, points, level):
    # long_term_assets weighs 100 per 10k yuan: P points need P x 100 yuan.
    df = table([{"long_term_assets": points * 100}])
    got_points = scorer.star_points(df).iloc[0]
    assert got_points == pytest.approx(points, rel=1e-12)
    if points in (50.0, 500.0, 2_000.0, 10_000.0, 80_000.0, 0.0):
        assert got_points == points  # boundaries are computed exactly, not within rounding
    assert scorer.contribution_star(df).iloc[0] == level


def test_exactly_80000_from_short_term_assets_is_seven_stars(scorer):
    # 80,000 points = 80,000 / 135 x 10,000 yuan is not a whole number of yuan; the nearest
    # yuan amounts fall on either side of the boundary.
    below = 80_000 / 135 * 10_000 - 0.01
    above = 80_000 / 135 * 10_000 + 0.01
    levels = scorer.contribution_star(table([{"short_term_assets": below},
                                             {"short_term_assets": above}])).tolist()
    assert levels == [6, 7]


def test_output_aligned_to_index_and_typed(scorer):
    df = table([{"card_spend": 10_000}, {"card_spend": 0}]).set_axis(["x", "y"])
    pts = scorer.star_points(df)
    lv = scorer.contribution_star(df)
    assert list(pts.index) == ["x", "y"] and pts.dtype == np.float64 and pts.name == "star_points"
    assert list(lv.index) == ["x", "y"] and lv.dtype == np.int8 and lv.tolist() == [3, 0]


def test_large_table_in_blocks_matches_direct_formula(scorer):
    rng = np.random.default_rng(0)
    n = 100_003  # not a multiple of the block size
    X = rng.lognormal(8, 2, size=(n, 8)) * (rng.random((n, 8)) < 0.6)
    df = pd.DataFrame(X, columns=STAR_INPUTS)
    w = np.array([135, 100, 100, 200, 200, 200, 400, 200], dtype=float)
    expected = X @ w / 10_000
    np.testing.assert_allclose(scorer.star_points(df).to_numpy(), expected, rtol=1e-12)
    edges = [50, 500, 2_000, 10_000, 80_000]
    lv = np.where(expected == 0, 0, np.array([1, 3, 4, 5, 6, 7])[np.searchsorted(edges, expected, "right")])
    np.testing.assert_array_equal(scorer.contribution_star(df).to_numpy(), lv)


def test_integer_and_nullable_dtypes_accepted(scorer):
    df = table([{"card_spend": 10_000}])
    df["card_spend"] = df["card_spend"].astype("Int64")
    df["long_term_assets"] = df["long_term_assets"].astype("int32")
    assert scorer.star_points(df).iloc[0] == 400.0


@pytest.mark.parametrize("col, value, check", [
    ("short_term_assets", np.nan, "missing values"),
    ("card_spend", -1.0, "negative"),
    ("settlement_tx", np.inf, "infinite"),
])
def test_bad_values_name_column_and_rows(scorer, col, value, check):
    df = table([{}, {}, {}]).set_axis([10, 11, 12])
    df.loc[12, col] = value
    with pytest.raises(SchemaError, match=check) as err:
        scorer.star_points(df)
    text = str(err.value)
    # issue 12.7: the third row by position, never its index label 12 (often a customer id)
    assert repr(col) in text and "positions [2]" in text and "12" not in text
    assert [p.column for p in err.value.problems] == [col]


def test_missing_and_non_numeric_columns(scorer):
    df = table([{}]).drop(columns=["card_spend"])
    with pytest.raises(SchemaError, match="'card_spend': missing column"):
        scorer.star_points(df)
    df = table([{}]).astype({"investment_tx": str})
    with pytest.raises(SchemaError, match="'investment_tx': wrong dtype"):
        scorer.contribution_star(df)


def test_bad_points_rejected(scorer):
    with pytest.raises(DataError, match="finite and >= 0.*positions \\[1"):
        scorer.contribution_star(pd.Series([1.0, np.nan]))
    with pytest.raises(DataError, match="positions \\[0"):
        scorer.contribution_star([-5.0])


# -- service star -------------------------------------------------------------------------------
UPGRADES = [("has_private_banking", 7), ("has_premier_wealth_card", 6), ("has_platinum_card", 6),
            ("has_wm_account", 5), ("has_gold_card", 5), ("has_standard_card", 4)]


@pytest.mark.parametrize("flag, level", UPGRADES)
def test_every_instant_upgrade_raises_a_not_rated_customer(scorer, flag, level):
    df = table([{}, {}], flags=True)
    df.loc[0, flag] = 1
    levels, audit = scorer.service_star(df)
    assert levels.tolist() == [level, 0]
    assert audit[[ID, "from_level", "to_level", "source", "rule"]].values.tolist() == [
        ["c0", 0, level, "upgrade", flag]]


@pytest.mark.parametrize("flag, level", UPGRADES)
def test_upgrades_never_lower(scorer, flag, level):
    df = table([{"long_term_assets": 8_000_000}], flags=True)   # 80,000 points: 7 stars
    df.loc[0, flag] = 1
    levels, audit = scorer.service_star(df)
    assert levels.tolist() == [7] and audit.empty


def test_highest_upgrade_wins_and_is_named(scorer):
    df = table([{"card_spend": 20_000}], flags=True)            # 800 points: 4 stars
    df.loc[0, ["has_standard_card", "has_gold_card", "has_platinum_card"]] = 1
    levels, audit = scorer.service_star(df)
    assert levels.tolist() == [6]
    assert audit["rule"].tolist() == ["has_platinum_card"] and audit["from_level"].tolist() == [4]


def manual_rows(**cols):
    base = {ID: ["c1"], "level": [6], "reason": ["key client"], "who": ["mgr7"],
            "when": ["2024-06-30"]}
    return pd.DataFrame(base | cols)


def test_manual_adjustment_after_upgrades_with_audit(scorer):
    df = table([{}, {"card_spend": 2_000}, {}], flags=True)      # c1: 80 points, 3 stars
    df.loc[0, "has_wm_account"] = 1
    levels, audit = scorer.service_star(df, manual=manual_rows())
    assert levels.tolist() == [5, 6, 0]
    assert audit[[ID, "from_level", "to_level", "source", "rule", "who"]].values.tolist() == [
        ["c0", 0, 5, "upgrade", "has_wm_account", None],
        ["c1", 3, 6, "manual", "manual", "mgr7"]]
    assert audit.loc[1, "when"] == pd.Timestamp("2024-06-30")


def test_manual_can_lower_under_the_default_policy_but_not_when_forbidden(scorer):
    # DOMAIN.md: only instant upgrades are upward-only; manual adjustment is not restricted.
    df = table([{}, {"long_term_assets": 8_000_000}], flags=True)
    levels, audit = scorer.service_star(df, manual=manual_rows(level=[4]))
    assert levels.tolist() == [0, 4] and audit["from_level"].tolist() == [7]
    strict = StarScorer(StarPolicy.from_dict(StarPolicy.default().to_dict()
                                             | {"manual_can_lower": False}))
    with pytest.raises(DataError, match=r"lower service stars.*manual table 1 row\(s\), positions \[0\]"):
        strict.service_star(df, manual=manual_rows(level=[4]))
    assert strict.service_star(df, manual=manual_rows(level=[7])).levels.tolist() == [0, 7]


@pytest.mark.parametrize("change, match", [
    ({"level": [2]}, "'level': not a star level"),
    ({"level": [None]}, "'level': missing values"),
    ({ID: ["nobody"]}, "customer not in the scored table"),
    ({"when": ["not a date"]}, "'when': not a date"),
    ({"who": [None]}, "'who': missing values"),
])
def test_bad_manual_tables(scorer, change, match):
    df = table([{}, {}], flags=True)
    with pytest.raises(DataError, match=match):
        scorer.service_star(df, manual=manual_rows(**change))


def test_manual_duplicates_and_extra_columns(scorer):
    df = table([{}, {}], flags=True)
    two = pd.concat([manual_rows(), manual_rows()], ignore_index=True)
    with pytest.raises(DataError, match="more than one adjustment.*positions \\[0, 1"):
        scorer.service_star(df, manual=two)
    with pytest.raises(DataError, match="unexpected columns"):
        scorer.service_star(df, manual=manual_rows(branch=["x"]))


def test_service_star_needs_flags_and_ids(scorer):
    df = table([{}], flags=True).drop(columns=["has_gold_card"])
    with pytest.raises(SchemaError, match="'has_gold_card': missing column"):
        scorer.service_star(df)
    df = table([{}], flags=True)
    df.loc[0, "has_wm_account"] = 2
    with pytest.raises(SchemaError, match="'has_wm_account': values too large"):
        scorer.service_star(df)


# -- explain --------------------------------------------------------------------------------------
def test_explain_both_languages(scorer):
    row = table([{"short_term_assets": 30_000, "card_spend": 20_000}]).iloc[0]
    en = scorer.explain(row, lang="en")
    zh = scorer.explain(row, lang="zh")
    assert en.loc["short_term_assets", "points"] == pytest.approx(405.0)
    assert en.loc["card_spend", "points"] == pytest.approx(800.0)
    assert en.loc["total", "points"] == pytest.approx(1205.0)
    # regression (issue 17): the total row printed NaN for amount and weight
    for t in (en, zh):
        assert not t.isna().any().any()
        assert t.loc["total", "amount"] == pytest.approx(50_000.0)
        assert t.loc["total", "weight"] == pytest.approx(1205.0 * scorer.policy.unit / 50_000.0)
        assert "NaN" not in t.to_string()
    empty = scorer.explain(table([{}]).iloc[0])
    assert empty.loc["total", ["amount", "weight", "points"]].tolist() == [0.0, 0.0, 0.0]
    assert en.loc["card_spend", "item"] == "card spending" and zh.loc["card_spend", "item"] == "刷卡消费额"
    assert en.attrs["contribution_star"] == "4 stars" and zh.attrs["contribution_star"] == "四星级"
    with pytest.raises(ValueError, match="lang"):
        scorer.explain(row, lang="fr")


def test_levels_equal_searchsorted_at_and_around_every_edge(scorer):
    pol = scorer.policy
    th = np.array([pol.thresholds[lv] for lv in (3, 4, 5, 6, 7)])
    pts = np.concatenate([[0.0, 5e-324, 1e300], th, np.nextafter(th, 0), np.nextafter(th, np.inf),
                          np.random.default_rng(1).lognormal(6, 3, 100_000)])
    expected = pol.level_of_bin[np.searchsorted(pol.edges, pts, side="right")]
    np.testing.assert_array_equal(scorer.contribution_star(pts).to_numpy(), expected)
    assert scorer.contribution_star(np.array([])).size == 0


_amounts = st.lists(st.floats(0, 1e9, allow_nan=False), min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(_amounts, st.integers(0, 7), st.floats(0, 1e8, allow_nan=False),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_more_business_never_lowers_points_levels_or_service(a, item, extra, flags):
    scorer = StarScorer()
    base = table([dict(zip(STAR_INPUTS, a))], flags=True)
    more = base.copy()
    more.iloc[0, item] += extra
    for f, on in zip([u for u, _ in UPGRADES], flags):
        base.loc[0, f] = more.loc[0, f] = int(on)
    assert scorer.star_points(more).iloc[0] >= scorer.star_points(base).iloc[0]
    c0, c1 = scorer.contribution_star(base).iloc[0], scorer.contribution_star(more).iloc[0]
    assert c1 >= c0
    s0 = scorer.service_star(base).levels.iloc[0]
    s1 = scorer.service_star(more).levels.iloc[0]
    assert s1 >= s0 >= c0
    expected_floor = max([lv for (f, lv), on in zip(UPGRADES, flags) if on], default=0)
    assert s0 == max(c0, expected_floor)


def test_manual_adjustments_with_repeated_scored_ids_name_the_rows(scorer):
    # Which of two "c1" rows would the adjustment hit? Refuse, naming both rows.
    df = table([{}, {}, {}], flags=True).set_axis([10, 11, 12])
    df[ID] = ["c0", "c1", "c1"]
    with pytest.raises(SchemaError, match="'customer_id': duplicate customer ids.*positions \\[1, 2\\]"):
        scorer.service_star(df, manual=manual_rows())


# Issue 12.10: a manual adjustment dated 06/07/2024 was guessed month-first.
def test_manual_when_is_year_first_only(scorer):
    df = table([{}, {"card_spend": 2_000}, {}], flags=True)
    _, audit = scorer.service_star(df, manual=manual_rows(when=["2024-06-07"]))
    assert (audit["when"].dropna() == pd.Timestamp("2024-06-07")).all()
    assert (audit["when"].dropna().size) >= 1
    with pytest.raises(DataError, match=r"'when': not a date/time \(expected year-first.*positions \[0\]"):
        scorer.service_star(df, manual=manual_rows(when=["06/07/2024"]))
