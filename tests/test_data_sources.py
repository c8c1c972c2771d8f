"""Issue 14.3: data sources -- CSV in a named or detected encoding, Parquet files and folders,
SQL through SQLAlchemy (SQLite, DuckDB) -- reading only the needed columns, the bank's own
column names mapped right after reading, and batches for scoring."""

import codecs

import numpy as np
import pandas as pd
import pytest

from bankml import pipeline
from bankml.config import validate_config
from bankml.datasets import make_customers
from bankml.errors import ConfigError, DataError
from bankml.pipeline import DataSource

#: the bank's own names for a few schema columns (Chinese headers, as a GBK export has them)
THEIRS = {"客户编号": "customer_id", "年龄": "age", "性别": "gender", "学历": "education",
          "长期资产": "long_term_assets"}


def _bank_table(n=60, seed=3):
    df = make_customers(n, seed=seed)
    return df.rename(columns={v: k for k, v in THEIRS.items()})


def _source(path, **data):
    cfg = validate_config({"data": {"path": str(path), **data}})
    return DataSource.from_config(cfg)


# ---------------------------------------------------------------- CSV encodings
def test_gbk_csv_with_chinese_headers_auto_detected_and_mapped(tmp_path):
    bank = _bank_table()
    bank["分行"] = "北京分行"
    bank.to_csv(tmp_path / "bank.csv", index=False, encoding="gbk")
    src = _source(tmp_path / "bank.csv", encoding="auto", columns=THEIRS)
    got = src.read(columns=["customer_id", "age", "long_term_assets"]).frame
    assert list(got.columns) == ["customer_id", "age", "long_term_assets"]
    assert got["age"].tolist() == bank["年龄"].tolist()
    assert got["customer_id"].tolist() == bank["客户编号"].tolist()
    # read whole, the extra (unmapped) Chinese column keeps its name and text
    whole = src.read().frame
    assert (whole["分行"] == "北京分行").all() and "年龄" not in whole.columns


def test_main_job_loads_a_mapped_gbk_csv(tmp_path):
    bank = _bank_table(200)
    bank.to_csv(tmp_path / "bank.csv", index=False, encoding="gbk")
    cfg = validate_config({"data": {"path": str(tmp_path / "bank.csv"), "encoding": "auto",
                                    "columns": THEIRS}})
    got = pipeline.load_data(cfg).frame  # validated against the schema, label and all
    assert len(got) == 200 and got["age"].tolist() == bank["年龄"].tolist()


def test_utf8_bom_is_read_without_the_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + "年龄,客户编号\n30,C1\n".encode("utf-8"))
    src = _source(path, encoding="auto", columns={"年龄": "age"})
    assert src.read().frame.columns.tolist() == ["age", "客户编号"]


def test_plain_ascii_is_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("customer_id,age\nC1,30\n")
    assert pipeline.detect_encoding(path) == "utf-8"


def test_neither_utf8_nor_gbk_names_file_offset_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    head = "年龄,客户编号\n30,C1\n".encode("utf-8")
    path.write_bytes(head + b"4\xff,C2\n")  # 0xFF starts no UTF-8 and no GB18030 character
    bad = len(head) + 1
    with pytest.raises(DataError) as err:
        _source(path, encoding="auto").read()
    msg = str(err.value)
    assert msg.startswith("data file bad.csv is neither UTF-8")
    assert msg.count(f"offset {bad}, line 3") == 2 and "nor GBK/GB18030" in msg


def test_named_encoding_reports_the_byte_in_the_file_not_in_a_buffer(tmp_path):
    # far past pandas' read buffer: the offset must count from the start of the file
    lines = ["customer_id,age"] + [f"C{i},{i % 90}" for i in range(60_000)]
    good = ("\n".join(lines) + "\n").encode("utf-8")
    path = tmp_path / "big.csv"
    path.write_bytes(good + "C9,北京\n".encode("gbk"))
    with pytest.raises(DataError) as err:
        _source(path).read()
    assert f"offset {len(good) + 3:,}, line 60,002" in str(err.value)
    assert "big.csv is not utf-8 text" in str(err.value)


def test_auto_is_a_valid_encoding_but_a_typo_is_not():
    assert validate_config({"data": {"path": "x.csv", "encoding": "AUTO"}})["data"]["encoding"] == "AUTO"
    with pytest.raises(ConfigError, match="data.encoding"):
        validate_config({"data": {"path": "x.csv", "encoding": "gbx"}})


