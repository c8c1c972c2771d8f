"""C4.5's fractional treatment of missing values (``missing="fractional"``) and its exact
translation into a tree whose every row follows one path, so rules and SQL stay exact.

Growth (hooks in ``_builder.grow``): a split's gain is computed on the rows whose value is
known and scaled by their weight fraction; split information counts "unknown" as an extra
outcome; a row whose tested value is missing goes down every branch with its weight times
the branch's share of the node's known training weight.

Prediction as C4.5 publishes it: a row whose tested value is missing follows every branch
and its class distribution is the share-weighted sum of the leaf distributions it reaches.
:func:`translate` builds the equivalent single-path tree (see its docstring), which is what
``InfoGainTreeClassifier.tree_`` holds, so ``predict``, ``branches`` and the rules agree.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import ResourceLimitError
from ._criteria import _xlogx

#: Most nodes the exact single-path translation of a fractional tree may have.
MAX_TRANSLATED_NODES = 50_000

_MISSING = "missing"  # path constraint: the feature is known to be missing


def _sum_last(a):
    return a.sum(axis=-1)


# ---- growth ----------------------------------------------------------------------------------
def eval_numeric(H, Hc, val, cnt, msl, mwl=0.0):
    """Best threshold per node under C4.5's fractional rule.

    Same inputs as ``_builder._eval_numeric`` (last bin = missing rows). Returns
    ``(gainW, bin, missing_left, wl, wr, split_info)`` where ``gainW`` is expressed so that
    grow's ``(gainW - parent_term) / W`` equals C4.5's gain: (known weight / W) x the
    information gain computed on the known rows. ``wl``/``wr`` are the children's weights
    including their share of the missing rows; ``min_samples_leaf`` is checked on the known
    rows of each child (as C4.5's MINOBJS).
    """
    k, nb, C = H.shape
    W = val.sum(axis=1)
    Mw = H[:, -1, :].astype(np.float64)
    T = np.maximum(val - Mw, 0.0)              # known class totals
    K = _sum_last(T)
    out_gain = np.full(k, -np.inf)
    out_bin = np.zeros(k, dtype=np.int64)
    out_ml = np.ones(k, dtype=bool)
    out_wl = np.zeros(k)
    out_wr = np.zeros(k)
    out_si = np.zeros(k)
    # cumulative known class weights over the value bins of every node
    L = np.cumsum(H[:, :-1, :].astype(np.float64), axis=1)    # (k, nb-1, C)
    Lc = np.cumsum(Hc[:, :-1].astype(np.float64), axis=1)
    R = np.maximum(T[:, None, :] - L, 0.0)
    Rc = (cnt - Hc[:, -1])[:, None] - Lc
    wl = _sum_last(L)
    wr = _sum_last(R)
    # a threshold after an empty bin repeats the previous one: only non-empty bins count
    ok = (Hc[:, :-1] > 0) & (Rc > 0.5) & (Lc >= msl) & (Rc >= msl)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(K > 0, W / np.where(K > 0, K, 1.0), 0.0)[:, None]
    ok &= (wl * scale >= mwl) & (wr * scale >= mwl)
    g = _sum_last(_xlogx(L)) + _sum_last(_xlogx(R)) - _xlogx(wl) - _xlogx(wr)
    g = np.where(ok, g, -np.inf)
    if not np.isfinite(g).any():
        return out_gain, out_bin, out_ml, out_wl, out_wr, out_si
    best = np.argmax(g, axis=1)
    r = np.arange(k)
    gb = g[r, best]
    hit = np.isfinite(gb)
    known_term = _sum_last(_xlogx(T)) - _xlogx(K)
    parent_term = _sum_last(_xlogx(val)) - _xlogx(W)
    out_gain = np.where(hit, gb - known_term + parent_term, -np.inf)
    out_bin = np.where(hit, best, 0)
    bl, br = wl[r, best], wr[r, best]
    out_ml = np.where(hit, bl >= br, True)
    out_wl = np.where(hit, bl * scale[:, 0], 0.0)
    out_wr = np.where(hit, br * scale[:, 0], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = (_xlogx(W) - _xlogx(bl) - _xlogx(br) - _xlogx(_sum_last(Mw))) / W
    out_si = np.where(hit, si, 0.0)
    return out_gain, out_bin, out_ml, out_wl, out_wr, out_si


def eval_categorical(H, Hc, val, msl, mwl=0.0):
    """Multiway split per node under C4.5's fractional rule (one child per known value).

    Returns ``(gainW, majority value, non-empty mask, child weights, split_info)``; the
    majority value (most known weight) is where unseen values go, as with "majority".
    """
    k, nb, C = H.shape
    if nb < 3:
        z = np.zeros(k)
        return np.full(k, -np.inf), np.zeros(k, dtype=np.int64), np.zeros((k, nb - 1), dtype=bool), \
            np.zeros((k, nb - 1)), z
    A = H[:, :-1, :].astype(np.float64)
    Ac = Hc[:, :-1].astype(np.float64)
    wv = _sum_last(A)
    maj = np.argmax(wv, axis=1)
    T = A.sum(axis=1)
    K = _sum_last(T)
    W = val.sum(axis=1)
    Mw = _sum_last(H[:, -1, :].astype(np.float64))
    nonempty = Ac > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(K > 0, W / np.where(K > 0, K, 1.0), 0.0)[:, None]
    ok = (nonempty.sum(axis=1) >= 2) & np.all(~nonempty | ((Ac >= msl) & (wv * scale >= mwl)), axis=1)
    g = _sum_last(_xlogx(A)).sum(axis=1) - _xlogx(wv).sum(axis=1)
    known_term = _sum_last(_xlogx(T)) - _xlogx(K)
    parent_term = _sum_last(_xlogx(val)) - _xlogx(W)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = (_xlogx(W) - _xlogx(wv).sum(axis=1) - _xlogx(Mw)) / W
    return (np.where(ok, g - known_term + parent_term, -np.inf), maj, nonempty, wv * scale,
            np.where(ok, si, 0.0))


def spread(new_local, missing_row, nid, first_local, n_children_local, y, w, P):
    """Send every row whose tested value is missing down every branch of its node.

    ``new_local`` is each active row's child (local index in the new level, -1 when its node
    did not split), as the majority rule assigned it; ``missing_row`` marks rows whose value
    of their node's split feature is missing. A missing row is replaced by one copy per
    child, weighted by the child's share of the node's known weight.

    Returns ``new_local, y, w, P`` (rows reordered: known rows first, then the copies) and
    ``share`` (n_new,), each new child's share of its parent's known weight.
    """
    n_new = int(n_children_local.sum())
    miss = missing_row & (new_local >= 0)
    known = (new_local >= 0) & ~miss
    kw = np.bincount(new_local[known], weights=w[known], minlength=n_new)
    owner = np.repeat(np.arange(n_children_local.size), n_children_local)
    tot = np.bincount(owner, weights=kw, minlength=n_children_local.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = kw / tot[owner]
    share = np.nan_to_num(share)
    m = np.flatnonzero(miss)
    if m.size == 0:
        return new_local, y, w, P, share
    first = first_local[nid[m]]
    # the node's children are first .. first + n - 1; n from the child slot it was given
    reps = n_children_local[owner[new_local[m]]]
    src = np.repeat(m, reps)
    starts = np.repeat(np.cumsum(reps) - reps, reps)
    child = np.repeat(first, reps) + (np.arange(src.size) - starts)
    cw = w[src] * share[child]
    good = cw > 0
    src, child, cw = src[good], child[good], cw[good]
    keep = np.flatnonzero(~miss)
    new_local = np.concatenate([new_local[keep], child])
    y = np.concatenate([y[keep], y[src]])
    w = np.concatenate([w[keep], cw])
    P = [np.concatenate([p[keep], p[src]]) for p in P]
    return new_local, y, w, P, share


# ---- the exact single-path translation -------------------------------------------------------
def leaf_proba(value, n_classes):
    """The Laplace-smoothed leaf probability ``predict_proba`` uses, per node."""
    return (value + 1.0) / (value.sum(axis=1, keepdims=True) + n_classes)


def _mix(qs, probs):
    """``sum_i qs[i] * probs[i]`` added strictly in order, so that :func:`predict_proba` and
    the translation's leaves (which add the same terms in the same order) agree bit for bit."""
    acc = np.zeros(probs.shape[1])
    for q, p in zip(qs, probs):
        acc = acc + q * p
    return acc


