"""Issue 14 item 4: the out-of-time split. A table of monthly snapshots trains on the months
before the test month and tests on it; the default whenever the table has a snapshot month;
the summary, the report, the model card and MLflow say which split was used."""

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.config import validate_config
from bankml.datasets import make_customer_snapshots
from bankml.errors import ConfigError, DataError, SchemaError
from bankml.pipeline import _stages as S
from bankml.schema import ID, LABEL, SNAPSHOT, validate_customers

MONTHS = ["2024-03", "2024-04", "2024-05", "2024-06"]


@pytest.fixture(scope="module")
def snapshots():
    return make_customer_snapshots(600, months=MONTHS, seed=3)


def _cfg(**split):
    return validate_config({"data": {"synthetic": {"n": 10}}, "split": split,
                            "segments": {"enabled": False}, "outliers": {"enabled": False}})


# --------------------------------------------------------------------------- the data set
def test_snapshots_repeat_customers_once_per_month(snapshots):
    assert sorted(snapshots[SNAPSHOT].unique()) == MONTHS
    assert (snapshots.groupby(SNAPSHOT)[ID].nunique() == 600).all()
    validate_customers(snapshots, require_label=True, snapshot=SNAPSHOT)
    with pytest.raises(SchemaError, match="duplicate customer ids"):
        validate_customers(snapshots, require_label=True)  # without months: duplicates
    again = make_customer_snapshots(600, months=MONTHS, seed=3)
    pd.testing.assert_frame_equal(snapshots, again)
    # balances move between months, so the test month is not a copy of the training ones
    a = snapshots[snapshots[SNAPSHOT] == "2024-03"]["short_term_assets"].to_numpy()
    b = snapshots[snapshots[SNAPSHOT] == "2024-06"]["short_term_assets"].to_numpy()
    assert not np.allclose(a, b) and np.corrcoef(np.log1p(a), np.log1p(b))[0, 1] > 0.9


def test_snapshot_months_argument_is_checked():
    with pytest.raises(ValueError, match="months must be distinct"):
        make_customer_snapshots(10, months=["2024-01", "2024-01"])
    assert make_customer_snapshots(10, months=2)[SNAPSHOT].unique().tolist() == ["2024-05", "2024-06"]


# --------------------------------------------------------------------------- the split
def test_default_split_is_out_of_time_on_the_latest_month(snapshots):
    split = S.split_customers(snapshots, _cfg())
    months = snapshots[SNAPSHOT].to_numpy()
    assert set(months[split.train]) == set(MONTHS[:-1]) and set(months[split.test]) == {"2024-06"}
    assert len(split.test) == 600 and len(split.train) == 1800
    assert split.how["by"] == SNAPSHOT and split.how["later_months"] == []
    assert "out-of-time split by snapshot_month: train on 2024-03–2024-05" in split.describe("en")
    assert "跨时间划分" in split.describe("zh")


def test_a_middle_test_month_leaves_later_months_out(snapshots):
    split = S.split_customers(snapshots, _cfg(by=SNAPSHOT, test="2024-05"))
    months = snapshots[SNAPSHOT].to_numpy()
    assert set(months[split.train]) == {"2024-03", "2024-04"}
    assert set(months[split.test]) == {"2024-05"}
    assert split.how["later_months"] == ["2024-06"]
    assert "2024-06" in split.tag() and "unused later months" in split.tag()


def test_months_in_other_spellings_are_read(snapshots):
    t = snapshots.assign(**{SNAPSHOT: pd.to_datetime(snapshots[SNAPSHOT] + "-28")})
    split = S.split_customers(t, _cfg(test="2024-05-31"))
    assert set(snapshots[SNAPSHOT].to_numpy()[split.test]) == {"2024-05"}
    t = snapshots.assign(period=snapshots[SNAPSHOT].str.replace("-", "").astype(int)).drop(
        columns=SNAPSHOT)
    split = S.split_customers(t, _cfg(by="period", test=202404))
    assert len(split.train) == 600 and len(split.test) == 600


