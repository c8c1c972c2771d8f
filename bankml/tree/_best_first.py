"""Best-first growth of an information-gain tree: a leaf budget and monotonic constraints.

The candidate leaf whose best split gains most information in total (gain x node weight)
is split next, up to ``max_leaf_nodes`` leaves; each node's histograms come from its own
rows. Split search is the level-wise builder's (:func:`._builder._eval_numeric` ...), so
with a budget that does not bind the tree is the level-wise one, node for node.
"""

from __future__ import annotations

import heapq

import numpy as np

from ._builder import _EPS, _HIST_BUDGET, _eval_categorical, _eval_numeric, _pick_feature, _proba1, _sum_last
from ._criteria import _xlogx


class _Candidate:
    """The best split of one leaf, as found when the leaf was created."""

    __slots__ = ("feature", "gain", "split_info", "tbin", "missing_left", "maj", "nonempty", "n_children")


def _evaluate(P, parts, w, vals, cnts, nb, is_cat, C, criterion, msl, mwl, min_gain, lo, hi, mono,
              max_children=None):
    """Best split of each node (rows ``parts[i]``, class weights ``vals[i]``), or None.

    The children of one split are searched together, as one level of the level-wise
    builder: one weighted ``np.bincount`` per feature gives every (node, bin) histogram,
    with the same arithmetic, so both growers choose the same split at the same node.
    ``max_children`` leaves out multiway splits with more children (what the budget allows);
    ``lo``/``hi`` are the nodes' probability bounds (None without monotonic constraints).
    """
    F = len(P)
    k = len(parts)
    idx = np.concatenate(parts) if k > 1 else parts[0]
    local = np.repeat(np.arange(k, dtype=np.intp), [p.size for p in parts])
    w_rows = None if w is None else w[idx]
    W = vals.sum(axis=1)
    parent_term = _xlogx(vals).sum(axis=1) - _xlogx(W)
    G = np.full((k, F), -np.inf)
    SI = np.zeros((k, F))
    TB = np.zeros((k, F), dtype=np.int64)
    ML = np.ones((k, F), dtype=bool)
    cat = {}
    for f in range(F):
        nbf = int(nb[f])
        key = local * (nbf * C) + P[f][idx]
        size = k * nbf * C
        H = np.bincount(key, weights=w_rows, minlength=size).reshape(k, nbf, C)
        Hc = _sum_last(H) if w is None else _sum_last(np.bincount(key, minlength=size).reshape(k, nbf, C))
        b = None if lo is None else (lo, hi, int(mono[f]))
        if is_cat[f]:
            g, maj, nonempty, wv = _eval_categorical(H, Hc, msl, mwl, bounds=b)
            if max_children is not None:
                g = np.where(nonempty.sum(axis=1) <= max_children, g, -np.inf)
            with np.errstate(invalid="ignore", divide="ignore"):
                si = (_xlogx(W) - _xlogx(wv).sum(axis=1)) / W
            cat[f] = (maj, nonempty)
        else:
            g, tb, ml, wl, wr = _eval_numeric(H, Hc, vals, cnts, msl, mwl, bounds=b)
            with np.errstate(invalid="ignore", divide="ignore"):
                si = (_xlogx(W) - _xlogx(wl) - _xlogx(wr)) / W
            TB[:, f] = tb
            ML[:, f] = ml
        with np.errstate(invalid="ignore"):
            G[:, f] = np.where(np.isfinite(g), np.maximum((g - parent_term) / W, 0.0), -np.inf)
        SI[:, f] = np.where(np.isfinite(g), si, 0.0)
    best = _pick_feature(G, SI, criterion)
    out = []
    for i in range(k):
        f = int(best[i])
        gain = G[i, f]
        if not (np.isfinite(gain) and gain >= min_gain - _EPS):
            out.append(None)
            continue
        c = _Candidate()
        c.feature, c.gain, c.split_info = f, float(gain), float(SI[i, f])
        c.tbin, c.missing_left = int(TB[i, f]), bool(ML[i, f])
        if is_cat[f]:
            c.maj, c.nonempty = int(cat[f][0][i]), cat[f][1][i]
            c.n_children = int(c.nonempty.sum())
        else:
            c.maj, c.nonempty, c.n_children = None, None, 2
        out.append(c)
    return out


