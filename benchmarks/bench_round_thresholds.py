"""Benchmark: the AUC cost of round thresholds (``round_thresholds``) on make_customers.

5-fold stratified CV AUC of InfoGainTreeClassifier with thresholds chosen among numbers of
1, 2 and 3 significant figures, against the unrounded tree in the same run (issue 13,
item 4: "the cost in AUC is reported"). Two settings: the issue's depth-6 tree, and a
30-leaf rule budget (best-first).
Run: .venv/bin/python benchmarks/bench_round_thresholds.py [--n N]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402

from bankml.datasets import make_customers  # noqa: E402
from bankml.tree import InfoGainTreeClassifier  # noqa: E402

NUMERIC = ["age", "tenure_months", "short_term_assets", "long_term_assets", "card_spend"]
CATEGORICAL = ["education", "occupation"]
SETTINGS = [("max_depth=6, min_samples_leaf=50", dict(max_depth=6, min_samples_leaf=50)),
            ("max_leaf_nodes=30, min_samples_leaf=50", dict(max_leaf_nodes=30, min_samples_leaf=50))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args(argv)
    df = make_customers(args.n, seed=0)
    X, y = df[NUMERIC + CATEGORICAL], df["wm_buyer"].to_numpy()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"bench_round_thresholds: make_customers({args.n:,}), {y.mean():.1%} buyers, 5-fold AUC")
    for label, params in SETTINGS:
        print(f"  {label}:")
        base = None
        for digits in (None, 3, 2, 1):
            model = InfoGainTreeClassifier(**params, round_thresholds=digits, random_state=0)
            auc = cross_val_score(model, X, y, cv=cv, scoring="roc_auc")
            m = float(np.mean(auc))
            base = m if base is None else base
            name = "exact" if digits is None else f"{digits} sig. fig."
            print(f"    {name:<12} AUC {m:.4f} (sd {np.std(auc):.4f})  cost {base - m:+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
