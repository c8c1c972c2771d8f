"""The bilingual label table: loading, validation, fallbacks."""

import re

import pytest
import yaml

from bankml.errors import ConfigError
from bankml.labels import Labels, column_label, default_labels, term, value_label
from bankml.schema import COLUMNS


def test_every_schema_column_has_both_labels():
    labels = default_labels()
    for name in COLUMNS:
        assert labels.has_column(name), name
        assert column_label(name, "zh") != column_label(name, "en")


def test_values_and_terms():
    assert value_label("gender", "F", "zh") == "女"
    assert value_label("star", 1, "zh") == "准星级"
    assert value_label("wm_buyer", 1.0, "en") == "WM buyer"
    assert term("then", "zh") == "则"


def test_fallbacks_to_names():
    assert column_label("branch_code", "zh") == "branch_code"
    assert value_label("gender", "X", "en") == "X"
    assert term("no_such_term", "en") == "no_such_term"


def test_bad_lang():
    with pytest.raises(ValueError, match="'zh' or 'en'"):
        column_label("age", "fr")


@pytest.mark.parametrize("data, match", [
    ({"columns": {"age": {"zh": "年龄"}}}, "columns.age"),
    ({"columns": {"age": {"zh": "年龄", "en": ""}}}, "columns.age"),
    ({"colums": {}}, "unknown top-level"),
    ({"values": {"gender": ["F"]}}, "values.gender"),
])
def test_invalid_label_tables(data, match):
    with pytest.raises(ConfigError, match=match):
        Labels(data)


def test_from_yaml_reports_bad_yaml(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("columns: {age: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Labels.from_yaml(path)
    path.write_text(yaml.safe_dump({"terms": {"if": {"zh": "若", "en": "IF"}}}, allow_unicode=True),
                    encoding="utf-8")
    assert Labels.from_yaml(path).term("if", "zh") == "若"


# Issue 16.3: the bilingual-leaf check is one function, so every YAML file follows one rule.
@pytest.mark.parametrize("validate, data, where", [
    (lambda d: __import__("bankml.labels", fromlist=["x"]).Labels(d),
     {"columns": {"age": {"zh": "年龄"}}}, "labels: columns.age"),
    (lambda d: __import__("bankml.value._config", fromlist=["x"]).validate_value_config(d),
     "value", "value.yaml: value.tiers.high"),
    (lambda d: __import__("bankml.outliers._config", fromlist=["x"]).validate_outliers_config(d),
     "outliers", "outliers.yaml: outliers.reasons.amount"),
    (lambda d: __import__("bankml.segment._config", fromlist=["x"]).validate_config(d),
     "segment", "segment.yaml: naming.high"),
])
def test_every_bilingual_file_uses_the_one_leaf_check(validate, data, where):
    import copy

    from bankml._resources import load_builtin_yaml
    if isinstance(data, str):
        data = copy.deepcopy(load_builtin_yaml(f"{data}.yaml"))
        section = {"value": data.get("value", {}).get("tiers"),
                   "outliers": data.get("outliers", {}).get("reasons"),
                   "segment": data.get("naming")}
        leaf_parent = next(v for v in section.values() if v is not None)
        key = where.rsplit(".", 1)[1]
        leaf_parent[key] = {"zh": leaf_parent[key]["zh"]}     # the English text is missing
    with pytest.raises(ConfigError, match=rf"^{re.escape(where)} must map exactly zh and en"):
        validate(data)


@pytest.mark.parametrize("data", [None, [], "columns", {"columns": ["age"]}, {"terms": 3}])
def test_a_label_table_that_is_not_mappings_is_a_config_error(data):
    with pytest.raises(ConfigError, match="labels: "):
        Labels(data)
