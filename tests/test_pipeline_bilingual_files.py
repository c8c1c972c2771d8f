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
