"""Benchmark of bankml.association against the libraries it wraps, measured in the same run.

100,000 baskets over 60 products at min_support 0.01 and 0.002: every engine must return
the same itemsets and supports; ``engine="fast"`` end to end (baskets to rules) is timed
against pyfim alone, the mlxtend engines against mlxtend called directly. Also prints the
top cross-sell rules for a WM account on ``make_customers``. ``--quick`` for development.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from bankml.association import (evaluate_rules, frequent_itemsets, mine_rules, prune_redundant,
                                to_transactions)
from bankml.association._itemsets import _min_count
from bankml.datasets import make_customers

from _common import best_of  # benchmarks/ is on sys.path when run as a script

MIN_CONFIDENCE = 0.5


def make_baskets(n, n_products=60, seed=0):
    """Co-occurring product baskets: customer segments times product families.

    Each customer belongs to one of 8 segments (its own sparse propensity per product) and
    favours one or two of 12 product families (cards, deposits, funds ...), which raises
    every product of the family together, its anchor product most: realistic clusters,
    confident sibling => anchor rules and a long tail.
    """
    rng = np.random.default_rng(seed)
    n_seg, n_fam = 8, 12
    family = np.arange(n_products) % n_fam
    seg_share = rng.dirichlet(np.full(n_seg, 2.0))
    base = rng.beta(0.5, 14.0, size=(n_seg, n_products))
    seg = rng.choice(n_seg, size=n, p=seg_share)
    fav = rng.integers(0, n_fam, size=(n, 2))
    second = rng.random(n) < 0.4
    # the first product of each family is its anchor (the account the others hang on)
    boost = np.where(np.arange(n_products) < n_fam, 0.75, rng.uniform(0.2, 0.5, size=n_products))
    P = base[seg]
    P += (family[None, :] == fav[:, :1]) * boost[None, :]
    P += ((family[None, :] == fav[:, 1:]) & second[:, None]) * boost[None, :] * 0.7
    X = rng.random((n, n_products)) < np.clip(P, 0.0, 0.95)
    names = [f"p{j:02d}_{['card', 'dep', 'fund', 'ins', 'loan', 'gold'][j % 6]}"
             for j in range(n_products)]
    return pd.DataFrame(X, columns=pd.Index(names, dtype=object))


def _fim_alone(baskets, min_count):
    import fim
    return fim.arules(baskets, supp=-min_count, conf=100 * MIN_CONFIDENCE, zmin=2, report="aXhcl",
                      mode="o")  # mode o: rule support = body and head, as mlxtend


def race(fa, fb, repeat):
    """Best-of-``repeat`` times of two calls, interleaved so machine load hits both alike."""
    ta = tb = np.inf
    a = b = None
    for _ in range(repeat):
        t = time.perf_counter()
        a = fa()
        ta = min(ta, time.perf_counter() - t)
        t = time.perf_counter()
        b = fb()
        tb = min(tb, time.perf_counter() - t)
    return ta, a, tb, b


def _keys(rules):
    return set(zip(rules["antecedents"], rules["consequents"]))


def run(n, supports, repeat_fast, repeat_mlxtend, mlxtend_apriori_ok):
    from mlxtend.frequent_patterns import apriori, association_rules, fpgrowth

    onehot = make_baskets(n)
    cols = np.asarray(onehot.columns, dtype=object)
    baskets = [cols[row].tolist() for row in onehot.to_numpy()]
    print(f"{n:,} baskets over {onehot.shape[1]} products, mean basket size "
          f"{onehot.sum(axis=1).mean():.2f}, min_confidence {MIN_CONFIDENCE}")
    ok = True
    for s in supports:
        print(f"\n== min_support {s} (count >= {_min_count(s, n)}) ==")
        tables, times = {}, {}
        for engine in ("fast", "fpgrowth", "apriori"):
            if engine == "apriori" and not mlxtend_apriori_ok(s):
                continue
            times[engine], tables[engine] = best_of(
                lambda: frequent_itemsets(onehot, s, engine=engine),
                repeat_fast if engine == "fast" else 1)
        same = all(t.equals(tables["fast"]) for t in tables.values())
        ok &= same
        print(f"itemsets: {len(tables['fast']):,}, identical (itemsets and float supports, "
              f"row for row) across {sorted(tables)}: {same}")
        for e, t in times.items():
            print(f"  frequent_itemsets engine={e:9s} {t:8.3f} s")

        # fast end to end (baskets -> rules) vs the C library alone on the same baskets
        t_ours, rules, t_fim, fim_rules = race(
            lambda: mine_rules(baskets, s, MIN_CONFIDENCE, engine="fast"),
            lambda: _fim_alone(baskets, _min_count(s, n)), repeat_fast)
        single = int((rules["consequents"].map(len) == 1).sum())
        print(f"fast end to end: mine_rules(baskets, engine='fast') {t_ours:.3f} s "
              f"({len(rules):,} rules, {single:,} with one consequent item) vs "
              f"fim.arules alone {t_fim:.3f} s ({len(fim_rules):,} one-consequent rules): "
              f"ratio {t_ours / t_fim:.2f} (target < 2)")
        ok &= single == len(fim_rules)

        # mlxtend engines via bankml vs mlxtend directly (same one-hot frame)
        for engine, miner in (("fpgrowth", fpgrowth), ("apriori", apriori)):
            if engine == "apriori" and not mlxtend_apriori_ok(s):
                print("  mlxtend apriori skipped at this support in --quick")
                continue

            def direct():
                fi = miner(onehot, min_support=s, use_colnames=True)
                return association_rules(fi, num_itemsets=n, metric="confidence",
                                         min_threshold=MIN_CONFIDENCE)

            t_via, ours, t_direct, theirs = race(
                lambda: mine_rules(onehot, s, MIN_CONFIDENCE, engine=engine), direct,
                repeat_mlxtend)
            same_rules = _keys(ours) == _keys(theirs) and ours.equals(rules)
            ok &= same_rules
            print(f"mlxtend {engine}: via bankml {t_via:.3f} s vs mlxtend directly "
                  f"{t_direct:.3f} s: overhead {100 * (t_via / t_direct - 1):+.1f}% (target < 10%), "
                  f"same rules as mlxtend and as engine='fast': {same_rules}")
    return ok


def wm_report(n):
    """Top cross-sell rules for a WM account, re-measured on the next "month" (seed 1)."""
    df = make_customers(n, seed=0)
    tx = to_transactions(df, bands={"age": [30, 55]})
    t = time.perf_counter()
    rules = mine_rules(tx, 0.01, 0.3, min_lift=1.0, consequents=["has_wm_account"], engine="fast")
    pruned = prune_redundant(rules)
    took = time.perf_counter() - t
    holdout = evaluate_rules(pruned, to_transactions(make_customers(n, seed=1),
                                                     bands={"age": [30, 55]}))
    print(f"\n== top cross-sell rules for a WM account, make_customers({n:,}) ==")
    print(f"{len(rules)} rules (holdings + age bands, min_support 0.01, confidence >= 0.3, "
          f"lift >= 1), {len(pruned)} after prune_redundant, {took:.2f} s; base rate "
          f"{df['has_wm_account'].mean():.3f}; largest confidence change on the hold-out "
          f"month {(holdout['confidence'] - holdout['mined confidence']).abs().max():.3f}")
    for title, top in (("best overall", pruned.head(8)),
                       ("best with at most two conditions",
                        pruned[pruned["antecedents"].map(len) <= 2].head(6))):
        print(title + ":")
        with pd.option_context("display.width", 200, "display.max_colwidth", 80):
            print(pd.DataFrame({
                "antecedents": [" + ".join(sorted(a)) for a in top["antecedents"]],
                "support": top["support"].round(4), "confidence": top["confidence"].round(3),
                "lift": top["lift"].round(2),
                "hold-out confidence": holdout.loc[top.index, "confidence"].round(3),
            }).to_string(index=False))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes for development")
    args = ap.parse_args(argv)
    if args.quick:
        ok = run(20_000, (0.01, 0.002), 7, 3, lambda s: s >= 0.01)
        wm_report(20_000)
    else:
        # mlxtend's Apriori takes about a minute at 0.002: two interleaved rounds each
        ok = run(100_000, (0.01, 0.002), 5, 2, lambda s: True)
        wm_report(100_000)
    print(f"\nall engines and peers agree: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
