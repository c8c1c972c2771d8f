"""Issue 14 items 1-2: any 0/1 target, several products in one run, a bank's own column
names (Chinese headers) mapped onto bankml's, extra features with user labels, and the
next-best-product table. Every bad input is one clear error and leaves models/ and outputs/
as they were."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.config import target_list, validate_config
from bankml.datasets import make_customers
from bankml.errors import ConfigError, DataError, SchemaError
from bankml.pipeline import _stages as S
from bankml.schema import ID, LABEL

# make_customers ids: "C" + 3 seed digits + 9-digit serial
ID_PATTERN = re.compile(rb"C\d{12}")

#: the bank's headers for some schema columns, and its extra feature
CHINESE = {"客户号": ID, "年龄": "age", "性别": "gender", "学历": "education",
           "短期资产": "short_term_assets", "持有基金": "has_fund", "理财购买": LABEL,
           "客户经理评分": "branch_score"}


def _bank_table(n=1500, seed=5) -> pd.DataFrame:
    """make_customers under Chinese headers, with an extra feature that predicts buyers."""
    df = make_customers(n, seed=seed)
    rng = np.random.default_rng(seed)
    # the relationship manager's score: high for buyers, so the tree splits on it
    df["branch_score"] = np.round(np.where(df[LABEL] == 1, rng.uniform(70, 100, n),
                                           rng.uniform(0, 85, n)), 1)
    return df.rename(columns={v: k for k, v in CHINESE.items()})


def _cfg(path, labels, **patch):
    cfg = {"data": {"path": str(path), "columns": dict(CHINESE)},
           "targets": [LABEL, "has_fund"], "labels": str(labels),
           "features": {"categorical": ["gender", "education"],
                        "numeric": ["age", "short_term_assets", "has_fund", "has_wm_account",
                                    "branch_score"]},
           "tree": {"max_depth": 3, "min_samples_leaf": 30},
           "segments": {"enabled": False}, "outliers": {"enabled": False},
           "association": {"enabled": False},
           "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "targets", "registered_model": "bank"}}
    for k, v in patch.items():
        cfg[k] = {**cfg[k], **v} if isinstance(cfg.get(k), dict) and isinstance(v, dict) else v
    return cfg


def _labels_file(folder: Path) -> Path:
    path = folder / "my_labels.yaml"
    path.write_text("branch_score: {zh: 客户经理评分, en: RM score}\n", encoding="utf-8")
    return path


def snapshot(*folders):
    """Every file under ``folders`` (path -> bytes)."""
    return {str(p): p.read_bytes() for f in folders if f.exists()
            for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_targets(tmp_path_factory):
    """The main job on the Chinese-header CSV: two targets, one extra feature, user labels."""
    work = tmp_path_factory.mktemp("targets")
    table = _bank_table()
    table.to_csv(work / "bank.csv", index=False)
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    store = "sqlite:///" + str(work / "mlflow.db")
    try:
        result = pipeline.run(_cfg(work / "bank.csv", _labels_file(work)), tracking_uri=store,
                              verbose=False)
    finally:
        mp.undo()
    return result, work, store, table


def test_one_model_per_target_registered_under_its_own_name(two_targets):
    result, work, store, _ = two_targets
    assert list(result.results) == [LABEL, "has_fund"]
    client = MlflowClient(store)
    for target in (LABEL, "has_fund"):
        r = result[target]
        assert r.target == target and r.registered_name == f"bank-{target}"
        version = client.get_model_version_by_alias(f"bank-{target}", "champion")
        assert client.get_run(version.run_id).data.tags["bankml.target"] == target
        # a model never reads its own target; the other product stays a feature
        assert target not in r.model[-1].feature_names_in_
        assert (work / "models" / f"wm_propensity-{target}.joblib").exists()
        assert (work / "outputs" / target / "rules" / "rules_zh.txt").exists()
    assert "has_fund" in result[LABEL].model[-1].feature_names_in_


def test_rules_read_the_users_labels_and_the_product(two_targets):
    _, work, _, _ = two_targets
    zh = (work / "outputs" / LABEL / "rules" / "rules_zh.txt").read_text(encoding="utf-8")
    en = (work / "outputs" / LABEL / "rules" / "rules_en.txt").read_text(encoding="utf-8")
    assert re.search(r"客户经理评分 (>|<=) \d", zh) and "branch_score" not in zh
    assert "RM score" in en
    fund = (work / "outputs" / "has_fund" / "rules" / "rules_zh.txt").read_text(encoding="utf-8")
    assert "持有基金 = 是" in fund  # THEN names the product, not the WM label
    report = (work / "outputs" / "has_fund" / "report_en.html").read_text(encoding="utf-8")
    assert "holds funds rate" in report


def test_next_best_product_is_the_best_product_not_held(two_targets):
    result, work, _, table = two_targets
    nb = pd.read_csv(work / "outputs" / "next_best_product_en.csv", dtype={ID: str})
    assert len(nb) == len(table)
    assert nb[ID].tolist() == table["客户号"].astype(str).tolist()
    raw = result.next_best.table
    held = {LABEL: table["理财购买"].to_numpy() == 1, "has_fund": table["持有基金"].to_numpy() == 1}
    product = raw["product"].to_numpy(dtype=object)
    for target, h in held.items():
        assert not (product[h] == target).any(), f"{target} offered to customers who hold it"
    all_held = held[LABEL] & held["has_fund"]
    assert (product[all_held] == "").all() and (product[~all_held] != "").all()
    assert raw.loc[all_held, "score"].isna().all()
    # where both are open, the offered one has the higher calibrated propensity: recompute
    from bankml.pipeline._next_best import ProductModel, _calibrated_scores

    df = S.load_data(validate_config(_cfg(work / "bank.csv", work / "my_labels.yaml")))
    rows = np.arange(len(df.frame))
    cfg = validate_config(_cfg(work / "bank.csv", work / "my_labels.yaml"))
    scores = {t: _calibrated_scores(df.frame, rows, ProductModel(
        S.target_config(cfg, t), result[t].model, result[t].rules.ruleset)) for t in held}
    both_open = ~held[LABEL] & ~held["has_fund"]
    want = np.where(scores[LABEL] >= scores["has_fund"], LABEL, "has_fund")
    assert (product[both_open] == want[both_open]).all()
    assert both_open.sum() > 100 and len(set(product[both_open])) == 2
    # the rule that fired is the offered product's rule for that customer
    zh = pd.read_csv(work / "outputs" / "next_best_product_zh.csv", dtype={ID: str})
    fired = zh["规则编号"].notna()
    assert fired.any() and (zh.loc[~fired & (product != ""), "触发规则"] == "其他客户").all()


def test_next_best_reaches_mlflow_as_counts_only(two_targets):
    result, work, store, table = two_targets
    client = MlflowClient(store)
    run = client.get_run(result[LABEL].run_id)
    counts = result.next_best.summary["customers"]
    assert run.data.metrics["next_best.customers"] == len(table)
    assert run.data.metrics["next_best.has_fund.customers"] == counts["has_fund"]
    leaks = [str(p) for p in [work / "mlflow.db", *(work / "mlartifacts").rglob("*")]
             if p.is_file() and ID_PATTERN.search(p.read_bytes())]
    assert leaks == []
    text = result.summary("zh")
    assert "下一最佳产品" in text and "bank-has_fund" in text and "C005" not in text


# --------------------------------------------------------------------------- config
def test_target_config_keeps_todays_names_for_the_single_wm_target():
    cfg = validate_config({"data": {"synthetic": {"n": 10}}})
    one = S.target_config(cfg, LABEL)
    assert one["mlflow"]["registered_model"] == cfg["mlflow"]["registered_model"]
    assert one["output"] == cfg["output"]
    other = S.target_config(validate_config({"data": {"synthetic": {"n": 10}},
                                             "target": "has_fund"}), "has_fund")
    assert other["mlflow"]["registered_model"] == "bankml-wm-propensity-has_fund"
    assert other["output"]["reports_dir"] == "outputs"


@pytest.mark.parametrize("patch, match", [
    ({"data": {"columns": {"年龄": "agee"}}}, r"data\.columns\.年龄.*'agee'.*neither"),
    ({"data": {"columns": {"年龄": "age", "岁数": "age"}}}, r"'年龄' and '岁数' are both mapped to 'age'"),
    ({"target": "has_fund", "targets": ["has_fund"]}, r"'target' and 'targets'"),
    ({"targets": []}, r"'targets': list at least one"),
    ({"target": ID}, r"customer identifier"),
    ({"split": {"test": "June"}}, r"split\.test.*a month"),
])
def test_bad_config_names_the_key(patch, match):
    cfg = {"data": {"synthetic": {"n": 10}}}
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    with pytest.raises(ConfigError, match=match):
        validate_config(cfg)


def test_bad_labels_file_names_the_key(tmp_path):
    bad = tmp_path / "l.yaml"
    bad.write_text("branch_score: {zh: 客户经理评分}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'labels'.*branch_score must map exactly zh and en"):
        validate_config({"data": {"synthetic": {"n": 10}}, "labels": str(bad)})


# --------------------------------------------------------------------------- bad tables
@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder whose models/ and outputs/ already hold files (a previous champion's)."""
    monkeypatch.chdir(tmp_path)
    for folder in ("models", "outputs"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "keep.txt").write_text("champion's file")
    return tmp_path


