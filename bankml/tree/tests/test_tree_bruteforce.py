"""Every split re-derived from the raw rows by exhaustive search, independently of the builder.

Node membership comes from evaluating ``tree_.branches`` on the raw column values (not from
``apply`` / ``decision_path``); at every node all admissible splits of every feature are
enumerated in plain Python (every cut between adjacent distinct values, every multiway
split on the values present, missing values joining the heavier child) and scored with a
textbook entropy. The tree's split must be the best one, and a leaf that could still be
split must have no admissible split.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.tree import InfoGainTreeClassifier


def _H(weights_by_class):
    tot = sum(weights_by_class.values())
    return -sum(v / tot * math.log2(v / tot) for v in weights_by_class.values() if v > 0) if tot > 0 else 0.0


def _counts(rows, y, w):
    out = {}
    for i in rows:
        out[y[i]] = out.get(y[i], 0.0) + w[i]
    return out


def _missing(v):
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _takes(br, v):
    if _missing(v):
        return br.includes_missing
    if br.op == "<=":
        return v <= br.value
    if br.op == ">":
        return v > br.value
    if br.op == "in":
        return v in br.value
    return v not in br.value


def _candidates(rows, col, is_cat, order, y, w, msl):
    """(gain, split_info) of every admissible split of one feature at a node with ``rows``."""
    known = [i for i in rows if not _missing(col[i])]
    miss = [i for i in rows if _missing(col[i])]
    parent = _H(_counts(rows, y, w))
    W = sum(w[i] for i in rows)
    if is_cat:
        groups = {}
        for i in known:
            groups.setdefault(col[i], []).append(i)
        if len(groups) < 2:
            return []
        # missing joins the heaviest value (first in category order on a tie)
        heavy = max(sorted(groups, key=order.index), key=lambda v: sum(w[i] for i in groups[v]))
        groups[heavy] = groups[heavy] + miss
        parts = list(groups.values())
        splits = [parts]
    else:
        vals = sorted({col[i] for i in known})
        splits = []
        for a, b in zip(vals[:-1], vals[1:]):
            left = [i for i in known if col[i] <= a]
            right = [i for i in known if col[i] >= b]
            if sum(w[i] for i in left) >= sum(w[i] for i in right):
                left = left + miss
            else:
                right = right + miss
            splits.append([left, right])
    out = []
    for parts in splits:
        if any(len(p) < msl for p in parts):
            continue
        ws = [sum(w[i] for i in p) for p in parts]
        gain = parent - sum(wp / W * _H(_counts(p, y, w)) for p, wp in zip(parts, ws))
        split_info = -sum(wp / W * math.log2(wp / W) for wp in ws if wp > 0)
        out.append((gain, split_info))
    return out


def _check_exhaustive(model, X, y, w=None, min_samples_leaf=1, max_depth=None, criterion="gain"):
    t = model.tree_
    n = len(y)
    w = [1.0] * n if w is None else [float(v) for v in w]
    y = list(y)
    cols = [X.iloc[:, j].astype(object).where(X.iloc[:, j].notna(), None).tolist() for j in range(X.shape[1])]
    orders = [list(t.categories[j]) if t.categories[j] is not None else None for j in range(X.shape[1])]
    members = {0: list(range(n))}
    stack = [0]
    while stack:
        node = stack.pop()
        rows = members[node]
        cnt = _counts(rows, y, w)
        np.testing.assert_allclose(t.value[node], [cnt.get(c, 0.0) for c in model.classes_], atol=1e-9)
        per_feature = []
        for j in range(X.shape[1]):
            cands = _candidates(rows, cols[j], model.categorical_features_[j], orders[j], y, w, min_samples_leaf)
            per_feature.append(max(cands, key=lambda c: c[0]) if cands else None)
        valid = [c for c in per_feature if c is not None]
        impure = sum(v > 0 for v in cnt.values()) > 1
        can_split = impure and len(rows) >= 2 * min_samples_leaf and (max_depth is None or t.depth[node] < max_depth)
        if t.is_leaf(node):
            assert not (can_split and valid), (node, valid)
            continue
        assert can_split and valid
        if criterion == "gain":
            best = max(c[0] for c in valid)
            assert t.gain[node] == pytest.approx(best, abs=1e-9)
        else:  # C4.5: best gain ratio among features with at least the average gain
            avg = sum(c[0] for c in valid) / len(valid)
            ratios = [c[0] / c[1] for c in valid if c[0] >= avg - 1e-12 and c[1] > 0]
            assert t.gain[node] / t.split_info[node] == pytest.approx(max(ratios), abs=1e-9)
            assert t.gain[node] >= avg - 1e-9
        f = t.feature[node]
        gain_here = [c for c in [per_feature[f]] if c is not None]
        assert gain_here and t.gain[node] == pytest.approx(gain_here[0][0], abs=1e-9)
        for br in t.branches(node):
            members[br.child] = [i for i in rows if _takes(br, cols[f][i])]
            stack.append(br.child)
        assert sum(len(members[c]) for c in t.children(node)) == len(rows)


def _frame(rows):
    df = pd.DataFrame(rows, columns=["a", "b", "c", "y", "w"])
    X = pd.DataFrame({
        "a": df["a"].astype(float).where(df["a"] != 9),  # 9 encodes a missing value
        "b": pd.Categorical(df["b"].map({0: "p", 1: "q", 2: "r", 3: None}), categories=["p", "q", "r"]),
        "c": pd.array(df["c"].map(lambda v: f"v{v}" if v < 3 else None), dtype="str"),
    })
    return X, df["y"].to_numpy(), df["w"].to_numpy(dtype=float)


_ROWS = st.lists(st.tuples(st.sampled_from([-2, -1, 0, 1, 2, 3, 9]), st.integers(0, 3), st.integers(0, 3),
                           st.integers(0, 2), st.integers(1, 3)), min_size=2, max_size=45)


@settings(max_examples=60, deadline=None)
@given(_ROWS, st.sampled_from(["gain", "gain_ratio"]), st.integers(1, 3), st.booleans())
def test_property_every_split_is_the_exhaustive_best(rows, criterion, msl, weighted):
    X, y, w = _frame(rows)
    sw = w if weighted else None
    model = InfoGainTreeClassifier(criterion=criterion, min_samples_leaf=msl).fit(X, y, sample_weight=sw)
    _check_exhaustive(model, X, y, sw, min_samples_leaf=msl, criterion=criterion)


@pytest.mark.parametrize("criterion", ["gain", "gain_ratio"])
def test_exhaustive_best_on_a_larger_mixed_table(criterion):
    rng = np.random.default_rng(21)
    n = 400
    X = pd.DataFrame({
        "age": rng.integers(20, 70, n).astype(float),
        "edu": pd.array(rng.choice(["college", "university", "secondary"], n), dtype="str"),
        "tier": pd.Categorical(rng.choice([1, 2, 3, 4], n)),
    })
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    X.loc[rng.random(n) < 0.1, "edu"] = None
    y = (rng.random(n) < np.where(X["edu"] == "university", 0.5, 0.15) + 0.004 * X["age"].fillna(40)).astype(int)
    w = rng.integers(1, 4, n).astype(float)
    model = InfoGainTreeClassifier(criterion=criterion, max_depth=4, min_samples_leaf=5).fit(X, y, sample_weight=w)
    assert model.tree_.node_count > 7
    _check_exhaustive(model, X, y, w, min_samples_leaf=5, max_depth=4, criterion=criterion)


def _c45_add_errs(N, e, cf):
    """C4.5's AddErrs (Quinlan's prune.c), scalar, with the deviate z = Phi^-1(1 - cf)."""
    from statistics import NormalDist
    coeff = NormalDist().inv_cdf(1 - cf) ** 2
    if e < 1e-6:
        return N * (1 - math.exp(math.log(cf) / N))
    if e < 0.9999:
        val0 = N * (1 - math.exp(math.log(cf) / N))
        return val0 + e * (_c45_add_errs(N, 1.0, cf) - val0)
    if e + 0.5 >= N:
        return 0.67 * (N - e)
    pr = (e + 0.5 + coeff / 2 + math.sqrt(coeff * ((e + 0.5) * (1 - (e + 0.5) / N) + coeff / 4))) / (N + coeff)
    return N * pr - e


@pytest.mark.parametrize("confidence", [0.05, 0.25, 0.5])
def test_pessimistic_pruning_matches_recursive_c45(confidence):
    rng = np.random.default_rng(5)
    n = 1500
    X = pd.DataFrame({"x": rng.normal(size=n), "c": pd.array(rng.choice(list("abcd"), n), dtype="str")})
    y = (rng.random(n) < 0.2 + 0.4 * (X["x"] > 0.5) + 0.2 * (X["c"] == "a")).astype(int)
    w = rng.integers(1, 3, n)
    full = InfoGainTreeClassifier(min_samples_leaf=3).fit(X, y, sample_weight=w).tree_
    pruned = InfoGainTreeClassifier(min_samples_leaf=3, pruning="pessimistic", confidence=confidence).fit(
        X, y, sample_weight=w).tree_

    kept = []

    def prune(node):
        """Estimated errors of the subtree after pruning it (C4.5, no subtree raising)."""
        kept.append(node)
        N = float(full.value[node].sum())
        e = N - float(full.value[node].max())
        leaf = e + _c45_add_errs(N, e, confidence)
        if full.is_leaf(node):
            return leaf
        start = len(kept)
        sub = sum(prune(c) for c in full.children(node))
        if leaf <= sub + 0.1:
            del kept[start:]  # the subtree becomes a leaf
            return leaf
        return sub

    prune(0)
    kept.sort()
    assert 1 < len(kept) < full.node_count
    assert pruned.node_count == len(kept)
    np.testing.assert_allclose(pruned.value, full.value[kept])
    np.testing.assert_array_equal(pruned.is_leaf_, [full.is_leaf(k) or k not in set(kept) or
                                                    not set(full.children(k)) <= set(kept) for k in kept])
