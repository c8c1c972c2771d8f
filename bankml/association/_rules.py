"""Association rules A => C from frequent itemsets, with mlxtend's metrics, and what to do with them.

Mining, pruning, re-measuring on a hold-out month and the branch call list
(:func:`recommend`). :func:`bankml.rules.rules_from_association` turns the rules into the
RuleSet every bankml model exports through (data flows association -> rules, never back).
"""

from __future__ import annotations

import numbers
from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import DataError, InvalidParameterError, ResourceLimitError
from ..schema import ID
from ._itemsets import DEFAULT_MAX_ITEMSETS, SPARK_ENGINE, _mine, _prepare, _Table, _universe
from ._transactions import ITEMS_ATTR, _as_tx

__all__ = ["mine_rules", "prune_redundant", "evaluate_rules", "recommend", "METRICS"]

METRICS = ("antecedent support", "consequent support", "support", "confidence", "lift",
           "leverage", "conviction")
_RULE_COLUMNS = ["antecedents", "consequents", *METRICS]
# Customers per block in the recommender and hold-out counts: keeps the (customers x rules)
# matrices near 100 MB whatever the table size.
_BLOCK_CELLS = 25_000_000
# candidate rules allowed per allowed itemset before mine_rules refuses (memory guard)
_RULES_PER_ITEMSET = 10


def _metrics(sAC, sA, sC, n) -> dict:
    """mlxtend 0.25 ``association_rules`` formulas, operation for operation.

    mlxtend computes confidence as ``sAC * (n - 0) / (sA * (n - 0) - 0)`` (its null-value
    correction terms are zero for complete data); repeating the same float operations
    gives bit-identical values, so every engine's rules compare exactly.
    """
    sAC, sA, sC = (np.asarray(a, dtype=float) for a in (sAC, sA, sC))
    zero = np.zeros_like(sAC)
    with np.errstate(divide="ignore", invalid="ignore"):
        confidence = sAC * (n - zero) / (sA * (n - zero) - zero)
        lift = confidence / sC
        conviction = np.full(confidence.shape, np.inf)
        below = confidence < 1.0
        conviction[below] = (1.0 - sC[below]) / (1.0 - confidence[below])
    conviction[np.isnan(confidence)] = np.nan
    return {"antecedent support": sA, "consequent support": sC, "support": sAC,
            "confidence": confidence, "lift": lift, "leverage": sAC - sA * sC,
            "conviction": conviction}


