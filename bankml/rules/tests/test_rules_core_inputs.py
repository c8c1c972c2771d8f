"""bankml.rules as plain data with one direction of imports, strict JSON, hostile strings and
mixed types through every exporter (issues 12.11-12.13 and 16.1)."""

import ast
import inspect
import json
import re
import sqlite3
import sys
import types
import unicodedata
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

import bankml.rules as rules_pkg
from bankml.errors import DataError, InvalidParameterError, RuleExportError
from bankml.labels import DEFAULT_LANG
from bankml.rules import (Condition, Rule, RuleSet, from_json, rules_from_tree, simplify,
                          to_csv, to_frame, to_html, to_json, to_markdown, to_python, to_sql,
                          to_text)

RULES_DIR = Path(rules_pkg.__file__).parent


# -- one direction -----------------------------------------------------------------------------
def _sibling_imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module)
            else:
                found.update(a.name for a in node.names)
    return found


def test_no_import_cycle_in_bankml_rules_and_the_model_imports_no_operation():
    modules = {p.stem: _sibling_imports(p) for p in RULES_DIR.glob("_*.py")}
    # the model may use only the evaluation engine and the operator list, which import nothing
    assert modules["_model"] <= {"_apply", "_ops"}
    assert modules["_apply"] <= {"_ops"} and modules["_ops"] == set()
    for name in ("_extract", "_simplify", "_evaluate", "_export"):
        assert "_model" in modules[name]
    seen, stack = {}, []

    def visit(m):  # depth-first search for a back edge
        seen[m] = "open"
        stack.append(m)
        for d in modules.get(m, ()):
            if seen.get(d) == "open":
                raise AssertionError(f"import cycle: {stack[stack.index(d):] + [d]}")
            if d not in seen:
                visit(d)
        seen[m] = "done"
        stack.pop()

    for m in modules:
        if m not in seen:
            visit(m)


def test_ruleset_has_one_spelling_per_operation():
    public = {n for n, v in vars(RuleSet).items() if not n.startswith("_") and callable(v)}
    assert public == {"predict", "apply"}
    for gone in ("simplify", "generalize", "evaluate", "with_evidence", "to_text", "to_sql",
                 "to_json", "from_json", "from_tree", "from_association", "meta"):
        assert not hasattr(RuleSet, gone), gone
    import bankml.association as assoc
    assert not hasattr(assoc, "to_ruleset")
    fields = [f.name for f in __import__("dataclasses").fields(RuleSet)]
    assert fields == ["rules", "default", "classes", "label_column", "feature_names", "units",
                      "weighted", "provenance", "categories"]


def test_every_exporter_takes_the_one_language_default():
    for fn in (to_text, to_markdown, to_frame, to_csv, to_html):
        assert inspect.signature(fn).parameters["lang"].default is DEFAULT_LANG, fn.__name__
    rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0, label_column="wm_buyer")
    assert to_text(rs) == to_text(rs, lang=DEFAULT_LANG)
    assert to_markdown(rs) == to_markdown(rs, lang=DEFAULT_LANG)


def test_export_code_does_not_consult_the_bank_schema():
    text = (RULES_DIR / "_export.py").read_text(encoding="utf-8")
    assert "schema" not in {m.split(".")[-1] for m in _sibling_imports(RULES_DIR / "_export.py")}
    assert "COLUMNS" not in text and "HOLDING_FLAGS" not in text
    # a 0/1 column reads yes/no only because configs/labels.yaml names its values (the
    # has_* holdings do since the integration); one the labels do not name stays a number
    rs = RuleSet([Rule([Condition("has_fund", ">", 0.5)], 1),
                  Rule([Condition("loyalty_flag", ">", 0.5)], 1)], default=0)
    lines = to_text(rs, "en").splitlines()
    assert lines[0] == "1. IF holds funds = yes THEN 1"
    assert lines[1] == "2. IF loyalty_flag > 0.5 THEN 1"


