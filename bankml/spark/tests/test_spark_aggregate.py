"""Raw balances and transactions to star inputs in Spark equal the pandas functions, and every
bad input gives one DataError naming the column and counting rows and customers."""

import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark not installed: run `make test-spark`")
if shutil.which("java") is None:  # pragma: no cover - environment dependent
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from bankml.datasets._raw import make_raw_activity  # noqa: E402
from bankml.errors import DataError, InvalidParameterError  # noqa: E402
from bankml.schema import ID, STAR_INPUTS  # noqa: E402
from bankml.spark import aggregate_half_year, rate_months  # noqa: E402
from bankml.stars import StarPolicy  # noqa: E402
from bankml.stars import aggregate_half_year as pd_aggregate  # noqa: E402
from bankml.stars import rate_months as pd_rate_months  # noqa: E402

pytestmark = pytest.mark.spark

AS_OF = "2024-06-30"
POLICY = StarPolicy.default()
# Exact boundary cases beside the random rows: fee caps hit exactly and passed, discounts
# (waived, halved), the first and last day of the window, a customer with transactions only
# and one with balances only, points exactly on a level threshold.
CARD_500_POINTS = 500 * POLICY.unit / POLICY.weights["card_spend"]   # 12,500 yuan: 4 stars
HAND_TX = [
    ("cap_exact", "2024-03-01", "remittance", 50_000.0, 1.0),
    ("cap_exact", "2024-03-02", "remittance", 50_000.01, 0.8),
    ("cap_exact", "2024-01-01", "offsite_deposit", 10_000.0, 1.0),
    ("cap_exact", "2024-06-30", "offsite_withdrawal", 25_000.0, 0.5),
    ("waived", "2024-02-10", "fund_subscription", 900_000.0, 0.0),
    ("waived", "2024-02-11", "pos_debit", 3_000.0, 0.5),
    ("threshold", "2024-05-05", "pos_credit", CARD_500_POINTS, 1.0),
]
HAND_BAL = [
    ("edges", "2024-01-01", "time_deposit", 182_000.0),
    ("edges", "2024-06-30", "demand_savings", 364_000.0),
    ("edges", "2024-06-30", "housing_mortgage", 1_000_000.0),
]


