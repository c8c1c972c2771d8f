"""Level-wise growth of an information-gain tree on binned codes (pruning: ``_prune.py``).

Every level costs one weighted ``np.bincount`` per feature over the rows still active: it
yields the class histogram of every (node, bin) at once, from which all threshold and
multiway gains follow by cumulative sums. Rows that reach a leaf drop out.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from . import _fractional
from ._criteria import _xlogx

# Largest histogram (nodes x bins x classes) built in one piece; bigger levels are chunked.
_HIST_BUDGET = 1 << 22
_EPS = 1e-12


def _hist(key, size, w):
    return np.bincount(key, weights=w, minlength=size)


def _sum_last(a):
    """Sum over the (short) class axis; a loop of adds beats numpy's reduce over 2-3 items."""
    if a.shape[-1] > 8:
        return a.sum(axis=-1)
    out = a[..., 0].copy()
    for c in range(1, a.shape[-1]):
        out += a[..., c]
    return out


def _eval_numeric(H, Hc, val, cnt, msl, mwl=0.0, *, bounds=None):
    """Best threshold per node from histograms; the last bin of each node holds missing rows.

    ``H`` (k, nb, C) weighted class counts, ``Hc`` (k, nb) row counts, ``val`` (k, C) and
    ``cnt`` (k,) node totals. Work runs on the non-empty (node, bin) cells only: a threshold
    after an empty bin repeats the previous one.

    ``bounds`` (monotonic constraints, see :func:`_within_bounds`): ``(lo, hi, sign)`` with
    per-node bounds on the children's probability of class 1 and the feature's constraint.

    Returns gainW (k,) (sum of child x log x terms, -inf if no valid split), bin (k,),
    missing_left (k,), wl (k,), wr (k,) (child weights including missing rows).
    """
    k, nb, C = H.shape
    out_gain = np.full(k, -np.inf)
    out_bin = np.zeros(k, dtype=np.int64)
    out_ml = np.ones(k, dtype=bool)
    out_wl = np.zeros(k)
    out_wr = np.zeros(k)
    mask = Hc > 0
    mask[:, -1] = False
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out_gain, out_bin, out_ml, out_wl, out_wr
    node = idx // nb
    Hf = H.reshape(-1, C)
    Wv = Hf[idx].astype(np.float64)
    Cv = Hc.ravel()[idx].astype(np.float64)
    Mw = H[:, -1, :].astype(np.float64)
    Mc = Hc[:, -1].astype(np.float64)
    # within-node running sums: global cumsum minus the sum before the node's first cell
    L = np.cumsum(Wv, axis=0)
    Lc = np.cumsum(Cv)
    first = np.flatnonzero(np.diff(node, prepend=-1))
    before = np.zeros((k, C))
    before_c = np.zeros(k)
    has = first > 0
    before[node[first[has]]] = L[first[has] - 1]
    before_c[node[first[has]]] = Lc[first[has] - 1]
    L -= before[node]
    Lc -= before_c[node]
    T = np.maximum(val - Mw, 0.0)
    Tc = cnt - Mc
    R = np.maximum(T[node] - L, 0.0)
    Rc = Tc[node] - Lc
    wl = _sum_last(L)
    wr = _sum_last(R)
    ml = wl >= wr  # majority rule: missing values go with the heavier child
    Ms = Mw[node]
    mlf = ml[:, None]
    L += Ms * mlf
    R += Ms * ~mlf
    mc = Mc[node]
    lc = Lc + mc * ml
    rc = Rc + mc * ~ml
    wl = _sum_last(L)
    wr = _sum_last(R)
    ok = (Rc > 0.5) & (lc >= msl) & (rc >= msl) & (wl >= mwl) & (wr >= mwl)
    if bounds is not None:
        ok &= _within_bounds(L, wl, R, wr, node, bounds)
    g = _sum_last(_xlogx(L)) + _sum_last(_xlogx(R)) - _xlogx(wl) - _xlogx(wr)
    G = np.full(k * nb, -np.inf)
    G[idx] = np.where(ok, g, -np.inf)
    G = G.reshape(k, nb)
    best = np.argmax(G, axis=1)
    r = np.arange(k)
    out_gain = G[r, best]
    pos = np.zeros(k * nb, dtype=np.int64)
    pos[idx] = np.arange(idx.size)
    p = pos[r * nb + best]
    hit = np.isfinite(out_gain)
    out_bin = best
    out_ml = np.where(hit, ml[p], True)
    out_wl = np.where(hit, wl[p], 0.0)
    out_wr = np.where(hit, wr[p], 0.0)
    return out_gain, out_bin, out_ml, out_wl, out_wr


