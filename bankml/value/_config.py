"""Defaults and bilingual names of bankml.value, read from configs/value.yaml.

Loaded once per process and validated here, so a typo in the file fails loudly.
"""

from __future__ import annotations

import functools

from .._resources import load_builtin_yaml
from .._yaml import short_repr
from ..errors import ConfigError, InvalidParameterError
from ..labels import check_bilingual

_TIERS = ("high", "middle", "low")


def _bilingual(where, leaf):
    return check_bilingual(leaf, f"value.yaml: {where}")


def check_cuts(cuts, where="cuts", error=InvalidParameterError):
    """Two increasing shares ``0 < a < b <= 1``; returns them as floats.

    ``error``: :class:`InvalidParameterError` for a function's argument, ConfigError for
    a key of value.yaml (the rule of :mod:`bankml.errors`).
    """
    try:
        if isinstance(cuts, (str, bytes)) or any(isinstance(c, bool) for c in cuts):
            raise TypeError
        a, b = (float(c) for c in cuts)
    except (TypeError, ValueError):
        raise error(f"{where} must be two shares (a, b), got {short_repr(cuts)}") from None
    if not 0 < a < b <= 1:
        raise error(f"{where} must satisfy 0 < a < b <= 1, got {short_repr(cuts)}")
    return a, b


def validate_value_config(data: dict) -> dict:
    """Check the ``value`` section and return it with typed values."""
    v = data.get("value")
    if not isinstance(v, dict):
        raise ConfigError("value.yaml: missing the 'value' mapping")
    out = {"abc_cuts": check_cuts(v.get("abc_cuts"), "value.yaml: value.abc_cuts", ConfigError),
           "pyramid_shares": check_cuts(v.get("pyramid_shares"), "value.yaml: value.pyramid_shares",
                                        ConfigError)}
    tiers = v.get("tiers")
    if not isinstance(tiers, dict) or set(tiers) != set(_TIERS):
        raise ConfigError(f"value.yaml: value.tiers must have exactly the keys {list(_TIERS)}")
    out["tiers"] = {k: _bilingual(f"value.tiers.{k}", tiers[k]) for k in _TIERS}
    bins = v.get("rfm_bins")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ConfigError(f"value.yaml: value.rfm_bins must be an integer >= 2, got {short_repr(bins)}")
    out["rfm_bins"] = bins
    names = v.get("rfm_segments")
    if not isinstance(names, dict) or not names:
        raise ConfigError("value.yaml: value.rfm_segments must map segment keys to zh/en names")
    out["rfm_segments"] = {str(k): _bilingual(f"value.rfm_segments.{k}", leaf) for k, leaf in names.items()}
    grid = v.get("rfm_grid")
    if (not isinstance(grid, list) or len(grid) != bins
            or not all(isinstance(row, list) and len(row) == bins for row in grid)):
        raise ConfigError(f"value.yaml: value.rfm_grid must be {bins} rows of {bins} segment keys "
                          f"(recency score 1..{bins} by frequency score 1..{bins})")
    unknown = sorted({str(k) for row in grid for k in row} - set(out["rfm_segments"]))
    if unknown:
        raise ConfigError(f"value.yaml: value.rfm_grid names segments {unknown} that have no "
                          f"entry in value.rfm_segments")
    out["rfm_grid"] = [[str(k) for k in row] for row in grid]
    return out


@functools.lru_cache(maxsize=None)
def value_config() -> dict:
    """The validated ``value`` section of the built-in configs/value.yaml."""
    return validate_value_config(load_builtin_yaml("value.yaml"))