def _check_fraction(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise InvalidParameterError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _allowed(universe, names, what) -> set | None:
    """The item labels a rule side may use (None: all); an unknown label is an error."""
    if names is None:
        return None
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise DataError(f"mine_rules: {what}= is empty; give item labels or None for any item")
    known = set(universe)
    unknown = [x for x in names if x not in known]
    if unknown:
        shown = sorted(map(str, known))[:20]
        raise DataError(f"mine_rules: {what}=: item(s) {unknown} never appear in the transactions; "
                        f"known items: {shown}{' ...' if len(known) > 20 else ''}")
    return set(names)


def _mask(table: _Table, names) -> np.ndarray | None:
    if names is None:
        return None
    return np.fromiter((item in names for item in table.items), dtype=bool, count=len(table.items))


def _rules_fast(table: _Table, min_confidence, ante_ok, cons_ok):
    """Every split of every frequent itemset into A => C, vectorised over itemsets of a size."""
    n = table.n
    support = table.counts / n
    out_a, out_c, out_ac = [], [], []
    for k, P in table.pos.items():
        if k < 2:
            continue
        rows = np.arange(table.start[k], table.start[k] + len(P))
        for r in range(k - 1, 0, -1):
            # all r-item antecedents of all size-k itemsets at once: (itemset, split) pairs
            ante_cols = np.array(list(combinations(range(k), r)), dtype=np.intp)
            cons_cols = np.array([[j for j in range(k) if j not in c] for c in ante_cols],
                                 dtype=np.intp)
            A = P[:, ante_cols].reshape(-1, r)
            C = P[:, cons_cols].reshape(-1, k - r)
            T = np.repeat(rows, len(ante_cols))
            if ante_ok is not None or cons_ok is not None:
                keep = np.ones(len(T), dtype=bool)
                if ante_ok is not None:
                    keep &= ante_ok[A].all(axis=1)
                if cons_ok is not None:
                    keep &= cons_ok[C].all(axis=1)
                A, C, T = A[keep], C[keep], T[keep]
            if not len(T):
                continue
            ai = table._find(A)
            sAC, sA = support[T], support[ai]
            zero = np.zeros_like(sAC)
            confidence = sAC * (n - zero) / (sA * (n - zero) - zero)
            keep = confidence >= min_confidence
            out_a.append(ai[keep])
            out_c.append(table._find(C[keep]))  # only the consequents of kept rules
            out_ac.append(T[keep])
    if not out_a:
        return (np.zeros(0, dtype=np.int64),) * 3, None
    ai, ci, ti = (np.concatenate(x) for x in (out_a, out_c, out_ac))
    return (ai, ci, ti), _metrics(support[ti], support[ai], support[ci], n)


def _rules_mlxtend(table: _Table, frame: pd.DataFrame, min_confidence):
    from mlxtend.frequent_patterns import association_rules

    empty = (np.zeros(0, dtype=np.int64),) * 3, None
    if (table.sizes() < 2).all():
        return empty
    found = association_rules(frame, num_itemsets=table.n, metric="confidence",
                              min_threshold=min_confidence, return_metrics=list(METRICS))
    if not len(found):
        return empty
    lookup = dict(zip(frame["itemsets"].to_numpy(), range(len(frame))))
    ai = np.fromiter(map(lookup.__getitem__, found["antecedents"]), dtype=np.int64, count=len(found))
    ci = np.fromiter(map(lookup.__getitem__, found["consequents"]), dtype=np.int64, count=len(found))
    ti = np.zeros(0, dtype=np.int64)  # unused
    return (ai, ci, ti), {m: found[m].to_numpy(dtype=float) for m in METRICS}


def _guard_rules(table: _Table, max_itemsets) -> None:
    """Refuse before generating when the itemsets split into too many candidate rules.

    An itemset of size k gives 2**k - 2 candidate rules; a few long itemsets can mean
    far more rules than itemsets.
    """
    if max_itemsets is None:
        return
    candidates = sum(len(P) * (2 ** k - 2) for k, P in table.pos.items())
    limit = _RULES_PER_ITEMSET * max_itemsets
    if candidates > limit:
        longest = max(table.pos)
        raise ResourceLimitError(
            f"the {len(table.counts):,} frequent itemsets (up to {longest} items) split into "
            f"{candidates:,} candidate rules, more than {limit:,} ({_RULES_PER_ITEMSET} x "
            f"max_itemsets); try max_len={max(2, longest - 2)} or a higher min_support")


def _empty_rules(n) -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object if c in ("antecedents", "consequents") else float)
                       for c in _RULE_COLUMNS})
    df.attrs["n_transactions"] = n
    return df


