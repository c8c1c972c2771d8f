"""The Spark path gives the same star levels and rule predictions as the pandas path.

Runs where pyspark and Java are installed (``make test-spark``); elsewhere the module is
skipped with the reason shown by ``-ra``.
"""

import shutil

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from bankml.datasets import make_customers  # noqa: E402
from bankml.errors import SchemaError  # noqa: E402
from bankml.rules import rules_from_tree  # noqa: E402
from bankml.schema import HOLDING_FLAGS, ID, STAR_INPUTS  # noqa: E402
from bankml.spark import predict_rules, score_stars  # noqa: E402
from bankml.stars import StarPolicy, StarScorer  # noqa: E402

pytestmark = pytest.mark.spark


def _to_spark(spark, df):
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c].dtype):
            out[c] = out[c].astype(object)
    return spark.createDataFrame(out)


def test_stars_match_the_pandas_scorer(spark):
    df = make_customers(3000, seed=5)[[ID, *STAR_INPUTS, *HOLDING_FLAGS]]
    # Exact boundaries: whole-yuan card spend worth 80,000 / 10,000 / 50 points, and zero.
    unit, w = StarPolicy.default().unit, StarPolicy.default().weights["card_spend"]
    df.loc[:3, STAR_INPUTS] = 0.0
    df.loc[0, "card_spend"] = 80_000 * unit / w
    df.loc[1, "card_spend"] = 10_000 * unit / w
    df.loc[2, "card_spend"] = 50 * unit / w
    scorer = StarScorer()
    expected_points = scorer.star_points(df).to_numpy()
    expected_stars = scorer.contribution_star(df).to_numpy()
    expected_service = scorer.service_star(df).levels.to_numpy()

    got = score_stars(_to_spark(spark, df)).toPandas().set_index(ID).loc[df[ID]]
    np.testing.assert_allclose(got["star_points"].to_numpy(), expected_points, rtol=1e-12)
    np.testing.assert_array_equal(got["contribution_star"].to_numpy(), expected_stars)
    np.testing.assert_array_equal(got["service_star"].to_numpy(), expected_service)
    assert list(expected_stars[:4]) == [7, 6, 3, 0]
    assert set(np.unique(expected_stars)) >= {0, 1, 3, 4, 5, 6}


def test_bad_star_inputs_name_the_column_and_count_the_rows(spark):
    df = make_customers(50, seed=1)[[ID, *STAR_INPUTS, *HOLDING_FLAGS]]
    df.loc[7, "other_loans"] = -5.0
    with pytest.raises(SchemaError, match=r"'other_loans': negative values.*; 1 row\(s\)") as err:
        score_stars(_to_spark(spark, df))
    # counted, never listed: an id in a message reaches logs
    assert err.value.problems[0].rows == [] and err.value.problems[0].n_rows == 1
    assert str(df.loc[7, ID]) not in str(err.value)
    with pytest.raises(SchemaError, match="card_spend"):
        score_stars(_to_spark(spark, df.drop(columns="card_spend")), validate=False)
    with pytest.raises(SchemaError, match="has_platinum_card"):
        score_stars(_to_spark(spark, df.drop(columns="has_platinum_card")))


def test_rule_predictions_match_the_tree(spark):
    from bankml.tree import InfoGainTreeClassifier

    df = make_customers(4000, seed=2)
    features = ["age", "education", "occupation", "long_term_assets", "card_spend"]
    X = df[features].copy()
    X.loc[X.index[::17], "long_term_assets"] = np.nan
    X.loc[X.index[::23], "education"] = None
    X.loc[X.index[5], "occupation"] = "it's new"  # a quote, and a value the tree never saw
    model = InfoGainTreeClassifier(max_depth=5, min_samples_leaf=20).fit(
        X.iloc[100:], df["wm_buyer"].iloc[100:])
    rules = rules_from_tree(model)

    scored = X.assign(**{ID: df[ID]})
    got = predict_rules(_to_spark(spark, scored), rules).toPandas().set_index(ID).loc[df[ID]]
    np.testing.assert_array_equal(got["prediction"].to_numpy(), model.predict(X))
    with pytest.raises(SchemaError, match="card_spend"):
        predict_rules(_to_spark(spark, scored.drop(columns="card_spend")), rules)
