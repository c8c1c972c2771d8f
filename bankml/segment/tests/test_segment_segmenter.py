"""CustomerSegmenter: recovers planted segments, profiles and names them, refuses bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from bankml.errors import DataError
from bankml.segment import CustomerSegmenter


def _planted(n_per=400, seed=0):
    """Three customer groups with distinct balances and activity (log-normal, as in banks)."""
    rng = np.random.default_rng(seed)
    centres = [(2_000, 200_000, 10), (150_000, 5_000, 150), (20_000, 20_000, 50)]
    rows, truth = [], []
    for g, (short, long_, tx) in enumerate(centres):
        rows.append(pd.DataFrame({
            "short_term_assets": short * rng.lognormal(0, 0.25, n_per),
            "long_term_assets": long_ * rng.lognormal(0, 0.25, n_per),
            "tx_count_6m": rng.poisson(tx, n_per),
        }))
        truth += [g] * n_per
    df = pd.concat(rows, ignore_index=True)
    order = rng.permutation(len(df))
    return df.iloc[order].reset_index(drop=True), np.asarray(truth)[order]


@pytest.mark.parametrize("n_clusters", ["auto", 3])
def test_recovers_planted_clusters(n_clusters):
    df, truth = _planted()
    seg = CustomerSegmenter(n_clusters=n_clusters, k_range=(2, 6), random_state=0).fit(df)
    assert seg.n_clusters_ == 3
    assert adjusted_rand_score(truth, seg.labels_) > 0.9
    # predict on fresh customers from the same groups agrees with the truth too
    new, new_truth = _planted(n_per=100, seed=1)
    assert adjusted_rand_score(new_truth, seg.predict(new)) > 0.9


def test_auto_keeps_k_scores_and_picks_the_best():
    df, _ = _planted()
    seg = CustomerSegmenter(k_range=(2, 5), random_state=0).fit(df)
    assert list(seg.k_scores_.index) == [2, 3, 4, 5]
    assert seg.n_clusters_ == int(seg.k_scores_.idxmax())


def test_deterministic_with_random_state():
    df, _ = _planted()
    a = CustomerSegmenter(random_state=3, k_range=(2, 4)).fit(df)
    b = CustomerSegmenter(random_state=3, k_range=(2, 4)).fit(df)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    pd.testing.assert_series_equal(a.k_scores_, b.k_scores_)


def test_profile_sizes_value_share_and_names():
    df, truth = _planted()
    df["star_points"] = np.where(truth == 0, 3.0, 1.0)
    seg = CustomerSegmenter(n_clusters=3, features=["short_term_assets", "long_term_assets",
                                                    "tx_count_6m"]).fit(df)
    prof = seg.profile()
    assert prof["size"].sum() == len(df)
    assert prof["share"].sum() == pytest.approx(1.0)
    # the group holding long-term assets (truth 0) has 3/5 of star points
    seg0 = pd.Series(seg.labels_[truth == 0]).mode()[0]
    assert prof.loc[seg0, "value_share"] == pytest.approx(0.6)
    assert prof.loc[seg0, "smd_long_term_assets"] > 1
    assert prof.loc[seg0, "smd_tx_count_6m"] < -1
    # its long-term balance is high but its short-term one below everyone's median: "high
    # balance" would contradict the profile (issue 17), so only the activity names it
    assert prof.loc[seg0, "name"] == "low activity"
    zh = seg.profile(lang="zh")
    assert zh.loc[seg0, "客群名称"] == "低活跃"
    # regression (issue 17): Chinese profiles kept English headings
    assert list(zh.columns[:5]) == ["客群名称", "客户数", "客户占比", "价值占比", "区分特征"]
    assert zh.index.name == "客群" and "标准化均值差：中长期资产" in zh.columns
    assert not any(c.isascii() for c in zh.columns)
    np.testing.assert_allclose(zh["客户数"], prof["size"])
    # value given explicitly: as a Series aligned with the training rows, and as a column
    doubled = seg.profile(value=df["star_points"] * 2)
    np.testing.assert_allclose(doubled["value_share"], prof["value_share"])
    on_new = seg.profile(df, value="star_points")
    np.testing.assert_allclose(on_new["value_share"], prof["value_share"])


def test_profile_without_value_has_nan_share():
    df, _ = _planted()
    prof = CustomerSegmenter(n_clusters=3).fit(df).profile()
    assert prof["value_share"].isna().all()


@pytest.mark.parametrize("scaling", ["log1p", "quantile"])
def test_smd_matches_direct_computation(scaling):
    from scipy.stats import rankdata

    df, _ = _planted()
    seg = CustomerSegmenter(n_clusters=3, scaling=scaling).fit(df)
    x = df["short_term_assets"].to_numpy()
    if scaling == "log1p":
        x = np.log1p(x)
    else:
        # the rank scale: monotone, and the profile is on the scale the clustering sees
        x = seg.transformer_.transform(df[seg.features_].to_numpy(float))[:, 0]
        assert (np.diff(x[np.argsort(rankdata(df["short_term_assets"]))]) >= 0).all()
    x = (x - x.mean()) / x.std()
    inside, outside = x[seg.labels_ == 1], x[seg.labels_ != 1]
    expected = (inside.mean() - outside.mean()) / np.sqrt((inside.var() + outside.var()) / 2)
    assert seg.profile().loc[1, "smd_short_term_assets"] == pytest.approx(expected)


def test_default_features_on_customer_table():
    from bankml.datasets import make_customers
    from bankml.segment._config import segment_config

    df = make_customers(1500, seed=2)
    seg = CustomerSegmenter(n_clusters=4).fit(df)
    assert seg.features_ == segment_config()["segmenter"]["features"]
    assert len(seg.predict(df)) == len(df)


def test_kprototypes_mixed_data():
    df, truth = _planted(n_per=150)
    df["channel"] = np.where(truth == 1, "mobile", np.where(truth == 0, "branch", "atm"))
    seg = CustomerSegmenter(n_clusters="auto", method="kprototypes", k_range=(2, 4),
                            random_state=0).fit(df)
    assert seg.categorical_features_ == ["channel"]
    assert adjusted_rand_score(truth, seg.labels_) > 0.9
    prof = seg.profile()
    assert "smd_channel=mobile" in prof.columns
    assert prof["name"].str.contains("mostly").any()
    # the same segments named in Chinese: "<value>为主" for a dominant category
    zh = seg.profile(lang="zh")
    assert (zh["客群名称"].str.contains("为主") == prof["name"].str.contains("mostly")).all()
    np.testing.assert_array_equal(seg.predict(df), seg.labels_)


@pytest.mark.parametrize("make_bad, message", [
    (lambda d: d.assign(short_term_assets=np.nan), "entirely missing"),
    (lambda d: d.assign(short_term_assets=d["short_term_assets"].where(d.index != 5)),
     "missing values"),
    (lambda d: d.assign(tx_count_6m=7), "constant"),
    (lambda d: d.assign(long_term_assets=-d["long_term_assets"]), "negative"),
    (lambda d: d.assign(segment_code="a"), "not numeric"),
    (lambda d: d.head(2), "n_samples=2 is fewer than n_clusters=3"),
])
def test_bad_input_is_refused_clearly(make_bad, message):
    df, _ = _planted(n_per=20)
    with pytest.raises(DataError, match=message):
        CustomerSegmenter(n_clusters=3).fit(make_bad(df))


def test_bad_features_and_methods():
    df, _ = _planted(n_per=20)
    with pytest.raises(DataError, match="not columns"):
        CustomerSegmenter(features=["nope"]).fit(df)
    with pytest.raises(DataError, match="categorical"):
        CustomerSegmenter(method="kprototypes").fit(df)
    with pytest.raises(DataError, match=r"categorical features \['channel'\] are constant"):
        CustomerSegmenter(method="kprototypes", n_clusters=2).fit(df.assign(channel="atm"))
    with pytest.raises(DataError, match="n_samples=2 is fewer than n_clusters=3"):
        CustomerSegmenter(method="kprototypes", n_clusters=3).fit(
            df.head(2).assign(channel=["atm", "branch"]))
    with pytest.raises(DataError, match="too few"):
        CustomerSegmenter(k_range=(3, 5)).fit(df.head(3))
    with pytest.raises(ValueError, match="n_clusters"):
        CustomerSegmenter(n_clusters=0).fit(df)


def test_plots_return_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df, _ = _planted(n_per=100)
    seg = CustomerSegmenter(k_range=(2, 4)).fit(df)
    fig = seg.plot_profiles()
    assert fig.axes[0].images[0].get_array().shape == (seg.n_clusters_, 3)
    assert len(fig.axes[0].texts) == seg.n_clusters_ * 3  # each SMD written in its cell
    zh = seg.plot_profiles(lang="zh")
    assert [t.get_text() for t in zh.axes[0].get_xticklabels()][0] == "短期资产"
    fig2 = seg.plot_k_scores()
    assert list(fig2.axes[0].lines[0].get_xdata()) == [2, 3, 4]
    plt.close("all")
    with pytest.raises(DataError, match="auto"):
        CustomerSegmenter(n_clusters=2).fit(df).plot_k_scores()


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")
def test_fewer_distinct_customers_than_segments():
    df = pd.DataFrame({"a": [1.0, 1.0, 2.0, 2.0, 1.0], "b": [0.0, 0.0, 5.0, 5.0, 0.0]})
    with pytest.raises(DataError, match="only 2 of n_clusters=3"):
        CustomerSegmenter(n_clusters=3).fit(df)


def test_predict_and_profile_bad_input():
    df, truth = _planted(n_per=30)
    seg = CustomerSegmenter(n_clusters=3).fit(df)
    with pytest.raises(DataError, match=r"\['tx_count_6m'\] used in fit are missing"):
        seg.predict(df.drop(columns="tx_count_6m"))
    with pytest.raises(DataError, match="missing values"):
        seg.predict(df.assign(tx_count_6m=df["tx_count_6m"].where(df.index > 3)))
    with pytest.raises(DataError, match="has 5 entries but the segmented table has 90 rows"):
        seg.profile(value=np.ones(5))
    with pytest.raises(DataError, match="missing entries"):
        seg.profile(value=np.r_[np.nan, np.ones(89)])
    with pytest.raises(DataError, match="names a column"):
        seg.profile(value="star_points")
    with pytest.raises(ValueError, match="lang"):
        seg.profile(lang="fr")


@pytest.mark.parametrize("dtype", ["object", "category", "string", "str"])
def test_kprototypes_accepts_every_text_dtype(dtype):
    df, truth = _planted(n_per=60)
    df["channel"] = pd.Series(np.where(truth == 1, "mobile", "branch")).astype(dtype)
    seg = CustomerSegmenter(n_clusters=3, method="kprototypes").fit(df)
    assert seg.categorical_features_ == ["channel"]
    base = CustomerSegmenter(n_clusters=3, method="kprototypes").fit(df.assign(
        channel=df["channel"].astype(object)))
    np.testing.assert_array_equal(seg.labels_, base.labels_)


def test_auto_sample_is_deterministic_and_used():
    # 1,200 rows, silhouette scored on a 300-row sample: the sample and every fit follow
    # random_state, so two fits agree exactly; another seed draws another sample.
    df, _ = _planted()
    a = CustomerSegmenter(k_range=(2, 5), sample_size=300, random_state=7).fit(df)
    b = CustomerSegmenter(k_range=(2, 5), sample_size=300, random_state=7).fit(df)
    pd.testing.assert_series_equal(a.k_scores_, b.k_scores_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    full = CustomerSegmenter(k_range=(2, 5), sample_size=len(df), random_state=7).fit(df)
    other = CustomerSegmenter(k_range=(2, 5), sample_size=300, random_state=8).fit(df)
    assert not np.allclose(a.k_scores_, full.k_scores_)
    assert not np.allclose(a.k_scores_, other.k_scores_)


def test_kprototypes_deterministic_with_random_state():
    df, truth = _planted(n_per=50)
    df["channel"] = np.where(truth == 1, "mobile", "branch")
    fits = [CustomerSegmenter(method="kprototypes", k_range=(2, 4), sample_size=120,
                              random_state=5).fit(df) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    pd.testing.assert_series_equal(fits[0].k_scores_, fits[1].k_scores_)
    np.testing.assert_array_equal(fits[0].predict(df), fits[1].predict(df))


def test_sample_too_small_for_k_range():
    df, _ = _planted(n_per=20)
    with pytest.raises(DataError, match="sample_size=4 rows leave no k of k_range=\\(5, 8\\)"):
        CustomerSegmenter(k_range=(5, 8), sample_size=4).fit(df)


def test_star_points_with_gaps_does_not_stop_fit_but_profile_says_so():
    # star_points is not a feature: segmenting still works; profile() needs it, so it
    # names the column there, and an explicit value= still works.
    df, truth = _planted(n_per=30)
    feats = list(df.columns)
    df["star_points"] = np.where(df.index == 4, np.nan, 1.0)
    seg = CustomerSegmenter(n_clusters=3, features=feats).fit(df)
    assert seg.labels_.shape == (90,)
    with pytest.raises(DataError, match="column 'star_points' has 1 missing entries"):
        seg.profile()
    prof = seg.profile(value=np.ones(90))
    assert prof["value_share"].sum() == pytest.approx(1.0)


def test_rows_are_cited_by_position_never_by_customer_id():
    # Issue 12.7: the segmenter's messages name row positions, not index labels (ids).
    df, _ = _planted(n_per=20)
    df = df.set_axis([f"CUST-{i}" for i in range(len(df))])
    df.iloc[7, df.columns.get_loc("short_term_assets")] = np.nan
    with pytest.raises(DataError, match=r"missing values \(NaN\) in 1 row\(s\), positions \[7\]") as info:
        CustomerSegmenter(n_clusters=3).fit(df)
    assert "CUST-" not in str(info.value)


def test_bool_flags_are_categories_as_everywhere_in_bankml():
    # Issue 16.3: one "category or number?" answer (bankml._dtypes): a bool column is a
    # category, for the segmenter as for the schema, the tree and the rules.
    df, _ = _planted(n_per=30)
    df["vip"] = np.arange(len(df)) % 2 == 0
    with pytest.raises(DataError, match=r"columns \['vip'\] are not numeric.*astype\(int\)"):
        CustomerSegmenter(n_clusters=3, method="kmeans").fit(df)
    seg = CustomerSegmenter(n_clusters=3, method="kmeans").fit(df.assign(vip=df["vip"].astype(int)))
    assert seg.n_clusters_ == 3


# -- issue 17: segments a marketer can use ------------------------------------------------

BALANCES = ["short_term_assets", "long_term_assets"]


@pytest.fixture(scope="module")
def customers_20k():
    from bankml.datasets import make_customers

    return make_customers(20_000, seed=0)


@pytest.fixture(scope="module")
def run_features():
    return ["short_term_assets", "long_term_assets", "card_spend", "tx_count_6m",
            "digital_logins_6m"]


@pytest.mark.parametrize("features", ["run", "default"])
def test_names_agree_with_the_profile_on_customers(customers_20k, run_features, features):
    # The two rules of issue 17: a segment named "high balance" has balances above the
    # median of all customers; no segment of more than 40% of customers claims "high".
    df = customers_20k
    feats = run_features if features == "run" else None
    seg = CustomerSegmenter(features=feats, random_state=0).fit(df)
    en, zh = seg.profile(lang="en"), seg.profile(lang="zh")
    assert 3 <= seg.n_clusters_ <= 6
    # useful sizes: no segment of zeros (a few %) and none holding half the bank
    assert en["share"].min() >= 0.05 and en["share"].max() <= 0.40
    medians = df[seg.features_].median()
    seg_medians = df[seg.features_].groupby(seg.labels_).median()
    named = 0
    for i, row in en.iterrows():
        if "high balance" in row["name"]:
            named += 1
            assert (seg_medians.loc[i, BALANCES] >= medians[BALANCES]).all()
            assert (seg_medians.loc[i, BALANCES] > medians[BALANCES]).any()
            assert "高余额" in zh.loc[i, "客群名称"]
        if "low balance" in row["name"]:
            assert (seg_medians.loc[i, BALANCES] <= medians[BALANCES]).all()
        if row["share"] > 0.40:
            assert "high" not in row["name"] and "高" not in zh.loc[i, "客群名称"]
    if features == "run":
        assert named >= 1    # the rule is exercised, not vacuous
    if features == "run":
        # the differences that define segments are moderate, not the -10 of "holds none"
        # (default features: a column with ~90% zeros still gives a holders' segment whose
        # SMD is large, since everyone outside it holds none; see the closing note)
        assert np.abs(en.filter(like="smd_").to_numpy()).max() < 4


def test_large_segment_is_never_called_high():
    # One segment of 70% of customers with clearly higher balances than the other 30%: it is
    # the mainstream, so it may not be named "high balance" (the 30% may be named "low").
    rng = np.random.default_rng(0)
    big = pd.DataFrame({"short_term_assets": 50_000 * rng.lognormal(0, 0.2, 700),
                        "long_term_assets": 80_000 * rng.lognormal(0, 0.2, 700)})
    small = pd.DataFrame({"short_term_assets": 2_000 * rng.lognormal(0, 0.2, 300),
                          "long_term_assets": 1_000 * rng.lognormal(0, 0.2, 300)})
    df = pd.concat([big, small], ignore_index=True)
    for scaling in ("quantile", "log1p"):
        seg = CustomerSegmenter(n_clusters=2, scaling=scaling).fit(df)
        prof = seg.profile()
        i_big = int(prof["share"].idxmax())
        assert prof.loc[i_big, "share"] > 0.6
        assert prof.loc[i_big, "smd_long_term_assets"] > 1
        assert "high" not in prof.loc[i_big, "name"]
        assert prof.loc[1 - i_big, "name"] == "low balance"
        assert "高" not in seg.profile(lang="zh").loc[i_big, "客群名称"]


def test_quantile_scaling_ties_the_zeros_and_predict_reuses_the_fit():
    df, _ = _planted(n_per=100)
    df.loc[df.index % 3 == 0, "long_term_assets"] = 0.0      # a third hold none
    seg = CustomerSegmenter(n_clusters=3, random_state=0).fit(df)
    z = seg.transformer_.transform(df[seg.features_].to_numpy(float))[:, 1]
    zeros = df["long_term_assets"].to_numpy() == 0
    # every non-holder at one value (0), every holder a rank-step above: a holding flag
    assert np.unique(z[zeros]).tolist() == [0.0]
    assert z[~zeros].min() == pytest.approx(zeros.mean(), abs=0.01)
    # predict on the same rows gives the training labels: the fitted quantiles are reused
    np.testing.assert_array_equal(seg.predict(df), seg.labels_)
    np.testing.assert_array_equal(seg.predict(df.iloc[:50]), seg.labels_[:50])


def test_auto_prefers_useful_sizes(customers_20k, run_features):
    # On customers the silhouette is nearly flat over k; "auto" picks the best k whose
    # segments all hold 5%-40% of the sample (segment.yaml: min_share, max_share).
    seg = CustomerSegmenter(features=run_features, k_range=(2, 6), random_state=0).fit(
        customers_20k)
    assert list(seg.k_scores_.index) == [2, 3, 4, 5, 6]
    shares = np.bincount(seg.labels_) / len(seg.labels_)
    assert shares.max() <= 0.42 and shares.min() >= 0.04
    assert seg.n_clusters_ != 2


def test_scaling_parameter_is_validated():
    df, _ = _planted(n_per=20)
    with pytest.raises(ValueError, match="scaling"):
        CustomerSegmenter(n_clusters=3, scaling="zscore").fit(df)