def mine_rules(transactions, min_support, min_confidence, min_lift=None, antecedents=None,
               consequents=None, max_len=None, engine="fpgrowth",
               max_itemsets=DEFAULT_MAX_ITEMSETS) -> pd.DataFrame:
    """Association rules A => C among the frequent itemsets, with mlxtend's metrics.

    Parameters
    ----------
    transactions : pandas.DataFrame or list of baskets (or a Spark DataFrame of baskets)
        As for :func:`frequent_itemsets`.
    min_support : float in (0, 1]
        Minimum support of A and C together.
    min_confidence : float in [0, 1]
        Minimum P(C | A).
    min_lift : float, optional
        Minimum lift (> 1 means A makes C more likely than average).
    antecedents, consequents : list of str, optional
        Keep only rules whose antecedent (consequent) items are all among these labels;
        ``consequents=["has_wm_account"]`` gives the rules that predict a WM account.
        An unknown label is an error.
    max_len : int, optional
        Largest itemset size (|A| + |C|).
    engine : {"fpgrowth", "apriori", "fast", "spark"}
        Itemset engine. With mlxtend's engines the rules come from
        ``mlxtend.frequent_patterns.association_rules``; ``"fast"`` and ``"spark"`` derive
        the same rules and values from the pyfim / Spark FPGrowth itemsets with the same
        formulas, vectorised on the driver. ``"spark"`` also takes a Spark DataFrame of
        baskets (see :func:`frequent_itemsets`).
    max_itemsets : int or None
        Memory guard, see :func:`frequent_itemsets`.

    Returns
    -------
    pandas.DataFrame
        ``antecedents``, ``consequents`` (frozensets of item labels), ``antecedent
        support``, ``consequent support``, ``support``, ``confidence``, ``lift``,
        ``leverage``, ``conviction`` exactly as mlxtend computes them; sorted by confidence,
        lift and support (descending), ties in itemset order. ``attrs["n_transactions"]``
        is the number of baskets; ``attrs["bankml.items"]`` carries on what each item means
        when the transactions came from :func:`to_transactions` (read by
        :func:`bankml.rules.rules_from_association`).

    Examples
    --------
    >>> baskets = [["has_fund", "has_wm_account"], ["has_fund", "has_wm_account"],
    ...            ["has_fund"], ["has_gold"], ["has_gold", "has_wm_account"]]
    >>> rules = mine_rules(baskets, min_support=0.3, min_confidence=0.6,
    ...                    consequents=["has_wm_account"])
    >>> [(sorted(a), sorted(c), round(conf, 3)) for a, c, conf in
    ...  zip(rules["antecedents"], rules["consequents"], rules["confidence"])]
    [(['has_fund'], ['has_wm_account'], 0.667)]
    """
    src = _prepare(transactions, engine, "mine_rules")
    min_confidence = _check_fraction(min_confidence, "min_confidence")
    if min_lift is not None and (isinstance(min_lift, bool) or not isinstance(min_lift, numbers.Real)
                                 or not min_lift >= 0):
        raise InvalidParameterError(f"min_lift must be a non-negative number or None, got {min_lift!r}")
    if antecedents is not None or consequents is not None:
        universe = _universe(src)
        ante_names = _allowed(universe, antecedents, "antecedents")
        cons_names = _allowed(universe, consequents, "consequents")
    else:
        ante_names = cons_names = None
    table = _mine(src, min_support, max_len, engine, max_itemsets, "mine_rules")
    _guard_rules(table, max_itemsets)
    ante_ok, cons_ok = _mask(table, ante_names), _mask(table, cons_names)
    if engine in ("fast", SPARK_ENGINE):
        (ai, ci, _), values = _rules_fast(table, min_confidence, ante_ok, cons_ok)
    else:
        frame = pd.DataFrame({"support": table.counts / table.n, "itemsets": table.frozensets()})
        (ai, ci, _), values = _rules_mlxtend(table, frame, min_confidence)
    meaning = transactions.attrs.get(ITEMS_ATTR) if isinstance(transactions, pd.DataFrame) else None
    if values is None or not len(ai):
        return _with_meaning(_empty_rules(table.n), meaning)
    keep = np.ones(len(ai), dtype=bool)
    if min_lift is not None:
        keep &= values["lift"] >= min_lift
    if ante_ok is not None or cons_ok is not None:
        # an itemset is allowed on a side when every item of it is
        for mask, idx in ((ante_ok, ai), (cons_ok, ci)):
            if mask is not None:
                ok = np.concatenate([mask[P].all(axis=1) for P in table.pos.values()])
                keep &= ok[idx]
    ai, ci = ai[keep], ci[keep]
    values = {m: v[keep] for m, v in values.items()}
    order = np.lexsort((ci, ai, -values["support"], -values["lift"], -values["confidence"]))
    used, at = np.unique(np.concatenate([ai, ci]), return_inverse=True)
    labels = table.frozensets_of(used)  # only the itemsets that appear in a rule
    ai, ci = at[:len(ai)], at[len(ai):]
    out = pd.DataFrame({"antecedents": labels[ai[order]], "consequents": labels[ci[order]],
                        **{m: values[m][order] for m in METRICS}}, columns=_RULE_COLUMNS)
    out.attrs["n_transactions"] = table.n
    return _with_meaning(out, meaning)