def test_units_print_after_thresholds():
    rs = RuleSet([Rule([Condition("deposit", ">", 2500), Condition("age", "<=", 55)], 1)],
                 default=0, units={"deposit": "元"})
    assert to_text(rs, "zh").splitlines()[0] == "1. 如果 存款余额 > 2,500 元 且 年龄 <= 55 则 1"
    with pytest.raises(DataError, match="units"):
        RuleSet([], units={"deposit": 3})


def test_weighted_and_feature_names_are_fields_and_survive_json(fakes):
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 0, 1]})
    tree = DecisionTreeClassifier(class_weight="balanced", random_state=0).fit(X, [0, 0, 1, 1])
    rs = rules_from_tree(tree)
    assert rs.weighted and rs.feature_names == ("a", "b")
    assert "weighted_evidence" not in rs.provenance and "feature_names" not in rs.provenance
    back = from_json(to_json(rs))
    assert back == rs
    assert back.predict(X.to_numpy()).tolist() == tree.predict(X).tolist()


def test_rules_from_tree_refuses_a_pipeline_naming_rules_from_pipeline():
    # one converter per source (#16): a Pipeline has its own, never a second spelling
    from bankml.errors import InvalidParameterError
    from bankml.rules import rules_from_pipeline
    from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"a": [3]})),
                     ("tree", InfoGainTreeClassifier(min_samples_leaf=1))]).fit(X, [0, 0, 0, 1, 1, 1])
    with pytest.raises(InvalidParameterError, match="rules_from_pipeline"):
        rules_from_tree(pipe, 1, label_column="wm_buyer")
    rs = rules_from_pipeline(pipe, 1, label_column="wm_buyer", model_version="v7")
    # the rules read the raw column, not the band the tree saw
    assert rs.feature_names == ("a",)
    assert rs.predict(X).tolist() == pipe.predict(X).tolist()


# -- hand-edited JSON (issue 12.12) ----------------------------------------------------------
def _doc(**rule_changes):
    cond = {"feature": "age", "op": ">", "value": 55, "includes_missing": False}
    rule = {"rule_id": 1, "conditions": [cond], "prediction": 1, "support": 3}
    for k, v in rule_changes.items():
        if k.startswith("cond_"):
            cond[k[5:]] = v
        else:
            rule[k] = v
    return {"format": "bankml.rules/2", "default": 0, "rules": [rule]}


def _with(doc, **top):
    doc.update(top)
    return json.dumps(doc)