def _pseudo_counts(p, weight, n_classes):
    """Counts whose Laplace-smoothed probability is ``p`` and which sum to ``weight``.

    ``v = p (weight + C) - 1``: non-negative when ``weight`` is the share-weighted mean of
    the mixed leaves' weights (Jensen: the mixed probability of every class is at least
    ``1 / (weight + C)``); tiny negative rounding residues are clipped.
    """
    v = np.maximum(p * (weight + n_classes) - 1.0, 0.0)
    best = int(np.argmax(p))
    if int(np.argmax(v)) != best:  # rounding merged two near-equal classes: keep p's order
        v[best] = np.nextafter(v.max(), np.inf)
    return v


def _pick(undecided, src):
    """The undecided source node to split next: on the feature the mixture tests most (by
    weight), so one split decides several sources at once; there the heaviest source."""
    by_feature = {}
    for s, q in undecided:
        f = int(src.feature[s])
        by_feature[f] = by_feature.get(f, 0.0) + q
    f = max(by_feature, key=lambda k: (by_feature[k], -k))
    return max(((q, -s) for s, q in undecided if src.feature[s] == f))[1] * -1


def translate(src, coders, limit=MAX_TRANSLATED_NODES):
    """The single-path tree equivalent to the fractional tree ``src`` (a pruned ``Tree``).

    Translation: every split on feature ``f`` gets an explicit third branch "f is missing"
    (a numeric split ``<=`` / ``>`` / missing; a multiway split its values / missing). Below
    a missing branch the subtree is the weight mixture of the sibling subtrees: each node of
    the translation carries a mixture ``{source node: weight}`` and the path's constraints
    (per feature: missing, an interval ``(lo, hi]``, or a set of category codes). A source
    node whose test the path already decides is replaced by the child it decides (or, for
    "missing", by all its children times their shares); the first undecided source node
    (heaviest) is split next, with all its branches. When only leaves remain the node is a
    leaf predicting the share-weighted sum of their Laplace-smoothed distributions, stored
    as pseudo-counts (:func:`_pseudo_counts`), so ``predict_proba`` of the translation equals
    C4.5's fractional classification on every row, up to float rounding. Values unseen at a
    node (unseen categories) go to its heaviest child, as with ``missing="majority"``.

    Nodes under a missing branch hold mixture values (weighted training counts, pseudo-counts
    at leaves) and mixture row counts; they carry no gain, so ``feature_importances_`` is
    the grown tree's.

    Raises
    ------
    bankml.errors.ResourceLimitError
        When the translation would exceed ``limit`` nodes.
    """
    C = src.n_classes
    prob = leaf_proba(src.value, C)
    W = src.weighted_n_node_samples
    share = src.missing_share
    cat_lut = {}
    for node, lut in src._cat_child.items():
        # codes 0..k-1 training values, k any value unseen at the node (the heaviest child)
        cat_lut[node] = np.append(lut, src.missing_child[node])
    internal = src.feature >= 0

    def resolve(state, cons):
        out = {}
        stack = list(state)
        while stack:
            s, q = stack.pop()
            if not internal[s]:
                out[s] = out.get(s, 0.0) + q
                continue
            f = int(src.feature[s])
            c = cons.get(f)
            kids = range(int(src.first_child[s]), int(src.first_child[s] + src.n_children[s]))
            if c is None:
                out[s] = out.get(s, 0.0) + q
            elif c is _MISSING:
                stack.extend((k, q * share[k]) for k in kids if share[k] > 0)
            elif src.categories[f] is None:
                lo, hi = c
                t = src.threshold[s]
                if hi <= t:
                    stack.append((kids[0], q))
                elif lo >= t:
                    stack.append((kids[1], q))
                else:
                    out[s] = out.get(s, 0.0) + q
            else:
                targets = {int(cat_lut[s][a]) for a in c}
                if len(targets) == 1:
                    stack.append((targets.pop(), q))
                else:
                    out[s] = out.get(s, 0.0) + q
        return sorted(out.items())   # by node id: the order predict_proba adds leaves in

    cols = {k: [] for k in ("feature", "threshold_bin", "first_child", "n_children", "missing_child",
                            "unseen_child", "explicit_missing", "gain", "split_info", "value",
                            "n_node_samples", "depth", "parent", "threshold")}
    luts = {}
    queue = deque([(0, [(0, 1.0)], {}, -1, 0)])
    next_id = 1
    while queue:
        nid, state, cons, parent, depth = queue.popleft()
        state = resolve(state, cons)
        single = len(state) == 1 and state[0][1] == 1.0
        undecided = [(s, q) for s, q in state if internal[s]]
        if single:
            s = state[0][0]
            value = src.value[s]
            count = int(src.n_node_samples[s])
        else:
            qs = np.array([q for _, q in state])
            ids = np.array([s for s, _ in state])
            count = int(round(float(qs @ src.n_node_samples[ids])))
            if undecided:
                value = qs @ src.value[ids]
            else:
                value = _pseudo_counts(_mix(qs, prob[ids]), float(qs @ W[ids]), C)
        row = dict(feature=-1, threshold_bin=-1, first_child=-1, n_children=0, missing_child=-1,
                   unseen_child=-1, explicit_missing=False, gain=0.0, split_info=0.0, value=value,
                   n_node_samples=count, depth=depth, parent=parent, threshold=np.nan)
        if undecided:
            s = _pick(undecided, src)
            f = int(src.feature[s])
            c = cons.get(f)
            kids = []   # (constraint) per translated child, in branch order
            if src.categories[f] is None:
                t = float(src.threshold[s])
                lo, hi = (-np.inf, np.inf) if c is None else c
                kids = [(lo, t), (t, hi)]
                row["threshold_bin"] = int(np.searchsorted(coders[f].edges, t))
                row["threshold"] = t
            else:
                k = len(src.categories[f])
                allowed = range(k + 1) if c is None else sorted(c)
                groups = {}
                for a in allowed:
                    groups.setdefault(int(cat_lut[s][a]), []).append(a)
                kids = [frozenset(groups[g]) for g in sorted(groups)]
            explicit = c is None
            if explicit:
                kids.append(_MISSING)
            first = next_id
            next_id += len(kids)
            if next_id > limit:
                raise ResourceLimitError(
                    f"missing='fractional': the exact single-path translation of this tree "
                    f"(an explicit 'missing' branch at every split, grafting the sibling "
                    f"subtrees below it) needs more than {limit} nodes; lower max_depth, use "
                    f"max_leaf_nodes or a larger min_samples_leaf, or use missing='majority'")
            row.update(feature=f, first_child=first, n_children=len(kids), explicit_missing=explicit)
            row["missing_child"] = first + len(kids) - 1 if explicit else first
            # (not explicit: the path already knows the value is present, so no missing row
            # arrives; missing_child is then only a routing placeholder)
            if src.categories[f] is not None:
                k = len(src.categories[f])
                unseen = next((first + i for i, g in enumerate(kids) if g is not _MISSING and k in g),
                              first + len(kids) - 1 - explicit)
                lut = np.full(k, unseen, dtype=np.int64)
                for i, g in enumerate(kids):
                    if g is not _MISSING:
                        for a in g:
                            if a < k:
                                lut[a] = first + i
                luts[nid] = lut
                row["unseen_child"] = unseen
                if not explicit:
                    row["missing_child"] = unseen
            else:
                row["unseen_child"] = row["missing_child"]
            if single:
                row["gain"] = float(src.gain[s])
                row["split_info"] = float(src.split_info[s])
            for i, g in enumerate(kids):
                child_cons = dict(cons)
                child_cons[f] = g
                queue.append((first + i, state, child_cons, nid, depth + 1))
        for key, v in row.items():
            cols[key].append(v)
    n = len(cols["feature"])
    out = {k: np.asarray(v) for k, v in cols.items() if k != "value"}
    out["value"] = np.asarray(cols["value"], dtype=np.float64).reshape(n, C)
    for k in ("feature", "threshold_bin", "first_child", "n_children", "missing_child", "unseen_child",
              "n_node_samples", "depth", "parent"):
        out[k] = out[k].astype(np.int64)
    out["explicit_missing"] = out["explicit_missing"].astype(bool)
    out["cat_lut"] = luts
    return out


