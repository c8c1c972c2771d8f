"""RuleScorecardClassifier against HistGradientBoostingClassifier (issue 13, item 3).

5-fold stratified CV AUC, number of rules, mean conditions per rule and fit time on:
``make_customers`` (its own ~17% ``wm_buyer`` target), ``make_customers`` with a 5% target
(drawn from the generator's true propensity with the log-odds shifted so 5% buy; seeded),
and scikit-learn's ``breast_cancer`` (shipped with scikit-learn, no download).

Run: ``nice python benchmarks/bench_scorecard.py [--n 10000 | --quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from bankml.datasets import make_customers
from bankml.scorecard import RuleScorecardClassifier

#: Prevalence of the rare target.
RARE_RATE = 0.05


def customers(n, rare):
    df, truth = make_customers(n, seed=0, return_truth=True)
    X = df.drop(columns=["customer_id", "wm_buyer"])
    if not rare:
        return X, df["wm_buyer"].to_numpy()
    z = logit(np.clip(truth["propensity"].to_numpy(), 1e-9, 1 - 1e-9))
    shift = brentq(lambda s: expit(z + s).mean() - RARE_RATE, -20, 20)
    rng = np.random.default_rng(1)
    return X, (rng.random(n) < expit(z + shift)).astype(int)


def cancer():
    d = load_breast_cancer(as_frame=True)
    return d.data, d.target.to_numpy()


def _hgb_frame(X):
    # HistGradientBoosting reads pandas categories natively; text columns become categories
    X = X.copy()
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c].dtype):
            X[c] = X[c].astype("category")
    return X


def evaluate(name, X, y):
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    rows = []
    for label, make in (("RuleScorecard", lambda: RuleScorecardClassifier(random_state=0)),
                        ("HistGradientBoosting", lambda: HistGradientBoostingClassifier(
                            categorical_features="from_dtype", random_state=0))):
        aucs, times, n_rules, n_cond = [], [], [], []
        for tr, te in cv.split(X, y):
            est = make()
            Xtr, Xte = X.iloc[tr], X.iloc[te]
            if label.startswith("Hist"):
                Xtr, Xte = _hgb_frame(Xtr), _hgb_frame(Xte)
            t = time.perf_counter()
            est.fit(Xtr, y[tr])
            times.append(time.perf_counter() - t)
            aucs.append(roc_auc_score(y[te], est.predict_proba(Xte)[:, 1]))
            if hasattr(est, "rules_"):
                n_rules.append(len(est.rules_))
                n_cond.append(np.mean([len(r) for r in est.rules_]) if est.rules_ else 0.0)
        rows.append({"data": name, "rows": len(y), "positives": f"{y.mean():.1%}",
                     "model": label, "AUC": np.mean(aucs), "AUC sd": np.std(aucs),
                     "rules": np.mean(n_rules) if n_rules else np.nan,
                     "conditions/rule": np.mean(n_cond) if n_cond else np.nan,
                     "fit s": np.mean(times)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="make_customers rows")
    ap.add_argument("--quick", action="store_true", help="2,000 customers (make bench)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n = 2_000
    rows = []
    rows += evaluate("make_customers", *customers(args.n, rare=False))
    rows += evaluate("make_customers 5%", *customers(args.n, rare=True))
    rows += evaluate("breast_cancer", *cancer())
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="{:.3f}".format))
    return table


if __name__ == "__main__":
    main()
