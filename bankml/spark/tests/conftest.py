"""One local Spark session for every Spark test: starting a JVM costs seconds, once is enough."""

import os
import sys

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
    from pyspark.sql import SparkSession

    # Python UDFs (segments' scaling) run in worker processes: the test interpreter, whose
    # environment has bankml's dependencies, not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    session = (SparkSession.builder.master("local[2]").appName("bankml-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC")
               # a table lookup creates the warehouse folder: not in the repository
               .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
               .getOrCreate())
    yield session
    session.stop()
