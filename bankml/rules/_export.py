"""Every export of a RuleSet, from its one representation: text (zh/en), markdown, frame,
JSON (round trip), SQL (SQLite / DuckDB / Spark), dependency-free Python and an HTML sheet.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import math
import numbers
import os

import numpy as np
import pandas as pd

from ..errors import DataError
from ..labels import Labels, check_lang, default_labels
from ._model import NUMERIC_OPS, Condition, Rule, RuleSet, _sort_key

__all__ = ["to_text", "to_markdown", "to_frame", "to_json", "from_json", "to_sql",
           "to_python", "to_html", "SQL_DIALECTS"]

JSON_FORMAT = "bankml.rules/1"


# -- labels and numbers --------------------------------------------------------------------
def _labels(labels) -> Labels:
    if labels is None:
        return default_labels()
    if isinstance(labels, Labels):
        return labels
    if isinstance(labels, (str, os.PathLike)):
        return Labels.from_yaml(labels)
    if isinstance(labels, dict):
        return Labels(labels)
    raise TypeError(f"labels must be None, a Labels, a dict or a YAML path, got {type(labels).__name__}")


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


_FLIP = {">": "<", ">=": "<="}
_SHOW = {"==": "=", "!=": "≠", "<=": "<=", "<": "<", ">": ">", ">=": ">="}


def _value_text(lab, feature, v, lang):
    if isinstance(v, float) or (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                and lab.value(feature, v, lang) == str(v)):
        return format_number(v) if not isinstance(v, numbers.Integral) else str(v)
    return lab.value(feature, v, lang)


def _is_flag_split(c: Condition) -> bool:
    """A threshold strictly between 0 and 1 on a documented 0/1 flag column (has_*)."""
    from ..schema import COLUMNS
    col = COLUMNS.get(c.feature)
    return c.op in NUMERIC_OPS and col is not None and col.kind == "flag" and 0 < c.value < 1


def _cond_text(lab, c: Condition, lang, col=None) -> str:
    col = col or lab.column(c.feature, lang)
    if _is_flag_split(c):
        word = lab.term("rule_yes" if c.op in (">", ">=") else "rule_no", lang)
        text = f"{col} = {word}"
    elif c.op in NUMERIC_OPS:
        text = f"{col} {_SHOW[c.op]} {format_number(c.value)}"
    elif c.op in ("in", "not in") and not c.value:
        if c.op == "in":  # only missing values can pass
            return f"{col} {lab.term('rule_is_missing', lang)}"
        text = f"{col} {lab.term('rule_is_known', lang)}"
    elif c.op in ("==", "!=") or len(c.value) == 1:
        op = c.op if c.op in ("==", "!=") else ("==" if c.op == "in" else "!=")
        value = next(iter(c.values))
        text = f"{col} {_SHOW[op]} {_value_text(lab, c.feature, value, lang)}"
    else:
        sep = "、" if lang == "zh" else ", "
        vals = sep.join(_value_text(lab, c.feature, v, lang) for v in sorted(c.value, key=_sort_key))
        word = lab.term("rule_in" if c.op == "in" else "rule_not_in", lang)
        text = f"{col} {word} {{{vals}}}"
    return _or_missing(lab, text, lang) if c.includes_missing else text


def _or_missing(lab, text, lang):
    word = lab.term("rule_or_missing", lang)
    return f"{text}（{word}）" if lang == "zh" else f"{text} ({word})"


def _conditions_text(lab, rule: Rule, lang) -> str:
    """Conditions joined by AND; a lower and upper bound on one column read as one interval."""
    conds = list(rule.conditions)
    parts, used = [], set()
    for i, c in enumerate(conds):
        if i in used:
            continue
        pair = None
        if c.op in (">", ">=") and not _is_flag_split(c):
            for j in range(i + 1, len(conds)):
                d = conds[j]
                if j not in used and d.feature == c.feature and d.op in ("<", "<=") and \
                        d.includes_missing == c.includes_missing and not _is_flag_split(d):
                    pair = j
                    break
        if pair is not None:
            used.add(pair)
            d = conds[pair]
            col = lab.column(c.feature, lang)
            text = (f"{format_number(c.value)} {_FLIP[c.op]} {col} {d.op} "
                    f"{format_number(d.value)}")
            parts.append(_or_missing(lab, text, lang) if c.includes_missing else text)
        else:
            parts.append(_cond_text(lab, c, lang))
    if not parts:
        return lab.term("rule_always", lang)
    return f" {lab.term('and', lang)} ".join(parts)


def _prediction_text(lab, ruleset, pred, lang) -> str:
    if pred is None:
        return "—"
    if ruleset.label_column:
        text = lab.value(ruleset.label_column, pred, lang)
        if text == str(pred) and _is_flag_column(ruleset.label_column) and pred in (0, 1):
            # A product-flag target (cross-sell rules): read it like a flag condition.
            word = lab.term("rule_yes" if pred == 1 else "rule_no", lang)
            return f"{lab.column(ruleset.label_column, lang)} = {word}"
        return text
    return str(pred)


def _is_flag_column(name) -> bool:
    from ..schema import COLUMNS
    col = COLUMNS.get(name)
    return col is not None and col.kind == "flag"


def _confidence_term(ruleset) -> str:
    # class_weight / sample_weight confidences are not shares of customers: say so
    return "rule_weighted_confidence" if ruleset.meta.get("weighted_evidence") else "confidence"


def _evidence_text(lab, rule, lang, ruleset=None) -> str:
    parts = []
    if rule.support is not None:
        parts.append(f"{lab.term('support', lang)} {rule.support:,} {lab.term('persons', lang)}")
    if rule.confidence is not None:
        key = "confidence" if ruleset is None else _confidence_term(ruleset)
        parts.append(f"{lab.term(key, lang)} {rule.confidence:.0%}")
    if not parts:
        return ""
    if lang == "zh":
        return "（" + "，".join(parts) + "）"
    return " (" + ", ".join(parts) + ")"


def rule_text(rule, ruleset, lang="zh", labels=None) -> str:
    lab = _labels(labels)
    then = lab.term("then", lang)
    return (f"{lab.term('if', lang)} {_conditions_text(lab, rule, lang)} {then} "
            f"{_prediction_text(lab, ruleset, rule.prediction, lang)}"
            f"{_evidence_text(lab, rule, lang, ruleset)}")


def to_text(ruleset: RuleSet, lang="zh", labels=None) -> str:
    """One numbered line per rule plus the default, in Chinese or English.

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
    check_lang(lang)
    lab = _labels(labels)
    lines = [f"{r.rule_id}. {rule_text(r, ruleset, lang, lab)}" for r in ruleset.rules]
    lines.append(f"{lab.term('otherwise', lang)} "
                 f"{_prediction_text(lab, ruleset, ruleset.default, lang)}")
    return "\n".join(lines)


