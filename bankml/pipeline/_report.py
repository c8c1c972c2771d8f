"""The run report: one self-contained HTML page per language for the people who decide.

Model vs star baseline, the top rules, segments, star levels, the data and the model version.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from .._fonts import font_context
from ..labels import LANGS
from ..schema import LABEL
from ._text import text

__all__ = ["Report", "make_reports"]

#: Metric columns shown for model vs baseline, with their formats.
_METRICS = (("auc", "{:.3f}"), ("lift_top10", "{:.2f}"), ("capture_top10", "{:.1%}"),
            ("lift_top20", "{:.2f}"), ("capture_top20", "{:.1%}"), ("precision", "{:.1%}"))

# The page loads nothing: a Content-Security-Policy that allows only inline style, data:
# images and the page's own check script makes any outside reference a console error.
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")

# The page's self-check, read by the browser test from the DOM: every image decoded and no
# script error. It changes nothing a reader sees.
_CHECK = """<script>
var bankmlErrors = [];
window.addEventListener("error", function (e) {
  bankmlErrors.push(String(e.message || e.type));
}, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var root = document.documentElement;
  root.setAttribute("data-images", String(imgs.length - bad) + "/" + String(imgs.length));
  root.setAttribute("data-errors", String(bankmlErrors.length));
});
</script>"""

_STYLE = """<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei",
       sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #4878a8; padding-bottom: .3em; }