# ---------------------------------------------------------------- column mapping
def test_mapped_and_original_name_both_present_is_refused(tmp_path):
    bank = _bank_table(10)
    bank["age"] = 1  # the file has its own 'age' too: which one is meant?
    bank.to_csv(tmp_path / "both.csv", index=False)
    with pytest.raises(DataError, match=r"maps '年龄' to 'age', but the source already has"):
        _source(tmp_path / "both.csv", columns=THEIRS).read()


def test_two_columns_mapped_to_one_name_is_refused(tmp_path):
    bank = _bank_table(10)
    bank["年纪"] = bank["年龄"]
    bank.to_csv(tmp_path / "two.csv", index=False)
    # the config check refuses it before any file is opened
    with pytest.raises(ConfigError, match=r"'年龄' and '年纪' are both mapped to 'age'"):
        _source(tmp_path / "two.csv", columns={**THEIRS, "年纪": "age"}).read()


def test_missing_needed_column_names_it_with_its_mapping(tmp_path):
    _bank_table(10).drop(columns=["年龄"]).to_csv(tmp_path / "m.csv", index=False)
    src = _source(tmp_path / "m.csv", columns=THEIRS)
    with pytest.raises(DataError, match=r"m\.csv has no column '年龄' \(data.columns maps it to 'age'\)"):
        next(src.iter_batches(["customer_id", "age"], 5))
    assert src.available(["customer_id", "age", "gender"]) == ["customer_id", "gender"]


@pytest.mark.parametrize("bad", [{"a": 1}, {"": "age"}, {"a": None}])
def test_columns_must_map_text_to_text(bad):
    with pytest.raises(ConfigError, match=r"data\.columns"):
        validate_config({"data": {"path": "x.csv", "columns": bad}})


# ---------------------------------------------------------------- batches
@pytest.mark.parametrize("fmt", ["csv", "parquet", "parquet_dir"])
def test_batches_equal_the_whole_table_with_global_positions(tmp_path, fmt):
    bank = _bank_table(257)
    if fmt == "csv":
        path = tmp_path / "b.csv"
        bank.to_csv(path, index=False, encoding="gbk")
        src = _source(path, encoding="auto", columns=THEIRS)
    elif fmt == "parquet":
        path = tmp_path / "b.parquet"
        bank.to_parquet(path, row_group_size=50)
        src = _source(path, columns=THEIRS)
    else:
        path = tmp_path / "parts"
        path.mkdir()
        for i, part in enumerate(np.array_split(np.arange(len(bank)), 3)):
            bank.iloc[part].to_parquet(path / f"part-{i}.parquet")
        src = _source(path, columns=THEIRS)
    cols = ["customer_id", "age", "gender", "card_spend"]
    batches = list(src.iter_batches(cols, batch_rows=40))
    assert all(len(b) <= 40 for b in batches) and all(list(b.columns) == cols for b in batches)
    joined = pd.concat(batches)
    assert joined.index.tolist() == list(range(257))  # row positions in the whole source
    whole = src.read(columns=cols).frame
    assert joined["customer_id"].tolist() == bank["客户编号"].tolist()
    pd.testing.assert_frame_equal(joined.reset_index(drop=True), whole, check_dtype=False)


def test_batch_rows_must_be_a_positive_int(tmp_path):
    from bankml.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="batch_rows"):
        next(DataSource.synthetic(10).iter_batches(["age"], batch_rows=0))


def test_parquet_folder_without_parquet_files_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"is a folder; expected a \.csv or \.parquet file"):
        _source(tmp_path / "empty")


def test_parquet_indexed_by_id_batches_keep_the_id_column(tmp_path):
    bank = make_customers(30, seed=1).set_index("customer_id")
    bank.to_parquet(tmp_path / "i.parquet")
    src = _source(tmp_path / "i.parquet")
    got = pd.concat(src.iter_batches(["customer_id", "age"], 7))
    assert got["customer_id"].tolist() == bank.index.tolist()