# -- tables ----------------------------------------------------------------------------------
def to_frame(ruleset: RuleSet, lang="en", labels=None) -> pd.DataFrame:
    """One row per rule: id, readable conditions, prediction and evidence columns.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1, support=12, confidence=0.5)])
    >>> to_frame(rs)[["rule_id", "conditions", "support"]].values.tolist()
    [[1, 'age > 55', 12]]
    """
    check_lang(lang)
    lab = _labels(labels)
    rows = [{"rule_id": r.rule_id, "conditions": _conditions_text(lab, r, lang),
             "prediction": r.prediction,
             "prediction_label": _prediction_text(lab, ruleset, r.prediction, lang),
             "n_conditions": len(r.conditions), "support": r.support, "n_correct": r.n_correct,
             "confidence": r.confidence, "lift": r.lift, "coverage": r.coverage}
            for r in ruleset.rules]
    cols = ["rule_id", "conditions", "prediction", "prediction_label", "n_conditions",
            "support", "n_correct", "confidence", "lift", "coverage"]
    out = pd.DataFrame(rows, columns=cols)
    out["support"] = out["support"].astype("Int64")
    return out


def _pct(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _num(v, fmt="{:,.2f}"):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def to_markdown(ruleset: RuleSet, lang="en", labels=None) -> str:
    """A Markdown table of the rules with their evidence, then the default.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> print(to_markdown(RuleSet([Rule([Condition("age", ">", 55)], 1, support=3)], default=0)))
    | # | IF | THEN | support | confidence | lift | coverage |
    |---|---|---|---|---|---|---|
    | 1 | age > 55 | 1 | 3 |  |  |  |
    <BLANKLINE>
    OTHERWISE 0
    """
    check_lang(lang)
    lab = _labels(labels)
    t = lambda k: lab.term(k, lang)  # noqa: E731
    head = ["#", t("if"), t("then"), t("support"), t(_confidence_term(ruleset)), t("lift"),
            t("coverage")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    for r in ruleset.rules:
        cells = [r.rule_id, _conditions_text(lab, r, lang),
                 _prediction_text(lab, ruleset, r.prediction, lang),
                 "" if r.support is None else f"{r.support:,}", _pct(r.confidence),
                 _num(r.lift), _pct(r.coverage)]
        lines.append("| " + " | ".join(esc(c) for c in cells) + " |")
    lines += ["", f"{t('otherwise')} {_prediction_text(lab, ruleset, ruleset.default, lang)}"]
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


def to_json(ruleset: RuleSet, indent=2) -> str:
    """The whole rule set as JSON; :func:`from_json` rebuilds an identical RuleSet.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("city", "in", ["a", "b'c"], True)], 1)], default=0)
    >>> RuleSet.from_json(rs.to_json()) == rs
    True
    """
    doc = {"format": JSON_FORMAT, "default": ruleset.default,
           "classes": None if ruleset.classes is None else list(ruleset.classes),
           "label_column": ruleset.label_column, "meta": _jsonable(ruleset.meta),
           "rules": [r.to_dict() for r in ruleset.rules]}
    return json.dumps(doc, ensure_ascii=False, indent=indent)


def from_json(text) -> RuleSet:
    """Rebuild a RuleSet from :func:`to_json` output (a string, bytes or parsed dict)."""
    try:
        doc = json.loads(text) if isinstance(text, (str, bytes)) else dict(text)
    except (ValueError, TypeError) as exc:
        raise DataError(f"rule set JSON cannot be parsed: {exc}") from None
    if doc.get("format") != JSON_FORMAT:
        raise DataError(f"not a bankml rule set: format is {doc.get('format')!r}, "
                        f"expected {JSON_FORMAT!r}")
    try:
        rules = [Rule.from_dict(r) for r in doc["rules"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"rule set JSON has an invalid rule: {exc}") from None
    classes = doc.get("classes")
    return RuleSet(rules, default=doc.get("default"),
                   classes=None if classes is None else tuple(classes),
                   label_column=doc.get("label_column"), meta=doc.get("meta") or {})


# -- SQL -------------------------------------------------------------------------------------
#: identifier quote and string-escape style per dialect.
SQL_DIALECTS = {"ansi": ('"', "double"), "sqlite": ('"', "double"), "duckdb": ('"', "double"),
                "postgres": ('"', "double"), "spark": ("`", "backslash")}


class _Sql:
    def __init__(self, dialect):
        if dialect not in SQL_DIALECTS:
            raise ValueError(f"dialect must be one of {sorted(SQL_DIALECTS)}, got {dialect!r}")
        self.q, self.escape = SQL_DIALECTS[dialect]

    def ident(self, name) -> str:
        name = str(name)
        if not name or "\x00" in name:
            raise DataError(f"invalid SQL identifier {name!r}")
        return f"{self.q}{name.replace(self.q, self.q * 2)}{self.q}"

    def literal(self, v) -> str:
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
                raise DataError(f"value {v!r} cannot be written as a portable SQL literal")
            # Exponent form is a DOUBLE literal in all dialects (a plain 2500.5 is DECIMAL
            # in DuckDB and Spark); shortest round-trip digits keep it exact.
            return np.format_float_scientific(v, unique=True, trim="-", exp_digits=1)
        if isinstance(v, str):
            if "\x00" in v:
                raise DataError(f"string value {v!r} contains a NUL character")
            if self.escape == "backslash":
                return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
            return "'" + v.replace("'", "''") + "'"
        raise DataError(f"value {v!r} of type {type(v).__name__} cannot be written in SQL")

    def condition(self, c: Condition) -> str:
        col = self.ident(c.feature)
        miss = c.includes_missing
        if c.op in NUMERIC_OPS:
            t = c.value
            if math.isinf(t):
                always_present = (c.op == "<=" and t > 0) or (c.op == ">=" and t < 0)
                never = (c.op == ">" and t > 0) or (c.op == "<" and t < 0)
                if always_present:
                    return "1 = 1" if miss else f"{col} IS NOT NULL"
                if never:
                    return f"{col} IS NULL" if miss else "1 = 0"
                raise DataError(f"condition '{c}' cannot be written in portable SQL")
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
            lits = ", ".join(self.literal(v) for v in values)
            test = f"{col} {'IN' if positive else 'NOT IN'} ({lits})"
        if miss:
            return f"({col} IS NULL OR {test})"
        # A NULL makes the comparison NULL, which CASE WHEN treats as false: no IS NOT NULL needed.
        return test


def to_sql(ruleset: RuleSet, table, id_column, dialect="ansi") -> str:
    """One SELECT giving ``id_column, prediction, rule_id`` per row of ``table``.

    Each rule is a ``WHEN`` of one ``CASE`` (first rule that holds wins, like
    :meth:`RuleSet.predict`); ``rule_id`` is NULL where the default applies. Missing values
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
        compare the float64 value, as :meth:`RuleSet.predict` does). Columns must hold the
        types the rules expect: SQL engines do not reject text in a numeric comparison.

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
    >>> con.execute(rs.to_sql("t", "id")).fetchall()
    [(1, 1, 1), (2, 1, 1), (3, 0, None)]
    """
    s = _Sql(dialect)
    parts = [table] if isinstance(table, str) else list(table)
    tbl = ".".join(s.ident(p) for p in parts)
    idc = s.ident(id_column)
    rid = s.ident("rule_id")
    for r in ruleset.rules:
        if not isinstance(r.rule_id, numbers.Integral):
            raise DataError(f"rule_id must be an integer for SQL, got {r.rule_id!r}")
    default = s.literal(ruleset.default)
    if not ruleset.rules:
        return (f"SELECT {idc}, {default} AS {s.ident('prediction')}, "
                f"CAST(NULL AS INTEGER) AS {rid}\nFROM {tbl}")
    whens = "\n".join(
        f"      WHEN {' AND '.join(s.condition(c) for c in r.conditions) or '1 = 1'} "
        f"THEN {int(r.rule_id)}" for r in ruleset.rules)
    preds = " ".join(f"WHEN {int(r.rule_id)} THEN {s.literal(r.prediction)}" for r in ruleset.rules)
    return (f"SELECT {idc},\n"
            f"  CASE {rid} {preds} ELSE {default} END AS {s.ident('prediction')},\n"
            f"  {rid}\n"
            f"FROM (\n"
            f"  SELECT {idc},\n"
            f"    CASE\n{whens}\n    END AS {rid}\n"
            f"  FROM {tbl}\n"
            f") AS bankml_rules")


# -- Python ----------------------------------------------------------------------------------
def _py_literal(v) -> str:
    if isinstance(v, float):
        if math.isinf(v):
            return "float('inf')" if v > 0 else "float('-inf')"
        return repr(v)
    return repr(v)


def _py_condition(c: Condition, var: str) -> str:
    miss = f"m_{var}"
    if c.op in NUMERIC_OPS:
        test = f"v_{var} {c.op} {_py_literal(c.value)}"
    else:
        values = sorted(c.values, key=_sort_key)
        lits = "{" + ", ".join(_py_literal(v) for v in values) + "}" if values else "frozenset()"
        test = f"v_{var} {'in' if c.is_positive_set else 'not in'} {lits}"
    return f"({miss} or {test})" if c.includes_missing else f"(not {miss} and {test})"


def to_python(ruleset: RuleSet, function_name="predict") -> str:
    """Source of a dependency-free function ``predict(row, return_rule=False)``.

    ``row`` maps column names to values (a dict, ``pandas`` row, ...); None, NaN and
    ``pd.NA`` count as missing. With ``return_rule=True`` it returns
    ``(prediction, rule_id)``, rule_id None for the default.

    Examples
    --------
    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1)], default=0)
    >>> ns = {}
    >>> exec(rs.to_python(), ns)
    >>> ns["predict"]({"age": 60}), ns["predict"]({"age": None}, return_rule=True)
    (1, (0, None))
    """
    if not function_name.isidentifier():
        raise ValueError(f"function_name must be a Python identifier, got {function_name!r}")
    feats = ruleset.features
    var = {f: str(i) for i, f in enumerate(feats)}
    lines = [
        f"def {function_name}(row, return_rule=False):",
        f'    """Apply {len(ruleset.rules)} rules generated by bankml.rules; the first rule that',
        '    holds decides. Missing values (None, NaN, pd.NA) pass only "or missing" tests."""',
        "",
        "    def _missing(v):",
        "        if v is None:",
        "            return True",
        "        try:",
        "            return bool(v != v)",
        "        except (TypeError, ValueError):",
        "            return True  # pd.NA refuses bool()",
        "",
    ]
    for f in feats:
        lines.append(f"    v_{var[f]} = row[{f!r}]")
        lines.append(f"    m_{var[f]} = _missing(v_{var[f]})")
    for r in ruleset.rules:
        cond = " and ".join(_py_condition(c, var[c.feature]) for c in r.conditions) or "True"
        pred = _py_literal(r.prediction)
        lines.append(f"    if {cond}:")
        lines.append(f"        return ({pred}, {int(r.rule_id)}) if return_rule else {pred}")
    d = _py_literal(ruleset.default)
    lines.append(f"    return ({d}, None) if return_rule else {d}")
    return "\n".join(lines) + "\n"


# -- HTML ------------------------------------------------------------------------------------
def to_html(ruleset: RuleSet, title=None, lang="zh", labels=None, model_version=None,
            date=None) -> str:
    """A printable one-page sheet: title, date, model version, rules by confidence.

    >>> from bankml.rules import Condition, Rule, RuleSet
    >>> rs = RuleSet([Rule([Condition("age", ">", 55)], 1, support=12, confidence=0.8)])
    >>> page = to_html(rs, lang="en", model_version="v3", date="2026-01-31")
    >>> "v3" in page and "2026-01-31" in page and "age &gt; 55" in page
    True
    """
    check_lang(lang)
    lab = _labels(labels)
    t = lambda k: lab.term(k, lang)  # noqa: E731
    e = _html.escape
    title = title or t("rule_sheet_title")
    date = date or _dt.date.today().isoformat()
    version = model_version or ruleset.meta.get("model_version") or "—"
    order = sorted(ruleset.rules, key=lambda r: (-(r.confidence if r.confidence is not None
                                                  else -1.0), -(r.support or 0)))
    rows = []
    for r in order:
        rows.append(
            "<tr>" + "".join(f"<td>{e(str(x))}</td>" for x in (
                r.rule_id, _conditions_text(lab, r, lang),
                _prediction_text(lab, ruleset, r.prediction, lang),
                "" if r.support is None else f"{r.support:,}", _pct(r.confidence),
                _num(r.lift), _pct(r.coverage))) + "</tr>")
    head = "".join(f"<th>{e(h)}</th>" for h in (
        "#", t("if"), t("then"), t("support"), t(_confidence_term(ruleset)), t("lift"),
        t("coverage")))
    n = ruleset.meta.get("n_samples")
    weighted = (f'<p class="meta">{e(t("rule_weighted_note"))}</p>'
                if ruleset.meta.get("weighted_evidence") else "")
    colon = "：" if lang == "zh" else ": "  # Chinese text takes the full-width colon
    evidence = f"{t('rule_evidence')}{colon}{n:,}" if isinstance(n, numbers.Integral) else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; page-break-inside: auto; }}
th, td {{ border: 1px solid #999; padding: 2px 4px; text-align: left; }}
tr {{ page-break-inside: avoid; }}
.meta {{ color: #444; }}
</style></head><body>
<h1>{e(title)}</h1>
<p class="meta">{e(t('date'))}{colon}{e(str(date))} &nbsp; {e(t('model_version'))}{colon}{e(str(version))}
 &nbsp; {e(evidence)}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
<p>{e(t('otherwise'))} {e(_prediction_text(lab, ruleset, ruleset.default, lang))}</p>
<p class="meta">{e(t('rule_legend'))}</p>
{weighted}
</body></html>
"""
