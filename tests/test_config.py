"""The pipeline config: the shipped files load, and every bad key or value is named."""

import pytest
import yaml

from bankml._resources import config_path
from bankml.config import SCHEMA, flatten_config, load_config, validate_config
from bankml.errors import ConfigError

MINIMAL = {"data": {"synthetic": {"n": 100}}}


@pytest.mark.parametrize("name", ["wealth_propensity.yaml", "quickstart.yaml"])
def test_shipped_configs_load_and_set_every_section(name):
    cfg = load_config(config_path(name))
    assert set(cfg) == set(SCHEMA)
    assert cfg["data"]["path"] is None and cfg["data"]["synthetic"]["n"] > 0


def test_quickstart_is_small_and_main_is_100k():
    assert load_config(config_path("quickstart.yaml"))["data"]["synthetic"]["n"] <= 5000
    assert load_config(config_path("wealth_propensity.yaml"))["data"]["synthetic"]["n"] == 100_000


def test_defaults_filled_and_input_not_mutated():
    raw = {"data": {"synthetic": {"n": 100}}}
    cfg = validate_config(raw)
    assert raw == {"data": {"synthetic": {"n": 100}}}
    assert cfg["data"]["synthetic"]["seed"] == 0
    assert cfg["tree"]["max_depth"] == SCHEMA["tree"]["max_depth"].default
    cfg["features"]["categorical"].append("x")  # defaults are copies, not shared
    assert "x" not in validate_config(MINIMAL)["features"]["categorical"]


@pytest.mark.parametrize("patch, key", [
    ({"tree": {"depth": 3}}, "tree.depth"),
    ({"colour": 1}, "colour"),
    ({"mlflow": {"experiment": "x", "uri": "y"}}, "mlflow.uri"),
    ({"data": {"synthetic": {"n": 10, "size": 3}}}, "data.synthetic.size"),
])
def test_unknown_key_is_named(patch, key):
    raw = {**MINIMAL, **patch}
    if "data" in patch:
        raw["data"] = patch["data"]
    with pytest.raises(ConfigError, match=f"unknown config key '{key}'"):
        validate_config(raw)


@pytest.mark.parametrize("section, key, value", [
    ("tree", "max_depth", "four"),
    ("tree", "max_depth", 2.5),
    ("tree", "min_samples_leaf", True),
    ("split", "test_size", "0.3"),
    ("association", "enabled", "yes"),
    ("features", "categorical", "gender"),
    ("segments", "n_clusters", 0),
    ("tree", "criterion", "gini"),
    ("split", "test_size", 1.5),
    ("association", "min_support", 0),
    ("mlflow", "registered_model", "  "),
    ("features", "bands", {"age": [55, 30]}),
])
def test_wrong_type_or_value_names_the_key(section, key, value):
    raw = {**MINIMAL, section: {key: value}}
    with pytest.raises(ConfigError, match=f"config key '{section}.{key}'"):
        validate_config(raw)


def test_data_source_rules():
    with pytest.raises(ConfigError, match="'data'"):
        validate_config({})
    with pytest.raises(ConfigError, match="exactly one"):
        validate_config({"data": {}})
    with pytest.raises(ConfigError, match="exactly one"):
        validate_config({"data": {"synthetic": {"n": 5}, "path": "x.csv"}})
    with pytest.raises(ConfigError, match="missing config key 'data.synthetic.n'"):
        validate_config({"data": {"synthetic": {"seed": 1}}})
    assert validate_config({"data": {"path": "x.csv"}})["data"]["synthetic"] is None


def test_feature_consistency():
    with pytest.raises(ConfigError, match="both categorical and numeric"):
        validate_config({**MINIMAL, "features": {"categorical": ["age"], "numeric": ["age"]}})
    with pytest.raises(ConfigError, match="features.bands.tenure_months"):
        validate_config({**MINIMAL, "features": {"bands": {"tenure_months": [12]}}})
    with pytest.raises(ConfigError, match="must not repeat"):
        validate_config({**MINIMAL, "features": {"numeric": ["age", "age"]}})


def test_yaml_file_errors_carry_the_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**MINIMAL, "tree": {"max_depth": "deep"}}))
    with pytest.raises(ConfigError, match=r"bad\.yaml: config key 'tree\.max_depth'"):
        load_config(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="YAML path or a mapping"):
        load_config(42)


def test_flatten_gives_dotted_scalar_keys():
    flat = flatten_config(load_config(config_path("quickstart.yaml")))
    assert flat["data.synthetic.n"] == 5000
    assert flat["features.bands"] == {"age": [30, 55]}
    assert all(not isinstance(v, dict) or k.endswith("bands") for k, v in flat.items())


@pytest.mark.parametrize("key, section, column", [
    ("features.numeric", "features", "customer_id"),
    ("features.categorical", "features", "customer_id"),
    ("features.numeric", "features", "wm_buyer"),
    ("segments.features", "segments", "customer_id"),
    ("outliers.features", "outliers", "customer_id"),
])
def test_identifier_and_label_are_never_features(key, section, column):
    # the id would become a model input (and so reach MLflow's input example); the label
    # as a feature would leak the answer into the model
    sub = key.split(".")[1]
    data = {"data": {"synthetic": {"n": 10}}, section: {sub: ["age", column]}}
    if key == "features.categorical":
        data["features"]["numeric"] = ["short_term_assets"]
    with pytest.raises(ConfigError, match=rf"config key '{key}'.*{column}"):
        validate_config(data)


