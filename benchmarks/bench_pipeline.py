"""Benchmark of the main job: time per stage, MLflow's share, peak memory.

Runs `bankml.pipeline.run` on the main config (100,000 synthetic customers; `--quick`: 20,000)
in a temporary folder with its own MLflow store, and compares the whole run with a named peer
measured in the same process: fitting scikit-learn's entropy tree alone on the same rows.
Target (issue 8): 100k customers end to end in under 60 s on 2 cores, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

from bankml._resources import config_path
from bankml.config import load_config


def _peak_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 customers (development)")
    ap.add_argument("--n", type=int, help="number of synthetic customers (overrides the config)")
    ap.add_argument("--config", default=str(config_path("wealth_propensity.yaml")))
    args = ap.parse_args(argv)

    from sklearn.tree import DecisionTreeClassifier

    from bankml import pipeline

    cfg = load_config(args.config)
    n = args.n or (20_000 if args.quick else cfg["data"]["synthetic"]["n"])
    cfg["data"]["synthetic"] = {"n": n, "seed": cfg["data"]["synthetic"]["seed"]}
    cfg["output"]["progress"] = False

    with tempfile.TemporaryDirectory(prefix="bankml-bench-") as work:
        here = os.getcwd()
        os.chdir(work)
        try:
            t0 = time.perf_counter()
            result = pipeline.run(cfg, tracking_uri="sqlite:///" + os.path.join(work, "mlflow.db"),
                                  progress=False, verbose=False)
            wall = time.perf_counter() - t0
        finally:
            os.chdir(here)

    # the peer: scikit-learn's entropy tree fitted alone on the same training rows
    from bankml.datasets import make_customers

    df = make_customers(n, seed=cfg["data"]["synthetic"]["seed"])
    train, _ = pipeline.split_customers(df, cfg)
    t0 = time.perf_counter()
    pipeline.fit_sklearn_tree(df.iloc[train][pipeline.features(cfg)],
                              df["wm_buyer"].to_numpy()[train], cfg)
    peer = time.perf_counter() - t0
    _ = DecisionTreeClassifier  # named peer: DecisionTreeClassifier(criterion="entropy")

    st = result.stages.copy()
    st["share"] = st["seconds"] / wall
    print(f"bench_pipeline: {n:,} customers, config {os.path.basename(args.config)}")
    print(st.to_string(float_format=lambda v: f"{v:.3f}",
                       formatters={"status": str, "detail": lambda s: s[:40]}))
    print(f"wall time end to end          {wall:8.2f} s")
    print(f"MLflow time (setup+log+reg)   {result.mlflow_seconds:8.2f} s "
          f"({result.mlflow_seconds / wall:.0%} of the run)")
    print(f"peak memory (max RSS)         {_peak_mb():8.0f} MB")
    print(f"peer: sklearn DecisionTreeClassifier(entropy) fit alone {peer:.2f} s; "
          f"whole pipeline / peer = {wall / peer:.1f}x")
    print("infogain_tree test AUC {:.3f}".format(result.metrics.loc[pipeline.TREE, "auc"]))
    if n >= 100_000:
        print(f"target 100k < 60 s: {'met' if wall < 60 else 'NOT met'} ({wall:.1f} s); "
              f"peak < 2 GB: {'met' if _peak_mb() < 2048 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
