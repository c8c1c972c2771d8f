"""Concept description: t-weights and d-weights against a hand-computed example, text, bad input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.errors import DataError
from bankml.segment import characterize, concept_text, discriminate


@pytest.fixture
def people():
    # buyers (1): (<=30,F) x2, (30-55,F), (30-55,M), (>55,M) x2
    # non-buyers (0): (<=30,F), (30-55,F) x2, (>55,M), (30-55,M), (<=30,M)
    # one customer of a third class (2): (<=30,F)
    return pd.DataFrame({
        "age":    [25, 28, 40, 45, 60, 62, 22, 35, 50, 70, 33, 29, 26],
        "gender": ["F", "F", "F", "M", "M", "M", "F", "F", "F", "M", "M", "M", "F"],
        "buyer":  [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2],
    }, index=np.arange(100, 113))


def _as_dict(table, weight):
    return {(str(a), g): w for a, g, w in zip(table["age"], table["gender"], table[weight])}


def test_t_weights_match_hand_count(people):
    t = characterize(people, people["buyer"] == 1, attributes=["age", "gender"])
    assert _as_dict(t, "count") == {("<=30", "F"): 2, ("30-55", "F"): 1, ("30-55", "M"): 1,
                                    (">55", "M"): 2}
    assert _as_dict(t, "t_weight") == pytest.approx(
        {("<=30", "F"): 2 / 6, ("30-55", "F"): 1 / 6, ("30-55", "M"): 1 / 6, (">55", "M"): 2 / 6})
    # most typical first, ties in hierarchy order
    assert [str(a) for a in t["age"]] == ["<=30", ">55", "30-55", "30-55"]


def test_d_weights_match_hand_count(people):
    d = discriminate(people, people["buyer"] == 1, people["buyer"] == 0,
                     attributes=["age", "gender"])
    assert _as_dict(d, "d_weight") == pytest.approx(
        {("<=30", "F"): 2 / 3, ("30-55", "F"): 1 / 3, ("30-55", "M"): 1 / 2, (">55", "M"): 2 / 3})
    assert _as_dict(d, "count_contrast") == {("<=30", "F"): 1, ("30-55", "F"): 2,
                                             ("30-55", "M"): 1, (">55", "M"): 1}
    assert _as_dict(d, "t_weight")[("<=30", "F")] == pytest.approx(2 / 6)
    # (<=30, M) occurs only among non-buyers: no rule for buyers
    assert ("<=30", "M") not in _as_dict(d, "d_weight")
    assert list(d["d_weight"]) == sorted(d["d_weight"], reverse=True)


def test_default_contrast_is_every_other_row(people):
    d = discriminate(people, people["buyer"] == 1, attributes=["age", "gender"])
    # the third-class customer (26, F) now joins the contrast
    assert _as_dict(d, "d_weight")[("<=30", "F")] == pytest.approx(2 / 4)


def test_seed_example_counts_add_up():
    from bankml.datasets import load_seed_example

    df = load_seed_example()
    buyers = df["wm_buyer"] == 1
    t = characterize(df, buyers, attributes=["age_band", "deposit_band", "education", "gender"])
    assert t["count"].sum() == buyers.sum() == 16
    assert t["t_weight"].sum() == pytest.approx(1.0)
    d = discriminate(df, buyers, attributes=["deposit_band"])
    for band, row in d.set_index("deposit_band").iterrows():
        in_band = df["deposit_band"] == band
        assert row["d_weight"] == pytest.approx((in_band & buyers).sum() / in_band.sum())


def test_numeric_with_few_values_and_missing_level(people):
    df = people.assign(city_tier=[1, 1, 2, 2, 3, 3, 1, 2, 3, 4, 4, 1, 1],
                       gender=people["gender"].where(people.index != 100))
    t = characterize(df, df["buyer"] == 1, attributes=["gender", "city_tier"])
    assert t["count"].sum() == 6
    assert t["gender"].isna().sum() == 1
    assert t.loc[t["gender"].isna(), "condition"].iloc[0] == "gender = missing AND city tier = 1"


def test_texts_are_bilingual(people):
    d = discriminate(people, people["buyer"] == 1, people["buyer"] == 0,
                     attributes=["age", "gender"], target_name="WM", lang="zh")
    assert d["condition"].iloc[0] == "年龄 <=30 且 性别 = 女"
    zh = concept_text(d, lang="zh", top=1)
    assert zh == "对所有 X，WM(X) ⇐ [年龄 <=30 且 性别 = 女] [区分度 d: 66.67%]"
    en = concept_text(d, lang="en", top=2)
    assert en == ("for all X, WM(X) ⇐ [age <=30 AND gender = female] [d: 66.67%] OR "
                  "[age >55 AND gender = male] [d: 66.67%]")
    with pytest.raises(DataError, match="characterize"):
        concept_text(pd.DataFrame({"a": [1]}))


def test_bands_argument_overrides_config(people):
    t = characterize(people, people["buyer"] == 1, attributes=["age"], bands={"age": [40]})
    assert _as_dict(t.assign(gender="-"), "count") == {("<=40", "-"): 3, (">40", "-"): 3}


@pytest.mark.parametrize("kwargs, message", [
    (dict(mask=[True, False]), "has 2 entries but the table has 13 rows"),
    (dict(mask=np.zeros(13, bool)), "selects no rows"),
    (dict(mask=pd.Series([True] * 13)), "index does not match"),
    (dict(mask=np.array(["y"] * 13)), "must be boolean"),
    (dict(mask=pd.Series([True, None] + [False] * 11, index=np.arange(100, 113),
                         dtype="boolean")), "missing entries"),
    (dict(attributes=["age", "nope"]), "not columns"),
    (dict(attributes=["income"]), "need a concept hierarchy"),
    (dict(attributes=["empty"]), "entirely missing"),
    (dict(attributes=["count"]), "names of result columns"),
])
def test_bad_input_characterize(people, kwargs, message):
    df = people.assign(income=np.arange(13) * 1000.0, empty=np.nan, count="x")
    args = dict(mask=df["buyer"] == 1, attributes=["age", "gender"]) | kwargs
    with pytest.raises(DataError, match=message):
        characterize(df, **args)


def test_bad_input_discriminate(people):
    buyers = people["buyer"] == 1
    with pytest.raises(DataError, match="overlap in 6 row"):
        discriminate(people, buyers, people["buyer"] >= 0, attributes=["gender"])
    with pytest.raises(DataError, match="no contrasting class"):
        discriminate(people, people["buyer"] >= 0, attributes=["gender"])
    with pytest.raises(DataError, match="contrast_mask selects no rows"):
        discriminate(people, buyers, people["buyer"] == 5, attributes=["gender"])
    with pytest.raises(DataError, match="empty"):
        discriminate(people.head(0), [], attributes=["gender"])


def test_relevance_matches_the_paper_gains():
    from bankml.datasets import load_seed_example

    df = load_seed_example()
    attrs = ["age_band", "deposit_band", "education", "gender"]
    t = characterize(df, df["wm_buyer"] == 1, attributes=attrs, max_attributes=2)
    gains = t.attrs["relevance"]
    # DOMAIN.md: Gain(deposit) = 0.01852, Gain(education) = 0.01772, Gain(gender) = 0.01447
    assert gains["deposit_band"] == pytest.approx(0.01852, abs=1e-4)
    assert gains["education"] == pytest.approx(0.01772, abs=1e-4)
    assert gains["gender"] == pytest.approx(0.01447, abs=2e-4)
    assert t.attrs["attributes"] == ["deposit_band", "education"]
    assert [c for c in t.columns if c in attrs] == ["deposit_band", "education"]
    assert t["count"].sum() == 16


def test_relevance_hand_example(people):
    # gender alone: buyers F 3 / M 3, non-buyers F 3 / M 3 -> no information
    d = discriminate(people, people["buyer"] == 1, people["buyer"] == 0,
                     attributes=["gender", "age"], max_attributes=1)
    assert d.attrs["relevance"]["gender"] == pytest.approx(0.0)
    # age: <=30 2|2, 30-55 2|3, >55 2|1 over 12 customers
    h = lambda a, b: -sum(p * np.log2(p) for p in (a / (a + b), b / (a + b)) if p > 0)  # noqa: E731
    expected = 1.0 - (4 / 12 * h(2, 2) + 5 / 12 * h(2, 3) + 3 / 12 * h(2, 1))
    assert d.attrs["relevance"]["age"] == pytest.approx(expected)
    assert d.attrs["attributes"] == ["age"]
    with pytest.raises(DataError, match="max_attributes"):
        discriminate(people, people["buyer"] == 1, attributes=["gender"], max_attributes=0)
    with pytest.raises(DataError, match="selects every row"):
        characterize(people, people["buyer"] >= 0, attributes=["gender"], max_attributes=1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(0, 2)),
                min_size=2, max_size=40))
def test_weights_add_up_on_random_tables(rows):
    df = pd.DataFrame(rows, columns=["p", "q", "cls"])
    target, contrast = df["cls"] == 1, df["cls"] == 2
    if not target.any() or not contrast.any():
        return
    t = characterize(df, target, attributes=["p", "q"])
    assert t["count"].sum() == target.sum()
    assert t["t_weight"].sum() == pytest.approx(1.0)
    d = discriminate(df, target, contrast, attributes=["p", "q"])
    assert d["count_target"].sum() == target.sum()
    assert ((d["d_weight"] > 0) & (d["d_weight"] <= 1)).all()
    for _, r in d.iterrows():
        in_tuple = (df["p"] == r["p"]) & (df["q"] == r["q"])
        assert r["count_contrast"] == (in_tuple & contrast).sum()
        assert r["d_weight"] == pytest.approx((in_tuple & target).sum()
                                              / (in_tuple & (target | contrast)).sum())
