"""Every schema violation is reported with the column that has it and the first rows."""

import numpy as np
import pandas as pd
import pytest

from bankml.datasets import make_customers
from bankml.errors import BankmlError, SchemaError
from bankml.schema import (COLUMNS, HOLDING_FLAGS, LABEL, STAR_INPUTS, describe_schema,
                           validate_customers)


@pytest.fixture(scope="module")
def customers():
    return make_customers(200, seed=3)


def _problems(df, **kw):
    with pytest.raises(SchemaError) as info:
        validate_customers(df, **kw)
    return info.value


def test_valid_table_passes_and_is_returned(customers):
    assert validate_customers(customers, require_label=True) is customers


def test_contract_names_the_documented_columns():
    for name in ["customer_id", "age", "gender", "education", "occupation", "city_tier",
                 "tenure_months", *STAR_INPUTS, LABEL]:
        assert name in COLUMNS
    assert set(HOLDING_FLAGS) >= {
        "has_private_banking", "has_premier_wealth_card", "has_platinum_card", "has_wm_account",
        "has_gold_card", "has_standard_card", "has_fund", "has_insurance", "has_mortgage",
        "has_gold", "has_bonds"}
    assert len(STAR_INPUTS) == 8


def test_missing_column_is_named(customers):
    err = _problems(customers.drop(columns=["long_term_assets", "age"]))
    missing = {p.column for p in err.problems if p.check == "missing column"}
    assert missing == {"long_term_assets", "age"}
    assert "'long_term_assets'" in str(err) and "'age'" in str(err)


def test_missing_label_only_when_required(customers):
    no_label = customers.drop(columns=[LABEL])
    validate_customers(no_label)
    err = _problems(no_label, require_label=True)
    assert [p.column for p in err.problems] == [LABEL]


def test_wrong_dtype_is_named(customers):
    bad = customers.assign(card_spend=customers["card_spend"].astype(str))
    err = _problems(bad)
    assert err.problems[0].column == "card_spend"
    assert "wrong dtype" in err.problems[0].check
    bad = customers.assign(gender=np.where(customers["gender"] == "M", 1, 0))
    assert _problems(bad).problems[0].column == "gender"


def test_nan_where_not_allowed_names_rows(customers):
    bad = customers.copy()
    bad.loc[[5, 17], "short_term_assets"] = np.nan
    err = _problems(bad)
    (p,) = err.problems
    assert p.column == "short_term_assets" and p.rows == [5, 17] and p.n_rows == 2
    assert "5, 17" in str(err)


def test_nan_allowed_in_nullable_columns(customers):
    ok = customers.copy()
    ok.loc[3, "city_tier"] = np.nan
    ok["occupation"] = ok["occupation"].astype(object)
    ok.loc[4, "occupation"] = None
    validate_customers(ok)


def test_negative_balance_reports_first_rows_and_count(customers):
    bad = customers.copy()
    bad.loc[bad.index[10:20], "mortgage_loans"] = -1.0
    err = _problems(bad)
    (p,) = err.problems
    assert p.column == "mortgage_loans" and p.n_rows == 10 and p.rows == list(range(10, 15))
    assert "negative" in p.check and "10 row(s), positions [10, 11, 12, 13, 14]..." in str(err)


def test_duplicate_customer_id(customers):
    bad = customers.copy()
    bad.loc[7, "customer_id"] = bad.loc[2, "customer_id"]
    (p,) = _problems(bad).problems
    assert p.column == "customer_id" and p.rows == [2, 7]


def test_empty_table(customers):
    err = _problems(customers.iloc[:0])
    assert any("empty" in p.check for p in err.problems)


def test_out_of_range_and_unknown_values(customers):
    bad = customers.astype({"tenure_months": "float64"})
    bad.loc[0, "age"] = 7
    bad.loc[1, "has_fund"] = 2
    bad.loc[2, "education"] = "kindergarten"
    bad.loc[3, "tenure_months"] = 1.5
    bad.loc[4, "long_term_assets"] = np.inf
    err = _problems(bad)
    cols = {p.column: p for p in err.problems}
    assert set(cols) == {"age", "has_fund", "education", "tenure_months", "long_term_assets"}
    assert cols["age"].rows == [0] and cols["has_fund"].rows == [1]
    assert "kindergarten" in cols["education"].check
    assert "non-integer" in cols["tenure_months"].check
    assert "infinite" in cols["long_term_assets"].check


def test_extra_has_column_checked_as_flag_other_extras_ignored(customers):
    validate_customers(customers.assign(branch="north", score=1.5))
    err = _problems(customers.assign(has_credit_loan=0.5))
    assert err.problems[0].column == "has_credit_loan"


def test_duplicate_column_names(customers):
    bad = pd.concat([customers, customers[["age"]]], axis=1)
    err = _problems(bad)
    assert err.problems[0].column == "age" and "duplicate column" in err.problems[0].check


