"""configs/segment.yaml is validated: a broken value is named, not silently used."""

import copy

import pytest

from bankml.errors import ConfigError
from bankml.segment._config import segment_config, validate_config


def _broken(path, value):
    data = copy.deepcopy(segment_config())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_builtin_config_is_valid():
    cfg = segment_config()
    assert validate_config(copy.deepcopy(cfg)) == cfg
    assert cfg["naming"]["high"] == {"zh": "高", "en": "high"}


@pytest.mark.parametrize("path, value, message", [
    (("segmenter", "k_range"), [1, 5], "k_range"),
    (("segmenter", "k_range"), [6, 3], "k_range"),
    (("segmenter", "features"), "short_term_assets", "segmenter.features"),
    (("segmenter", "sample_size"), 0, "sample_size"),
    (("naming", "min_smd"), -1, "min_smd"),
    (("naming", "high"), {"zh": "高"}, "naming.high"),
    (("naming", "phrases"), {"age": {"high": {"zh": "a", "en": "b"}}}, "phrases.age"),
    (("concept", "bands"), {"age": [55, 30]}, "concept.bands.age"),
    (("concept", "texts"), {}, "concept.texts"),
    (("plot", "cjk_fonts"), None, "plot.cjk_fonts"),
    # NaN passes every "< 0" and "increasing" comparison: refuse it by name
    (("naming", "min_smd"), float("nan"), "min_smd must be a finite"),
    (("concept", "bands"), {"age": [30, float("nan")]}, "concept.bands.age"),
    (("segmenter", "k_range"), [True, 5], "k_range"),
    # issue 17: the useful-size shares are checked like every other value
    (("segmenter", "max_share"), 1.5, "segmenter.max_share must be a share"),
    (("segmenter", "min_share"), float("nan"), "segmenter.min_share must be a share"),
    (("segmenter", "min_share"), 0.5, "min_share must be below segmenter.max_share"),
    (("naming", "max_high_share"), "40%", "naming.max_high_share"),
    (("naming", "max_high_share"), None, "naming.max_high_share"),
])
def test_broken_values_are_named(path, value, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_broken(path, value))


def test_missing_section():
    data = copy.deepcopy(segment_config())
    del data["naming"]
    with pytest.raises(ConfigError, match="naming"):
        validate_config(data)
