"""Benchmark: InfoGainTreeClassifier vs scikit-learn DecisionTreeClassifier(criterion="entropy").

Times are CPU seconds of this process (both estimators are single-threaded), so a busy
shared machine distorts the ratios less than wall-clock time would.

Issue 4 targets on 1M rows x 7 mixed features: fit time <= sklearn's (aim 2x faster),
predict within 2x of sklearn's, peak fit memory < 4x the size of X.
Run: .venv/bin/python benchmarks/bench_tree.py [--quick] [--n N]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.preprocessing import OrdinalEncoder  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from _common import best_of  # noqa: E402

from bankml.datasets import make_customers  # noqa: E402
from bankml.tree import InfoGainTreeClassifier  # noqa: E402

NUMERIC = ["age", "tenure_months", "short_term_assets", "long_term_assets", "card_spend"]
CATEGORICAL = ["education", "occupation"]
SETTINGS = [("max_depth=6", dict(max_depth=6)), ("full, min_samples_leaf=20", dict(min_samples_leaf=20))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100k rows")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else args.n
    repeat = 2 if args.quick else 1

    df = make_customers(n, seed=0)
    X = df[NUMERIC + CATEGORICAL]
    y = df["wm_buyer"].to_numpy()
    X_sk = np.column_stack([X[NUMERIC].to_numpy(dtype=np.float64),
                            OrdinalEncoder().fit_transform(X[CATEGORICAL])])
    x_bytes = int(X.memory_usage(deep=True).sum())
    print(f"bench_tree: {n:,} rows x {X.shape[1]} features ({len(NUMERIC)} numeric, "
          f"{len(CATEGORICAL)} categorical); X = {x_bytes / 1e6:.1f} MB")
    for label, params in SETTINGS:
        ours = InfoGainTreeClassifier(**params, random_state=0)
        sk = DecisionTreeClassifier(criterion="entropy", random_state=0, **params)
        t_fit, _ = best_of(lambda: ours.fit(X, y), repeat, clock=time.process_time)
        s_fit, _ = best_of(lambda: sk.fit(X_sk, y), repeat, clock=time.process_time)
        t_pred, p_ours = best_of(lambda: ours.predict(X), repeat + 3, clock=time.process_time)
        s_pred, p_sk = best_of(lambda: sk.predict(X_sk), repeat + 3, clock=time.process_time)
        tracemalloc.start()
        ours.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {label}:")
        print(f"    fit     bankml {t_fit:7.3f} s  sklearn {s_fit:7.3f} s  speed-up x{s_fit / t_fit:5.2f}"
              f"  (target >= 1, aim 2)")
        print(f"    predict bankml {t_pred:7.3f} s  sklearn {s_pred:7.3f} s  time ratio {t_pred / s_pred:5.2f}"
              f"  (target <= 2)")
        print(f"    peak fit memory {peak / 1e6:7.1f} MB = {peak / x_bytes:4.2f} x X  (target < 4)")
        print(f"    leaves bankml {ours.get_n_leaves()} sklearn {sk.get_n_leaves()}; depth "
              f"{ours.get_depth()} / {sk.get_depth()}; train accuracy {np.mean(p_ours == y):.4f} / "
              f"{np.mean(p_sk == y):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
