"""Every export of a Scorecard, reached through the RuleSet exporters (``to_text``,
``to_sql`` ... accept either): conditions print through the same renderer and SQL/Python
condition writers, so a scorecard's rule reads and runs exactly like a RuleSet's.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json

import pandas as pd

from ..errors import DataError
from ._export import (_bad, _check_function_name, _check_sql_types, _md_cell,
                      _number, _obj, _parse_condition, _py_condition, _py_literal,
                      _python_row_reads, _Renderer, _Sql, _condition_doc,
                      _jsonable, _load_doc, _visible)
from ._model import NUMERIC_OPS, check_depth
from ._scorecard_model import Scorecard, ScoreRule

__all__ = ["JSON_FORMAT", "sc_text", "sc_markdown", "sc_frame", "sc_json", "sc_from_doc",
           "sc_sql", "sc_python", "sc_html"]

JSON_FORMAT = "bankml.scorecard/1"


def _points(r: _Renderer, p: int) -> str:
    """ "加 12 分" / "add 12 points"; a negative rule subtracts."""
    word = r.term("score_add" if p >= 0 else "score_subtract")
    unit = r.term("score_points")
    if r.lang == "zh":
        return f"{word} {abs(p)} {unit}"
    return f"{word} {abs(p)} {unit if abs(p) != 1 else 'point'}"


def _renderer(sc: Scorecard, lang, labels) -> _Renderer:
    return _Renderer(sc.as_ruleset(), lang, labels)


def _coverage(r: _Renderer, rule: ScoreRule) -> str:
    if rule.coverage is None:
        return ""
    text = f"{r.term('coverage')} {rule.coverage:.0%}"
    return f"（{text}）" if r.lang == "zh" else f" ({text})"


def _base_line(r: _Renderer, sc: Scorecard) -> str:
    colon = "：" if r.lang == "zh" else ": "
    return f"{r.term('score_base_points')}{colon}{sc.base_points}"


def sc_text(sc: Scorecard, lang, labels) -> str:
    r = _renderer(sc, lang, labels)
    lines = [_base_line(r, sc)]
    for rule in sc.rules:
        lines.append(f"{rule.rule_id}. {r.term('if')} {r.conditions(rule)} "
                     f"{_points(r, rule.points)}{_coverage(r, rule)}")
    lines.append(r.term("score_total"))
    return "\n".join(lines)


def sc_frame(sc: Scorecard, lang, labels) -> pd.DataFrame:
    r = _renderer(sc, lang, labels)
    rows = [{"rule_id": x.rule_id, "conditions": r.conditions(x), "points": x.points,
             "n_conditions": len(x.conditions), "coverage": x.coverage} for x in sc.rules]
    out = pd.DataFrame(rows, columns=["rule_id", "conditions", "points", "n_conditions",
                                      "coverage"])
    out["points"] = out["points"].astype("int64")
    return out


def sc_markdown(sc: Scorecard, lang, labels) -> str:
    r = _renderer(sc, lang, labels)
    head = ["#", r.term("if"), r.term("score_points"), r.term("coverage")]
    lines = [_md_cell(_base_line(r, sc)), "",
             "| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    for x in sc.rules:
        cells = [x.rule_id, r.conditions(x), f"{x.points:+d}",
                 "" if x.coverage is None else f"{x.coverage:.1%}"]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", _md_cell(r.term("score_total"))]
    return "\n".join(lines)


# -- JSON --------------------------------------------------------------------------------------
_DOC_KEYS = {"format", "base_points", "calibration", "classes", "label_column", "feature_names",
             "pdo", "base_score", "units", "provenance", "categories", "rules"}
_RULE_KEYS = {"rule_id", "conditions", "points", "coverage"}


def sc_json(sc: Scorecard, indent) -> str:
    doc = {"format": JSON_FORMAT, "base_points": sc.base_points,
           "calibration": list(sc.calibration),
           "classes": None if sc.classes is None else list(sc.classes),
           "label_column": sc.label_column,
           "feature_names": None if sc.feature_names is None else list(sc.feature_names),
           "pdo": sc.pdo, "base_score": sc.base_score, "units": dict(sc.units),
           "provenance": _jsonable(sc.provenance),
           "categories": {f: list(v) for f, v in sc.categories.items()},
           "rules": [{"rule_id": x.rule_id, "conditions": [_condition_doc(c) for c in x.conditions],
                      "points": x.points, "coverage": x.coverage} for x in sc.rules]}
    return json.dumps(doc, ensure_ascii=False, indent=indent)


def sc_from_doc(doc: dict) -> Scorecard:
    """A Scorecard from a parsed ``bankml.scorecard/1`` document, checked field by field."""
    _obj(doc, "the document", _DOC_KEYS, ("rules", "base_points", "calibration"))
    rules = doc["rules"]
    if not isinstance(rules, list):
        raise _bad("rules", "a list of rules", rules)
    parsed = []
    for i, d in enumerate(rules):
        path = f"rules[{i}]"
        _obj(d, path, _RULE_KEYS, ("conditions", "points"))
        if not isinstance(d["conditions"], list):
            raise _bad(f"{path}.conditions", "a list of conditions", d["conditions"])
        conds = [_parse_condition(c, f"{path}.conditions[{j}]")
                 for j, c in enumerate(d["conditions"])]
        points = _number(d["points"], f"{path}.points", integral=True)
        if points is None:
            raise _bad(f"{path}.points", "a whole number", points)
        parsed.append(ScoreRule(conds, points, _number(d.get("rule_id"), f"{path}.rule_id",
                                                       integral=True),
                                _number(d.get("coverage"), f"{path}.coverage")))
    base = _number(doc["base_points"], "base_points", integral=True)
    if base is None:
        raise _bad("base_points", "a whole number", base)
    cal = doc["calibration"]
    if not isinstance(cal, list) or len(cal) != 2 or any(
            _number(v, "calibration") is None for v in cal):
        raise _bad("calibration", "a list of two numbers [a, c]", cal)
    prov = doc.get("provenance") or {}
    if not isinstance(prov, dict):
        raise _bad("provenance", "an object", prov)
    check_depth(prov, "scorecard JSON: provenance")
    for key in ("units", "categories"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise _bad(key, "an object", doc[key])
    for key in ("classes", "feature_names"):
        if doc.get(key) is not None and not isinstance(doc[key], list):
            raise _bad(key, "a list or null", doc[key])
    try:
        return Scorecard(parsed, base_points=base, calibration=tuple(cal),
                         classes=None if doc.get("classes") is None else tuple(doc["classes"]),
                         label_column=doc.get("label_column"),
                         feature_names=None if doc.get("feature_names") is None
                         else tuple(doc["feature_names"]),
                         pdo=_number(doc.get("pdo"), "pdo"),
                         base_score=_number(doc.get("base_score"), "base_score"),
                         units=doc.get("units") or {}, provenance=prov,
                         categories=doc.get("categories") or {})
    except DataError as exc:
        raise DataError(f"scorecard JSON: {exc}") from None


def sc_from_json(text) -> Scorecard:
    doc = _load_doc(text)
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise DataError(f"not a bankml scorecard: expected format {JSON_FORMAT!r}")
    return sc_from_doc(doc)


# -- SQL ---------------------------------------------------------------------------------------
def sc_sql(sc: Scorecard, table, id_column, dialect) -> str:
    """``SELECT id, base + CASE WHEN .. THEN p ELSE 0 END + ... AS points FROM table``."""
    s = _Sql(dialect)
    _check_sql_types(sc.as_ruleset())
    parts = [table] if isinstance(table, str) else list(table) if isinstance(
        table, (list, tuple)) else [table]
    tbl = ".".join(s.ident(p, "table name") for p in parts)
    s.table = tbl
    idc = s.ident(id_column, "id_column")
    terms = [str(int(sc.base_points))]
    for x in sc.rules:
        cond = " AND ".join(s.condition(c) for c in x.conditions) or "1 = 1"
        # one term per rule, named by its id in a comment, so a branch can audit the sum
        terms.append(f"CASE WHEN {cond} THEN {int(x.points)} ELSE 0 END  -- rule {x.rule_id}")
    body = "\n    + ".join(terms)
    return (f"SELECT {idc},\n  CAST(\n    {body}\n  AS BIGINT) AS {s.ident('points')}\n"
            f"FROM {tbl}")


# -- Python ------------------------------------------------------------------------------------
def sc_python(sc: Scorecard, function_name) -> str:
    _check_function_name(function_name)
    rs = sc.as_ruleset()
    feats = rs.features
    numeric = {c.feature for x in sc.rules for c in x.conditions if c.op in NUMERIC_OPS}
    var, reads = _python_row_reads(feats, numeric)
    a, c = sc.calibration
    lines = [
        "import math",
        "",
        "",
        f"def {function_name}(row):",
        f'    """Total points of a bankml scorecard: {sc.base_points} base points plus the',
        f'    points of each of its {len(sc.rules)} rules that holds. Missing values (None, NaN,',
        '    pd.NA) pass only "or missing" tests."""',
        "",
        *reads,
    ]
    lines.append(f"    total = {int(sc.base_points)}")
    for x in sc.rules:
        cond = " and ".join(_py_condition(cd, var[cd.feature]) for cd in x.conditions) or "True"
        lines.append(f"    if {cond}:  # rule {x.rule_id}")
        lines.append(f"        total += {int(x.points)}")
    lines.append("    return total")
    lines += ["", "", f"def {function_name}_proba(row):",
              "    '''Probability of the target: a calibrated, increasing function of the points.'''",
              f"    z = {_py_literal(a)} * {function_name}(row) + {_py_literal(c)}",
              "    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else "
              "math.exp(z) / (1.0 + math.exp(z))"]
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------------
def sc_html(sc: Scorecard, title, lang, labels, model_version, date) -> str:
    r = _renderer(sc, lang, labels)
    t = r.term

    def e(text):
        return _html.escape(_visible(text))

    title = title or t("score_sheet_title")
    date = date or _dt.date.today().isoformat()
    version = model_version or sc.provenance.get("model_version") or "—"
    colon = "：" if r.lang == "zh" else ": "
    rows = ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in (
        x.rule_id, r.conditions(x), _points(r, x.points),
        "" if x.coverage is None else f"{x.coverage:.1%}")) + "</tr>" for x in sc.rules]
    head = "".join(f"<th>{e(h)}</th>" for h in ("#", t("if"), t("score_points"), t("coverage")))
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
<p class="meta">{e(t('date'))}{colon}{e(date)} &nbsp; {e(t('model_version'))}{colon}{e(version)}</p>
<p><b>{e(_base_line(r, sc))}</b></p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
<p>{e(t('score_total'))}</p>
</body></html>
"""
