"""The run's figures: gains/lift, star levels, the tree, segment profiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import LABEL

__all__ = ["Plots", "make_plots"]


@dataclass(frozen=True)
class Plots:
    """The figure files a run made (in its staging folder)."""

    paths: tuple


def make_plots(curves: dict, df: pd.DataFrame, model, stars=None, segments=None, *,
               out_dir: Path) -> Plots:
    """Every figure the run can draw from what it has (a skipped stage draws nothing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = [_plot_gains(curves, out_dir / "gains_lift.png")]
    if stars is not None:
        made.append(_plot_stars(stars["contribution_star"], df[LABEL],
                                out_dir / "star_distribution.png"))
    made.append(_plot_tree(model, out_dir / "tree.png"))
    if segments is not None:
        made.append(_plot_segments(segments.segmenter, out_dir / "segment_profiles.png"))
    return Plots(tuple(made))


def _plot_gains(curves: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, g in curves.items():
        ax1.plot(g["share_customers"], g["share_positives"], label=name)
        ax2.plot(g["share_customers"][1:], g["lift"][1:], label=name)
    ax1.plot([0, 1], [0, 1], "k:", lw=1, label="random")
    ax1.set(xlabel="share of customers contacted", ylabel="share of WM buyers reached",
            title="Cumulative gains (test set)")
    ax2.axhline(1, color="k", ls=":", lw=1)
    ax2.set(xlabel="share of customers contacted", ylabel="lift", title="Cumulative lift")
    ax1.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_stars(stars: pd.Series, y, path: Path) -> Path:
    import matplotlib.pyplot as plt

    names = {0: "not rated", 1: "quasi", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7"}
    levels = sorted(names)
    counts = stars.value_counts().reindex(levels, fill_value=0)
    rate = pd.Series(np.asarray(y, float), index=stars.index).groupby(stars.to_numpy()).mean()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([names[k] for k in levels], counts.to_numpy(), color="#4878a8")
    ax.set(xlabel="contribution star", ylabel="customers", title="Star-level distribution")
    ax2 = ax.twinx()
    ax2.plot([names[k] for k in levels], rate.reindex(levels).to_numpy(), "o-", color="#c44e52")
    ax2.set_ylabel("WM buyer rate")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_tree(model, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from ..tree import plot_tree

    tree = model[-1]
    leaves, depth = tree.get_n_leaves(), tree.get_depth()
    # wide enough that leaf boxes do not overlap
    fig, ax = plt.subplots(figsize=(max(14.0, 1.7 * leaves), max(6.0, 1.6 * (depth + 1))))
    plot_tree(tree, ax=ax)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_segments(seg, path: Path) -> Path:
    import matplotlib.pyplot as plt

    ax = seg.plot_profiles(lang="en")
    fig = ax.figure
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


