"""Every export of a RuleSet, as free functions of its one representation: text (zh/en),
markdown, frame/CSV, JSON (round trip), SQL (SQLite / DuckDB / Spark), dependency-free
Python and an HTML sheet.

Text, markdown, frame/CSV and HTML print conditions through ONE renderer
(:func:`_conditions_text`); what a column or value reads as comes from the labels file,
never from the bank schema. Every function that prints words takes ``lang`` defaulting to
:data:`bankml.labels.DEFAULT_LANG`.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import keyword
import math
import numbers
import os
import re
import unicodedata

import numpy as np
import pandas as pd

from ..errors import DataError, RuleExportError
from ..labels import DEFAULT_LANG, Labels, check_lang, default_labels
from ._model import (EQ_OPS, NUMERIC_OPS, OPS, SET_OPS, Condition, Rule, RuleSet, _sort_key,
                     check_depth, check_ruleset)
from ._rate import rule_scores

__all__ = ["to_text", "to_markdown", "to_frame", "to_csv", "to_json", "from_json", "to_sql",
           "to_python", "to_html", "format_number", "SQL_DIALECTS"]

JSON_FORMAT = "bankml.rules/2"
_JSON_FORMATS = ("bankml.rules/1", JSON_FORMAT)  # /1 kept provenance and flags in "meta"


# -- labels, numbers and visible text ------------------------------------------------------
def _labels(labels) -> Labels:
    if labels is None:
        return default_labels()
    if isinstance(labels, Labels):
        return labels
    if isinstance(labels, (str, os.PathLike)):
        return Labels.from_yaml(labels)
    if isinstance(labels, dict):
        return Labels(labels)
    raise DataError(f"labels must be None, a Labels, a dict or a YAML path, got {type(labels).__name__}")


def format_number(v) -> str:
    """A threshold as people read it: thousands separators, no float noise.

    >>> format_number(2500.0000610), format_number(1234567), format_number(0.125), format_number(-3.5)
    ('2,500', '1,234,567', '0.125', '-3.5')
    """
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:,.4g}"


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible(text) -> str:
    """``text`` on one line: control characters and line/paragraph separators become
    visible escapes (``\\n``, ``\\x00``, ``\\u2028``), so a hostile value cannot break a
    printed line, a table row or a CSV record.

    >>> _visible("a\\nb\\tc\\x00")
    'a\\\\nb\\\\tc\\\\x00'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escape_char(ch) if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text)


_FLIP = {">": "<", ">=": "<="}
_SHOW = {"==": "=", "!=": "≠", "<=": "<=", "<": "<", ">": ">", ">=": ">="}


