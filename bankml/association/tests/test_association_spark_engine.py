"""engine="spark" outside the Spark leg: refused with the extra to install, the other
engines untouched (its results are compared in bankml/spark/tests/test_spark_fpgrowth.py)."""

import sys

import pytest

from bankml.association import ENGINES, frequent_itemsets, mine_rules
from bankml.errors import EngineNotAvailableError, InvalidParameterError


def test_spark_engine_without_pyspark_names_the_extra(monkeypatch):
    # None in sys.modules makes the import fail as if pyspark were not installed.
    monkeypatch.setitem(sys.modules, "pyspark.ml.fpm", None)
    baskets = [["fund", "wm"], ["fund"]]
    for call in (frequent_itemsets, lambda *a, **k: mine_rules(*a, 0.5, **k)):
        with pytest.raises(EngineNotAvailableError, match=r"bankml\[spark\]"):
            call(baskets, 0.5, engine="spark")
    assert "spark" not in ENGINES   # the in-process engines the others are compared among
    with pytest.raises(InvalidParameterError, match="'spark'"):
        frequent_itemsets(baskets, 0.5, engine="sparks")