# --------------------------------------------------------------------------- strict YAML
# Issue 12.6: a duplicated key (last one silently won) and a 13-line alias bomb (58 MB
# error message) are refused by the one loader every bankml YAML goes through.
_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefghi", "bcdefghij")]
    + ["data: {synthetic: {n: 10}}", "tree: {max_depth: 3}", "k: *j"])


def test_alias_bomb_fails_fast_with_a_short_message(tmp_path):
    assert len(_BOMB.splitlines()) == 13
    path = tmp_path / "bomb.yaml"
    path.write_text(_BOMB)
    with pytest.raises(ConfigError, match=r"bomb\.yaml: line 1: anchor &a") as info:
        load_config(path)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("text, key, line", [
    ("data: {synthetic: {n: 10}}\ntree: {max_depth: 3}\ntree: {max_depth: 9}\n", "'tree'", 3),
    ("data:\n  synthetic: {n: 10}\ntree:\n  max_depth: 3\n  min_gain: 0.1\n  max_depth: 9\n",
     "'max_depth'", 6),
    ("data: {synthetic: {n: 10, seed: 1, n: 20}}\n", "'n'", 1),
])
def test_duplicate_key_at_any_depth_is_refused_naming_key_and_line(tmp_path, text, key, line):
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"dup\.yaml: line {line}: duplicate key {key}"):
        load_config(path)


@pytest.mark.parametrize("text, what", [
    ("data: {synthetic: {n: !!int '10'}}\n", "explicit tag"),
    ("data: !custom {synthetic: {n: 10}}\n", "explicit tag"),
    ("data: {synthetic: {n: 10}}\nx: &y 1\n", "anchor &y"),
    ("base: &b {n: 10}\ndata: {synthetic: {<<: *b}}\n", "anchor &b"),
    ("data: !!python/object:os.system {}\n", "explicit tag"),
    ("data: {synthetic: {<<: {n: 10}, n: 20}}\n", "merge key <<"),
])
def test_tags_anchors_and_merge_keys_are_refused(tmp_path, text, what):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=what):
        load_config(path)


