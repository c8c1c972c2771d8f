"""Pruning of a grown information-gain tree: C4.5 pessimistic (error-based, cost-aware) and
minimal cost-complexity (weakest link) pruning on the weighted entropy impurity.

Both work on flat node arrays numbered breadth-first (a child's id is above its parent's), so
they serve the grower's node dict at fit time and a fitted ``Tree`` alike.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._builder import _added_errors
from ._criteria import _entropy_counts
from ._structure import node_classes

# C4.5 replaces a subtree by a leaf when the leaf's estimated errors exceed the subtree's by
# at most this many (rows): Quinlan's margin against splits that pay for themselves by a hair
_C45_MARGIN = 0.1


def _cost_matrix(cost, n_classes):
    """The cost matrix used for error counting; 0/1 loss when ``cost`` is None."""
    if cost is None:
        return 1.0 - np.eye(n_classes)
    return np.asarray(cost, dtype=np.float64)


def prune_pessimistic(nodes, confidence, cost=None, class_scale=None):
    """C4.5 pessimistic (error-based) pruning, bottom-up.

    A subtree becomes a leaf when the leaf's upper-bound error is no more than the sum of its
    leaves' (plus C4.5's 0.1-row margin). The binomial bound is taken on the node's case count
    (rows times ``sample_weight``, C4.5's case weights: the evidence a node holds) at the
    node's error rate weighted by the class weights (``class_scale``, one factor per class,
    already inside ``value``) and ``cost``: a rare class's rows count for more in the rate but
    not in the confidence. (Counted in class-weighted units a "balanced" positive row of a 5%
    target is 10 cases, so small leaves look far more certain than their rows justify and the
    tree hardly prunes.) With a ``cost`` matrix the leaf predicts its least-expected-cost class
    and errors are cost-weighted (C5.0); the rate is scaled by the largest cost so it stays in
    [0, 1]. Without class weights and cost this is exactly C4.5.

    Returns a boolean mask of internal nodes turned into leaves.
    """
    value = np.asarray(nodes["value"], dtype=np.float64)
    # case counts per class: the class-weighted counts with the class weights divided back out
    scale = np.ones(value.shape[1]) if class_scale is None else np.asarray(class_scale, dtype=np.float64)
    cases = value / scale
    n_cases = cases.sum(axis=1)
    C = _cost_matrix(cost, value.shape[1])
    k = node_classes(value, cost)
    Ck = C[:, k].T                                       # (node, true class): cost of the node's class
    err_w = (value * Ck).sum(axis=1)                     # weighted cost of the node's errors as a leaf
    e = (cases * (Ck > 0)).sum(axis=1)                   # cases it gets wrong
    # what one error costs at this node: the mean over its wrong cases, or with none (a pure
    # leaf) the dearest error it could make -- C4.5's bound counts errors not yet seen
    dearest = (scale[None, :] * Ck).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_error = np.where(e > 0, err_w / e, dearest)
    leaf_err = (e + _added_errors(n_cases, e, confidence)) * per_error
    unit = per_error
    internal = nodes["feature"] >= 0
    subtree = np.where(internal, 0.0, leaf_err)
    pruned = np.zeros(internal.size, dtype=bool)
    depth = nodes["depth"]
    parent = nodes["parent"]
    for d in range(int(depth.max()), -1, -1):
        at = np.flatnonzero(depth == d)
        # subtrees below depth d are final (accumulated in the previous pass)
        inner = at[internal[at]]
        cut = leaf_err[inner] <= subtree[inner] + _C45_MARGIN * unit[inner]
        pruned[inner[cut]] = True
        subtree[inner[cut]] = leaf_err[inner[cut]]
        if d > 0:
            np.add.at(subtree, parent[at], subtree[at])
    return pruned


class PruningPath(NamedTuple):
    """Weakest-link pruning sequence of one tree.

    ``ccp_alphas[0] = 0`` and ``impurities[0]`` / ``n_leaves[0]`` describe the tree as given;
    step ``s >= 1`` turns node ``order[s - 1]`` into a leaf at effective alpha
    ``ccp_alphas[s]``, leaving total impurity ``impurities[s]`` and ``n_leaves[s]`` leaves.
    """

    ccp_alphas: np.ndarray
    impurities: np.ndarray
    n_leaves: np.ndarray
    order: np.ndarray


def cost_complexity_path(value, feature, first_child, n_children, parent, pruned=None):
    """Minimal cost-complexity pruning path (Breiman et al.; as scikit-learn's, multiway too).

    The cost of a node as a leaf is ``R(t) = W_t / W_root * H(t)``: its share of the training
    weight times its entropy in bits (scikit-learn's entropy criterion is in bits as well). At
    each step the internal node of least ``(R(t) - R(T_t)) / (|leaves(T_t)| - 1)`` is made a
    leaf (the first such node in breadth-first order on ties), until only the root is left.
    ``pruned`` marks nodes already turned into leaves (e.g. by pessimistic pruning).
    """
    value = np.asarray(value, dtype=np.float64)
    n = value.shape[0]
    parent = np.asarray(parent)
    internal = np.asarray(feature) >= 0
    if pruned is not None:
        internal = internal & ~np.asarray(pruned, dtype=bool)
    alive = np.zeros(n, dtype=bool)
    alive[0] = True
    for i in range(1, n):  # parents precede children
        p = parent[i]
        alive[i] = alive[p] and internal[p]
    internal &= alive
    W = value.sum(axis=1)
    R = W / W[0] * _entropy_counts(value, axis=1) if W[0] > 0 else np.zeros(n)
    leaf = alive & ~internal
    Rb = np.where(leaf, R, 0.0)
    L = leaf.astype(np.int64)
    for i in range(n - 1, 0, -1):
        if alive[i]:
            Rb[parent[i]] += Rb[i]
            L[parent[i]] += L[i]
    cand = internal.copy()
    alphas, imps, leaves, order = [0.0], [Rb[0]], [int(L[0])], []
    while cand[0]:
        idx = np.flatnonzero(cand)
        # weighted child entropy never exceeds the parent's; clip float residue below 0
        g = np.maximum((R[idx] - Rb[idx]) / (L[idx] - 1), 0.0)
        j = int(np.argmin(g))
        t = int(idx[j])
        dR, dL = R[t] - Rb[t], 1 - L[t]
        stack = [t]
        while stack:  # the subtree below t leaves the candidates
            u = stack.pop()
            if cand[u]:
                cand[u] = False
                stack.extend(range(int(first_child[u]), int(first_child[u] + n_children[u])))
        Rb[t], L[t] = R[t], 1
        p = parent[t]
        while p >= 0:
            Rb[p] += dR
            L[p] += dL
            p = parent[p]
        alphas.append(float(g[j]))
        imps.append(float(Rb[0]))
        leaves.append(int(L[0]))
        order.append(t)
    return PruningPath(np.array(alphas), np.array(imps), np.array(leaves, dtype=np.int64),
                       np.array(order, dtype=np.int64))


def path_steps(path, ccp_alpha):
    """Number of weakest-link steps taken at ``ccp_alpha``: every step up to the first whose
    effective alpha exceeds it (scikit-learn's stopping rule)."""
    above = np.flatnonzero(path.ccp_alphas[1:] > ccp_alpha)
    return int(above[0]) if above.size else int(path.order.size)


def prune_cost_complexity(nodes, ccp_alpha, pruned=None):
    """Mask of internal nodes made leaves by minimal cost-complexity pruning at ``ccp_alpha``,
    on top of ``pruned`` (nodes already made leaves)."""
    path = cost_complexity_path(nodes["value"], nodes["feature"], nodes["first_child"],
                                nodes["n_children"], nodes["parent"], pruned)
    out = np.zeros(np.asarray(nodes["feature"]).size, dtype=bool) if pruned is None else pruned.copy()
    out[path.order[:path_steps(path, ccp_alpha)]] = True
    return out


def collapsed_nodes(parent, cut):
    """For every node, the node standing for it once the nodes in ``cut`` become leaves: its
    highest cut ancestor, or itself. Routes rows of the full tree to a pruned subtree."""
    parent = np.asarray(parent)
    rep = np.arange(parent.size)
    for i in range(1, parent.size):  # parents precede children
        p = parent[i]
        r = rep[p]
        if r != p or cut[p]:
            rep[i] = r
    return rep
