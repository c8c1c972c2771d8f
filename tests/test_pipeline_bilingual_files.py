"""The report files a person opens exist in both languages, with readable headings."""

import pandas as pd
import pytest

from bankml.config import config_file, load_config
from bankml.datasets import make_customers
from bankml.pipeline import _stages as S


@pytest.fixture(scope="module")
def cfg():
    return load_config(config_file("quickstart.yaml"))


@pytest.fixture(scope="module")
def df():
    return make_customers(3_000, seed=3)


def test_cross_sell_csv_has_readable_twins_and_keeps_the_machine_file(cfg, df, tmp_path):
    # regression (issue 17): the only cross-sell CSV kept mlxtend's column names
    S.mine_cross_sell(df, cfg, tmp_path)
    machine = pd.read_csv(tmp_path / "cross_sell_rules.csv")
    zh = pd.read_csv(tmp_path / "cross_sell_rules_zh.csv")
    en = pd.read_csv(tmp_path / "cross_sell_rules_en.csv")
    assert {"antecedents", "consequents", "lift"} <= set(machine.columns)
    assert list(zh.columns) == ["已持有产品", "推荐产品", "持有组合的客户占比", "同时持有的客户占比",
                                "置信度", "提升度"]
    assert list(en.columns) == ["products held", "product to offer",
                                "share of customers holding them", "share holding both",
                                "confidence", "lift"]
    assert len(zh) == len(en) == len(machine) > 0
    assert not zh["推荐产品"].str.contains("has_").any()
    assert not en["product to offer"].str.contains("has_").any()
    pd.testing.assert_series_equal(zh["提升度"], machine["lift"], check_names=False)


def test_rules_markdown_and_csv_in_both_languages(cfg, df, tmp_path):
    split = S.split_customers(df, cfg)
    model = S.fit_tree(split.X_train, split.y_train, cfg)
    S.extract_rules(model, split, cfg, tmp_path)
    md_zh = (tmp_path / "rules_zh.md").read_text(encoding="utf-8")
    assert "| # | 如果 | 则 |" in md_zh and "否则" in md_zh and "IF" not in md_zh
    assert "| # | IF | THEN |" in (tmp_path / "rules.md").read_text(encoding="utf-8")
    zh = pd.read_csv(tmp_path / "rules_zh.csv")
    en = pd.read_csv(tmp_path / "rules.csv")
    assert zh["confidence"].tolist() == en["confidence"].tolist()
    assert zh["conditions"].str.contains("且|[\u4e00-\u9fff]").all()


def test_model_card_in_both_languages_is_published_and_logged(tmp_path, monkeypatch):
    # regression (issue 17): the model card was English only
    from mlflow import MlflowClient

    from bankml.pipeline import run

    monkeypatch.chdir(tmp_path)
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    cfg = {"data": {"synthetic": {"n": 1500, "seed": 4}},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False}, "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "t", "registered_model": "t-model"}}
    result = run(cfg, tracking_uri=store, verbose=False)
    en = result.model_path.with_name(result.model_path.stem + ".md").read_text(encoding="utf-8")
    zh = result.model_path.with_name(result.model_path.stem + "_zh.md").read_text(
        encoding="utf-8")
    assert en.startswith("# Model card: WM propensity") and "## Top rules" in en
    assert zh.startswith("# 模型卡：理财产品购买倾向") and "## 测试集上模型与星级基线对比" in zh
    for word in ["## 数据", "## 主要规则", "信息增益决策树", "前10%提升度", "理财买家比例", "如果"]:
        assert word in zh, word
    assert "infogain_tree" not in zh and "Top rules" not in zh
    logged = {a.path for a in MlflowClient(store).list_artifacts(result.run_id, "model_card")}
    assert {p.rsplit("/", 1)[-1] for p in logged} == {result.model_path.stem + ".md",
                                                      result.model_path.stem + "_zh.md"}