def test_split_by_customer_still_available():
    from bankml.datasets import make_customers

    df = make_customers(500, seed=1)
    split = S.split_customers(df, _cfg())
    assert split.how["by"] == "customer" and len(split.test) == 150
    assert "random split by customer" in split.describe("en")


@pytest.mark.parametrize("split, error, match", [
    ({"test": "2024-09"}, ConfigError,
     r"'split\.test': month 2024-09 is not in column 'snapshot_month' \(months present: "
     r"2024-03, 2024-04, 2024-05, 2024-06\)"),
    ({"test": "2024-03"}, ConfigError, r"no month before 2024-03 to train on"),
    ({"by": "month"}, ConfigError, r"'split\.by': the table has no column 'month'"),
])
def test_bad_split_is_named(snapshots, split, error, match):
    with pytest.raises(error, match=match):
        S.split_customers(snapshots, _cfg(**split))


def test_missing_or_unreadable_month_names_the_rows(snapshots):
    t = snapshots.copy()
    t[SNAPSHOT] = t[SNAPSHOT].astype(object)
    t.loc[[4, 8], SNAPSHOT] = None
    t.loc[10, SNAPSHOT] = "June"
    with pytest.raises(DataError, match=r"'snapshot_month'.*3 row\(s\), positions \[4, 8, 10\]"):
        S.split_customers(t, _cfg())


def test_a_test_month_with_one_class_is_refused(snapshots):
    t = snapshots.copy()
    t.loc[t[SNAPSHOT] == "2024-06", LABEL] = 0
    with pytest.raises(DataError, match=r"'wm_buyer' holds a single class in the test months \(in 2024-06"):
        S.split_customers(t, _cfg())


# --------------------------------------------------------------------------- the main job
@pytest.fixture(scope="module")
def oot_run(tmp_path_factory, snapshots):
    work = tmp_path_factory.mktemp("oot")
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    store = "sqlite:///" + str(work / "mlflow.db")
    cfg = {"data": {"synthetic": {"n": 10}}, "split": {"test": "2024-06"},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "oot", "registered_model": "oot"}}
    try:
        result = pipeline.run(cfg, data=snapshots, tracking_uri=store, verbose=False)
    finally:
        mp.undo()
    return result, work, store


def test_main_job_says_which_split_it_used(oot_run):
    result, work, store = oot_run
    assert "out-of-time split by snapshot_month" in result.summary("en")
    assert "测试 2024-06（600 行）" in result.summary("zh")
    tag = MlflowClient(store).get_run(result.run_id).data.tags["bankml.split"]
    assert tag.startswith("out of time by snapshot_month: train 2024-03,2024-04,2024-05; test 2024-06")
    assert MlflowClient(store).get_run(result.run_id).data.metrics["data.test_customers"] == 600
    assert "out-of-time split" in (work / "outputs" / "report_en.html").read_text(encoding="utf-8")
    card = (work / "models" / "wm_propensity.md").read_text(encoding="utf-8")
    assert "out-of-time split by snapshot_month" in card and "test share" not in card
    assert result.registered_name == "oot"  # the single WM target keeps its name


def test_absent_test_month_in_the_main_job_writes_nothing(tmp_path, monkeypatch, snapshots):
    monkeypatch.chdir(tmp_path)
    for folder in ("models", "outputs"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "keep.txt").write_text("champion's file")
    cfg = {"data": {"synthetic": {"n": 10}}, "split": {"test": "2023-12"},
           "output": {"progress": False, "plots": False}}
    with pytest.raises(ConfigError, match=r"month 2023-12 is not in column 'snapshot_month' "
                                          r"\(months present: 2024-03"):
        pipeline.run(cfg, data=snapshots, tracking_uri="sqlite:///" + str(tmp_path / "m.db"),
                     verbose=False)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["keep.txt"]