class _Renderer:
    """The one condition renderer: column, value and prediction text in one language."""

    def __init__(self, ruleset: RuleSet, lang, labels):
        self.rs = ruleset
        self.lang = check_lang(lang)
        self.lab = _labels(labels)

    def term(self, key) -> str:
        return self.lab.term(key, self.lang)

    def column(self, feature) -> str:
        return _visible(self.lab.column(feature, self.lang))

    def value(self, feature, v) -> str:
        if isinstance(v, float) or (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                    and self.lab.value(feature, v, self.lang) == str(v)):
            return format_number(v) if not isinstance(v, numbers.Integral) else str(v)
        return _visible(self.lab.value(feature, v, self.lang))

    def number(self, feature, v) -> str:
        unit = self.rs.units.get(feature)
        return format_number(v) + (f" {_visible(unit)}" if unit else "")

    def yes_no(self, feature):
        """(no, yes) words when the labels file codes the column 0 = no, 1 = yes."""
        no, yes = self.lab.value(feature, 0, self.lang), self.lab.value(feature, 1, self.lang)
        if no == self.term("rule_no") and yes == self.term("rule_yes"):
            return no, yes
        return None

    def is_flag_split(self, c: Condition) -> bool:
        return c.op in NUMERIC_OPS and 0 < c.value < 1 and self.yes_no(c.feature) is not None

    def or_missing(self, text) -> str:
        word = self.term("rule_or_missing")
        return f"{text}（{word}）" if self.lang == "zh" else f"{text} ({word})"

    def remaining(self, c: Condition) -> list:
        """Known values a ``not in`` set leaves, when naming them is shorter than the set."""
        known = self.rs.categories.get(c.feature)
        if not known or not c.value:
            return []
        rest = [v for v in known if v not in c.value]
        return sorted(rest, key=_sort_key) if 0 < len(rest) < len(c.value) else []

    def condition(self, c: Condition) -> str:
        col = self.column(c.feature)
        if self.is_flag_split(c):
            no, yes = self.yes_no(c.feature)
            text = f"{col} = {yes if c.op in ('>', '>=') else no}"
        elif c.op in NUMERIC_OPS:
            text = f"{col} {_SHOW[c.op]} {self.number(c.feature, c.value)}"
        elif c.op in SET_OPS and not c.value:
            if c.op == "in":  # only missing values can pass
                return f"{col} {self.term('rule_is_missing')}"
            text = f"{col} {self.term('rule_is_known')}"
        elif c.op == "not in" and self.remaining(c):
            # "not in {three of four}" reads as the one that remains; values unseen at fit
            # also pass a "not in", so the text says "or other values" (SQL keeps NOT IN)
            rest = self.remaining(c)
            if len(rest) == 1:
                text = f"{col} = {self.value(c.feature, rest[0])}"
            else:
                sep = "、" if self.lang == "zh" else ", "
                vals = sep.join(self.value(c.feature, v) for v in rest)
                text = f"{col} {self.term('rule_in')} {{{vals}}}"
            text += f" {self.term('rule_or_other_values')}"
        elif c.op in EQ_OPS or len(c.value) == 1:
            op = c.op if c.op in EQ_OPS else ("==" if c.op == "in" else "!=")
            text = f"{col} {_SHOW[op]} {self.value(c.feature, next(iter(c.values)))}"
        else:
            sep = "、" if self.lang == "zh" else ", "
            vals = sep.join(self.value(c.feature, v) for v in sorted(c.value, key=_sort_key))
            word = self.term("rule_in" if c.op == "in" else "rule_not_in")
            text = f"{col} {word} {{{vals}}}"
        return self.or_missing(text) if c.includes_missing else text

    def conditions(self, rule: Rule) -> str:
        """Conditions joined by AND; a lower and upper bound on one column read as one interval."""
        conds = list(rule.conditions)
        parts, used = [], set()
        for i, c in enumerate(conds):
            if i in used:
                continue
            pair = None
            if c.op in (">", ">=") and not self.is_flag_split(c):
                for j in range(i + 1, len(conds)):
                    d = conds[j]
                    if j not in used and d.feature == c.feature and d.op in ("<", "<=") and \
                            d.includes_missing == c.includes_missing:
                        pair = j
                        break
            if pair is None:
                parts.append(self.condition(c))
                continue
            used.add(pair)
            d = conds[pair]
            text = (f"{format_number(c.value)} {_FLIP[c.op]} {self.column(c.feature)} {d.op} "
                    f"{self.number(d.feature, d.value)}")
            parts.append(self.or_missing(text) if c.includes_missing else text)
        if not parts:
            return self.term("rule_always")
        return f" {self.term('and')} ".join(parts)

    def prediction(self, pred) -> str:
        if pred is None:
            return "—"
        column = self.rs.label_column
        if not column:
            return _visible(pred)
        if isinstance(pred, (int, float)) and pred in (0, 1) and self.yes_no(column):
            # A product-flag target (cross-sell rules): read it like a flag condition.
            return f"{self.column(column)} = {self.yes_no(column)[int(pred)]}"
        text = self.lab.value(column, pred, self.lang)
        if text == str(pred):  # no label for this value: say which column it is a value of
            return f"{self.column(column)} = {self.value(column, pred)}"
        return _visible(text)

    def confidence_term(self) -> str:
        # class_weight / sample_weight confidences are not shares of customers: say so
        if self.rs.weighted:
            return self.term("rule_weighted_confidence")
        # rules by rate: the share of buyers in the segment is its rate (issue 13, item 6)
        return self.term("rule_rate" if rule_scores(self.rs) is not None else "confidence")

    def evidence(self, rule) -> str:
        parts = []
        if rule.support is not None:
            parts.append(f"{self.term('support')} {rule.support:,} {self.term('persons')}")
        if rule.confidence is not None:
            parts.append(f"{self.confidence_term()} {rule.confidence:.0%}")
        if rule.lift is not None and rule_scores(self.rs) is not None:
            parts.append(f"{self.term('lift')} {rule.lift:.1f}")
        if not parts:
            return ""
        if self.lang == "zh":
            return "（" + "，".join(parts) + "）"
        return " (" + ", ".join(parts) + ")"

    def rule(self, rule) -> str:
        return (f"{self.term('if')} {self.conditions(rule)} {self.term('then')} "
                f"{self.prediction(rule.prediction)}{self.evidence(rule)}")

    def otherwise(self) -> str:
        # Cross-sell rules only say when a product is likely; a customer no rule covers is
        # "no rule fired", which is weaker than a prediction that they will not buy.
        if self.rs.provenance.get("model") == "association rules" and self.rs.default == 0:
            return f"{self.term('otherwise')} {self.term('rule_none_fired')}"
        rated = rule_scores(self.rs)
        if rated is not None:
            # rules by rate: the rest are not "non-buyers", they are customers at a lower rate
            rate = rated[1]
            what = self.term("rule_other_customers")
            if rate is not None:
                tail = f"{self.term('rule_rate')} {rate:.1%}"
                what += f"（{tail}）" if self.lang == "zh" else f" ({tail})"
            return f"{self.term('otherwise')} {what}"
        return f"{self.term('otherwise')} {self.prediction(self.rs.default)}"


def to_text(ruleset: RuleSet, lang=DEFAULT_LANG, labels=None) -> str:
    """One numbered line per rule plus the default, in Chinese or English.

    Control characters in names and values are printed as visible escapes (``\\n``), so
    each rule stays on its own line.

    Examples
    --------
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("deposit", ">", 2500), Condition("age", ">", 55)], 1,
    ...                    support=12, confidence=10 / 12)], default=0, label_column="wm_buyer")
    >>> print(to_text(rs, "zh"))
    1. 如果 存款余额 > 2,500 且 年龄 > 55 则 理财客户（支持 12 人，置信度 83%）
    否则 非理财客户
    >>> print(to_text(rs, "en"))
    1. IF deposit balance > 2,500 AND age > 55 THEN WM buyer (support 12 customers, confidence 83%)
    OTHERWISE not a WM buyer
    """
    r = _Renderer(check_ruleset(ruleset, "to_text"), lang, labels)
    lines = [f"{rule.rule_id}. {r.rule(rule)}" for rule in ruleset.rules]
    lines.append(r.otherwise())
    return "\n".join(lines)