def test_yaml_problems_are_config_errors_never_raw(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("data: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match="deep.yaml"):
        load_config(deep)
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("data: {synthetic: {n: 10}}\n# 中文注释\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(gbk)
    long_line = tmp_path / "long.yaml"
    long_line.write_text("data: {synthetic: {n: 10}}\nbad: [" + "x" * 100_000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(long_line)
    assert len(str(info.value)) <= 300


@pytest.mark.parametrize("module, loader", [
    ("bankml.stars", lambda m, p: m.StarPolicy.from_yaml(p)),
    ("bankml.labels", lambda m, p: m.Labels.from_yaml(p)),
])
def test_every_yaml_reader_is_strict(tmp_path, module, loader):
    import importlib
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(ConfigError, match="duplicate key 'a'"):
        loader(importlib.import_module(module), path)


# --------------------------------------------------------------------------- one source
# Issue 16.3 / 12.13: parameter limits live in the estimators; the config asks them.
def test_tree_section_is_exactly_estimator_parameters_and_builds_the_tree():
    from bankml.tree import InfoGainTreeClassifier
    cfg = validate_config(MINIMAL)
    params = set(InfoGainTreeClassifier().get_params())
    assert set(cfg["tree"]) == params - {"categorical_features"}
    tree = InfoGainTreeClassifier(**cfg["tree"])
    assert {k: tree.get_params()[k] for k in cfg["tree"]} == cfg["tree"]


@pytest.mark.parametrize("key, value", [
    ("confidence", 0.9),            # the config used to allow < 1, the estimator 0.5
    ("confidence", 0.0),
    ("min_gain", float("inf")),
    ("min_gain", float("nan")),
    ("max_bins", 1),
    ("min_weight_fraction_leaf", 0.6),
    ("criterion", "entropy"),
    ("pruning", "reduced_error"),
    ("class_weight", "auto"),
    ("class_weight", {0: 1, 1: "x"}),
    ("class_weight", {"yes": 2}),
    ("random_state", -1),
    ("max_depth", True),
])
def test_tree_values_are_judged_by_the_estimators_own_limits(key, value):
    with pytest.raises(ConfigError, match=rf"config key 'tree\.{key}'"):
        validate_config({**MINIMAL, "tree": {key: value}})


def test_min_gain_inf_from_yaml_is_refused(tmp_path):
    path = tmp_path / "inf.yaml"
    path.write_text("data: {synthetic: {n: 10}}\ntree:\n  min_gain: .inf\n")
    with pytest.raises(ConfigError, match=r"inf\.yaml: config key 'tree\.min_gain'.*got inf"):
        load_config(path)


def test_tree_section_cannot_set_what_the_pipeline_decides():
    with pytest.raises(ConfigError, match="unknown config key 'tree.categorical_features'"):
        validate_config({**MINIMAL, "tree": {"categorical_features": ["gender"]}})


@pytest.mark.parametrize("section, key, value", [
    ("association", "engine", "bogus"),      # issue 12.2: was only found after the rules stage
    ("association", "engine", "FPGrowth"),
    ("segments", "method", "dbscan"),
    ("segments", "n_clusters", "many"),
    ("segments", "sample_size", 2),
    ("outliers", "contamination", 0.9),
    ("outliers", "contamination", "1%"),
    ("rules", "target", 2),
])
def test_every_enum_and_limit_is_checked_at_load(section, key, value):
    with pytest.raises(ConfigError, match=rf"config key '{section}\.{key}'"):
        validate_config({**MINIMAL, section: {key: value}})


def test_association_engines_come_from_the_association_package(monkeypatch):
    import bankml.association as assoc
    monkeypatch.setattr(assoc, "ENGINES", ("apriori",))
    with pytest.raises(ConfigError, match="association.engine"):
        validate_config({**MINIMAL, "association": {"engine": "fpgrowth"}})


def test_module_owned_defaults_are_not_copied_into_the_config():
    from bankml.outliers._config import outliers_config
    cfg = validate_config(MINIMAL)
    # null: CustomerSegmenter's own default from configs/segment.yaml (it had 3000 here)
    assert cfg["segments"]["sample_size"] is None
    assert cfg["outliers"]["contamination"] == outliers_config()["contamination"]
    explicit = validate_config({**MINIMAL, "outliers": {"contamination": None}})
    assert explicit["outliers"]["contamination"] == outliers_config()["contamination"]


def test_champion_min_positives():
    assert validate_config(MINIMAL)["mlflow"]["champion_min_positives"] == 30
    assert validate_config({**MINIMAL, "mlflow": {"champion_min_positives": 1}})["mlflow"][
        "champion_min_positives"] == 1
    for bad in (0, -5, 2.5, True, "30"):
        with pytest.raises(ConfigError, match="mlflow.champion_min_positives"):
            validate_config({**MINIMAL, "mlflow": {"champion_min_positives": bad}})


def test_data_encoding():
    assert validate_config(MINIMAL)["data"]["encoding"] == "utf-8"
    for ok in ("gbk", "gb18030", "GBK", "utf-8-sig"):
        data = {"data": {"path": "x.csv", "encoding": ok}}
        assert validate_config(data)["data"]["encoding"] == ok
    with pytest.raises(ConfigError, match="data.encoding"):
        validate_config({"data": {"path": "x.csv", "encoding": "klingon"}})


@pytest.mark.parametrize("cuts", [[30, float("nan")], [float("-inf"), 30], [30, float("inf")]])
def test_band_cuts_must_be_finite(cuts):
    # a NaN cut passed the "strictly increasing" test (every comparison with NaN is False)
    with pytest.raises(ConfigError, match="features.bands.*finite"):
        validate_config({**MINIMAL, "features": {"numeric": ["age"], "bands": {"age": cuts}}})


@pytest.mark.parametrize("section", ["segments", "outliers"])
def test_enabled_stage_needs_features(section):
    with pytest.raises(ConfigError, match=f"config key '{section}.features': list at least one"):
        validate_config({**MINIMAL, section: {"features": []}})
    assert validate_config({**MINIMAL, section: {"features": [], "enabled": False}})


def test_fast_engine_without_pyfim_is_refused_at_load(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "fim", None)       # import fim -> ImportError
    with pytest.raises(ConfigError, match="config key 'association.engine'.*pyfim"):
        validate_config({**MINIMAL, "association": {"engine": "fast"}})
    # not needed when the stage is off
    validate_config({**MINIMAL, "association": {"engine": "fast", "enabled": False}})


@pytest.mark.parametrize("data", [
    {"data": list(range(100_000))},
    {"data": {"synthetic": {"n": 5}}, "x" * 100_000: 1},
    {"data": {"synthetic": {"n": "9" * 100_000}}},
])
def test_messages_stay_short_whatever_the_value(data):
    # issue 12.6: a message once echoed a 58 MB value
    with pytest.raises(ConfigError) as info:
        validate_config(data)
    assert len(str(info.value)) <= 300


@pytest.mark.parametrize("extra, key", [
    ({"targets": ["wm_buyer", "has_fund"]}, "targets"),
    ({"model": {"kind": "rule_scorecard"}}, "model.kind"),
    ({"model": {"select": True}}, "model.select"),
    ({"data": {"synthetic": None, "sql": {"url": "sqlite:///x.db", "table": "t"}}}, "data.sql"),
])
def test_spark_engine_refuses_what_only_the_pandas_job_does(extra, key):
    cfg = {"engine": "spark", "data": {"synthetic": {"n": 10}}}
    for k, v in extra.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    with pytest.raises(ConfigError, match=rf"config key '{key}': not available with engine: spark"):
        validate_config(cfg)
