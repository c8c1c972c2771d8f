"""notebooks/06_spark runs top to bottom on local Spark (in the Spark leg only: the other
legs leave Spark tests out; without Java, pyspark or a kernel it skips, and under CI=true
that skip is a failure)."""

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

pytestmark = pytest.mark.spark
NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "06_spark.ipynb"


@pytest.mark.slow
def test_spark_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat not installed")
    nbclient = pytest.importorskip("nbclient", reason="nbclient not installed")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(tmp_path / "mlflow.db"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel starts its own Spark driver (a second JVM beside the tests' session).
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "equal to mlxtend's fpgrowth: True" in text
    assert "DataError" in text and "negative balances" in text
