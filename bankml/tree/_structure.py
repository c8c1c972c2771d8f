"""The fitted tree's structure (``InfoGainTreeClassifier.tree_``) and its vectorised routing.

Nodes are numbered breadth-first from the root (0). Each internal node's children are
consecutive ids; ``branches(node)`` states in user terms which values go to which child.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import sparse

__all__ = ["Branch", "Tree", "node_classes"]


def node_classes(value, cost=None):
    """Index of the class each node predicts, from its weighted class counts ``value``.

    Without ``cost``: the heaviest class (first of tied maxima). With a cost matrix
    (``cost[i, j]`` = cost of predicting class j when the truth is class i): the class of
    least expected cost ``value @ cost`` (first of ties), as C5.0 does. Pruning and
    :meth:`Tree.leaf_class_index` both call this, so they cannot disagree.
    """
    value = np.asarray(value, dtype=np.float64)
    if cost is None:
        return np.argmax(value, axis=-1)
    return np.argmin(value @ np.asarray(cost, dtype=np.float64), axis=-1)


class Branch(NamedTuple):
    """One outgoing edge of an internal node.

    ``op`` is ``"<="`` / ``">"`` (numeric split, ``value`` a float threshold on the original
    scale) or ``"in"`` / ``"not in"`` (multiway split, ``value`` a frozenset of the column's
    original values). ``includes_missing`` marks the one branch that also takes missing
    values (the child with the most training weight). With ``missing="fractional"`` a split
    may instead end with its own branch ``op="in"``, ``value=frozenset()``,
    ``includes_missing=True``: "the value is missing" (``IS NULL`` in SQL).
    """

    child: int
    op: str
    value: Any
    includes_missing: bool


class Tree:
    """Array form of a fitted information-gain tree.

    Attributes
    ----------
    node_count : int
    n_classes : int
    feature : ndarray of int, -1 at leaves
    threshold : ndarray of float, the ``<=`` threshold of numeric splits (NaN elsewhere)
    value : ndarray of shape (node_count, n_classes), weighted training class counts
    n_node_samples : ndarray of int, training rows reaching each node (rows with zero
        sample weight are left out of training and are not counted)
    weighted_n_node_samples : ndarray of float
    impurity : ndarray of float, node entropy in bits
    gain : ndarray of float, information gain of the node's split (0 at leaves)
    split_info : ndarray of float, split information of the node's split (0 at leaves)
    depth : ndarray of int, depth of each node (root 0)
    parent : ndarray of int, -1 at the root
    first_child, n_children : ndarray of int, children are ``first_child .. + n_children``
    missing_child : ndarray of int, the child that takes missing values (-1 at leaves)
    unseen_child : ndarray of int, the child that takes values unseen at the node
        (``missing_child`` except with ``missing="fractional"``)
    explicit_missing : ndarray of bool, the split has its own last branch "is missing"
        (``missing="fractional"`` only, see ``bankml.tree._fractional.translate``)
    missing_share : ndarray of float or None, with ``missing="fractional"`` on the grown
        tree (``source``): each node's share of its parent's known training weight
    source : Tree or None, with ``missing="fractional"``: the grown C4.5 tree this tree
        is the exact single-path translation of
    categories : list, per feature the training values of a categorical feature (None if numeric)

    Notes
    -----
    The contract with :mod:`bankml.rules`: ``is_leaf(node)``, ``leaf_class_index(node)``
    and ``branches(node)`` describe exactly the one path ``predict`` sends each row down.
    A numeric split sends ``x <= threshold`` to its first child and ``x > threshold`` to
    its second; a multiway split sends each training value seen at the node to its own
    child and everything else (values unseen there) to the heaviest child, which also
    takes missing values (``missing_child``).
    """

    def __init__(self, nodes, pruned, coders, cost=None):
        # the misclassification cost matrix (None = 0/1): decides which class a leaf predicts
        self.cost = None if cost is None else np.asarray(cost, dtype=np.float64)
        n = nodes["feature"].size
        pruned = np.zeros(n, dtype=bool) if pruned is None else pruned
        alive = np.zeros(n, dtype=bool)
        alive[0] = True
        depth = nodes["depth"]
        parent = nodes["parent"]
        for d in range(1, int(depth.max()) + 1):
            at = np.flatnonzero(depth == d)
            p = parent[at]
            alive[at] = alive[p] & ~pruned[p]
        new = np.cumsum(alive) - 1
        keep = np.flatnonzero(alive)
        internal = (nodes["feature"][keep] >= 0) & ~pruned[keep]

        def remap(a):
            a = a[keep]
            return np.where(internal & (a >= 0), new[np.maximum(a, 0)], -1)

        self.node_count = int(keep.size)
        self.value = np.ascontiguousarray(nodes["value"][keep])
        self.n_classes = self.value.shape[1]
        self.n_node_samples = nodes["n_node_samples"][keep]
        self.weighted_n_node_samples = self.value.sum(axis=1)
        self.depth = depth[keep]
        self.parent = np.where(parent[keep] >= 0, new[np.maximum(parent[keep], 0)], -1)
        self.feature = np.where(internal, nodes["feature"][keep], -1)
        self.first_child = remap(nodes["first_child"])
        self.n_children = np.where(internal, nodes["n_children"][keep], 0)
        self.missing_child = remap(nodes["missing_child"])
        # missing="fractional" (see _fractional.translate): unseen values and missing values
        # may go to different children, and a split may have its own "is missing" branch
        self.unseen_child = remap(nodes["unseen_child"]) if "unseen_child" in nodes else self.missing_child
        self.explicit_missing = (nodes["explicit_missing"][keep] & internal if "explicit_missing" in nodes
                                 else np.zeros(self.node_count, dtype=bool))
        self.missing_share = nodes["missing_share"][keep] if "missing_share" in nodes else None
        self.source = None  # missing="fractional": the grown tree this one translates
        self.gain = np.where(internal, nodes["gain"][keep], 0.0)
        self.split_info = np.where(internal, nodes["split_info"][keep], 0.0)
        from ._criteria import _entropy_counts
        self.impurity = _entropy_counts(self.value, axis=1)
        self.threshold = np.full(self.node_count, np.nan)
        tb = nodes["threshold_bin"][keep]
        self.categories = [getattr(c, "categories", None) for c in coders]
        self._cat_child = {}
        for f, coder in enumerate(coders):
            at = np.flatnonzero(internal & (self.feature == f))
            if coder.kind == "num":
                self.threshold[at] = coder.edges[tb[at]]
            else:
                for i in at:
                    self._cat_child[int(i)] = new[nodes["cat_lut"][int(keep[i])]]
        self._build_routing()

    def __setstate__(self, state):
        # a tree pickled by an earlier bankml lacks the fractional-missing and cost fields:
        # it routes as it always did (unseen values with missing ones, no "is missing" branch)
        self.__dict__.update(state)
        if "unseen_child" not in state:
            self.unseen_child = self.missing_child
        if "explicit_missing" not in state:
            self.explicit_missing = np.zeros(self.node_count, dtype=bool)
        for name in ("missing_share", "source", "cost"):
            self.__dict__.setdefault(name, None)

    # ---- the contract used by bankml.rules -------------------------------------------------
    def is_leaf(self, node) -> bool:
        """True when ``node`` has no children."""
        return bool(self.feature[node] < 0)

    def leaf_class_index(self, node):
        """Index into ``classes_`` of the class the node predicts.

        The heaviest class (first of tied maxima), or with a ``cost`` matrix the class of
        least expected cost (see :func:`node_classes`). ``node`` may be an array of node
        ids, then an array of class indices is returned.
        """
        k = node_classes(self.value[node], getattr(self, "cost", None))
        return int(k) if np.ndim(k) == 0 else k

    def children(self, node) -> list[int]:
        """Child node ids of ``node`` (empty for a leaf)."""
        return list(range(int(self.first_child[node]), int(self.first_child[node] + self.n_children[node])))

    def branches(self, node) -> list[Branch]:
        """The outgoing branches of an internal node, one per child (see :class:`Branch`)."""
        if self.is_leaf(node):
            raise ValueError(f"node {node} is a leaf and has no branches")
        kids = self.children(node)
        miss = int(self.missing_child[node])
        if self.explicit_missing[node]:
            # its own branch "x is missing" (op "in" an empty set, includes_missing)
            kids = kids[:-1]
            tail = [Branch(miss, "in", frozenset(), True)]
            miss = -1
        else:
            tail = []
        if self.categories[self.feature[node]] is None:
            t = float(self.threshold[node])
            return [Branch(kids[0], "<=", t, miss == kids[0]), Branch(kids[1], ">", t, miss == kids[1])] + tail
        cats = self.categories[self.feature[node]]
        lut = self._cat_child[int(node)]
        unseen = int(self.unseen_child[node])
        seen = {c: frozenset(cats[v] for v in np.flatnonzero(lut == c)) for c in kids}
        others = frozenset().union(*(seen[c] for c in kids if c != unseen))
        return [Branch(c, "not in", others, c == miss) if c == unseen else Branch(c, "in", seen[c], c == miss)
                for c in kids] + tail

    # ---- summaries ---------------------------------------------------------------------------
    @property
    def max_depth(self) -> int:
        return int(self.depth.max())

    @property
    def n_leaves(self) -> int:
        return int((self.feature < 0).sum())

    # ---- routing -----------------------------------------------------------------------------
    def _build_routing(self):
        """One lookup table for all nodes: child = table[offset[node] + code of column col[node]].

        Numeric features are coded against the sorted thresholds the tree uses
        (code j means ``U[j-1] < x <= U[j]``, ``len(U)`` beyond the last, ``len(U)+1``
        missing); categorical features by training value (``k`` unseen, ``k+1`` missing).
        A leaf reads an all-zero extra column and maps to itself, so whole-array steps
        need no bookkeeping of which rows are done.
        """
        internal = np.flatnonzero(self.feature >= 0)
        self.used_features = np.unique(self.feature[internal])
        self.used_thresholds = {}
        n_used = self.used_features.size
        self.code_col = np.full(self.node_count, n_used, dtype=np.intp)  # times n_rows at route time
        self.offset = np.zeros(self.node_count, dtype=np.intp)
        parts = []
        pos = 0
        max_width = 1
        for r, f in enumerate(self.used_features):
            nodes = internal[self.feature[internal] == f]
            if self.categories[f] is None:
                U = np.unique(self.threshold[nodes])
                self.used_thresholds[int(f)] = U
                j = np.searchsorted(U, self.threshold[nodes])
                width = U.size + 2
                codes = np.arange(width)[None, :]
                left = self.first_child[nodes][:, None]
                tab = np.where(codes <= j[:, None], left, left + 1)
                tab[:, -1] = self.missing_child[nodes]
            else:
                k = len(self.categories[f])
                width = k + 2
                tab = np.empty((nodes.size, width), dtype=np.int64)
                for i, node in enumerate(nodes):
                    tab[i, :k] = self._cat_child[int(node)]
                tab[:, k] = self.unseen_child[nodes]       # unseen: the majority child
                tab[:, k + 1] = self.missing_child[nodes]  # missing: the majority child
            max_width = max(max_width, width)
            self.code_col[nodes] = r
            self.offset[nodes] = pos + np.arange(nodes.size) * width
            pos += nodes.size * width
            parts.append(tab.ravel())
        leaves = np.flatnonzero(self.feature < 0)
        self.offset[leaves] = pos + np.arange(leaves.size)
        parts.append(leaves)
        self.table = np.concatenate(parts).astype(np.intp)
        self.code_dtype = np.uint8 if max_width <= 256 else (np.uint16 if max_width <= 65536 else np.int32)
        self.is_leaf_ = self.feature < 0

    def route(self, codes, return_path=False):
        """Leaf id per row; ``codes`` is (n_used_features + 1, n_rows), last row zero.

        With ``return_path`` also a CSR indicator matrix of the nodes each row visits.
        """
        stride, n_rows = codes.shape
        flat = codes.ravel()
        # np.take on int32 indices into reused buffers: half the memory traffic of intp
        # fancy indexing and no fresh pages per level (mode="clip": indices are in range by
        # construction, and "raise" would buffer every output)
        small = stride * n_rows < 2**31 and self.table.size < 2**31
        it = np.int32 if small else np.intp
        base = np.arange(n_rows, dtype=it)
        col = (self.code_col * n_rows).astype(it)
        offset = self.offset.astype(it)
        table = self.table.astype(it)
        leaf = self.is_leaf_
        node = np.zeros(n_rows, dtype=it)
        if return_path:
            path_rows, path_nodes = [np.arange(n_rows)], [node.astype(np.intp)]
            active = np.arange(n_rows, dtype=it) if not leaf[0] else np.zeros(0, dtype=it)
        else:
            active = None
            tmp = np.empty(n_rows, dtype=it)
            c = np.empty(n_rows, dtype=flat.dtype)
            done = np.empty(n_rows, dtype=bool)
        first_leaf_depth = int(self.depth[leaf].min())
        for level in range(self.max_depth):
            if active is None:
                # whole-array steps while most rows are still travelling
                np.take(col, node, out=tmp, mode="clip")
                np.add(tmp, base, out=tmp)
                np.take(flat, tmp, out=c, mode="clip")
                np.take(offset, node, out=tmp, mode="clip")
                np.add(tmp, c, out=tmp, casting="unsafe")
                np.take(table, tmp, out=node, mode="clip")
                if level + 1 < first_leaf_depth:
                    continue
                np.take(leaf, node, out=done, mode="clip")
                n_done = np.count_nonzero(done)
                if n_done == n_rows:
                    break
                if n_done * 2 > n_rows:
                    active = np.flatnonzero(~done).astype(it)
                continue
            if active.size == 0:
                break
            nd = np.take(node, active)
            child = np.take(table, np.take(offset, nd) + np.take(flat, active + np.take(col, nd)))
            node[active] = child
            if return_path:
                path_rows.append(active.astype(np.intp))
                path_nodes.append(child.astype(np.intp))
            active = active[~np.take(leaf, child)]
        node = node.astype(np.intp, copy=False)
        if not return_path:
            return node
        rows = np.concatenate(path_rows)
        cols = np.concatenate(path_nodes)
        order = np.lexsort((cols, rows))
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        path = sparse.csr_matrix((np.ones(rows.size, dtype=np.int64), cols[order], indptr),
                                 shape=(n_rows, self.node_count))
        return node, path
