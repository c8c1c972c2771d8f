"""Built-in data: synthetic customers that follow the schema, and the paper's worked example."""

from ._daily import make_daily_transactions
from ._raw import make_raw_activity
from ._seed import load_seed_example
from ._snapshots import make_customer_snapshots
from ._synthetic import ANOMALY_RATE, make_customers, wm_propensity

__all__ = ["make_customers", "wm_propensity", "load_seed_example", "make_raw_activity",
           "make_daily_transactions", "ANOMALY_RATE", "make_customer_snapshots"]