def grow_best_first(codes, n_bins, is_cat, y, w, n_classes, *, criterion, max_depth, min_samples_split,
                    min_samples_leaf, min_gain, min_weight_leaf=0.0, max_leaf_nodes=None, monotonic_cst=None):
    """Grow best-first: split the leaf with the largest weighted gain until the budget is spent.

    Same arguments and result as :func:`._builder.grow` (nodes numbered breadth-first).
    A split is made only when its children fit the budget (a multiway split adds one leaf
    per value less one): a leaf whose best split no longer fits is searched again among the
    splits that do, and goes back in the queue with that (smaller) gain. ``monotonic_cst`` (per feature -1/0/1, class index 1 of a binary
    target) keeps every child's class-1 probability within bounds cut at the midpoint of
    each constrained split, so ``predict_proba[:, 1]`` is monotone in that feature.
    """
    C = n_classes
    n = y.size
    F = len(codes)
    nb = np.asarray(n_bins, dtype=np.int64)
    depth_cap = np.iinfo(np.int64).max if max_depth is None else max_depth
    # every leaf holds at least min_samples_leaf rows: a larger budget can never bind
    budget = np.inf if max_leaf_nodes is None or max_leaf_nodes >= n // min_samples_leaf else max_leaf_nodes
    msl, mwl = min_samples_leaf, min_weight_leaf
    mono = np.zeros(F, dtype=np.int64) if monotonic_cst is None else np.asarray(monotonic_cst, dtype=np.int64)
    constrained = bool(mono.any())
    y = y.astype(np.intp)
    P = [codes[f].astype(np.intp) * C + y for f in range(F)]

    parent, depth, value, count, lo, hi = [-1], [0], [], [n], [-np.inf], [np.inf]
    value.append(np.bincount(y, weights=w, minlength=C).astype(np.float64))
    splits = {}  # node -> (candidate, first child id, child ids of category codes or None)
    rows = {0: np.arange(n)}
    heap, cands = [], {}

    def splittable(node):
        v = value[node]
        return (depth[node] < depth_cap and count[node] >= min_samples_split and count[node] >= 2 * msl
                and v.sum() >= 2 * mwl and (v > 0).sum() > 1)

    # nodes searched in one batch: their (node, bin, class) histograms fit the builder's budget
    batch_nodes = max(1, _HIST_BUDGET // (int(nb.max()) * C))

    def consider(nodes, max_children=None):
        """Search the splits of ``nodes`` and queue those found."""
        todo = []
        for node in nodes:
            if splittable(node):
                todo.append(node)
            else:
                del rows[node]
        for start in range(0, len(todo), batch_nodes):
            part = todo[start:start + batch_nodes]
            lo_hi = (np.array([lo[i] for i in part]), np.array([hi[i] for i in part])) if constrained else (None, None)
            found = _evaluate(P, [rows[i] for i in part], w, np.array([value[i] for i in part]),
                              np.array([count[i] for i in part]), nb, is_cat, C, criterion, msl, mwl, min_gain,
                              *lo_hi, mono, max_children)
            for node, c in zip(part, found):
                if c is None:
                    del rows[node]
                    continue
                cands[node] = c
                # largest total gain first; ties by node id, so growth is deterministic
                heapq.heappush(heap, (-c.gain * float(value[node].sum()), node))

    def split(node, c):
        """Make the split ``c`` of ``node``; its new child ids ([] when a bound forbids it)."""
        idx = rows.pop(node)
        code = P[c.feature][idx] // C
        if is_cat[c.feature]:
            rank = np.cumsum(c.nonempty) - 1
            lut = np.where(c.nonempty, rank, rank[c.maj])
            lut = np.append(lut, rank[c.maj])  # the missing code goes with the heaviest value
            local = lut[code]
            miss_local = int(rank[c.maj])
        else:
            right = code > c.tbin
            right = np.where(code == nb[c.feature] - 1, not c.missing_left, right)
            local = right.astype(np.intp)
            miss_local = 0 if c.missing_left else 1
            lut = None
        k = c.n_children
        wk = None if w is None else w[idx]
        vals = np.bincount(local * C + y[idx], weights=wk, minlength=k * C).reshape(k, C).astype(np.float64)
        cnts = np.bincount(local, minlength=k)
        child_bounds = [(lo[node], hi[node])] * k
        if constrained:
            # the search checked bounds on histogram sums; check again on the stored values,
            # which are what predict_proba reads, so the guarantee is exact
            p1 = _proba1(vals[:, 1], vals.sum(axis=1), C)
            if np.any(p1 < lo[node]) or np.any(p1 > hi[node]):
                return []
            s = int(mono[c.feature])
            if s and not is_cat[c.feature]:
                if (p1[1] - p1[0]) * s < 0:
                    return []
                mid = (p1[0] + p1[1]) / 2
                low_side = (lo[node], mid)
                high_side = (mid, hi[node])
                child_bounds = [low_side, high_side] if s > 0 else [high_side, low_side]
        first = len(parent)
        splits[node] = (c, first, miss_local, None if lut is None else first + lut[:-1])
        order = np.argsort(local, kind="stable")
        cuts = np.searchsorted(local[order], np.arange(1, k))
        for j, part in enumerate(np.split(idx[order], cuts)):
            parent.append(node)
            depth.append(depth[node] + 1)
            value.append(vals[j])
            count.append(int(cnts[j]))
            lo.append(child_bounds[j][0])
            hi.append(child_bounds[j][1])
            rows[first + j] = part
        return list(range(first, first + k))

    consider([0])
    n_leaves = 1
    while heap and n_leaves < budget:
        if budget == np.inf:
            # no budget: the order of splits cannot change the tree, so split every queued
            # leaf and search all their children in one batch (level by level)
            batch = sorted(heap)
            heap.clear()
        else:
            batch = [heapq.heappop(heap)]
        children = []
        for _, node in batch:
            c = cands.pop(node)
            if n_leaves + c.n_children - 1 > budget:
                consider([node], max_children=int(budget - n_leaves + 1))
                continue
            kids = split(node, c)
            n_leaves += max(len(kids) - 1, 0)
            children.extend(kids)
        consider(children)
    return _breadth_first(parent, depth, value, count, splits, C)


def _breadth_first(parent, depth, value, count, splits, n_classes):
    """Flat node arrays (as :class:`._builder._Levels` gives) renumbered breadth-first."""
    n = len(parent)
    order = [0]
    for node in order:  # grows while iterating: a breadth-first walk
        if node in splits:
            c, first = splits[node][:2]
            order.extend(range(first, first + c.n_children))
    new = np.empty(n, dtype=np.int64)
    new[order] = np.arange(n)
    old = np.asarray(order)
    par = np.asarray(parent, dtype=np.int64)[old]
    out = {
        "parent": np.where(par >= 0, new[np.maximum(par, 0)], -1),
        "depth": np.asarray(depth, dtype=np.int64)[old],
        "value": np.asarray(value, dtype=np.float64).reshape(n, n_classes)[old],
        "n_node_samples": np.asarray(count, dtype=np.int64)[old],
        "feature": np.full(n, -1, dtype=np.int64),
        "threshold_bin": np.full(n, -1, dtype=np.int64),
        "first_child": np.full(n, -1, dtype=np.int64),
        "n_children": np.zeros(n, dtype=np.int64),
        "missing_child": np.full(n, -1, dtype=np.int64),
        "gain": np.zeros(n),
        "split_info": np.zeros(n),
        "cat_lut": {},
    }
    for node, (c, first, miss_local, cat_children) in splits.items():
        i = new[node]
        out["feature"][i] = c.feature
        out["first_child"][i] = new[first]
        out["n_children"][i] = c.n_children
        out["missing_child"][i] = new[first + miss_local]
        out["gain"][i] = c.gain
        out["split_info"][i] = c.split_info
        if cat_children is None:
            out["threshold_bin"][i] = c.tbin
        else:
            out["cat_lut"][int(i)] = new[cat_children]
    return out