# -- tables ----------------------------------------------------------------------------------
def to_frame(ruleset: RuleSet, lang=DEFAULT_LANG, labels=None) -> pd.DataFrame:
    """One row per rule: id, readable conditions, prediction and evidence columns.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1, support=12, confidence=0.5)])
    >>> to_frame(rs, lang="en")[["rule_id", "conditions", "support"]].values.tolist()
    [[1, 'age > 55', 12]]
    """
    r = _Renderer(check_ruleset(ruleset, "to_frame"), lang, labels)
    rows = [{"rule_id": rule.rule_id, "conditions": r.conditions(rule),
             "prediction": rule.prediction,
             "prediction_label": r.prediction(rule.prediction),
             "n_conditions": len(rule.conditions), "support": rule.support,
             "n_correct": rule.n_correct, "confidence": rule.confidence, "lift": rule.lift,
             "coverage": rule.coverage}
            for rule in ruleset.rules]
    cols = ["rule_id", "conditions", "prediction", "prediction_label", "n_conditions",
            "support", "n_correct", "confidence", "lift", "coverage"]
    out = pd.DataFrame(rows, columns=cols)
    out["support"] = out["support"].astype("Int64")
    rated = rule_scores(ruleset)
    if rated is not None:
        # the model's score of each rule's customers: what a branch sorts the list by
        out["score"] = [rated[0].get(rule.rule_id) for rule in ruleset.rules]
    return out


def to_csv(ruleset: RuleSet, path=None, lang=DEFAULT_LANG, labels=None):
    """:func:`to_frame` as CSV: written to ``path``, or returned as text when ``path`` is None.

    Records end in CRLF (RFC 4180): Python's CSV writer quotes a field only when it holds a
    character of the line terminator, so with a bare ``\n`` terminator a raw prediction
    holding a carriage return would be written unquoted and split the record when read.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> print(to_csv(RuleSet([Rule([Condition("age", ">", 55)], 1)]), lang="en").splitlines()[1])
    1,age > 55,1,1,1,,,,,
    """
    return to_frame(ruleset, lang=lang, labels=labels).to_csv(path, index=False,
                                                              lineterminator="\r\n")


