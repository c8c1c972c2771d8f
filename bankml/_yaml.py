"""The one YAML loader of bankml: safe, and strict about what a hand-edited config can hide.

Duplicate keys (the last would silently win), anchors and aliases (an alias bomb expands a
few lines into gigabytes) and explicit tags are refused with a short ConfigError.
"""

from __future__ import annotations

import yaml

from .errors import ConfigError

__all__ = ["safe_load_strict", "short_repr"]

#: Longest value repr quoted in a message: an error names the value, it does not echo a file.
_MAX_REPR = 60


def short_repr(value, limit: int = _MAX_REPR) -> str:
    """``repr(value)``, cut to ``limit`` characters so that a message stays one short line.

    Examples
    --------
    >>> short_repr("abc")
    "'abc'"
    >>> short_repr("x" * 100, limit=12)
    "'xxxxxxx...(102 chars)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 4]}...({len(text)} chars)"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader refusing aliases, anchors, explicit tags, merge keys and duplicate keys."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(mark, f"alias *{event.anchor} (anchors and aliases are not allowed "
                                 "in bankml configs; write the value out)")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(mark, f"anchor &{anchor} (anchors and aliases are not allowed in "
                                 "bankml configs; write the value out)")
        tag = getattr(event, "tag", None)
        if tag is not None and not isinstance(event, yaml.DocumentStartEvent):
            raise _Refused(mark, f"explicit tag {short_repr(tag)} (bankml configs hold plain "
                                 "values only; remove the tag)")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(key_node.start_mark, "merge key << (it silently overrides keys; "
                                                    "write the keys out)")
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:       # an unhashable key: let PyYAML word its own error
                break
            if first is not None:
                raise _Refused(key_node.start_mark,
                               f"duplicate key {short_repr(key)} (first at line {first}); "
                               "the last one would silently win")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class _Refused(Exception):
    def __init__(self, mark, what):
        super().__init__(what)
        self.mark, self.what = mark, what


def safe_load_strict(text: str, source: str = "<config>"):
    """Parse YAML text safely and strictly; any problem is a ConfigError naming ``source``.

    Parameters
    ----------
    text : str
        The YAML document.
    source : str
        What to call it in messages (usually the file path).

    Returns
    -------
    The parsed document (plain dicts, lists, str, int, float, bool, None, dates).

    Raises
    ------
    ConfigError
        Invalid YAML, a duplicate key at any depth, an anchor or alias, a merge key
        (``<<``), an explicit tag, or nesting too deep; the message names ``source``,
        the line and the key, and is never longer than a few hundred characters.

    Examples
    --------
    >>> safe_load_strict("tree:\\n  max_depth: 3\\n")
    {'tree': {'max_depth': 3}}
    >>> safe_load_strict("a: 1\\nb: 2\\na: 3\\n", "my.yaml")
    Traceback (most recent call last):
    ...
    bankml.errors.ConfigError: my.yaml: line 3: duplicate key 'a' (first at line 1); ...
    >>> safe_load_strict("a: &x [1, 2]\\nb: *x\\n", "bomb.yaml")
    Traceback (most recent call last):
    ...
    bankml.errors.ConfigError: bomb.yaml: line 1: anchor &x (anchors and aliases are not ...
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 -- a SafeLoader subclass
    except _Refused as exc:
        raise ConfigError(_cut(f"{source}: line {exc.mark.line + 1}: {exc.what}")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(_cut(f"{source}: {where}not valid YAML: {what}")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(_cut(f"{source}: not valid YAML: {exc}")) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a bankml config") from None


def _cut(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit - 3] + "..."
