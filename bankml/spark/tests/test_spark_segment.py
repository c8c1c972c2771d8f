"""Segments on Spark (MLlib k-means over every row) give the pandas segmenter's segments,
profiles and bilingual names on the same rows; bad rows are counted, never listed."""

import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from bankml.errors import DataError, InvalidParameterError  # noqa: E402
from bankml.schema import ID  # noqa: E402
from bankml.segment import CustomerSegmenter  # noqa: E402
from bankml.spark import assign_segments, fit_segments  # noqa: E402

pytestmark = pytest.mark.spark
FEATURES = ["long_term_assets", "card_spend", "tx_count_6m"]


def _blobs(n=450, seed=0):
    """Three well-separated groups (savers, spenders, idle), so any k-means finds them."""
    rng = np.random.default_rng(seed)
    g = np.repeat([0, 1, 2], n // 3)
    centre = np.array([[500_000, 2_000, 10], [20_000, 90_000, 150], [1_000, 500, 2]])[g]
    X = centre * np.exp(0.15 * rng.standard_normal((len(g), 3)))
    df = pd.DataFrame(np.round(X, 2), columns=FEATURES)
    df.insert(0, ID, [f"C{i:05d}" for i in range(len(g))])
    df["star_points"] = np.round(df["long_term_assets"] / 100 + df["card_spend"] / 25, 2)
    return df


@pytest.fixture(scope="module")
def blobs(spark):
    df = _blobs()
    return df, spark.createDataFrame(df)


def test_profiles_and_names_equal_the_pandas_segmenter(blobs):
    df, sdf = blobs
    params = dict(n_clusters="auto", k_range=(2, 4), random_state=0, n_init=2)
    local = CustomerSegmenter(features=FEATURES, **params).fit(df)
    seg = fit_segments(sdf, FEATURES, **params)
    assert seg.n_clusters_ == local.n_clusters_ == 3
    pd.testing.assert_series_equal(seg.k_scores_, local.k_scores_)
    for lang in ("en", "zh"):
        got, exp = seg.profile(lang=lang), local.profile(lang=lang)
        text = [c for c in exp.columns if exp[c].dtype == object]
        pd.testing.assert_frame_equal(got[text], exp[text])              # names, exactly
        num = [c for c in exp.columns if c not in text]
        pd.testing.assert_frame_equal(got[num], exp[num], rtol=1e-12)     # sizes, shares, SMD
    assert sorted(seg.profile()["size"]) == [150, 150, 150]
    np.testing.assert_allclose(seg.cluster_centers_, local.cluster_centers_, rtol=1e-9, atol=1e-12)
    # every Spark row gets the segment the pandas model gives it
    rows = assign_segments(sdf, seg).select(ID, "segment").toPandas().set_index(ID)
    assert (rows.loc[df[ID], "segment"].to_numpy() == local.labels_).all()
    assert seg.n_rows_ == seg.sample_rows_ == len(df)


def test_sampled_fit_keeps_the_segments(spark, blobs):
    # A sample smaller than the table: scaling and k from 120 rows, centres refined over all.
    df, sdf = blobs
    seg = fit_segments(sdf, FEATURES, n_clusters=3, sample_size=120, random_state=1)
    assert seg.sample_rows_ == 120 and seg.n_rows_ == 450
    prof = seg.profile(lang="en")
    assert sorted(prof["size"]) == [150, 150, 150]
    assert prof["value_share"].sum() == pytest.approx(1.0)
    truth = np.repeat([0, 1, 2], 150)
    got = seg.predict(df[FEATURES])
    # the same partition as the true groups, whatever the segment numbers
    assert len(set(zip(truth, got))) == 3


def test_bad_rows_and_parameters_are_refused(spark, blobs):
    df, _ = blobs
    bad = df.head(20).copy()
    bad.loc[[2, 5], "card_spend"] = np.nan
    bad.loc[7, "long_term_assets"] = -3.0
    with pytest.raises(DataError) as err:
        fit_segments(spark.createDataFrame(bad), FEATURES, n_clusters=2)
    msg = str(err.value)
    assert "column 'card_spend' has missing values (NULL or NaN); impute them or drop those " \
           "rows in 2 row(s)" in msg and "'long_term_assets' has negative values" in msg
    assert "C000" not in msg
    text = spark.createDataFrame(df.head(20).assign(card_spend="x"))
    with pytest.raises(DataError, match=r"columns \['card_spend \(string\)'\] are not numeric"):
        fit_segments(text, FEATURES, n_clusters=2)
    with pytest.raises(InvalidParameterError, match="method must be 'kmeans'"):
        fit_segments(text, FEATURES, method="kprototypes")
    with pytest.raises(InvalidParameterError, match="n_clusters"):
        fit_segments(text, FEATURES, n_clusters=0)
    with pytest.raises(DataError, match="needs a Spark DataFrame"):
        fit_segments(df, FEATURES)
