"""Missing values: 5-fold AUC of ``missing="majority"`` vs ``missing="fractional"`` (C4.5).

``make_customers`` with a share of the asset columns blanked at random (default 20%);
prints AUC per fold and the mean, fit time and the size of the fractional tree's exact
translation (the tree the rules come from). Run: ``python benchmarks/bench_missing.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from bankml.datasets import make_customers
from bankml.errors import ResourceLimitError
from bankml.tree import InfoGainTreeClassifier

ASSETS = ["short_term_assets", "long_term_assets"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--blank", type=float, default=0.2, help="share of asset values blanked")
    ap.add_argument("--max-depth", type=int, default=6)
    ap.add_argument("--min-samples-leaf", type=int, default=50)
    args = ap.parse_args(argv)
    df = make_customers(args.n, seed=0)
    y = df.pop("wm_buyer").to_numpy()
    X = df.drop(columns="customer_id")
    rng = np.random.default_rng(0)
    for col in ASSETS:
        X.loc[rng.random(len(X)) < args.blank, col] = np.nan
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    print(f"make_customers n={args.n}, {args.blank:.0%} of {ASSETS} blanked, max_depth="
          f"{args.max_depth}, min_samples_leaf={args.min_samples_leaf}")
    for missing in ("majority", "fractional"):
        aucs, fit_s, rules, leaves = [], 0.0, [], []
        for tr, te in folds:
            m = InfoGainTreeClassifier(max_depth=args.max_depth, min_samples_leaf=args.min_samples_leaf,
                                       missing=missing)
            t0 = time.perf_counter()
            m.fit(X.iloc[tr], y[tr])
            fit_s += time.perf_counter() - t0
            aucs.append(roc_auc_score(y[te], m.predict_proba(X.iloc[te])[:, 1]))
            grown = m.tree_.source if missing == "fractional" else m.tree_
            leaves.append(grown.n_leaves)
            try:  # the rules come from the exact single-path translation
                rules.append(m.tree_.n_leaves)
            except ResourceLimitError:
                rules.append(None)
        n_rules = "refused (translation too large)" if None in rules else f"{np.mean(rules):.0f}"
        print(f"{missing:>10}: AUC {np.mean(aucs):.4f} (folds {', '.join(f'{a:.4f}' for a in aucs)}), "
              f"fit {fit_s / 5:.2f} s/fold, grown leaves {np.mean(leaves):.0f}, rules {n_rules}")


if __name__ == "__main__":
    main()