@pytest.mark.parametrize("text, where", [
    ("[1]", "the document must be an object"),
    ("null", "the document must be an object"),
    ('"abc"', "the document must be an object"),
    ("{not json", "cannot be parsed"),
    ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    (b"\xff\xfe{", "not UTF-8"),
    (json.dumps({"rules": []}), "format"),
    (_with(_doc(), rules="abc"), "rules must be a list"),
    (_with(_doc(), rules=[1]), r"rules\[0\] must be an object"),
    (_with(_doc(), rules=[_doc()["rules"][0], "x"]), r"rules\[1\] must be an object"),
    (json.dumps(_doc(cond_includes_missing="false")),
     r"rules\[0\]\.conditions\[0\]\.includes_missing must be true or false, got 'false'"),
    (json.dumps(_doc(cond_includes_missing=1)), r"conditions\[0\]\.includes_missing"),
    (json.dumps(_doc(rule_id=1.5)), r"rules\[0\]\.rule_id must be a whole number"),
    (json.dumps(_doc(rule_id="x")), r"rules\[0\]\.rule_id"),
    (json.dumps(_doc(rule_id=True)), r"rules\[0\]\.rule_id"),
    (json.dumps(_doc(cond_op="=>")), r"rules\[0\]\.conditions\[0\]\.op must be one of"),
    (json.dumps(_doc(cond_op=None)), r"conditions\[0\]\.op"),
    (json.dumps(_doc(cond_value="55")), r"conditions\[0\]\.value must be a number"),
    (json.dumps(_doc(cond_value=True)), r"conditions\[0\]\.value must be a number"),
    (json.dumps(_doc(cond_op="in", cond_value="abc")), r"conditions\[0\]\.value must be a list"),
    (json.dumps(_doc(cond_op="in", cond_value=[["a"]])), r"conditions\[0\]\.value\[0\]"),
    (json.dumps(_doc(cond_op="==", cond_value={"a": 1})), r"conditions\[0\]\.value"),
    (json.dumps(_doc(cond_feature="")), r"conditions\[0\]\.feature"),
    (json.dumps(_doc(cond_feature=7)), r"conditions\[0\]\.feature"),
    (json.dumps(_doc(cond_typo=1)), r"conditions\[0\] has unknown key\(s\) \['typo'\]"),
    (json.dumps(_doc(conditions="age > 5")), r"rules\[0\]\.conditions must be a list"),
    (json.dumps(_doc(conditions=[1])), r"rules\[0\]\.conditions\[0\] must be an object"),
    (json.dumps(_doc(prediction={"a": 1})), r"rules\[0\]\.prediction"),
    (json.dumps(_doc(prediction=[1])), r"rules\[0\]\.prediction"),
    (json.dumps(_doc(support=1.5)), r"rules\[0\]\.support must be a whole number"),
    (json.dumps(_doc(support=-2)), r"rules\[0\]\.support must be a whole number >= 0"),
    (json.dumps(_doc(confidence="high")), r"rules\[0\]\.confidence must be a number"),
    (json.dumps(_doc(lift=True)), r"rules\[0\]\.lift must be a number"),
    ('{"format": "bankml.rules/2", "rules": [{"conditions": [{"feature": "a", "op": ">", '
     '"value": NaN}], "prediction": 1}]}', r"conditions\[0\]\.value must be a number"),
    (_with(_doc(), classes="ab"), "classes must be a list"),
    (_with(_doc(), classes=[[1]]), r"classes\[0\]"),
    (_with(_doc(), weighted="yes"), "weighted must be true or false"),
    (_with(_doc(), label_column=3), "label_column must be text"),
    (_with(_doc(), feature_names=[1]), r"feature_names\[0\]"),
    (_with(_doc(), units=["元"]), "units must be an object"),
    (_with(_doc(), provenance="x"), "provenance must be an object"),
    (_with(_doc(), defualt=1), r"unknown key\(s\) \['defualt'\]"),
    (_with(_doc(), default={"x": 1}), "default must be"),
    (_with(_doc(), provenance=json.loads("[" * 50 + "]" * 50)), "provenance must be an object"),
    (_with(_doc(), provenance={"a": json.loads("[" * 50 + "]" * 50)}), "nested deeper"),
    (_with(_doc(), rules=[_doc()["rules"][0], _doc()["rules"][0]]), "rule_id values must be unique"),
    # hostile R02: a text threshold names the column too, not only the JSON path
    (json.dumps(_doc(cond_value="NaN")), r"conditions\[0\]\.value must be a number \(column 'age'"),
    # hostile R06: a prediction outside the classes was accepted and exported as is
    (_with(_doc(prediction=7), classes=[0, 1]), r"rules\[0\]\.prediction must be one of the "
                                                 r"classes \[0, 1\], got 7"),
    (_with(_doc(), classes=[0, 1], default=2), r"the default predicts 2"),
])
def test_hand_edited_json_is_refused_naming_the_path(text, where):
    with pytest.raises(DataError, match=where):
        from_json(text)


def test_json_checks_a_parsed_dict_the_same_way_and_keeps_good_documents():
    bad = _doc(cond_includes_missing="false")
    with pytest.raises(DataError, match=r"rules\[0\]\.conditions\[0\]\.includes_missing"):
        from_json(bad)
    good = from_json(_doc(cond_includes_missing=True))
    assert good.rules[0].conditions[0].includes_missing is True
    assert good.predict(pd.DataFrame({"age": [np.nan, 10.0, 60.0]})).tolist() == [1, 0, 1]


