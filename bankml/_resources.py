"""Where bankml finds its configuration files, and how YAML is loaded once.

`configs/` at the project root is the place users edit; an installed package carries a copy
under ``<prefix>/share/bankml/configs``. ``BANKML_CONFIG_DIR`` overrides both.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from ._yaml import safe_load_strict, short_repr
from .errors import ConfigError

_REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
_SHARE_CONFIGS = Path(sys.prefix) / "share" / "bankml" / "configs"


def config_dir() -> Path:
    """The folder holding bankml's YAML configuration files."""
    env = os.environ.get("BANKML_CONFIG_DIR")
    candidates = [Path(env)] if env else []
    candidates += [_REPO_CONFIGS, _SHARE_CONFIGS]
    for cand in candidates:
        if cand.is_dir():
            return cand
    raise ConfigError(
        "bankml cannot find its configs folder; looked in "
        + ", ".join(str(c) for c in candidates)
        + ". Set BANKML_CONFIG_DIR to the folder holding labels.yaml."
    )


def config_path(name: str) -> Path:
    """Path of the named file in :func:`config_dir` (raises if it is missing)."""
    path = config_dir() / name
    if not path.is_file():
        raise ConfigError(f"configuration file {short_repr(name)} not found in {path.parent}")
    return path


def read_yaml(path) -> dict:
    """Load a YAML mapping with :func:`bankml._yaml.safe_load_strict` (every YAML bankml reads).

    Unreadable files, invalid YAML, duplicate keys, anchors/aliases and tags are
    :class:`ConfigError` naming the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    data = safe_load_strict(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level, got {type(data).__name__}")
    return data


@functools.lru_cache(maxsize=None)
def load_builtin_yaml(name: str) -> dict:
    """A built-in config file, parsed once per process. Treat the result as read-only."""
    return read_yaml(config_path(name))
