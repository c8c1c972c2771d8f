"""The notebooks are stored without outputs and run top to bottom on the quickstart data."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# Notebooks that need Spark run in the Spark leg (bankml/spark/tests/test_spark_notebook.py);
# the checks of their stored form below apply to them too.
LOCAL_NOTEBOOKS = [p for p in NOTEBOOKS if "spark" not in p.stem]


def test_the_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_wealth_propensity.ipynb",
                                           "03_cross_sell_rules.ipynb", "04_segments_outliers.ipynb",
                                           "05_your_own_data.ipynb", "06_spark.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_uses_only_public_modules(path):
    # a notebook is what users copy: a private import there becomes their code's dependency
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "bankml._" not in code and "import _" not in code, path.name
    assert "from bankml.config import config_file" in code, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", LOCAL_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # the kernel inherits this environment: its own MLflow store and a headless backend
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(tmp_path / "mlflow.db"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    if path.name.startswith("01"):
        assert (tmp_path / "mlflow.db").exists() and (tmp_path / "models").is_dir()
    assert not (path.parent / "mlflow.db").exists()