def _eval_categorical(H, Hc, msl, mwl=0.0, *, bounds=None):
    """Multiway split per node: one child per value present, missing with the heaviest.

    ``bounds``: ``(lo, hi, 0)`` per node (a categorical feature has no order to constrain),
    every child's probability of class 1 must lie in ``[lo, hi]``.

    Returns gainW (k,), majority value (k,), non-empty mask (k, n_values), child weights
    (k, n_values) including the missing rows.
    """
    k, nb, C = H.shape
    if nb < 3:  # fewer than two known values (e.g. a column missing throughout): no split
        return np.full(k, -np.inf), np.zeros(k, dtype=np.int64), np.zeros((k, nb - 1), dtype=bool), np.zeros((k, nb - 1))
    A = H[:, :-1, :].astype(np.float64)
    Ac = Hc[:, :-1].astype(np.float64)
    maj = np.argmax(_sum_last(A), axis=1)
    r = np.arange(k)
    A[r, maj, :] += H[:, -1, :]
    Ac[r, maj] += Hc[:, -1]
    nonempty = Ac > 0
    wv = _sum_last(A)
    ok = (nonempty.sum(axis=1) >= 2) & np.all(~nonempty | ((Ac >= msl) & (wv >= mwl)), axis=1)
    if bounds is not None:
        lo, hi, _ = bounds
        p1 = _proba1(A[..., 1], wv, C)
        ok &= np.all(~nonempty | ((p1 >= lo[:, None]) & (p1 <= hi[:, None])), axis=1)
    g = _sum_last(_xlogx(A)).sum(axis=1) - _xlogx(wv).sum(axis=1)
    return np.where(ok, g, -np.inf), maj, nonempty, wv


def _proba1(v1, w, n_classes):
    """Probability of class 1 as ``predict_proba`` reports it (Laplace-smoothed), so that a
    monotonic constraint checked here holds exactly for the fitted model's probabilities."""
    return (v1 + 1.0) / (w + n_classes)


def _within_bounds(L, wl, R, wr, node, bounds):
    """Which threshold candidates keep both children inside the node's bounds (and ordered).

    As scikit-learn does for ``monotonic_cst``: every split's children must have class-1
    probabilities within ``[lo, hi]`` of their node; a split on a constrained feature must
    also order them (``sign`` +1: left <= right). Children then get bounds cut at the
    midpoint, so every leaf below the left child stays <= every leaf below the right one.
    """
    lo, hi, sign = bounds
    C = L.shape[-1]
    pl = _proba1(L[:, 1], wl, C)
    pr = _proba1(R[:, 1], wr, C)
    lo_n, hi_n = lo[node], hi[node]
    ok = (pl >= lo_n) & (pl <= hi_n) & (pr >= lo_n) & (pr <= hi_n)
    if sign:
        ok &= (pr - pl) * sign >= 0
    return ok


def _pick_feature(G, SI, criterion):
    """Index of the split feature per node from gains ``G`` (k, F) and split information ``SI``."""
    if criterion == "gain":
        return np.argmax(G, axis=1)
    # C4.5: among attributes with at least average gain, the best gain ratio
    valid = np.isfinite(G)
    nvalid = valid.sum(axis=1)
    avg = np.where(valid, G, 0.0).sum(axis=1) / np.maximum(nvalid, 1)
    cand = valid & (G >= avg[:, None] - _EPS)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(cand, G / np.where(SI > 0, SI, 1.0), -np.inf)
    return np.argmax(ratio, axis=1)


