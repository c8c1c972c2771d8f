"""Benchmark of `bankml score`: 2,000,000 customers from Parquet, in batches vs read whole.

Generates the customers with `make_customers` in chunks into a temporary Parquet file, fits
the quickstart tree on 20,000 others (saved with its checksum), then measures, each in its
own subprocess (so one's memory cannot hide in the other's): the scoring job
(`bankml.pipeline.score`, batches of 100,000 rows) and the named peer, the same work on the
file read whole into pandas (`pd.read_parquet`, then score, rules, stars, deciles, write).
Prints time and peak memory (max RSS) of both. Target (issue 14): < 1 GB peak in batches.
`--quick`: 200,000 customers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: customers generated per chunk (memory of the generator stays small)
GEN_CHUNK = 200_000
TARGET_MB = 1024


def _peak_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _config(work: Path) -> dict:
    from bankml._resources import config_path
    from bankml.config import load_config

    cfg = load_config(config_path("quickstart.yaml"))
    cfg["data"] = {**cfg["data"], "synthetic": None, "path": str(work / "customers.parquet")}
    return cfg


def _prepare(work: Path, n: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bankml import save_model
    from bankml.datasets import make_customers
    from bankml.pipeline import features, fit_tree

    writer = None
    for i, start in enumerate(range(0, n, GEN_CHUNK)):
        part = make_customers(min(GEN_CHUNK, n - start), seed=100 + i)
        table = pa.Table.from_pandas(part, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(work / "customers.parquet", table.schema)
        writer.write_table(table)
    writer.close()
    cfg = _config(work)
    train = make_customers(20_000, seed=0)
    save_model(fit_tree(train[features(cfg)], train["wm_buyer"], cfg), work / "model.joblib")
    # a monthly job logs into an existing store: its one-off creation (~20 s of MLflow's
    # migrations) is not part of scoring
    from bankml.tracking import prepare_store

    prepare_store("sqlite:///" + str(work / "mlflow.db"))


def _child_batches(work: Path) -> dict:
    t0 = time.perf_counter()
    import mlflow  # noqa: F401 -- timed apart: MLflow's import is a fixed cost of any run

    imported = time.perf_counter() - t0
    from bankml.pipeline import score

    t0 = time.perf_counter()
    got = score(_config(work), str(work / "model.joblib"), out=work / "batches.parquet",
                tracking_uri="sqlite:///" + str(work / "mlflow.db"))
    return {"seconds": time.perf_counter() - t0, "n": got.n_customers, "import_s": imported}


def _child_whole(work: Path) -> dict:
    """The peer: everything in one DataFrame (what a notebook would do)."""
    import numpy as np
    import pandas as pd

    from bankml import load_model
    from bankml.pipeline import score_stars
    from bankml.pipeline._score import _decile_cuts, _rule_texts, _rules, model_features

    t0 = time.perf_counter()
    cfg = _config(work)
    model = load_model(work / "model.joblib")
    df = pd.read_parquet(work / "customers.parquet")
    X = df[model_features(model)]
    score = model.predict_proba(X)[:, 1]
    rules = _rules(model, cfg, "wm_buyer")
    texts = np.array(_rule_texts(rules, "en"), dtype=object)
    fired = rules.apply(X)
    ids = np.array([r.rule_id for r in rules.rules])
    values, deciles = _decile_cuts(pd.Series(score).value_counts())
    out = pd.DataFrame({"customer_id": df["customer_id"], "score": score,
                        "decile": deciles[np.searchsorted(values, score)],
                        "rule_id": np.where(fired >= 0, ids[fired], 0), "rule": texts[fired],
                        "star": score_stars(df, cfg)["contribution_star"].to_numpy()})
    out.to_parquet(work / "whole.parquet")
    return {"seconds": time.perf_counter() - t0, "n": len(out)}


def _run_child(mode: str, work: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--work", str(work)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"bench_score: the {mode} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200,000 customers (development)")
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--child", choices=("batches", "whole"), help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        got = (_child_batches if args.child == "batches" else _child_whole)(Path(args.work))
        got["peak_mb"] = _peak_mb()
        print(json.dumps(got))
        return 0

    n = 200_000 if args.quick else args.n
    with tempfile.TemporaryDirectory(prefix="bankml-bench-score-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        _prepare(work, n)
        size = (work / "customers.parquet").stat().st_size / 2**20
        print(f"bench_score: {n:,} customers, Parquet {size:,.0f} MB "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        batches = _run_child("batches", work)
        whole = _run_child("whole", work)
        import pandas as pd

        a, b = (pd.read_parquet(work / f, columns=["score", "decile", "rule_id", "star"])
                for f in ("batches.parquet", "whole.parquet"))
        same = a.astype("float64").equals(b.astype("float64"))
    print(f"{'':28s}{'time':>10s}{'peak RSS':>12s}   (batches: with its MLflow run; "
          "both: model load, score, rules, stars, deciles, Parquet write)")
    print(f"{'score in batches (100k)':28s}{batches['seconds']:9.1f}s{batches['peak_mb']:10.0f} MB")
    print(f"{'peer: read whole (pandas)':28s}{whole['seconds']:9.1f}s{whole['peak_mb']:10.0f} MB")
    print(f"(importing MLflow before the batches run took {batches['import_s']:.1f} s more)")
    print(f"batches / whole: time {batches['seconds'] / whole['seconds']:.2f}x, "
          f"memory {batches['peak_mb'] / whole['peak_mb']:.2f}x; same scores, deciles, rules and stars: "
          f"{'yes' if same else 'NO'}")
    print(f"target < {TARGET_MB} MB peak in batches: "
          f"{'met' if batches['peak_mb'] < TARGET_MB else 'NOT met'} ({batches['peak_mb']:.0f} MB)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
