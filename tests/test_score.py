"""Issue 14.5: `bankml score` -- a registered model over a table read in batches; one row per
customer with score, decile, rule and star; atomic output; an MLflow run without ids; every
bad input one clear line with nothing written."""

import re

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from bankml import cli
from bankml._resources import config_path
from bankml.datasets import make_customers
from bankml.pipeline._score import SCORE_COLUMNS, _decile_cuts
from bankml.rules import rules_from_pipeline, simplify, to_text
from bankml.schema import STAR_INPUTS
from bankml.stars import StarScorer

QUICK = str(config_path("quickstart.yaml"))
MODEL = "models:/bankml-quickstart@champion"
ID = re.compile(r"C\d{12}")
THEIRS = {"客户编号": "customer_id", "年龄": "age", "性别": "gender", "学历": "education",
          "长期资产": "long_term_assets"}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """This month's customers (another seed than training), as Parquet."""
    d = tmp_path_factory.mktemp("month")
    df = make_customers(2_345, seed=11)
    df.to_parquet(d / "month.parquet")
    return df, d / "month.parquet"


def _score(tmp_path, uri, *argv):
    return cli.main(["score", QUICK, "--model", MODEL, "--tracking-uri", uri, *argv])


def _one_error(capsys, *words):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bankml: error: "), err
    for w in words:
        assert w in err[0], err[0]
    return err[0]