def _pct(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _num(v, fmt="{:,.2f}"):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


# A "<" that could open raw HTML in a Markdown viewer (a tag, comment or directive).
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def _md_cell(s) -> str:
    return _MD_TAG.sub(r"\\<", str(s).replace("\\", "\\\\").replace("|", "\\|"))


def to_markdown(ruleset: RuleSet, lang=DEFAULT_LANG, labels=None) -> str:
    """A Markdown table of the rules with their evidence, then the default.

    Cell text is escaped for Markdown (``|``, backslashes, anything that would open an
    HTML tag), and control characters print as visible escapes.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1, support=3)], default=0)
    >>> print(to_markdown(rs, lang="en"))
    | # | IF | THEN | support | confidence | lift | coverage |
    |---|---|---|---|---|---|---|
    | 1 | age > 55 | 1 | 3 |  |  |  |
    <BLANKLINE>
    OTHERWISE 0
    """
    r = _Renderer(check_ruleset(ruleset, "to_markdown"), lang, labels)
    head = ["#", r.term("if"), r.term("then"), r.term("support"), r.confidence_term(),
            r.term("lift"), r.term("coverage")]
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    for rule in ruleset.rules:
        cells = [rule.rule_id, r.conditions(rule), r.prediction(rule.prediction),
                 "" if rule.support is None else f"{rule.support:,}", _pct(rule.confidence),
                 _num(rule.lift), _pct(rule.coverage)]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", _md_cell(r.otherwise())]
    return "\n".join(lines)


# -- JSON ------------------------------------------------------------------------------------
def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    return str(v)


def _condition_doc(c: Condition) -> dict:
    value = sorted(c.value, key=_sort_key) if c.op in SET_OPS else c.value
    return {"feature": c.feature, "op": c.op, "value": value,
            "includes_missing": c.includes_missing}


def _rule_doc(r: Rule) -> dict:
    d = {"rule_id": r.rule_id, "conditions": [_condition_doc(c) for c in r.conditions],
         "prediction": r.prediction}
    for name in _RULE_NUMBERS:
        d[name] = getattr(r, name)
    return d


def to_json(ruleset: RuleSet, indent=2) -> str:
    """The whole rule set as JSON; :func:`from_json` rebuilds an identical RuleSet.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("city", "in", ["a", "b'c"], True)], 1)], default=0)
    >>> from_json(to_json(rs)) == rs
    True
    """
    check_ruleset(ruleset, "to_json")
    doc = {"format": JSON_FORMAT, "default": ruleset.default,
           "classes": None if ruleset.classes is None else list(ruleset.classes),
           "label_column": ruleset.label_column,
           "feature_names": None if ruleset.feature_names is None else list(ruleset.feature_names),
           "units": dict(ruleset.units), "weighted": ruleset.weighted,
           "provenance": _jsonable(ruleset.provenance),
           "categories": {f: list(v) for f, v in ruleset.categories.items()},
           "rules": [_rule_doc(r) for r in ruleset.rules]}
    return json.dumps(doc, ensure_ascii=False, indent=indent)


_RULE_NUMBERS = ("support", "n_correct", "confidence", "lift", "coverage")
_RULE_KEYS = {"rule_id", "conditions", "prediction", *_RULE_NUMBERS}
_CONDITION_KEYS = {"feature", "op", "value", "includes_missing"}
_DOC_KEYS = {"format", "default", "classes", "label_column", "feature_names", "units",
             "weighted", "provenance", "categories", "rules"}


def _bad(path, expected, got):
    shown = repr(got)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return DataError(f"rule set JSON: {path} must be {expected}, got {shown}")


def _scalar(v, path, *, null=True):
    if v is None and null:
        return v
    if isinstance(v, (str, bool, int)) or (isinstance(v, float) and not math.isnan(v)):
        return v
    raise _bad(path, "text, a number or true/false" + (" or null" if null else ""), v)


def _number(v, path, *, integral=False):
    if v is None:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (
            integral and not isinstance(v, int)):
        raise _bad(path, ("a whole number" if integral else "a number") + " or null", v)
    return v


def _obj(v, path, keys, required=()):
    if not isinstance(v, dict):
        raise _bad(path, "an object", v)
    unknown = sorted(set(v) - keys, key=str)
    if unknown:
        raise DataError(f"rule set JSON: {path} has unknown key(s) {unknown}; "
                        f"expected only {sorted(keys)}")
    absent = [k for k in required if k not in v]
    if absent:
        raise DataError(f"rule set JSON: {path} lacks {absent}")
    return v


def _parse_condition(d, path) -> Condition:
    _obj(d, path, _CONDITION_KEYS, ("feature", "op", "value"))
    feature, op, value = d["feature"], d["op"], d["value"]
    if not isinstance(feature, str) or not feature:
        raise _bad(f"{path}.feature", "a non-empty column name", feature)
    if not isinstance(op, str) or op not in OPS:
        raise _bad(f"{path}.op", f"one of {list(OPS)}", op)
    if op in NUMERIC_OPS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and math.isnan(value)):
            raise _bad(f"{path}.value", f"a number (column {feature!r}, operator {op!r})", value)
    elif op in SET_OPS:
        if not isinstance(value, list):
            raise _bad(f"{path}.value", f"a list of values (operator {op!r})", value)
        for k, v in enumerate(value):
            _scalar(v, f"{path}.value[{k}]", null=False)
    else:
        _scalar(value, f"{path}.value", null=False)
    miss = d.get("includes_missing", False)
    if not isinstance(miss, bool):
        raise _bad(f"{path}.includes_missing", "true or false", miss)
    return Condition(feature, op, value, miss)


def _parse_rule(d, path) -> Rule:
    _obj(d, path, _RULE_KEYS, ("conditions", "prediction"))
    conds = d["conditions"]
    if not isinstance(conds, list):
        raise _bad(f"{path}.conditions", "a list of conditions", conds)
    conditions = [_parse_condition(c, f"{path}.conditions[{j}]") for j, c in enumerate(conds)]
    fields = {"prediction": _scalar(d["prediction"], f"{path}.prediction"),
              "rule_id": _number(d.get("rule_id"), f"{path}.rule_id", integral=True),
              "support": _number(d.get("support"), f"{path}.support", integral=True)}
    for name in ("n_correct", "confidence", "lift", "coverage"):
        fields[name] = _number(d.get(name), f"{path}.{name}")
    if fields["support"] is not None and fields["support"] < 0:
        raise _bad(f"{path}.support", "a whole number >= 0", fields["support"])
    return Rule(conditions, **fields)


def _load_doc(text):
    if isinstance(text, dict):
        return text
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"rule set JSON is not UTF-8 text: {exc}") from None
    if not isinstance(text, str):
        raise DataError("from_json needs JSON text (str or bytes) or a parsed dict, got "
                        f"{type(text).__name__}")
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError("rule set JSON is nested too deeply to be a rule set") from None
    except ValueError as exc:
        raise DataError(f"rule set JSON cannot be parsed: {exc}") from None