def test_only_needed_csv_columns_are_parsed(tmp_path, monkeypatch):
    _bank_table(20).to_csv(tmp_path / "u.csv", index=False)
    seen = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        seen.append(kwargs.get("usecols"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    src = _source(tmp_path / "u.csv", columns=THEIRS)
    list(src.iter_batches(["customer_id", "age"], 8))
    assert ["客户编号", "年龄"] in seen


# ---------------------------------------------------------------- SQL
def _sqlite(tmp_path, df, table="customers"):
    import sqlalchemy as sa

    url = "sqlite:///" + str(tmp_path / "bank.db")
    df.to_sql(table, sa.create_engine(url), index=False)
    return url


def test_sqlite_table_reads_only_the_needed_columns_mapped(tmp_path):
    import sqlalchemy as sa

    bank = _bank_table(80)
    url = _sqlite(tmp_path, bank, "客户表")
    cfg = validate_config({"data": {"sql": {"url": url, "table": "客户表"}, "columns": THEIRS}})
    src = DataSource.from_config(cfg)
    seen = []

    def spy(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", spy)
    try:
        got = src.read(columns=["customer_id", "age"]).frame
        batches = list(src.iter_batches(["customer_id", "age"], 30))
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", spy)
    assert got["age"].tolist() == bank["年龄"].tolist()
    assert got["customer_id"].dtype == "string"
    assert [len(b) for b in batches] == [30, 30, 20]
    reads = [s for s in seen if "LIMIT" not in s.upper()]
    assert reads and all('"年龄"' in s and "性别" not in s and "*" not in s for s in reads)
    assert "database 客户表 (80 rows)" == src.describe(80, lang="en")


def test_sqlite_query_source(tmp_path):
    bank = _bank_table(50)
    url = _sqlite(tmp_path, bank)
    cfg = validate_config({"data": {"sql": {"url": url, "query": "SELECT * FROM customers "
                                            "WHERE 年龄 >= 40;"}, "columns": THEIRS}})
    got = DataSource.from_config(cfg).read(columns=["age"]).frame
    assert got["age"].tolist() == [a for a in bank["年龄"] if a >= 40]


def test_duckdb_source(tmp_path):
    pytest.importorskip("duckdb_engine")
    import duckdb

    bank = _bank_table(70)
    db = tmp_path / "bank.duckdb"
    con = duckdb.connect(str(db))
    con.register("bank_df", bank)
    con.execute("CREATE TABLE customers AS SELECT * FROM bank_df")
    con.close()
    cfg = validate_config({"data": {"sql": {"url": f"duckdb:///{db}", "table": "customers"},
                                    "columns": THEIRS}})
    src = DataSource.from_config(cfg)
    joined = pd.concat(src.iter_batches(["customer_id", "age", "card_spend"], 25))
    assert joined["age"].tolist() == bank["年龄"].tolist()
    assert joined["card_spend"].tolist() == pytest.approx(bank["card_spend"].tolist())


def test_sql_errors_name_the_table_and_never_the_password(tmp_path):
    url = _sqlite(tmp_path, _bank_table(5))
    cfg = validate_config({"data": {"sql": {"url": url, "table": "no_such"}}})
    with pytest.raises(DataError, match=r"SQL table 'no_such' in sqlite:///.*cannot be read"):
        DataSource.from_config(cfg).read()
    cfg = validate_config({"data": {"sql": {"url": "nosuchdb://bank:s3cret@host/db", "table": "t"}}})
    with pytest.raises(ConfigError, match=r"data\.sql\.url") as err:
        DataSource.from_config(cfg).read()
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_sql_url_password_never_reaches_mlflow_params():
    from bankml.config import flatten_config

    cfg = validate_config({"data": {"sql": {"url": "postgresql://bank:s3cret@db/dw", "table": "t"}}})
    assert flatten_config(cfg)["data.sql.url"] == "postgresql://bank:***@db/dw"


@pytest.mark.parametrize("sql, word", [({"url": "sqlite://"}, "exactly one of table"),
                                       ({"url": "sqlite://", "table": "t", "query": "q"}, "exactly one"),
                                       ({"table": "t"}, "needs url"),
                                       ({"url": "sqlite://", "tabel": "t"}, "unknown key 'tabel'")])
def test_sql_config_keys(sql, word):
    with pytest.raises(ConfigError, match=word):
        validate_config({"data": {"sql": sql}})


def test_one_source_only():
    with pytest.raises(ConfigError, match="exactly one of"):
        validate_config({"data": {"path": "a.csv", "sql": {"url": "sqlite://", "table": "t"}}})


def test_the_main_job_on_a_sql_table_with_chinese_headers(tmp_path, monkeypatch):
    """Issue 14's done-when: the main job itself on a SQL source (SQLite here), mapped."""
    from bankml import pipeline

    bank = _bank_table(1500, seed=5)
    url = _sqlite(tmp_path, bank, "客户表")
    monkeypatch.chdir(tmp_path)
    cfg = {"data": {"sql": {"url": url, "table": "客户表"}, "columns": THEIRS},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False}, "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "sql", "registered_model": "sql"}}
    result = pipeline.run(cfg, tracking_uri="sqlite:///" + str(tmp_path / "m.db"), verbose=False)
    assert result.fidelity.ok and result.fidelity.n_rows == 450
    assert result.metrics.loc["infogain_tree", "auc"] > 0.6
    assert "客户表" in result.data_source["en"]
    # the model read the mapped columns under bankml's names
    names = result.rules.ruleset.feature_names
    assert "age" in names and "年龄" not in names