def _expected_deciles(score: np.ndarray) -> np.ndarray:
    """The documented rule, counted directly: 1 + floor(10 * #(strictly higher) / n)."""
    ordered = np.sort(score)
    higher = len(score) - np.searchsorted(ordered, score, side="right")
    return np.minimum(1 + 10 * higher // len(score), 10)


def test_scores_file_is_the_model_the_rules_and_the_stars(quickstart_run, month, tmp_path, capsys):
    result, work, uri = quickstart_run
    df, path = month
    out = tmp_path / "scores.parquet"
    assert _score(tmp_path, uri, "--data", str(path), "--out", str(out),
                  "--batch-rows", "500") == 0
    assert "2,345 customers scored with bankml-quickstart version" in capsys.readouterr().out
    got = pd.read_parquet(out)
    assert tuple(got.columns) == SCORE_COLUMNS and len(got) == len(df)
    assert got["customer_id"].tolist() == df["customer_id"].tolist()
    X = df[result.model.feature_names_in_]
    np.testing.assert_array_equal(got["score"].to_numpy(), result.model.predict_proba(X)[:, 1])
    rules = simplify(rules_from_pipeline(result.model, 1, label_column="wm_buyer"))
    fired = rules.apply(X)
    ids = np.array([r.rule_id for r in rules.rules])
    assert got["rule_id"].tolist() == np.where(fired >= 0, ids[fired], 0).tolist()
    lines = to_text(rules, lang="en").split("\n")
    first = got.groupby("rule_id")["rule"].first()
    for rid, text in first.items():
        want = lines[-1] if rid == 0 else lines[list(ids).index(rid)].split(". ", 1)[1]
        assert text == want
    stars = StarScorer().contribution_star(df[list(STAR_INPUTS)])
    assert got["star"].tolist() == stars.tolist()
    np.testing.assert_array_equal(got["decile"].to_numpy(), _expected_deciles(got["score"].to_numpy()))
    # equal scores share a decile, and a higher decile number never has a higher score
    assert (got.groupby("score")["decile"].nunique() == 1).all()
    by = got.groupby("decile")["score"]
    assert (by.min().shift(1).dropna() >= by.max().iloc[1:]).all()


def test_the_run_is_logged_without_ids(quickstart_run, month, tmp_path):
    result, work, uri = quickstart_run
    df, path = month
    assert _score(tmp_path, uri, "--data", str(path), "--out", str(tmp_path / "s.parquet")) == 0
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("bankml-quickstart-scoring")
    run = client.search_runs([exp.experiment_id], order_by=["start_time DESC"])[0]
    m = run.data.metrics
    assert run.info.status == "FINISHED" and m["score.customers"] == len(df)
    assert sum(m[f"score.decile_{d}"] for d in range(1, 11)) == len(df)
    assert m["score.q01"] <= m["score.q50"] <= m["score.q99"]
    assert m["score.rule_disagreements"] == 0
    assert run.data.tags["bankml.score.model"] == "bankml-quickstart"
    assert run.data.tags["bankml.score.model_version"] == str(result.registered["version"])
    logged = " ".join(map(str, [*run.data.params.values(), *run.data.tags.values(), *m]))
    assert not ID.search(logged)


def test_bank_names_gbk_csv_and_chinese_rules(quickstart_run, tmp_path, capsys):
    """The bank's own export: Chinese headers, GBK, no star inputs (stars left empty)."""
    import yaml

    _, _, uri = quickstart_run
    df = make_customers(600, seed=5)
    absent = ["mortgage_loans", "other_loans", "card_overdraft", "card_spend", "settlement_tx"]
    bank = df.drop(columns=absent).rename(columns={v: k for k, v in THEIRS.items()})
    bank.to_csv(tmp_path / "bank.csv", index=False, encoding="gbk")
    cfg = yaml.safe_load(open(QUICK, encoding="utf-8"))
    cfg["data"] = {"path": str(tmp_path / "bank.csv"), "encoding": "auto", "columns": THEIRS}
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "s.parquet"
    code = cli.main(["score", str(tmp_path / "bank.yaml"), "--model", MODEL, "--tracking-uri",
                     uri, "--out", str(out), "--lang", "zh", "--batch-rows", "128"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "star levels: not computed (no mortgage_loans" in printed
    got = pd.read_parquet(out)
    assert got["customer_id"].tolist() == df["customer_id"].tolist()
    assert got["star"].isna().all()
    assert got["rule"].str.contains("如果|否则").all()


def test_joblib_model_scores_like_the_registry_and_checks_its_checksum(quickstart_run, month,
                                                                         tmp_path, capsys):
    result, work, uri = quickstart_run
    df, path = month
    joblib = work / "models" / "wm_propensity_quickstart.joblib"
    out = tmp_path / "j.parquet"
    assert cli.main(["score", QUICK, "--model", str(joblib), "--data", str(path), "--out",
                     str(out), "--tracking-uri", uri]) == 0
    np.testing.assert_array_equal(pd.read_parquet(out)["score"].to_numpy(),
                                  result.model.predict_proba(df[result.model.feature_names_in_])[:, 1])
    tampered = tmp_path / "t.joblib"
    tampered.write_bytes(joblib.read_bytes() + b"x")
    (tmp_path / "t.joblib.sha256").write_text(
        (work / "models" / "wm_propensity_quickstart.joblib.sha256").read_text())
    capsys.readouterr()
    assert cli.main(["score", QUICK, "--model", str(tampered), "--data", str(path), "--out",
                     str(tmp_path / "t.parquet"), "--tracking-uri", uri]) == 2
    _one_error(capsys, "SHA-256")
    assert not (tmp_path / "t.parquet").exists()


# ---------------------------------------------------------------- bad input: nothing written
def _nothing_written(tmp_path, out, before=None):
    if before is None:
        assert not out.exists()
    else:
        assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}")]


def test_model_uri_that_does_not_resolve(quickstart_run, month, tmp_path, capsys):
    _, _, uri = quickstart_run
    out = tmp_path / "s.parquet"
    for model in ("models:/no-such-model@champion", "models:/bankml-quickstart@nope",
                  "models:/bankml-quickstart/999"):
        assert cli.main(["score", QUICK, "--model", model, "--data", str(month[1]), "--out",
                         str(out), "--tracking-uri", uri]) == 2
        _one_error(capsys, f"model URI '{model}' does not resolve")
    assert cli.main(["score", QUICK, "--model", "model.pkl", "--data", str(month[1]), "--out",
                     str(out), "--tracking-uri", uri]) == 2
    _one_error(capsys, "expected models:/NAME@ALIAS")
    _nothing_written(tmp_path, out)


def test_scoring_file_lacking_a_feature_names_it(quickstart_run, tmp_path, capsys):
    _, _, uri = quickstart_run
    make_customers(50, seed=2).drop(columns=["investment_tx"]).to_parquet(tmp_path / "m.parquet")
    out = tmp_path / "s.parquet"
    assert _score(tmp_path, uri, "--data", str(tmp_path / "m.parquet"), "--out", str(out)) == 2
    _one_error(capsys, "m.parquet has no column 'investment_tx'")
    _nothing_written(tmp_path, out)


def test_bad_value_in_a_later_batch_names_column_and_position_and_keeps_old_file(
        quickstart_run, tmp_path, capsys):
    _, _, uri = quickstart_run
    df = make_customers(900, seed=4)
    df.to_csv(tmp_path / "d.csv", index=False)
    text = (tmp_path / "d.csv").read_text().splitlines()
    cols = text[0].split(",")
    row = text[1 + 777].split(",")
    row[cols.index("age")] = "abc"
    text[1 + 777] = ",".join(row)
    (tmp_path / "d.csv").write_text("\n".join(text) + "\n")
    out = tmp_path / "s.parquet"
    out.write_bytes(b"last month's scores")
    assert _score(tmp_path, uri, "--data", str(tmp_path / "d.csv"), "--out", str(out),
                  "--batch-rows", "200") == 2
    msg = _one_error(capsys, "column 'age' must hold numbers", "row 777")
    assert not ID.search(msg)
    _nothing_written(tmp_path, out, before=b"last month's scores")


@pytest.mark.parametrize("value, words", [(np.inf, "infinite value at row 3"),
                                          (None, "empty at row 3")])
def test_infinite_feature_or_missing_id(quickstart_run, tmp_path, capsys, value, words):
    _, _, uri = quickstart_run
    df = make_customers(20, seed=4)
    if value is None:
        df["customer_id"] = df["customer_id"].astype(object)
        df.loc[3, "customer_id"] = None
    else:
        df.loc[3, "long_term_assets"] = value
    df.to_parquet(tmp_path / "d.parquet")
    out = tmp_path / "s.parquet"
    assert _score(tmp_path, uri, "--data", str(tmp_path / "d.parquet"), "--out", str(out)) == 2
    _one_error(capsys, words)
    _nothing_written(tmp_path, out)


@pytest.mark.parametrize("out, words", [("s.csv", "name a .parquet file"),
                                        ("nofolder/s.parquet", "does not exist")])
def test_bad_output_path(quickstart_run, month, tmp_path, capsys, out, words):
    _, _, uri = quickstart_run
    assert _score(tmp_path, uri, "--data", str(month[1]), "--out", str(tmp_path / out)) == 2
    _one_error(capsys, words)


def test_batch_rows_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        cli.main(["score", QUICK, "--model", MODEL, "--batch-rows", "0"])
    _one_error(capsys, "--batch-rows")


@pytest.mark.parametrize("seed", range(5))
def test_deciles_follow_the_rule_with_ties(seed):
    rng = np.random.default_rng(seed)
    score = rng.choice(rng.random(7), size=1_000)  # few distinct values, as a tree gives
    values, deciles = _decile_cuts(pd.Series(score).value_counts())
    got = deciles[np.searchsorted(values, score)]
    np.testing.assert_array_equal(got, _expected_deciles(score))
    assert got.min() == 1 and got.max() <= 10


def test_header_only_file_writes_nothing(quickstart_run, tmp_path, capsys):
    _, _, uri = quickstart_run
    make_customers(5, seed=1).head(0).to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "s.parquet"
    assert _score(tmp_path, uri, "--data", str(tmp_path / "h.csv"), "--out", str(out)) == 2
    _one_error(capsys, "h.csv has no customer rows")
    _nothing_written(tmp_path, out)


def test_sql_source_from_the_config_scores_like_parquet(quickstart_run, month, tmp_path):
    import sqlalchemy as sa
    import yaml

    result, _, uri = quickstart_run
    df, path = month
    db = "sqlite:///" + str(tmp_path / "dw.db")
    df.rename(columns={v: k for k, v in THEIRS.items()}).to_sql("月度客户", sa.create_engine(db),
                                                                 index=False)
    cfg = yaml.safe_load(open(QUICK, encoding="utf-8"))
    cfg["data"] = {"sql": {"url": db, "table": "月度客户"}, "columns": THEIRS}
    (tmp_path / "sql.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "sql.parquet"
    assert cli.main(["score", str(tmp_path / "sql.yaml"), "--model", MODEL, "--tracking-uri",
                     uri, "--out", str(out), "--batch-rows", "1000"]) == 0
    got = pd.read_parquet(out)
    assert got["customer_id"].tolist() == df["customer_id"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(),
                                  result.model.predict_proba(df[result.model.feature_names_in_])[:, 1])


def test_unseen_category_is_scored_as_the_model_scores_it(quickstart_run, tmp_path):
    result, _, uri = quickstart_run
    df = make_customers(30, seed=4)
    df["education"] = df["education"].astype(object)
    df.loc[7, "education"] = 3  # a number among the words: read from CSV, the text '3'
    df.to_csv(tmp_path / "x.csv", index=False)
    out = tmp_path / "s.parquet"
    assert _score(tmp_path, uri, "--data", str(tmp_path / "x.csv"), "--out", str(out)) == 0
    back = pd.read_csv(tmp_path / "x.csv", dtype={"customer_id": "string"})
    np.testing.assert_array_equal(pd.read_parquet(out)["score"].to_numpy(),
                                  result.model.predict_proba(back[result.model.feature_names_in_])[:, 1])


def test_bad_star_input_names_its_position_in_the_whole_table(quickstart_run, tmp_path, capsys):
    _, _, uri = quickstart_run
    df = make_customers(500, seed=6)
    df.loc[321, "card_overdraft"] = -10.0  # negative balance: no star level can be given
    df.to_parquet(tmp_path / "d.parquet")
    out = tmp_path / "s.parquet"
    assert _score(tmp_path, uri, "--data", str(tmp_path / "d.parquet"), "--out", str(out),
                  "--batch-rows", "100") == 2
    _one_error(capsys, "star inputs cannot be rated", "'card_overdraft'", "positions [321]")
    _nothing_written(tmp_path, out)
