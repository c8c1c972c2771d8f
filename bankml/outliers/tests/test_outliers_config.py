"""configs/outliers.yaml and configs/value.yaml are validated, with errors naming the key."""

import copy

import pytest

from bankml._resources import load_builtin_yaml
from bankml.errors import ConfigError
from bankml.outliers._config import fmt_amount, outliers_config, validate_outliers_config
from bankml.value._config import validate_value_config, value_config


def _raw(name="outliers.yaml"):
    return copy.deepcopy(load_builtin_yaml(name))


def test_builtin_file_is_valid():
    cfg = outliers_config()
    assert cfg["contamination"] == 0.01
    assert cfg["threshold"]["min_days"] == 3 and isinstance(cfg["threshold"]["min_days"], int)
    v = value_config()
    assert v["abc_cuts"] == (0.8, 0.95) and len(v["rfm_grid"]) == v["rfm_bins"] == 5


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["outliers"].pop("threshold"), "outliers.threshold"),
    (lambda d: d["outliers"]["threshold"].update(min_days=0), "min_days"),
    (lambda d: d["outliers"]["threshold"].update(quantile=1.5), "quantile"),
    (lambda d: d["outliers"]["threshold"].update(amount="lots"), "amount"),
    (lambda d: d["outliers"].update(contamination=0.9), "contamination"),
    (lambda d: d["outliers"]["reasons"].pop("amount"), "reasons"),
    (lambda d: d["outliers"]["reasons"]["amount"].pop("zh"), "reasons.amount"),
    # an infinite threshold would never flag anyone, silently
    (lambda d: d["outliers"]["threshold"].update(amount=float("inf")), "amount must be a finite"),
    (lambda d: d["outliers"]["threshold"].update(factor=float("nan")), "factor must be a finite"),
])
def test_bad_outliers_section(edit, match):
    data = _raw()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        validate_outliers_config(data)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.pop("value"), "'value'"),
    (lambda d: d["value"].update(abc_cuts=[0.95, 0.8]), "abc_cuts"),
    (lambda d: d["value"].update(rfm_bins=1), "rfm_bins"),
    (lambda d: d["value"]["rfm_grid"].pop(), "rfm_grid"),
    (lambda d: d["value"]["rfm_grid"][0].__setitem__(0, "vip"), r"\['vip'\]"),
    (lambda d: d["value"]["tiers"].pop("low"), "tiers"),
    (lambda d: d["value"]["rfm_segments"]["loyal"].update(en=""), "rfm_segments.loyal"),
])
def test_bad_value_section(edit, match):
    data = _raw("value.yaml")
    edit(data)
    with pytest.raises(ConfigError, match=match):
        validate_value_config(data)


def test_amounts_read_like_bank_figures():
    assert fmt_amount(50000) == "50,000"
    assert fmt_amount(1234.5) == "1,234.5"
    assert fmt_amount(12175.283) == "12,175.28"
