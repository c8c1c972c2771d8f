"""No customer identifier or raw row reaches MLflow, the output files or the logs."""

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bankml._resources import config_path
from bankml.datasets import make_customers
from bankml.pipeline import run

# make_customers ids: "C" + 3 seed digits + 9-digit serial
ID_PATTERN = re.compile(rb"C\d{12}")


def _blobs(root: Path):
    """Every file's bytes under root; zip files (skops models) also member by member."""
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    yield f"{path}!{member}", zf.read(member)


@pytest.fixture(scope="module")
def private_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("privacy")
    df = make_customers(2000, seed=7)
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    try:
        import io
        from contextlib import redirect_stderr, redirect_stdout

        import logging

        out, err = io.StringIO(), io.StringIO()
        # MLflow's logger does not propagate and holds its own stream: listen to it as well
        log = logging.StreamHandler(io.StringIO())
        loggers = [logging.getLogger(), logging.getLogger("mlflow")]
        for lg in loggers:
            lg.addHandler(log)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                result = run(config_path("quickstart.yaml"), data=df,
                             tracking_uri="sqlite:///" + str(work / "mlflow.db"), progress=True,
                             lang="en")
        finally:
            for lg in loggers:
                lg.removeHandler(log)
    finally:
        mp.undo()
    return work, df, result, out.getvalue() + err.getvalue() + log.stream.getvalue()


def test_scanner_finds_an_id_when_one_is_present(tmp_path):
    (tmp_path / "leak.txt").write_text("customer C007000000042 bought")
    hits = [name for name, data in _blobs(tmp_path) if ID_PATTERN.search(data)]
    assert hits == [str(tmp_path / "leak.txt")]


def test_no_customer_id_in_store_artifacts_outputs_or_logs(private_run):
    work, df, result, logs = private_run
    assert result.stages.loc["mlflow_log", "status"] == "ok"
    ids = set(df["customer_id"].astype(str))
    assert (work / "mlflow.db").stat().st_size > 0
    assert any((work / "mlartifacts").rglob("MLmodel"))
    leaks = []
    for name, data in _blobs(work):
        found = {m.decode() for m in ID_PATTERN.findall(data)}
        if found:
            leaks.append((name, sorted(found)[:3]))
        # belt and braces: a handful of exact ids, whatever their pattern
        for cid in list(ids)[:50]:
            if cid.encode() in data:
                leaks.append((name, cid))
    assert leaks == []
    assert not ID_PATTERN.search(logs.encode())
    assert "Model vs baseline" in logs
    assert "registered model" in logs  # MLflow's own log lines were captured and scanned


def test_no_raw_row_in_the_input_example(private_run):
    import json

    work, df, result, _ = private_run
    examples = list((work / "mlartifacts").rglob("input_example.json"))
    assert examples
    for ex in examples:
        payload = json.loads(ex.read_text())
        cols, rows = payload["columns"], payload["data"]
        real = df[cols].astype(str).agg("|".join, axis=1)
        assert "customer_id" not in cols
        for row in rows:
            assert "|".join(map(str, row)) not in set(real)


def test_params_and_tags_hold_no_data_values(private_run):
    from mlflow import MlflowClient

    work, df, result, _ = private_run
    run_ = MlflowClient("sqlite:///" + str(work / "mlflow.db")).get_run(result.run_id)
    text = repr(run_.data.params) + repr(run_.data.tags)
    for value in df["short_term_assets"].to_numpy()[:200]:
        assert f"{value}" not in text or value == 0
    assert np.isfinite(run_.data.metrics["infogain_tree.test.auc"])


def test_a_customer_id_named_as_the_target_is_not_shown():
    # hostile: `target: customer_id` by mistake; the 0/1 check once quoted the first value
    import pandas as pd

    from bankml.errors import DataError
    from bankml.schema import check_target

    ids = pd.Series([f"C{10**12 + i}" for i in range(500)])
    with pytest.raises(DataError, match="500 distinct values.*right column") as err:
        check_target(pd.DataFrame({"customer_id": ids}), "customer_id")
    assert not any(i in str(err.value) for i in ids)
    with pytest.raises(DataError, match=r"e\.g\. '2'"):  # a label's stray value is still shown
        check_target(pd.DataFrame({"wm_buyer": [0, 2, 1]}), "wm_buyer")
