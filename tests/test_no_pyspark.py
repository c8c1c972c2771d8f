"""Without pyspark, every Spark entry point says which extra to install, in one bankml error.

Collected by the non-Spark legs (no `spark` mark, no test_spark prefix): there pyspark is
really absent. Where it is installed, it is hidden for the test (None in sys.modules makes
each import fail as a missing package does).
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import bankml
from bankml.association import frequent_itemsets, mine_rules
from bankml.errors import EngineNotAvailableError

PIP = r"pip install 'bankml\[spark\]'"
ROOT = Path(bankml.__file__).resolve().parents[1]
NO_PYSPARK = importlib.util.find_spec("pyspark") is None


@pytest.fixture
def no_pyspark(monkeypatch):
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyspark", None)


def _spark_calls():
    import bankml.spark as bs

    # arguments are never looked at: the pyspark check comes first
    return {
        "score_stars": lambda: bs.score_stars("customers"),
        "predict_rules": lambda: bs.predict_rules("customers", None),
        "aggregate_half_year": lambda: bs.aggregate_half_year("balances", "transactions", "2024-06-30"),
        "rate_months": lambda: bs.rate_months("balances", "transactions", ["2024-06"]),
        "fit_tree": lambda: bs.fit_tree("customers", ["age"]),
        "proba_column": lambda: bs.proba_column(None),
        "leaf_column": lambda: bs.leaf_column(None),
        "fit_segments": lambda: bs.fit_segments("customers"),
        "assign_segments": lambda: bs.assign_segments("customers", None),
        "frequent_itemsets": lambda: frequent_itemsets([["fund", "wm"]], 0.5, engine="spark"),
        "mine_rules": lambda: mine_rules([["fund", "wm"]], 0.5, 0.5, engine="spark"),
    }


@pytest.mark.parametrize("name", sorted(_spark_calls()))
def test_spark_functions_name_the_extra(no_pyspark, name):
    with pytest.raises(EngineNotAvailableError, match=PIP):
        _spark_calls()[name]()


def test_the_spark_job_names_the_extra(no_pyspark, tmp_path):
    from bankml.config import load_config
    from bankml.pipeline import run
    from bankml.pipeline._spark import spark_session

    cfg = {"engine": "spark", "data": {"synthetic": {"n": 100, "seed": 0}}}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(EngineNotAvailableError, match=PIP):
        run(cfg, tracking_uri=uri, verbose=False)
    # refused before anything was tracked or written
    assert not (tmp_path / "mlflow.db").exists()
    with pytest.raises(EngineNotAvailableError, match="engine: spark needs pyspark.*" + PIP):
        spark_session(load_config(cfg))


@pytest.mark.skipif(not NO_PYSPARK, reason="pyspark is installed (a subprocess cannot hide it)")
def test_the_cli_says_it_in_one_line(tmp_path):
    cfg = tmp_path / "spark.yaml"
    cfg.write_text("engine: spark\ndata: {synthetic: {n: 100, seed: 0}}\noutput: {progress: false}\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg",
           "MLFLOW_TRACKING_URI": "sqlite:///" + str(tmp_path / "env.db")}
    proc = subprocess.run([sys.executable, "-m", "bankml", "run", str(cfg)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'bankml[spark]'" in lines[0], proc.stderr[-2000:]
