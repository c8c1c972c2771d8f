"""Loads and validates configs/segment.yaml once: segmenter defaults, naming words, hierarchies.

Everything user-editable about segments and concept description lives in that file.
"""

from __future__ import annotations

import functools
import math

from .._resources import load_builtin_yaml
from .._yaml import short_repr
from ..errors import ConfigError
from ..labels import check_bilingual

_FILE = "segment.yaml"


def _leaf(where, leaf):
    # a Chinese separator is legitimately empty
    return check_bilingual(leaf, f"{_FILE}: {where}", allow_empty=True)


def _str_list(where, value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{_FILE}: {where} must be a list of column names, got {short_repr(value)}")
    return list(value)


def _pos_int(where, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{_FILE}: {where} must be an integer >= {minimum}, got {short_repr(value)}")
    return value


def _share(where, value):
    # NaN fails every comparison, so "0 <= v <= 1" alone would let it through
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not (math.isfinite(value) and 0 <= value <= 1)):
        raise ConfigError(f"{_FILE}: {where} must be a share between 0 and 1, got {short_repr(value)}")
    return value


def validate_config(data: dict) -> dict:
    """Check the parsed segment.yaml mapping; return it (raises ConfigError naming the key)."""
    for section in ("segmenter", "naming", "concept"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"{_FILE}: missing section {short_repr(section)}")
    seg = data["segmenter"]
    for key in ("features", "categorical_features", "log_columns"):
        _str_list(f"segmenter.{key}", seg.get(key))
    kr = seg.get("k_range")
    if (not isinstance(kr, list) or len(kr) != 2
            or not all(isinstance(k, int) and not isinstance(k, bool) for k in kr)
            or not 2 <= kr[0] <= kr[1]):
        raise ConfigError(f"{_FILE}: segmenter.k_range must be [kmin, kmax] with 2 <= kmin <= kmax, "
                          f"got {short_repr(kr)}")
    _pos_int("segmenter.sample_size", seg.get("sample_size"), 3)
    _pos_int("segmenter.kprototypes_sample_size", seg.get("kprototypes_sample_size"), 3)
    _pos_int("segmenter.n_init", seg.get("n_init"))
    for where, sec, key in (("segmenter.min_share", seg, "min_share"),
                            ("segmenter.max_share", seg, "max_share"),
                            ("naming.max_high_share", data["naming"], "max_high_share")):
        _share(where, sec.get(key))
    if not seg["min_share"] < seg["max_share"]:
        raise ConfigError(f"{_FILE}: segmenter.min_share must be below segmenter.max_share, got "
                          f"{short_repr(seg['min_share'])} and {short_repr(seg['max_share'])}")
    if not isinstance(seg.get("value_column"), str):
        raise ConfigError(f"{_FILE}: segmenter.value_column must be a column name")

    nam = data["naming"]
    if (isinstance(nam.get("min_smd"), bool) or not isinstance(nam.get("min_smd"), (int, float))
            or not 0 <= nam["min_smd"] < math.inf):
        raise ConfigError(f"{_FILE}: naming.min_smd must be a finite number >= 0, "
                          f"got {short_repr(nam.get('min_smd'))}")
    _pos_int("naming.max_terms", nam.get("max_terms"))
    for key in ("high", "low", "separator", "level_format", "typical", "mostly"):
        _leaf(f"naming.{key}", nam.get(key))
    for col, leaf in (nam.get("nouns") or {}).items():
        _leaf(f"naming.nouns.{col}", leaf)
    for col, pair in (nam.get("phrases") or {}).items():
        if not isinstance(pair, dict) or set(pair) != {"high", "low"}:
            raise ConfigError(f"{_FILE}: naming.phrases.{col} needs exactly 'high' and 'low'")
        for side in ("high", "low"):
            _leaf(f"naming.phrases.{col}.{side}", pair[side])

    plot = data.get("plot")
    if not isinstance(plot, dict):
        raise ConfigError(f"{_FILE}: missing section 'plot'")
    _str_list("plot.cjk_fonts", plot.get("cjk_fonts"))
    _pos_int("plot.annotate_max_cells", plot.get("annotate_max_cells"), 0)

    con = data["concept"]
    bands = con.get("bands")
    if not isinstance(bands, dict):
        raise ConfigError(f"{_FILE}: concept.bands must map columns to cut points")
    for col, cuts in bands.items():
        if (not isinstance(cuts, list) or not cuts
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool)
                           and math.isfinite(c) for c in cuts)
                or any(b <= a for a, b in zip(cuts, cuts[1:]))):
            raise ConfigError(f"{_FILE}: concept.bands.{col} must be increasing numbers, got {short_repr(cuts)}")
    _pos_int("concept.max_levels", con.get("max_levels"))
    for key in ("target", "contrast", "missing", "and", "or", "characteristic", "discriminant",
                "t_weight", "d_weight"):
        _leaf(f"concept.texts.{key}", (con.get("texts") or {}).get(key))
    return data


@functools.lru_cache(maxsize=None)
def segment_config() -> dict:
    """The validated built-in configuration (cached; treat as read-only)."""
    return validate_config(load_builtin_yaml(_FILE))