def _with_meaning(rules: pd.DataFrame, meaning) -> pd.DataFrame:
    if meaning is not None:
        rules.attrs[ITEMS_ATTR] = meaning
    return rules


# -- working with a rules table ------------------------------------------------------------

def _check_rules(rules, what) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(rules, pd.DataFrame):
        raise DataError(f"{what}: expected the rules DataFrame from mine_rules, got "
                        f"{type(rules).__name__}")
    missing = [c for c in ("antecedents", "consequents") if c not in rules.columns]
    if missing:
        raise DataError(f"{what}: the rules table lacks columns {missing}; pass the frame "
                        "mine_rules (or mlxtend's association_rules) returned")
    out = []
    for side in ("antecedents", "consequents"):
        col = rules[side].to_numpy()
        bad = [i for i, v in enumerate(col) if not isinstance(v, (frozenset, set)) or not v]
        if bad:
            raise DataError(f"{what}: {side} must be non-empty frozensets of item labels; "
                            f"{len(bad)} rule(s) are not, first at position {bad[:5]}")
        out.append(np.array([frozenset(v) for v in col], dtype=object) if len(col)
                   else np.zeros(0, dtype=object))
    return out[0], out[1]


def _onehot(sets, vocab: dict) -> np.ndarray:
    """(len(sets), len(vocab)) float32 indicator matrix of item sets."""
    M = np.zeros((len(sets), len(vocab)), dtype=np.float32)
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    cols = [vocab[i] for s in sets for i in s]
    M[rows, cols] = 1.0
    return M