def test_every_problem_reported_at_once(customers):
    bad = customers.drop(columns=["gender"]).assign(card_spend=-1.0)
    bad.loc[0, "age"] = np.nan
    err = _problems(bad)
    assert {p.column for p in err.problems} == {"gender", "card_spend", "age"}
    assert "3 problems" in str(err)


def test_not_a_dataframe_and_error_hierarchy():
    with pytest.raises(SchemaError, match="DataFrame"):
        validate_customers([{"age": 1}])
    assert issubclass(SchemaError, BankmlError) and issubclass(SchemaError, ValueError)


def test_bool_flags_and_object_strings_accepted(customers):
    alt = customers.copy()
    alt["has_fund"] = alt["has_fund"].astype(bool)
    alt["gender"] = alt["gender"].astype(object)
    alt["education"] = alt["education"].astype("category")
    validate_customers(alt)


def test_unknown_required_name_is_an_error(customers):
    with pytest.raises(SchemaError, match="not documented"):
        validate_customers(customers, required=("nonsense",))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_describe_schema_has_every_column(lang):
    table = describe_schema(lang)
    assert list(table.index) == list(COLUMNS)
    assert table["label"].str.len().min() > 0


@pytest.mark.parametrize("ids, ok", [
    (lambda n: np.arange(n, dtype="int64"), True),
    (lambda n: pd.array(range(n), dtype="Int64"), True),
    (lambda n: pd.Series([f"c{i}" for i in range(n)], dtype="category"), True),
    (lambda n: np.arange(n, dtype="float64"), False),       # what a join leaves behind
    (lambda n: np.arange(n) % 2 == 0, False),
])
def test_customer_id_dtype(customers, ids, ok):
    df = customers.assign(customer_id=ids(len(customers)))
    if ok:
        validate_customers(df)
    else:
        p = _problems(df).problems[0]
        assert p.column == "customer_id" and "wrong dtype" in p.check


def test_rows_are_named_by_position_not_index_label(customers):
    # With an int64 (not range) index the message cites positions 1, 2, not labels 11, 12.
    bad = customers.set_axis(np.arange(len(customers)) + 10)
    bad.loc[[11, 12], "card_spend"] = -1.0
    err = _problems(bad)
    assert "2 row(s), positions [1, 2]" in str(err) and err.problems[0].rows == [1, 2]
    assert "11" not in str(err)


def test_frame_indexed_by_customer_id_never_shows_the_id(customers):
    # Issue 12.7: a Parquet file indexed by customer_id with one bad balance named the id.
    df = customers.copy()
    df["customer_id"] = [f"CUST-{i:06d}" for i in range(len(df))]
    df.loc[3, "short_term_assets"] = -5.0
    df.loc[4, "gender"] = "X"
    df.loc[6, "age"] = np.nan
    indexed = df.set_index("customer_id", drop=False).rename_axis(None)
    err = _problems(indexed)
    text = str(err)
    assert "CUST-" not in text
    assert "column 'short_term_assets': negative balances/amounts (expected >= 0); 1 row(s), positions [3]" in text
    assert "positions [4]" in text and "positions [6]" in text
    # the id column dropped into the index: same positions, still no id in the message
    by_id = df.set_index("customer_id")
    err = pytest.raises(SchemaError, validate_customers, by_id).value
    assert "CUST-" not in str(err) and "positions [3]" in str(err)


def test_required_accepts_a_single_name(customers):
    err = _problems(customers.drop(columns=["has_fund"]), required="has_fund")
    assert [p.column for p in err.problems] == ["has_fund"]


# Issue 12.13: an all-blank optional CSV column was refused as "wrong dtype float64".
def test_all_blank_optional_column_from_csv(customers, tmp_path):
    df = customers.assign(occupation=None, city_tier=None)
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    back = pd.read_csv(path)
    assert back["occupation"].dtype == "float64" and back["occupation"].isna().all()
    assert validate_customers(back) is back
    # a required column left blank is reported as blank, not as a wrong dtype
    blank = back.assign(gender=np.nan)
    (p,) = _problems(blank).problems
    assert p.column == "gender" and "entirely blank" in p.check and "dtype" not in p.check
    # a column with SOME values still has to have the right kind of values
    partly = back.assign(occupation=[np.nan, 3.0] + [np.nan] * (len(back) - 2))
    (p,) = _problems(partly).problems
    assert p.column == "occupation" and "wrong dtype float64" in p.check


def test_bool_is_a_category_but_never_an_id(customers):
    # Issue 16.3: the schema uses the one category test (bankml._dtypes); a bool column
    # is a category (so a bool gender fails on its values), and bool ids stay refused.
    (p,) = _problems(customers.assign(gender=True)).problems
    assert p.column == "gender" and "unknown values ['True']" in p.check
    ids = customers.assign(customer_id=np.arange(len(customers)) % 2 == 0)
    assert any(p.column == "customer_id" and "wrong dtype bool" in p.check
               for p in _problems(ids).problems)
    validate_customers(customers.assign(gender=customers["gender"].astype("category")))
