"""A fitted tree as one self-contained, collapsible HTML page (zh/en).

Per node: customers, buyer rate and lift against all customers; one chosen customer's path
highlighted. No script, stylesheet or font is fetched: the page is ``<details>`` and inline CSS.
"""

from __future__ import annotations

import html

import numpy as np

from ..errors import check_is_fitted
from ._plot import _branch_text, _namer

__all__ = ["export_html"]

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}p.note{color:#555;font-size:.9em}
details,div.leaf{margin-left:1.4em;border-left:1px solid #bbb;padding-left:.5em}
summary{cursor:pointer;padding:2px 0}
.cond{font-weight:600}.stats{color:#444;font-size:.9em;margin-left:.6em}
.hi{color:#b00020}.lo{color:#555}
.path>summary,div.leaf.path{background:#fff3c4;outline:2px solid #e0a800}
.pred{font-size:.85em;color:#333;margin-left:.6em}
"""


def _model_parts(model):
    """(tree, transform) of an InfoGainTreeClassifier or a Pipeline ending in one."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return model, None
    # a one-step Pipeline has nothing in front (and an empty Pipeline cannot transform)
    return model[-1], (model[:-1] if len(steps) > 1 else None)


def export_html(model, *, lang="en", target=None, X=None, y=None, customer=None, decimals=2,
                open_depth=2, label_column=None):
    """Render a fitted tree as one self-contained HTML page with collapsible nodes.

    Parameters
    ----------
    model : InfoGainTreeClassifier or sklearn Pipeline ending in one
        For a Pipeline (as the main job fits: a ``ConceptHierarchyBinner`` in front), the
        conditions are written on the tree's input columns, i.e. on the binner's BAND
        labels of the raw columns (``age in {'30-55'}``), not inverted to raw thresholds;
        ``X`` and ``customer`` are raw rows, passed through the steps in front.
    lang : {"zh", "en"}, default "en"
        Language of column names, coded values and words (``configs/labels.yaml``).
    target : class label, optional
        The "buyer" class whose rate is shown; the last of ``classes_`` when None.
    X, y : optional
        Count customers and buyers per node on these rows (unweighted). When None the
        training counts stored in the tree are used; a tree trained with weights
        (``class_weight`` or ``sample_weight``) then needs ``X`` and ``y``, since its
        stored class counts are weighted and would give a wrong buyer rate.
    customer : one-row DataFrame, Series or 1-d array, optional
        Its path from the root to its leaf is highlighted (and opened). Only the node
        marks are written, never the row's values or index.
    decimals : int, default 2
        Decimals of numeric thresholds.
    open_depth : int, default 2
        Nodes shallower than this start opened.
    label_column : str, optional
        Name of the target column (e.g. ``"wm_buyer"``): a leaf's class is then written
        with its label from ``configs/labels.yaml``; None writes the class as it is.

    Returns
    -------
    str
        The page. Every node is one ``<details>`` (internal) or ``<div class="leaf">``
        element with ``data-node`` set to its node id; the customer's path has class
        ``path``.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.tree import InfoGainTreeClassifier
    >>> X = pd.DataFrame({"deposit": [100.0, 200.0, 3000.0, 4000.0]})
    >>> page = export_html(InfoGainTreeClassifier().fit(X, [0, 0, 1, 1]), customer=X.iloc[[3]])
    >>> page.count('data-node='), page.count('class="leaf path"')
    (3, 1)
    """
    from ..errors import InvalidParameterError
    from ..labels import check_lang, term

    check_lang(lang)
    tree, front = _model_parts(model)
    check_is_fitted(tree, "tree_")
    t = tree.tree_
    classes = list(tree.classes_)
    if target is None:
        k = len(classes) - 1
    elif target in classes:
        k = classes.index(target)
    else:
        raise InvalidParameterError(f"target must be one of the classes {classes}, got {target!r}")

    def to_tree(rows):
        return rows if front is None else front.transform(rows)

    if X is None and y is None:
        weighted = (tree.class_weight is not None
                    or not np.isclose(t.weighted_n_node_samples[0], t.n_node_samples[0]))
        if weighted:
            raise InvalidParameterError(
                "the tree was trained with weights, so its stored class counts are weighted; "
                "pass X and y to count customers and buyers per node")
        n = t.n_node_samples.astype(float)
        buyers = t.value[:, k] / np.maximum(t.value.sum(axis=1), 1e-300) * n
        source = term("tree_html_training", lang)
    elif X is None or y is None:
        raise InvalidParameterError("pass X and y together, or neither")
    else:
        paths = tree.decision_path(to_tree(X))
        yv = np.asarray(y)
        if yv.shape[0] != paths.shape[0]:
            raise InvalidParameterError(f"X has {paths.shape[0]} rows but y has {yv.shape[0]}")
        n = np.asarray(paths.sum(axis=0), dtype=float).ravel()
        buyers = np.asarray(paths[yv == classes[k]].sum(axis=0), dtype=float).ravel()
        source = term("tree_html_given", lang)

    on_path = set()
    if customer is not None:
        if getattr(customer, "ndim", 2) == 1:   # a Series or 1-d array: one row
            if hasattr(customer, "to_frame"):
                customer = customer.to_frame().T.infer_objects()   # .T makes every column object
            else:
                customer = np.asarray(customer).reshape(1, -1)
        if len(customer) != 1:
            raise InvalidParameterError(f"customer must be one row, got {len(customer)} rows")
        on_path = set(tree.decision_path(to_tree(customer)).indices.tolist())

    fname, fvalue, words = _namer(tree, lang)
    from ..labels import value_label

    def cls_name(c):
        return c if label_column is None else value_label(label_column, c, lang)
    root_rate = buyers[0] / n[0] if n[0] > 0 else np.nan
    esc = html.escape
    w_cust, w_rate, w_lift = (term(f"tree_html_{w}", lang) for w in ("customers", "buyer_rate", "lift"))

    def stats(node):
        rate = buyers[node] / n[node] if n[node] > 0 else np.nan
        lift = rate / root_rate if root_rate > 0 else np.nan
        cls = "hi" if lift > 1 else "lo"
        rate_s = "–" if np.isnan(rate) else f"{rate:.1%}"
        lift_s = "–" if np.isnan(lift) else f"{lift:.2f}"
        return (f'<span class="stats">{w_cust} {int(round(n[node])):,} · {w_rate} {rate_s} · '
                f'<span class="{cls}">{w_lift} {lift_s}</span></span>')

    out = []

    def walk(node, cond):
        mark = " path" if node in on_path else ""
        head = f'<span class="cond">{esc(cond)}</span>{stats(node)}'
        if t.is_leaf(node):
            pred = esc(f"{words['class']}: {cls_name(tree.classes_[t.leaf_class_index(node)])}")
            out.append(f'<div class="leaf{mark}" data-node="{node}">{head}'
                       f'<span class="pred">→ {pred}</span></div>')
            return
        opened = " open" if (t.depth[node] < open_depth or node in on_path) else ""
        out.append(f'<details class="node{mark}" data-node="{node}"{opened}><summary>{head}</summary>')
        for br in t.branches(node):
            walk(br.child, _branch_text(tree, node, br, decimals, fname, fvalue, words))
        out.append("</details>")

    walk(0, term("tree_html_all", lang))
    title = term("tree_html_title", lang)
    notes = [term("tree_html_hint", lang), term("tree_html_counts", lang).format(source=source)]
    if on_path:
        notes.append(term("tree_html_path", lang))
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1>"
            + "".join(f'<p class="note">{esc(s)}</p>' for s in notes)
            + "".join(out) + "</body></html>\n")