def from_json(text) -> RuleSet:
    """Rebuild a RuleSet from :func:`to_json` output (a string, bytes or parsed dict).

    Hand-edited JSON is checked field by field: anything of the wrong type, an unknown
    key or operator, a ``rule_id`` that is not a whole number, ``"includes_missing":
    "false"`` (text, not false) is refused with a DataError naming the JSON path, e.g.
    ``rules[3].conditions[0].includes_missing``, and what was expected.

    >>> from_json('{"format": "bankml.rules/2", "rules": [{"conditions": [], "prediction": 1}]}')[0].prediction
    1
    >>> from_json('[1]')
    Traceback (most recent call last):
    ...
    bankml.errors.DataError: rule set JSON: the document must be an object, got [1]
    """
    doc = _load_doc(text)
    if not isinstance(doc, dict):
        raise _bad("the document", "an object", doc)
    fmt = doc.get("format")
    if fmt not in _JSON_FORMATS:
        raise DataError(f"not a bankml rule set: format is {fmt!r}, expected {JSON_FORMAT!r}")
    if fmt == "bankml.rules/1":
        doc = _upgrade_v1(doc)
    _obj(doc, "the document", _DOC_KEYS, ("rules",))
    rules = doc["rules"]
    if not isinstance(rules, list):
        raise _bad("rules", "a list of rules", rules)
    parsed = [_parse_rule(r, f"rules[{i}]") for i, r in enumerate(rules)]
    classes = doc.get("classes")
    if classes is not None:
        if not isinstance(classes, list):
            raise _bad("classes", "a list or null", classes)
        classes = tuple(_scalar(c, f"classes[{i}]", null=False) for i, c in enumerate(classes))
        # an edited prediction outside the model's classes would be predicted silently
        for i, rule in enumerate(parsed):
            if rule.prediction is not None and rule.prediction not in classes:
                raise _bad(f"rules[{i}].prediction", f"one of the classes {list(classes)}",
                           rule.prediction)
    label_column = doc.get("label_column")
    if label_column is not None and not isinstance(label_column, str):
        raise _bad("label_column", "text or null", label_column)
    names = doc.get("feature_names")
    if names is not None:
        if not isinstance(names, list):
            raise _bad("feature_names", "a list of column names or null", names)
        for i, n in enumerate(names):
            if not isinstance(n, str) or not n:
                raise _bad(f"feature_names[{i}]", "a non-empty column name", n)
        names = tuple(names)
    units = doc.get("units") or {}
    if not isinstance(units, dict):
        raise _bad("units", "an object of feature -> unit text", units)
    for k, v in units.items():
        if not isinstance(v, str):
            raise _bad(f"units.{k}", "text", v)
    weighted = doc.get("weighted", False)
    if not isinstance(weighted, bool):
        raise _bad("weighted", "true or false", weighted)
    provenance = doc.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise _bad("provenance", "an object", provenance)
    check_depth(provenance, "rule set JSON: provenance")
    categories = doc.get("categories") or {}  # absent in documents written before it existed
    if not isinstance(categories, dict):
        raise _bad("categories", "an object of feature -> list of values", categories)
    for k, vals in categories.items():
        if not isinstance(vals, list):
            raise _bad(f"categories.{k}", "a list of values", vals)
        for i, v in enumerate(vals):
            _scalar(v, f"categories.{k}[{i}]", null=False)
    try:
        return RuleSet(parsed, default=_scalar(doc.get("default"), "default"), classes=classes,
                       label_column=label_column, feature_names=names, units=units,
                       weighted=weighted, provenance=provenance, categories=categories)
    except DataError as exc:
        raise DataError(f"rule set JSON: {exc}") from None


def _upgrade_v1(doc: dict) -> dict:
    """A ``bankml.rules/1`` document (free ``meta`` holding flags) in the /2 layout."""
    _obj(doc, "the document", {"format", "default", "classes", "label_column", "meta", "rules"},
         ("rules",))
    meta = doc.get("meta") or {}
    if not isinstance(meta, dict):
        raise _bad("meta", "an object", meta)
    meta = dict(meta)
    new = {k: v for k, v in doc.items() if k != "meta"}
    new["feature_names"] = meta.pop("feature_names", None)
    new["weighted"] = meta.pop("weighted_evidence", False)
    new["provenance"] = meta
    return new


# -- SQL -------------------------------------------------------------------------------------
#: identifier quote and string-escape style per dialect.
SQL_DIALECTS = {"ansi": ('"', "double"), "sqlite": ('"', "double"), "duckdb": ('"', "double"),
                "postgres": ('"', "double"), "spark": ("`", "backslash")}


def _kind(v) -> str:
    return "text" if isinstance(v, str) else "number"


def _check_sql_types(ruleset: RuleSet) -> None:
    """Refuse what SQL cannot compare type-exactly: a column compared with text in one place
    and with numbers in another, or predictions mixing text and numbers.

    SQLite's TEXT affinity turns 1 into '1' and DuckDB picks one type per column, so such a
    rule set would give SQL answers that differ from RuleSet.predict without a sign.
    """
    kinds: dict = {}
    for r in ruleset.rules:
        for c in r.conditions:
            found = {"number"} if c.op in NUMERIC_OPS else {_kind(v) for v in c.values}
            kinds.setdefault(c.feature, set()).update(found)
    mixed = [f for f, k in kinds.items() if len(k) > 1]
    if mixed:
        raise RuleExportError(
            f"to_sql: column(s) {mixed} are compared with both text and numbers; SQL cannot "
            "tell 1 from '1' on one column. Make the column one type before fitting "
            "(e.g. all text) and extract the rules again")
    preds = {_kind(p) for p in [r.prediction for r in ruleset.rules] + [ruleset.default]
             if p is not None}
    if len(preds) > 1:
        raise RuleExportError("to_sql: the predictions mix text and numbers; SQL gives a CASE "
                              "one type, so 1 and '1' would become the same answer")