def translate_tree(src, coders, limit=None):
    """:func:`translate` as a ``Tree``, with the grown tree kept as its ``source``."""
    from ._structure import Tree
    nodes = translate(src, coders, MAX_TRANSLATED_NODES if limit is None else limit)
    out = Tree(nodes, None, coders)
    # the grown tree's thresholds as they are (not re-read from bin edges), then re-route
    if not np.array_equal(out.threshold, nodes["threshold"], equal_nan=True):
        out.threshold = nodes["threshold"]
        out._build_routing()
    out.source = src
    return out


class FractionalTree:
    """``tree_`` of a ``missing="fractional"`` model: the grown tree (``source``) and, built
    on first use, its exact single-path translation, which every other attribute
    (``branches``, ``value``, ``node_count`` ...) reads.

    Lazy because the translation can be far larger than the grown tree (every split gains
    a missing branch grafting its siblings): ``predict_proba`` and ``predict`` never need
    it, so a deep tree still scores; rules, ``apply`` and ``decision_path`` build it, and
    get a :class:`~bankml.errors.ResourceLimitError` when it exceeds
    :data:`MAX_TRANSLATED_NODES`.
    """

    def __init__(self, source, coders):
        self.source = source
        self._coders = coders
        self._built = None

    def translation(self):
        """The single-path translation (a ``Tree``), built once."""
        if self._built is None:
            self._built = translate_tree(self.source, self._coders)
        return self._built

    def __getattr__(self, name):
        # only called for names not found normally; dunders/private names (pickle, copy)
        # must not trigger a build
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.translation(), name)

    def __getstate__(self):
        return {"source": self.source, "_coders": self._coders, "_built": None}

    def __setstate__(self, state):
        self.__dict__.update(state)