def _table_with(mutate):
    t = _bank_table(400, seed=8)
    mutate(t)
    return t


@pytest.mark.parametrize("mutate, error, match", [
    # a target that is not 0/1: named with the first row positions
    (lambda t: t.__setitem__("持有基金", np.where(np.arange(len(t)) % 97 == 3, 2, t["持有基金"])),
     DataError, r"target column 'has_fund' must hold 0/1.*positions \[3, 100, 197, 294, 391\]"),
    (lambda t: t.__setitem__("理财购买", t["理财购买"].astype(float).where(np.arange(len(t)) != 7)),
     DataError, r"target column 'wm_buyer' must hold 0/1.*1 row\(s\), positions \[7\]"),
    # the extra feature: infinite or missing numbers, text among numbers
    (lambda t: t.__setitem__("客户经理评分", t["客户经理评分"].where(np.arange(len(t)) != 11, np.inf)),
     SchemaError, r"column 'branch_score': missing or infinite values.*positions \[11\]"),
    (lambda t: t.__setitem__("客户经理评分", t["客户经理评分"].astype(object).where(
        np.arange(len(t)) != 4, "high")), SchemaError, r"column 'branch_score': wrong dtype"),
    # a mapped column the table lacks, a mapped name that is already another column
    (lambda t: t.drop(columns=["年龄"], inplace=True), DataError,
     r"maps column '年龄' to 'age', but the table has no column '年龄'"),
    (lambda t: t.__setitem__("age", 30), DataError,
     r"data.columns maps '年龄' to 'age', but the source already has a column 'age'"),
])
def test_bad_table_is_one_clear_error_and_nothing_written(workdir, mutate, error, match):
    table = _table_with(mutate)
    before = snapshot(workdir / "models", workdir / "outputs")
    with pytest.raises(error, match=match) as err:
        pipeline.run(_cfg("unused.csv", _labels_file(workdir)), data=table,
                     tracking_uri="sqlite:///" + str(workdir / "mlflow.db"), verbose=False)
    assert not ID_PATTERN.search(str(err.value).encode())
    assert snapshot(workdir / "models", workdir / "outputs") == before


