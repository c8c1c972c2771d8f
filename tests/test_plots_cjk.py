"""Every bankml plot drawn in Chinese renders every glyph with the font installed with bankml.

matplotlib only warns ("Glyph ... missing from font(s) ...") and draws a box; here that
warning is an error, so a plot that would show boxes to a branch manager fails the test.
"""

import types
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

matplotlib.use("Agg")

from bankml._fonts import cjk_font_family, font_context  # noqa: E402
from bankml.datasets import make_customers  # noqa: E402
from bankml.pipeline._plots import make_plots  # noqa: E402
from bankml.schema import LABEL  # noqa: E402
from bankml.segment import CustomerSegmenter  # noqa: E402
from bankml.stars import StarScorer  # noqa: E402
from bankml.tree import InfoGainTreeClassifier, plot_tree  # noqa: E402


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    df = make_customers(3_000, seed=5)
    feats = ["age", "education", "short_term_assets", "card_spend", "has_fund"]
    tree = InfoGainTreeClassifier(max_depth=3, min_samples_leaf=50).fit(df[feats], df[LABEL])
    seg = CustomerSegmenter(n_clusters=3, features=["short_term_assets", "long_term_assets",
                                                    "card_spend"], random_state=0)
    seg.fit(df)
    x = np.linspace(0, 1, 11)
    curves = {name: {"share_customers": x, "share_positives": np.sqrt(x),
                     "lift": np.r_[np.nan, np.sqrt(x[1:]) / x[1:]]}
              for name in ("infogain_tree", "sklearn_entropy_tree", "star_baseline")}
    scorer = StarScorer()
    stars = pd.DataFrame({"contribution_star": scorer.contribution_star(scorer.star_points(df))})
    out = tmp_path_factory.mktemp("plots")
    with warnings.catch_warnings():
        # a missing glyph is a UserWarning from the Agg renderer: make it fail the draw
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing", category=UserWarning)
        plots = make_plots(curves, df, Pipeline([("tree", tree)]), stars,
                           types.SimpleNamespace(segmenter=seg), out_dir=out, lang="zh")
    return plots, tree, seg, out


def test_a_cjk_font_comes_with_the_install():
    # the bundled font, not whatever this machine happens to have
    assert cjk_font_family() == "WenQuanYi Micro Hei"


def test_every_run_plot_renders_in_chinese_without_a_missing_glyph(drawn):
    plots = drawn[0]
    names = sorted(p.name for p in plots.paths)
    assert names == ["gains_lift.png", "segment_profiles.png", "star_distribution.png",
                     "tree.png"]
    for p in plots.paths:
        assert p.stat().st_size > 10_000, p.name


@pytest.mark.parametrize("what", ["tree", "segments"])
def test_library_plots_in_chinese_use_the_cjk_font(drawn, what):
    import matplotlib.pyplot as plt

    _, tree, seg, _ = drawn
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing", category=UserWarning)
        fig = (plot_tree(tree, lang="zh").figure if what == "tree"
               else seg.plot_profiles(lang="zh"))
        fig.canvas.draw()  # drawn after the font context closed: the font stays on each text
    texts = [t for ax in fig.axes for t in [*ax.texts, *ax.get_xticklabels(),
                                           *ax.get_yticklabels()] if _has_cjk(t.get_text())]
    assert texts, "no Chinese text was drawn"
    assert all(t.get_fontfamily()[0] == cjk_font_family() for t in texts)
    plt.close(fig)


def test_the_missing_glyph_check_does_catch_boxes():
    # the guard itself: Chinese drawn without the CJK font raises under the same filter
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("学历", family="DejaVu Sans")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing", category=UserWarning)
        with pytest.raises(UserWarning, match="missing from font"):
            fig.canvas.draw()
    plt.close(fig)


def test_english_keeps_the_default_font():
    with font_context("en"):
        assert matplotlib.rcParams["font.family"] == ["sans-serif"]
