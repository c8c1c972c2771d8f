"""Built-in data: synthetic customers that follow the schema, and the paper's worked example."""

from ._seed import load_seed_example
from ._synthetic import ANOMALY_RATE, make_customers, wm_propensity

__all__ = ["make_customers", "wm_propensity", "load_seed_example", "ANOMALY_RATE"]