def test_version_1_documents_still_load():
    v1 = {"format": "bankml.rules/1", "default": 0, "classes": [0, 1], "label_column": "wm_buyer",
          "meta": {"model": "X", "feature_names": ["age"], "weighted_evidence": True},
          "rules": [{"rule_id": 4, "conditions": [{"feature": "age", "op": ">", "value": 55,
                                                    "includes_missing": False}],
                     "prediction": 1, "support": 3, "n_correct": None, "confidence": 0.5,
                     "lift": None, "coverage": None}]}
    rs = from_json(json.dumps(v1))
    assert rs.feature_names == ("age",) and rs.weighted and rs.provenance == {"model": "X"}
    assert rs.rules[0].rule_id == 4


@pytest.mark.parametrize("bad, match", [
    (lambda: Condition("age", ">", 5, includes_missing="false"), "includes_missing"),
    (lambda: Condition("age", ">", 5, includes_missing=1), "includes_missing"),
    (lambda: Rule([], 1, rule_id=1.5), "rule_id must be an integer"),
    (lambda: Rule([], 1, rule_id=True), "rule_id must be an integer"),
    (lambda: Rule([], 1, rule_id="x"), "rule_id must be an integer"),
    (lambda: Rule([], 1, support=2.5), "support"),
    (lambda: Rule([], {"a": 1}), "prediction"),
    (lambda: Rule("age > 5", 1), "conditions"),
    (lambda: RuleSet("abc"), "RuleSet.rules"),
    (lambda: RuleSet([], weighted="no"), "weighted"),
    (lambda: RuleSet([], feature_names=[1, 2]), "feature_names"),
    (lambda: RuleSet([], provenance=[1]), "provenance"),
    (lambda: RuleSet([], provenance={"a": json.loads("[" * 40 + "]" * 40)}), "nested deeper"),
    (lambda: rules_from_tree(DecisionTreeClassifier().fit([[0], [1]], [0, 1]), label_column=3),
     "label_column"),
])
def test_constructors_validate_like_the_json_reader(bad, match):
    with pytest.raises(DataError, match=match):
        bad()


def test_numpy_scalars_are_still_welcome():
    r = Rule([Condition("age", ">", np.float32(2.5), np.bool_(True))], np.int64(1),
             rule_id=np.int64(9), support=np.int64(3))
    assert r.rule_id == 9 and type(r.rule_id) is int and r.conditions[0].includes_missing is True
    assert "return (1, 9) if return_rule else 1" in to_python(RuleSet([r]))


# -- hostile strings through every exporter (issue 12.13) -------------------------------------
HOSTILE = ["line\nbreak", "carriage\rreturn", "tab\there", "it's", 'say "hi"', "back\\slash",
           "--comment", "/* open", "close */", "pipe|cell", "<script>alert(1)</script>",
           "北京", "emoji 😀", "nul\x00byte", "sep\u2028line", "\\n literal"]
HOSTILE_COLUMNS = ["we\"ird", "new\nline col", "--x", "*/", "列", "😀", "a|b"]


def _hostile_frame(n, seed, with_nul=True):
    rng = np.random.default_rng(seed)
    values = HOSTILE if with_nul else [v for v in HOSTILE if "\x00" not in v]
    df = pd.DataFrame({"id": np.arange(n)})
    for j, col in enumerate(HOSTILE_COLUMNS):
        if j % 2:
            df[col] = rng.normal(0, 100, n).round(1)
        else:
            df[col] = rng.choice(values + ["plain"], n).astype(object)
        df.loc[rng.random(n) < 0.1, col] = None
    return df


def _hostile_rules(seed, with_nul=True):
    rng = np.random.default_rng(seed)
    values = HOSTILE if with_nul else [v for v in HOSTILE if "\x00" not in v]
    rules = []
    for i in range(25):
        conds = []
        for _ in range(rng.integers(1, 4)):
            j = int(rng.integers(len(HOSTILE_COLUMNS)))
            col, miss = HOSTILE_COLUMNS[j], bool(rng.random() < 0.3)
            if j % 2:
                conds.append(Condition(col, str(rng.choice(["<=", ">"])), float(rng.normal(0, 80)), miss))
            else:
                vals = list(rng.choice(values, rng.integers(1, 4), replace=False))
                conds.append(Condition(col, str(rng.choice(["in", "not in"])), vals, miss))
        rules.append(Rule(conds, str(rng.choice(values)), support=int(rng.integers(1, 99)),
                          confidence=float(rng.random())))
    return RuleSet(rules, default="other\nclass", label_column="label|col\n")


