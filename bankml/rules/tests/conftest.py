"""Test helpers: random mixed-type data and a hand-built tree following the tree/rules contract.

The fake tree predicts row by row with plain Python, an oracle independent of bankml.rules.
"""

from __future__ import annotations

from typing import NamedTuple

import types

import numpy as np
import pandas as pd
import pytest

CATS = ["a", "O'Brien", 'say "hi"', "back\\slash", "北京", "x''y"]


def mixed_frame(n, seed, unseen=False, text_dtype=object):
    """Numeric (negative, NaN) and text (quotes, backslash, NaN) columns."""
    rng = np.random.default_rng(seed)
    cats = CATS + (["zzz", "new'one"] if unseen else [])
    df = pd.DataFrame({
        "id": np.arange(n),
        "amount": np.round(rng.normal(0, 5000, n), 2),
        "score": rng.integers(-20, 20, n).astype(float),
        "city": rng.choice(cats, n).astype(object),
        "tier": rng.choice(["t1", "t2", "t3"], n).astype(object),
    })
    df.loc[rng.random(n) < 0.08, "amount"] = np.nan
    df.loc[rng.random(n) < 0.05, "score"] = np.nan
    df.loc[rng.random(n) < 0.07, "city"] = None
    df.loc[rng.random(n) < 0.03, "tier"] = np.nan
    df["city"] = df["city"].astype(text_dtype)
    df["tier"] = df["tier"].astype("category")
    return df


class Branch(NamedTuple):
    child: int
    op: str
    value: object
    includes_missing: bool


class FakeTree:
    """A ``tree_`` with the contract's interface, built at random over ``X``."""

    def __init__(self, X, features, n_classes, seed, max_depth=5):
        self.rng = np.random.default_rng(seed)
        self.X = X
        self.features = features
        self.n_classes = n_classes
        self.feature, self._branches, self.value, self.n_node_samples = [], [], [], []
        self._grow(np.ones(len(X), dtype=bool), 0, max_depth)
        self.node_count = len(self.feature)

    def _new(self):
        self.feature.append(-1)
        self._branches.append([])
        self.value.append(None)
        self.n_node_samples.append(0)
        return len(self.feature) - 1

    def _grow(self, rows, depth, max_depth):
        node = self._new()
        self.n_node_samples[node] = int(rows.sum())
        self.value[node] = self.rng.integers(0, 50, self.n_classes).astype(float)
        if depth >= max_depth or rows.sum() < 20:
            return node
        f = int(self.rng.integers(len(self.features)))
        col = self.X[self.features[f]]
        present = col.notna().to_numpy()
        if not (rows & present).any():
            return node
        self.feature[node] = f
        if pd.api.types.is_numeric_dtype(col.dtype):
            thr = float(np.nanmedian(col.to_numpy(dtype=float)[rows & present]))
            left = rows & present & (col.to_numpy(dtype=float) <= thr)
            right = rows & present & ~(col.to_numpy(dtype=float) <= thr)
            miss_left = bool(self.rng.random() < 0.5)
            specs = [("<=", thr, left, miss_left), (">", thr, right, not miss_left)]
        else:
            seen = sorted(set(col[rows & present].astype(object)))
            self.rng.shuffle(seen)
            k = int(self.rng.integers(1, min(3, len(seen)) + 1))
            groups = [set(g) for g in np.array_split(np.array(seen, dtype=object), k) if len(g)]
            miss_at = int(self.rng.integers(len(groups)))
            other_at = int(self.rng.integers(len(groups)))
            specs = []
            vals = col.astype(object).to_numpy()
            for i, g in enumerate(groups):
                if i == other_at:
                    rest = frozenset().union(*[gg for j, gg in enumerate(groups) if j != i])
                    m = rows & present & np.array([v not in rest for v in vals])
                    specs.append(("not in", rest, m, i == miss_at))
                else:
                    m = rows & present & np.array([v in g for v in vals])
                    specs.append(("in", frozenset(g), m, i == miss_at))
        branches = []
        for op, value, m, miss in specs:
            child = self._grow(m | (rows & ~present & miss), depth + 1, max_depth)
            branches.append(Branch(child, op, value, miss))
        self._branches[node] = branches
        return node

    def is_leaf(self, node):
        return not self._branches[node]

    def branches(self, node):
        return list(self._branches[node])

    def leaf_class_index(self, node):
        return int(np.argmax(self.value[node]))

    def predict_rows(self, X):
        out = np.empty(len(X), dtype=np.int64)
        cols = [X[f].astype(object).to_numpy() for f in self.features]
        for i in range(len(X)):
            node = 0
            while not self.is_leaf(node):
                v = cols[self.feature[node]][i]
                missing = v is None or (isinstance(v, float) and v != v) or v is pd.NA
                for b in self._branches[node]:
                    if missing:
                        ok = b.includes_missing
                    elif b.op == "<=":
                        ok = v <= b.value
                    elif b.op == ">":
                        ok = v > b.value
                    elif b.op == "in":
                        ok = v in b.value
                    else:
                        ok = v not in b.value
                    if ok:
                        node = b.child
                        break
                else:
                    raise AssertionError("no branch taken: fake tree is not a partition")
            out[i] = self.leaf_class_index(node)
        return out


class FakeTreeModel:
    """A fitted 'model' exposing the contract: classes_, feature_names_in_, tree_."""

    def __init__(self, X, features, classes, seed, max_depth=5):
        self.classes_ = np.asarray(classes)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_features_in_ = len(features)
        self.tree_ = FakeTree(X, features, len(classes), seed, max_depth)

    def predict(self, X):
        return self.classes_[self.tree_.predict_rows(X)]


def flag_labels(*columns):
    """The built-in labels plus 0 = no / 1 = yes value labels for the given columns: how a
    labels file says a column is a yes/no flag (the rules never look at the bank schema)."""
    import copy

    from bankml._resources import load_builtin_yaml
    from bankml.labels import Labels

    data = copy.deepcopy(load_builtin_yaml("labels.yaml"))
    values = data.setdefault("values", {})
    for col in columns:
        values[col] = {0: {"zh": "否", "en": "no"}, 1: {"zh": "是", "en": "yes"}}
    return Labels(data)


@pytest.fixture
def fakes():
    """The helpers above, for tests (importlib mode cannot import this file by name)."""
    return types.SimpleNamespace(mixed_frame=mixed_frame, FakeTreeModel=FakeTreeModel,
                                 Branch=Branch, CATS=CATS, flag_labels=flag_labels)
