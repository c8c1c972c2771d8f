"""Text and matplotlib views of a fitted InfoGainTreeClassifier.

Both read only ``tree_.branches``, so they show exactly the paths ``predict`` follows.
"""

from __future__ import annotations

import numpy as np

from ..errors import check_is_fitted

__all__ = ["export_text", "plot_tree"]


_ENGLISH = {"class": "class", "or_missing": "or missing", "gain": "gain", "in": "in", "not_in": "not in",
            "is_missing": "is missing"}


def _namer(model, lang):
    """Column namer, value namer and the fixed words, raw (lang None) or from bankml.labels."""
    names = model._feature_names()
    if lang is None:
        return (lambda f: names[f]), (lambda f, v: str(v)), _ENGLISH
    from ..labels import check_lang, column_label, term, value_label
    check_lang(lang)
    words = {k: term(f"tree_{k}", lang) for k in _ENGLISH}
    return ((lambda f: column_label(names[f], lang)),
            (lambda f, v: value_label(names[f], v, lang)), words)


def _fmt_num(x, decimals):
    return f"{x:.{decimals}f}" if abs(x) < 1e15 else f"{x:.{decimals}g}"


def _branch_text(model, node, br, decimals, fname, fvalue, words):
    f = int(model.tree_.feature[node])
    if br.op == "in" and not br.value and br.includes_missing:  # missing="fractional"'s own branch
        return f"{fname(f)} {words['is_missing']}"
    if br.op in ("<=", ">"):
        text = f"{fname(f)} {br.op} {_fmt_num(br.value, decimals)}"
    else:
        vals = sorted(br.value, key=lambda v: (str(type(v)), v) if isinstance(v, (int, float, str)) else (str(type(v)), str(v)))
        op = words["in"] if br.op == "in" else words["not_in"]
        text = f"{fname(f)} {op} {{{', '.join(fvalue(f, v) for v in vals)}}}"
    if br.includes_missing:
        text += " " + words["or_missing"]
    return text


def _leaf_text(model, node, show_weights, words):
    t = model.tree_
    text = f"{words['class']}: {model.classes_[t.leaf_class_index(node)]}"
    if show_weights:
        text += " " + np.array2string(np.round(t.value[node], 2), separator=", ")
    return text


def export_text(model, *, decimals=2, show_weights=False, lang=None):
    """Render a fitted tree as indented text, one line per branch, leaves with their class.

    Parameters
    ----------
    model : InfoGainTreeClassifier
    decimals : int, default 2
        Decimals of numeric thresholds.
    show_weights : bool, default False
        Append the weighted training class counts to each leaf.
    lang : {"zh", "en"} or None
        Translate column names and coded values with :mod:`bankml.labels`; None keeps
        the raw names.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.tree import InfoGainTreeClassifier
    >>> X = pd.DataFrame({"deposit": [100.0, 200.0, 3000.0, 4000.0]})
    >>> print(export_text(InfoGainTreeClassifier().fit(X, [0, 0, 1, 1])))
    |--- deposit <= 1600.00 or missing
    |   |--- class: 0
    |--- deposit > 1600.00
    |   |--- class: 1
    """
    check_is_fitted(model, "tree_")
    fname, fvalue, words = _namer(model, lang)
    t = model.tree_
    lines = []

    def walk(node, depth):
        pad = "|   " * depth
        if t.is_leaf(node):
            lines.append(f"{pad}|--- {_leaf_text(model, node, show_weights, words)}")
            return
        for br in t.branches(node):
            lines.append(f"{pad}|--- {_branch_text(model, node, br, decimals, fname, fvalue, words)}")
            walk(br.child, depth + 1)

    if t.is_leaf(0):
        lines.append(f"|--- {_leaf_text(model, 0, show_weights, words)}")
    else:
        walk(0, 0)
    return "\n".join(lines)