h2 { color: #2c4f73; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; }
footer { margin-top: 2em; color: #777; font-size: .9em; }
</style>"""


@dataclass(frozen=True)
class Report:
    """The report files a run wrote (in its staging folder), by language."""

    paths: dict


def make_reports(evaluation, rules, df: pd.DataFrame, *, stars=None, segments=None,
                 data_source: dict, model_name: str, run_id: str, out_dir: Path,
                 top: int = 10, target: str = LABEL) -> Report:
    """Write ``report_zh.html`` and ``report_en.html`` into ``out_dir``.

    ``evaluation`` is the stage's :class:`Evaluation`, ``rules`` its :class:`RulesResult`,
    ``stars`` the star table (None when that stage did not run), ``segments`` the
    :class:`Segments` (or None), ``data_source`` the data's description per language;
    ``model_name`` and the MLflow ``run_id`` name the model version.
    Figures are drawn anew per language and embedded as base64 PNG, so each file stands
    alone (a mail attachment, MLflow's artifact viewer).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for lang in LANGS:
        version = text("report_model_run", lang, model=model_name, run_id=run_id)
        page = _page(evaluation, rules, df, stars, segments, data_source[lang], version,
                     top, lang, target)
        path = out_dir / f"report_{lang}.html"
        path.write_text(page, encoding="utf-8")
        paths[lang] = path
    return Report(paths)


def _png(draw, *args) -> str:
    """A data: URI of the PNG that ``draw(*args, buffer, lang)`` writes."""
    buf = io.BytesIO()
    draw(*args, buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(header, rows, numeric=()) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(str(v))}</td>' if i in numeric
                         else f"<td>{escape(str(v))}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value, spec) -> str:
    return "–" if value is None or pd.isna(value) else spec.format(float(value))


def _page(ev, rules, df, stars, segments, source, model_version, top, lang,
          target=LABEL) -> str:
    from ._plots import _plot_gains, _plot_stars

    def t(key, **values):
        return escape(text(key, lang, **values))

    with font_context(lang):
        gains = _png(lambda buf: _plot_gains(ev.curves, buf, lang))
        star_img = (None if stars is None else
                    _png(lambda buf: _plot_stars(stars["contribution_star"], df[target], buf,
                                                 lang)))
    parts = [f"<h1>{t('report_title')}</h1>"]

    facts = [(text("report_data", lang), source),
             (text("report_customers", lang), f"{len(df):,}"),
             (_rate_label(rules, target, lang), f"{df[target].mean():.1%}"),
             (text("report_model_version", lang), model_version)]
    parts.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                                  for k, v in facts) + "</dl>")

    parts.append(f"<h2>{t('report_models')}</h2>")
    header = [text("pipeline_model", lang)] + [text(f"pipeline_{m}", lang) for m, _ in _METRICS]
    rows = [[text(f"pipeline_{name}", lang)]
            + [_fmt(row.get(m), spec) for m, spec in _METRICS]
            for name, row in ev.metrics.iterrows()]
    parts.append(_table(header, rows, numeric=range(1, len(header))))
    parts.append(f'<p><img src="{gains}" alt="{t("plot_gains_title")}"></p>')

    from ._stages import SCORECARD

    if getattr(rules, "kind", "rules") == SCORECARD:
        # a points table, not rules with support and confidence: the scorecard's own sheet
        parts.append(f"<h2>{t('report_scorecard', n=rules.n_rules)}</h2>")
        parts.append(_scorecard_table(rules, top, lang))
    else:
        parts.append(f"<h2>{t('report_rules', n=rules.n_rules)}</h2>")
        parts.append(_rules_table(rules, top, lang))

    if segments is not None:
        parts.append(f"<h2>{t('report_segments')}</h2>")
        prof = segments.segmenter.profile(lang=lang)
        # name, size and share lead the profile in both languages
        cols = list(prof.columns[:3])
        rows = [[seg, r[cols[0]], f"{int(r[cols[1]]):,}", f"{float(r[cols[2]]):.1%}"]
                for seg, r in prof.iterrows()]
        parts.append(_table([text("report_segment", lang), *cols], rows, numeric=(2, 3)))

    if stars is not None:
        parts.append(f"<h2>{t('plot_star_title')}</h2>")
        parts.append(_star_table(stars["contribution_star"], df[target], lang))
        parts.append(f'<p><img src="{star_img}" alt="{t("plot_star_title")}"></p>')

    from .. import __version__
    parts.append(f"<footer>{t('report_footer', version=__version__)}</footer>")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html_lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{t('report_title')}</title>{_STYLE}{_CHECK}</head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _rate_label(rules, target, lang) -> str:
    """"WM buyer rate" for the WM target; "<product> rate" for another."""
    if target == LABEL:
        return text("report_buyer_rate", lang)
    from ..labels import default_labels

    lab = getattr(rules, "labels", None) or default_labels()
    return f"{lab.column(target, lang)}{'比例' if lang == 'zh' else ' rate'}"


def _rules_table(rules, top, lang) -> str:
    from ..rules import to_frame

    frame = to_frame(rules.ruleset, lang=lang, labels=getattr(rules, "labels", None))
    # the same order as the model card's top rules: most confident first, then largest
    best = frame.sort_values(["confidence", "support"], ascending=False, kind="stable").head(top)
    header = ["#", text("report_if", lang), text("report_then", lang),
              text("report_support", lang), text("report_confidence", lang),
              text("report_lift", lang)]
    rows = [[i, r.conditions or "–", r.prediction_label, f"{int(r.support):,}",
             _fmt(r.confidence, "{:.0%}"), _fmt(r.lift, "{:.2f}")]
            for i, r in enumerate(best.itertuples(index=False), 1)]
    return _table(header, rows, numeric=(0, 3, 4, 5))


def _scorecard_table(rules, top, lang) -> str:
    """The base points, then the ``top`` rules with the most points either way."""
    from ..rules import to_frame

    sc = rules.ruleset
    frame = to_frame(sc, lang=lang, labels=getattr(rules, "labels", None))
    order = frame["points"].abs().sort_values(ascending=False, kind="stable").index
    best = frame.loc[order].head(top)
    header = ["#", text("report_if", lang), text("score_points", lang),
              text("report_scorecard_coverage", lang)]
    rows = [["", text("score_base_points", lang), f"{sc.base_points:d}", ""]]
    rows += [[r.rule_id, r.conditions or "–", f"{int(r.points):+d}",
              _fmt(r.coverage, "{:.1%}")] for r in best.itertuples(index=False)]
    return (_table(header, rows, numeric=(0, 2, 3))
            + f"<p>{escape(text('score_total', lang))}</p>")


def _star_table(stars: pd.Series, y, lang) -> str:
    names = {0: text("plot_not_rated", lang), 1: text("plot_quasi", lang)}
    levels = sorted(set(names) | {3, 4, 5, 6, 7})
    s = pd.Series(np.asarray(stars), dtype="int64")
    yv = pd.Series(np.asarray(y, float))
    counts = s.value_counts().reindex(levels, fill_value=0)
    rate = yv.groupby(s.to_numpy()).mean().reindex(levels)
    rows = [[names.get(k, str(k)), f"{int(counts[k]):,}", f"{counts[k] / len(s):.1%}",
             _fmt(rate[k], "{:.1%}")] for k in levels]
    header = [text("plot_star", lang), text("plot_customers", lang),
              text("report_share", lang), text("plot_buyer_rate", lang)]
    return _table(header, rows, numeric=(1, 2, 3))
