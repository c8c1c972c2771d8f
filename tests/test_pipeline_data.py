"""Issue 12.7/12.8: every unusable data source is a clear DataError, before any work.

Each test reproduces a reported raw traceback (or a message naming a customer id).
"""

import re

import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.config import validate_config
from bankml.datasets import make_customers
from bankml.errors import BankmlError, DataError, PublishError

ID = re.compile(r"C\d{12}")


@pytest.fixture
def cfg():
    return validate_config({"data": {"path": "unused.csv"}})


def _load(cfg, path):
    return pipeline.load_data(cfg, path)


def test_zero_byte_csv(cfg, tmp_path):
    (tmp_path / "c.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"c\.csv is empty \(0 bytes\)"):
        _load(cfg, tmp_path / "c.csv")


def test_header_only_csv(cfg, tmp_path):
    make_customers(5, seed=1).head(0).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(DataError, match=r"c\.csv has no customer rows"):
        _load(cfg, tmp_path / "c.csv")


def test_gbk_csv_is_named_not_a_unicode_traceback(cfg, tmp_path):
    df = make_customers(40, seed=2)
    df["branch"] = "北京分行"  # any Chinese text: GBK bytes are not UTF-8
    df.to_csv(tmp_path / "gbk.csv", index=False, encoding="gbk")
    # the job reads only the columns it uses: the branch must be one of them
    feats = {"categorical": ["gender", "education", "branch"]}
    cfg = validate_config({"data": {"path": "unused.csv"}, "features": feats})
    with pytest.raises(DataError, match=r"gbk\.csv is not utf-8 text.*re-save it as UTF-8"):
        _load(cfg, tmp_path / "gbk.csv")
    # with the encoding named in the config, the same file reads
    named = validate_config({"data": {"path": str(tmp_path / "gbk.csv"), "encoding": "gb18030"},
                             "features": feats})
    got = pipeline.load_data(named).frame
    assert (got["branch"] == "北京分行").all() and len(got) == 40


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_corrupt_parquet(cfg, tmp_path, content):
    path = tmp_path / "c.parquet"
    if content == "garbage":
        path.write_bytes(b"PAR1" + b"\x00not parquet at all" * 10 + b"PAR1")
    else:
        make_customers(200, seed=3).to_parquet(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=r"c\.parquet cannot be read as Parquet") as err:
        _load(cfg, path)
    assert len(str(err.value)) < 400


def test_folder_and_unknown_suffix(cfg, tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(DataError, match=r"is a folder; expected a \.csv or \.parquet file"):
        _load(cfg, tmp_path / "d.csv")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(DataError, match=r"expected a \.csv or \.parquet file, got '\.json'"):
        _load(cfg, tmp_path / "c.json")


def test_parquet_indexed_by_customer_id_names_positions_not_ids(cfg, tmp_path):
    df = make_customers(300, seed=4)
    df.loc[7, "short_term_assets"] = -5.0
    bad_id = df.loc[7, "customer_id"]
    df.set_index("customer_id").to_parquet(tmp_path / "c.parquet")
    with pytest.raises(BankmlError) as err:
        _load(cfg, tmp_path / "c.parquet")
    msg = str(err.value)
    assert "short_term_assets" in msg and "7" in msg
    assert bad_id not in msg and not ID.search(msg)
    # the ids come back as the customer_id column: a good file indexed this way loads
    df.loc[7, "short_term_assets"] = 5.0
    df.set_index("customer_id").to_parquet(tmp_path / "ok.parquet")
    got = _load(cfg, tmp_path / "ok.parquet").frame
    assert list(got.index[:3]) == [0, 1, 2] and got["customer_id"].iloc[7] == bad_id


@pytest.mark.parametrize("buyers, needed", [(1, "at least 2 of each class"),
                                            (0, "single class")])
def test_too_few_buyers_to_stratify(cfg, buyers, needed):
    df = make_customers(500, seed=5)
    df["wm_buyer"] = 0
    df.loc[: buyers - 1, "wm_buyer"] = 1 if buyers else 0
    with pytest.raises(DataError, match=needed) as err:
        pipeline.load_data(cfg, df)
    # the class reads as the user wrote it (1), not as a NumPy repr (np.int64(1))
    assert "np." not in str(err.value)
    with pytest.raises(DataError, match=needed):
        pipeline.split_customers(df, cfg)


def _small_cfg(**output):
    return {"data": {"synthetic": {"n": 600, "seed": 4}},
            "segments": {"enabled": False}, "association": {"enabled": False},
            "outliers": {"enabled": False},
            "output": {"progress": False, "plots": False, **output},
            "mlflow": {"experiment": "t", "registered_model": "t-model"}}


@pytest.mark.parametrize("which", ["models_dir", "reports_dir"])
def test_output_path_being_a_file_fails_before_any_work(tmp_path, monkeypatch, which):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("not a folder")
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    with pytest.raises(PublishError, match="blocker"):
        pipeline.run(_small_cfg(**{which: "blocker/sub"}), tracking_uri=store, verbose=False)
    # refused before the MLflow run started: no run, the file untouched, nothing created
    assert (tmp_path / "blocker").read_text() == "not a folder"
    client = MlflowClient(store)
    exp = client.get_experiment_by_name("t")
    assert exp is None or client.search_runs([exp.experiment_id]) == []
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "models").exists()