def plot_tree(model, ax=None, *, decimals=2, fontsize=8, lang=None, max_depth=None):
    """Draw a fitted tree with matplotlib: boxes for nodes, branch conditions on the edges.

    Parameters
    ----------
    model : InfoGainTreeClassifier
    ax : matplotlib Axes, optional
        Drawn into a new figure when None.
    decimals, fontsize : int
    lang : {"zh", "en"} or None
        As in :func:`export_text`.
    max_depth : int, optional
        Draw only the nodes down to this depth (root 0); a deeper subtree is one box
        marked "..." with its row count. A deep multiway tree drawn whole is too wide to
        read; :func:`bankml.tree.export_html` shows all of it.

    Returns
    -------
    matplotlib.axes.Axes
        In a new figure (``ax`` None) of at most 24 x 12 inches.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.tree import InfoGainTreeClassifier
    >>> X = pd.DataFrame({"deposit": [100.0, 200.0, 3000.0, 4000.0]})
    >>> ax = plot_tree(InfoGainTreeClassifier().fit(X, [0, 0, 1, 1]))
    >>> len(ax.texts)
    5
    """
    check_is_fitted(model, "tree_")
    from .._fonts import font_context

    fname, fvalue, words = _namer(model, lang)
    with font_context(lang):  # Chinese labels need the bundled CJK font
        return _draw_tree(model, ax, decimals, fontsize, fname, fvalue, words, max_depth)


def _wrap(text, width=24, lines=3):
    """A long value set on an edge, wrapped and cut so it does not run over its neighbours."""
    import textwrap

    parts = textwrap.wrap(text, width) or [text]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 3] + "..."
    return "\n".join(parts)


def _visible_slots(t, max_depth):
    """Leaf slots of the drawing: leaves, and nodes cut off at ``max_depth``."""
    return int(((t.feature < 0) & (t.depth <= max_depth)).sum() + ((t.feature >= 0) & (t.depth == max_depth)).sum())


def _draw_tree(model, ax, decimals, fontsize, fname, fvalue, words, max_depth=None):
    import matplotlib.pyplot as plt

    from ..errors import InvalidParameterError

    t = model.tree_
    if max_depth is None:
        max_depth = t.max_depth
    elif isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) or max_depth < 0:
        raise InvalidParameterError(f"max_depth must be an int >= 0 or None, got {max_depth!r}")
    max_depth = min(int(max_depth), t.max_depth)
    if ax is None:
        slots = _visible_slots(t, max_depth)
        _, ax = plt.subplots(figsize=(min(4 + 1.6 * slots, 24), min(2 + 1.6 * (max_depth + 1), 12)))

    def cut(node):   # drawn as a box, its subtree left out
        return not t.is_leaf(node) and t.depth[node] >= max_depth

    # leaves get consecutive x slots; an internal node sits above the middle of its children
    xs = np.zeros(t.node_count)
    slot = [0]
    shown = []

    def place(node):
        shown.append(node)
        if t.is_leaf(node) or cut(node):
            xs[node] = slot[0]
            slot[0] += 1
            return
        kids = t.children(node)
        for c in kids:
            place(c)
        xs[node] = (xs[kids[0]] + xs[kids[-1]]) / 2

    place(0)
    box = dict(boxstyle="round", fc="white", ec="0.4")
    for node in sorted(shown):
        x, y = xs[node], -t.depth[node]
        if t.is_leaf(node):
            label = _leaf_text(model, node, True, words)
        elif cut(node):
            label = f"{fname(int(t.feature[node]))} ..."
        else:
            label = f"{fname(int(t.feature[node]))}\n{words['gain']} {t.gain[node]:.4f}"
            for br in t.branches(node):
                cx, cy = xs[br.child], -t.depth[br.child]
                ax.plot([x, cx], [y, cy], color="0.6", lw=0.8, zorder=0)
                cond = _branch_text(model, node, br, decimals, fname, fvalue, words)
                cond = cond.split(" ", 1)[1] if " " in cond else cond
                cond = _wrap(cond)   # near the child: edges fan out, so labels do not collide
                ax.text(x + 0.7 * (cx - x), y + 0.7 * (cy - y), cond, fontsize=fontsize - 1, ha="center",
                        va="center", color="0.25")
        ax.text(x, y, f"{label}\nn={t.n_node_samples[node]}", fontsize=fontsize, ha="center",
                va="center", bbox=box)
    ax.set_xlim(-0.8, max(slot[0] - 0.2, 0.8))
    ax.set_ylim(-max_depth - 0.6, 0.6)
    ax.set_axis_off()
    return ax
