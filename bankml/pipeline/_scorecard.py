"""The main job with ``model.kind: rule_scorecard``: the scorecard model and its files.

The model is ``Pipeline([("bands", binner), ("scorecard", RuleScorecardClassifier(...))])``
like the tree's; the published points table reads on the RAW columns (a branch has ages,
not age bands): a rule on a band column is rewritten with the binner's exact cuts, one
rule per run of adjacent bands with the same points. The pieces are disjoint, so every
customer's total is unchanged -- :func:`bankml.rules.check_fidelity` proves it on every test
row against the pipeline's ``predict_proba``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InvalidParameterError
from ..schema import ID
from ._stages import SCORECARD


def fit_scorecard(X, y, cfg: dict):
    """The rule scorecard behind the concept-hierarchy binner, from the ``scorecard:`` section.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> from bankml.datasets import make_customers
    >>> from bankml.pipeline._stages import features
    >>> cfg = validate_config({"data": {"synthetic": {"n": 10}}, "model": {"kind": "rule_scorecard"},
    ...                        "scorecard": {"max_rules": 6, "n_estimators": 3}})
    >>> df = make_customers(800, seed=1)
    >>> model = fit_scorecard(df[features(cfg)], df["wm_buyer"], cfg)
    >>> len(model[-1].rules_) <= 6
    True
    """
    from sklearn.pipeline import Pipeline

    from . import _stages as S

    RuleScorecardClassifier = S._require("bankml.scorecard", "RuleScorecardClassifier")
    model = Pipeline([("bands", S._binner(cfg)),
                      ("scorecard", RuleScorecardClassifier(**cfg["scorecard"]))])
    try:
        return model.fit(X, y)
    except InvalidParameterError as exc:
        # a setting that only fails against the features (a list of monotonic_cst of the
        # wrong length): the config key, not the estimator's parameter, is what to fix
        m = re.match(r"The '(\w+)' parameter (.*)", str(exc), re.S)
        if not m:
            raise
        raise ConfigError(f"config key 'scorecard.{m.group(1)}': {m.group(2)[:300]}") from None


def scorecard_on_raw_columns(model, *, label_column=None, model_version=None):
    """The plain-data :class:`bankml.rules.Scorecard` of a fitted scorecard pipeline, on the
    pipeline's input (raw) columns.

    A condition on a band column becomes ``low < x <= high`` on the raw column (the
    binner's own convention); a set of non-adjacent bands becomes one rule per run of
    adjacent bands, each with the rule's points (disjoint, so totals are unchanged). A rule
    no customer can meet after the rewrite adds nothing to any total and is left out.

    Examples
    --------
    >>> from bankml.config import validate_config
    >>> from bankml.datasets import make_customers
    >>> from bankml.pipeline._stages import features
    >>> cfg = validate_config({"data": {"synthetic": {"n": 10}}, "features": {"bands": {"age": [30, 55]}},
    ...                        "scorecard": {"max_rules": 6, "n_estimators": 3}})
    >>> df = make_customers(800, seed=1)
    >>> X = df[features(cfg)]
    >>> model = fit_scorecard(X, df["wm_buyer"], cfg)
    >>> sc = scorecard_on_raw_columns(model)
    >>> bool(np.allclose(sc.predict_proba(X), model.predict_proba(X)[:, 1], rtol=1e-12))
    True
    """
    from ..rules import Scorecard, ScoreRule, scorecard_from_model
    from ..rules._pipeline import _BinnerStep

    est = model[-1]
    sc = scorecard_from_model(est, label_column=label_column, model_version=model_version)
    first = model[0] if len(model) > 1 else "passthrough"
    if first in ("passthrough", None):
        return sc
    names = [str(c) for c in model.feature_names_in_]
    if not hasattr(first, "band_intervals"):
        from ..errors import RuleExportError

        raise RuleExportError(f"the scorecard pipeline's first step {type(first).__name__} "
                              "cannot be written on the raw columns (a ConceptHierarchyBinner "
                              "or 'passthrough' can)")
    step = _BinnerStep(model.steps[0][0], first)
    rules = []
    for r in sc.rules:
        pieces = step.invert(list(r.conditions))
        # a rule that stays whole keeps its training coverage; pieces of one would need
        # their own, which the pipeline does not know here
        cov = r.coverage if len(pieces) == 1 else None
        rules += [ScoreRule(p, r.points, None, cov) for p in pieces]
    rules = [ScoreRule(r.conditions, r.points, i, r.coverage) for i, r in enumerate(rules, 1)]
    return Scorecard(rules, base_points=sc.base_points, calibration=sc.calibration,
                     classes=sc.classes, label_column=sc.label_column,
                     feature_names=tuple(names), pdo=sc.pdo, base_score=sc.base_score,
                     provenance={**sc.provenance, "written_on": "raw columns (bands rewritten "
                                 "as intervals of the binner's cuts)"})


def extract_scorecard(model, split, cfg: dict, out_dir: Path, *, model_version=None):
    """The scorecard's files (the "rules" stage of a scorecard run) and its RulesResult.

    Written through bankml.rules' public exporters: ``scorecard_zh.txt`` / ``_en.txt``,
    ``scorecard.md`` / ``scorecard_zh.md``, ``scorecard.sql`` (a sum of CASE terms),
    ``scorecard.csv`` / ``scorecard_zh.csv``, ``scorecard_zh.html`` / ``_en.html`` and
    ``scorecard.json`` (read back by :func:`bankml.rules.from_json`). ``precision`` is the
    buyer rate among the test customers the model flags (probability >= 0.5); a scorecard
    has no rule coverage (every customer gets a total), so ``coverage`` is NaN and is not
    logged.
    """
    from ..rules import to_csv, to_frame, to_html, to_json, to_markdown, to_sql, to_text
    from ._stages import RulesResult, _rules_titles, _write_text, rule_labels, target

    lab = rule_labels(cfg)
    sc = scorecard_on_raw_columns(model, label_column=target(cfg), model_version=model_version)
    flagged = np.asarray(model.predict(split.X_test)) == model[-1].classes_[1]
    y = np.asarray(split.y_test)
    precision = float((y[flagged] == model[-1].classes_[1]).mean()) if flagged.any() \
        else float("nan")
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = {lg: f"{t} · {_term('score_sheet_title', lg)}"
              for lg, t in _rules_titles(cfg, lab).items()}
    files = {
        "scorecard_zh.txt": to_text(sc, lang="zh", labels=lab),
        "scorecard_en.txt": to_text(sc, lang="en", labels=lab),
        "scorecard.md": to_markdown(sc, lang="en", labels=lab),
        "scorecard_zh.md": to_markdown(sc, lang="zh", labels=lab),
        "scorecard.sql": to_sql(sc, cfg["rules"]["sql_table"], ID),
        "scorecard.json": to_json(sc),
        "scorecard_zh.html": to_html(sc, title=titles["zh"], lang="zh", labels=lab,
                                     model_version=model_version),
        "scorecard_en.html": to_html(sc, title=titles["en"], lang="en", labels=lab,
                                     model_version=model_version),
    }
    for name, text in files.items():
        _write_text(out_dir / name, text)
    to_csv(sc, out_dir / "scorecard.csv", lang="en", labels=lab)
    to_csv(sc, out_dir / "scorecard_zh.csv", lang="zh", labels=lab)
    top = {lg: _top(to_frame(sc, lang=lg, labels=lab), cfg["rules"]["top"], lg, sc.base_points)
           for lg in ("en", "zh")}
    return RulesResult(sc, precision, float("nan"), len(sc.rules), top["en"],
                       str(files["scorecard_en.txt"]), str(files["scorecard_zh.txt"]),
                       str(files["scorecard.md"]), top["zh"], lab, kind=SCORECARD)


def _term(key, lang):
    from ..labels import term

    return term(key, lang)


def _top(frame, n, lang, base) -> str:
    """The rules with the most points either way, for the model card: "IF ... add 12 points"."""
    best = frame.reindex(frame["points"].abs().sort_values(ascending=False, kind="stable").index)
    best = best.head(n)
    head = f"{_term('score_sheet_title', lang)}{'：' if lang == 'zh' else ': '}"
    if lang == "zh":
        lines = [f"{head}{_term('score_base_points', 'zh')} {base}"]
        lines += [f"{i}. 如果 {r.conditions} 则{_term('score_add' if r.points > 0 else 'score_subtract', 'zh')} "
                  f"{abs(r.points)} 分" for i, r in enumerate(best.itertuples(index=False), 1)]
    else:
        lines = [f"{head}{_term('score_base_points', 'en')} {base}"]
        lines += [f"{i}. IF {r.conditions} THEN {'add' if r.points > 0 else 'subtract'} "
                  f"{abs(r.points)} points" for i, r in enumerate(best.itertuples(index=False), 1)]
    return "\n".join(lines)


def fired_rule_positions(scorecard, X) -> np.ndarray:
    """Per row, the position of the holding rule that adds the most points (its main
    reason), or -1 when no rule adding points holds (the next-best table's rule column)."""
    from ..rules._apply import iter_rule_masks

    X, masks = iter_rule_masks(scorecard.as_ruleset(), X)
    best = np.full(len(X), -1, dtype=np.int64)
    best_points = np.zeros(len(X), dtype=np.int64)
    for k, (rule, m) in enumerate(zip(scorecard.rules, masks)):
        take = np.asarray(m, bool) & (rule.points > best_points)
        best[take], best_points[take] = k, rule.points
    return best