def _has_raw_control(text) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _md_cells(line):
    cells, cur, i = [], "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur += line[i:i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur)
    return cells[1:-1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_strings_never_break_a_line_of_text_markdown_csv_or_html(lang):
    rs = _hostile_rules(1)
    text = to_text(rs, lang)
    assert len(text.split("\n")) == len(rs) + 1
    assert not _has_raw_control(text.replace("\n", ""))
    assert "line\\nbreak" in text and "nul\\x00byte" in text and "sep\\u2028line" in text
    md = to_markdown(rs, lang)
    lines = md.split("\n")
    assert len(lines) == len(rs) + 4 and not _has_raw_control(md.replace("\n", ""))
    assert all(len(_md_cells(line)) == 7 for line in lines[:len(rs) + 2])
    assert not re.search(r"(?<!\\)<script", md)
    frame = to_frame(rs, lang)
    for col in ("conditions", "prediction_label"):
        assert not any(_has_raw_control(v) for v in frame[col])
    # the Python engine: pandas 2's C parser cuts a field at a NUL character
    back = pd.read_csv(StringIO(to_csv(rs, lang=lang)), keep_default_na=False, engine="python")
    assert back["conditions"].tolist() == frame["conditions"].tolist()
    assert back["prediction"].tolist() == [r.prediction for r in rs]  # raw values kept exactly
    page = to_html(rs, lang=lang)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert body.count("<tr>") == len(rs) and "<script>" not in page
    assert not _has_raw_control(body.replace("\n", ""))


def test_hostile_strings_keep_sql_and_python_exact():
    duckdb = pytest.importorskip("duckdb")
    rs = _hostile_rules(2, with_nul=False)
    df = _hostile_frame(4000, 3, with_nul=False)
    expected = rs.predict(df)
    assert len(set(expected)) > 3
    con = sqlite3.connect(":memory:")
    df.to_sql("t", con, index=False)
    got = {r[0]: r[1] for r in con.execute(to_sql(rs, "t", "id"))}
    assert [got[i] for i in df["id"]] == expected.tolist()
    dcon = duckdb.connect()
    dcon.register("t", df)
    got = {r[0]: r[1] for r in dcon.execute(to_sql(rs, "t", "id", dialect="duckdb")).fetchall()}
    assert [got[i] for i in df["id"]] == expected.tolist()
    ns = {}
    exec(to_python(rs, "score"), ns)
    assert [ns["score"](r) for r in df.to_dict("records")] == expected.tolist()
    assert from_json(to_json(rs)) == rs
    assert simplify(rs).predict(df).tolist() == expected.tolist()


def test_a_nul_character_is_exact_in_python_and_refused_by_sql_naming_the_column():
    rs = _hostile_rules(4)
    df = _hostile_frame(2000, 5)
    expected = rs.predict(df)
    ns = {}
    exec(to_python(rs), ns)
    assert [ns["predict"](r) for r in df.to_dict("records")] == expected.tolist()
    assert from_json(to_json(rs)).predict(df).tolist() == expected.tolist()
    nul = RuleSet([Rule([Condition("city", "in", ["a\x00b"])], 1)], default=0)
    with pytest.raises(RuleExportError, match=r"column 'city'.*NUL"):
        to_sql(nul, "t", "id")
    with pytest.raises(RuleExportError, match="NUL"):
        to_sql(RuleSet([Rule([Condition("c\x00d", "==", 1)], 1)]), "t", "id")


# -- mixed types (issue 12.11, rules side) ----------------------------------------------------
def test_a_column_compared_with_both_text_and_numbers_is_refused_by_sql():
    X = pd.DataFrame({"id": range(6), "code": pd.Series([1, "1", 1.0, None, "a", 2], dtype=object)})
    rs = RuleSet([Rule([Condition("code", "in", [1, "a"])], "hit")], default="miss")
    expected = rs.predict(X)
    assert expected.tolist() == ["hit", "miss", "hit", "miss", "hit", "miss"]  # 1 is not '1'
    ns = {}
    exec(to_python(rs), ns)
    assert [ns["predict"](r) for r in X.to_dict("records")] == expected.tolist()
    with pytest.raises(RuleExportError, match=r"\['code'\].*both text and numbers"):
        to_sql(rs, "t", "id")
    # the same when the kinds meet only across rules (one rule numeric, another text)
    split = RuleSet([Rule([Condition("code", "==", 1)], "n"), Rule([Condition("code", "==", "1")], "t")])
    with pytest.raises(RuleExportError, match="code"):
        to_sql(split, "t", "id")
    across = RuleSet([Rule([Condition("code", ">", 0)], "n"), Rule([Condition("code", "in", ["a"])], "t")])
    with pytest.raises(RuleExportError, match="code"):
        to_sql(across, "t", "id")


def test_predictions_mixing_1_and_text_1_stay_apart():
    rs = RuleSet([Rule([Condition("x", ">", 0)], 1)], default="1")
    got = rs.predict(pd.DataFrame({"x": [1.0, -1.0]}))
    assert got.tolist() == [1, "1"] and type(got[0]) is int
    with pytest.raises(RuleExportError, match="predictions mix text and numbers"):
        to_sql(rs, "t", "id")


def test_text_where_a_rule_needs_a_number_is_refused_by_predict_and_python_alike():
    rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    X = pd.DataFrame({"age": pd.Series([60, "70"], dtype=object)})
    with pytest.raises(DataError, match="'age'.*non-numeric"):
        rs.predict(X)
    ns = {}
    exec(to_python(rs), ns)
    assert ns["predict"]({"age": 60}) == 1 and ns["predict"]({"age": np.int64(10)}) == 0
    with pytest.raises(ValueError, match="column 'age'.*'70'"):
        ns["predict"]({"age": "70"})


def test_bad_arguments_to_exporters_are_clear_errors():
    rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    with pytest.raises(DataError, match="to_sql: expected a bankml.rules.RuleSet"):
        to_sql("rules", "t", "id")
    with pytest.raises(RuleExportError, match="id_column"):
        to_sql(rs, "t", None)
    with pytest.raises(RuleExportError, match="table name"):
        to_sql(rs, 5, "id")
    with pytest.raises(InvalidParameterError, match="function_name"):   # hostile R13
        to_python(rs, "class")
    with pytest.raises(ValueError, match="lang"):
        to_markdown(rs, lang="fr")


def test_integers_beyond_float_precision_agree_across_predict_sql_and_python():
    big = 2**53 + 1
    X = pd.DataFrame({"id": [1, 2, 3], "x": [2**53, big, -big]})
    rs = RuleSet([Rule([Condition("x", "==", big)], "eq"),
                  Rule([Condition("x", ">", float(2**53))], "gt")], default="no")
    expected = rs.predict(X)
    assert expected.tolist() == ["no", "eq", "no"]  # 2**53 is not 2**53 + 1
    ns = {}
    exec(to_python(rs), ns)
    assert [ns["predict"](r) for r in X.to_dict("records")] == expected.tolist()
    con = sqlite3.connect(":memory:")
    X.to_sql("t", con, index=False)
    assert [r[1] for r in con.execute(to_sql(rs, "t", "id") + ' ORDER BY "id"')] == expected.tolist()


def test_a_cyclic_provenance_is_refused_not_a_recursion_error():
    prov = {"model": "x"}
    prov["self"] = prov
    with pytest.raises(DataError, match="nested deeper"):
        RuleSet([], provenance=prov)