def test_single_target_bad_table_writes_nothing_either(workdir):
    table = make_customers(300, seed=2).assign(has_fund=lambda t: t["has_fund"] * 3)
    before = snapshot(workdir / "models", workdir / "outputs")
    cfg = {"data": {"synthetic": {"n": 10}}, "target": "has_fund",
           "features": {"numeric": ["age", "short_term_assets"]},
           "output": {"progress": False, "plots": False}}
    with pytest.raises(DataError, match=r"target column 'has_fund' must hold 0/1"):
        pipeline.run(cfg, data=table, tracking_uri="sqlite:///" + str(workdir / "m.db"),
                     verbose=False)
    assert snapshot(workdir / "models", workdir / "outputs") == before


def test_mixed_kinds_in_an_extra_category_name_the_rows():
    cfg = validate_config({"data": {"synthetic": {"n": 10}},
                           "features": {"categorical": ["gender", "区域"], "numeric": ["age"]},
                           "segments": {"enabled": False}, "outliers": {"enabled": False}})
    df = make_customers(50, seed=1)
    df["区域"] = pd.Series(["north"] * 50, dtype=object)
    S.check_table(df, cfg)  # text categories pass
    df.loc[[5, 9], "区域"] = 3
    with pytest.raises(SchemaError, match=r"column '区域': values that are not text.*positions \[5, 9\]"):
        S.check_table(df, cfg)


def test_target_list_and_features_leave_the_own_target_out():
    cfg = validate_config({"data": {"synthetic": {"n": 10}}, "targets": ["has_fund", LABEL],
                           "features": {"numeric": ["age", "has_fund"]}})
    assert target_list(cfg) == ["has_fund", LABEL]
    assert S.features(S.target_config(cfg, "has_fund")) == ["gender", "education", "age"]
    assert S.features(S.target_config(cfg, LABEL)) == ["gender", "education", "age", "has_fund"]