class _Sql:
    def __init__(self, dialect):
        if dialect not in SQL_DIALECTS:
            # a setting, not the rules: errors.py's rule makes it an InvalidParameterError
            from ..errors import InvalidParameterError
            raise InvalidParameterError(f"to_sql: dialect must be one of {sorted(SQL_DIALECTS)}, "
                                        f"got {dialect!r}")
        self.q, self.escape = SQL_DIALECTS[dialect]
        self.table = None

    def ident(self, name, what="identifier") -> str:
        if not isinstance(name, str) or not name:
            raise RuleExportError(f"to_sql: {what} must be a non-empty name, got {name!r}")
        if "\x00" in name:
            raise RuleExportError(f"to_sql: {what} {_visible(name)!r} contains a NUL character, "
                                  "which no SQL engine accepts in a name")
        return f"{self.q}{name.replace(self.q, self.q * 2)}{self.q}"

    def literal(self, v, feature=None) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, numbers.Integral):
            return str(int(v))
        if isinstance(v, numbers.Real):
            v = float(v)
            if not math.isfinite(v):
                raise RuleExportError(f"to_sql: value {v!r} cannot be written as a portable "
                                      "SQL literal")
            # Exponent form is a DOUBLE literal in all dialects (a plain 2500.5 is DECIMAL
            # in DuckDB and Spark); shortest round-trip digits keep it exact.
            return np.format_float_scientific(v, unique=True, trim="-", exp_digits=1)
        if isinstance(v, str):
            if "\x00" in v:
                where = f"column {feature!r}" if feature else "a prediction"
                raise RuleExportError(f"to_sql: {where}: value {_visible(v)!r} contains a NUL "
                                      "character, which SQL text cannot hold exactly")
            # Newlines and other characters stay as they are: inside a quoted literal they
            # are data, and rewriting them would change the value compared.
            if self.escape == "backslash":
                return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
            return "'" + v.replace("'", "''") + "'"
        raise RuleExportError(f"to_sql: value {v!r} of type {type(v).__name__} cannot be "
                              "written in SQL")

    def condition(self, c: Condition) -> str:
        col = self.ident(c.feature, "column name")
        if self.table:
            # qualified: SQLite reads a bare "name" that is no column as the text 'name' and
            # answers; "table"."name" is an error there too, as in every other engine
            col = f"{self.table}.{col}"
        miss = c.includes_missing
        if c.op in NUMERIC_OPS:
            t = c.value
            if math.isinf(t):
                always_present = (c.op in ("<=", "<") and t > 0) or (c.op in (">=", ">") and t < 0)
                if always_present:
                    return "1 = 1" if miss else f"{col} IS NOT NULL"
                return f"{col} IS NULL" if miss else "1 = 0"  # x > inf, x < -inf, ...
            # CAST: DuckDB refuses BOOLEAN <= DOUBLE, and every engine then compares the
            # float64 value, as RuleSet.predict does.
            test = f"CAST({col} AS DOUBLE) {c.op} {self.literal(t)}"
        else:
            values = sorted(c.values, key=_sort_key)
            positive = c.is_positive_set
            if not values:
                if positive:
                    return f"{col} IS NULL" if miss else "1 = 0"
                return "1 = 1" if miss else f"{col} IS NOT NULL"
            lits = ", ".join(self.literal(v, c.feature) for v in values)
            test = f"{col} {'IN' if positive else 'NOT IN'} ({lits})"
        if miss:
            return f"({col} IS NULL OR {test})"
        # A NULL makes the comparison NULL, which CASE WHEN treats as false: no IS NOT NULL needed.
        return test


def to_sql(ruleset: RuleSet, table, id_column, dialect="ansi") -> str:
    """One SELECT giving ``id_column, prediction, rule_id`` per row of ``table``.

    Each rule is a ``WHEN`` of one ``CASE`` (first rule that holds wins, like
    ``RuleSet.predict``); ``rule_id`` is NULL where the default applies. Missing values
    must be SQL NULL: they pass a condition only through an explicit ``IS NULL``.

    Parameters
    ----------
    table : str or sequence of str
        Table name, or its parts (``("db", "customers")``) which are quoted one by one.
    id_column : str
    dialect : {"ansi", "sqlite", "duckdb", "postgres", "spark"}
        ``"ansi"`` (= sqlite, duckdb, postgres) quotes identifiers with ``"`` and doubles
        single quotes in strings. Spark SQL needs ``"spark"``: backtick identifiers and
        backslash-escaped strings (its default parser reads ``"x"`` as a string and
        ``'a''b'`` as two concatenated literals). Numbers are written in exponent form, a
        DOUBLE literal in every dialect; numeric conditions compare ``CAST(col AS DOUBLE)``
        (DuckDB refuses to compare a BOOLEAN with a number; the cast also makes every engine
        compare the float64 value, as ``RuleSet.predict`` does). Columns must hold the
        types the rules expect: SQL engines do not reject text in a numeric comparison.

    Raises
    ------
    bankml.errors.RuleExportError
        What SQL cannot say exactly: a column compared with both text and numbers (SQL
        cannot tell ``1`` from ``'1'``), predictions mixing text and numbers, a NUL
        character in a name or value, an unknown dialect.

    Examples
    --------
    >>> import sqlite3
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("city", "in", ["O'Hare"]),
    ...                     Condition("age", ">", 55, includes_missing=True)], 1)], default=0)
    >>> con = sqlite3.connect(":memory:")
    >>> _ = con.execute("CREATE TABLE t (id, city, age)")
    >>> _ = con.executemany("INSERT INTO t VALUES (?, ?, ?)",
    ...                     [(1, "O'Hare", 60), (2, "O'Hare", None), (3, "Paris", 70)])
    >>> con.execute(to_sql(rs, "t", "id")).fetchall()
    [(1, 1, 1), (2, 1, 1), (3, 0, None)]
    """
    check_ruleset(ruleset, "to_sql")
    s = _Sql(dialect)
    _check_sql_types(ruleset)
    parts = [table] if isinstance(table, str) else list(table) if isinstance(
        table, (list, tuple)) else [table]
    tbl = ".".join(s.ident(p, "table name") for p in parts)
    s.table = tbl
    idc = s.ident(id_column, "id_column")
    rid = s.ident("rule_id")
    default = s.literal(ruleset.default)
    if not ruleset.rules:
        return (f"SELECT {idc}, {default} AS {s.ident('prediction')}, "
                f"CAST(NULL AS INTEGER) AS {rid}{_sql_score(ruleset, s, rid)}\nFROM {tbl}")
    whens = "\n".join(
        f"      WHEN {' AND '.join(s.condition(c) for c in r.conditions) or '1 = 1'} "
        f"THEN {int(r.rule_id)}" for r in ruleset.rules)
    preds = " ".join(f"WHEN {int(r.rule_id)} THEN {s.literal(r.prediction)}" for r in ruleset.rules)
    return (f"SELECT {idc},\n"
            f"  CASE {rid} {preds} ELSE {default} END AS {s.ident('prediction')},\n"
            f"  {rid}{_sql_score(ruleset, s, rid)}\n"
            f"FROM (\n"
            f"  SELECT {idc},\n"
            f"    CASE\n{whens}\n    END AS {rid}\n"
            f"  FROM {tbl}\n"
            f") AS bankml_rules")


