"""Benchmark (issue 7): segmenting 1M customers with k="auto" and scoring them with the
isolation forest, each against calling scikit-learn directly with the same steps (overhead < 20%).

Run: .venv/bin/python benchmarks/bench_segments.py [--quick] [--n N]

Each measurement is one function ``bench_<name>(df, quick, truth) -> list of printed lines``,
listed in ``BENCHES``. The isolation-forest measurement is the one of
``benchmarks/bench_outliers.py`` (imported, so both scripts time the same thing).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")       # one core: a fair, quiet comparison
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402
from sklearn.preprocessing import QuantileTransformer  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from bankml.datasets import make_customers  # noqa: E402
from bankml.segment import CustomerSegmenter  # noqa: E402
from bankml.segment._config import segment_config  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the sibling benchmark script
from bench_outliers import bench_isolation_forest as _iforest  # noqa: E402

OVERHEAD_BUDGET = 0.20


def _sklearn_auto_kmeans(df, features, k_range, sample_size, n_init, random_state,
                         min_share, max_share):
    """The same steps as CustomerSegmenter(n_clusters="auto"), written against scikit-learn:
    exact rank scaling, standardising, silhouette per k on a sample, the best k among those
    whose segments have useful sizes on the sample, refit on all rows."""
    Z = df[features].to_numpy(dtype=np.float64)
    Z = QuantileTransformer(n_quantiles=min(1000, len(Z)), subsample=None).fit_transform(Z)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    rng = check_random_state(random_state)
    n = len(Z)
    m = min(n, sample_size)
    idx = np.sort(rng.choice(n, m, replace=False)) if m < n else np.arange(n)
    Zs = Z[idx]
    scores, useful = {}, {}
    for k in range(k_range[0], min(k_range[1], m - 1) + 1):
        km = KMeans(n_clusters=k, n_init=n_init, random_state=rng.randint(np.iinfo(np.int32).max))
        labels = km.fit(Zs).labels_
        scores[k] = silhouette_score(Zs, labels)
        shares = np.bincount(labels, minlength=k) / m
        if min_share <= shares.min() and shares.max() <= max_share:
            useful[k] = scores[k]
    pool = useful or scores
    best = max(pool, key=pool.get)
    final = KMeans(n_clusters=best, n_init=n_init, random_state=rng.randint(np.iinfo(np.int32).max))
    return final.fit(Z).labels_, best


def _timed(fn):
    """(CPU seconds, wall seconds), result. CPU time: the machine is shared, one thread used."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return (time.process_time() - c0, time.perf_counter() - w0), out


def bench_segmenting(df, quick, truth=None):
    cfg = segment_config()["segmenter"]
    sample = 5_000 if quick else cfg["sample_size"]
    k_range = tuple(cfg["k_range"])
    # warm both paths up (BLAS/OpenMP pools, first-touch allocations) so neither pays it
    small = df.head(3_000)
    CustomerSegmenter(n_clusters="auto", sample_size=1_000, random_state=0).fit(small)
    _sklearn_auto_kmeans(small, cfg["features"], k_range, 1_000, cfg["n_init"], 0,
                         cfg["min_share"], cfg["max_share"])

    (ours, ours_wall), seg = _timed(
        lambda: CustomerSegmenter(n_clusters="auto", sample_size=sample, random_state=0).fit(df))
    (peer, peer_wall), (labels, best) = _timed(
        lambda: _sklearn_auto_kmeans(df, cfg["features"], k_range, sample, cfg["n_init"], 0,
                                     cfg["min_share"], cfg["max_share"]))

    t0 = time.perf_counter()
    seg.profile(lang="zh")
    prof = time.perf_counter() - t0
    same = adjusted_rand_score(labels, seg.labels_)
    overhead = ours / peer - 1
    verdict = "within" if overhead < OVERHEAD_BUDGET else "OVER"
    return [
        f"CustomerSegmenter(k='auto', k_range={k_range}, sample={sample:,}) on {len(df):,} "
        f"customers: {ours:.2f} s CPU ({ours_wall:.2f} s wall), k={seg.n_clusters_}",
        f"scikit-learn KMeans + silhouette, same steps: {peer:.2f} s CPU ({peer_wall:.2f} s wall), "
        f"k={best} "
        f"(agreement ARI {same:.3f})",
        f"CPU-time ratio ours/sklearn {ours / peer:.3f} -> overhead {overhead:+.1%} "
        f"({verdict} the {OVERHEAD_BUDGET:.0%} budget)",
        f"profile(lang='zh') afterwards: {prof:.2f} s",
    ]


def bench_isolation_forest(df, quick, truth=None):
    return _iforest(df, truth, repeat=1 if quick else 2)


BENCHES = [bench_segmenting, bench_isolation_forest]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=None,
                        help="customers (default 1M; 100k with --quick)")
    parser.add_argument("--quick", action="store_true", help="100k customers, smaller samples")
    args = parser.parse_args(argv)
    n = args.n if args.n is not None else (100_000 if args.quick else 1_000_000)
    df, truth = make_customers(n, seed=0, return_truth=True)
    for bench in BENCHES:
        print(f"== {bench.__name__}")
        for line in bench(df, args.quick, truth):
            print(line)


if __name__ == "__main__":
    main()