class _Levels:
    """Per-level records, concatenated into flat node arrays at the end."""

    def __init__(self):
        self.created = []   # (ids, parent, depth, value, count)
        self.splits = []    # dict per level of split-node attributes
        self.shares = []    # missing="fractional": (child ids, share of the parent's known weight)

    def finish(self, n_classes):
        n = sum(c[0].size for c in self.created)  # ids were handed out in order: 0 .. n-1
        out = {
            "parent": np.concatenate([c[1] for c in self.created]),
            "depth": np.concatenate([c[2] for c in self.created]),
            "value": np.concatenate([c[3] for c in self.created]).reshape(n, n_classes),
            "n_node_samples": np.concatenate([c[4] for c in self.created]).astype(np.int64),
            "feature": np.full(n, -1, dtype=np.int64),
            "threshold_bin": np.full(n, -1, dtype=np.int64),
            "first_child": np.full(n, -1, dtype=np.int64),
            "n_children": np.zeros(n, dtype=np.int64),
            "missing_child": np.full(n, -1, dtype=np.int64),
            "gain": np.zeros(n),
            "split_info": np.zeros(n),
            "cat_lut": {},
        }
        if self.shares:
            out["missing_share"] = np.full(n, np.nan)
            for ids, share in self.shares:
                out["missing_share"][ids] = share
        for s in self.splits:
            i = s["ids"]
            for key in ("feature", "threshold_bin", "first_child", "n_children", "missing_child",
                        "gain", "split_info"):
                out[key][i] = s[key]
            out["cat_lut"].update(s["cat_lut"])
        return out


# ---- one level's split search, shared by grow() and the Spark path (bankml.spark._tree) ----
def node_splittable(val, cnt, depth, max_depth, min_samples_split, msl, mwl):
    """Which nodes (class weights ``val`` (k, C), row counts ``cnt``) may still be split."""
    return ((depth < max_depth) & (cnt >= min_samples_split) & (cnt >= 2 * msl)
            & (val.sum(axis=1) >= 2 * mwl) & ((val > 0).sum(axis=1) > 1))


def feature_gain(H, Hc, is_cat, val, cnt, parent_term, msl, mwl):
    """Gain (bits, -inf if no valid split) and split information of one feature at k nodes.

    ``H`` (k, n_bins, C) / ``Hc`` (k, n_bins) are the feature's weighted / row histograms at
    the nodes, ``val`` (k, C) / ``cnt`` (k,) the node totals, ``parent_term`` the nodes'
    sum of x log x terms. The last two outputs are the split's details: (threshold bin,
    missing-goes-left) for a numeric feature, (majority value, non-empty values) for a
    categorical one.
    """
    Wc = val.sum(axis=1)
    if is_cat:
        g, d1, d2, wv = _eval_categorical(H, Hc, msl, mwl)
        with np.errstate(invalid="ignore", divide="ignore"):
            si = (_xlogx(Wc) - _xlogx(wv).sum(axis=1)) / Wc
    else:
        g, d1, d2, wl, wr = _eval_numeric(H, Hc, val, cnt, msl, mwl)
        with np.errstate(invalid="ignore", divide="ignore"):
            si = (_xlogx(Wc) - _xlogx(wl) - _xlogx(wr)) / Wc
    with np.errstate(invalid="ignore"):
        gain = np.where(np.isfinite(g), np.maximum((g - parent_term) / Wc, 0.0), -np.inf)
    return gain, np.where(np.isfinite(g), si, 0.0), d1, d2


def pick_feature(G, SI, criterion, min_gain):
    """Best feature per node from gains ``G`` (k, F) and split informations ``SI``.

    Returns (feature, its gain, whether the node splits).
    """
    r = np.arange(G.shape[0])
    bf = _pick_feature(G, SI, criterion)
    bg = G[r, bf]
    return bf, bg, np.isfinite(G)[r, bf] & (bg >= min_gain - _EPS)