def _tables(as_of=AS_OF, months=6, seed=3):
    bal, tx = make_raw_activity(150, 1_200, as_of=as_of, months=months, seed=seed)
    bal = pd.concat([bal, pd.DataFrame(HAND_BAL, columns=bal.columns).astype(
        {"date": bal["date"].dtype})], ignore_index=True)
    hand = pd.DataFrame(HAND_TX, columns=tx.columns)
    # Transactions keep their dates as year-first text, as they often come from a CSV.
    tx = pd.concat([tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d")), hand], ignore_index=True)
    return bal, tx


def _sdf(spark, df):
    return spark.createDataFrame(df.astype({c: object for c in df.columns
                                            if not pd.api.types.is_numeric_dtype(df[c].dtype)
                                            and not pd.api.types.is_datetime64_any_dtype(
                                                df[c].dtype)}))


@pytest.fixture(scope="module")
def raw(spark):
    bal, tx = _tables()
    return bal, tx, _sdf(spark, bal), _sdf(spark, tx)


def test_half_year_inputs_equal_the_pandas_function(raw):
    bal, tx, sbal, stx = raw
    expected = pd_aggregate(bal, tx, AS_OF).set_index(ID)
    got = aggregate_half_year(sbal, stx, AS_OF).toPandas().set_index(ID)
    assert list(got.columns) == list(STAR_INPUTS)
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    # Spark adds in its own order: equal up to the last bits of a float sum.
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-13, atol=0)
    # The hand rows, exactly: caps hit exactly and passed, discounts, window edges.
    assert got.loc["cap_exact", "settlement_tx"] == 50_000 + 50_000 * 0.8 + 10_000 + 10_000 * 0.5
    assert got.loc["waived", "investment_tx"] == 0.0
    assert got.loc["waived", "card_spend"] == 1_500.0
    assert got.loc["edges", ["long_term_assets", "short_term_assets", "mortgage_loans"]].tolist() \
        == [1_000.0, 2_000.0, 1_000_000 / 182]
    assert got.loc["edges", ["investment_tx", "card_spend", "settlement_tx"]].tolist() == [0.0] * 3
    assert got.loc["threshold", "card_spend"] == CARD_500_POINTS


def test_monthly_rating_equals_the_pandas_function(spark):
    # Seven months of rows rated at June and July: rows of January count only in June's
    # window, so customers idle in one window get zero points there, and a row on each.
    bal, tx = _tables(as_of="2024-07-31", months=7, seed=4)
    months = ["2024-06", "2024-07"]
    expected = pd_rate_months(bal, tx, months)
    got = rate_months(_sdf(spark, bal), _sdf(spark, tx), months).toPandas()
    assert list(got.columns) == ["month", ID, "star_points", "contribution_star"]
    got["month"] = pd.to_datetime(got["month"])
    key = ["month", ID]
    got = got.set_index(key).sort_index()
    expected = expected.set_index(key).sort_index()
    assert got.index.equals(expected.index)
    np.testing.assert_allclose(got["star_points"], expected["star_points"], rtol=1e-13, atol=0)
    np.testing.assert_array_equal(got["contribution_star"], expected["contribution_star"])
    # The exact threshold: 500 points is 4 stars, in both months holding its May row.
    assert got.loc[(slice(None), "threshold"), "contribution_star"].tolist() == [4, 4]
    # A customer whose only rows are in January: rated in June, zero in July.
    only_jan = set(bal.loc[bal["date"] < "2024-02-01", ID]) - set(bal.loc[bal["date"] >= "2024-02-01", ID]) \
        - set(tx[ID])
    if only_jan:
        c = sorted(only_jan)[0]
        july = got.loc[(pd.Timestamp("2024-07-31"), c)]
        assert july["star_points"] == 0 and july["contribution_star"] == 0
    assert (got.groupby(level=0).size() == len(set(bal[ID]) | set(tx[ID]))).all()


def test_unknown_codes_warned_and_dropped_as_in_pandas(spark):
    bal = pd.DataFrame([("a", "2024-03-01", "time_deposit", 18_200.0),
                        ("b", "2024-03-01", "crypto", 5.0)], columns=list(
                            ("customer_id", "date", "product", "balance")))
    tx = pd.DataFrame([("a", "2024-03-01", "pos_debit", 100.0, 1.0),
                       ("c", "2024-03-02", "lottery", 100.0, 1.0)],
                      columns=["customer_id", "date", "business", "amount", "discount"])
    with pytest.warns(UserWarning, match="dropped 1 row"):
        expected = pd_aggregate(bal, tx, AS_OF, unknown_codes="warn").set_index(ID)
    with pytest.warns(UserWarning, match=r"dropped 1 row\(s\) with unknown product code\(s\) \['crypto'\]"):
        got = aggregate_half_year(_sdf(spark, bal), _sdf(spark, tx), AS_OF,
                                  unknown_codes="warn").toPandas().set_index(ID)
    # b and c keep their row, with zeros, as in pandas.
    assert got.loc[expected.index].equals(expected)
    with pytest.raises(DataError, match=r"unknown codes \['crypto'\].*1 row\(s\) of 1 customer"):
        aggregate_half_year(_sdf(spark, bal), _sdf(spark, tx), AS_OF)
    with pytest.raises(InvalidParameterError, match="unknown_codes"):
        aggregate_half_year(_sdf(spark, bal), _sdf(spark, tx), AS_OF, unknown_codes="drop")


def test_bad_values_are_counted_by_column_never_listed(spark):
    ids = ["C0001", "C0002", "C0003", "C0004", "C0005"]
    bal = pd.DataFrame({
        ID: [ids[0], None, ids[1], ids[2], ids[2], ids[3], ids[4]],
        "date": ["2024-03-01", "2024-03-01", "2024-03-01", "2023-12-31", "06/07/2024",
                 "2024-03-02", "2024-03-03"],
        "product": ["fund", "fund", "fund", "fund", "fund", "fund", None],
        "balance": [-1.0, 5.0, np.nan, 3.0, 3.0, -2.0, 1.0],
    })
    tx = pd.DataFrame({ID: [ids[0]], "date": ["2024-03-01"], "business": ["pos_debit"],
                       "amount": [1.0], "discount": [1.5]})
    with pytest.raises(DataError) as err:
        aggregate_half_year(_sdf(spark, bal), _sdf(spark, tx), AS_OF)
    msg = str(err.value)
    assert "balances table has bad values" in msg
    assert "column 'balance': negative balances (expected >= 0); 2 row(s) of 2 customer(s)" in msg
    assert "column 'balance': missing values (NULL or NaN)" in msg
    assert "column 'customer_id': missing values" in msg
    assert "column 'date': not a date" in msg and "column 'date': dates outside" in msg
    assert "column 'product': missing values" in msg
    assert not any(i in msg for i in ids)
    by_check = {(p.column, p.check): p for p in err.value.problems}
    assert by_check[("balance", "negative balances")].n_rows == 2
    # The transactions are checked too, once the balances pass.
    good_bal = bal.iloc[[0]].assign(balance=1.0)
    with pytest.raises(DataError, match=r"column 'discount': values above 1.*1 row\(s\) of 1 "
                                        r"customer"):
        aggregate_half_year(_sdf(spark, good_bal), _sdf(spark, tx), AS_OF)


def test_table_shape_errors_before_any_spark_job(spark):
    bal, tx = _tables()
    sbal, stx = _sdf(spark, bal.head(5)), _sdf(spark, tx.head(5))
    with pytest.raises(DataError, match=r"column 'balance': missing columns"):
        aggregate_half_year(sbal.drop("balance"), stx, AS_OF)
    with pytest.raises(DataError, match=r"column 'branch': unexpected columns"):
        aggregate_half_year(sbal, stx.withColumn("branch", stx["amount"]), AS_OF)
    with pytest.raises(DataError, match=r"column 'amount': wrong dtype string"):
        aggregate_half_year(sbal, stx.withColumn("amount", stx["amount"].cast("string")), AS_OF)
    with pytest.raises(DataError, match=r"the table 'no_such_db.balances' does not exist"):
        aggregate_half_year("no_such_db.balances", stx, AS_OF)
    with pytest.raises(DataError, match="must be a Spark DataFrame or a table name"):
        aggregate_half_year(bal, stx, AS_OF)
    with pytest.raises(DataError, match="months must be a list"):
        rate_months(sbal, stx, "2024-06")


def test_tables_by_name_repeated_days_and_id_types(spark):
    bal = pd.DataFrame([("a", "2024-03-01", "fund", 1.0), ("a", "2024-03-01", "fund", 2.0),
                        ("b", "2024-03-01", "fund", 2.0)], columns=["customer_id", "date",
                                                                  "product", "balance"])
    tx = pd.DataFrame([("a", "2024-03-01", "pos_debit", 100.0, 1.0)],
                      columns=["customer_id", "date", "business", "amount", "discount"])
    _sdf(spark, bal).createOrReplaceTempView("f1_balances")
    _sdf(spark, tx).createOrReplaceTempView("f1_transactions")
    try:
        with pytest.raises(DataError, match=r"more than one balance row for a customer, product "
                                            r"and day.*2 row\(s\) of 1 customer"):
            aggregate_half_year("f1_balances", "f1_transactions", AS_OF)
        ok = aggregate_half_year(_sdf(spark, bal.iloc[1:]), "f1_transactions", AS_OF)
        assert ok.toPandas().set_index(ID).loc["a", "card_spend"] == 100.0
    finally:
        spark.catalog.dropTempView("f1_balances")
        spark.catalog.dropTempView("f1_transactions")
    numeric = _sdf(spark, tx.assign(customer_id=7))
    with pytest.raises(DataError, match="ids are number here but string in the balances"):
        aggregate_half_year(_sdf(spark, bal.iloc[1:]), numeric, AS_OF)


def test_rows_between_distant_months_are_refused(spark):
    bal = pd.DataFrame([("a", "2024-03-01", "fund", 1.0), ("b", "2024-08-15", "fund", 2.0)],
                       columns=["customer_id", "date", "product", "balance"])
    tx = pd.DataFrame([("a", "2024-03-01", "pos_debit", 100.0, 1.0)],
                      columns=["customer_id", "date", "business", "amount", "discount"])
    with pytest.raises(DataError, match="in no month's window") as pandas_err:
        pd_rate_months(bal, tx, ["2024-06", "2025-03"])
    with pytest.raises(DataError, match=r"in no month's window.*1 row\(s\) of 1 customer") as err:
        rate_months(_sdf(spark, bal), _sdf(spark, tx), ["2024-06", "2025-03"])
    assert "2024-07-01 to 2024-09-30" in str(err.value) and \
        "2024-07-01 to 2024-09-30" in str(pandas_err.value)
