"""Bilingual (zh/en) labels for columns, coded values and report terms.

Read once from ``configs/labels.yaml``; anything missing falls back to its own name.
"""

from __future__ import annotations

import functools

from ._resources import load_builtin_yaml, read_yaml
from ._yaml import short_repr
from .errors import ConfigError

__all__ = ["LANGS", "DEFAULT_LANG", "check_lang", "check_bilingual", "Labels", "default_labels",
           "column_label", "value_label", "term"]

LANGS = ("zh", "en")

#: The language of user-facing text when a function is not told (rule sheets, reports,
#: summaries): the branches that read them work in Chinese.
DEFAULT_LANG = "zh"


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``"zh"`` or ``"en"``, else raise ``InvalidParameterError``.

    A language is a parameter, so a bad one is scikit-learn's ``InvalidParameterError``
    (a ``ValueError``), as for every bad parameter (see :mod:`bankml.errors`).

    Examples
    --------
    >>> check_lang("zh")
    'zh'
    >>> check_lang("fr")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: lang must be 'zh' or 'en', got 'fr'
    """
    if not isinstance(lang, str) or lang not in LANGS:
        from .errors import InvalidParameterError   # imports scikit-learn: only when needed

        raise InvalidParameterError(f"lang must be 'zh' or 'en', got {short_repr(lang)}")
    return lang


def check_bilingual(leaf, where: str, *, allow_empty: bool = False) -> dict:
    """Check one bilingual YAML leaf: exactly ``zh`` and ``en``, each text; return it.

    The one check of every bilingual entry bankml reads (labels, segment names, outlier
    reasons, value tiers), so all files follow the same rule.

    Parameters
    ----------
    leaf : object
        The parsed value, expected ``{"zh": "...", "en": "..."}``.
    where : str
        File and key for the message, e.g. ``"labels.yaml: columns.age"``.
    allow_empty : bool, default False
        Accept empty text (a separator may be empty in Chinese).

    Raises
    ------
    ConfigError
        Naming ``where`` and what was found.

    Examples
    --------
    >>> check_bilingual({"zh": "年龄", "en": "age"}, "labels.yaml: columns.age")
    {'zh': '年龄', 'en': 'age'}
    >>> check_bilingual({"zh": "年龄"}, "labels.yaml: columns.age")
    Traceback (most recent call last):
    ...
    bankml.errors.ConfigError: labels.yaml: columns.age must map exactly zh and en to non-empty text, got {'zh': '年龄'}
    """
    if not isinstance(leaf, dict) or set(leaf) != set(LANGS) or not all(
            isinstance(leaf[k], str) and (allow_empty or leaf[k]) for k in LANGS):
        text = "text" if allow_empty else "non-empty text"
        raise ConfigError(f"{where} must map exactly zh and en to {text}, got {short_repr(leaf)}")
    return leaf


def _check_leaf(where: str, leaf) -> dict:
    return check_bilingual(leaf, f"labels: {where}")


class Labels:
    """A validated label table: ``columns``, ``values`` (per column, per value) and ``terms``.

    Parameters
    ----------
    data : dict
        The parsed YAML mapping with the top-level keys ``columns``, ``values``, ``terms``.

    Examples
    --------
    >>> labels = default_labels()
    >>> labels.column("age", "zh"), labels.value("gender", "F", "en"), labels.term("if", "zh")
    ('年龄', 'female', '如果')
    >>> labels.column("not_a_column", "zh")
    'not_a_column'
    """

    _SECTIONS = ("columns", "values", "terms")

    def __init__(self, data: dict):
        if not isinstance(data, dict):
            raise ConfigError(f"labels: expected a mapping with {list(self._SECTIONS)}, "
                              f"got {type(data).__name__}")
        for section in self._SECTIONS:
            if not isinstance(data.get(section) or {}, dict):
                raise ConfigError(f"labels: {section} must be a mapping, got "
                                  f"{short_repr(data[section])}")
        unknown = set(data) - set(self._SECTIONS)
        if unknown:
            raise ConfigError(f"labels: unknown top-level keys {sorted(unknown)}; "
                              f"expected {list(self._SECTIONS)}")
        self._columns = {str(k): _check_leaf(f"columns.{k}", v)
                         for k, v in (data.get("columns") or {}).items()}
        self._terms = {str(k): _check_leaf(f"terms.{k}", v)
                       for k, v in (data.get("terms") or {}).items()}
        self._values = {}
        for col, mapping in (data.get("values") or {}).items():
            if not isinstance(mapping, dict):
                raise ConfigError(f"labels: values.{col} must be a mapping of value -> labels")
            self._values[str(col)] = {str(v): _check_leaf(f"values.{col}.{v}", leaf)
                                      for v, leaf in mapping.items()}

    @classmethod
    def from_yaml(cls, path) -> "Labels":
        """Load and validate a labels file."""
        return cls(read_yaml(path))

    def column(self, name, lang: str = "en") -> str:
        """The label of a column, or the column name itself when it has none."""
        check_lang(lang)
        leaf = self._columns.get(str(name))
        return leaf[lang] if leaf else str(name)

    def value(self, column, value, lang: str = "en") -> str:
        """The label of a coded value of a column, or ``str(value)`` when it has none."""
        check_lang(lang)
        key = value
        if isinstance(value, float) and value.is_integer():
            key = int(value)
        leaf = self._values.get(str(column), {}).get(str(key))
        return leaf[lang] if leaf else str(value)

    def term(self, key: str, lang: str = "en") -> str:
        """A report word (``if``, ``and``, ``support`` ...), or ``key`` when it has none."""
        check_lang(lang)
        leaf = self._terms.get(key)
        return leaf[lang] if leaf else key

    def has_column(self, name) -> bool:
        return str(name) in self._columns


@functools.lru_cache(maxsize=1)
def default_labels() -> Labels:
    """The labels of ``configs/labels.yaml``, loaded once.

    Examples
    --------
    >>> default_labels() is default_labels()
    True
    """
    return Labels(load_builtin_yaml("labels.yaml"))


def column_label(name, lang: str = "en") -> str:
    """Shortcut for ``default_labels().column(name, lang)``.

    Examples
    --------
    >>> column_label("card_spend", "zh"), column_label("card_spend", "en")
    ('刷卡消费额', 'card spending')
    """
    return default_labels().column(name, lang)


def value_label(column, value, lang: str = "en") -> str:
    """Shortcut for ``default_labels().value(column, value, lang)``.

    Examples
    --------
    >>> value_label("star", 1, "zh"), value_label("star", 1, "en")
    ('准星级', 'quasi-star')
    """
    return default_labels().value(column, value, lang)


def term(key: str, lang: str = "en") -> str:
    """Shortcut for ``default_labels().term(key, lang)``.

    Examples
    --------
    >>> term("then", "zh")
    '则'
    """
    return default_labels().term(key, lang)
