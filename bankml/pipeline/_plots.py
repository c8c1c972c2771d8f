"""The run's figures: gains/lift, star levels, the tree, segment profiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._fonts import font_context
from ..schema import LABEL
from ._text import text

__all__ = ["Plots", "make_plots"]


@dataclass(frozen=True)
class Plots:
    """The figure files a run made (in its staging folder)."""

    paths: tuple


def make_plots(curves: dict, df: pd.DataFrame, model, stars=None, segments=None, *,
               out_dir: Path, lang="en") -> Plots:
    """Every figure the run can draw from what it has (a skipped stage draws nothing).

    ``lang="zh"`` draws the words in Chinese with the CJK font installed with bankml.
    ``lang=("en", "zh")`` draws each figure in both: the first language's files are named
    as for one language (``gains_lift.png``), the others' carry it (``gains_lift_zh.png``).
    The whole tree's pages (``tree_zh.html``, ``tree_en.html``) are written once.
    """
    langs = (lang,) if isinstance(lang, str) else tuple(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for i, lg in enumerate(langs):
        made += _draw(curves, df, model, stars, segments, out_dir, lg,
                      suffix="" if i == 0 else f"_{lg}", tree_pages=i == 0)
    return Plots(tuple(made))


def _draw(curves, df, model, stars, segments, out_dir, lang, *, suffix, tree_pages):
    with font_context(lang):
        made = [_plot_gains(curves, out_dir / f"gains_lift{suffix}.png", lang)]
        if stars is not None:
            made.append(_plot_stars(stars["contribution_star"], df[LABEL],
                                    out_dir / f"star_distribution{suffix}.png", lang))
    if hasattr(model[-1], "tree_"):  # a rule scorecard has no tree: its sheet is its picture
        made.append(_plot_tree(model, out_dir / f"tree{suffix}.png", lang, df, pages=tree_pages))
    if segments is not None:
        made.append(_plot_segments(segments.segmenter, out_dir / f"segment_profiles{suffix}.png", lang))
    return made


def _plot_gains(curves: dict, path: Path, lang: str = "en") -> Path:
    import matplotlib.pyplot as plt

    def t(key):
        return text(key, lang)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, g in curves.items():
        ax1.plot(g["share_customers"], g["share_positives"], label=t(f"pipeline_{name}"))
        ax2.plot(g["share_customers"][1:], g["lift"][1:], label=name)
    ax1.plot([0, 1], [0, 1], "k:", lw=1, label=t("plot_random"))
    ax1.set(xlabel=t("plot_share_contacted"), ylabel=t("plot_share_reached"),
            title=t("plot_gains_title"))
    ax2.axhline(1, color="k", ls=":", lw=1)
    ax2.set(xlabel=t("plot_share_contacted"), ylabel=t("plot_lift"), title=t("plot_lift_title"))
    ax1.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_stars(stars: pd.Series, y, path: Path, lang: str = "en") -> Path:
    import matplotlib.pyplot as plt

    def t(key):
        return text(key, lang)
    names = {0: t("plot_not_rated"), 1: t("plot_quasi"), 3: "3", 4: "4", 5: "5", 6: "6", 7: "7"}
    levels = sorted(names)
    counts = stars.value_counts().reindex(levels, fill_value=0)
    rate = pd.Series(np.asarray(y, float), index=stars.index).groupby(stars.to_numpy()).mean()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([names[k] for k in levels], counts.to_numpy(), color="#4878a8")
    ax.set(xlabel=t("plot_star"), ylabel=t("plot_customers"), title=t("plot_star_title"))
    ax2 = ax.twinx()
    ax2.plot([names[k] for k in levels], rate.reindex(levels).to_numpy(), "o-", color="#c44e52")
    ax2.set_ylabel(t("plot_buyer_rate"))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_tree(model, path: Path, lang: str = "en", df: pd.DataFrame | None = None, *,
               pages: bool = True) -> Path:
    """The top 3 levels as a PNG (a whole depth-5 multiway tree is unreadable at any size),
    and the whole tree as ``tree_zh.html`` / ``tree_en.html`` beside it (both languages,
    whatever ``lang``: the reports folder, plots included, is logged to MLflow).

    The HTML counts customers and buyers on ``df`` (the run's customers), not on the
    tree's stored counts, which are weighted when the tree has a ``class_weight``."""
    import matplotlib.pyplot as plt

    from ..tree import export_html, plot_tree
    from ..tree._plot import _visible_slots

    tree = model[-1]
    # fewer levels when a multiway level would not fit: boxes of 1.7 in, at most 24 in wide
    depth = min(tree.get_depth(), _PNG_DEPTH)
    while depth > 1 and _visible_slots(tree.tree_, depth) > _PNG_SLOTS:
        depth -= 1
    slots = _visible_slots(tree.tree_, depth)
    # 1.7 in a box keeps boxes apart; capped so the PNG stays <= 2400 x 1000 px at dpi 100
    fig, ax = plt.subplots(figsize=(min(max(10.0, 1.7 * slots), 24.0), min(max(5.0, 2.2 * (depth + 1)), 10.0)))
    plot_tree(tree, ax=ax, lang=lang, max_depth=depth, fontsize=9)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    try:
        cols = list(model.feature_names_in_)
    except AttributeError:   # a "passthrough" first step knows no names: the tree's are the raw ones
        cols = list(tree.feature_names_in_)
    rows = {} if df is None else {"X": df[cols], "y": df[LABEL]}
    for lg in ("zh", "en") if pages else ():   # the pipeline, so conditions read on band labels of raw columns
        page = export_html(model, lang=lg, label_column=LABEL, **rows)
        path.with_name(f"tree_{lg}.html").write_text(page, encoding="utf-8")
    return path


_PNG_DEPTH = 2   # root + 2 levels: the "top 3 levels"
_PNG_SLOTS = 14  # boxes side by side that stay legible in 24 in


def _plot_segments(seg, path: Path, lang: str = "en") -> Path:
    import matplotlib.pyplot as plt

    ax = seg.plot_profiles(lang=lang)
    fig = ax.figure
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