def grow(codes, n_bins, is_cat, y, w, n_classes, *, criterion, max_depth, min_samples_split,
         min_samples_leaf, min_gain, min_weight_leaf=0.0, max_leaf_nodes=None, monotonic_cst=None,
         missing="majority"):
    """Grow a tree level by level on binned ``codes`` (list of per-feature 1-D arrays).

    ``y`` holds class indices, ``w`` positive weights (None means all ones). Returns flat
    node arrays (see :class:`_Levels`); ``cat_lut[node]`` maps value code -> child id.
    A leaf budget ``max_leaf_nodes`` or any nonzero ``monotonic_cst`` (per feature -1/0/1,
    binary targets) needs best-first growth instead: :func:`._best_first.grow_best_first`.
    ``missing="fractional"``: C4.5's fractional rule (see :mod:`._fractional`); the result
    then also has ``missing_share`` per node.
    """
    if max_leaf_nodes is not None or (monotonic_cst is not None and np.any(monotonic_cst)):
        # _best_first builds on this module's split evaluation, so the caller dispatches
        raise ValueError("grow() is level-wise: call _best_first.grow_best_first for a leaf "
                         "budget or monotonic constraints")
    C = n_classes
    n = y.size
    F = len(codes)
    unit = w is None
    fractional = missing == "fractional"
    if fractional and unit:  # copies of rows with a missing value carry fractional weights
        w, unit = np.ones(n), False
    max_depth = np.iinfo(np.int64).max if max_depth is None else max_depth
    msl = min_samples_leaf
    mwl = min_weight_leaf
    nb = np.asarray(n_bins, dtype=np.int64)
    # per feature: code * C + y, so one bincount key per row is nid * (nb * C) + P
    P = []
    for f in range(F):
        dt = np.uint16 if nb[f] * C <= 65536 else np.int32
        P.append(codes[f].astype(dt) * dt(C) + y.astype(dt))
    y_act = y.astype(np.intp)
    w_act = None if unit else w
    rec = _Levels()

    root_val = np.bincount(y_act, weights=w_act, minlength=C).astype(np.float64)
    rec.created.append((np.array([0]), np.array([-1]), np.array([0]), root_val[None, :], np.array([n])))
    next_id = 1

    def splittable(val, cnt, depth):
        return node_splittable(val, cnt, depth, max_depth, min_samples_split, msl, mwl)

    lvl_ids = np.array([0])
    lvl_val = root_val[None, :]
    lvl_cnt = np.array([n])
    depth = 0
    if not splittable(lvl_val, lvl_cnt, 0)[0]:
        return rec.finish(C)
    nid = np.zeros(n, dtype=np.int32)

    while lvl_ids.size:
        K = lvl_ids.size
        W = lvl_val.sum(axis=1)
        parent_term = _xlogx(lvl_val).sum(axis=1) - _xlogx(W)
        G = np.full((K, F), -np.inf)
        SI = np.zeros((K, F))
        TB = np.zeros((K, F), dtype=np.int64)
        ML = np.ones((K, F), dtype=bool)
        cat_info = {}
        max_nbc = int(nb.max()) * C
        n_chunks = max(1, -(-K * max_nbc // _HIST_BUDGET))
        if n_chunks > 1:
            order = np.argsort(nid, kind="stable")
            nid = nid[order]
            y_act = y_act[order]
            if w_act is not None:
                w_act = w_act[order]
            P = [p[order] for p in P]
            bounds_nodes = np.linspace(0, K, n_chunks + 1).astype(np.int64)
            bounds_rows = np.searchsorted(nid, bounds_nodes)
        else:
            bounds_nodes = np.array([0, K])
            bounds_rows = np.array([0, nid.size])
        for f in range(F):
            nbf = int(nb[f])
            if is_cat[f]:
                cat_info[f] = (np.zeros(K, dtype=np.int64), np.zeros((K, nbf - 1), dtype=bool))
            for c in range(len(bounds_nodes) - 1):
                a, b = bounds_nodes[c], bounds_nodes[c + 1]
                ra, rb = bounds_rows[c], bounds_rows[c + 1]
                k = b - a
                if k == 0:
                    continue
                nid_c = nid[ra:rb] if a == 0 else nid[ra:rb] - np.int32(a)
                key = nid_c * np.int32(nbf * C) + P[f][ra:rb]  # int32: k * nbf * C fits the budget
                size = k * nbf * C
                H = _hist(key, size, None if unit else w_act[ra:rb]).reshape(k, nbf, C)
                Hc = _sum_last(H) if unit else _sum_last(_hist(key, size, None).reshape(k, nbf, C))
                if fractional:
                    Wc = W[a:b]
                    if is_cat[f]:
                        g, maj, nonempty, wv, si = _fractional.eval_categorical(H, Hc, lvl_val[a:b], msl, mwl)
                        cat_info[f][0][a:b] = maj
                        cat_info[f][1][a:b] = nonempty
                    else:
                        g, tb, ml, wl, wr, si = _fractional.eval_numeric(H, Hc, lvl_val[a:b], lvl_cnt[a:b],
                                                                         msl, mwl)
                        TB[a:b, f] = tb
                        ML[a:b, f] = ml
                    with np.errstate(invalid="ignore"):
                        G[a:b, f] = np.where(np.isfinite(g), np.maximum((g - parent_term[a:b]) / Wc, 0.0),
                                             -np.inf)
                    SI[a:b, f] = np.where(np.isfinite(g), si, 0.0)
                    continue
                G[a:b, f], SI[a:b, f], d1, d2 = feature_gain(H, Hc, is_cat[f], lvl_val[a:b], lvl_cnt[a:b],
                                                              parent_term[a:b], msl, mwl)
                if is_cat[f]:
                    cat_info[f][0][a:b] = d1
                    cat_info[f][1][a:b] = d2
                else:
                    TB[a:b, f] = d1
                    ML[a:b, f] = d2

        bf, bg, split = pick_feature(G, SI, criterion, min_gain)
        S = np.flatnonzero(split)
        if S.size == 0:
            break
        fS = bf[S]
        # children: numeric 2, categorical one per value present
        nch = np.full(S.size, 2, dtype=np.int64)
        for f in np.unique(fS):
            if is_cat[f]:
                m = fS == f
                nch[m] = cat_info[f][1][S[m]].sum(axis=1)
        first = next_id + np.concatenate([[0], np.cumsum(nch)[:-1]])
        n_new = int(nch.sum())
        first_local = np.full(K, -1, dtype=np.int64)
        first_local[S] = first - next_id
        mchild = np.empty(S.size, dtype=np.int64)
        split_rec = {"ids": lvl_ids[S], "feature": fS, "threshold_bin": np.full(S.size, -1),
                     "first_child": first, "n_children": nch, "gain": bg[S],
                     "split_info": SI[S, fS], "missing_child": mchild, "cat_lut": {}}
        # assign every active row of a split node to its child (local index in the new level)
        node_feat = np.full(K, -1, dtype=np.int64)
        node_feat[S] = fS
        row_feat = node_feat[nid]
        new_local = np.full(nid.size, -1, dtype=np.int64)
        missing_row = np.zeros(nid.size, dtype=bool) if fractional else None
        for f in np.unique(fS):
            m = fS == f
            Sf = S[m]
            rows = np.flatnonzero(row_feat == f)
            code = (P[f][rows] // C).astype(np.int64)
            rn = nid[rows]
            nbf = int(nb[f])
            if fractional:
                missing_row[rows] = code == nbf - 1
            if is_cat[f]:
                maj, nonempty = cat_info[f][0][Sf], cat_info[f][1][Sf]
                rank = np.cumsum(nonempty, axis=1) - 1
                lut = first_local[Sf][:, None] + np.where(nonempty, rank, rank[np.arange(Sf.size), maj][:, None])
                lut = np.concatenate([lut, lut[np.arange(Sf.size), maj][:, None]], axis=1)  # missing
                pos = np.full(K, -1, dtype=np.int64)
                pos[Sf] = np.arange(Sf.size)
                new_local[rows] = lut[pos[rn], code]
                mchild[m] = lut[:, -1] + next_id
                for i, node in enumerate(lvl_ids[Sf]):
                    split_rec["cat_lut"][int(node)] = lut[i, :-1] + next_id
            else:
                tb = TB[Sf, f]
                ml = ML[Sf, f]
                split_rec["threshold_bin"][m] = tb
                mchild[m] = first[m] + (~ml)
                tbk = np.full(K, 0, dtype=np.int64)
                tbk[Sf] = tb
                mlk = np.ones(K, dtype=bool)
                mlk[Sf] = ml
                right = code > tbk[rn]
                miss = code == nbf - 1
                right = np.where(miss, ~mlk[rn], right)
                new_local[rows] = first_local[rn] + right
        rec.splits.append(split_rec)
        if fractional:
            new_local, y_act, w_act, P, share = _fractional.spread(
                new_local, missing_row, nid, first_local, nch, y_act, w_act, P)
            rec.shares.append((np.arange(next_id, next_id + n_new), share))
        keep = new_local >= 0
        new_local_k = new_local[keep]
        yk = y_act[keep] if not keep.all() else y_act
        wk = None if w_act is None else (w_act[keep] if not keep.all() else w_act)
        new_val = np.bincount(new_local_k * C + yk, weights=wk, minlength=n_new * C).reshape(n_new, C)
        new_cnt = np.bincount(new_local_k, minlength=n_new)
        new_ids = np.arange(next_id, next_id + n_new)
        parents = np.repeat(lvl_ids[S], nch)
        depth += 1
        rec.created.append((new_ids, parents, np.full(n_new, depth), new_val.astype(np.float64), new_cnt))
        next_id += n_new
        act = splittable(new_val, new_cnt, depth)
        remap = np.cumsum(act) - 1
        keep_rows = act[new_local_k]
        if keep_rows.all() and keep.all():
            nid = remap[new_local_k].astype(np.int32)
        else:
            sel = np.flatnonzero(keep)[keep_rows] if not keep.all() else np.flatnonzero(keep_rows)
            nid = remap[new_local_k[keep_rows]].astype(np.int32)
            y_act = y_act[sel]
            if w_act is not None:
                w_act = w_act[sel]
            P = [p[sel] for p in P]
        lvl_ids = new_ids[act]
        lvl_val = new_val[act]
        lvl_cnt = new_cnt[act]
    return rec.finish(C)


def _added_errors(N, e, cf):
    """C4.5's ``AddErrs``: extra errors of the upper ``cf`` confidence bound on e errors in N.

    Same case split as C4.5 (exact binomial bound for no errors, interpolation below one
    error, the normal approximation otherwise); the deviate is ``norm.isf(cf)`` where C4.5
    interpolates a small table (0.674 vs 0.69 at cf = 0.25).
    """
    N = np.asarray(N, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    z = norm.isf(cf)
    coeff = z * z

    def normal(e_):
        ep = e_ + 0.5
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.maximum(coeff * (ep * (1 - ep / N) + coeff / 4), 0.0)
            pr = (ep + coeff / 2 + np.sqrt(inner)) / (N + coeff)
        return N * pr - e_

    def general(e_):
        return np.where(e_ + 0.5 >= N, 0.67 * (N - e_), normal(e_))

    with np.errstate(divide="ignore", invalid="ignore"):
        base = N * (1 - np.exp(np.log(cf) / N))
    one = general(np.ones_like(N))
    out = np.where(e < 1e-6, base, np.where(e < 0.9999, base + e * (one - base), general(e)))
    return np.where(N > 0, out, 0.0)