def prune_redundant(rules) -> pd.DataFrame:
    """Drop each rule that a more general rule with the same consequent does at least as well.

    Rule ``A => C`` is redundant when the table also holds ``A' => C`` with ``A'`` a proper
    subset of ``A`` and confidence at least as high: the extra conditions add nothing.

    Parameters
    ----------
    rules : pandas.DataFrame
        From :func:`mine_rules`.

    Returns
    -------
    pandas.DataFrame
        The rules kept, in their order, with their index.

    Examples
    --------
    >>> baskets = [["a", "b", "c"]] * 3 + [["a", "c"]] * 2 + [["b"]]
    >>> rules = mine_rules(baskets, 0.3, 0.5, consequents=["c"])
    >>> sorted(map(sorted, rules["antecedents"]))
    [['a'], ['a', 'b'], ['b']]
    >>> sorted(map(sorted, prune_redundant(rules)["antecedents"]))
    [['a'], ['b']]
    """
    ante, cons = _check_rules(rules, "prune_redundant")
    if "confidence" not in rules.columns:
        raise DataError("prune_redundant: the rules table needs a confidence column")
    if not len(rules):
        return rules.copy()
    conf = rules["confidence"].to_numpy(dtype=float)
    vocab = {item: j for j, item in enumerate(dict.fromkeys(i for s in ante for i in s))}
    A = _onehot(ante, vocab)
    size = A.sum(axis=1)
    group, _ = pd.factorize(pd.Series(cons, dtype=object))
    dominated = np.zeros(len(rules), dtype=bool)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        Ag, sg, cg = A[members], size[members], conf[members]
        step = max(1, _BLOCK_CELLS // max(len(members), 1))
        for lo in range(0, len(members), step):
            blk = slice(lo, lo + step)
            # items of rule j missing from rule i: zero means A_j is a subset of A_i
            outside = (1.0 - Ag[blk]) @ Ag.T
            general = (outside == 0) & (sg[None, :] < sg[blk, None]) & (cg[None, :] >= cg[blk, None])
            dominated[members[blk]] = general.any(axis=1)
    return rules[~dominated].copy()


def _count(tx, sets) -> np.ndarray:
    """How many baskets of ``tx`` hold every item of each set (blocked matrix product)."""
    vocab = {item: j for j, item in enumerate(tx.items)}
    S = _onehot(sets, vocab).T
    size = S.sum(axis=0)
    Xf = tx.X.astype(np.float32)
    counts = np.zeros(len(sets), dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(len(sets), 1))
    for lo in range(0, tx.n, step):
        counts += ((Xf[lo:lo + step] @ S) == size).sum(axis=0)
    return counts


def evaluate_rules(rules, transactions) -> pd.DataFrame:
    """Re-measure rules on other baskets (next month, a hold-out set) with mlxtend's formulas.

    Parameters
    ----------
    rules : pandas.DataFrame
        From :func:`mine_rules`.
    transactions : pandas.DataFrame or list of baskets
        Built like the mining data (same :func:`to_transactions` call); a frame may carry
        other columns. Every item the rules use must be a column.

    Returns
    -------
    pandas.DataFrame
        Same index and rule columns, with every metric recomputed on ``transactions``
        (NaN where the antecedent never occurs), plus ``mined confidence`` and ``mined
        lift`` from ``rules`` when present, so unstable rules can be spotted and dropped.

    Examples
    --------
    >>> train = [["fund", "wm"]] * 3 + [["fund"], ["gold"]]
    >>> test = [["fund", "wm"], ["fund"], ["fund"], ["gold", "wm"]]
    >>> rules = mine_rules(train, 0.3, 0.5, consequents=["wm"])
    >>> ev = evaluate_rules(rules, test)
    >>> float(ev["mined confidence"].iloc[0]), float(ev["confidence"].iloc[0])
    (0.75, 0.3333333333333333)
    """
    ante, cons = _check_rules(rules, "evaluate_rules")
    needed = list(dict.fromkeys(i for s in np.concatenate([ante, cons]) for i in s))
    tx = _as_tx(transactions, needed=needed or None, what="evaluate_rules")
    if tx.n == 0:
        raise DataError("evaluate_rules: no baskets to evaluate on")
    unions = np.array([a | c for a, c in zip(ante, cons)], dtype=object)
    codes, distinct = pd.factorize(pd.Series(np.concatenate([ante, cons, unions]), dtype=object))
    counts = _count(tx, list(distinct)) if len(distinct) else np.zeros(0, dtype=np.int64)
    support = (counts / tx.n)[codes]
    r = len(rules)
    values = _metrics(support[2 * r:], support[:r], support[r:2 * r], tx.n)
    out = pd.DataFrame({"antecedents": ante, "consequents": cons, **values},
                       columns=_RULE_COLUMNS, index=rules.index)
    for m in ("confidence", "lift"):
        if m in rules.columns:
            out[f"mined {m}"] = rules[m].to_numpy(dtype=float)
    out.attrs["n_transactions"] = tx.n
    return _with_meaning(out, rules.attrs.get(ITEMS_ATTR))


def _item_text(item, lang) -> str:
    from ..labels import column_label, value_label

    if isinstance(item, str) and "=" in item:
        col, value = item.split("=", 1)
        return f"{column_label(col, lang)}={value_label(col, value, lang)}"
    return column_label(item, lang)


def _rule_text(a, c, lang) -> str:
    from ..labels import term

    join = f" {term('and', lang)} "
    return (f"{join.join(_item_text(i, lang) for i in sorted(a, key=str))} => "
            f"{join.join(_item_text(i, lang) for i in sorted(c, key=str))}")


def recommend(rules, customers, k=3, lang="en") -> pd.DataFrame:
    """The branch call list: per customer, the top-k products they lack whose rules fire.

    A rule fires for a customer who holds every antecedent item and none of the consequent
    items; each consequent item is then a candidate product, scored by its best firing
    rule (highest confidence, then lift, then the rules table order); products that share
    their best rule come in name order.

    Parameters
    ----------
    rules : pandas.DataFrame
        From :func:`mine_rules` (e.g. ``consequents=`` the products to sell).
    customers : pandas.DataFrame
        One row per customer with a column for every item the rules use: the
        :func:`to_transactions` frame, or the customer table itself when the rules use only
        holding flags. A ``customer_id`` column, if present, is carried into the output.
    k : int, default 3
        Products per customer at most.
    lang : {"en", "zh"}
        Language of the ``rule`` text.

    Returns
    -------
    pandas.DataFrame
        One row per (customer, product), best first: ``customer`` (the row's index label),
        ``customer_id`` (when given), ``rank`` (1..k), ``product``, ``confidence``, ``lift``,
        ``antecedents``, ``rule`` (readable text). Customers with no firing rule are absent.

    Examples
    --------
    >>> import pandas as pd
    >>> train = [["has_fund", "has_wm_account"]] * 3 + [["has_fund"], ["has_gold"]]
    >>> rules = mine_rules(train, 0.3, 0.5)
    >>> calls = recommend(rules, pd.DataFrame({"has_fund": [1, 1, 0], "has_gold": [0, 1, 1],
    ...                                        "has_wm_account": [0, 1, 0]}))
    >>> calls[["customer", "rank", "product", "confidence"]]
       customer  rank         product  confidence
    0         0     1  has_wm_account        0.75
    >>> print(calls["rule"].iloc[0])
    holds funds => holds WM account
    """
    from ..labels import check_lang

    check_lang(lang)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidParameterError(f"recommend: k must be a positive integer, got {k!r}")
    ante, cons = _check_rules(rules, "recommend")
    for m in ("confidence", "lift"):
        if m not in rules.columns:
            raise DataError(f"recommend: the rules table needs a {m} column")
    columns = ["customer", "rank", "product", "confidence", "lift", "antecedents", "rule"]
    has_id = isinstance(customers, pd.DataFrame) and ID in customers.columns
    if has_id:
        columns.insert(1, ID)
    needed = list(dict.fromkeys(i for s in np.concatenate([ante, cons]) for i in s))
    tx = _as_tx(customers, needed=needed or None, what="recommend")
    if not len(rules):
        return pd.DataFrame(columns=columns)
    conf = rules["confidence"].to_numpy(dtype=float)
    lift = rules["lift"].to_numpy(dtype=float)
    priority = np.lexsort((np.arange(len(rules)), -lift, -conf))  # best rule first
    ante, cons, conf, lift = ante[priority], cons[priority], conf[priority], lift[priority]
    vocab = {item: j for j, item in enumerate(tx.items)}
    A, C = _onehot(ante, vocab), _onehot(cons, vocab)
    a_size = A.sum(axis=1)
    # sorted: products tied on one rule (a multi-item consequent) come by name
    products = sorted({i for s in cons for i in s}, key=str)
    carries = [np.flatnonzero(C[:, vocab[p]] > 0) for p in products]
    none = len(ante)
    Xf = tx.X.astype(np.float32)
    step = max(1, _BLOCK_CELLS // max(len(ante), 1))
    picks_c, picks_p, picks_r = [], [], []
    for lo in range(0, tx.n, step):
        Xb = Xf[lo:lo + step]
        fires = ((Xb @ A.T) == a_size) & ((Xb @ C.T) == 0)
        best = np.full((len(Xb), len(products)), none, dtype=np.int64)
        for p, rule_rows in enumerate(carries):
            F = fires[:, rule_rows]
            hit = F.any(axis=1)
            best[hit, p] = rule_rows[F[hit].argmax(axis=1)]
        order = np.argsort(best, axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(best, order, axis=1)
        rows, slot = np.nonzero(chosen < none)
        picks_c.append(rows + lo)
        picks_p.append(order[rows, slot])
        picks_r.append(chosen[rows, slot])
    cust, prod, rule = (np.concatenate(x) for x in (picks_c, picks_p, picks_r))
    rank = np.ones(len(cust), dtype=np.int64)
    if len(cust):  # rank within customer: rows come grouped by customer, best first
        new = np.r_[True, cust[1:] != cust[:-1]]
        start = np.maximum.accumulate(np.where(new, np.arange(len(cust)), 0))
        rank = np.arange(len(cust)) - start + 1
    texts = np.array([_rule_text(a, c, lang) for a, c in zip(ante, cons)], dtype=object)
    out = pd.DataFrame({
        "customer": tx.index[cust] if len(cust) else pd.Index([]),
        "rank": rank,
        "product": np.asarray(products, dtype=object)[prod] if len(cust) else [],
        "confidence": conf[rule], "lift": lift[rule],
        "antecedents": ante[rule], "rule": texts[rule] if len(cust) else []})
    if has_id:
        out.insert(1, ID, customers[ID].to_numpy()[cust])
    return out[columns]
