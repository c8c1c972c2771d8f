"""check_fidelity: every engine must equal model.predict, and a wrong rule set is caught by each."""

import dataclasses
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from bankml.errors import BankmlError, DataError, FidelityError
from bankml.rules import FidelityReport, check_fidelity
from bankml.rules._fidelity import ENGINES
from bankml.rules._model import Condition, Rule, RuleSet
from bankml.rules import rules_from_pipeline
from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(7)
    n = 2000
    X = pd.DataFrame({
        "age": rng.integers(18, 90, n).astype(float),
        "deposit": np.round(rng.gamma(2, 1500, n), 2),
        "city": rng.choice(["O'Hare", "北京", "a--b", "50%_off", "line\nbreak"], n).astype(object),
    })
    X.loc[rng.random(n) < 0.05, "age"] = np.nan
    X.loc[rng.random(n) < 0.05, "city"] = None
    y = (((X["age"] > 55) & (X["deposit"] > 2000)) | X["city"].isin(["北京"])).astype(int)
    y[rng.random(n) < 0.1] ^= 1
    # a non-trivial index: labels must never be reported, only positions
    X.index = pd.Index([f"C{i:05d}" for i in rng.permutation(n)])
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
                     ("tree", InfoGainTreeClassifier(max_depth=4))]).fit(X, y.to_numpy())
    # only the buyers' rules: a rule that covers less sends rows to the default (0)
    return pipe, X, rules_from_pipeline(pipe, target=1)


def _replace_rule(rs, i, rule):
    rules = list(rs.rules)
    rules[i] = rule
    return dataclasses.replace(rs, rules=rules)


def test_faithful_rules_pass_every_engine(fitted):
    pipe, X, rs = fitted
    report = check_fidelity(rs, pipe, X)
    assert isinstance(report, FidelityReport)
    assert report.ok and report.n_rows == len(X) and report.first_difference is None
    assert report.mismatches == {e: 0 for e in ENGINES}
    report.raise_for_mismatch()  # no error
    assert "fidelity ok" in str(report)


def _nudged(rs):
    """A rule set with one numeric threshold moved (the first rule using deposit), inwards."""
    for i, r in enumerate(rs.rules):
        for j, c in enumerate(r.conditions):
            if c.feature == "deposit" and c.op in ("<=", ">"):
                conds = list(r.conditions)
                conds[j] = dataclasses.replace(c, value=c.value * (1.2 if c.op == ">" else 0.8))
                return _replace_rule(rs, i, dataclasses.replace(r, conditions=tuple(conds))), r.rule_id
    raise AssertionError("no deposit threshold in the fixture's rules")


def _dropped_value(rs):
    """A rule set with one category dropped from a positive set condition."""
    for i, r in enumerate(rs.rules):
        for j, c in enumerate(r.conditions):
            if c.op == "in" and c.feature == "city" and len(c.value) >= 1:
                conds = list(r.conditions)
                keep = sorted(c.value)[1:]
                conds[j] = Condition(c.feature, "in", keep, c.includes_missing)
                return _replace_rule(rs, i, dataclasses.replace(r, conditions=tuple(conds))), r.rule_id
    raise AssertionError("no city set condition in the fixture's rules")


@pytest.mark.parametrize("corrupt", [_nudged, _dropped_value])
def test_a_corrupted_rule_is_caught_by_every_engine(fitted, corrupt):
    pipe, X, rs = fitted
    bad, rule_id = corrupt(rs)
    report = check_fidelity(bad, pipe, X)
    assert not report.ok
    assert all(report.mismatches[e] > 0 for e in ENGINES), report.mismatches
    assert len(set(report.mismatches.values())) == 1  # all engines see the same rows
    d = report.first_difference
    assert d["engine"] == "predict" and isinstance(d["row"], int) and 0 <= d["row"] < len(X)
    # the reported row really differs, at that POSITION
    assert bad.predict(X.iloc[[d["row"]]])[0] != pipe.predict(X.iloc[[d["row"]]])[0]
    with pytest.raises(FidelityError) as err:
        report.raise_for_mismatch()
    msg = str(err.value)
    assert f"{report.mismatches['sqlite']:,} of {len(X):,} rows" in msg
    assert f"row position {d['row']}" in msg
    assert "C0" not in msg  # never an index label
    assert isinstance(err.value, BankmlError)


def test_first_difference_names_the_rule_that_fired():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    rs = RuleSet([Rule([Condition("x", "<=", 2.5)], 0, rule_id=7),
                  Rule([Condition("x", ">", 3.5)], 1, rule_id=9)], default=0)
    report = check_fidelity(rs, tree, X)
    assert report.mismatches == {e: 1 for e in ENGINES}
    assert report.first_difference == {"engine": "predict", "row": 2, "rule_id": None,
                                       "expected": 1, "got": 0}
    wrong = RuleSet([Rule([Condition("x", "<=", 3.5)], 0, rule_id=4)], default=1)
    d = check_fidelity(wrong, tree, X, engines=("sqlite",)).first_difference
    assert d == {"engine": "sqlite", "row": 2, "rule_id": 4, "expected": 1, "got": 0}


