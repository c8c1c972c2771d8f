"""The main job: config-driven WM-propensity pipeline (foundation version).

This first version loads the configured data and validates it against the schema; the
modelling stages are added as their packages land.
"""

from __future__ import annotations

import time

from ._resources import read_yaml
from .datasets import make_customers
from .errors import ConfigError
from .schema import LABEL, STAR_INPUTS, validate_customers


def main(config_path, data=None, tracking_uri=None):
    config = read_yaml(config_path)
    source = config.get("data", {}).get("synthetic")
    if data is not None or not isinstance(source, dict):
        raise ConfigError("this foundation version of the pipeline supports only data.synthetic: {n, seed}")
    t0 = time.perf_counter()
    df = make_customers(int(source["n"]), seed=int(source["seed"]))
    validate_customers(df, require_label=True)
    took = time.perf_counter() - t0
    print(f"bankml: generated {len(df):,} synthetic customers (seed {source['seed']}) and validated "
          f"them against the schema in {took:.2f}s")
    print(f"  WM buyers: {int(df[LABEL].sum()):,} ({df[LABEL].mean():.1%})")
    print("  star-point inputs (median yuan):")
    for col, med in df[list(STAR_INPUTS)].median().items():
        print(f"    {col:<20} {med:>14,.0f}")
    print("  modelling stages (stars, tree, rules, association, segments, outliers, MLflow) "
          "are not wired in yet")
    return df