def _sql_score(ruleset, s, rid) -> str:
    """``, CASE rule_id WHEN .. THEN score .. END AS score`` for rules by rate, else ""."""
    rated = rule_scores(ruleset)
    if rated is None:
        return ""
    scores, default_rate = rated
    whens = " ".join(f"WHEN {int(r.rule_id)} THEN {s.literal(float(scores[r.rule_id]))}"
                     for r in ruleset.rules if r.rule_id in scores)
    other = "NULL" if default_rate is None else s.literal(float(default_rate))
    if not whens:
        return f",\n  CAST({other} AS DOUBLE) AS {s.ident('score')}"
    return f",\n  CASE {rid} {whens} ELSE {other} END AS {s.ident('score')}"


# -- Python ----------------------------------------------------------------------------------
def _py_literal(v) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "float('inf')" if v > 0 else "float('-inf')"
    return repr(v)  # repr is exact for str/int/float/bool and escapes every control char


def _py_condition(c: Condition, var: str) -> str:
    miss = f"m_{var}"
    if c.op in NUMERIC_OPS:
        test = f"n_{var} {c.op} {_py_literal(c.value)}"
    else:
        values = sorted(c.values, key=_sort_key)
        lits = "{" + ", ".join(_py_literal(v) for v in values) + "}" if values else "frozenset()"
        test = f"v_{var} {'in' if c.is_positive_set else 'not in'} {lits}"
    return f"({miss} or {test})" if c.includes_missing else f"(not {miss} and {test})"


def _check_function_name(function_name) -> None:
    """``to_python``'s function name must be a Python identifier (a setting, as ``dialect=``)."""
    if not isinstance(function_name, str) or not function_name.isidentifier() or \
            keyword.iskeyword(function_name):
        from ..errors import InvalidParameterError
        raise InvalidParameterError(f"to_python: function_name must be a Python identifier, "
                                    f"got {function_name!r}")


def _python_row_reads(feats, numeric):
    """The generated function's missing/number helpers and one read per feature: the variable
    suffix of each feature, and the lines (rule sets and scorecards share them)."""
    var = {f: str(i) for i, f in enumerate(feats)}
    lines = [
        "    def _missing(v):",
        "        if v is None:",
        "            return True",
        "        try:",
        "            return bool(v != v)",
        "        except (TypeError, ValueError):",
        "            return True  # pd.NA refuses bool()",
        "",
        "    def _number(v, column):",
        "        # float64, as RuleSet.predict and SQL's CAST(... AS DOUBLE) compare",
        "        try:",
        "            if not isinstance(v, (str, bytes)):",
        "                return float(v)",
        "        except (TypeError, ValueError):",
        "            pass",
        "        raise ValueError(f'column {column!r}: a rule compares it with a number, '",
        "                         f'got {v!r}; expected a numeric value')",
        "",
    ]
    for f in feats:
        v = var[f]
        lines.append(f"    v_{v} = row[{f!r}]")
        lines.append(f"    m_{v} = _missing(v_{v})")
        if f in numeric:
            lines.append(f"    n_{v} = None if m_{v} else _number(v_{v}, {f!r})")
    return var, lines