def test_labels_compare_by_kind():
    """'1' is not 1 (nor True): the model's classes_ decide."""
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    as_text = RuleSet([Rule([Condition("x", ">", 2.5)], "1")], default="0")
    report = check_fidelity(as_text, tree, X)
    assert report.mismatches == {e: 4 for e in ENGINES}
    as_float = RuleSet([Rule([Condition("x", ">", 2.5)], 1.0)], default=0.0)
    assert check_fidelity(as_float, tree, X).ok
    text_tree = DecisionTreeClassifier(random_state=0).fit(X, ["no", "no", "yes", "yes"])
    good = RuleSet([Rule([Condition("x", ">", 2.5)], "yes")], default="no")
    assert check_fidelity(good, text_tree, X).ok


def test_engine_failure_counts_every_row(fitted):
    pipe, X, rs = fitted
    broken = X.assign(deposit=X["deposit"].astype(str))  # text where the rules compare numbers
    model = _Fixed(pipe.predict(X))
    report = check_fidelity(rs, model, broken, engines=("predict", "python"))
    assert report.mismatches["predict"] == len(X)
    assert "deposit" in report.errors["predict"]
    assert "failed" in str(report)
    with pytest.raises(FidelityError, match="engine predict failed"):
        report.raise_for_mismatch()


def test_sqlite_engine_fails_on_a_rule_column_missing_from_the_table():
    # hostile F24: SQLite reads "cty" (no such column) as the text 'cty'; the rule then runs
    # and may even agree with the model, so the gate must refuse, not count rows
    X = pd.DataFrame({"city": ["a", "b", "a", "b"], "x": [1.0, 2.0, 3.0, 4.0]})
    typo = RuleSet([Rule([Condition("cty", "in", ["zzz"])], 1)], default=0)
    report = check_fidelity(typo, _Fixed(np.zeros(4, dtype=int)), X, engines=("sqlite",))
    assert not report.ok and report.mismatches["sqlite"] == 4
    assert "cty" in report.errors["sqlite"]


class _Fixed:
    def __init__(self, pred):
        self.pred = pred

    def predict(self, X):
        return self.pred[: len(X)]


def test_missing_duckdb_is_skipped_loudly(fitted, monkeypatch):
    pipe, X, rs = fitted
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb -> ImportError
    with pytest.warns(RuntimeWarning, match="duckdb"):
        report = check_fidelity(rs, pipe, X)
    assert "duckdb" in report.skipped and "duckdb" not in report.mismatches
    assert "not checked: duckdb" in str(report)


def test_hostile_strings_and_column_names_survive_sql():
    X = pd.DataFrame({'we"ird col': ["a'b", 'c"d', "--", "%_", "x\ny", None] * 5,
                      "n": np.arange(30.0)})
    y = np.array([1, 0, 1, 0, 1, 0] * 5)
    tree = InfoGainTreeClassifier().fit(X, y)
    from bankml.rules import rules_from_tree
    assert check_fidelity(rules_from_tree(tree), tree, X).ok


@pytest.mark.parametrize("X, match", [
    (pd.DataFrame({"x": []}), "0 rows"),
    (np.zeros((3, 1)), "DataFrame"),
    (pd.DataFrame([[1.0, 2.0]], columns=["x", "x"]), "duplicated"),
])
def test_bad_input_is_a_clear_error(X, match):
    rs = RuleSet([Rule([Condition("x", ">", 0)], 1)], default=0)
    with pytest.raises(DataError, match=match):
        check_fidelity(rs, _Fixed(np.zeros(3)), X)


def test_unknown_engine():
    rs = RuleSet([], default=0)
    with pytest.raises(ValueError, match="engines"):
        check_fidelity(rs, _Fixed(np.zeros(1)), pd.DataFrame({"x": [1]}), engines=("oracle",))


# -- found by the gate ----------------------------------------------------------------------
def test_python_export_compares_big_ints_as_float64_like_every_other_engine():
    X = pd.DataFrame({"big": np.array([2**60 - 512, 2**60, 2**60 + 1, 2**60 + 4096] * 5,
                                      dtype=np.int64)})
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"big": [2**60]})),
                     ("tree", InfoGainTreeClassifier())]).fit(X, [0, 0, 1, 1] * 5)
    report = check_fidelity(rules_from_pipeline(pipe), pipe, X)
    assert report.ok, str(report)


def test_numeric_rule_on_integer_categorical_with_missing_values():
    rs = RuleSet([Rule([Condition("n", ">", 2)], 1)], default=0)
    X = pd.DataFrame({"n": pd.Categorical([1, 2, None, 4])})
    assert rs.predict(X).tolist() == [0, 0, 0, 1]


def test_model_that_cannot_predict_the_rows_is_a_clear_error(fitted):
    pipe, X, rs = fitted
    with pytest.raises(DataError, match="(?s)cannot predict these rows.*extra.*raw columns"):
        check_fidelity(rs, pipe, X.assign(extra=1))