def test_the_example_config_runs_on_a_gbk_export_of_monthly_snapshots(tmp_path, monkeypatch):
    """configs/your_own_data.yaml as shipped, on a GBK CSV with its Chinese headers."""
    import shutil

    import yaml

    from bankml._resources import config_path
    from bankml.datasets import make_customer_snapshots

    cfg = yaml.safe_load(config_path("your_own_data.yaml").read_text(encoding="utf-8"))
    df = make_customer_snapshots(400, months=["2024-04", "2024-05", "2024-06"], seed=9)
    df["branch_score"] = np.round(np.random.default_rng(9).uniform(0, 100, len(df)), 1)
    theirs = {ours: mine for mine, ours in cfg["data"]["columns"].items()}
    (tmp_path / "data").mkdir()
    (tmp_path / "configs").mkdir()
    df[list(theirs)].rename(columns=theirs).to_csv(tmp_path / "data" / "bank_customers.csv",
                                                   index=False, encoding="gbk")
    shutil.copy(config_path("your_labels.yaml"), tmp_path / "configs" / "your_labels.yaml")
    monkeypatch.chdir(tmp_path)
    cfg["tree"] = {"max_depth": 2, "min_samples_leaf": 30}
    cfg["output"].update(progress=False, plots=False)
    cfg["association"] = {"enabled": False}
    result = pipeline.run(cfg, tracking_uri="sqlite:///" + str(tmp_path / "m.db"), verbose=False)
    assert list(result.results) == cfg["targets"]
    for target, r in result.results.items():
        assert r.registered_name == f"bank-propensity-{target}"
        assert "out-of-time split by snapshot_month" in r.data_source["en"]
    nb = pd.read_csv(tmp_path / "outputs" / "next_best_product_zh.csv", dtype={ID: str})
    assert len(nb) == 400 and set(nb["snapshot_month"]) == {"2024-06"}


def test_next_best_summary_is_an_mlflow_artifact_without_ids(two_targets):
    result, _, store, table = two_targets
    client = MlflowClient(store)
    for target in (LABEL, "has_fund"):
        path = client.download_artifacts(result[target].run_id, "reports/next_best_summary_zh.csv")
        got = pd.read_csv(path)
        assert got["客户数"].sum() == len(table)
        assert not ID_PATTERN.search(Path(path).read_bytes())


def test_targets_are_read_as_0_1_whatever_their_dtype():
    cfg = validate_config({"data": {"synthetic": {"n": 10}}, "targets": [LABEL, "has_fund"],
                           "segments": {"enabled": False}, "outliers": {"enabled": False}})
    df = make_customers(200, seed=3)
    df["has_fund"] = df["has_fund"].astype(bool)
    df[LABEL] = df[LABEL].astype(float)
    got = S.load_data(cfg, df).frame
    assert got["has_fund"].dtype == np.int8 and got[LABEL].dtype == np.int8
    assert (got["has_fund"].to_numpy() == df["has_fund"].to_numpy()).all()


@pytest.mark.parametrize("targets, error, match", [
    (["has_gold_bar"], DataError, r"target column 'has_gold_bar' is not in the table"),
    (["has_private_banking", LABEL], DataError,
     r"column 'has_private_banking' holds a single class \(0 in all 200 rows\)"),
])
def test_unusable_target_is_named(targets, error, match):
    cfg = validate_config({"data": {"synthetic": {"n": 10}}, "targets": targets,
                           "segments": {"enabled": False}, "outliers": {"enabled": False}})
    df = make_customers(200, seed=3).assign(has_private_banking=0)
    with pytest.raises(error, match=match):
        S.load_data(cfg, df)


def test_chinese_named_extra_features_reach_rules_and_every_export(tmp_path):
    """An unmapped Chinese header used as a feature: the tree splits on it and every export
    engine (SQL included) reproduces the model on it."""
    cfg = validate_config({"data": {"synthetic": {"n": 10}},
                           "features": {"categorical": ["gender", "区域"],
                                        "numeric": ["age", "客户经理评分"]},
                           "tree": {"max_depth": 3, "min_samples_leaf": 20},
                           "segments": {"enabled": False}, "outliers": {"enabled": False}})
    df = make_customers(1200, seed=4)
    rng = np.random.default_rng(4)
    df["客户经理评分"] = np.round(np.where(df[LABEL] == 1, rng.uniform(60, 100, len(df)),
                                      rng.uniform(0, 80, len(df))), 1)
    df["区域"] = pd.Series(rng.choice(["华北", "华南"], len(df)), dtype="string")
    data = S.load_data(cfg, df)
    split = S.split_customers(data.frame, cfg)
    model = S.fit_tree(split.X_train, split.y_train, cfg)
    rules = S.extract_rules(model, split, cfg, tmp_path)
    assert "客户经理评分" in rules.text_zh
    report = S.check_rules_fidelity(rules, model, split)
    assert report.ok and {"sqlite", "python", "json"} <= set(report.mismatches)
