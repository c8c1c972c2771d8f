"""rules_from_pipeline: rules on the RAW columns of a binner/encoder + tree pipeline (issue 12.1)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from bankml.datasets import make_customers
from bankml.errors import NotFittedError, RuleExportError
from bankml.rules._extract import rules_from_tree
from bankml.rules._fidelity import check_fidelity
from bankml.rules._pipeline import rules_from_pipeline
from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier, band_labels

MAIN_FEATURES = ["education", "age", "long_term_assets", "has_fund"]


@pytest.fixture(scope="module")
def customers():
    return make_customers(20_000, seed=0)


def _sklearn_pipeline(bands, categorical, **tree):
    parts = [("bands", OrdinalEncoder(categories=[band_labels(c) for c in bands.values()]),
              list(bands))]
    if categorical:
        parts.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                      categorical))
    encode = ColumnTransformer(parts, remainder="passthrough", verbose_feature_names_out=False)
    return Pipeline([("bands", ConceptHierarchyBinner(bands)), ("encode", encode),
                     ("tree", DecisionTreeClassifier(criterion="entropy", random_state=0, **tree))])


def _assert_faithful(rs, model, X):
    report = check_fidelity(rs, model, X)
    assert report.skipped == {}, report.skipped  # duckdb is a test dependency
    assert report.ok, str(report)
    assert set(report.mismatches) == {"predict", "json", "python", "sqlite", "duckdb"}


def _reads_intermediate(rs, band_names=("<=30", "30-55", ">55")):
    return [c for r in rs for c in r.conditions
            if c.op in ("in", "not in", "==", "!=") and set(c.values) & set(band_names)]


# -- issue 12.1: the reproduction ------------------------------------------------------------------
def test_issue_12_1_age_bands_export_raw_rules(customers):
    X = customers[["age"]]
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
                     ("tree", InfoGainTreeClassifier(max_depth=2, class_weight="balanced"))])
    pipe.fit(X, customers["wm_buyer"])
    flagged = int((pipe.predict(X) == 1).sum())
    assert flagged > 0  # the model flags customers: a real comparison
    # the original failure: rules from the tree alone test "age" IN ('>55') on numeric ages
    # and flag nobody
    old = check_fidelity(rules_from_tree(pipe[-1]), pipe, X, engines=("python", "sqlite"))
    assert old.mismatches == {"python": flagged, "sqlite": flagged}
    rs = rules_from_pipeline(pipe)
    assert "age" in rs.features and not _reads_intermediate(rs)
    assert any(c.feature == "age" and c.op == ">" and c.value == 55.0
               for r in rs if r.prediction == 1 for c in r.conditions)
    _assert_faithful(rs, pipe, X)


@pytest.mark.parametrize("target", [None, 1])
def test_issue_12_1_main_job_features_balanced_20k(customers, target):
    X = customers[MAIN_FEATURES]
    y = customers["wm_buyer"]
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
                     ("tree", InfoGainTreeClassifier(max_depth=5, min_samples_leaf=50,
                                                     class_weight="balanced"))]).fit(X, y)
    assert not check_fidelity(rules_from_tree(pipe[-1], target=target), pipe, X,
                              engines=("sqlite",)).ok
    rs = rules_from_pipeline(pipe, target=target)
    assert not _reads_intermediate(rs)
    _assert_faithful(rs, pipe, X)


def test_sklearn_tree_behind_binner_and_ordinal_encoder(customers):
    X = customers[MAIN_FEATURES]
    pipe = _sklearn_pipeline({"age": [30, 55]}, ["education"], max_depth=5, min_samples_leaf=50,
                             class_weight="balanced").fit(X, customers["wm_buyer"])
    rs = rules_from_pipeline(pipe, target=1)
    assert not _reads_intermediate(rs)
    assert {c.feature for r in rs for c in r.conditions} <= set(MAIN_FEATURES)
    _assert_faithful(rs, pipe, X)
    # unseen and missing education levels go where the encoder's unknown code goes
    fresh = X.head(400).copy()
    fresh.loc[fresh.index[:100], "education"] = "doctorate"
    fresh.loc[fresh.index[100:200], "education"] = np.nan
    _assert_faithful(rs, pipe, fresh)


# -- exact cuts and the boundary convention --------------------------------------------------------
def test_cut_values_are_exact_and_bands_right_closed():
    cut = 1234567.891
    X = pd.DataFrame({"deposit": [cut - 1, cut, np.nextafter(cut, np.inf), cut + 1] * 10})
    y = [0, 0, 1, 1] * 10
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"deposit": [cut]})),
                     ("tree", InfoGainTreeClassifier())]).fit(X, y)
    rs = rules_from_pipeline(pipe)
    values = {c.value for r in rs for c in r.conditions}
    assert values == {cut}  # not 1.23e+06, not a float32 neighbour
    (low,) = [r for r in rs if r.prediction == 0]
    assert [c.op for c in low.conditions] == ["<="]
    _assert_faithful(rs, pipe, X)  # the row AT the cut goes with the lower band, as in the binner


def test_missing_raw_value_follows_the_missing_band():
    rng = np.random.default_rng(1)
    age = rng.integers(18, 80, 600).astype(float)
    age[rng.random(600) < 0.1] = np.nan
    y = ((age > 55) | np.isnan(age)).astype(int)
    X = pd.DataFrame({"age": age})
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
                     ("tree", InfoGainTreeClassifier())]).fit(X, y)
    rs = rules_from_pipeline(pipe)
    miss = [c for r in rs for c in r.conditions if c.includes_missing]
    assert miss and all(c.feature == "age" for c in miss)
    _assert_faithful(rs, pipe, X)
    _assert_faithful(rs, pipe, pd.DataFrame({"age": [np.nan, 30.0, 55.0, 55.5, -3.0, 1e9]}))


def test_non_adjacent_bands_become_several_disjoint_rules():
    # the encoder orders the bands young, old, middle: "code <= 1.5" is {young, old}
    rng = np.random.default_rng(0)
    age = rng.uniform(18, 80, 800)
    X = pd.DataFrame({"age": age})
    y = ((age <= 30) | (age > 55)).astype(int)
    encode = ColumnTransformer([("bands", OrdinalEncoder(categories=[["<=30", ">55", "30-55"]]),
                                 ["age"])])
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})), ("encode", encode),
                     ("tree", DecisionTreeClassifier(max_depth=1))]).fit(X, y)
    rs = rules_from_pipeline(pipe)
    ones = [r for r in rs if r.prediction == 1]
    assert len(ones) == 2
    assert sorted(tuple((c.op, c.value) for c in r.conditions) for r in ones) == \
        [(("<=", 30.0),), ((">", 55.0),)]
    assert all(r.support is None and r.confidence is None for r in ones)  # no evidence of their own
    assert len({r.rule_id for r in rs}) == len(rs)
    _assert_faithful(rs, pipe, X)


def test_keep_original_and_several_banded_columns():
    rng = np.random.default_rng(3)
    n = 1500
    X = pd.DataFrame({"age": rng.integers(18, 90, n), "deposit": rng.gamma(2, 1500, n),
                      "city": rng.choice(["a", "b'c", "北京"], n)})
    X.loc[rng.random(n) < 0.05, "deposit"] = np.nan
    y = (((X["age"] > 55) & (X["deposit"] > 2500)) | (X["age"] < 22)).astype(int)
    binner = ConceptHierarchyBinner({"age": [30, 55], "deposit": [500, 2500]}, keep_original=True)
    pipe = Pipeline([("bands", binner), ("tree", InfoGainTreeClassifier(max_depth=4))]).fit(X, y)
    rs = rules_from_pipeline(pipe)
    assert not {"age_band", "deposit_band"} & set(rs.features)
    names = rs.feature_names if hasattr(rs, "feature_names") else rs.meta["feature_names"]
    assert set(names) == {"age", "deposit", "city"}
    _assert_faithful(rs, pipe, X)


def test_pipeline_without_transforming_steps_and_nested_pipelines(customers):
    X = customers[["age", "long_term_assets"]].head(3000)
    y = customers["wm_buyer"].head(3000)
    plain = Pipeline([("none", "passthrough"), ("tree", InfoGainTreeClassifier(max_depth=3))]).fit(X, y)
    assert str(rules_from_pipeline(plain)) == str(rules_from_tree(plain[-1]))
    inner = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]}))])
    nested = Pipeline([("prep", inner), ("tree", InfoGainTreeClassifier(max_depth=3,
                                                                        class_weight="balanced"))])
    nested.fit(X, y)
    rs = rules_from_pipeline(nested)
    assert not _reads_intermediate(rs)
    _assert_faithful(rs, nested, X)


def test_column_transformer_with_pandas_output_and_verbose_names(customers):
    X = customers[["age", "education", "has_fund"]].head(4000)
    y = customers["wm_buyer"].head(4000)
    encode = ColumnTransformer([("cat", OrdinalEncoder(), ["education", "age"])],
                               remainder="passthrough").set_output(transform="pandas")
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})), ("encode", encode),
                     ("tree", DecisionTreeClassifier(max_depth=4, class_weight="balanced"))])
    pipe.fit(X, y)
    rs = rules_from_pipeline(pipe)
    assert set(rs.features) <= {"age", "education", "has_fund"}
    _assert_faithful(rs, pipe, X)


# -- what cannot be inverted is refused, naming the step -------------------------------------------
def test_uninvertible_steps_are_refused_by_name(customers):
    X = customers[["age", "long_term_assets"]].head(500)
    y = customers["wm_buyer"].head(500)
    scaled = Pipeline([("scale", StandardScaler()), ("tree", DecisionTreeClassifier())]).fit(X, y)
    with pytest.raises(RuleExportError, match="'scale'.*StandardScaler"):
        rules_from_pipeline(scaled)
    onehot = Pipeline([("enc", ColumnTransformer([("oh", OneHotEncoder(), ["age"])])),
                       ("tree", DecisionTreeClassifier())]).fit(X, y)
    with pytest.raises(RuleExportError, match="'enc', part 'oh': OneHotEncoder"):
        rules_from_pipeline(onehot)
    rare = Pipeline([("enc", ColumnTransformer([("o", OrdinalEncoder(min_frequency=50), ["age"])])),
                     ("tree", DecisionTreeClassifier())]).fit(X, y)
    with pytest.raises(RuleExportError, match="infrequent"):
        rules_from_pipeline(rare)
    no_tree = Pipeline([("bands", ConceptHierarchyBinner({"age": [30]})),
                        ("scale", "passthrough")]).fit(X)
    with pytest.raises(RuleExportError, match="last step 'scale'"):
        rules_from_pipeline(no_tree)
    with pytest.raises(RuleExportError, match="needs a scikit-learn Pipeline"):
        rules_from_pipeline(scaled[-1])


def test_unfitted_pipeline_is_not_fitted_error():
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30]})),
                     ("tree", InfoGainTreeClassifier())])
    with pytest.raises(NotFittedError):
        rules_from_pipeline(pipe)


def test_unfitted_sklearn_tree_and_non_tree_last_step():
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30]})),
                     ("tree", DecisionTreeClassifier())])
    with pytest.raises(NotFittedError, match="'tree'.*not fitted"):
        rules_from_pipeline(pipe)
    X = pd.DataFrame({"age": [20.0, 40.0, 60.0, 70.0]})
    scaler_last = Pipeline([("bands", ConceptHierarchyBinner({"age": [30]})),
                            ("enc", ColumnTransformer([("o", OrdinalEncoder(), ["age"])]))]).fit(X)
    with pytest.raises(RuleExportError, match="last step 'enc'.*not a tree"):
        rules_from_pipeline(scaler_last)
