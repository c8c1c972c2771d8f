"""Input checks shared by every public function of the Spark path.

pyspark and Java present, columns present, table names looked up, bad rows counted. Spark
rows have no position, so a failing row is only ever counted, never cited: citing it would
mean citing its customer id, and an id in a message reaches logs, MLflow and tickets.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from ..errors import DataError, EngineNotAvailableError, SchemaError
from .._messages import raise_problems
from ..schema import Problem

__all__ = ["PIP", "functions", "java_problem", "require_java", "CountedProblem",
           "check_columns", "raise_problems", "quote_table_name", "lookup_table"]

# The one place the extra to install is named (engine errors of the job, the functions and
# the association engine all quote it).
PIP = "pip install 'bankml[spark]'"


def functions(what="the Spark path"):
    """``pyspark.sql.functions``, or EngineNotAvailableError naming the extra to install."""
    try:
        from pyspark.sql import functions as F
    except ImportError:
        raise EngineNotAvailableError(f"{what} needs pyspark, which is not installed: {PIP}") from None
    return F


def java_problem() -> str | None:
    """Why a local JVM could not start, or None. Read as spark-submit reads it: JAVA_HOME's
    ``bin/java`` when JAVA_HOME is set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = os.path.join(java_home, "bin", "java")
        if os.path.isfile(java) and os.access(java, os.X_OK):
            return None
        return f"JAVA_HOME is {java_home!r} but it has no bin/java"
    if shutil.which("java") is None:
        return "JAVA_HOME is not set and there is no `java` on PATH"
    return None


def require_java(what="the Spark path") -> None:
    """Refuse, before pyspark tries to launch a JVM (which fails after seconds with a Java
    gateway traceback), when no Java runtime can be found. A running session, a gateway
    given by the environment or Spark Connect need no local Java: then nothing is checked."""
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is not None:
        return
    if os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_REMOTE"):
        return
    why = java_problem()
    if why is not None:
        raise EngineNotAvailableError(f"{what} needs a Java runtime (Java 17) to start Spark: {why}; "
                                      "install one or set JAVA_HOME")


@dataclass
class CountedProblem(Problem):
    """A problem found in Spark: rows (and customers, where a table holds several rows per
    customer) are counted, never listed."""

    n_customers: int | None = None

    def __str__(self):
        text = super().__str__()  # "...; N row(s)": no positions to cite
        if self.n_rows and self.n_customers is not None:
            text += f" of {self.n_customers} customer(s)"
        return text


def check_columns(sdf, required, what):
    """SchemaError naming every required column the frame lacks (column names only)."""
    missing = [c for c in required if c not in sdf.columns]
    if missing:
        problems = [Problem(c, "missing column", f"a column named {c!r}") for c in missing]
        raise SchemaError(f"{what}: the Spark DataFrame lacks column(s) {missing}; it needs "
                          f"{list(dict.fromkeys(required))} and has {sdf.columns}", problems=problems)


def quote_table_name(name: str) -> str:
    """``name`` as a Spark SQL identifier: each dot-separated part in backticks (a backtick
    doubled), so that Chinese, spaced or hyphenated names parse. A name already holding a
    backtick is taken as quoted by the caller (the way to name a table with a dot in it)."""
    if "`" in name:
        return name
    return ".".join("`" + part + "`" for part in name.split("."))


def lookup_table(name, what, spark=None):
    """The Spark DataFrame of table (or view) ``name``; DataError naming it when absent."""
    functions()
    from pyspark.errors import AnalysisException
    from pyspark.sql import SparkSession

    if spark is None:
        spark = SparkSession.getActiveSession()
        if spark is None:
            raise DataError(f"{what}: table {name!r} needs a running Spark session to be looked "
                            "up in; start one (SparkSession.builder.getOrCreate()) or pass a "
                            "Spark DataFrame")
    if not name or not name.strip():
        raise DataError(f"{what}: the table name is empty")
    quoted = quote_table_name(name)
    try:  # a name Spark cannot even parse does not exist either
        exists = spark.catalog.tableExists(quoted)
    except AnalysisException:
        exists = False
    if not exists:
        raise DataError(f"{what}: the table {name!r} does not exist in the Spark catalog "
                        f"(current database {spark.catalog.currentDatabase()!r})")
    try:
        return spark.table(quoted)
    except AnalysisException as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise DataError(f"{what}: the table {name!r} cannot be read ({first})") from None