def to_python(ruleset: RuleSet, function_name="predict") -> str:
    """Source of a dependency-free function ``predict(row, return_rule=False)``.

    ``row`` maps column names to values (a dict, ``pandas`` row, ...); None, NaN and
    ``pd.NA`` count as missing. With ``return_rule=True`` it returns
    ``(prediction, rule_id)``, rule_id None for the default. Text where a rule compares
    with a number raises ValueError naming the column, as ``RuleSet.predict`` refuses it.

    Examples
    --------
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    >>> ns = {}
    >>> exec(to_python(rs), ns)
    >>> ns["predict"]({"age": 60}), ns["predict"]({"age": None}, return_rule=True)
    (1, (0, None))
    """
    check_ruleset(ruleset, "to_python")
    _check_function_name(function_name)
    feats = ruleset.features
    numeric = {c.feature for r in ruleset.rules for c in r.conditions if c.op in NUMERIC_OPS}
    var, reads = _python_row_reads(feats, numeric)
    lines = [
        f"def {function_name}(row, return_rule=False):",
        f'    """Apply {len(ruleset.rules)} rules generated by bankml.rules; the first rule that',
        '    holds decides. Missing values (None, NaN, pd.NA) pass only "or missing" tests."""',
        "",
        *reads,
    ]
    for r in ruleset.rules:
        cond = " and ".join(_py_condition(c, var[c.feature]) for c in r.conditions) or "True"
        pred = _py_literal(r.prediction)
        lines.append(f"    if {cond}:")
        lines.append(f"        return ({pred}, {int(r.rule_id)}) if return_rule else {pred}")
    d = _py_literal(ruleset.default)
    lines.append(f"    return ({d}, None) if return_rule else {d}")
    rated = rule_scores(ruleset)
    if rated is not None:
        # rules by rate: a second function gives the score a branch sorts customers by
        scores, default_rate = rated
        table = ", ".join(f"{int(r.rule_id)}: {_py_literal(float(scores[r.rule_id]))}"
                          for r in ruleset.rules if r.rule_id in scores)
        other = "None" if default_rate is None else _py_literal(float(default_rate))
        lines += ["", "", f"def {function_name}_score(row):",
                  "    '''The model's score of the rule that holds, or the rate of the other",
                  "    customers when none does: sort customers by it, highest first.'''",
                  f"    _, rule = {function_name}(row, return_rule=True)",
                  f"    return {{{table}}}.get(rule, {other})"]
    return "\n".join(lines) + "\n"


# -- HTML ------------------------------------------------------------------------------------
def to_html(ruleset: RuleSet, title=None, lang=DEFAULT_LANG, labels=None, model_version=None,
            date=None, evidence_rows=None) -> str:
    """A printable one-page sheet: title, date, model version, rules by confidence.

    ``evidence_rows``, the number of customers the support and confidence were counted on
    (e.g. ``len(X)`` given to :func:`with_evidence`), is printed beside the model version.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1, support=12, confidence=0.8)])
    >>> page = to_html(rs, lang="en", model_version="v3", date="2026-01-31")
    >>> "v3" in page and "2026-01-31" in page and "age &gt; 55" in page
    True
    """
    r = _Renderer(check_ruleset(ruleset, "to_html"), lang, labels)
    t = r.term
    if evidence_rows is not None and (isinstance(evidence_rows, bool) or not isinstance(
            evidence_rows, numbers.Integral) or evidence_rows < 0):
        from ..errors import InvalidParameterError
        raise InvalidParameterError(
            f"to_html: evidence_rows must be a whole number >= 0 or None, got {evidence_rows!r}")

    def e(text):
        return _html.escape(_visible(text))

    title = title or t("rule_sheet_title")
    date = date or _dt.date.today().isoformat()
    version = model_version or "—"
    order = sorted(ruleset.rules, key=lambda x: (-(x.confidence if x.confidence is not None
                                                  else -1.0), -(x.support or 0)))
    if rule_scores(ruleset) is not None:
        order = list(ruleset.rules)  # rules by rate are in the model's order already
    rows = []
    for rule in order:
        rows.append(
            "<tr>" + "".join(f"<td>{e(x)}</td>" for x in (
                rule.rule_id, r.conditions(rule), r.prediction(rule.prediction),
                "" if rule.support is None else f"{rule.support:,}", _pct(rule.confidence),
                _num(rule.lift), _pct(rule.coverage))) + "</tr>")
    head = "".join(f"<th>{e(h)}</th>" for h in (
        "#", t("if"), t("then"), t("support"), r.confidence_term(), t("lift"), t("coverage")))
    weighted = (f'<p class="meta">{e(t("rule_weighted_note"))}</p>' if ruleset.weighted else "")
    colon = "：" if r.lang == "zh" else ": "  # Chinese text takes the full-width colon
    # the line break keeps the sheets byte-identical to those printed before #16
    evidence = ("" if evidence_rows is None else
                f"\n &nbsp; {e(t('rule_evidence'))}{colon}{int(evidence_rows):,}")
    return f"""<!DOCTYPE html>
<html lang="{r.lang}"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; page-break-inside: auto; }}
th, td {{ border: 1px solid #999; padding: 2px 4px; text-align: left; }}
tr {{ page-break-inside: avoid; }}
.meta {{ color: #444; }}
</style></head><body>
<h1>{e(title)}</h1>
<p class="meta">{e(t('date'))}{colon}{e(date)} &nbsp; {e(t('model_version'))}{colon}{e(version)}{evidence}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
<p>{e(r.otherwise())}</p>
<p class="meta">{e(t('rule_legend'))}</p>
{weighted}
</body></html>
"""