def predict_proba(src, codes):
    """C4.5's fractional classification of every row on the grown tree ``src``.

    ``codes`` as for ``Tree.route`` (coded against ``src``'s own thresholds). A row whose
    tested value is missing continues in every child with weight times the child's share;
    the result is the share-weighted sum of the Laplace-smoothed leaf distributions, added
    in leaf-id order (as the translation adds them).
    """
    C = src.n_classes
    n = codes.shape[1]
    prob = leaf_proba(src.value, C)
    flat = codes.ravel().astype(np.intp)
    miss_code = np.zeros(src.node_count, dtype=np.intp)
    for f in src.used_features:
        at = np.flatnonzero(src.feature == f)
        width = (src.used_thresholds[int(f)].size if src.categories[f] is None else len(src.categories[f])) + 2
        miss_code[at] = width - 1
    rows = np.arange(n)
    node = np.zeros(n, dtype=np.intp)
    wt = np.ones(n)
    done_r, done_l, done_w = [], [], []
    share = src.missing_share
    while rows.size:
        leaf = src.is_leaf_[node]
        done_r.append(rows[leaf])
        done_l.append(node[leaf])
        done_w.append(wt[leaf])
        rows, node, wt = rows[~leaf], node[~leaf], wt[~leaf]
        if not rows.size:
            break
        c = flat[src.code_col[node] * n + rows]
        miss = c == miss_code[node]
        known_next = src.table[src.offset[node[~miss]] + c[~miss]]
        m = np.flatnonzero(miss)
        reps = src.n_children[node[m]]
        mr = np.repeat(m, reps)
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        kids = src.first_child[node[mr]] + (np.arange(mr.size) - starts)
        kw = wt[mr] * share[kids]
        rows = np.concatenate([rows[~miss], rows[mr]])
        node = np.concatenate([known_next, kids])
        wt = np.concatenate([wt[~miss], kw])
    r = np.concatenate(done_r)
    lf = np.concatenate(done_l)
    w = np.concatenate(done_w)
    order = np.lexsort((lf, r))
    r, lf, w = r[order], lf[order], w[order]
    # add each row's leaves in leaf-id order: the k-th term of every row at once
    rank = np.arange(r.size) - np.searchsorted(r, r)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2 if rank.size else 1))
    out = np.zeros((n, C))
    for a, b in zip(bounds[:-1], bounds[1:]):
        at = by_rank[a:b]   # rows are distinct within one rank
        out[r[at]] = out[r[at]] + w[at, None] * prob[lf[at]]
    return out
