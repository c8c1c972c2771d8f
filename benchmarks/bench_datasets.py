"""Benchmark: generating and validating synthetic customers (issue 2 target: 1M in < 10 s on one core).

Run: .venv/bin/python benchmarks/bench_datasets.py [--quick] [--n N]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")       # one core, as the target says
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

from bankml.datasets import make_customers  # noqa: E402
from bankml.schema import validate_customers  # noqa: E402

BUDGET_S = 10.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100k customers")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else args.n

    make_customers(1_000)  # warm up imports
    t0 = time.perf_counter()
    df = make_customers(n, seed=0)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    validate_customers(df, require_label=True)
    val = time.perf_counter() - t0

    tracemalloc.start()
    make_customers(min(n, 200_000), seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"make_customers({n:,}): {gen:.2f} s  ({n / gen / 1e6:.2f} M rows/s; "
          f"budget {BUDGET_S:.0f} s for 1M -> {gen * 1_000_000 / n / BUDGET_S:.2f}x of budget)")
    print(f"validate_customers: {val:.2f} s ({val / gen:.2f}x of generation time)")
    print(f"table size {df.memory_usage(deep=True).sum() / 2**20:,.0f} MiB; "
          f"peak traced memory while generating {min(n, 200_000):,}: {peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
